package daemon_test

import (
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/fxamacker/cbor/v2"
	"golang.org/x/crypto/blake2b"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/kms"
	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/signing/ada"
	"github.com/gokms/gokms/tatum"
)

type adaVector struct {
	Kind    string
	Testnet bool
	Pending struct {
		SerializedTransaction string
		Hashes                []string
		WithdrawalID          string
		Signatures            []struct {
			ID    string
			Index uint32
		}
	}
	Signers []struct {
		Wallet     int
		Index      uint32
		PrivateKey string
		PublicKey  string
	}
	BodyHex             string
	UnsignedTransaction string
	Payloads            json.RawMessage
	SignedTransaction   string
}

type adaVectors struct {
	Wallets []struct{ Mnemonic string }
	Pending []adaVector
	// The answers the generator gave the SDK for preprocess and metadata.
	PreprocessAnswer json.RawMessage
	MetadataAnswer   json.RawMessage
}

// rosettaNode is the Rosetta construction API behind Tatum's node gateway
// (POST /v3/blockchain/node/cardano-preprod/construction/{preprocess,
// metadata,payloads,combine}): it answers payloads with the vector's
// unsigned transaction (cardano-rosetta's, recorded by the generator) and,
// at combine, verifies every signature gokms sends with crypto/ed25519
// over the body hash, by the public key of a wallet the vector signs with,
// before it answers the vector's signed transaction.
type rosettaNode struct {
	t      *testing.T
	v      *adaVectors
	tc     adaVector
	apiKey string

	mu       sync.Mutex
	verified map[string]bool // public keys whose signature verified
}

func (n *rosettaNode) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fail := func(msg string) {
		w.WriteHeader(http.StatusInternalServerError)
		_ = json.NewEncoder(w).Encode(map[string]any{"code": 4000, "message": msg, "retriable": false})
	}
	endpoint, ok := strings.CutPrefix(r.URL.Path, "/v3/blockchain/node/cardano-preprod/")
	if r.Method != http.MethodPost || !ok || r.Header.Get("x-api-key") != n.apiKey {
		fail("unauthorized or wrong network path " + r.URL.Path)
		return
	}
	raw, _ := io.ReadAll(r.Body)
	var req map[string]json.RawMessage
	if err := json.Unmarshal(raw, &req); err != nil || !strings.Contains(string(req["network_identifier"]), `"preprod"`) {
		fail("bad request")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch endpoint {
	case "construction/preprocess":
		_, _ = w.Write(n.v.PreprocessAnswer)
	case "construction/metadata":
		_, _ = w.Write(n.v.MetadataAnswer)
	case "construction/payloads":
		var pl any
		_ = json.Unmarshal(n.tc.Payloads, &pl)
		_ = json.NewEncoder(w).Encode(map[string]any{"unsigned_transaction": n.tc.UnsignedTransaction, "payloads": pl})
	case "construction/combine":
		var sigs []struct {
			SigningPayload struct {
				HexBytes string `json:"hex_bytes"`
			} `json:"signing_payload"`
			PublicKey struct {
				HexBytes  string `json:"hex_bytes"`
				CurveType string `json:"curve_type"`
			} `json:"public_key"`
			SignatureType string `json:"signature_type"`
			HexBytes      string `json:"hex_bytes"`
		}
		_ = json.Unmarshal(req["signatures"], &sigs)
		body, _ := hex.DecodeString(n.tc.BodyHex)
		h := blake2b.Sum256(body)
		for _, s := range sigs {
			pub, _ := hex.DecodeString(s.PublicKey.HexBytes)
			msg, _ := hex.DecodeString(s.SigningPayload.HexBytes)
			sig, _ := hex.DecodeString(s.HexBytes)
			if s.SignatureType != "ed25519" || s.PublicKey.CurveType != "edwards25519" || len(pub) != ed25519.PublicKeySize ||
				hex.EncodeToString(msg) != hex.EncodeToString(h[:]) || !ed25519.Verify(pub, msg, sig) {
				fail("invalid signature")
				return
			}
			n.mu.Lock()
			n.verified[s.PublicKey.HexBytes] = true
			n.mu.Unlock()
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"signed_transaction": n.tc.SignedTransaction})
	default:
		fail("no endpoint " + endpoint)
	}
}

