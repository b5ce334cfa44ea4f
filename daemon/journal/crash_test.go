package journal_test

import (
	"bufio"
	"context"
	"fmt"
	"math/big"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gokms/gokms/daemon/journal"
)

// crashChildEnv names the journal file a child process of
// TestFileGroupCommitSurvivesKill writes to.
const crashChildEnv = "GOKMS_JOURNAL_CRASH_CHILD"

var crashKey = journal.NonceKey{Chain: "ETH", Testnet: true, Sender: "0x00000000000000000000000000000000000000cc"}

func crashSigned(id string) string { return "02f8" + id + strings.Repeat("ee", 200) }

// TestFileGroupCommitSurvivesKill: a child process drives the file journal
// as the daemon does, from 16 workers at once (so that writes share group
// commits), and prints each id once its Record returned and each counter
// once its Add returned; it is SIGKILLed at a random moment, 4 times, on
// the same file. After every kill the journal must open and hold every
// printed entry with its exact signed bytes and nonce, no nonce twice,
// every printed counter and every AddLater queued before a printed Record,
// and never hand out a recorded nonce again.
// (A SIGKILL keeps the page cache: this proves that a write is in the
// file before its writer is released; that the file is on the disk
// then rests on the bbolt commit, fsync'd, that releases the group.)
func TestFileGroupCommitSurvivesKill(t *testing.T) {
	if path := os.Getenv(crashChildEnv); path != "" {
		crashChild(path, os.Getenv(crashChildEnv+"_ROUND"))
		return
	}
	path := filepath.Join(t.TempDir(), "journal.db")
	recorded := map[string]uint64{} // id -> nonce, from every round
	added := 0
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	for round := range 4 {
		cmd := exec.Command(os.Args[0], "-test.run", "^TestFileGroupCommitSurvivesKill$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+path, crashChildEnv+"_ROUND="+strconv.Itoa(round))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill after a random number of recorded entries (so that the kill
		// falls in the middle of busy group commits).
		killAt := 200 + rng.IntN(800)
		sc := bufio.NewScanner(out)
		n := 0
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			switch {
			case len(f) == 3 && f[0] == "R":
				nonce, err := strconv.ParseUint(f[2], 10, 64)
				if err != nil {
					t.Fatalf("child line %q", sc.Text())
				}
				recorded[f[1]] = nonce
				n++
			case len(f) == 2 && f[0] == "A":
				added++
			default:
				t.Fatalf("child line %q", sc.Text())
			}
			if n == killAt {
				_ = cmd.Process.Signal(syscall.SIGKILL)
				break
			}
		}
		_ = cmd.Wait()
		if n < killAt {
			t.Fatalf("round %d: child stopped after %d records, before the kill", round, n)
		}

		j, err := journal.OpenFile(path, journal.FileOptions{})
		if err != nil {
			t.Fatalf("round %d: journal does not open after SIGKILL: %v", round, err)
		}
		ctx := context.Background()
		nonces := map[uint64]string{}
		all, err := j.List(ctx, false)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range all {
			if e.Nonce == nil {
				t.Fatalf("entry %s without its nonce", e.ID)
			}
			if other, dup := nonces[*e.Nonce]; dup {
				t.Fatalf("nonce %d journaled for %s and %s", *e.Nonce, other, e.ID)
			}
			nonces[*e.Nonce] = e.ID
		}
		for id, nonce := range recorded {
			e, err := j.Get(ctx, id)
			if err != nil {
				t.Fatalf("round %d: entry %s was recorded (Record returned) but is gone after SIGKILL: %v", round, id, err)
			}
			if e.SignedTx != crashSigned(id) || e.Nonce == nil || *e.Nonce != nonce {
				t.Fatalf("round %d: entry %s after SIGKILL: %+v, want nonce %d", round, id, e, nonce)
			}
		}
		sum, err := j.SumSince(ctx, "crash", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if sum.Int64() < int64(added) {
			t.Fatalf("round %d: counter %s after SIGKILL, but %d adds returned", round, sum, added)
		}
		// Every add queued with AddLater before a Record that returned is
		// durable with it.
		later, err := j.SumSince(ctx, "crash-later", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if later.Int64() < int64(len(recorded)) {
			t.Fatalf("round %d: %s adds queued before a Record after SIGKILL, but %d Records returned", round, later, len(recorded))
		}
		// A recorded nonce is never handed out again.
		l, _, err := j.Claim(ctx, fmt.Sprintf("check-%d", round), "parent", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		next, err := j.ReserveNonce(ctx, l, crashKey, 0)
		if err != nil {
			t.Fatal(err)
		}
		if id, used := nonces[next]; used {
			t.Fatalf("round %d: nonce %d handed out again after SIGKILL (journaled for %s)", round, next, id)
		}
		if err := j.Release(ctx, l); err != nil {
			t.Fatal(err)
		}
		if err := j.Close(); err != nil {
			t.Fatal(err)
		}
		t.Logf("round %d: killed after %d records; %d entries, %d adds checked", round, n, len(recorded), added)
	}
}

// crashChild writes until it is killed.
func crashChild(path, round string) {
	j, err := journal.OpenFile(path, journal.FileOptions{LockTimeout: 5 * time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(2)
	}
	ctx := context.Background()
	var mu sync.Mutex
	say := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		// Unbuffered: a line printed is a line the parent gets.
		fmt.Fprintf(os.Stdout, format+"\n", args...)
	}
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				id := fmt.Sprintf("r%sw%02di%06d", round, w, i)
				l, _, err := j.Claim(ctx, id, "child", time.Minute)
				if err != nil {
					panic(err)
				}
				n, err := j.ReserveNonce(ctx, l, crashKey, 0)
				if err != nil {
					panic(err)
				}
				// As the policy does before the Record: durable with it.
				if err := j.AddLater(ctx, "crash-later", id, time.Now(), big.NewInt(1)); err != nil {
					panic(err)
				}
				e := journal.Entry{ID: id, Chain: "ETH", Testnet: true, SignedTx: crashSigned(id), TxID: "0x" + id, Sender: crashKey.Sender, Nonce: &n}
				if err := j.Record(ctx, l, e); err != nil {
					panic(err)
				}
				say("R %s %d", id, n)
				if err := j.Add(ctx, "crash", id, time.Now(), big.NewInt(1)); err != nil {
					panic(err)
				}
				say("A %s", id)
				if err := j.MarkBroadcast(ctx, l, "0x"+id); err != nil {
					panic(err)
				}
				if err := j.MarkCompleted(ctx, l, "0x"+id); err != nil {
					panic(err)
				}
				if err := j.Release(ctx, l); err != nil {
					panic(err)
				}
			}
		}()
	}
	wg.Wait()
}
