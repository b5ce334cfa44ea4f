package hashivault

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/backend/cache"
	"github.com/gokms/gokms/backend/memory"
)

// The benchmarks run against the dev server on loopback (one HTTP round
// trip per Get, two per Put), with the in-process memory backend as the
// baseline measured in the same run.

func BenchmarkGet(b *testing.B) {
	requireVault(b)
	const records = 100
	run := func(b *testing.B, be backend.SecretBackend) {
		ctx := context.Background()
		for i := 0; i < records; i++ {
			if err := be.Put(ctx, testRecord(fmt.Sprintf("bench-%03d", i), "secret words")); err != nil {
				b.Fatal(err)
			}
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			r, err := be.Get(ctx, fmt.Sprintf("bench-%03d", i%records))
			if err != nil {
				b.Fatal(err)
			}
			r.Zero()
		}
	}
	b.Run("memory", func(b *testing.B) { run(b, memory.New()) })
	b.Run("vault", func(b *testing.B) { run(b, newBackend(b, dev.RootToken, uniquePath("bench-get"))) })
	b.Run("vault+cache", func(b *testing.B) {
		c := cache.New(newBackend(b, dev.RootToken, uniquePath("bench-get")), cache.Options{TTL: time.Minute})
		run(b, c)
		s := c.Stats()
		b.ReportMetric(float64(s.InnerGets)/float64(b.N), "vault-calls/op")
	})
}

func BenchmarkPut(b *testing.B) {
	requireVault(b)
	run := func(b *testing.B, be backend.SecretBackend) {
		ctx := context.Background()
		for i := 0; i < b.N; i++ {
			if err := be.Put(ctx, testRecord(fmt.Sprintf("bench-%d", i), "secret words")); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("memory", func(b *testing.B) { run(b, memory.New()) })
	b.Run("vault", func(b *testing.B) { run(b, newBackend(b, dev.RootToken, uniquePath("bench-put"))) })
}

func BenchmarkList100(b *testing.B) {
	requireVault(b)
	ctx := context.Background()
	be := newBackend(b, dev.RootToken, uniquePath("bench-list"))
	for i := 0; i < 100; i++ {
		if err := be.Put(ctx, testRecord(fmt.Sprintf("bench-%03d", i), "secret words")); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		l, err := be.List(ctx)
		if err != nil || len(l) != 100 {
			b.Fatal(len(l), err)
		}
	}
}
