package daemon

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
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
//
// But while the CPUs are mostly idle (mixing, set by watchCPU), a slot
// that both a returning job and the dispatcher wait for goes to each in
// turn. There the slots wait on the API, not the CPU: a group commit
// releases its jobs all at once, served first they take every slot for
// their broadcasts and nothing is signed meanwhile, then every slot signs
// at once; in turn, signing goes on while the broadcasts wait. Served in
// turn while the CPUs are busy, the new jobs only lengthen the queue for
// the disk (docs/daemon.md has both cases' figures).
type slotSem struct {
	mu    sync.Mutex
	size  int
	free  int
	backs []chan struct{} // jobs waiting for their slot back, first come first served
	next  chan struct{}   // the dispatcher waiting for a slot, or nil
	// mixing: serve returning jobs and the dispatcher in turn; newTurn:
	// the dispatcher's turn is next.
	mixing  atomic.Bool
	newTurn bool
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
	case s.newTurn && s.next != nil && len(s.backs) > 0 && s.mixing.Load():
		s.newTurn = false
		s.next <- struct{}{}
		s.next = nil
	case len(s.backs) > 0:
		s.newTurn = true
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

// The slots are mixed (slotSem) once the share of the CPUs the process
// uses, averaged over the last 100 ms or so, falls under mixOn, and no
// longer once it rises over mixOff. Measured on 2 CPUs, 20 ms at a time:
// the CPU-bound drains use 65–100% of them, with single samples down to
// 46% (mixing always there cost EVM nosign 0.84 -> 0.73, complete 0.98 ->
// 0.90; mixing on single samples under 60%, EVM filled 0.94 -> 0.84); the
// drains whose API answers in 5 ms at --concurrency 8 use 25–70%, about 53%
// on average.
const (
	mixOn  = 0.6
	mixOff = 0.7
	// cpuWeight is a new sample's weight in the average.
	cpuWeight = 0.25
)

// cpuSampleEvery is how often watchCPU measures: twice the commit window.
const cpuSampleEvery = 20 * time.Millisecond

// mixer decides mixing from the CPU samples: an exponential average, with
// hysteresis so that it does not flip on every sample near the line.
type mixer struct {
	avg float64
	on  bool
}

func newMixer() *mixer { return &mixer{avg: 1} } // busy until measured

// sample takes one share of the CPUs and tells whether to mix.
func (m *mixer) sample(u float64) bool {
	m.avg += cpuWeight * (u - m.avg)
	switch {
	case m.on && m.avg > mixOff:
		m.on = false
	case !m.on && m.avg < mixOn:
		m.on = true
	}
	return m.on
}

// cpuGauge measures the share of the CPUs the process used since its last
// step.
type cpuGauge struct {
	cpu      func() (time.Duration, bool) // the process's CPU time so far
	now      func() time.Time
	capacity float64 // CPUs the process may use
	lastCPU  time.Duration
	lastWall time.Time
}

func newCPUGauge() (*cpuGauge, bool) {
	g := &cpuGauge{cpu: processCPU, now: time.Now, capacity: float64(min(runtime.NumCPU(), runtime.GOMAXPROCS(0)))}
	return g, g.start()
}

// start takes the first sample; false if the process's CPU time is not
// known here (then nothing is mixed).
func (g *cpuGauge) start() bool {
	c, ok := g.cpu()
	g.lastCPU, g.lastWall = c, g.now()
	return ok
}

// step returns the share of the CPUs used since the last step (1, busy,
// when it cannot tell: never a guess that mixes).
func (g *cpuGauge) step() float64 {
	c, ok := g.cpu()
	if !ok {
		return 1
	}
	w := g.now()
	used, wall := c-g.lastCPU, w.Sub(g.lastWall)
	g.lastCPU, g.lastWall = c, w
	if wall <= 0 || g.capacity <= 0 {
		return 1
	}
	return float64(used) / float64(wall) / g.capacity
}

// watchCPU mixes s's slots while the process leaves most of the CPUs idle
// (mixer), until the returned stop is called.
func (s *slotSem) watchCPU() (stop func()) {
	g, ok := newCPUGauge()
	if !ok {
		return func() {}
	}
	return s.watch(g, cpuSampleEvery)
}

func (s *slotSem) watch(g *cpuGauge, every time.Duration) (stop func()) {
	done := make(chan struct{})
	exited := make(chan struct{})
	m := newMixer()
	go func() {
		defer close(exited)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				s.mixing.Store(m.sample(g.step()))
			}
		}
	}()
	return func() {
		close(done)
		<-exited
	}
}
