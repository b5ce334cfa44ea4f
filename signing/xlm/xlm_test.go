package xlm

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stellar/go-stellar-sdk/keypair"
	"github.com/stellar/go-stellar-sdk/network"
	"github.com/stellar/go-stellar-sdk/xdr"

	"github.com/gokms/gokms/wallet"
)

type vector struct {
	Name              string `json:"name"`
	Kind              string `json:"kind"`
	Testnet           bool   `json:"testnet"`
	NetworkPassphrase string `json:"networkPassphrase"`
	Secret            string `json:"secret"`
	Address           string `json:"address"`
	Pending           struct {
		ID                    string `json:"id"`
		Chain                 string `json:"chain"`
		SerializedTransaction string `json:"serializedTransaction"`
	} `json:"pending"`
	Hash      string          `json:"hash"`
	TxData    string          `json:"txData"`
	Broadcast json.RawMessage `json:"broadcast"`
}

type vectorFile struct {
	SDK      map[string]string `json:"sdk"`
	Networks struct {
		Mainnet string `json:"mainnet"`
		Testnet string `json:"testnet"`
	} `json:"networks"`
	Vectors []vector `json:"vectors"`
}

func loadVectors(t testing.TB) vectorFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "xlm", "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f vectorFile
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

func key(t testing.TB, secret string) ed25519.PrivateKey {
	t.Helper()
	k, err := wallet.DecodeStellarSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestPassphrasesAreStellarSDKs(t *testing.T) {
	f := loadVectors(t)
	if Passphrase(false) != f.Networks.Mainnet || Passphrase(true) != f.Networks.Testnet {
		t.Errorf("passphrases %q / %q, stellar-sdk %q / %q", Passphrase(false), Passphrase(true), f.Networks.Mainnet, f.Networks.Testnet)
	}
}

// TestVectors: for every pending transaction, gokms's signed envelope is
// byte-identical to stellar-sdk 9.1.0's, its hash is the SDK's, the new
// signature verifies independently (x/crypto-free stdlib ed25519 against the
// address's key, over the hash recomputed by the Stellar Go SDK), and the
// decoded transaction is what the pending one says.
func TestVectors(t *testing.T) {
	f := loadVectors(t)
	kinds := map[string]int{}
	for _, v := range f.Vectors {
		kinds[v.Kind]++
		t.Run(v.Name, func(t *testing.T) {
			k := key(t, v.Secret)
			s, err := Sign(v.Pending.SerializedTransaction, k, v.Testnet)
			if err != nil {
				t.Fatal(err)
			}
			if s.TxData != v.TxData {
				t.Fatalf("signed envelope differs from stellar-sdk's\n got %s\nwant %s", s.TxData, v.TxData)
			}
			if s.HashHex() != v.Hash {
				t.Errorf("hash %s, SDK %s", s.HashHex(), v.Hash)
			}
			if s.Source != v.Address {
				t.Errorf("source %s, wallet %s", s.Source, v.Address)
			}
			body, _ := json.Marshal(map[string]string{"txData": s.TxData, "signatureId": v.Pending.ID})
			if !jsonEqual(t, body, v.Broadcast) {
				t.Errorf("broadcast body %s, tatum-kms %s", body, v.Broadcast)
			}
			verifyIndependently(t, v, s)
		})
	}
	for _, kind := range []string{"native", "asset", "memo", "multisig", "v0", "feebump"} {
		if kinds[kind] < 10 {
			t.Errorf("only %d %s vectors; want at least 10", kinds[kind], kind)
		}
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return string(ja) == string(jb)
}

func verifyIndependently(t *testing.T, v vector, s *Signed) {
	t.Helper()
	var before, after xdr.TransactionEnvelope
	if err := xdr.SafeUnmarshalBase64(v.Pending.SerializedTransaction, &before); err != nil {
		t.Fatal(err)
	}
	if err := xdr.SafeUnmarshalBase64(s.TxData, &after); err != nil {
		t.Fatal(err)
	}
	hash, err := network.HashTransactionInEnvelope(after, v.NetworkPassphrase)
	if err != nil {
		t.Fatal(err)
	}
	sigsOf := func(e xdr.TransactionEnvelope) []xdr.DecoratedSignature {
		if e.IsFeeBump() {
			return e.FeeBumpSignatures()
		}
		return e.Signatures()
	}
	b, a := sigsOf(before), sigsOf(after)
	if len(a) != len(b)+1 {
		t.Fatalf("%d signatures after, %d before; want exactly one added", len(a), len(b))
	}
	for i := range b { // co-signers' signatures kept as they were
		if string(a[i].Signature) != string(b[i].Signature) || a[i].Hint != b[i].Hint {
			t.Errorf("signature %d changed", i)
		}
	}
	pub, err := wallet.ParseStellarAddress(v.Address)
	if err != nil {
		t.Fatal(err)
	}
	last := a[len(a)-1]
	if !ed25519.Verify(pub, hash[:], last.Signature) {
		t.Error("the added signature does not verify against the wallet's address")
	}
	if string(last.Hint[:]) != string(pub[28:]) {
		t.Error("signature hint is not the key's last 4 bytes")
	}
	kp, _ := keypair.ParseAddress(v.Address)
	if err := kp.Verify(hash[:], last.Signature); err != nil {
		t.Errorf("Stellar SDK's keypair does not verify: %v", err)
	}
	// Signed for the other network, the signature must not verify: the
	// passphrase is really part of what is signed.
	other, _ := network.HashTransactionInEnvelope(after, Passphrase(!v.Testnet))
	if ed25519.Verify(pub, other[:], last.Signature) {
		t.Error("signature verifies on the other network too")
	}
	// The transaction itself (all but signatures) is unchanged.
	strip := func(e xdr.TransactionEnvelope) string {
		switch e.Type {
		case xdr.EnvelopeTypeEnvelopeTypeTxV0:
			e.V0.Signatures = nil
		case xdr.EnvelopeTypeEnvelopeTypeTx:
			e.V1.Signatures = nil
		default:
			e.FeeBump.Signatures = nil
		}
		out, _ := xdr.MarshalBase64(e)
		return out
	}
	if strip(before) != strip(after) {
		t.Error("the transaction changed beyond the added signature")
	}
	if len(s.Operations) != len(after.Operations()) || s.Sequence != after.SeqNum() {
		t.Errorf("summary: %d operations, seq %d; envelope %d, %d", len(s.Operations), s.Sequence, len(after.Operations()), after.SeqNum())
	}
}

// TestNetworkMatters: the same pending transaction signed for the other
// network gives a different envelope (what tatum-kms does with --testnet).
func TestNetworkMatters(t *testing.T) {
	v := loadVectors(t).Vectors[0]
	s, err := Sign(v.Pending.SerializedTransaction, key(t, v.Secret), !v.Testnet)
	if err != nil {
		t.Fatal(err)
	}
	if s.TxData == v.TxData {
		t.Error("signature does not depend on the network")
	}
}

// mutate decodes the first native vector's envelope, changes it, and
// re-encodes it: the attacker's pending transaction.
func mutate(t *testing.T, v vector, f func(*xdr.TransactionEnvelope)) string {
	t.Helper()
	var e xdr.TransactionEnvelope
	if err := xdr.SafeUnmarshalBase64(v.Pending.SerializedTransaction, &e); err != nil {
		t.Fatal(err)
	}
	f(&e)
	out, err := xdr.MarshalBase64(e)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func byName(t testing.TB, name string) vector {
	for _, v := range loadVectors(t).Vectors {
		if v.Name == name {
			return v
		}
	}
	t.Fatalf("no vector %s", name)
	return vector{}
}

func byKind(t testing.TB, kind string) vector {
	for _, v := range loadVectors(t).Vectors {
		if v.Kind == kind {
			return v
		}
	}
	t.Fatalf("no %s vector", kind)
	return vector{}
}

// TestRefusals plays the attacker: each pending transaction below must be
// refused with ErrRefused, and the error must not quote the secret.
func TestRefusals(t *testing.T) {
	v := byKind(t, "native")
	k := key(t, v.Secret)
	other := key(t, byName(t, "native-1").Secret)
	otherAddr := wallet.StellarAddress(other.Public().(ed25519.PublicKey))
	stranger := muxed(other.Public().(ed25519.PublicKey))
	if otherAddr == v.Address {
		t.Fatal("test needs two wallets")
	}
	raw, _ := base64.StdEncoding.DecodeString(v.Pending.SerializedTransaction)
	fb := byKind(t, "feebump")
	cases := map[string]struct {
		tx   string
		want string
	}{
		"empty":          {"", "empty"},
		"not base64":     {"%%%", "base64"},
		"url base64":     {strings.NewReplacer("+", "-", "/", "_").Replace(v.Pending.SerializedTransaction) + "-_", "base64"},
		"not XDR":        {base64.StdEncoding.EncodeToString([]byte("hello world!")), "TransactionEnvelope"},
		"trailing bytes": {base64.StdEncoding.EncodeToString(append(append([]byte(nil), raw...), 0, 0, 0, 0)), "TransactionEnvelope"},
		"someone else's source": {mutate(t, v, func(e *xdr.TransactionEnvelope) {
			e.V1.Tx.SourceAccount = stranger
		}), "source account is " + otherAddr},
		"operation for another account": {mutate(t, v, func(e *xdr.TransactionEnvelope) {
			e.V1.Tx.Operations[0].SourceAccount = &stranger
		}), "acts for account " + otherAddr},
		"setOptions adds a signer": {mutate(t, v, func(e *xdr.TransactionEnvelope) {
			w := xdr.Uint32(255)
			e.V1.Tx.Operations = append(e.V1.Tx.Operations, xdr.Operation{Body: xdr.OperationBody{Type: xdr.OperationTypeSetOptions, SetOptionsOp: &xdr.SetOptionsOp{Signer: &xdr.Signer{Key: xdr.SignerKey{Type: xdr.SignerKeyTypeSignerKeyTypeEd25519, Ed25519: stranger.Ed25519}, Weight: w}}}})
		}), "SetOptions"},
		"accountMerge": {mutate(t, v, func(e *xdr.TransactionEnvelope) {
			e.V1.Tx.Operations[0].Body = xdr.OperationBody{Type: xdr.OperationTypeAccountMerge, Destination: &stranger}
		}), "AccountMerge"},
		"no operations": {mutate(t, v, func(e *xdr.TransactionEnvelope) {
			e.V1.Tx.Operations = nil
		}), "no operations"},
		"fee bump paid by someone else": {mutate(t, fb, func(e *xdr.TransactionEnvelope) {
			e.FeeBump.Tx.FeeSource = stranger
		}), "fee-bump fee source is " + otherAddr},
		"signed by the wallet already": {func() string {
			s, err := Sign(v.Pending.SerializedTransaction, k, v.Testnet)
			if err != nil {
				t.Fatal(err)
			}
			return s.TxData
		}(), "signed this transaction already"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			wallet := k
			if name == "fee bump paid by someone else" {
				wallet = key(t, fb.Secret)
			}
			s, err := Sign(c.tx, wallet, v.Testnet)
			if !errors.Is(err, ErrRefused) {
				t.Fatalf("signed (%v, %v); want a refusal", s, err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not say %q", err, c.want)
			}
			if strings.Contains(err.Error(), v.Secret) || strings.Contains(err.Error(), fb.Secret) {
				t.Error("error quotes a secret")
			}
		})
	}
	// Someone else's key for a good transaction: refused, naming both accounts.
	if _, err := Sign(v.Pending.SerializedTransaction, other, v.Testnet); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), otherAddr) {
		t.Errorf("other wallet's key: %v", err)
	}
	if _, err := Sign(v.Pending.SerializedTransaction, k[:32], v.Testnet); err == nil {
		t.Error("a 32-byte key was taken")
	}
}

func TestTooManySignatures(t *testing.T) {
	v := byKind(t, "native")
	tx := mutate(t, v, func(e *xdr.TransactionEnvelope) {
		for i := 0; i < 20; i++ {
			e.V1.Signatures = append(e.V1.Signatures, xdr.DecoratedSignature{Signature: make([]byte, 64)})
		}
	})
	if _, err := Sign(tx, key(t, v.Secret), v.Testnet); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "20 signatures") {
		t.Errorf("21st signature: %v", err)
	}
}

