package kms

// The key use cases: generate and store wallets and private keys, read them
// back, derive keys and addresses, remove them. The caller prints the
// results in tatum-kms's shapes.

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/google/uuid"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/backend/file/tatumkms"
	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/wallet"
)

// Keys runs the key use cases on the configured store.
type Keys struct {
	Testnet bool
	// Open opens the configured store; create allows a new, empty one.
	Open func(ctx context.Context, create bool) (backend.SecretBackend, error)
	// Progress receives the batch's progress lines (stderr).
	Progress io.Writer
}

// NewSignatureID returns a random (version 4) UUID, as tatum-kms.
func NewSignatureID() (string, error) {
	id, err := uuid.NewRandom()
	if err != nil {
		return "", fmt.Errorf("generate signatureId: %w", err)
	}
	return id.String(), nil
}

// NoSuchWallet is tatum-kms's message for an unknown signatureId.
func NoSuchWallet(id string, err error) error {
	if errors.Is(err, backend.ErrNotFound) {
		return fmt.Errorf("No such wallet for signatureId '%s'.", id) //nolint:staticcheck // tatum-kms's text
	}
	return err
}

// GenerateManagedWallet generates a wallet and stores it; it returns the
// signatureId and the xpub.
func (k Keys) GenerateManagedWallet(ctx context.Context, ch wallet.Chain) (id, xpub string, err error) {
	b, err := k.Open(ctx, true)
	if err != nil {
		return "", "", err
	}
	defer b.Close()
	w, err := wallet.GenerateWallet(ch, k.Testnet)
	if err != nil {
		return "", "", fmt.Errorf("generate wallet: %w", err)
	}
	return k.putWallet(ctx, b, ch, w)
}

// StoreManagedWallet stores an existing mnemonic (already in canonical form,
// wallet.NormalizeMnemonic) after checking it.
func (k Keys) StoreManagedWallet(ctx context.Context, ch wallet.Chain, mnemonic string) (id, xpub string, err error) {
	if err := wallet.ValidateMnemonic(mnemonic); err != nil {
		return "", "", fmt.Errorf("mnemonic: %w", err)
	}
	w, err := wallet.WalletFromMnemonic(ch, mnemonic, k.Testnet)
	if err != nil {
		return "", "", fmt.Errorf("mnemonic: %w", err)
	}
	b, err := k.Open(ctx, true)
	if err != nil {
		return "", "", err
	}
	defer b.Close()
	return k.putWallet(ctx, b, ch, w)
}

func (k Keys) putWallet(ctx context.Context, b backend.SecretBackend, ch wallet.Chain, w wallet.Wallet) (string, string, error) {
	id, err := NewSignatureID()
	if err != nil {
		return "", "", err
	}
	rec := backend.Record{
		ID: id, Kind: backend.Mnemonic, Chain: string(ch), Testnet: k.Testnet,
		Secret: []byte(w.Mnemonic), Xpub: w.Xpub,
	}
	defer rec.Zero()
	if err := b.Put(ctx, rec); err != nil {
		return "", "", fmt.Errorf("store wallet: %w", err)
	}
	return id, w.Xpub, nil
}

// StoreManagedPrivateKey stores an existing private key (checked for the
// chain and network first) with its address; it returns the signatureId.
// pk is the caller's to zero.
func (k Keys) StoreManagedPrivateKey(ctx context.Context, ch wallet.Chain, pk []byte) (string, error) {
	if _, err := wallet.DecodePrivateKey(ch, string(pk), k.Testnet); err != nil {
		return "", fmt.Errorf("private key: %w", err)
	}
	addr, err := wallet.AddressFromPrivateKey(ch, string(pk), k.Testnet)
	if err != nil {
		return "", fmt.Errorf("private key: %w", err)
	}
	id, err := NewSignatureID()
	if err != nil {
		return "", err
	}
	b, err := k.Open(ctx, true)
	if err != nil {
		return "", err
	}
	defer b.Close()
	rec := backend.Record{
		ID: id, Kind: backend.PrivateKey, Chain: string(ch), Testnet: k.Testnet,
		Secret: pk, Address: addr,
	}
	if err := b.Put(ctx, rec); err != nil {
		return "", fmt.Errorf("store private key: %w", err)
	}
	return id, nil
}

// MaxBatch bounds GenerateManagedPrivateKeyBatch: the whole batch is held in
// memory and written once.
const MaxBatch = 1_000_000

// IDAddress is one key of a batch.
type IDAddress struct{ SignatureID, Address string }

