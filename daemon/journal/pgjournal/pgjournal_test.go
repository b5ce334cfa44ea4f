package pgjournal_test

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/gokms/gokms/daemon/journal"
	"github.com/gokms/gokms/daemon/journal/journaltest"
	"github.com/gokms/gokms/daemon/journal/pgjournal"
	"github.com/gokms/gokms/daemon/journal/pgjournal/pgtest"
)

var srv *pgtest.Server

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, &srv)) }

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(os_discard{}, nil)) }

type os_discard struct{}

func (os_discard) Write(p []byte) (int, error) { return len(p), nil }

func openDB(t testing.TB, db *pgtest.DB, o pgjournal.Options) *pgjournal.Journal {
	t.Helper()
	if o.Logger == nil {
		o.Logger = quiet()
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	j, err := pgjournal.Open(ctx, db.DSN(), o)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

// The conformance suite every journal passes, against a real server.
func TestConformance(t *testing.T) {
	pgtest.Need(t, srv)
	var mu sync.Mutex
	dbs := map[string]*pgtest.DB{}
	journaltest.Run(t, func(t *testing.T, name string) journal.Journal {
		mu.Lock()
		db, ok := dbs[name]
		if !ok {
			db = srv.NewDatabaseT(t)
			dbs[name] = db
		}
		mu.Unlock()
		return openDB(t, db, pgjournal.Options{})
	})
}
