package daemon

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gokms/gokms/daemon/journal"
	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/tatum"
)

// Config.NonceWindow sets the window (default MaxNoncesAhead): with 3,
// the fourth nonce ahead of the node's pending one is refused; a negative
// window is a configuration error.
func TestNonceWindowConfigurable(t *testing.T) {
	ctx := context.Background()
	j := journal.NewMemory()
	ns := func(id string, window uint64) (uint64, error) {
		l, _, err := j.Claim(ctx, id, "d1", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return windowNonces{nonceSource{j, l}, window}.Nonce(ctx, "ETH", true, "0xabc", 10)
	}
	for i := 0; i < 3; i++ {
		if n, err := ns(fmt.Sprint("id", i), 3); err != nil || n != 10+uint64(i) {
			t.Fatalf("nonce %d: %d %v", i, n, err)
		}
	}
	if n, err := ns("id3", 3); !errors.Is(err, ErrNonceWindow) {
		t.Fatalf("fourth nonce ahead with window 3: %d %v, want ErrNonceWindow", n, err)
	}
	// (id3's refused reservation of 13 lives until its claim is released.)
	if n, err := ns("id4", 64); err != nil || n != 14 {
		t.Fatalf("window 64: %d %v, want 14", n, err)
	}
	cfg := Config{Keys: (*signing.Resolver)(nil), API: (*tatum.Client)(nil), Testnet: true, NonceWindow: -1}
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "nonce window -1") {
		t.Fatalf("a negative nonce window: %v", err)
	}
}
