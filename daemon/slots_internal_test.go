package daemon

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// waitFor polls cond (under s.mu) until it holds; the test fails after a
// minute (a hang, not a timing assertion).
func waitFor(t *testing.T, s *slotSem, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Millisecond) {
		s.mu.Lock()
		ok := cond()
		s.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
	}
}

// A job coming back to its slot (its signed bytes journaled, the broadcast
// next) gets a freed slot before the dispatcher, even when the dispatcher
// was waiting first; returning jobs are served in their order; a slot
// nobody waits for is free again.
func TestSlotSemReturningJobsFirst(t *testing.T) {
	ctx := context.Background()
	s := newSlotSem(1)
	if !s.acquire(ctx) {
		t.Fatal("first acquire failed")
	}
	got := make(chan string, 3)
	go func() {
		if s.acquire(ctx) {
			got <- "new"
		}
	}()
	waitFor(t, s, "the dispatcher waits", func() bool { return s.next != nil })
	go func() { s.reacquire(); got <- "back1" }()
	waitFor(t, s, "a job waits to come back", func() bool { return len(s.backs) == 1 })
	go func() { s.reacquire(); got <- "back2" }()
	waitFor(t, s, "a second job waits to come back", func() bool { return len(s.backs) == 2 })
	for _, want := range []string{"back1", "back2", "new"} {
		s.release()
		if g := <-got; g != want {
			t.Fatalf("slot went to %s, want %s", g, want)
		}
	}
	s.release()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.free != 1 || s.next != nil || len(s.backs) != 0 {
		t.Fatalf("after all released: free %d, dispatcher waiting %v, %d jobs waiting", s.free, s.next != nil, len(s.backs))
	}
}

// A dispatcher whose context ends while it waits gets no slot and loses
// none: the next release frees it (or hands it to a returning job).
func TestSlotSemCancelledDispatcher(t *testing.T) {
	s := newSlotSem(1)
	if !s.acquire(context.Background()) {
		t.Fatal("first acquire failed")
	}
	ctx, cancel := context.WithCancel(context.Background())
	res := make(chan bool, 1)
	go func() { res <- s.acquire(ctx) }()
	waitFor(t, s, "the dispatcher waits", func() bool { return s.next != nil })
	cancel()
	if <-res {
		t.Fatal("acquire succeeded after its context ended")
	}
	s.release()
	s.mu.Lock()
	free := s.free
	s.mu.Unlock()
	if free != 1 {
		t.Fatalf("%d free slots after the release, want 1", free)
	}
	// The race: the slot is handed over just as the context ends; either
	// way exactly one slot exists afterwards.
	for range 200 {
		if !s.acquire(context.Background()) {
			t.Fatal("acquire failed")
		}
		ctx, cancel := context.WithCancel(context.Background())
		res := make(chan bool, 1)
		go func() { res <- s.acquire(ctx) }()
		waitFor(t, s, "the dispatcher waits", func() bool { return s.next != nil })
		go s.release()
		cancel()
		if <-res {
			s.release()
		}
		waitFor(t, s, "the one slot is free", func() bool { return s.free == 1 && s.next == nil })
	}
}

// A release that no acquire matched (a bug) does not add a slot: at most
// Concurrency jobs still run at once.
func TestSlotSemNoExtraSlot(t *testing.T) {
	s := newSlotSem(2)
	s.release()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.free != 2 {
		t.Fatalf("%d free slots of 2 after an unmatched release", s.free)
	}
}

