package evm

import (
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// nonceAllocator hands out nonces for transactions signed concurrently from
// one address. The node's pending nonce does not move until a signed
// transaction is broadcast, so two transactions signed in the same cycle
// would both get it; the allocator remembers what it handed out and gives
// max(node's pending nonce, last handed out + 1).
//
// A transaction that was signed but never broadcast leaves a gap that the
// node will not fill: every later nonce waits in its queue, and the node's
// pending nonce stops moving. When it has not moved for the stall window
// while we are ahead of it, the allocator believes the node again and hands
// out its pending nonce, which fills the gap and releases the queue.
type nonceAllocator struct {
	stall time.Duration
	now   func() time.Time

	mu    sync.Mutex
	state map[nonceKey]*nonceState
}

type nonceKey struct {
	chainID uint64
	addr    common.Address
}

type nonceState struct {
	mu       sync.Mutex
	active   bool      // next is meaningful
	next     uint64    // lowest nonce not handed out yet
	seen     uint64    // highest pending nonce the node reported
	progress time.Time // when seen last moved (or the state began)
	claimed  map[uint64]time.Time
}

func newNonceAllocator(stall time.Duration, now func() time.Time) *nonceAllocator {
	if now == nil {
		now = time.Now
	}
	return &nonceAllocator{stall: stall, now: now, state: map[nonceKey]*nonceState{}}
}

func (a *nonceAllocator) get(k nonceKey) *nonceState {
	a.mu.Lock()
	defer a.mu.Unlock()
	st := a.state[k]
	if st == nil {
		st = &nonceState{claimed: map[uint64]time.Time{}}
		a.state[k] = st
	}
	return st
}

// next returns the nonce to sign with, given the node's pending nonce for
// the address (fetched by the caller just before; fetching outside the lock
// keeps signers of one address from waiting on each other's RPC calls, and
// is safe because the result is combined with the state under the lock).
func (a *nonceAllocator) next(k nonceKey, pending uint64) uint64 {
	st := a.get(k)
	st.mu.Lock()
	defer st.mu.Unlock()
	now := a.now()
	if !st.active || pending > st.seen {
		st.seen, st.progress = pending, now
	}
	if st.active && st.next > pending && now.Sub(st.progress) >= a.stall {
		// Ahead of a node that has not moved for the whole window: what we
		// handed out beyond its pending nonce was most likely never
		// broadcast. Start again from the node's view.
		st.active = false
		st.progress = now
	}
	n := pending
	if st.active && st.next > n {
		n = st.next
	}
	for {
		t, ok := st.claimed[n]
		if !ok || now.Sub(t) >= a.stall {
			break
		}
		n++
	}
	for c, t := range st.claimed {
		if c < pending || now.Sub(t) >= a.stall {
			delete(st.claimed, c)
		}
	}
	st.active, st.next = true, n+1
	return n
}

// claim records a nonce a transaction brought with it, so that filled
// nonces of other transactions from the address skip it.
func (a *nonceAllocator) claim(k nonceKey, n uint64) {
	st := a.get(k)
	st.mu.Lock()
	defer st.mu.Unlock()
	st.claimed[n] = a.now()
}

// claimed reports whether a transaction brought nonce n with it within the
// stall window.
func (a *nonceAllocator) claimed(k nonceKey, n uint64) bool {
	st := a.get(k)
	st.mu.Lock()
	defer st.mu.Unlock()
	t, ok := st.claimed[n]
	return ok && a.now().Sub(t) < a.stall
}
