package signing_test

import (
	"strings"
	"testing"

	"github.com/gokms/gokms/signing/algo"
	"github.com/gokms/gokms/signing/egld"
	"github.com/gokms/gokms/signing/evm"
	"github.com/gokms/gokms/signing/sol"
	"github.com/gokms/gokms/signing/vet"
)

// TestPendingJSONHasNothingAfterIt: every signer reading a JSON
// serializedTransaction refuses one followed by anything, a stray "}" or
// "]" included, as JSON.parse (tatum-kms) does. (encoding/json's
// Decoder.More, which they checked with before, let "{...}}" through.)
func TestPendingJSONHasNothingAfterIt(t *testing.T) {
	decoders := map[string]func(string) error{
		"VET":  func(s string) error { _, err := vet.Decode(s, nil); return err },
		"ALGO": func(s string) error { _, err := algo.Decode(s); return err },
		"EGLD": func(s string) error { _, err := egld.Decode(s); return err },
		"ETH":  func(s string) error { _, err := evm.Decode("ETH", true, s, ""); return err },
	}
	for chain, decode := range decoders {
		for _, s := range []string{`{}}`, `{}]`, `{} x`, `{}{}`} {
			if err := decode(s); err == nil || !strings.Contains(err.Error(), "data after the JSON object") {
				t.Errorf("%s %q: %v, want data after the JSON object", chain, s, err)
			}
		}
	}
	for _, s := range []string{`{"txData":"00"}}`, `{"txData":"00"}]`} {
		if _, err := sol.DecodeView("SOL", true, s, ""); err == nil || !strings.Contains(err.Error(), "serializedTransaction is not") {
			t.Errorf("SOL %q: %v", s, err)
		}
	}
}