// GenerateManagedPrivateKeyBatch generates n private keys and stores them in
// one durable write; it returns their ids and addresses only once all are
// stored, so a returned id is a stored id. Each key is random (crypto/rand)
// with the xpub-style address tatum-kms prints beside it (BTC: bech32
// P2WPKH); tatum-kms derives each from a fresh mnemonic, which has the same
// distribution at 2048 PBKDF2 rounds per key.
func (k Keys) GenerateManagedPrivateKeyBatch(ctx context.Context, ch wallet.Chain, n int) ([]IDAddress, error) {
	b, err := k.Open(ctx, true)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	recs := make([]backend.Record, 0, n)
	defer func() {
		for i := range recs {
			recs[i].Zero()
		}
	}()
	step := max(n/10, 1)
	for i := 0; i < n; i++ {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("interrupted after generating %d of %d keys; nothing was stored", i, n)
		}
		pk, addr, err := wallet.GenerateManagedPrivateKey(ch, k.Testnet)
		if err != nil {
			return nil, fmt.Errorf("generate key %d of %d: %w", i+1, n, err)
		}
		id, err := NewSignatureID()
		if err != nil {
			return nil, err
		}
		recs = append(recs, backend.Record{
			ID: id, Kind: backend.PrivateKey, Chain: string(ch), Testnet: k.Testnet,
			Secret: []byte(pk), Address: addr,
		})
		if (i+1)%step == 0 || i+1 == n {
			fmt.Fprintf(k.Progress, "generated %d/%d keys\n", i+1, n)
		}
	}
	fmt.Fprintf(k.Progress, "storing %d keys in one write\n", n)
	if err := backend.PutAll(ctx, b, recs); err != nil {
		return nil, fmt.Errorf("store %d keys: %w", n, err)
	}
	out := make([]IDAddress, len(recs))
	for i, r := range recs {
		out[i] = IDAddress{SignatureID: r.ID, Address: r.Address}
	}
	return out, nil
}

// Get returns one stored record; the caller zeroes it.
func (k Keys) Get(ctx context.Context, id string) (backend.Record, error) {
	b, err := k.Open(ctx, false)
	if err != nil {
		return backend.Record{}, err
	}
	defer b.Close()
	rec, err := b.Get(ctx, id)
	if err != nil {
		return backend.Record{}, NoSuchWallet(id, err)
	}
	return rec, nil
}

// StoredEntry returns a wallet as tatum-kms prints it: the stored entry as
// is, in the record's own shape (an imported entry's fields and order, e.g.
// {address, secret} for XRP or {mnemonic, address, privateKey} for SOL;
// else what tatum-kms writes), indented. The caller zeroes it.
func (k Keys) StoredEntry(ctx context.Context, id string) ([]byte, error) {
	rec, err := k.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	defer rec.Zero()
	e, err := tatumkms.FromRecord(rec)
	if err != nil {
		return nil, fmt.Errorf("wallet %s: %w", rec.ID, err)
	}
	defer e.Zero()
	return tatumkms.MarshalEntry(e, "  "), nil
}

// recordChain parses the chain a record was stored for.
func recordChain(rec backend.Record) (wallet.Chain, error) {
	if err := signing.ShutDown(rec.Chain); err != nil {
		return "", fmt.Errorf("wallet %s: %w", rec.ID, err)
	}
	ch, err := wallet.ParseChain(rec.Chain)
	if err != nil {
		return ch, fmt.Errorf("wallet %s: stored chain %q: %w", rec.ID, rec.Chain, err)
	}
	return ch, nil
}

// PrivateKey returns the encoded private key of a wallet: a private-key
// wallet's own key (tatum-kms derives from an undefined mnemonic there), a
// mnemonic wallet's key at idx, as stored for its chain and network.
func (k Keys) PrivateKey(ctx context.Context, id string, idx uint32) (string, error) {
	rec, err := k.Get(ctx, id)
	if err != nil {
		return "", err
	}
	defer rec.Zero()
	switch rec.Kind {
	case backend.PrivateKey:
		if err := signing.ShutDown(rec.Chain); err != nil {
			return "", fmt.Errorf("wallet %s: %w", rec.ID, err)
		}
		return string(rec.Secret), nil
	case backend.Mnemonic:
		ch, err := recordChain(rec)
		if err != nil {
			return "", err
		}
		pk, err := wallet.PrivateKeyFromMnemonic(ch, string(rec.Secret), idx, rec.Testnet)
		if err != nil {
			return "", fmt.Errorf("wallet %s: derive private key %d: %w", rec.ID, idx, err)
		}
		return pk, nil
	}
	return "", fmt.Errorf("wallet %s: unknown kind %q", rec.ID, rec.Kind)
}

// Address returns a wallet's address: a private-key wallet's own (tatum-kms
// derives from an undefined xpub there), a mnemonic wallet's at idx.
func (k Keys) Address(ctx context.Context, id string, idx uint32) (string, error) {
	rec, err := k.Get(ctx, id)
	if err != nil {
		return "", err
	}
	defer rec.Zero()
	ch, err := recordChain(rec)
	if err != nil {
		return "", err
	}
	switch rec.Kind {
	case backend.PrivateKey:
		addr := rec.Address
		if addr == "" {
			if addr, err = wallet.AddressFromPrivateKey(ch, string(rec.Secret), rec.Testnet); err != nil {
				return "", fmt.Errorf("wallet %s: address of the stored key: %w", rec.ID, err)
			}
		}
		return addr, nil
	case backend.Mnemonic:
		addr, err := wallet.AddressFromXpub(ch, rec.Xpub, idx, rec.Testnet)
		if err != nil {
			return "", fmt.Errorf("wallet %s: address %d: %w", rec.ID, idx, err)
		}
		return addr, nil
	}
	return "", fmt.Errorf("wallet %s: unknown kind %q", rec.ID, rec.Kind)
}

// Remove deletes a wallet.
func (k Keys) Remove(ctx context.Context, id string) error {
	b, err := k.Open(ctx, false)
	if err != nil {
		return err
	}
	defer b.Close()
	if err := b.Delete(ctx, id); err != nil {
		return NoSuchWallet(id, err)
	}
	return nil
}
