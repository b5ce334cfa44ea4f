package daemon_test

// XLM through the daemon: the signer kms.Signers wires, stellar-sdk 9.1.0's
// vectors (testdata/xlm), each envelope's new signature verified by the
// Tatum stand-in's broadcaster with the Stellar Go SDK's keypair over the
// testnet hash of the transaction, against the stored wallet's address.

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/stellar/go-stellar-sdk/keypair"
	"github.com/stellar/go-stellar-sdk/network"
	"github.com/stellar/go-stellar-sdk/xdr"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/kms"
	"github.com/gokms/gokms/tatum"
)

type xlmVector struct {
	Name, Kind, Secret, Address, Hash, TxData string
	Testnet                                   bool
	Pending                                   struct{ SerializedTransaction string }
}

func loadXLMVectors(t *testing.T) []xlmVector {
	t.Helper()
	b, err := os.ReadFile("../testdata/xlm/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct{ Vectors []xlmVector }
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f.Vectors
}

// xlmVerifier accepts an envelope only if one of its signatures verifies
// for a stored wallet over the testnet hash, and none over mainnet's.
type xlmVerifier struct {
	mu       sync.Mutex
	wallets  []string // addresses
	verified map[string]int
}

func (v *xlmVerifier) broadcast(_ context.Context, txData string) (string, error) {
	var env xdr.TransactionEnvelope
	if err := xdr.SafeUnmarshalBase64(txData, &env); err != nil {
		return "", fmt.Errorf("not an envelope: %v", err)
	}
	hash, err := network.HashTransactionInEnvelope(env, network.TestNetworkPassphrase)
	if err != nil {
		return "", err
	}
	main, _ := network.HashTransactionInEnvelope(env, network.PublicNetworkPassphrase)
	sigs := env.Signatures()
	if env.IsFeeBump() {
		sigs = env.FeeBumpSignatures()
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, a := range v.wallets {
		kp := keypair.MustParseAddress(a)
		for _, s := range sigs {
			if kp.Verify(main[:], s.Signature) == nil {
				return "", fmt.Errorf("signed for mainnet by %s", a)
			}
			if kp.Verify(hash[:], s.Signature) == nil {
				id := hex.EncodeToString(hash[:])
				v.verified[id]++
				return id, nil
			}
		}
	}
	return "", fmt.Errorf("no signature of a stored wallet")
}

func TestXLMDaemonEndToEnd(t *testing.T) {
	w := newChainWorld(t, "XLM", kms.SignerConfig{})
	ver := &xlmVerifier{verified: map[string]int{}}
	w.srv.SetBroadcaster("XLM", ver.broadcast)
	var vs []xlmVector
	for _, v := range loadXLMVectors(t) {
		if v.Testnet {
			vs = append(vs, v)
		}
	}
	// tatum-kms's XLM entries: generatemanagedwallet's {address, secret}, and
	// storemanagedprivatekey's {privateKey} without an address.
	walletOf := map[string]string{}
	for i, v := range vs {
		if _, ok := walletOf[v.Secret]; ok {
			continue
		}
		id := "xlm-" + v.Address
		walletOf[v.Secret] = id
		r := backend.Record{ID: id, Kind: backend.PrivateKey, Chain: "XLM", Testnet: true, Secret: []byte(v.Secret), Address: v.Address, Layout: "address,secret,chain,testnet"}
		if i%2 == 1 {
			r.Address, r.Layout = "", "privateKey,chain,testnet"
		}
		w.put(r)
		w.secrets = append(w.secrets, v.Secret)
		ver.wallets = append(ver.wallets, v.Address)
	}
	var txs []e2eTx
	var spare []xlmVector
	kinds := map[string]int{}
	for _, v := range vs {
		if kinds[v.Kind] >= 2 {
			spare = append(spare, v)
			continue
		}
		kinds[v.Kind]++
		txs = append(txs, e2eTx{pt: tatum.PendingTransaction{ID: tid("xlm " + v.Name), Chain: "XLM",
			SerializedTransaction: v.Pending.SerializedTransaction, Hashes: []string{walletOf[v.Secret]}}, txData: v.TxData})
	}
	var otherWallet string
	for s, id := range walletOf {
		if s != spare[0].Secret {
			otherWallet = id
			break
		}
	}
	one := uint32(1)
	refusals := []e2eRefusal{
		{tatum.PendingTransaction{ID: tid("xlm foreign source"), Chain: "XLM", SerializedTransaction: spare[0].Pending.SerializedTransaction, Hashes: []string{otherWallet}},
			"not this wallet's"},
		{tatum.PendingTransaction{ID: tid("xlm with index"), Chain: "XLM", SerializedTransaction: spare[1].Pending.SerializedTransaction, Hashes: []string{walletOf[spare[1].Secret]}, Index: &one},
			"XLM wallets take no index"},
		{tatum.PendingTransaction{ID: tid("xlm two wallets"), Chain: "XLM", SerializedTransaction: spare[1].Pending.SerializedTransaction, Hashes: []string{walletOf[spare[1].Secret], otherWallet}},
			"names 2 wallets"},
	}
	crash := e2eTx{pt: tatum.PendingTransaction{ID: tid("xlm crash"), Chain: "XLM", SerializedTransaction: spare[2].Pending.SerializedTransaction,
		Hashes: []string{walletOf[spare[2].Secret]}}, txData: spare[2].TxData}

	runChainE2E(t, w, "/v3/xlm/broadcast", txs, refusals, func(t *testing.T) {
		w.crashResend(t, "/v3/xlm/broadcast", crash)
	})
	ver.mu.Lock()
	defer ver.mu.Unlock()
	if len(ver.verified) != len(txs)+1 {
		t.Errorf("%d envelopes verified, want %d", len(ver.verified), len(txs)+1)
	}
	// The journal holds each transaction's hash (Horizon's id) as its txId.
	e, err := w.j.Get(context.Background(), txs[0].pt.ID)
	if err != nil || ver.verified[e.TxID] != 1 {
		t.Errorf("journal entry %+v %v: txId is not the verified hash", e, err)
	}
}