func TestSummary(t *testing.T) {
	for _, v := range loadVectors(t).Vectors {
		s, err := Sign(v.Pending.SerializedTransaction, key(t, v.Secret), v.Testnet)
		if err != nil {
			t.Fatal(err)
		}
		switch v.Kind {
		case "memo":
			if s.Memo == "" {
				t.Errorf("%s: memo lost", v.Name)
			}
		case "asset":
			op := s.Operations[0]
			if op.Asset == "native" || !strings.Contains(op.Asset, ":G") {
				t.Errorf("%s: asset %q", v.Name, op.Asset)
			}
		case "v0":
			if s.Envelope != "v0" {
				t.Errorf("%s: envelope %s", v.Name, s.Envelope)
			}
		case "feebump":
			if s.Envelope != "feeBump" || s.Fee <= 0 {
				t.Errorf("%s: envelope %s fee %d", v.Name, s.Envelope, s.Fee)
			}
		}
	}
	s, _ := Sign(byKind(t, "native").Pending.SerializedTransaction, key(t, byKind(t, "native").Secret), byKind(t, "native").Testnet)
	if op := s.Operations[0]; op.Type != "payment" || op.Asset != "native" || op.Amount != "1.5000000" {
		t.Errorf("native-0 summary %+v; gen.js paid 1.5000000 XLM", op)
	}
}

// TestMuxedSource: a muxed (M...) source account of the wallet's key is the
// wallet's account, and is signed.
func TestMuxedSource(t *testing.T) {
	v := byKind(t, "native")
	k := key(t, v.Secret)
	tx := mutate(t, v, func(e *xdr.TransactionEnvelope) {
		var u xdr.Uint256
		copy(u[:], k[32:])
		e.V1.Tx.SourceAccount = xdr.MuxedAccount{Type: xdr.CryptoKeyTypeKeyTypeMuxedEd25519, Med25519: &xdr.MuxedAccountMed25519{Id: 7, Ed25519: u}}
	})
	s, err := Sign(tx, k, v.Testnet)
	if err != nil {
		t.Fatal(err)
	}
	if s.Source != v.Address {
		t.Errorf("source %s", s.Source)
	}
}
