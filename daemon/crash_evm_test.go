package daemon_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/gokms/gokms/backend/file"
	"github.com/gokms/gokms/daemon/internal/crashtest"
	"github.com/gokms/gokms/daemon/journal"
	"github.com/gokms/gokms/tatum"
	"github.com/gokms/gokms/tatum/tatumtest"
)

const (
	crashSenders = 20
	crashPerAddr = 10
	crashValue   = 1000
)

// TestEVMCrashSafety: the real gokms daemon binary drains 200 pending ETH
// transfers (20 addresses of one mnemonic, 10 each, every one to its own
// recipient) on go-ethereum's simulated chain over HTTP, and is SIGKILLed at
// 10 random moments and restarted each time. Every pending id must be paid
// exactly once (each recipient holds exactly one payment), every one
// completes, every sender's nonces are used without a gap, and the journal
// opens after every kill.
func TestEVMCrashSafety(t *testing.T) {
	w := newEVMWorld(t, crashSenders)
	dir := t.TempDir()
	password := "crash-" + hex.EncodeToString([]byte(t.Name()))[:12]
	storePath := filepath.Join(dir, "wallet.dat")
	st, err := file.Create(storePath, []byte(password), file.Options{KDF: &file.InsecureTestKDF})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := w.store.Get(context.Background(), "evm-mn")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Put(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	_ = st.Close()
	bin := filepath.Join(dir, "gokms")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/gokms/gokms/cmd/gokms").CombinedOutput(); err != nil {
		t.Fatalf("go build gokms: %v\n%s", err, out)
	}

	type payment struct {
		id string
		to common.Address
	}
	var pays []payment
	for i := 0; i < crashSenders; i++ {
		idx := uint32(i)
		for j := 0; j < crashPerAddr; j++ {
			h := sha256.Sum256([]byte(fmt.Sprintf("crash recipient %d %d", i, j)))
			to := common.BytesToAddress(h[:20])
			id := w.srv.Enqueue(tatum.PendingTransaction{Chain: "ETH", Hashes: []string{"evm-mn"}, Index: &idx,
				SerializedTransaction: fmt.Sprintf(`{"to":"%s","value":"%d"}`, to.Hex(), crashValue)})
			pays = append(pays, payment{id, to})
		}
	}
	// Slow the broadcasts (after the node took them, before the answer) so
	// the kills land during the drain, many of them in that window.
	w.srv.Inject(tatumtest.Fault{Path: "/v3/ethereum/broadcast", Delay: 40 * time.Millisecond, AfterHandling: true, Times: -1})
	jpath := journal.PathBeside(storePath)
	done := func() bool {
		for _, p := range pays {
			if _, ok := w.srv.Completed(p.id); !ok {
				return false
			}
		}
		return true
	}
	out, delays := crashtest.Run(t, crashtest.Options{
		Bin: bin, Dir: dir,
		Args: []string{"daemon", "--testnet", "--period", "0.1", "--chain", "ETH", "--path", storePath,
			"--evm-rpc", "ETH=" + w.chain.URL, "--concurrency", "2"},
		Env: []string{"HOME=" + dir, "PATH=" + os.Getenv("PATH"), "TATUM_API_URL=" + w.srv.URL,
			"TATUM_API_KEY=" + w.srv.APIKey, "TATUM_KMS_PASSWORD=" + password},
		MinDelay: 100 * time.Millisecond, MaxDelay: 800 * time.Millisecond,
		Done:    done,
		Secrets: []string{evmMnemonic, password},
		AfterKill: func(t *testing.T, kill int) {
			j, err := journal.OpenFile(jpath, journal.FileOptions{ReadOnly: true})
			if err != nil {
				t.Fatalf("journal does not open after kill %d: %v", kill, err)
			}
			es, err := j.List(context.Background(), false)
			_ = j.Close()
			if err != nil {
				t.Fatalf("journal unreadable after kill %d: %v", kill, err)
			}
			done := 0
			for _, p := range pays {
				if _, ok := w.srv.Completed(p.id); ok {
					done++
				}
			}
			t.Logf("kill %d: %d journal entries, %d of %d completed at Tatum", kill, len(es), done, len(pays))
		},
	})
	t.Logf("kill delays %v", delays)
	w.chain.Commit()
	for _, p := range pays {
		if got := w.chain.Balance(t, p.to); got.Int64() != crashValue {
			t.Errorf("pending %s: recipient %s holds %s wei, want exactly one payment of %d", p.id, p.to.Hex(), got, crashValue)
		}
	}
	for i := 0; i < crashSenders; i++ {
		n, err := w.chain.Client.NonceAt(context.Background(), evmAddr(w.mnKey(uint32(i))), nil)
		if err != nil || n != crashPerAddr {
			t.Errorf("sender %d: account nonce %d (%v), want %d", i, n, err, crashPerAddr)
		}
	}
	j, err := journal.OpenFile(jpath, journal.FileOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	open, _ := j.List(context.Background(), true)
	all, _ := j.List(context.Background(), false)
	t.Logf("journal: %d entries, %d not completed; %d broadcast requests for %d pending ids",
		len(all), len(open), w.srv.CountRequests("POST", "/v3/ethereum/broadcast"), len(pays))
	if t.Failed() {
		t.Logf("daemon output (tail):\n%s", out[max(0, len(out)-6000):])
	}
}
