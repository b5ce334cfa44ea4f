package kms

import (
	"fmt"
	"strings"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/signing"
)

// RecordKeys is the record → key path of getprivatekey and getaddress and
// of the daemon's chain signers (SigningKey and its typed halves, injected
// by Signers). It makes the checks the daemon's signing.Resolver makes
// before it hands out a key, with the Resolver's errors (errors.Is
// signing.ErrNetworkMismatch, signing.ErrChainShutDown), and then asks the
// chain's entry of the key table (docs/keys.md, "One record → key path").
type RecordKeys struct {
	// Testnet is the network the command runs on.
	Testnet bool
	// Stated: the network was given explicitly. A record of the other
	// network is then refused, as the Resolver refuses it. Without it the
	// record's own network is used, as tatum-kms does (it reads the entry's
	// testnet flag and ignores --testnet).
	Stated bool
}

// RecordKeys returns the record → key path for k's network.
func (k Keys) RecordKeys() RecordKeys {
	return RecordKeys{Testnet: k.Testnet, Stated: k.NetworkStated}
}

// check returns the chain's keys for rec after the Resolver's checks.
func (r RecordKeys) check(rec backend.Record) (chainKeys, error) {
	if err := signing.ShutDown(rec.Chain); err != nil {
		return nil, fmt.Errorf("wallet %s: %w", rec.ID, err)
	}
	if r.Stated && rec.Testnet != r.Testnet {
		flag := "without --testnet"
		if rec.Testnet {
			flag = "with --testnet"
		}
		return nil, fmt.Errorf("signatureId %s is a %s wallet, but the command runs on %s: %w; run it %s",
			rec.ID, network(rec.Testnet), network(r.Testnet), signing.ErrNetworkMismatch, flag)
	}
	ck, err := keysOf(rec.Chain)
	if err != nil {
		return nil, fmt.Errorf("wallet %s: stored chain %q: %w", rec.ID, rec.Chain, err)
	}
	if !rec.Kind.Valid() {
		return nil, fmt.Errorf("wallet %s: unknown kind %q", rec.ID, rec.Kind)
	}
	return ck, nil
}

func network(testnet bool) string {
	if testnet {
		return "testnet"
	}
	return "mainnet"
}

// canonical returns rec with its chain code in the table's spelling.
func canonical(rec backend.Record) backend.Record {
	rec.Chain = strings.ToUpper(strings.TrimSpace(rec.Chain))
	return rec
}

// PrivateKey is getprivatekey's answer for rec at idx: a private-key
// record's stored key (whatever idx), a mnemonic record's key at idx.
func (r RecordKeys) PrivateKey(rec backend.Record, idx uint32) (string, error) {
	rec = canonical(rec)
	ck, err := r.check(rec)
	if err != nil {
		return "", err
	}
	if rec.Kind == backend.PrivateKey {
		return string(rec.Secret), nil
	}
	pk, err := ck.mnemonicKey(rec, idx)
	if err != nil {
		return "", fmt.Errorf("wallet %s: derive private key %d: %w", rec.ID, idx, err)
	}
	return pk, nil
}

// Address is getaddress's answer for rec at idx: a private-key record's
// stored address or its key's (whatever idx), a mnemonic record's address
// at idx.
func (r RecordKeys) Address(rec backend.Record, idx uint32) (string, error) {
	rec = canonical(rec)
	ck, err := r.check(rec)
	if err != nil {
		return "", err
	}
	if rec.Kind == backend.PrivateKey {
		a, err := pkAddress(ck, rec)
		if err != nil {
			return "", fmt.Errorf("wallet %s: address of the stored key: %w", rec.ID, err)
		}
		return a, nil
	}
	a, err := ck.mnemonicAddress(rec, idx)
	if err != nil {
		return "", fmt.Errorf("wallet %s: address %d: %w", rec.ID, idx, err)
	}
	return a, nil
}
