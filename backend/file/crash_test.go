package file

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gokms/gokms/backend"
)

// ackReader collects the lines a helper prints; each is an acknowledgement.
type ackReader struct {
	mu    sync.Mutex
	lines []string
	n     chan int // count after each line
	done  chan struct{}
}

func readAcks(r io.Reader) *ackReader {
	a := &ackReader{n: make(chan int, 1<<16), done: make(chan struct{})}
	go func() {
		defer close(a.done)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			a.mu.Lock()
			a.lines = append(a.lines, sc.Text())
			n := len(a.lines)
			a.mu.Unlock()
			a.n <- n
		}
	}()
	return a
}

// killAfter waits until the helper acknowledged k items, sleeps d, and
// SIGKILLs it. It returns every line acknowledged before the kill. It may run
// on any goroutine, so it reports problems as errors.
func killAfter(t *testing.T, mode string, args helperArgs, k int, d time.Duration) (acked []string, killed bool, err error) {
	cmd := helperCmd(t, mode, args)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, false, err
	}
	if err := cmd.Start(); err != nil {
		return nil, false, err
	}
	a := readAcks(out)
	for reached := k == 0; !reached; {
		select {
		case n := <-a.n:
			reached = n >= k
		case <-a.done:
			reached = true
		}
	}
	time.Sleep(d)
	cmd.Process.Kill()
	<-a.done // the pipe drains: lines written before the kill are acknowledged
	werr := cmd.Wait()
	switch {
	case werr != nil && strings.Contains(werr.Error(), "killed"):
		return a.lines, true, nil
	case werr != nil:
		return nil, false, fmt.Errorf("helper failed: %w", werr)
	}
	return a.lines, false, nil // it finished before the kill landed
}

// TestCrashDuringPut (issue #3 test a): 20 trials; in each a process stores
// up to 1,000 records (single Puts and batches of four, mnemonics and keys
// of several chains) and is SIGKILLed at a random moment. Every record it
// acknowledged must then be readable, intact, and the store must open.
// Trials run in four lanes, each on its own store, to overlap fsyncs.
func TestCrashDuringPut(t *testing.T) {
	const trials, stores, lanes = 20, 1000, 4
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	var mu sync.Mutex
	total, kills := 0, 0
	var wg sync.WaitGroup
	for lane := 0; lane < lanes; lane++ {
		path := storeWith(t, t.TempDir(), 0)
		wg.Add(1)
		go func(lane int) {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(seed, uint64(lane)))
			for trial := lane; trial < trials; trial += lanes {
				// Kill points spread over the whole run, some right at the start.
				k := rnd.IntN(stores)
				if trial < 2*lanes {
					k = trial / lanes
				}
				d := time.Duration(rnd.IntN(3000)) * time.Microsecond
				acked, killed, err := crashTrial(t, path, fmt.Sprintf("t%02d", trial), stores, k, d)
				if err != nil {
					t.Errorf("trial %d (kill after %d acks + %v): %v", trial, k, d, err)
					return
				}
				mu.Lock()
				total += acked
				if killed {
					kills++
				}
				mu.Unlock()
			}
		}(lane)
	}
	wg.Wait()
	t.Logf("%d trials, %d killed mid-run, %d acknowledged stores verified", trials, kills, total)
	if !t.Failed() && kills < trials/2 {
		t.Fatalf("only %d of %d helpers were killed while storing", kills, trials)
	}
}

