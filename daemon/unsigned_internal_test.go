package daemon

import (
	"fmt"
	"testing"

	"github.com/gokms/gokms/tatum"
)

// The already-reported set is bounded: the oldest ids are forgotten first.
func TestReportedSetBounded(t *testing.T) {
	d := &Daemon{m: NewMetrics()}
	var rs []unsignedReport
	for i := range maxReportedUnsigned + 5 {
		rs = append(rs, unsignedReport{tatum.ErrorReport{SignatureID: fmt.Sprintf("%024x", i)}, "XRP"})
	}
	d.markReported(rs)
	if n := len(d.unsigned.reported); n != maxReportedUnsigned || len(d.unsigned.order) != n {
		t.Fatalf("remembered %d ids (order %d), want %d", n, len(d.unsigned.order), maxReportedUnsigned)
	}
	if d.unsigned.reported[fmt.Sprintf("%024x", 0)] || !d.unsigned.reported[fmt.Sprintf("%024x", maxReportedUnsigned+4)] {
		t.Error("not the oldest forgotten first")
	}
}
