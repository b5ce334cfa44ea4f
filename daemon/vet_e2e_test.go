package daemon_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/ethereum/go-ethereum/rlp"
	"golang.org/x/crypto/blake2b"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/daemon"
	"github.com/gokms/gokms/kms"
	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/signing/vet"
	"github.com/gokms/gokms/tatum"
	"github.com/gokms/gokms/wallet"
)

type vetVector struct {
	Name, Mnemonic, PrivateKey, Address string
	Testnet                             bool
	Index                               uint32
	Nonce                               uint64
	SerializedTransaction               string
	RawTransaction, SigningHash         string
	Node                                struct {
		GenesisID string `json:"genesisId"`
		BestID    string `json:"bestId"`
		GasUsed   uint64 `json:"gasUsed"`
	}
}

// vetNode is a Thor REST API stand-in (what thorify asks: GET /blocks/0,
// GET /blocks/best, POST /accounts/*?revision=best) with the vector's
// values.
func vetNode(t *testing.T, tc vetVector) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var out any
		switch {
		case r.Method == "GET" && r.URL.Path == "/blocks/0":
			out = map[string]any{"number": 0, "id": tc.Node.GenesisID}
		case r.Method == "GET" && r.URL.Path == "/blocks/best":
			out = map[string]any{"number": 123, "id": tc.Node.BestID}
		case r.Method == "POST" && r.URL.Path == "/accounts/*" && r.URL.Query().Get("revision") == "best":
			out = []any{map[string]any{"data": "0x", "events": []any{}, "transfers": []any{}, "gasUsed": tc.Node.GasUsed, "reverted": false, "vmError": ""}}
		default:
			w.WriteHeader(http.StatusNotFound)
		}
		_ = json.NewEncoder(w).Encode(out)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func vetCase(t *testing.T, tc vetVector, rec backend.Record, index *uint32) chainE2E {
	main := rec
	main.ID, main.Testnet = "vet-main", false
	return chainE2E{
		chain: "VET",
		family: func(t *testing.T) signing.Family {
			srv := vetNode(t, tc)
			node, err := vet.NewHTTPNode(srv.URL, srv.Client())
			if err != nil {
				t.Fatal(err)
			}
			// thorify's random nonce, fixed to the vector's.
			return signing.Family{"VET": &vet.Signer{Node: node, Nonce: func() (uint64, error) { return tc.Nonce, nil },
				DecodeKey: kms.RecordKeys{Testnet: rec.Testnet}.Secp256k1Key}}
		},
		records: []backend.Record{rec},
		secrets: []string{tc.Mnemonic, tc.PrivateKey, strings.TrimPrefix(tc.PrivateKey, "0x")},
		pending: tatum.PendingTransaction{Chain: "VET", SerializedTransaction: tc.SerializedTransaction, Hashes: []string{rec.ID}, Index: index},
		path:    vet.BroadcastPath,
		body:    txBody(tc.RawTransaction),
		mainnet: main,
		verify: func(t *testing.T, txData string) {
			raw, err := hex.DecodeString(strings.TrimPrefix(txData, "0x"))
			if err != nil {
				t.Fatal(err)
			}
			var fields []rlp.RawValue
			if err := rlp.DecodeBytes(raw, &fields); err != nil || len(fields) != 10 {
				t.Fatalf("not a signed VeChain transaction: %v (%d fields)", err, len(fields))
			}
			var sig []byte
			if err := rlp.DecodeBytes(fields[9], &sig); err != nil || len(sig) != 65 {
				t.Fatal("no 65-byte signature")
			}
			hash, _ := hex.DecodeString(strings.TrimPrefix(tc.SigningHash, "0x"))
			pub, _, err := ecdsa.RecoverCompact(append([]byte{27 + sig[64]}, sig[:64]...), hash)
			if err != nil {
				t.Fatal(err)
			}
			if got := wallet.VETAddress(pub); got != tc.Address {
				t.Fatalf("signed by %s, want %s (the key tatum-kms's getprivatekey shows)", got, tc.Address)
			}
			checkVETSigner(t, txData, tc.Address) // the hash computed here, not the vector's
		},
	}
}

