package daemon

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gokms/gokms/daemon/journal"
)

// A node drops transactions more than its queue limit past a missing nonce
// (after accepting them); the journal's nonce source must never hand out a
// nonce MaxNoncesAhead or more past the node's pending one, and the refused
// reservation must not hold that nonce once the claim is released.
func TestNonceWindowBoundsNoncesAheadOfPending(t *testing.T) {
	ctx := context.Background()
	j := journal.NewMemory()
	const pending = 100
	claim := func(id string) journal.Lease {
		l, _, err := j.Claim(ctx, id, "d1", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	var first journal.Lease
	for i := 0; i < MaxNoncesAhead; i++ {
		l := claim(fmt.Sprintf("id%03d", i))
		if i == 0 {
			first = l
		}
		n, err := nonceSource{j, l}.Nonce(ctx, "ETH", true, "0xabc", pending)
		if err != nil || n != pending+uint64(i) {
			t.Fatalf("claim %d: nonce %d, %v; want %d", i, n, err, pending+i)
		}
	}
	// Nonce 100 stalls (its claim holds it, nothing reached the node): the
	// next id would sign nonce 164, which a geth node would drop.
	over := claim("over")
	n, err := nonceSource{j, over}.Nonce(ctx, "ETH", true, "0xabc", pending)
	if !errors.Is(err, ErrNonceWindow) {
		t.Fatalf("nonce %d, %v; want ErrNonceWindow", n, err)
	}
	if err := j.Release(ctx, over); err != nil {
		t.Fatal(err)
	}
	// Once the stalled claim is gone (released, never recorded), its nonce
	// is the one handed out: no gap.
	if err := j.Release(ctx, first); err != nil {
		t.Fatal(err)
	}
	again := claim("over")
	if n, err := (nonceSource{j, again}).Nonce(ctx, "ETH", true, "0xabc", pending); err != nil || n != pending {
		t.Fatalf("after the stalled claim ended: nonce %d, %v; want %d", n, err, pending)
	}
}
