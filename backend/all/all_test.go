package all

import (
	"context"
	"strings"
	"testing"

	"github.com/gokms/gokms/backend"
)

func TestRegistry(t *testing.T) {
	r := Registry()
	if got := strings.Join(r.Schemes(), ","); got != "azure,file,memory,vault,vault+http,vgs" {
		t.Fatalf("schemes %s", got)
	}
	for addr, local := range map[string]bool{"/tmp/w.dat": true, "file:///tmp/w.dat": true, "memory://": true,
		"vault://h:8200/secret": false, "vault+http://h": false, "azure://v.vault.azure.net": false, "vgs://h": false} {
		d, _, err := r.Lookup(addr)
		if err != nil || d.Local != local {
			t.Errorf("%s: local %v, %v; want %v", addr, d.Local, err, local)
		}
	}
	if _, err := r.Open(context.Background(), "s3://bucket", backend.OpenConfig{}); err == nil ||
		!strings.Contains(err.Error(), "unknown backend scheme \"s3\"") || !strings.Contains(err.Error(), "vault+http") {
		t.Fatalf("unknown scheme: %v", err)
	}
	if _, err := backend.NewRegistry(append(Drivers(), Drivers()[0])...); err == nil {
		t.Fatal("a scheme served twice was accepted")
	}
}
