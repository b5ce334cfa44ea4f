package evm

import (
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var nk = nonceKey{chainID: 11155111, addr: common.HexToAddress("0x2c7536E3605D9C16a7a3D7b1898e529396a65c23")}

// TestNonceSameCycle: the node still reports 5 for every transaction signed
// in one cycle (none broadcast yet); they must get 5, 6, 7.
func TestNonceSameCycle(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1e9, 0)}
	a := newNonceAllocator(time.Minute, clk.now)
	for want := uint64(5); want < 8; want++ {
		if got := a.next(nk, 5); got != want {
			t.Fatalf("got %d, want %d", got, want)
		}
	}
	// Another address and another chain are independent.
	if got := a.next(nonceKey{chainID: 1, addr: nk.addr}, 5); got != 5 {
		t.Fatalf("other chain: %d", got)
	}
	// The node catches up (all three broadcast) and moves past us.
	if got := a.next(nk, 8); got != 8 {
		t.Fatalf("after catch-up: %d", got)
	}
	if got := a.next(nk, 12); got != 12 {
		t.Fatalf("node ahead (transactions sent elsewhere): %d", got)
	}
}

// TestNonceConcurrent: many goroutines, one address, stale node value:
// every nonce is handed out exactly once and they are consecutive.
func TestNonceConcurrent(t *testing.T) {
	a := newNonceAllocator(time.Minute, nil)
	const n = 200
	got := make(chan uint64, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); got <- a.next(nk, 10) }()
	}
	wg.Wait()
	close(got)
	seen := map[uint64]bool{}
	for v := range got {
		if seen[v] {
			t.Fatalf("nonce %d handed out twice", v)
		}
		seen[v] = true
	}
	for v := uint64(10); v < 10+n; v++ {
		if !seen[v] {
			t.Fatalf("nonce %d missing", v)
		}
	}
}

// TestNonceGapHeals: nonce 5 was signed but never broadcast; 6 and 7 wait
// in the node's queue and its pending nonce stays 5. Once it has not moved
// for the stall window, the allocator hands out 5 again, filling the gap.
func TestNonceGapHeals(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1e9, 0)}
	a := newNonceAllocator(time.Minute, clk.now)
	for want := uint64(5); want < 8; want++ {
		if got := a.next(nk, 5); got != want {
			t.Fatalf("got %d want %d", got, want)
		}
	}
	clk.add(30 * time.Second)
	if got := a.next(nk, 5); got != 8 {
		t.Fatalf("within the window: %d, want 8", got)
	}
	clk.add(31 * time.Second) // 61s without the node moving
	if got := a.next(nk, 5); got != 5 {
		t.Fatalf("after the window: %d, want 5 (refill the gap)", got)
	}
	if got := a.next(nk, 5); got != 6 {
		t.Fatalf("then: %d, want 6", got)
	}
	// The node moving resets the window.
	clk.add(59 * time.Second)
	if got := a.next(nk, 6); got != 7 {
		t.Fatalf("progress: %d, want 7", got)
	}
	clk.add(59 * time.Second)
	if got := a.next(nk, 6); got != 8 {
		t.Fatalf("still within the window since progress: %d, want 8", got)
	}
}

// TestNonceClaimed: a transaction that brought its own nonce keeps filled
// ones from reusing it.
func TestNonceClaimed(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1e9, 0)}
	a := newNonceAllocator(time.Minute, clk.now)
	a.claim(nk, 5)
	a.claim(nk, 7)
	for _, want := range []uint64{6, 8, 9} {
		if got := a.next(nk, 5); got != want {
			t.Fatalf("got %d, want %d", got, want)
		}
	}
	// Claims expire with the window (a claimed nonce never broadcast must
	// not be skipped forever).
	b := newNonceAllocator(time.Minute, clk.now)
	b.claim(nk, 3)
	clk.add(2 * time.Minute)
	if got := b.next(nk, 3); got != 3 {
		t.Fatalf("expired claim: %d, want 3", got)
	}
}
