package daemon

import (
	"context"
	"sync"
)

// slotSem is a cycle's Concurrency slots. A job coming back to its slot
// (offSlot's back: its signed bytes are journaled, the broadcast is next)
// is served before the dispatcher starts another job. Otherwise the
// dispatcher takes every slot a journaling job gives up for a new claim,
// and the jobs coming back queue behind it: a daemon then holds claims on
// many more transactions than it works on (40-odd for 8 slots in the
// PostgreSQL drain benchmark), which the other daemons sharing the state
// cannot take, and the last daemon to start its cycle ends the drain alone
// working through its backlog. Served first, the journaled jobs go on
// (their broadcast) and a new claim waits for a slot nobody is waiting for.
type slotSem struct {
	mu    sync.Mutex
	size  int
	free  int
	backs []chan struct{} // jobs waiting for their slot back, first come first served
	next  chan struct{}   // the dispatcher waiting for a slot, or nil
}

func newSlotSem(n int) *slotSem { return &slotSem{size: n, free: n} }

// acquire takes a slot for a new job (the dispatcher: one caller at a
// time) once no returning job waits for one; false if ctx ended first.
func (s *slotSem) acquire(ctx context.Context) bool {
	s.mu.Lock()
	if s.free > 0 { // release hands a slot straight to a waiting job: none waits
		s.free--
		s.mu.Unlock()
		return true
	}
	ch := make(chan struct{}, 1)
	s.next = ch
	s.mu.Unlock()
	select {
	case <-ch:
		return true
	case <-ctx.Done():
		s.mu.Lock()
		if s.next == ch {
			s.next = nil
			s.mu.Unlock()
			return false
		}
		s.mu.Unlock()
		<-ch // handed over meanwhile: give it on
		s.release()
		return false
	}
}

// reacquire takes a slot back for a job that gave its own up (offSlot),
// before any new job.
func (s *slotSem) reacquire() {
	s.mu.Lock()
	if s.free > 0 {
		s.free--
		s.mu.Unlock()
		return
	}
	ch := make(chan struct{}, 1)
	s.backs = append(s.backs, ch)
	s.mu.Unlock()
	<-ch
}

// release gives a slot up: to the first returning job, else to the
// dispatcher, else back to the free ones (never more than there are: a
// release nobody's acquire matched cannot raise Concurrency).
func (s *slotSem) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case len(s.backs) > 0:
		ch := s.backs[0]
		s.backs[0] = nil
		s.backs = s.backs[1:]
		ch <- struct{}{}
	case s.next != nil:
		s.next <- struct{}{}
		s.next = nil
	case s.free < s.size:
		s.free++
	}
}
