package backendtest_test

import (
	"context"
	"flag"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/backend/backendtest"
	"github.com/gokms/gokms/backend/memory"
)

// The suite must be able to fail: each broken backend below breaks one rule
// the suite promises to check, and a run of the suite against it must fail.
// The runs happen in a child process (the suite reports through its own
// *testing.T), selected by an environment variable.

const brokenEnv = "GOKMS_BACKENDTEST_BROKEN"

// broken wraps the reference backend and breaks one rule.
type broken struct {
	*memory.Backend
	how string
}

func (b broken) Put(ctx context.Context, r backend.Record) error {
	switch b.how {
	case "overwrite":
		_ = b.Backend.Delete(ctx, r.ID)
	case "case-insensitive-ids":
		r.ID = strings.ToLower(r.ID)
	case "keeps-caller-slice":
		// Store, then make the stored value alias the caller's bytes.
		if err := b.Backend.Put(ctx, r); err != nil {
			return err
		}
		shared.Store(r.ID, r.Secret)
		return nil
	case "no-validation":
		if r.ID == "" {
			return nil
		}
	}
	return b.Backend.Put(ctx, r)
}

var shared sync.Map // id -> the caller's secret slice

func (b broken) Get(ctx context.Context, id string) (backend.Record, error) {
	if b.how == "case-insensitive-ids" {
		id = strings.ToLower(id)
	}
	r, err := b.Backend.Get(ctx, id)
	if v, ok := shared.Load(id); err == nil && b.how == "keeps-caller-slice" && ok {
		r.Secret = v.([]byte)
	}
	return r, err
}

func (b broken) Delete(ctx context.Context, id string) error {
	if b.how == "delete-does-nothing" {
		if _, err := b.Backend.Get(ctx, id); err != nil {
			return err
		}
		return nil
	}
	return b.Backend.Delete(ctx, id)
}

func (b broken) List(ctx context.Context) ([]backend.Meta, error) {
	l, err := b.Backend.List(ctx)
	if b.how == "list-drops-one" && len(l) > 1 {
		l = l[1:]
	}
	if b.how == "list-leaks-secret" {
		for i := range l {
			r, _ := b.Backend.Get(ctx, l[i].ID)
			l[i].Address = string(r.Secret)
		}
	}
	return l, err
}

// brokenBatch is a BatchPutter whose batches are not all or nothing.
type brokenBatch struct{ broken }

func (b brokenBatch) PutBatch(ctx context.Context, rs []backend.Record) error {
	for _, r := range rs {
		if err := b.Put(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

// TestMain keeps the child test out of ordinary runs (it is not skipped,
// it is not run at all) and runs only it in the child.
func TestMain(m *testing.M) {
	flag.Parse()
	if os.Getenv(brokenEnv) == "" {
		_ = flag.Set("test.skip", "^TestBrokenBackendChild$")
	}
	os.Exit(m.Run())
}

// TestBrokenBackendChild runs the suite against the backend the parent chose.
func TestBrokenBackendChild(t *testing.T) {
	how := os.Getenv(brokenEnv)
	backendtest.Run(t, func(*testing.T) backend.SecretBackend {
		switch how {
		case "none":
			return memory.New()
		case "batch-not-atomic":
			return brokenBatch{broken{memory.New(), how}}
		}
		return broken{memory.New(), how}
	})
}

func TestSuiteCatchesBrokenBackends(t *testing.T) {
	for _, how := range []string{
		"overwrite", "case-insensitive-ids", "keeps-caller-slice", "no-validation",
		"delete-does-nothing", "list-drops-one", "list-leaks-secret", "batch-not-atomic",
	} {
		t.Run(how, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestBrokenBackendChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), brokenEnv+"="+how)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the conformance suite passed a backend that breaks %q:\n%s", how, out)
			}
			if !strings.Contains(string(out), "--- FAIL") {
				t.Fatalf("child did not fail through the suite:\n%s", out)
			}
		})
	}
	// And the reference backend passes in the same harness.
	cmd := exec.Command(os.Args[0], "-test.run=^TestBrokenBackendChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), brokenEnv+"=none")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the suite fails the unbroken backend:\n%s", out)
	}
}
