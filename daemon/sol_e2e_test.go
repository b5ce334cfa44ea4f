package daemon_test

// SOL through the daemon: the signer kms.Signers wires on a Solana node
// stand-in (soltest: verifies signatures, knows blockhashes and their
// expiry, refuses a transaction twice), @solana/web3.js 1.56.2's vectors
// (testdata/sol): the node gets the same wire transaction web3.js sends,
// Tatum only its signature, as tatum-kms posts it. Each landed transaction
// is split and every signature checked with ed25519.Verify against the
// stored wallets' addresses.

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/btcsuite/btcd/btcutil/base58"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/daemon/journal"
	"github.com/gokms/gokms/kms"
	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/signing/sol/soltest"
	"github.com/gokms/gokms/tatum"
)

type solVector struct {
	Name, Kind, Blockhash, Wire, TxID string
	PrivateKeys, Addresses            []string
	LastValidBlockHeight              uint64
	Pending                           struct{ SerializedTransaction string }
}

type solFile struct {
	Wallets []struct {
		Mnemonic, Address, PrivateKey string
		Index                         uint32
	}
	Vectors []solVector
}

func loadSOLVectors(t *testing.T) solFile {
	t.Helper()
	b, err := os.ReadFile("../testdata/sol/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var f solFile
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

// solVerify splits a legacy wire transaction (own parsing) and checks every
// signature over the message with its signer's key, and that the fee payer
// is a stored wallet.
func solVerify(wire []byte, wallets map[string]bool) error {
	ns := int(wire[0])
	if ns == 0 || ns > 127 || len(wire) < 1+64*ns+4 {
		return errors.New("bad signature count")
	}
	msg := wire[1+64*ns:]
	if int(msg[0]) != ns || msg[3] > 127 {
		return errors.New("header does not match the signatures")
	}
	keys := msg[4:]
	for i := 0; i < ns; i++ {
		pub := ed25519.PublicKey(keys[32*i : 32*i+32])
		if !ed25519.Verify(pub, msg, wire[1+64*i:1+64*i+64]) {
			return fmt.Errorf("signature %d does not verify", i)
		}
	}
	if fp := base58.Encode(keys[:32]); !wallets[fp] {
		return fmt.Errorf("fee payer %s is no stored wallet", fp)
	}
	return nil
}

func TestSOLDaemonEndToEnd(t *testing.T) {
	node := soltest.New()
	defer node.Close()
	const apiKey = "tatum-api-key-not-for-other-nodes"
	w := newChainWorld(t, "SOL", kms.SignerConfig{Nodes: map[string]string{"SOL": node.URL}, APIKey: apiKey})
	f := loadSOLVectors(t)

	// Stored as tatum-kms keeps SOL wallets: the "quantum" mnemonic as
	// generatemanagedwallet writes it ({mnemonic, address, privateKey} of
	// index 0), the "abandon" keys as storemanagedprivatekey's {privateKey}
	// (index 0 with its address).
	stored := map[string]bool{}         // addresses
	ref := map[string]tatum.Signature{} // private key -> how a pending transaction names it
	for _, wl := range f.Wallets {
		stored[wl.Address] = true
		w.secrets = append(w.secrets, wl.PrivateKey)
		i := wl.Index
		if strings.HasPrefix(wl.Mnemonic, "quantum") {
			if i == 0 {
				w.put(backend.Record{ID: "sol-q", Kind: backend.Mnemonic, Chain: "SOL", Testnet: true, Secret: []byte(wl.Mnemonic),
					ExtraKey: []byte(wl.PrivateKey), Address: wl.Address})
				w.secrets = append(w.secrets, wl.Mnemonic)
				ref[wl.PrivateKey] = tatum.Signature{ID: "sol-q"}
			} else {
				ref[wl.PrivateKey] = tatum.Signature{ID: "sol-q", Index: &i}
			}
			continue
		}
		id := fmt.Sprintf("sol-a%d", i)
		r := backend.Record{ID: id, Kind: backend.PrivateKey, Chain: "SOL", Testnet: true, Secret: []byte(wl.PrivateKey)}
		if i == 0 {
			r.Address = wl.Address
		}
		w.put(r)
		ref[wl.PrivateKey] = tatum.Signature{ID: id}
	}
	pending := func(name string, v solVector) tatum.PendingTransaction {
		pt := tatum.PendingTransaction{ID: tid("sol " + name), Chain: "SOL", SerializedTransaction: v.Pending.SerializedTransaction}
		for _, k := range v.PrivateKeys {
			r, ok := ref[k]
			if !ok {
				t.Fatalf("%s: key of no stored wallet", v.Name)
			}
			if r.Index == nil {
				pt.Hashes = append(pt.Hashes, r.ID)
			} else {
				pt.Signatures = append(pt.Signatures, r)
			}
		}
		var mint struct{ MintPK string }
		if json.Unmarshal([]byte(v.Pending.SerializedTransaction), &mint) == nil && mint.MintPK != "" {
			w.secrets = append(w.secrets, mint.MintPK)
		}
		return pt
	}

	// The node hands out the vector's blockhash for the id being signed, so
	// the wire must be web3.js's byte for byte.
	vecOf := map[string]solVector{}
	w.beforeSign = func(req signing.Request) {
		if v, ok := vecOf[req.ID]; ok {
			var h [32]byte
			copy(h[:], base58.Decode(v.Blockhash))
			node.SetBlockhash(h, v.LastValidBlockHeight)
		}
	}
	var mu sync.Mutex
	told := map[string]int{} // signatures Tatum was told of
	w.srv.SetBroadcaster("SOL", func(_ context.Context, txData string) (string, error) {
		wire, ok := node.Landed()[txData]
		if !ok {
			return "", fmt.Errorf("signature %s is not on chain", txData)
		}
		if err := solVerify(wire, stored); err != nil {
			return "", err
		}
		mu.Lock()
		told[txData]++
		mu.Unlock()
		return txData, nil
	})

	var txs []e2eTx
	var spare []solVector
	kinds := map[string]int{}
	for _, v := range f.Vectors {
		if kinds[v.Kind] >= 2 {
			spare = append(spare, v)
			continue
		}
		kinds[v.Kind]++
		pt := pending(v.Name, v)
		vecOf[pt.ID] = v
		txs = append(txs, e2eTx{pt: pt, txData: v.TxID})
	}
	// Another key under a stored address: refused before signing.
	w.put(backend.Record{ID: "sol-mismatch", Kind: backend.PrivateKey, Chain: "SOL", Testnet: true, Secret: []byte(f.Wallets[5].PrivateKey), Address: f.Wallets[0].Address})
	one := uint32(1)
	refusals := []e2eRefusal{
		{tatum.PendingTransaction{ID: tid("sol foreign fee payer"), Chain: "SOL", SerializedTransaction: spare[0].Pending.SerializedTransaction, Hashes: []string{"sol-a5"}},
			"SOL transaction refused"},
		{tatum.PendingTransaction{ID: tid("sol address mismatch"), Chain: "SOL", SerializedTransaction: spare[0].Pending.SerializedTransaction, Hashes: []string{"sol-mismatch"}},
			"is not the key of the stored address"},
		{tatum.PendingTransaction{ID: tid("sol private key with index"), Chain: "SOL", SerializedTransaction: spare[0].Pending.SerializedTransaction,
			Signatures: []tatum.Signature{{ID: "sol-a0", Index: &one}}}, "is a private-key wallet, but the transaction asks for index 1"},
	}

	runChainE2E(t, w, "/v3/solana/broadcast", txs, refusals, func(t *testing.T) {
		solCrashes(t, w, node, spare[1:], pending, vecOf)
	})

	landed := node.Landed()
	for _, tx := range txs {
		v := vecOf[tx.pt.ID]
		wire, ok := landed[v.TxID]
		if !ok || base64.StdEncoding.EncodeToString(wire) != v.Wire {
			t.Errorf("%s: the node did not get web3.js's wire transaction", v.Name)
		}
		if told[v.TxID] != 1 {
			t.Errorf("%s: Tatum told %d times", v.Name, told[v.TxID])
		}
	}
	for _, r := range node.Requests() {
		if r.Header.Get("X-Api-Key") != "" || strings.Contains(r.Path, apiKey) {
			t.Fatal("the Tatum API key went to a node that is not Tatum's")
		}
	}
}

// solCrashes: the three ways a journaled SOL transaction comes back.
func solCrashes(t *testing.T, w *chainWorld, node *soltest.Node, spare []solVector, pending func(string, solVector) tatum.PendingTransaction, vecOf map[string]solVector) {
	sends := func(wire string) int {
		n := 0
		for _, r := range node.Requests() {
			if r.Method == "sendTransaction" && strings.Contains(string(r.Params), wire) {
				n++
			}
		}
		return n
	}
	enqueue := func(name string, v solVector) tatum.PendingTransaction {
		pt := pending(name, v)
		vecOf[pt.ID] = v
		w.srv.Enqueue(pt)
		return pt
	}

	// 1. The node took it, Tatum's broadcast failed, the daemon stopped. The
	// restarted daemon finds the signature on chain: completed with it,
	// neither signed nor sent again.
	a := spare[0]
	pa := enqueue("crash after send", a)
	w.srv.Inject(faultOn("/v3/solana/broadcast"))
	w.daemon().RunCycle(context.Background())
	w.srv.ClearFaults()
	requireReported(t, w.srv, pa.ID, "resends the same signed transaction")
	w.restart()
	w.daemon().RunCycle(context.Background())
	if txid, ok := w.srv.Completed(pa.ID); !ok || txid != a.TxID {
		t.Errorf("after a restart: completed %v with %q, want %s", ok, txid, a.TxID)
	}
	if w.signCount(pa.ID) != 1 || sends(a.Wire) != 1 {
		t.Errorf("signed %d, sent %d times; want once each", w.signCount(pa.ID), sends(a.Wire))
	}

	// 2. The node refused it (preflight), reported; after a restart the
	// same bytes go again and land.
	b := spare[1]
	pb := enqueue("node refused once", b)
	node.FailNextSend(-32002, "Transaction simulation failed: Attempt to debit an account but found no record of a prior credit.", []string{})
	w.daemon().RunCycle(context.Background())
	requireReported(t, w.srv, pb.ID, "found no record of a prior credit")
	w.restart()
	w.daemon().RunCycle(context.Background())
	if txid, ok := w.srv.Completed(pb.ID); !ok || txid != b.TxID {
		t.Errorf("resend: completed %v with %q; reports %+v", ok, txid, w.srv.Errors())
	}
	if got := w.bodies("/v3/solana/broadcast", pb.ID); len(got) != 1 || got[0] != tatumKMSBody(b.TxID, pb.ID) {
		t.Errorf("resend: Tatum bodies %q", got)
	}
	if w.signCount(pb.ID) != 1 || sends(b.Wire) != 2 {
		t.Errorf("signed %d, sent %d times; want one signature sent twice", w.signCount(pb.ID), sends(b.Wire))
	}

	// 3. Refused, then the blockhash expired: it can never land. Reported
	// as expired for the operator, never signed again (not silently
	// re-signed with a new blockhash), however many cycles run.
	c := spare[2]
	pc := enqueue("expired", c)
	node.FailNextSend(-32002, "Transaction simulation failed: Attempt to debit an account but found no record of a prior credit.", []string{})
	w.daemon().RunCycle(context.Background())
	node.Advance(c.LastValidBlockHeight) // height 1000 + lastValid > lastValid
	w.restart()
	for range 2 {
		w.daemon().RunCycle(context.Background())
	}
	requireReported(t, w.srv, pc.ID, "SOL transaction expired unsent")
	requireReported(t, w.srv, pc.ID, "gokms journal forget")
	if _, ok := w.srv.Completed(pc.ID); ok || node.Landed()[c.TxID] != nil {
		t.Error("an expired transaction completed or landed")
	}
	if w.signCount(pc.ID) != 1 {
		t.Errorf("expired transaction signed %d times", w.signCount(pc.ID))
	}
	e, err := w.j.Get(context.Background(), pc.ID)
	if err != nil || e.State != journal.StateSigned || e.TxID != c.TxID {
		t.Errorf("journal %+v %v: want the signed entry kept for the operator", e, err)
	}
}
