package daemon_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"reflect"
	"testing"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/daemon"
	"github.com/gokms/gokms/kms"
	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/signing/algo"
	"github.com/gokms/gokms/tatum"
	"github.com/gokms/gokms/wallet"
)

type algoVectors struct {
	Wallets []struct {
		Label, Secret, Address, PublicKey string
	}
	Transactions []struct {
		Name, Wallet, Secret, Address string
		Testnet                       bool
		SerializedTransaction         string
		TxData                        string
		BytesToSign                   string
	}
}

// ALGO: algosdk's signed transaction (the npm vector's txData) posted to
// /v3/algorand/broadcast; the signature checked with crypto/ed25519 over
// "TX" || the transaction as algosdk encodes it.
func TestALGODaemonEndToEnd(t *testing.T) {
	var v algoVectors
	readVectors(t, "algo", &v)
	var i int
	for i = range v.Transactions {
		if v.Transactions[i].Testnet && v.Transactions[i].Name == "pay note 0" {
			break
		}
	}
	tc := v.Transactions[i]
	if !tc.Testnet {
		t.Fatal("no testnet vector")
	}
	pub, err := wallet.ParseAlgoAddress(tc.Address)
	if err != nil {
		t.Fatal(err)
	}
	c := chainE2E{
		chain:   "ALGO",
		family:  func(*testing.T) signing.Family { return algo.Family(kms.RecordKeys{Testnet: true}.Ed25519Key) },
		records: []backend.Record{{ID: "algo-pk", Kind: backend.PrivateKey, Chain: "ALGO", Testnet: true, Secret: []byte(tc.Secret), Address: tc.Address}},
		secrets: []string{tc.Secret},
		pending: tatum.PendingTransaction{Chain: "ALGO", SerializedTransaction: tc.SerializedTransaction, Hashes: []string{"algo-pk"}},
		path:    algo.BroadcastPath,
		body:    txBody(tc.TxData),
		mainnet: backend.Record{ID: "algo-main", Kind: backend.PrivateKey, Chain: "ALGO", Testnet: false, Secret: []byte(tc.Secret), Address: tc.Address},
		verify: func(t *testing.T, txData string) {
			raw, err := hex.DecodeString(txData)
			if err != nil {
				t.Fatal(err)
			}
			var stx struct {
				Sig []byte             `msgpack:"sig"`
				Txn msgpack.RawMessage `msgpack:"txn"`
			}
			if err := msgpack.Unmarshal(raw, &stx); err != nil {
				t.Fatal(err)
			}
			msg := append([]byte("TX"), stx.Txn...)
			want, _ := hex.DecodeString(tc.BytesToSign)
			if !bytes.Equal(msg, want) {
				t.Fatal("signed message differs from algosdk's bytesToSign")
			}
			if !ed25519.Verify(pub, msg, stx.Sig) {
				t.Fatal("ALGO signature does not verify")
			}
		},
	}
	runChainCase(t, c)
}

// An ALGO off-chain withdrawal is signed like any ALGO transaction and
// posted to /v3/algorand/broadcast, as tatum-kms does (only BTC, LTC, DOGE,
// BCH, ETH, ONE and ADA withdrawals go to the off-chain withdrawal
// endpoint: chain.Chain.OffchainWithdrawal); nothing goes to that endpoint.
func TestALGOWithdrawalBroadcast(t *testing.T) {
	var v algoVectors
	readVectors(t, "algo", &v)
	var i int
	for i = range v.Transactions {
		if v.Transactions[i].Testnet {
			break
		}
	}
	tc := v.Transactions[i]
	f := newFixture(t)
	f.put(backend.Record{ID: "algo-pk", Kind: backend.PrivateKey, Chain: "ALGO", Testnet: true, Secret: []byte(tc.Secret), Address: tc.Address})
	f.secrets = append(f.secrets, tc.Secret)
	set, err := signing.NewSet(algo.Family(kms.RecordKeys{Testnet: true}.Ed25519Key))
	if err != nil {
		t.Fatal(err)
	}
	id := f.srv.Enqueue(tatum.PendingTransaction{Chain: "ALGO", SerializedTransaction: tc.SerializedTransaction, Hashes: []string{"algo-pk"}, WithdrawalID: "wd-algo-1"})
	d := f.daemon(func(c *daemon.Config) { c.Signers = set; c.Chains = []string{"ALGO"} })
	if err := d.RunOnce(context.Background()); err != nil {
		t.Fatalf("%v %+v", err, f.srv.Errors())
	}
	f.requireCompleted(id)
	got := bodies(f.srv, "/v3/algorand/broadcast")
	want := map[string]any{"signatureId": id, "txData": tc.TxData}
	if len(got) != 1 || !reflect.DeepEqual(got[0], want) {
		t.Fatalf("posted %v, want %v", got, want)
	}
	if w := bodies(f.srv, "/v3/offchain/withdrawal/broadcast"); len(w) != 0 {
		t.Fatalf("posted to the off-chain withdrawal endpoint: %v", w)
	}
}
