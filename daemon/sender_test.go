package daemon_test

// The Sender seam: a chain whose signed transaction goes to gokms's own
// node (Solana), journaled before it is sent, Tatum told only the txId;
// a failed send resends the journaled bytes, never signs again. The fake
// signer reads its key material through signing.RecordSource, as the
// ed25519 chains do.

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/daemon"
	"github.com/gokms/gokms/daemon/journal"
	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/tatum"
)

type sendingSigner struct {
	mu      sync.Mutex
	signs   int
	sends   []string
	failing error // returned by Send while set
}

func (s *sendingSigner) Sign(ctx context.Context, req signing.Request, keys signing.KeySource) (string, error) {
	rs, ok := signing.Records(keys)
	if !ok {
		return "", errors.New("no record source")
	}
	var addr string
	for _, h := range req.Hashes {
		rec, err := rs.Record(ctx, h)
		if err != nil {
			return "", err
		}
		addr += rec.Address
		rec.Zero()
	}
	s.mu.Lock()
	s.signs++
	n := s.signs
	s.mu.Unlock()
	return "wire-" + req.ID + "-" + addr + "-" + string(rune('0'+n)), nil
}

func (s *sendingSigner) Send(_ context.Context, chain string, testnet bool, raw string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sends = append(s.sends, raw)
	if s.failing != nil {
		return "", s.failing
	}
	return "txid-of-" + raw, nil
}

func senderFixture(t *testing.T) (*fixture, *sendingSigner, *signing.Set) {
	f := newFixture(t)
	f.put(backend.Record{ID: "sol", Kind: backend.PrivateKey, Chain: "SOL", Testnet: true, Secret: []byte("sol-secret-bytes"), Address: "SoLAddr"})
	f.secrets = append(f.secrets, "sol-secret-bytes")
	sg := &sendingSigner{}
	set, err := signing.NewSet(signing.Family{"SOL": sg})
	if err != nil {
		t.Fatal(err)
	}
	return f, sg, set
}

func TestSenderJournalsThenSendsThenTellsTatumTheTxID(t *testing.T) {
	f, sg, set := senderFixture(t)
	j := journal.NewMemory()
	id := f.srv.Enqueue(tatum.PendingTransaction{Chain: "SOL", SerializedTransaction: "{}", Hashes: []string{"sol"}})
	d := f.daemon(func(c *daemon.Config) { c.Signers = set; c.Journal = j; c.Chains = []string{"SOL"} })
	d.RunCycle(context.Background())
	f.requireCompleted(id)
	raw := "wire-" + id + "-SoLAddr-1"
	if len(sg.sends) != 1 || sg.sends[0] != raw {
		t.Fatalf("sends %q, want the signed bytes once", sg.sends)
	}
	var body string
	for _, r := range f.srv.Requests() {
		if r.Path == "/v3/solana/broadcast" {
			body = string(r.Body)
		}
	}
	if !strings.Contains(body, `"txData":"txid-of-`+raw+`"`) || strings.Contains(body, `"txData":"`+raw+`"`) {
		t.Fatalf("Tatum got %s, want the txId Send returned", body)
	}
	e, err := j.Get(context.Background(), id)
	if err != nil || e.SignedTx != raw || e.State != journal.StateCompleted {
		t.Fatalf("journal %+v %v", e, err)
	}
}

// A send that fails is reported; the next cycle resends the journaled bytes
// (the same signature: it cannot land twice) and never signs again. An
// ambiguous one is left for the next cycle without a report.
func TestSenderFailureResendsSameBytes(t *testing.T) {
	for _, ambiguous := range []bool{false, true} {
		t.Run(map[bool]string{false: "failed", true: "ambiguous"}[ambiguous], func(t *testing.T) {
			f, sg, set := senderFixture(t)
			sg.failing = errors.New("node said no")
			if ambiguous {
				sg.failing = signing.ErrSendAmbiguous
			}
			j := journal.NewMemory()
			id := f.srv.Enqueue(tatum.PendingTransaction{Chain: "SOL", SerializedTransaction: "{}", Hashes: []string{"sol"}})
			d := f.daemon(func(c *daemon.Config) { c.Signers = set; c.Journal = j; c.Chains = []string{"SOL"} })
			d.RunCycle(context.Background())
			if n := f.srv.Broadcasts(id); n != 0 {
				t.Fatalf("Tatum told of a transaction the node refused (%d)", n)
			}
			if got := len(f.srv.Errors()); (got == 0) != ambiguous {
				t.Fatalf("%d error reports (ambiguous %v)", got, ambiguous)
			}
			sg.failing = nil
			d.RunCycle(context.Background())
			f.requireCompleted(id)
			if sg.signs != 1 || len(sg.sends) != 2 || sg.sends[0] != sg.sends[1] {
				t.Fatalf("signs %d sends %q: want one signature sent twice", sg.signs, sg.sends)
			}
		})
	}
}