func adaCase(t *testing.T, v *adaVectors, tc adaVector) chainE2E {
	c := chainE2E{chain: "ADA", pending: tatum.PendingTransaction{Chain: "ADA", SerializedTransaction: tc.Pending.SerializedTransaction}}
	var node *rosettaNode
	c.family = func(t *testing.T) signing.Family {
		node = &rosettaNode{t: t, v: v, tc: tc, apiKey: "ada-test-key", verified: map[string]bool{}}
		srv := httptest.NewServer(node)
		t.Cleanup(srv.Close)
		return ada.Family(&ada.RosettaClient{BaseURL: srv.URL, APIKey: node.apiKey, Testnet: true, HTTP: srv.Client()}, 0, kms.RecordKeys{Testnet: true}.CardanoKey)
	}
	if tc.Pending.WithdrawalID != "" {
		// Off-chain withdrawal: mnemonic wallets and indexes in signatures.
		c.pending.WithdrawalID = tc.Pending.WithdrawalID
		seen := map[string]bool{}
		for _, s := range tc.Pending.Signatures {
			idx := s.Index
			c.pending.Signatures = append(c.pending.Signatures, tatum.Signature{ID: s.ID, Index: &idx})
			if !seen[s.ID] {
				seen[s.ID] = true
				var w int
				if _, err := fmt.Sscanf(s.ID, "mnemonic-%d", &w); err != nil {
					t.Fatal(err)
				}
				c.records = append(c.records, backend.Record{ID: s.ID, Kind: backend.Mnemonic, Chain: "ADA", Testnet: true, Secret: []byte(v.Wallets[w].Mnemonic)})
				c.secrets = append(c.secrets, v.Wallets[w].Mnemonic)
			}
		}
		c.path = "/v3/offchain/withdrawal/broadcast"
		c.body = func(id string) map[string]any {
			return map[string]any{"currency": "ADA", "withdrawalId": tc.Pending.WithdrawalID, "signatureId": id, "txData": tc.SignedTransaction}
		}
		c.mainnet = backend.Record{ID: "ada-main", Kind: backend.Mnemonic, Chain: "ADA", Testnet: false, Secret: []byte(v.Wallets[0].Mnemonic)}
	} else {
		for j, h := range tc.Pending.Hashes {
			c.pending.Hashes = append(c.pending.Hashes, h)
			c.records = append(c.records, backend.Record{ID: h, Kind: backend.PrivateKey, Chain: "ADA", Testnet: true, Secret: []byte(tc.Signers[j].PrivateKey)})
			c.secrets = append(c.secrets, tc.Signers[j].PrivateKey)
		}
		c.path = "/v3/ada/broadcast"
		c.body = txBody(tc.SignedTransaction)
		c.mainnet = backend.Record{ID: "ada-main", Kind: backend.PrivateKey, Chain: "ADA", Testnet: false, Secret: []byte(tc.Signers[0].PrivateKey)}
	}
	var want []string
	for _, s := range tc.Signers {
		want = append(want, s.PublicKey)
	}
	sort.Strings(want)
	c.verify = func(t *testing.T, txData string) {
		// The node verified gokms's signatures, one per signing wallet.
		node.mu.Lock()
		var got []string
		for k := range node.verified {
			got = append(got, k)
		}
		node.mu.Unlock()
		sort.Strings(got)
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("combine verified signatures of %v, want the signers %v", got, want)
		}
		// And the broadcast transaction carries valid witnesses over its body.
		outer, err := hex.DecodeString(txData)
		if err != nil {
			t.Fatal(err)
		}
		var pair []cbor.RawMessage
		var txHex string
		var parts []cbor.RawMessage
		var ws map[uint64]cbor.RawMessage
		var vks [][2][]byte
		if cbor.Unmarshal(outer, &pair) != nil || len(pair) != 2 || cbor.Unmarshal(pair[0], &txHex) != nil {
			t.Fatal("txData is not cardano-rosetta's cbor([tx hex, extra])")
		}
		tx, _ := hex.DecodeString(txHex)
		if cbor.Unmarshal(tx, &parts) != nil || len(parts) < 2 || cbor.Unmarshal(parts[1], &ws) != nil || cbor.Unmarshal(ws[0], &vks) != nil {
			t.Fatal("no vkey witnesses")
		}
		h := blake2b.Sum256(parts[0])
		if len(vks) != len(want) {
			t.Fatalf("%d witnesses, want %d", len(vks), len(want))
		}
		for _, w := range vks {
			if !ed25519.Verify(w[0], h[:], w[1]) {
				t.Fatal("a witness does not verify over the body hash")
			}
		}
	}
	return c
}

// ADA: the Rosetta construction flow on a stand-in of Tatum's node
// gateway, the signed transaction posted to /v3/ada/broadcast (private-key
// wallets, several signers) or, for an off-chain withdrawal (mnemonic
// wallets and indexes), to /v3/offchain/withdrawal/broadcast with the
// bodies tatum-kms posts.
func TestADADaemonEndToEnd(t *testing.T) {
	var v adaVectors
	readVectors(t, "ada", &v)
	pick := func(kind string) adaVector {
		for _, x := range v.Pending {
			if x.Testnet && x.Kind == kind {
				return x
			}
		}
		t.Fatalf("no testnet %s vector", kind)
		return adaVector{}
	}
	t.Run("several signers", func(t *testing.T) { runChainCase(t, adaCase(t, &v, pick("several-signers"))) })
	t.Run("withdrawal", func(t *testing.T) { runChainCase(t, adaCase(t, &v, pick("withdrawal"))) })
}