// VET from a mnemonic wallet: the key on m/44'/818'/0'/0/i, the one the npm
// vector (tatum-kms's getprivatekey) shows, not ETH's m/44'/60'/0'/0/i that
// the generic Resolver would derive; thorify's raw transaction (the
// vector's) posted to /v3/vet/broadcast; the signer recovered from the
// signature over thor-devkit's signing hash.
func TestVETDaemonEndToEnd(t *testing.T) {
	var v struct{ Transactions []vetVector }
	readVectors(t, "vet", &v)
	var tc vetVector
	for _, x := range v.Transactions {
		if x.Testnet && x.Mnemonic != "" && x.Index > 0 {
			tc = x
			break
		}
	}
	if tc.RawTransaction == "" {
		t.Fatal("no testnet mnemonic vector with an index")
	}
	vk, err := wallet.VETKeyFromMnemonic(tc.Mnemonic, tc.Index, true)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := hex.DecodeString(strings.TrimPrefix(tc.PrivateKey, "0x")); !bytes.Equal(vk.Serialize(), want) {
		t.Fatal("VET mnemonic key differs from getprivatekey's")
	}
	idx := tc.Index
	t.Run("mnemonic", func(t *testing.T) {
		runChainCase(t, vetCase(t, tc, backend.Record{ID: "vet-mn", Kind: backend.Mnemonic, Chain: "VET", Testnet: true, Secret: []byte(tc.Mnemonic)}, &idx))
	})
	t.Run("private key", func(t *testing.T) {
		runChainCase(t, vetCase(t, tc, backend.Record{ID: "vet-pk", Kind: backend.PrivateKey, Chain: "VET", Testnet: true, Secret: []byte(tc.PrivateKey)}, nil))
	})
}

// On mainnet VET's path (coin 818) and ETH's (coin 60) differ (on testnet
// both are coin 1): a mainnet daemon signs a VET mnemonic wallet with the
// key getprivatekey shows, which is not the ETH key of the same mnemonic.
func TestVETMainnetMnemonicUsesVETPath(t *testing.T) {
	var v struct{ Transactions []vetVector }
	readVectors(t, "vet", &v)
	var tc vetVector
	for _, x := range v.Transactions {
		if !x.Testnet && x.Mnemonic != "" && x.Index > 0 {
			tc = x
			break
		}
	}
	if tc.RawTransaction == "" {
		t.Fatal("no mainnet mnemonic vector with an index")
	}
	ethKey, err := wallet.DeriveKey(wallet.ETH, tc.Mnemonic, tc.Index, false)
	if err != nil {
		t.Fatal(err)
	}
	if wallet.VETAddress(ethKey.PubKey()) == tc.Address {
		t.Fatal("ETH's path gives the VET address: the test cannot tell the paths apart")
	}
	idx := tc.Index
	c := vetCase(t, tc, backend.Record{ID: "vet-mn", Kind: backend.Mnemonic, Chain: "VET", Testnet: false, Secret: []byte(tc.Mnemonic)}, &idx)
	f := c.fixture(t)
	ext := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer ext.Close()
	id := f.srv.Enqueue(c.pending)
	d := f.daemon(func(cfg *daemon.Config) {
		cfg.Signers, cfg.Chains, cfg.Testnet, cfg.ExternalURL = c.set(t), []string{"VET"}, false, ext.URL
	})
	if err := d.RunOnce(context.Background()); err != nil {
		t.Fatalf("%v; reports %+v", err, f.srv.Errors())
	}
	f.requireCompleted(id)
	got := bodies(f.srv, c.path)
	if len(got) != 1 || !reflect.DeepEqual(got[0], c.body(id)) {
		t.Fatalf("posted %v, want %v", got, c.body(id))
	}
	c.verify(t, got[0]["txData"].(string))
}

// checkVETSigner recovers the signer of a raw VeChain transaction from its
// signature over its own signing hash (blake2b-256 of the RLP of the body
// without the signature, thor-devkit's signingHash) and wants address.
func checkVETSigner(t *testing.T, txData, address string) {
	t.Helper()
	raw, err := hex.DecodeString(strings.TrimPrefix(txData, "0x"))
	if err != nil {
		t.Fatal(err)
	}
	var fields []rlp.RawValue
	if err := rlp.DecodeBytes(raw, &fields); err != nil || len(fields) != 10 {
		t.Fatalf("not a signed VeChain transaction: %v", err)
	}
	var sig []byte
	if err := rlp.DecodeBytes(fields[9], &sig); err != nil || len(sig) != 65 {
		t.Fatal("no 65-byte signature")
	}
	body, err := rlp.EncodeToBytes(fields[:9])
	if err != nil {
		t.Fatal(err)
	}
	h := blake2b.Sum256(body)
	pub, _, err := ecdsa.RecoverCompact(append([]byte{27 + sig[64]}, sig[:64]...), h[:])
	if err != nil {
		t.Fatal(err)
	}
	if got := wallet.VETAddress(pub); got != address {
		t.Fatalf("signed by %s, want %s", got, address)
	}
}