func crashTrial(t *testing.T, path, prefix string, stores, k int, d time.Duration) (int, bool, error) {
	acked, killed, err := killAfter(t, "put-loop", helperArgs{Path: path, Password: string(testPassword), Prefix: prefix, Count: stores}, k, d)
	if err != nil {
		return 0, false, err
	}
	s, err := Open(path, testPassword, testOptions())
	if err != nil {
		return 0, killed, fmt.Errorf("store does not open: %w", err)
	}
	defer s.Close()
	ctx := context.Background()
	for _, id := range acked {
		r, err := s.Get(ctx, id)
		if err != nil {
			return 0, killed, fmt.Errorf("acknowledged record %s lost: %w", id, err)
		}
		if !sameAsExpected(r) {
			return 0, killed, fmt.Errorf("acknowledged record %s damaged", id)
		}
	}
	// Whatever else is there (an unacknowledged last store that made it
	// to disk) is whole too.
	l, err := s.List(ctx)
	if err != nil {
		return 0, killed, fmt.Errorf("List: %w", err)
	}
	mine := 0
	for _, m := range l {
		if !strings.HasPrefix(m.ID, prefix+"-") {
			continue
		}
		mine++
		if r, err := s.Get(ctx, m.ID); err != nil || !sameAsExpected(r) {
			return 0, killed, fmt.Errorf("stored record %s unreadable or damaged: %v", m.ID, err)
		}
	}
	if mine < len(acked) || mine > len(acked)+4 {
		return 0, killed, fmt.Errorf("%d records on disk, %d acknowledged", mine, len(acked))
	}
	return len(acked), killed, nil
}

