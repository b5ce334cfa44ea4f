package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/backend/file"
	"github.com/gokms/gokms/backend/file/tatumkms"
	"github.com/gokms/gokms/backend/migrate"
)

// The SIGKILL test runs the real binary, built once per test run.
var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

func gokmsBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "gokms-migrate-test-")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "gokms")
		out, err := exec.Command("go", "build", "-o", builtBin, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

var fixtures = func() string {
	p, err := filepath.Abs(filepath.Join("..", "..", "testdata", "tatumkms"))
	if err != nil {
		panic(err)
	}
	return p
}()

// TestMigrateScripts runs testdata/migrate/*.txtar with `gokms` being this
// test binary (TestMain in script_test.go). Each script gets $FIXTURES
// (testdata/tatumkms), cheap store KDFs (GOKMS_KDF=test) and a few damaged
// wallet files made here.
func TestMigrateScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("testdata", "migrate"),
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			env.Setenv("FIXTURES", fixtures)
			env.Setenv(file.KDFEnv, "test")
			env.Setenv("HOME", filepath.Join(env.WorkDir, "home"))
			return writeBadWallets(env.WorkDir)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// perm FILE MODE: the file's permission bits are MODE (octal).
			"perm": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 2 {
					ts.Fatalf("usage: perm file mode")
				}
				fi, err := os.Stat(ts.MkAbs(args[0]))
				ts.Check(err)
				want, err := strconv.ParseUint(args[1], 8, 32)
				ts.Check(err)
				if got := fi.Mode().Perm(); (uint64(got) == want) == neg {
					ts.Fatalf("%s has mode %o, want %s%o", args[0], got, map[bool]string{true: "not ", false: ""}[neg], want)
				}
			},
			// getmanagedwallet-each STORE FILE: for every signatureId in FILE
			// (a JSON object id -> expected stdout), `gokms getmanagedwallet id
			// --path STORE` prints exactly that.
			"getmanagedwallet-each": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 2 || neg {
					ts.Fatalf("usage: getmanagedwallet-each store file")
				}
				var want map[string]string
				ts.Check(json.Unmarshal([]byte(ts.ReadFile(args[1])), &want))
				if len(want) == 0 {
					ts.Fatalf("%s lists no wallets", args[1])
				}
				for id, out := range want {
					ts.Check(ts.Exec("gokms", "getmanagedwallet", id, "--path", ts.MkAbs(args[0])))
					if got := ts.ReadFile("stdout"); got != out {
						ts.Fatalf("getmanagedwallet %s printed\n%s\nwant (tatum-kms)\n%s", id, got, out)
					}
				}
				ts.Logf("%d wallets print as tatum-kms printed them", len(want))
			},
			// count FILE N: the tatum-kms JSON export in FILE lists N wallets.
			"count": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 2 {
					ts.Fatalf("usage: count file n")
				}
				n := strings.Count(ts.ReadFile(args[0]), `"chain": `)
				if (strconv.Itoa(n) == args[1]) == neg {
					ts.Fatalf("%s lists %d wallets, want %s", args[0], n, args[1])
				}
			},
		},
	})
}

