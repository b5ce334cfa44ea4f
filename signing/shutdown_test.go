package signing

import (
	"errors"
	"strings"
	"testing"
)

func TestShutDown(t *testing.T) {
	for _, c := range []string{"BNB", "bnb", " BNB "} {
		err := ShutDown(c)
		if !errors.Is(err, ErrChainShutDown) || !strings.Contains(err.Error(), "shut down in December 2024") {
			t.Errorf("%q: %v", c, err)
		}
	}
	for _, c := range []string{"BSC", "BTC", "XRP", ""} {
		if err := ShutDown(c); err != nil {
			t.Errorf("%q: %v", c, err)
		}
	}
}
