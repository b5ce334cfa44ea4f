package file

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gokms/gokms/backend"
)

// Benchmarks of the store after unlock, at 1,000 and 100,000 records, and of
// unlock itself. The stores are built once per run (one PutBatch each) in a
// temporary directory removed by TestMain:
//
//	go test -run '^$' -bench . -benchtime 2s ./backend/file/

var (
	benchDir     string
	benchMu      sync.Mutex
	benchStores  = map[int]string{}
	benchCleanup = func() {
		if benchDir != "" {
			os.RemoveAll(benchDir)
		}
	}
)

// benchStore returns the path of a store with n records (test KDF).
func benchStore(b *testing.B, n int) string {
	b.Helper()
	benchMu.Lock()
	defer benchMu.Unlock()
	if p, ok := benchStores[n]; ok {
		return p
	}
	if benchDir == "" {
		d, err := os.MkdirTemp("", "gokms-bench-")
		if err != nil {
			b.Fatal(err)
		}
		benchDir = d
	}
	path := filepath.Join(benchDir, fmt.Sprintf("wallet-%d.dat", n))
	s, err := Create(path, testPassword, testOptions())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	rs := make([]backend.Record, n)
	for i := range rs {
		// UUID-like random-looking ids, like signatureIds.
		rs[i] = expectedRecord(fmt.Sprintf("%08x-bench-%d", uint32(i)*2654435761, i))
	}
	if err := s.PutBatch(context.Background(), rs); err != nil {
		b.Fatal(err)
	}
	benchStores[n] = path
	return path
}

func openBench(b *testing.B, n int) *Store {
	b.Helper()
	s, err := Open(benchStore(b, n), testPassword, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

var sizes = []int{1000, 100000}

func BenchmarkUnlock(b *testing.B) {
	for _, c := range []struct {
		name string
		kdf  KDFParams
	}{{"production", DefaultKDF}, {"test", InsecureTestKDF}} {
		b.Run(c.name, func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "w.dat")
			s, err := Create(path, testPassword, Options{KDF: &c.kdf})
			if err != nil {
				b.Fatal(err)
			}
			s.Close()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				s, err := Open(path, testPassword, Options{})
				if err != nil {
					b.Fatal(err)
				}
				s.Close()
			}
		})
	}
}

// BenchmarkOpen is unlock with the test KDF on a large store: the cost of
// the layout check that runs once per Open.
func BenchmarkOpen(b *testing.B) {
	for _, n := range sizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			path := benchStore(b, n)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				s, err := Open(path, testPassword, Options{})
				if err != nil {
					b.Fatal(err)
				}
				s.Close()
			}
		})
	}
}

// freshCopy copies the cached n-record store to a new file and opens it, so
// that write benchmarks neither grow the shared stores nor drift in size.
func freshCopy(b *testing.B, n int) *Store {
	b.Helper()
	src, err := os.ReadFile(benchStore(b, n))
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "w.dat")
	if err := os.WriteFile(path, src, 0o600); err != nil {
		b.Fatal(err)
	}
	s, err := Open(path, testPassword, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close(); os.Remove(path) })
	return s
}

// benchWrites runs put b.N times with a store of about n records: it starts
// over from a fresh copy (timer stopped) every `every` iterations.
func benchWrites(b *testing.B, n, every int, put func(s *Store, i int) error) {
	var s *Store
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%every == 0 {
			b.StopTimer()
			if s != nil {
				s.Close()
			}
			s = freshCopy(b, n)
			b.StartTimer()
		}
		if err := put(s, i); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPut(b *testing.B) {
	for _, n := range sizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			ctx := context.Background()
			benchWrites(b, n, 200, func(s *Store, i int) error {
				return s.Put(ctx, expectedRecord(fmt.Sprintf("put-%d", i)))
			})
		})
	}
}

// BenchmarkPutBatch100 stores 100 records per durable write, as
// generatemanagedprivatekeybatch does.
func BenchmarkPutBatch100(b *testing.B) {
	for _, n := range sizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			ctx := context.Background()
			benchWrites(b, n, 5, func(s *Store, i int) error {
				rs := make([]backend.Record, 100)
				for j := range rs {
					rs[j] = expectedRecord(fmt.Sprintf("batch-%d-%d", i, j))
				}
				return s.PutBatch(ctx, rs)
			})
		})
	}
}

func BenchmarkGet(b *testing.B) {
	for _, n := range sizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			s := openBench(b, n)
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				j := (i * 7919) % n
				r, err := s.Get(ctx, fmt.Sprintf("%08x-bench-%d", uint32(j)*2654435761, j))
				if err != nil {
					b.Fatal(err)
				}
				r.Zero()
			}
		})
	}
}

func BenchmarkList(b *testing.B) {
	for _, n := range sizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			s := openBench(b, n)
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				l, err := s.List(ctx)
				if err != nil || len(l) != n {
					b.Fatal(len(l), err)
				}
			}
		})
	}
}