// While mixing, a slot that a returning job and the dispatcher both wait
// for goes to each in turn (a returning job first); without, returning
// jobs first (TestSlotSemReturningJobsFirst).
func TestSlotSemMixing(t *testing.T) {
	ctx := context.Background()
	s := newSlotSem(1)
	s.mixing.Store(true)
	if !s.acquire(ctx) {
		t.Fatal("first acquire failed")
	}
	got := make(chan string, 4)
	dispatch := func() {
		go func() {
			if s.acquire(ctx) {
				got <- "new"
			}
		}()
		waitFor(t, s, "the dispatcher waits", func() bool { return s.next != nil })
	}
	dispatch()
	for i := 1; i <= 3; i++ {
		go func() { s.reacquire(); got <- fmt.Sprint("back", i) }()
		waitFor(t, s, "jobs wait to come back", func() bool { return len(s.backs) == i })
	}
	for n, want := range []string{"back1", "new", "back2", "new", "back3"} {
		if want == "new" && n > 1 {
			dispatch()
		}
		s.release()
		if g := <-got; g != want {
			t.Fatalf("release %d: slot went to %s, want %s", n+1, g, want)
		}
	}
}

// The gauge's share of the CPUs: CPU time over wall time over capacity.
func TestCPUGauge(t *testing.T) {
	var cpu time.Duration
	wall := time.Unix(1e9, 0)
	g := &cpuGauge{cpu: func() (time.Duration, bool) { return cpu, true }, now: func() time.Time { return wall }, capacity: 2}
	if !g.start() {
		t.Fatal("start: CPU time unknown")
	}
	for _, c := range []struct {
		cpu, wall time.Duration
		want      float64
	}{
		{50 * time.Millisecond, 100 * time.Millisecond, 0.25},
		{200 * time.Millisecond, 100 * time.Millisecond, 1},
		{0, 100 * time.Millisecond, 0},
		{10 * time.Millisecond, 0, 1}, // no time passed: counted busy, never mixes on a guess
	} {
		cpu += c.cpu
		wall = wall.Add(c.wall)
		if u := g.step(); u != c.want {
			t.Errorf("%v CPU in %v on 2 CPUs: share %v, want %v", c.cpu, c.wall, u, c.want)
		}
	}
}

// watch mixes the slots while the gauge reads under mixBelow, and stops
// mixing when it reads over.
func TestSlotSemWatch(t *testing.T) {
	var mu sync.Mutex
	var cpu time.Duration
	last := time.Now()
	share := 0.1 // of the 1 CPU, from now on
	g := &cpuGauge{capacity: 1, now: time.Now, cpu: func() (time.Duration, bool) {
		mu.Lock()
		defer mu.Unlock()
		now := time.Now()
		cpu += time.Duration(share * float64(now.Sub(last)))
		last = now
		return cpu, true
	}}
	g.start()
	s := newSlotSem(1)
	stop := s.watch(g, time.Millisecond)
	defer stop()
	waitFor(t, s, "mixing while the CPUs idle", func() bool { return s.mixing.Load() })
	mu.Lock()
	share = 0.9
	mu.Unlock()
	waitFor(t, s, "no mixing while the CPUs are busy", func() bool { return !s.mixing.Load() })
}

// The mixer mixes once the average share falls under mixOn, not on one
// low sample of a busy process, stays on within the band and stops over
// mixOff.
func TestMixer(t *testing.T) {
	m := newMixer()
	for i, u := range []float64{0.9, 0.95, 0.46, 0.9, 0.5} { // a CPU-bound drain's dips
		if m.sample(u) {
			t.Fatalf("sample %d (%v): mixing on a busy process's dip (average %.2f)", i, u, m.avg)
		}
	}
	n := 0
	for !m.sample(0.5) { // a drain waiting on its API
		if n++; n > 20 {
			t.Fatalf("never mixing at 50%% (average %.2f)", m.avg)
		}
	}
	if n < 2 {
		t.Errorf("mixing after %d samples at 50%%: want an average, not one sample", n+1)
	}
	for i := 0; i < 20; i++ {
		if !m.sample(0.65) {
			t.Fatalf("stopped mixing within the band (average %.2f)", m.avg)
		}
	}
	n = 0
	for m.sample(1) {
		if n++; n > 20 {
			t.Fatalf("still mixing at 100%% (average %.2f)", m.avg)
		}
	}
}
