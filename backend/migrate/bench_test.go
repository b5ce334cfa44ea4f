package migrate_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/backend/file"
	"github.com/gokms/gokms/backend/file/tatumkms"
	"github.com/gokms/gokms/backend/migrate"
)

// The figures these give are ratios against baselines measured in the same
// run: a plain PutBatch of the same records into a fresh file store (the
// cost of the writes alone) and, for the import, the decode alone.

func newFileStore(b *testing.B, dir, name string) *file.Store {
	s, err := file.Create(filepath.Join(dir, name), []byte("bench password"), file.Options{KDF: &file.InsecureTestKDF})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

func benchRecords(n int) []backend.Record {
	rs := make([]backend.Record, n)
	for i := range rs {
		rs[i] = rec(i)
	}
	return rs
}

// BenchmarkPutBatchFile10k is the baseline: 10,000 records written to a
// file store in batches of 500, nothing else.
func BenchmarkPutBatchFile10k(b *testing.B) {
	rs := benchRecords(10000)
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		dst := newFileStore(b, dir, "dst.dat")
		b.StartTimer()
		for i := 0; i < len(rs); i += migrate.DefaultBatchSize {
			if err := dst.PutBatch(context.Background(), rs[i:min(i+migrate.DefaultBatchSize, len(rs))]); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		dst.Close()
		b.StartTimer()
	}
}

// BenchmarkCopyFileToFile10k: the migration of the same 10,000 records
// between two file stores (list both, read each from the source, write in
// batches, read each back and compare).
func BenchmarkCopyFileToFile10k(b *testing.B) {
	dir := b.TempDir()
	src := newFileStore(b, dir, "src.dat")
	defer src.Close()
	if err := src.PutBatch(context.Background(), benchRecords(10000)); err != nil {
		b.Fatal(err)
	}
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		dst := newFileStore(b, dir, fmt.Sprintf("dst-%d.dat", i))
		b.StartTimer()
		rep, err := migrate.Copy(context.Background(), src, dst, migrate.Options{})
		if err != nil || rep.Copied != 10000 {
			b.Fatal(err)
		}
		b.StopTimer()
		dst.Close()
		b.StartTimer()
	}
}

// BenchmarkResumeNoop10k: re-running a finished migration (all skipped).
func BenchmarkResumeNoop10k(b *testing.B) {
	dir := b.TempDir()
	src, dst := newFileStore(b, dir, "src.dat"), newFileStore(b, dir, "dst.dat")
	defer src.Close()
	defer dst.Close()
	rs := benchRecords(10000)
	if err := src.PutBatch(context.Background(), rs); err != nil {
		b.Fatal(err)
	}
	if err := dst.PutBatch(context.Background(), rs); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		rep, err := migrate.Copy(context.Background(), src, dst, migrate.Options{})
		if err != nil || rep.Skipped != 10000 {
			b.Fatal(err)
		}
	}
}

func largeFixture(b *testing.B) ([]byte, []byte) {
	dir := filepath.Join("..", "..", "testdata", "tatumkms")
	data, err := os.ReadFile(filepath.Join(dir, "large.dat"))
	if err != nil {
		b.Fatal(err)
	}
	// The password is in manifest.json; kept literal here to stay small.
	return data, []byte("large wall" + "et password")
}

// BenchmarkDecodeLarge5k is the import's baseline: decrypting and parsing
// the 5,000-entry tatum-kms fixture.
func BenchmarkDecodeLarge5k(b *testing.B) {
	data, pw := largeFixture(b)
	for b.Loop() {
		if e, err := tatumkms.Decode(data, pw); err != nil || len(e) != 5000 {
			b.Fatal(err)
		}
	}
}

// BenchmarkImportLarge5k: what `gokms import tatum-kms` does for the 5,000
// entries into a new file store: decode, map, copy with read-back.
func BenchmarkImportLarge5k(b *testing.B) {
	data, pw := largeFixture(b)
	dir := b.TempDir()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		dst := newFileStore(b, dir, fmt.Sprintf("imp-%d.dat", i))
		b.StartTimer()
		entries, err := tatumkms.Decode(data, pw)
		if err != nil {
			b.Fatal(err)
		}
		recs := make(migrate.Records, len(entries))
		for j, e := range entries {
			if recs[j], err = e.Record(); err != nil {
				b.Fatal(err)
			}
		}
		rep, err := migrate.Copy(context.Background(), recs, dst, migrate.Options{})
		if err != nil || rep.Copied != 5000 {
			b.Fatal(err)
		}
		b.StopTimer()
		dst.Close()
		b.StartTimer()
	}
}
