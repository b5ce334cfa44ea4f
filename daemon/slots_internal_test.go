package daemon

import (
	"context"
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
