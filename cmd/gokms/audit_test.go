package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/backend/file"
	"github.com/gokms/gokms/daemon/audit"
	"github.com/gokms/gokms/signing/utxo/utxotest"
	"github.com/gokms/gokms/tatum"
	"github.com/gokms/gokms/tatum/tatumtest"
)

// TestAuditVerifyCLI: gokms audit verify passes an intact log and fails,
// naming the entry, for an edited, a removed and a swapped one; audit list
// filters.
func TestAuditVerifyCLI(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	f, err := audit.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		chain := "BTC"
		if i == 2 {
			chain = "ETH"
		}
		if err := f.Append(context.Background(), &audit.Entry{Event: "signed", PendingID: fmt.Sprintf("%024x", i), Chain: chain, Result: "signed",
			SignatureIDs: []string{fmt.Sprint("w", i%2)}, Destinations: []audit.Dest{{Address: "tb1qdest", Amount: "1000"}}}, true); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
	code, out, errOut := runTx(t, nil, "audit", "verify", "--audit", path)
	if code != 0 || !strings.Contains(out, "4 entries, intact") {
		t.Fatalf("verify: %d %q %q", code, out, errOut)
	}
	code, out, _ = runTx(t, nil, "audit", "list", "--audit", path, "--chain", "eth", "--wallet", "w0")
	if code != 0 || strings.Count(out, `"pendingId"`) != 1 || !strings.Contains(out, fmt.Sprintf("%024x", 2)) {
		t.Fatalf("list: %d %s", code, out)
	}
	if code, _, errOut := runTx(t, nil, "audit", "list", "--audit", path, "--since", "yesterday"); code != 1 || !strings.Contains(errOut, "RFC 3339") {
		t.Fatalf("bad --since: %d %s", code, errOut)
	}
	orig, _ := os.ReadFile(path)
	ls := bytes.SplitAfter(orig, []byte("\n"))[:4]
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"edited", bytes.Replace(orig, []byte(`"amount":"1000"`), []byte(`"amount":"1001"`), 1), "line 1 (entry 1): edited"},
		{"removed", bytes.Join([][]byte{ls[0], ls[2], ls[3]}, nil), "entry 2 is missing: removed"},
		{"swapped", bytes.Join([][]byte{ls[0], ls[2], ls[1], ls[3]}, nil), "entries reordered"},
		{"cut", bytes.Join(ls[:3], nil), "entries 4 to 4 were removed from the end"},
	} {
		if err := os.WriteFile(path, c.data, 0o600); err != nil {
			t.Fatal(err)
		}
		code, _, errOut := runTx(t, nil, "audit", "verify", "--audit", path)
		if code != 1 || !strings.Contains(errOut, c.want) || !strings.Contains(errOut, "NOT intact") {
			t.Errorf("%s: exit %d, stderr %q, want %q", c.name, code, errOut, c.want)
		}
	}
}

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestDaemonPolicyAuditSIGKILL: the real binary drains pending BTC
// transactions with --policy and --audit and is killed with SIGKILL in the
// middle. The log verifies, and every transaction the stand-in saw
// broadcast has its "signed" entry with the same txid (fsynced before the
// broadcast). A restart drains the rest; no refused transaction is ever
// broadcast, and every decision is in the log.
func TestDaemonPolicyAuditSIGKILL(t *testing.T) {
	dir := t.TempDir()
	const password = "sigkill-test-password"
	storePath := filepath.Join(dir, "wallet.dat")
	st, err := file.Create(storePath, []byte(password), file.Options{KDF: &file.InsecureTestKDF})
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256([]byte("sigkill wallet"))
	k, _ := btcec.PrivKeyFromBytes(h[:])
	wif, _ := btcutil.NewWIF(k, &chaincfg.TestNet3Params, true)
	if err := st.Put(context.Background(), backend.Record{ID: "w", Kind: backend.PrivateKey, Chain: "BTC", Testnet: true, Secret: []byte(wif.String())}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	script := func(label string) (string, []byte) {
		hh := sha256.Sum256([]byte(label))
		a, _ := btcutil.NewAddressWitnessPubKeyHash(btcutil.Hash160(hh[:]), &chaincfg.TestNet3Params)
		s, _ := txscript.PayToAddrScript(a)
		return a.EncodeAddress(), s
	}
	a, _ := btcutil.NewAddressWitnessPubKeyHash(btcutil.Hash160(k.PubKey().SerializeCompressed()), &chaincfg.TestNet3Params)
	fromScript, _ := txscript.PayToAddrScript(a)
	good, goodScript := script("good")
	_, badScript := script("bad")
	pol := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(pol, []byte("version: 1\nchains:\n  BTC:\n    destinations: [\""+good+"\"]\n    maxAmount: 100000\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := tatumtest.New(tatumtest.Options{})
	t.Cleanup(srv.Close)
	var bmu sync.Mutex
	broadcastTxID := map[string]bool{}
	srv.SetBroadcaster("BTC", func(_ context.Context, txData string) (string, error) {
		raw, err := hex.DecodeString(txData)
		if err != nil {
			return "", err
		}
		var tx wire.MsgTx
		if err := tx.Deserialize(bytes.NewReader(raw)); err != nil {
			return "", err
		}
		// The bytes reached the node: from here on they are out.
		bmu.Lock()
		broadcastTxID[tx.TxHash().String()] = true
		bmu.Unlock()
		time.Sleep(2 * time.Millisecond) // a node takes a moment: leaves room for the kill
		return tx.TxHash().String(), nil
	})
	const n = 200
	var ids, refusedIDs []string
	for i := 0; i < n; i++ {
		hh := sha256.Sum256([]byte(fmt.Sprint("sigkill prev ", i)))
		to := goodScript
		if i%10 == 9 {
			to = badScript
		}
		s, err := utxotest.BitcoreJSON([]utxotest.Input{{TxID: hex.EncodeToString(hh[:]), Script: fromScript, Satoshis: 100000}},
			[]utxotest.Output{{Script: to, Satoshis: 90000}, {Script: fromScript, Satoshis: 9000}}, 0)
		if err != nil {
			t.Fatal(err)
		}
		id := srv.Enqueue(tatum.PendingTransaction{Chain: "BTC", SerializedTransaction: s, Hashes: []string{"w"}})
		if i%10 == 9 {
			refusedIDs = append(refusedIDs, id)
		} else {
			ids = append(ids, id)
		}
	}
	auditPath := filepath.Join(dir, "audit.log")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	start := func(logs *lockedBuf) *exec.Cmd {
		cmd := &exec.Cmd{Path: exe, Args: []string{"gokms", "daemon", "--testnet", "--chain", "BTC", "--period", "0.1", "--concurrency", "4",
			"--path", storePath, "--policy", pol, "--audit", auditPath, "--instance", "sigkill-test"}, Dir: dir,
			Env: []string{"HOME=" + dir, "PATH=" + os.Getenv("PATH"), "TATUM_API_URL=" + srv.URL, "TATUM_API_KEY=" + srv.APIKey, "TATUM_KMS_PASSWORD=" + password}}
		cmd.Stdout, cmd.Stderr = logs, logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	completed := func() int {
		c := 0
		for _, id := range ids {
			if _, ok := srv.Completed(id); ok {
				c++
			}
		}
		return c
	}
	var logs1 lockedBuf
	cmd := start(&logs1)
	deadline := time.Now().Add(60 * time.Second)
	for completed() < 30 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("the daemon did not drain:\n%s", logs1.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	done := completed()
	if done == len(ids) {
		t.Fatalf("the kill came after the drain; no crash was tested")
	}
	r, err := audit.Verify(auditPath)
	if err != nil || !r.OK() {
		t.Fatalf("after SIGKILL: verify %+v %v", r, err)
	}
	signedTxID := map[string]bool{} // txids of the signed entries
	es, err := audit.List(auditPath, audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if e.Event == "signed" {
			signedTxID[e.TxID] = true
		}
	}
	// Every transaction that reached the node has its signed entry. (The
	// stand-in counts a broadcast request before the node sees its bytes,
	// and a request the kill cut short may never get there: the node's
	// side is what counts.)
	bmu.Lock()
	if len(broadcastTxID) == 0 {
		t.Fatal("nothing reached the node before the kill")
	}
	for txid := range broadcastTxID {
		if !signedTxID[txid] {
			t.Errorf("transaction %s reached the node, but the audit log has no signed entry with its txid", txid)
		}
	}
	bmu.Unlock()
	t.Logf("killed after %d of %d completed; %d entries, torn tail %v", done, len(ids), r.Entries, r.Torn)

	// Restart: the rest is drained; the log continues and verifies.
	var logs2 lockedBuf
	cmd = start(&logs2)
	deadline = time.Now().Add(120 * time.Second)
	for completed() < len(ids) {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("the restarted daemon did not drain (%d of %d):\n%s", completed(), len(ids), logs2.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // a few more cycles over the refused ones
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, logs2.String())
	}
	for _, id := range ids {
		if b := srv.Broadcasts(id); b < 1 {
			t.Errorf("%s broadcast %d times", id, b)
		}
	}
	for _, id := range refusedIDs {
		if srv.Broadcasts(id) != 0 {
			t.Errorf("REFUSED %s WAS BROADCAST", id)
		}
	}
	code, out, errOut := runTx(t, nil, "audit", "verify", "--audit", auditPath)
	if code != 0 {
		t.Fatalf("audit verify after restart: %d %s %s", code, out, errOut)
	}
	es, _ = audit.List(auditPath, audit.Filter{})
	seen := map[string]map[string]bool{}
	for _, e := range es {
		if seen[e.PendingID] == nil {
			seen[e.PendingID] = map[string]bool{}
		}
		seen[e.PendingID][e.Event] = true
		seen[e.PendingID][e.Event+"/"+e.Rule] = true
		if strings.Contains(string(mustJSON(e)), wif.String()) {
			t.Fatal("a secret in the audit log")
		}
	}
	for _, id := range ids {
		// Every broadcast is recorded: the signed entry (with the rule that
		// allowed it) and the broadcast or completion. (One that Tatum
		// completed just before the kill is completed in the journal by a
		// later reconcile, which may come after this test stops.)
		// The first may be the resent entry instead: a transaction
		// journaled just before the kill, whose signed entry (fsynced
		// alongside the journal) was not durable yet, so it was not
		// broadcast (checked above); the restarted daemon records the
		// resend before its first broadcast.
		if !(seen[id]["signed/chains.BTC"] || seen[id]["resent"]) || !(seen[id]["completed"] || seen[id]["broadcast"]) {
			t.Errorf("%s: no completed entry: %v", id, seen[id])
		}
	}
	for _, id := range refusedIDs {
		if !seen[id]["decision/chains.BTC.destinations"] {
			t.Errorf("%s: no refusal entry naming chains.BTC.destinations: %v", id, seen[id])
		}
	}
	for _, l := range []string{logs1.String(), logs2.String()} {
		if strings.Contains(l, wif.String()) || strings.Contains(l, password) {
			t.Fatal("a secret in the daemon's log")
		}
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