// TestCrashDuringChangePassword: a process changes the password back and
// forth on a store of 200 records and is SIGKILLed at a random moment; the
// store then opens with exactly one of the two passwords (the last
// acknowledged one, or the next if its rename landed) and holds every record.
func TestCrashDuringChangePassword(t *testing.T) {
	const trials, records = 10, 200
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rnd := rand.New(rand.NewPCG(seed, 2))
	dir := t.TempDir()
	path := storeWith(t, dir, records)
	pws := []string{string(testPassword), "the other password"}
	cur := 0 // index of the password the store has now
	for trial := 0; trial < trials; trial++ {
		// Rotate pws so that the helper starts from the current password.
		order := []string{pws[cur], pws[1-cur]}
		k := rnd.IntN(8)
		d := time.Duration(rnd.IntN(8000)) * time.Microsecond
		acked, _, err := killAfter(t, "rekey-loop", helperArgs{Path: path, Passwords: order, Count: 1000}, k, d)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		if len(acked) > 0 {
			n, _ = strconv.Atoi(acked[len(acked)-1])
		}
		ackedPW := order[n%2]
		var opened []string
		var s *Store
		for _, pw := range pws {
			st, err := Open(path, []byte(pw), testOptions())
			if err == nil {
				opened = append(opened, pw)
				s = st
			} else if !errors.Is(err, backend.ErrBadPassword) {
				t.Fatalf("trial %d: open after kill: %v", trial, err)
			}
		}
		if len(opened) != 1 {
			t.Fatalf("trial %d: store opens with %d of the two passwords", trial, len(opened))
		}
		if opened[0] != ackedPW && opened[0] != order[(n+1)%2] {
			t.Fatalf("trial %d: impossible password state", trial)
		}
		if opened[0] == pws[1] {
			cur = 1
		} else {
			cur = 0
		}
		l, err := s.List(context.Background())
		if err != nil || len(l) != records {
			t.Fatalf("trial %d: List = %d records, %v", trial, len(l), err)
		}
		for _, m := range l {
			if r, err := s.Get(context.Background(), m.ID); err != nil || !sameAsExpected(r) {
				t.Fatalf("trial %d: record %s after interrupted change: %v", trial, m.ID, err)
			}
		}
		s.Close()
	}
	// Temporary files of interrupted changes are cleaned by the next one.
	s, err := Open(path, []byte(pws[cur]), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.ChangePassword([]byte(pws[1-cur]), nil); err != nil {
		t.Fatal(err)
	}
	if names := dirNames(t, dir); len(names) != 1 {
		t.Fatalf("left behind: %v", names)
	}
}

// TestConcurrentProcesses (issue #3 test b, at package level): four
// processes store 250 records each into one store at the same time while a
// fifth reads; nothing is lost, and a Store opened before they started sees
// all 1,000 without reopening.
func TestConcurrentProcesses(t *testing.T) {
	const procs, each = 4, 250
	dir := t.TempDir()
	path := storeWith(t, dir, 0)
	watcher, err := Open(path, testPassword, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer watcher.Close()

	reader := helperCmd(t, "read-loop", helperArgs{Path: path, Password: string(testPassword)})
	stop, _ := reader.StdinPipe()
	rout, _ := reader.StdoutPipe()
	if err := reader.Start(); err != nil {
		t.Fatal(err)
	}
	racks := readAcks(rout)

	var wg sync.WaitGroup
	acks := make([][]string, procs)
	errs := make([]error, procs)
	for p := 0; p < procs; p++ {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			cmd := helperCmd(t, "put-loop", helperArgs{Path: path, Password: string(testPassword), Prefix: fmt.Sprintf("p%d", p), Count: each})
			out, err := cmd.Output()
			errs[p] = err
			acks[p] = strings.Fields(string(out))
		}(p)
	}
	wg.Wait()
	stop.Close()
	<-racks.done
	if err := reader.Wait(); err != nil {
		t.Fatalf("reader: %v", err)
	}
	t.Logf("reader: %v", racks.lines)
	ctx := context.Background()
	for p := 0; p < procs; p++ {
		if errs[p] != nil {
			t.Fatalf("writer %d: %v", p, errs[p])
		}
		if len(acks[p]) != each {
			t.Fatalf("writer %d acknowledged %d stores", p, len(acks[p]))
		}
	}
	l, err := watcher.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(l) != procs*each {
		t.Fatalf("store holds %d records, want %d", len(l), procs*each)
	}
	for _, m := range l {
		if r, err := watcher.Get(ctx, m.ID); err != nil || !sameAsExpected(r) {
			t.Fatalf("record %s: %v", m.ID, err)
		}
	}
	if names := dirNames(t, dir); len(names) != 1 || names[0] != filepath.Base(path) {
		t.Fatalf("directory holds %v", names)
	}
	_ = os.Remove
}

// TestPutsDuringChangePassword: while another process changes the password
// over and over (replacing the file each time), this one keeps storing. A
// Put either lands in the store that survives or fails with "password was
// changed"; an acknowledged record is never left behind in a replaced file.
func TestPutsDuringChangePassword(t *testing.T) {
	dir := t.TempDir()
	path := storeWith(t, dir, 50)
	pws := []string{string(testPassword), "the other password"}
	const changes = 40
	cmd := helperCmd(t, "rekey-loop", helperArgs{Path: path, Passwords: pws, Count: changes, Pause: 5 * time.Millisecond})
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acks := readAcks(out)
	ctx := context.Background()
	var stored []string
	stale, i := 0, 0
	for running := true; running; {
		select {
		case <-acks.done:
			running = false
		default:
		}
		var s *Store
		for _, pw := range pws {
			if st, err := Open(path, []byte(pw), testOptions()); err == nil {
				s = st
				break
			}
		}
		if s == nil {
			continue // the password changed between the two attempts
		}
		for {
			select {
			case <-acks.done:
				running = false
			default:
			}
			if !running {
				break
			}
			id := fmt.Sprintf("during-%d", i)
			err := s.Put(ctx, expectedRecord(id))
			if err != nil {
				if !errors.Is(err, backend.ErrBadPassword) {
					t.Fatalf("Put during changepassword: %v", err)
				}
				stale++
				break
			}
			stored = append(stored, id)
			i++
			// A pause, or this tight loop would keep the file lock busy
			// and the other process (polling for it) would wait long.
			time.Sleep(time.Millisecond)
		}
		s.Close()
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path, []byte(pws[changes%2]), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, id := range stored {
		if r, err := s.Get(ctx, id); err != nil || !sameAsExpected(r) {
			t.Fatalf("acknowledged %s lost across a password change: %v", id, err)
		}
	}
	l, _ := s.List(ctx)
	t.Logf("%d password changes, %d stores acknowledged meanwhile, %d refused as stale; %d records", changes, len(stored), stale, len(l))
	if len(l) != 50+len(stored) {
		t.Fatalf("store holds %d records, want %d", len(l), 50+len(stored))
	}
}
