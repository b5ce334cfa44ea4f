package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcutil/base58"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/backend/file"
	"github.com/gokms/gokms/signing/sol/soltest"
	"github.com/gokms/gokms/tatum"
	"github.com/gokms/gokms/tatum/tatumtest"
)

// firstVector reads the first entry of a vectors file's list.
func firstVector(t *testing.T, chain, list string, out any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", chain, "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		t.Fatal(err)
	}
	var l []json.RawMessage
	if err := json.Unmarshal(all[list], &l); err != nil || len(l) == 0 {
		t.Fatalf("%s %s: %v", chain, list, err)
	}
	if err := json.Unmarshal(l[0], out); err != nil {
		t.Fatal(err)
	}
}

// TestDaemonSignsTheNewChains: `gokms daemon --chain SOL,TRON,XLM,XRP
// --rpc SOL=URL` as an operator runs it, on a file store holding one wallet
// of each, drains one pending transaction of each from the Tatum stand-in
// with tatum-kms's broadcast bodies (the SDK vectors); SOL's goes to the
// node first. A node for a chain that asks none is refused clearly.
func TestDaemonSignsTheNewChains(t *testing.T) {
	var tron struct{ PrivateKey, SerializedTransaction, TxData string }
	firstVector(t, "tron", "transactions", &tron)
	var xrp struct{ Secret, Address, SerializedTransaction, TxBlob string }
	firstVector(t, "xrp", "transactions", &xrp)
	var xlm struct {
		Secret, Address, TxData string
		Pending                 struct{ SerializedTransaction string }
	}
	b, _ := os.ReadFile(filepath.Join("..", "..", "testdata", "xlm", "vectors.json"))
	var xf struct {
		Vectors []struct {
			Secret, Address, TxData string
			Testnet                 bool
			Pending                 struct{ SerializedTransaction string }
		}
	}
	if err := json.Unmarshal(b, &xf); err != nil {
		t.Fatal(err)
	}
	for _, v := range xf.Vectors {
		if v.Testnet {
			xlm.Secret, xlm.Address, xlm.TxData, xlm.Pending = v.Secret, v.Address, v.TxData, v.Pending
			break
		}
	}
	var sol struct {
		PrivateKeys          []string
		Blockhash, TxID      string
		LastValidBlockHeight uint64
		Pending              struct{ SerializedTransaction string }
	}
	firstVector(t, "sol", "vectors", &sol)

	home := t.TempDir()
	t.Setenv("HOME", home)
	const pw = "new chains daemon test password"
	store := filepath.Join(home, "wallet.dat")
	st, err := file.Create(store, []byte(pw), file.Options{KDF: &file.InsecureTestKDF})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []backend.Record{
		{ID: "tron", Kind: backend.PrivateKey, Chain: "TRON", Testnet: true, Secret: []byte(tron.PrivateKey)},
		{ID: "xrp", Kind: backend.PrivateKey, Chain: "XRP", Testnet: true, Secret: []byte(xrp.Secret), Address: xrp.Address},
		{ID: "xlm", Kind: backend.PrivateKey, Chain: "XLM", Testnet: true, Secret: []byte(xlm.Secret), Address: xlm.Address},
		{ID: "sol", Kind: backend.PrivateKey, Chain: "SOL", Testnet: true, Secret: []byte(sol.PrivateKeys[0])},
	} {
		if err := st.Put(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()

	node := soltest.New()
	defer node.Close()
	var h [32]byte
	copy(h[:], base58.Decode(sol.Blockhash))
	node.SetBlockhash(h, sol.LastValidBlockHeight)
	srv := tatumtest.New(tatumtest.Options{})
	defer srv.Close()
	want := map[string]string{} // pending id -> tatum-kms's broadcast txData
	for _, p := range []struct{ chain, wallet, serialized, txData string }{
		{"TRON", "tron", tron.SerializedTransaction, tron.TxData},
		{"XRP", "xrp", xrp.SerializedTransaction, xrp.TxBlob},
		{"XLM", "xlm", xlm.Pending.SerializedTransaction, xlm.TxData},
		{"SOL", "sol", sol.Pending.SerializedTransaction, sol.TxID},
	} {
		id := srv.Enqueue(tatum.PendingTransaction{ID: "61fe7c68cf2fbc595cbb8" + map[string]string{"TRON": "001", "XRP": "002", "XLM": "003", "SOL": "004"}[p.chain],
			Chain: p.chain, SerializedTransaction: p.serialized, Hashes: []string{p.wallet}})
		want[id] = p.txData
	}
	t.Setenv("TATUM_API_URL", srv.URL)
	t.Setenv("TATUM_API_KEY", srv.APIKey)
	t.Setenv(envPassword, pw)

	code, _, stderr := runJournalCLI(t, "daemon", "--testnet", "--runOnce", "--chain", "TRON,XRP,XLM,SOL", "--rpc", "TRON="+node.URL, "--path", store)
	if code == 0 || !strings.Contains(stderr, "TRON") || !strings.Contains(stderr, "node") {
		t.Fatalf("a node for TRON: exit %d: %s", code, stderr)
	}
	code, _, stderr = runJournalCLI(t, "daemon", "--testnet", "--runOnce", "--chain", "TRON,XRP,XLM,SOL", "--rpc", "SOL="+node.URL, "--path", store)
	if code != 0 {
		t.Fatalf("daemon: exit %d: %s", code, stderr)
	}
	if strings.Contains(stderr, "cannot sign") {
		t.Errorf("the daemon counts wallets it signs as unsignable:\n%s", stderr)
	}
	for id, txData := range want {
		if _, ok := srv.Completed(id); !ok {
			t.Errorf("%s not completed; reports %+v\n%s", id, srv.Errors(), stderr)
		}
		var body string
		for _, r := range srv.Requests() {
			if strings.HasSuffix(r.Path, "/broadcast") && strings.Contains(string(r.Body), id) {
				body = string(r.Body)
			}
		}
		var got struct{ TxData, SignatureID string }
		if json.Unmarshal([]byte(body), &got) != nil || got.TxData != txData || got.SignatureID != id {
			t.Errorf("%s: broadcast body %s, want txData %.60s…", id, body, txData)
		}
	}
	if node.Landed()[sol.TxID] == nil {
		t.Error("the SOL transaction did not reach the node")
	}
	for _, s := range []string{tron.PrivateKey, xrp.Secret, xlm.Secret, sol.PrivateKeys[0], pw} {
		if strings.Contains(stderr, s) {
			t.Fatal("a secret in the daemon's output")
		}
	}
}
