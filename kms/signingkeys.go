package kms

// The daemon's half of the record → key path: the key a chain's signer signs
// with, decoded from the record by the same package wallet functions the
// key table's getprivatekey/getaddress answers come from, after the checks
// the Resolver makes. The daemon's chain signers (signing/<chain>) decode
// records themselves today with exactly these functions; docs/keys.md, "One
// record → key path", says what each would switch to.

import (
	"crypto/ed25519"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/wallet"
)

// SigningKey is one record's key in its family's type: exactly one field is
// set. Zero wipes it.
type SigningKey struct {
	Secp256k1 *btcec.PrivateKey  // UTXO, EVM, TRON, VET, FLOW
	Ed25519   ed25519.PrivateKey // SOL, XLM, ALGO, EGLD
	XRP       *wallet.XRPKey     // XRP family seeds (secp256k1 or ed25519)
	Cardano   *wallet.CardanoKey // ADA (BIP32-Ed25519 extended or plain)
}

// Zero wipes the key.
func (k *SigningKey) Zero() {
	if k.Secp256k1 != nil {
		k.Secp256k1.Zero()
	}
	clear(k.Ed25519)
	if k.XRP != nil {
		k.XRP.Zero()
	}
	if k.Cardano != nil {
		k.Cardano.Wipe()
	}
}

// anyIndex marks the families that sign with the wallet's one key whatever
// index a pending transaction carries, as tatum-kms does (SOL signs with
// the entry's privateKey; XRP, XLM and ALGO wallets are one secret).
type anyIndex interface{ anyIndex() }

// SigningKey decodes the key that signs for rec at index (nil: none given),
// after the Resolver's checks: the chain is not shut down and has keys, the
// record is of r's network (always checked: a daemon always has one), and
// a mnemonic is given an index and a private key none (except on the
// chains that ignore it, indexFree).
func (r RecordKeys) SigningKey(rec backend.Record, index *uint32) (SigningKey, error) {
	rec = canonical(rec)
	r.Stated = true
	ck, err := r.check(rec)
	if err != nil {
		return SigningKey{}, err
	}
	if _, free := ck.(anyIndex); !free {
		switch {
		case rec.Kind == backend.PrivateKey && index != nil:
			return SigningKey{}, fmt.Errorf("signatureId %s is a private-key wallet, but the transaction asks for index %d: %w", rec.ID, *index, signing.ErrIndexMismatch)
		case rec.Kind == backend.Mnemonic && index == nil:
			return SigningKey{}, fmt.Errorf("signatureId %s is a mnemonic wallet, but the transaction gives no index: %w", rec.ID, signing.ErrIndexMismatch)
		}
	}
	var i uint32
	if index != nil {
		i = *index
	}
	k, err := ck.signingKey(rec, i)
	if err != nil {
		return SigningKey{}, fmt.Errorf("signatureId %s: stored %s %s: %w", rec.ID, rec.Chain, rec.Kind, err)
	}
	return k, nil
}
