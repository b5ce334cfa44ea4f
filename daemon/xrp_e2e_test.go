package daemon_test

// XRP through the daemon: the signer kms.Signers wires, xrpl 2.14.1's
// vectors (testdata/xrp), each tx_blob's TxnSignature verified by the Tatum
// stand-in's broadcaster (ed25519, or secp256k1 over SHA-512Half) over the
// signing data ripple-binary-codec produced, with the key whose address is
// the stored wallet's.

import (
	"context"
	"crypto/ed25519"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/kms"
	"github.com/gokms/gokms/signing/xrp"
	"github.com/gokms/gokms/tatum"
	"github.com/gokms/gokms/wallet"
)

type xrpVector struct {
	Kind, Name, Secret, Address, SerializedTransaction, TxBlob, Hash, SigningData string
	Node                                                                          any
}

func loadXRPVectors(t *testing.T) []xrpVector {
	t.Helper()
	b, err := os.ReadFile("../testdata/xrp/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct{ Transactions []xrpVector }
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f.Transactions
}

// xrpVerifier knows the npm signing data of each expected blob.
type xrpVerifier struct {
	mu       sync.Mutex
	byBlob   map[string]xrpVector
	verified map[string]int
}

func (v *xrpVerifier) broadcast(_ context.Context, blob string) (string, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	vec, ok := v.byBlob[blob]
	if !ok {
		return "", fmt.Errorf("tx_blob is not the one xrpl makes")
	}
	tx, err := xrp.Decode(blob)
	if err != nil {
		return "", err
	}
	pub, _ := hex.DecodeString(tx["SigningPubKey"].(string))
	sig, _ := hex.DecodeString(tx["TxnSignature"].(string))
	data, _ := hex.DecodeString(vec.SigningData)
	if len(pub) == 33 && pub[0] == 0xED {
		if !ed25519.Verify(pub[1:], data, sig) {
			return "", fmt.Errorf("ed25519 signature does not verify")
		}
	} else {
		pk, err := btcec.ParsePubKey(pub)
		if err != nil {
			return "", err
		}
		s, err := ecdsa.ParseDERSignature(sig)
		h := sha512.Sum512(data)
		if err != nil || !s.Verify(h[:32], pk) {
			return "", fmt.Errorf("secp256k1 signature does not verify")
		}
	}
	if got := wallet.XRPAddress(pub); got != vec.Address || tx["Account"] != vec.Address {
		return "", fmt.Errorf("signed by %s for %v, the stored wallet is %s", got, tx["Account"], vec.Address)
	}
	v.verified[vec.Hash]++
	return vec.Hash, nil
}

func TestXRPDaemonEndToEnd(t *testing.T) {
	w := newChainWorld(t, "XRP", kms.SignerConfig{})
	ver := &xrpVerifier{byBlob: map[string]xrpVector{}, verified: map[string]int{}}
	w.srv.SetBroadcaster("XRP", ver.broadcast)
	vs := loadXRPVectors(t)
	// tatum-kms's XRP entries: generatemanagedwallet's {address, secret},
	// and generatemanagedprivatekeybatch's {privateKey} without an address.
	walletOf := map[string]string{}
	for i, v := range vs {
		ver.byBlob[v.TxBlob] = v
		if _, ok := walletOf[v.Secret]; ok {
			continue
		}
		id := "xrp-" + v.Address
		walletOf[v.Secret] = id
		r := backend.Record{ID: id, Kind: backend.PrivateKey, Chain: "XRP", Testnet: true, Secret: []byte(v.Secret), Address: v.Address, Layout: "address,secret,chain,testnet"}
		if i%2 == 1 {
			r.Address, r.Layout = "", "privateKey,chain,testnet"
		}
		w.put(r)
		w.secrets = append(w.secrets, v.Secret)
	}
	var txs []e2eTx
	var spare []xrpVector
	var autofill xrpVector
	kinds := map[string]int{}
	for _, v := range vs {
		if v.Node != nil {
			autofill = v
			continue
		}
		if kinds[v.Kind] >= 2 {
			spare = append(spare, v)
			continue
		}
		kinds[v.Kind]++
		txs = append(txs, e2eTx{pt: tatum.PendingTransaction{ID: tid("xrp " + v.Name), Chain: "XRP",
			SerializedTransaction: v.SerializedTransaction, Hashes: []string{walletOf[v.Secret]}}, txData: v.TxBlob})
	}
	var otherWallet string
	for s, id := range walletOf {
		if s != spare[0].Secret {
			otherWallet = id
			break
		}
	}
	zero := uint32(0)
	refusals := []e2eRefusal{
		{tatum.PendingTransaction{ID: tid("xrp foreign account"), Chain: "XRP", SerializedTransaction: spare[0].SerializedTransaction, Hashes: []string{otherWallet}},
			"is not the address of the signing wallet"},
		{tatum.PendingTransaction{ID: tid("xrp with index"), Chain: "XRP", SerializedTransaction: spare[1].SerializedTransaction, Hashes: []string{walletOf[spare[1].Secret]}, Index: &zero},
			"take no derivation index"},
		// No --rpc XRP=URL: a transaction lacking Sequence, Fee or
		// LastLedgerSequence is refused (tatum-kms would sign it incomplete).
		{tatum.PendingTransaction{ID: tid("xrp autofill"), Chain: "XRP", SerializedTransaction: autofill.SerializedTransaction, Hashes: []string{walletOf[autofill.Secret]}},
			"no XRPL node is configured"},
	}
	crash := e2eTx{pt: tatum.PendingTransaction{ID: tid("xrp crash"), Chain: "XRP", SerializedTransaction: spare[2].SerializedTransaction,
		Hashes: []string{walletOf[spare[2].Secret]}}, txData: spare[2].TxBlob}

	runChainE2E(t, w, "/v3/xrp/broadcast", txs, refusals, func(t *testing.T) {
		w.crashResend(t, "/v3/xrp/broadcast", crash)
	})
	ver.mu.Lock()
	defer ver.mu.Unlock()
	if len(ver.verified) != len(txs)+1 {
		t.Errorf("%d blobs verified, want %d", len(ver.verified), len(txs)+1)
	}
	// The journal's txId is the transaction's hash, as xrpl computes it.
	for _, tx := range txs {
		e, err := w.j.Get(context.Background(), tx.pt.ID)
		if err != nil || ver.verified[e.TxID] != 1 || !strings.EqualFold(e.TxID, ver.byBlob[tx.txData].Hash) {
			t.Errorf("journal entry %+v %v: txId is not xrpl's hash", e, err)
		}
	}
}
