package daemon_test

import (
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/kms"
	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/signing/egld"
	"github.com/gokms/gokms/tatum"
	"github.com/gokms/gokms/wallet"
)

type egldVector struct {
	Name, Mnemonic, PrivateKey, Address string
	Testnet                             bool
	Index                               uint32
	SerializedTransaction, TxData       string
	Node                                struct {
		Config struct {
			ChainID     string `json:"erd_chain_id"`
			MinGasPrice uint64 `json:"erd_min_gas_price"`
			MinVersion  uint64 `json:"erd_min_transaction_version"`
		}
		Nonce, Gas uint64
	}
}

// egldGateway is a MultiversX gateway stand-in (the REST API erdjs calls:
// GET /network/config, GET /address/{a}/nonce, POST /transaction/cost)
// answering with the vector's values, and counting the calls.
func egldGateway(t *testing.T, tc egldVector) (*httptest.Server, func() int) {
	var mu sync.Mutex
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		mu.Unlock()
		var out any
		switch {
		case r.Method == "GET" && r.URL.Path == "/network/config":
			out = map[string]any{"data": map[string]any{"config": map[string]any{"erd_chain_id": tc.Node.Config.ChainID, "erd_min_gas_price": tc.Node.Config.MinGasPrice, "erd_min_transaction_version": tc.Node.Config.MinVersion, "erd_gas_per_data_byte": 1500}}, "code": "successful"}
		case r.Method == "GET" && r.URL.Path == "/address/"+tc.Address+"/nonce":
			out = map[string]any{"data": map[string]any{"nonce": tc.Node.Nonce}, "code": "successful"}
		case r.Method == "POST" && r.URL.Path == "/transaction/cost":
			out = map[string]any{"data": map[string]any{"txGasUnits": tc.Node.Gas, "returnMessage": ""}, "code": "successful"}
		default:
			w.WriteHeader(http.StatusNotFound)
			out = map[string]any{"error": "unknown route " + r.URL.Path, "code": "bad_request"}
		}
		_ = json.NewEncoder(w).Encode(out)
	}))
	t.Cleanup(srv.Close)
	return srv, func() int { mu.Lock(); defer mu.Unlock(); return calls }
}

var egldSigField = regexp.MustCompile(`,"signature":"([0-9a-f]{128})"}$`)

// EGLD: a mnemonic wallet derived on m/44'/508'/0'/0'/i' (the key the npm
// vector shows for it), nonce, gas and chain id from the gateway stand-in,
// erdjs's sendable JSON (the vector's txData) posted to /v3/egld/broadcast;
// the signature checked with crypto/ed25519 against the sender's address.
func TestEGLDDaemonEndToEnd(t *testing.T) {
	var v struct{ Transactions []egldVector }
	readVectors(t, "egld", &v)
	var tc egldVector
	for _, x := range v.Transactions {
		if x.Testnet && x.Mnemonic != "" && x.Index > 0 {
			tc = x
			break
		}
	}
	if tc.TxData == "" {
		t.Fatal("no testnet mnemonic vector with an index")
	}
	idx := tc.Index
	c := chainE2E{
		chain: "EGLD",
		family: func(t *testing.T) signing.Family {
			srv, _ := egldGateway(t, tc)
			node, err := egld.NewHTTPNode(srv.URL, srv.Client())
			if err != nil {
				t.Fatal(err)
			}
			return egld.Family(node, kms.RecordKeys{Testnet: true}.Ed25519Key)
		},
		records: []backend.Record{{ID: "egld-mn", Kind: backend.Mnemonic, Chain: "EGLD", Testnet: true, Secret: []byte(tc.Mnemonic)}},
		secrets: []string{tc.Mnemonic, tc.PrivateKey},
		pending: tatum.PendingTransaction{Chain: "EGLD", SerializedTransaction: tc.SerializedTransaction, Hashes: []string{"egld-mn"}, Index: &idx},
		path:    egld.BroadcastPath,
		body:    txBody(tc.TxData),
		mainnet: backend.Record{ID: "egld-main", Kind: backend.Mnemonic, Chain: "EGLD", Testnet: false, Secret: []byte(tc.Mnemonic)},
		verify: func(t *testing.T, txData string) {
			m := egldSigField.FindStringSubmatch(txData)
			if m == nil {
				t.Fatal("no signature field at the end")
			}
			sig, _ := hex.DecodeString(m[1])
			msg := strings.TrimSuffix(txData, m[0]) + "}"
			pub, err := wallet.ParseEGLDAddress(tc.Address)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(msg, `"sender":"`+tc.Address+`"`) || !ed25519.Verify(pub, []byte(msg), sig) {
				t.Fatal("EGLD signature does not verify against the vector's address")
			}
		},
	}
	runChainCase(t, c)
}