// writeBadWallets puts damaged and conflicting tatum-kms files in dir.
func writeBadWallets(dir string) error {
	small, err := os.ReadFile(filepath.Join(fixtures, "small.dat"))
	if err != nil {
		return err
	}
	files := map[string][]byte{
		"truncated.dat":  small[:len(small)-7],
		"notbase64.dat":  []byte("this is not a wallet file!\n"),
		"notsalted.dat":  []byte("SGVsbG8sIHRoaXMgaXMgbm90IGEgd2FsbGV0IGF0IGFsbA==\n"),
		"exported.json":  []byte(`{"a": {"privateKey": "x", "chain": "ETH", "testnet": true}}`),
		"conflict.dat":   nil,
		"mixed-kind.dat": nil,
	}
	// conflict.dat: small.dat's BTC testnet key id with another key.
	conflict := []tatumkms.Entry{{ID: "26d3883e-4e17-48b3-a0ee-09a3e484ac83", PrivateKey: []byte("cVDifferentKeyDifferentKeyDifferentKeyDifferentKey1"), Chain: "BTC", Testnet: true}}
	if files["conflict.dat"], err = tatumkms.Encode(conflict, []byte("conflict password"), nil); err != nil {
		return err
	}
	mixed := []tatumkms.Entry{
		{ID: "ok-entry", PrivateKey: []byte("0x01"), Chain: "ETH"},
		{ID: "two-keys", Mnemonic: []byte("zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo wrong"), PrivateKey: []byte("0x02"), Secret: []byte("0x03"), Chain: "SOL"},
	}
	if files["mixed-kind.dat"], err = tatumkms.Encode(mixed, []byte("mixed password"), nil); err != nil {
		return err
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// TestMigrateSurvivesSIGKILL kills a real `gokms migrate` of 10,000 records
// between two file stores in the middle, then shows that a re-run completes
// with every record present exactly once and identical to the source.
func TestMigrateSurvivesSIGKILL(t *testing.T) {
	bin := gokmsBinary(t)
	const total = 10000
	dir := t.TempDir()
	srcPath, dstPath := filepath.Join(dir, "src.dat"), filepath.Join(dir, "dst.dat")
	srcPw, dstPw := "source store password", "destination store password"
	ctx := context.Background()

	src, err := file.Create(srcPath, []byte(srcPw), file.Options{KDF: &file.InsecureTestKDF})
	if err != nil {
		t.Fatal(err)
	}
	var recs []backend.Record
	for i := 0; i < total; i++ {
		r := backend.Record{
			ID: fmt.Sprintf("%08x-kill-4000-8000-%012d", i, i), Kind: backend.PrivateKey,
			Chain: []string{"BTC", "ETH", "TRON", "XRP"}[i%4], Testnet: i%2 == 0,
			Secret: []byte(fmt.Sprintf("kill-test-secret-%d", i)),
		}
		if i%7 == 0 {
			r.Kind, r.Xpub = backend.Mnemonic, fmt.Sprintf("xpub-%d", i)
		}
		recs = append(recs, r)
	}
	if err := src.PutBatch(ctx, recs); err != nil {
		t.Fatal(err)
	}
	src.Close()

	migrateCmd := func() *exec.Cmd {
		// --testnet: the real binary takes GOKMS_KDF=test for testnet only.
		cmd := exec.Command(bin, "migrate", "--testnet", "--from", "file://"+srcPath, "--to", "file://"+dstPath, "--batch-size", "100")
		cmd.Env = append(os.Environ(), envFromPassword+"="+srcPw, envToPassword+"="+dstPw, file.KDFEnv+"=test", "HOME="+dir)
		return cmd
	}

	// Run until the first progress line shows records copied, then SIGKILL.
	cmd := migrateCmd()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := regexp.MustCompile(`stage=copying done=(\d+) total=(\d+)`)
	sc := bufio.NewScanner(stderr)
	killedAt := -1
	var log []string
	for sc.Scan() {
		log = append(log, sc.Text())
		if m := done.FindStringSubmatch(sc.Text()); m != nil {
			killedAt, _ = strconv.Atoi(m[1])
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	go func() { _, _ = bufio.NewReader(stderr).WriteTo(discard{}) }()
	err = cmd.Wait()
	ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if killedAt < 0 || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("migration was not killed mid-way (progress seen at %d, wait: %v)\n%s", killedAt, err, strings.Join(log, "\n"))
	}

	dst, err := file.Open(dstPath, []byte(dstPw), file.Options{})
	if err != nil {
		t.Fatalf("destination after SIGKILL: %v", err)
	}
	l, err := dst.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dst.Close()
	before := len(l)
	if before < killedAt || before >= total || before%100 != 0 {
		t.Fatalf("after the kill the destination holds %d records (progress said %d); want whole batches, fewer than %d", before, killedAt, total)
	}
	t.Logf("killed after %d reported, %d records durable in the destination", killedAt, before)

	// The re-run skips what is there and copies the rest.
	out, err := migrateCmd().Output()
	if err != nil {
		t.Fatalf("re-run: %v", err)
	}
	var sum struct {
		Total   int `json:"total"`
		Copied  int `json:"copied"`
		Skipped int `json:"skipped"`
	}
	if err := json.Unmarshal(out, &sum); err != nil {
		t.Fatalf("summary %q: %v", out, err)
	}
	if sum.Total != total || sum.Skipped != before || sum.Copied != total-before {
		t.Fatalf("re-run summary %+v, want total %d, skipped %d, copied %d", sum, total, before, total-before)
	}

	// Nothing lost, nothing duplicated, nothing altered.
	dst, err = file.Open(dstPath, []byte(dstPw), file.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	l, err = dst.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(l) != total {
		t.Fatalf("destination holds %d records, want %d", len(l), total)
	}
	seen := map[string]bool{}
	for _, m := range l {
		if seen[m.ID] {
			t.Fatalf("%s listed twice", m.ID)
		}
		seen[m.ID] = true
	}
	for _, r := range recs {
		got, err := dst.Get(ctx, r.ID)
		if err != nil {
			t.Fatalf("%s lost: %v", r.ID, err)
		}
		if !migrate.Same(got, r) {
			t.Fatalf("%s differs after the resumed migration", r.ID)
		}
	}
	// And the source is untouched.
	s, err := file.Open(srcPath, []byte(srcPw), file.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if sl, err := s.List(ctx); err != nil || len(sl) != total {
		t.Fatalf("source has %d records (%v)", len(sl), err)
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
