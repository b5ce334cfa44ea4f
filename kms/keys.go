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
	"github.com/gokms/gokms/wallet"
)

// Keys runs the key use cases on the configured store.
type Keys struct {
	Testnet bool
	// NetworkStated says the network was given explicitly (--testnet or
	// --testnet=false): getprivatekey and getaddress then refuse a wallet of
	// the other network, as the daemon does (RecordKeys).
	NetworkStated bool
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

// Stored is what a stored wallet's command prints besides nothing secret:
// tatum-kms prints {signatureId, address, xpub}, each field only when the
// wallet has it (XRP/XLM/ALGO/SOL wallets have an address, HD, VET, FLOW
// and ADA wallets an xpub, EGLD wallets neither).
type Stored struct{ SignatureID, Address, Xpub string }

// GenerateWallet makes a wallet of the chain (a code ParseChain accepted)
// and returns what generatewallet prints: JSON.stringify(wallet, null, 2)
// of the wallet object tatum-kms's SDK returns, in its key order. Nothing is
// stored. The caller zeroes the result.
func (k Keys) GenerateWallet(code string) ([]byte, error) {
	ck, err := keysOf(code)
	if err != nil {
		return nil, err
	}
	gen := ck.generate
	if p, ok := ck.(printedWallet); ok {
		gen = p.printedWallet
	}
	rec, err := gen(code, k.Testnet)
	if err != nil {
		return nil, fmt.Errorf("generate wallet: %w", err)
	}
	rec.Chain, rec.Testnet = code, k.Testnet
	defer rec.Zero()
	e, err := tatumkms.FromRecord(rec)
	if err != nil {
		return nil, fmt.Errorf("generate wallet: %w", err)
	}
	e.Fields = printedFields(rec)
	return tatumkms.MarshalEntry(e, "  "), nil
}

// GenerateManagedWallet generates a wallet of the chain and stores it in
// the shape tatum-kms stores it.
func (k Keys) GenerateManagedWallet(ctx context.Context, code string) (Stored, error) {
	ck, err := keysOf(code)
	if err != nil {
		return Stored{}, err
	}
	rec, err := ck.generate(code, k.Testnet)
	if err != nil {
		return Stored{}, fmt.Errorf("generate wallet: %w", err)
	}
	defer rec.Zero()
	b, err := k.Open(ctx, true)
	if err != nil {
		return Stored{}, err
	}
	defer b.Close()
	return k.putWallet(ctx, b, code, rec)
}

// StoreManagedWallet stores an existing mnemonic (already in canonical form,
// wallet.NormalizeMnemonic) after checking it, as the chain's wallet.
func (k Keys) StoreManagedWallet(ctx context.Context, code, mnemonic string) (Stored, error) {
	if err := TakesMnemonic(code); err != nil {
		return Stored{}, err
	}
	ck, err := keysOf(code)
	if err != nil {
		return Stored{}, err
	}
	if _, own := ck.(interface{ ownMnemonic() }); !own {
		if err := wallet.ValidateMnemonic(mnemonic); err != nil {
			return Stored{}, fmt.Errorf("mnemonic: %w", err)
		}
	}
	rec, err := ck.fromMnemonic(code, mnemonic, k.Testnet)
	if err != nil {
		return Stored{}, fmt.Errorf("mnemonic: %w", err)
	}
	defer rec.Zero()
	b, err := k.Open(ctx, true)
	if err != nil {
		return Stored{}, err
	}
	defer b.Close()
	return k.putWallet(ctx, b, code, rec)
}

func (k Keys) putWallet(ctx context.Context, b backend.SecretBackend, code string, rec backend.Record) (Stored, error) {
	id, err := NewSignatureID()
	if err != nil {
		return Stored{}, err
	}
	rec.ID, rec.Chain, rec.Testnet = id, code, k.Testnet
	if err := b.Put(ctx, rec); err != nil {
		return Stored{}, fmt.Errorf("store wallet: %w", err)
	}
	return Stored{SignatureID: id, Address: rec.Address, Xpub: rec.Xpub}, nil
}

// keyLayout is the entry tatum-kms writes for a stored or batch key:
// {privateKey, chain, testnet}. The HD chains keep the empty layout, which
// means the same (backend.Record.Layout).
func keyLayout(ck chainKeys) string {
	if _, hd := ck.(hdKeys); hd {
		return ""
	}
	return layoutKey
}

// StoreManagedPrivateKey stores an existing private key (checked for the
// chain and network first) with its address; it returns the signatureId.
// pk is the caller's to zero.
func (k Keys) StoreManagedPrivateKey(ctx context.Context, code string, pk []byte) (string, error) {
	ck, err := keysOf(code)
	if err != nil {
		return "", err
	}
	addr, err := ck.keyAddress(code, string(pk), k.Testnet)
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
		ID: id, Kind: backend.PrivateKey, Chain: code, Testnet: k.Testnet,
		Secret: pk, Address: addr, Layout: keyLayout(ck),
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
// with the address tatum-kms prints beside it (BTC: bech32 P2WPKH); tatum-kms
// derives each from a fresh mnemonic, which has the same distribution at
// 2048 PBKDF2 rounds per key. Each is stored as tatum-kms stores it,
// {privateKey, chain, testnet}.
func (k Keys) GenerateManagedPrivateKeyBatch(ctx context.Context, code string, n int) ([]IDAddress, error) {
	ck, err := keysOf(code)
	if err != nil {
		return nil, err
	}
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
		pk, addr, err := ck.newKey(code, k.Testnet)
		if err != nil {
			return nil, fmt.Errorf("generate key %d of %d: %w", i+1, n, err)
		}
		id, err := NewSignatureID()
		if err != nil {
			return nil, err
		}
		recs = append(recs, backend.Record{
			ID: id, Kind: backend.PrivateKey, Chain: code, Testnet: k.Testnet,
			Secret: []byte(pk), Address: addr, Layout: keyLayout(ck),
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

// PrivateKey returns the encoded private key of a wallet (getprivatekey):
// a private-key wallet's own key, as stored, whatever the index (tatum-kms
// prints an {address, secret} wallet's secret so, and derives from an
// undefined mnemonic for a {privateKey} one); a mnemonic wallet's key at
// idx, for its chain and network. The record passes RecordKeys's checks
// first.
func (k Keys) PrivateKey(ctx context.Context, id string, idx uint32) (string, error) {
	rec, err := k.Get(ctx, id)
	if err != nil {
		return "", err
	}
	defer rec.Zero()
	return k.RecordKeys().PrivateKey(rec, idx)
}

// Address returns a wallet's address (getaddress): a private-key wallet's
// stored address, else its key's, whatever the index (tatum-kms derives
// from an undefined xpub there); a mnemonic wallet's at idx.
func (k Keys) Address(ctx context.Context, id string, idx uint32) (string, error) {
	rec, err := k.Get(ctx, id)
	if err != nil {
		return "", err
	}
	defer rec.Zero()
	return k.RecordKeys().Address(rec, idx)
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
