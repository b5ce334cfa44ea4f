// Package crashtest runs the real gokms daemon binary and kills it with
// SIGKILL at random moments while it drains pending transactions, for the
// crash-safety tests of the EVM and BTC daemons.
package crashtest

import (
	"bytes"
	"math/rand/v2"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Options describe one crash run.
type Options struct {
	Bin  string   // the gokms binary
	Args []string // daemon arguments (no --runOnce)
	Env  []string
	Dir  string
	// Kills is how many times the daemon is SIGKILLed (default 10).
	Kills int
	// MinDelay and MaxDelay bound the random time a daemon lives before
	// it is killed (default 50 ms and 1.5 s).
	MinDelay, MaxDelay time.Duration
	// Seed makes the kill moments reproducible; 0 picks one (logged).
	Seed uint64
	// Done reports whether everything has been drained.
	Done func() bool
	// AfterKill runs after each kill, before the restart (open the
	// journal, look at the chain...).
	AfterKill func(t *testing.T, kill int)
	// Timeout bounds the final drain after the last kill (default 2 min).
	Timeout time.Duration
	// Secrets must never appear in the daemon's output.
	Secrets []string
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Run starts the daemon, kills it Kills times, then lets a last one drain
// until Done and stops it with SIGTERM. It returns the combined output of
// every run and the delays used.
func Run(t *testing.T, o Options) (string, []time.Duration) {
	t.Helper()
	if o.Kills == 0 {
		o.Kills = 10
	}
	if o.MinDelay == 0 {
		o.MinDelay = 50 * time.Millisecond
	}
	if o.MaxDelay == 0 {
		o.MaxDelay = 1500 * time.Millisecond
	}
	if o.Timeout == 0 {
		o.Timeout = 2 * time.Minute
	}
	if o.Seed == 0 {
		o.Seed = uint64(time.Now().UnixNano())
	}
	t.Logf("crash seed %d (set it in Options.Seed to replay these kill moments)", o.Seed)
	rng := rand.New(rand.NewPCG(o.Seed, 12))
	var out syncBuf
	start := func() (*exec.Cmd, chan error) {
		cmd := exec.Command(o.Bin, o.Args...)
		cmd.Dir, cmd.Env = o.Dir, o.Env
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		return cmd, exited
	}
	var delays []time.Duration
	for k := 0; k < o.Kills; k++ {
		d := o.MinDelay + time.Duration(rng.Int64N(int64(o.MaxDelay-o.MinDelay)))
		delays = append(delays, d)
		cmd, exited := start()
		select {
		case err := <-exited:
			t.Fatalf("daemon exited before kill %d: %v\n%s", k+1, err, out.String())
		case <-time.After(d):
		}
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-exited
		if o.AfterKill != nil {
			o.AfterKill(t, k+1)
		}
	}
	cmd, exited := start()
	started := time.Now()
	deadline := started.Add(o.Timeout)
	// Give the last daemon time to install its signal handler before the
	// SIGTERM below, even when the earlier ones drained everything.
	for !o.Done() || time.Since(started) < time.Second {
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("not drained %v after the last kill\n%s", o.Timeout, tail(out.String(), 8000))
		}
		select {
		case err := <-exited:
			t.Fatalf("daemon exited: %v\n%s", err, tail(out.String(), 8000))
		case <-time.After(100 * time.Millisecond):
		}
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, tail(out.String(), 8000))
		}
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		t.Fatal("daemon did not stop after SIGTERM")
	}
	s := out.String()
	for _, sec := range o.Secrets {
		if sec != "" && bytes.Contains([]byte(s), []byte(sec)) {
			t.Fatal("a secret appears in the daemon's output")
		}
	}
	return s, delays
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