// RecordSource keeps the Resolver's checks: another chain's wallet, the
// other network, a wallet outside --wallets and an unknown id are refused
// before the signer sees a secret
// (the fake signer counts only whole signatures).
func TestRecordSourceChecks(t *testing.T) {
	f, sg, set := senderFixture(t)
	f.put(backend.Record{ID: "sol-main", Kind: backend.PrivateKey, Chain: "SOL", Testnet: false, Secret: []byte("main-secret"), Address: "M"})
	f.put(backend.Record{ID: "sol2", Kind: backend.PrivateKey, Chain: "SOL", Testnet: true, Secret: []byte("sol2-secret"), Address: "S2"})
	for _, c := range []struct {
		hash, want string
		wallets    []string
	}{
		{"pk", "is a BTC wallet, but the transaction is for SOL", nil},
		{"sol-main", "is a mainnet wallet, but the daemon runs on testnet", nil},
		{"nope", "no such wallet", nil},
		{"sol2", "not in the daemon's --wallets list", []string{"sol"}},
	} {
		// Listed through the daemon's own SOL wallet, as a hostile API would.
		id := f.srv.Enqueue(tatum.PendingTransaction{Chain: "SOL", SerializedTransaction: "{}", Hashes: []string{c.hash, "sol"}})
		d := f.daemon(func(cf *daemon.Config) {
			cf.Signers = set
			cf.Chains = []string{"SOL"}
			cf.Wallets = c.wallets
			cf.TransactionIDs = []string{id}
		})
		d.RunCycle(context.Background())
		found := false
		for _, e := range f.srv.Errors() {
			if e.SignatureID == id && strings.Contains(e.Error, c.want) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no report containing %q: %v", c.hash, c.want, f.srv.Errors())
		}
	}
	if sg.signs != 0 {
		t.Fatalf("signed %d times with a refused wallet", sg.signs)
	}
}

type rawSigner struct{}

func (rawSigner) Sign(_ context.Context, req signing.Request, _ signing.KeySource) (string, error) {
	return "raw-" + req.ID, nil
}

// Off-chain withdrawals go where tatum-kms 8.0.1 posts them: the off-chain
// withdrawal endpoint for BTC, LTC, DOGE, BCH, ETH, ONE and ADA; their own
// broadcast endpoint for every other chain (its signatures.ts returns after
// the chain's broadcast for them).
func TestWithdrawalEndpointPerChain(t *testing.T) {
	for _, c := range []struct {
		chain, path string
		offchain    bool
	}{
		{"BTC", "/v3/offchain/withdrawal/broadcast", true},
		{"ETH", "/v3/offchain/withdrawal/broadcast", true},
		{"ONE", "/v3/offchain/withdrawal/broadcast", true},
		{"BSC", "/v3/bsc/broadcast", false},
		{"MATIC", "/v3/polygon/broadcast", false},
		{"TRON", "/v3/tron/broadcast", false},
		{"XRP", "/v3/xrp/broadcast", false},
	} {
		t.Run(c.chain, func(t *testing.T) {
			f := newFixture(t)
			f.put(backend.Record{ID: "w", Kind: backend.PrivateKey, Chain: c.chain, Testnet: true, Secret: []byte("k")})
			set, err := signing.NewSet(signing.Family{c.chain: rawSigner{}})
			if err != nil {
				t.Fatal(err)
			}
			id := f.srv.Enqueue(tatum.PendingTransaction{Chain: c.chain, SerializedTransaction: "{}", Hashes: []string{"w"}, WithdrawalID: "wd-1"})
			d := f.daemon(func(cf *daemon.Config) { cf.Signers = set; cf.Chains = []string{c.chain} })
			d.RunCycle(context.Background())
			f.requireCompleted(id)
			var paths, bodies []string
			for _, r := range f.srv.Requests() {
				if strings.HasSuffix(r.Path, "/broadcast") {
					paths, bodies = append(paths, r.Path), append(bodies, string(r.Body))
				}
			}
			if len(paths) != 1 || paths[0] != c.path {
				t.Fatalf("posted to %v, want %s", paths, c.path)
			}
			if got := strings.Contains(bodies[0], `"withdrawalId":"wd-1"`); got != c.offchain {
				t.Fatalf("body %s: withdrawalId present %v, want %v", bodies[0], got, c.offchain)
			}
		})
	}
}
