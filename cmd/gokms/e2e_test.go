package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/backend/file"
)

// gokmsRun runs the real binary (this test binary, dispatched by
// testscript.Main on argv[0] == "gokms") with a clean environment: HOME in
// a temporary directory, cheap KDF, the given password and extra variables.
type gokmsRun struct {
	t    *testing.T
	home string
	env  []string
}

func newRunner(t *testing.T, password string, extra ...string) *gokmsRun {
	t.Helper()
	home := t.TempDir()
	env := []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "GOKMS_KDF=test", "TATUM_KMS_PASSWORD=" + password}
	return &gokmsRun{t: t, home: home, env: append(env, extra...)}
}

func (r *gokmsRun) run(stdin string, args ...string) (stdout, stderr string, err error) {
	exe, err := os.Executable()
	if err != nil {
		r.t.Fatal(err)
	}
	cmd := &exec.Cmd{Path: exe, Args: append([]string{"gokms"}, args...), Env: r.env, Dir: r.home}
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	return out.String(), errb.String(), err
}

// must runs gokms and decodes its JSON output into v (if not nil).
func (r *gokmsRun) must(v any, stdin string, args ...string) {
	r.t.Helper()
	out, errOut, err := r.run(stdin, args...)
	if err != nil {
		r.t.Fatalf("gokms %s: %v\nstderr: %s", strings.Join(args, " "), err, errOut)
	}
	if v != nil {
		if err := json.Unmarshal([]byte(out), v); err != nil {
			r.t.Fatalf("gokms %s: output is not JSON: %v", strings.Join(args, " "), err)
		}
	}
}

type tatumVector struct {
	Chain                 string             `json:"chain"`
	Testnet               bool               `json:"testnet"`
	Mnemonic              string             `json:"mnemonic"`
	Xpub                  string             `json:"xpub"`
	Addresses             map[string]string  `json:"addresses"`
	PrivateKeys           map[string]string  `json:"privateKeys"`
	AddressFromPrivateKey map[string]*string `json:"addressFromPrivateKey"`
}

// TestTatumVectorsThroughCLI stores the Tatum SDK's test mnemonics and keys
// with the real binary, for every chain on both networks, and checks the
// xpub, addresses and private keys it prints against what the SDKs produced
// (testdata/wallet/tatum-vectors.json, made from @tatumio/tatum).
func TestTatumVectorsThroughCLI(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "wallet", "tatum-vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Vectors []tatumVector `json:"vectors"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	// One mnemonic per chain and network keeps this to ~130 process runs.
	const mnemonic = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon art"
	chains := map[string]bool{}
	for _, v := range doc.Vectors {
		if v.Mnemonic != mnemonic || v.Xpub == "" {
			continue
		}
		v := v
		chains[v.Chain] = true
		t.Run(fmt.Sprintf("%s/testnet=%v", v.Chain, v.Testnet), func(t *testing.T) {
			t.Parallel()
			r := newRunner(t, "vectors-password")
			store := filepath.Join(r.home, "w.dat")
			args := []string{"--path", store}
			if v.Testnet {
				args = append(args, "--testnet")
			}
			var stored struct{ SignatureID, Xpub string }
			r.must(&stored, v.Mnemonic+"\n", append([]string{"storemanagedwallet", v.Chain}, args...)...)
			if stored.Xpub != v.Xpub {
				t.Errorf("xpub %s, want %s", stored.Xpub, v.Xpub)
			}
			for _, idx := range []string{"0", "2147483647"} {
				var a struct{ Address string }
				r.must(&a, "", "getaddress", stored.SignatureID, idx, "--path", store)
				if a.Address != v.Addresses[idx] {
					t.Errorf("address %s: %s, want %s", idx, a.Address, v.Addresses[idx])
				}
			}
			var pk struct{ PrivateKey string }
			r.must(&pk, "", "getprivatekey", stored.SignatureID, "7", "--path", store)
			if pk.PrivateKey != v.PrivateKeys["7"] {
				t.Errorf("private key 7 differs from the SDK's")
			}
			// The index-7 key stored as a private-key entry: its address is
			// generateAddressFromPrivatekey's, or (chains where the SDK has
			// none) the xpub-style one.
			var ks struct{ SignatureID string }
			r.must(&ks, pk.PrivateKey+"\n", append([]string{"storemanagedprivatekey", v.Chain}, args...)...)
			want := v.Addresses["7"]
			if a := v.AddressFromPrivateKey["7"]; a != nil {
				want = *a
			}
			var a struct{ Address string }
			r.must(&a, "", "getaddress", ks.SignatureID, "0", "--path", store)
			if a.Address != want {
				t.Errorf("address of the stored key: %s, want %s", a.Address, want)
			}
			var back struct{ PrivateKey string }
			r.must(&back, "", "getprivatekey", ks.SignatureID, "0", "--path", store)
			if back.PrivateKey != pk.PrivateKey {
				t.Errorf("getprivatekey on a private-key entry does not return the stored key")
			}
		})
	}
	if len(chains) != 13 {
		t.Errorf("vectors cover %d chains, want 13", len(chains))
	}
}

