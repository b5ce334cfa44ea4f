package file

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/gokms/gokms/backend"
)

// Tests that need other processes re-execute the test binary with
// helperEnv set; TestMain then runs the helper instead of the tests.
const helperEnv = "GOKMS_FILE_TEST_HELPER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		if err := runHelper(mode, os.Args[len(os.Args)-1]); err != nil {
			fmt.Fprintln(os.Stderr, "helper:", err)
			os.Exit(3)
		}
		os.Exit(0)
	}
	code := m.Run()
	benchCleanup()
	os.Exit(code)
}

// helperArgs is what a helper process gets (as JSON in its last argument).
// Passwords travel this way only in tests; they are test passwords.
type helperArgs struct {
	Path      string
	Password  string
	Passwords []string // rekey-loop alternates between these
	Prefix    string   // record ids are Prefix-N
	Count     int
	Pause     time.Duration // rekey-loop: between changes
}

// helperCmd builds the command for a helper process.
func helperCmd(t testing.TB, mode string, a helperArgs) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(a)
	cmd := exec.Command(exe, "-test.run=^$", string(b))
	cmd.Env = append(os.Environ(), helperEnv+"="+mode)
	cmd.Stderr = os.Stderr
	return cmd
}

// expectedRecord is the deterministic record a helper stores under id, so
// that the parent can check content as well as presence.
func expectedRecord(id string) backend.Record {
	sum := sha256.Sum256([]byte("gokms crash test " + id))
	h := hex.EncodeToString(sum[:])
	n, _ := strconv.Atoi(id[len(id)-1:])
	if n%2 == 0 {
		return backend.Record{ID: id, Kind: backend.Mnemonic, Chain: "BTC", Testnet: true, Secret: []byte("words " + h), Xpub: "tpub" + h[:40]}
	}
	return backend.Record{ID: id, Kind: backend.PrivateKey, Chain: []string{"ETH", "TRON", "LTC"}[n%3], Secret: []byte(h), Address: "addr" + h[:20]}
}

func sameAsExpected(r backend.Record) bool {
	w := expectedRecord(r.ID)
	return r.Kind == w.Kind && r.Chain == w.Chain && r.Testnet == w.Testnet && string(r.Secret) == string(w.Secret) &&
		r.Xpub == w.Xpub && r.Address == w.Address && !r.Created.IsZero()
}

func runHelper(mode, arg string) error {
	var a helperArgs
	if err := json.Unmarshal([]byte(arg), &a); err != nil {
		return err
	}
	ctx := context.Background()
	out := bufio.NewWriter(os.Stdout)
	// say prints one line and flushes it: a printed line is an acknowledgement.
	say := func(format string, args ...any) {
		fmt.Fprintf(out, format+"\n", args...)
		out.Flush()
	}
	switch mode {
	case "put-loop":
		// Stores Count records, mostly one Put each and every fifth step a
		// batch of four, printing each id once its store returned.
		s, err := Open(a.Path, []byte(a.Password), Options{})
		if err != nil {
			return err
		}
		for i := 0; i < a.Count; {
			if i%5 == 4 && i+4 <= a.Count {
				var rs []backend.Record
				for j := 0; j < 4; j++ {
					rs = append(rs, expectedRecord(fmt.Sprintf("%s-%d", a.Prefix, i+j)))
				}
				if err := s.PutBatch(ctx, rs); err != nil {
					return err
				}
				for _, r := range rs {
					say("%s", r.ID)
				}
				i += 4
				continue
			}
			r := expectedRecord(fmt.Sprintf("%s-%d", a.Prefix, i))
			if err := s.Put(ctx, r); err != nil {
				return err
			}
			say("%s", r.ID)
			i++
		}
		return nil
	case "read-loop":
		// Reads while others write, until stdin closes.
		s, err := Open(a.Path, []byte(a.Password), Options{})
		if err != nil {
			return err
		}
		done := make(chan struct{})
		go func() { io.Copy(io.Discard, os.Stdin); close(done) }()
		for n := 0; ; n++ {
			select {
			case <-done:
				say("reads %d", n)
				return nil
			default:
			}
			l, err := s.List(ctx)
			if err != nil {
				return err
			}
			if len(l) > 0 {
				r, err := s.Get(ctx, l[n%len(l)].ID)
				if err != nil {
					return err
				}
				if !sameAsExpected(r) {
					return fmt.Errorf("record %s read back wrong", r.ID)
				}
			}
		}
	case "rekey-loop":
		cur := 0
		s, err := Open(a.Path, []byte(a.Passwords[cur]), Options{})
		if err != nil {
			return err
		}
		for i := 1; i <= a.Count; i++ {
			cur = i % len(a.Passwords)
			if err := s.ChangePassword([]byte(a.Passwords[cur]), nil); err != nil {
				return err
			}
			say("%d", i)
			time.Sleep(a.Pause)
		}
		return nil
	case "access":
		// Reports what works on a store this process may not write.
		res := map[string]string{}
		s, err := Open(a.Path, []byte(a.Password), Options{LockTimeout: 2e9})
		res["open"] = errString(err)
		if err == nil {
			_, err = s.Get(ctx, a.Prefix)
			res["get"] = errString(err)
			res["put"] = errString(s.Put(ctx, expectedRecord(a.Prefix+"-new-1")))
			res["delete"] = errString(s.Delete(ctx, a.Prefix))
			res["changepassword"] = errString(s.ChangePassword([]byte("x"+a.Password), nil))
		}
		_, err = Create(a.Path+".new", []byte(a.Password), Options{KDF: &InsecureTestKDF})
		res["create"] = errString(err)
		b, _ := json.Marshal(res)
		say("%s", b)
		return nil
	}
	return fmt.Errorf("unknown helper mode %q", mode)
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