// TestConcurrentProcesses: 4 processes at a time, 250 storemanagedprivatekey
// runs each, on one store: every one of the 1,000 acknowledged keys is
// there, under the id that was printed, with its key.
func TestConcurrentProcesses(t *testing.T) {
	const workers, perWorker = 4, 250
	r := newRunner(t, "concurrent-password", "GOKMS_LOG_LEVEL=error")
	store := filepath.Join(r.home, "w.dat")
	// Create the store first so that every run below opens the same one.
	r.must(nil, "", "generatemanagedwallet", "ETH", "--path", store)

	var (
		mu   sync.Mutex
		keys = map[string]string{} // signatureId -> key
		wg   sync.WaitGroup
		errs = make(chan error, workers)
	)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perWorker; i++ {
				b := make([]byte, 32)
				rand.Read(b)
				b[0] &= 0x7f // stay below the curve order
				key := "0x" + hex.EncodeToString(b)
				out, errOut, err := r.run(key+"\n", "storemanagedprivatekey", "ETH", "--path", store)
				if err != nil {
					errs <- fmt.Errorf("run %d: %v: %s", i, err, errOut)
					return
				}
				var res struct{ SignatureID string }
				if err := json.Unmarshal([]byte(out), &res); err != nil || res.SignatureID == "" {
					errs <- fmt.Errorf("run %d: bad output %q", i, out)
					return
				}
				mu.Lock()
				keys[res.SignatureID] = key
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(keys) != workers*perWorker {
		t.Fatalf("%d distinct signatureIds printed, want %d", len(keys), workers*perWorker)
	}

	s, err := file.Open(store, []byte("concurrent-password"), file.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	metas, err := s.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(metas) != workers*perWorker+1 {
		t.Errorf("store holds %d records, want %d", len(metas), workers*perWorker+1)
	}
	for id, key := range keys {
		rec, err := s.Get(context.Background(), id)
		if err != nil {
			t.Fatalf("acknowledged %s is missing: %v", id, err)
		}
		if string(rec.Secret) != key || rec.Kind != backend.PrivateKey || rec.Chain != "ETH" {
			t.Fatalf("record %s does not hold the key stored under it", id)
		}
	}
}

// TestBatchWritesOnce: generatemanagedprivatekeybatch stores the whole
// batch in one write, and prints exactly what it stored.
func TestBatchWritesOnce(t *testing.T) {
	r := newRunner(t, "batch-password")
	store := filepath.Join(r.home, "w.dat")
	r.must(nil, "", "generatemanagedwallet", "BTC", "--path", store)
	// bbolt numbers its write transactions: one write, one increment.
	before := boltTxID(t, store)
	out, errOut, err := r.run("", "generatemanagedprivatekeybatch", "BTC", "200", "--testnet", "--path", store)
	if err != nil {
		t.Fatalf("%v: %s", err, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 200 {
		t.Fatalf("%d lines, want 200", len(lines))
	}
	if after := boltTxID(t, store); after != before+1 {
		t.Errorf("the batch took %d write transactions, want 1", after-before)
	}
	s, err := file.Open(store, []byte("batch-password"), file.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	metas, err := s.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(metas) != 201 {
		t.Fatalf("store holds %d records, want 201", len(metas))
	}
	byID := map[string]backend.Meta{}
	for _, m := range metas {
		byID[m.ID] = m
	}
	for _, l := range lines {
		var e struct{ SignatureID, Address string }
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatal(err)
		}
		m, ok := byID[e.SignatureID]
		if !ok || m.Address != e.Address || m.Kind != backend.PrivateKey || !m.Testnet {
			t.Fatalf("printed %s/%s is not what the store holds", e.SignatureID, e.Address)
		}
	}
	if n := strings.Count(errOut, "generated "); n < 2 || n > 11 {
		t.Errorf("progress printed %d times, want a few (every 10%%)", n)
	}
}

// boltTxID reads the newest transaction id from a bbolt file's two meta
// pages (page header 16 bytes; meta: magic, version, pageSize, flags, root
// bucket 16, freelist 8, pgid 8, txid 8, checksum 8).
func boltTxID(t *testing.T, path string) uint64 {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	le := func(b []byte) uint64 {
		var v uint64
		for i := 7; i >= 0; i-- {
			v = v<<8 | uint64(b[i])
		}
		return v
	}
	psize := int(data[24]) | int(data[25])<<8 | int(data[26])<<16 | int(data[27])<<24
	var best uint64
	for _, off := range []int{0, psize} {
		meta := data[off+16:]
		if txid := le(meta[48:56]); txid > best {
			best = txid
		}
	}
	return best
}
