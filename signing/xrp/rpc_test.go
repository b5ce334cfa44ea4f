package xrp

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gokms/gokms/wallet"
)

// standIn speaks rippled's JSON-RPC for the three methods gokms calls.
type standIn struct {
	mu         sync.Mutex
	seq        map[string]uint32
	ledger     uint32
	baseFeeXRP string // a JSON number literal
	loadFactor string // "" leaves it out
	apiKeys    []string
	fail       string // method answered with an error
}

func (s *standIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apiKeys = append(s.apiKeys, r.Header.Get("x-api-key"))
	b, _ := io.ReadAll(r.Body)
	var req struct {
		Method string
		Params []map[string]any
	}
	if r.Method != http.MethodPost || json.Unmarshal(b, &req) != nil || len(req.Params) != 1 {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	p := req.Params[0]
	if req.Method == s.fail {
		fmt.Fprintf(w, `{"result":{"error":"noNetwork","error_message":"Not synced to the network.","status":"error"}}`)
		return
	}
	switch req.Method {
	case "account_info":
		acc, _ := p["account"].(string)
		seq, ok := s.seq[acc]
		if p["ledger_index"] != "current" {
			http.Error(w, "want ledger_index current", http.StatusBadRequest)
			return
		}
		if !ok {
			fmt.Fprintf(w, `{"result":{"account":%q,"error":"actNotFound","error_message":"Account not found.","status":"error"}}`, acc)
			return
		}
		fmt.Fprintf(w, `{"result":{"account_data":{"Account":%q,"Balance":"100000000","Flags":0,"LedgerEntryType":"AccountRoot","Sequence":%d},"ledger_current_index":%d,"status":"success","validated":false}}`, acc, seq, s.ledger+4)
	case "ledger":
		if p["ledger_index"] != "validated" {
			http.Error(w, "want ledger_index validated", http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, `{"result":{"ledger_hash":"ABCD","ledger_index":%d,"status":"success","validated":true}}`, s.ledger)
	case "server_info":
		lf := ""
		if s.loadFactor != "" {
			lf = `"load_factor":` + s.loadFactor + `,`
		}
		fmt.Fprintf(w, `{"result":{"info":{"build_version":"2.3.0",%s"validated_ledger":{"age":2,"base_fee_xrp":%s,"reserve_base_xrp":10,"reserve_inc_xrp":2,"seq":%d}},"status":"success"}}`, lf, s.baseFeeXRP, s.ledger)
	default:
		fmt.Fprintf(w, `{"result":{"error":"unknownCmd","status":"error"}}`)
	}
}

func TestRPCAgainstStandIn(t *testing.T) {
	si := &standIn{seq: map[string]uint32{"rPT1Sjq2YGrBMTttX4GZHjKu9dyfzbpAYe": 77}, ledger: 9000, baseFeeXRP: "0.00001", loadFactor: "1"}
	srv := httptest.NewServer(si)
	defer srv.Close()
	n, err := NewRPC(srv.URL+"/secret-path", "k3y", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if seq, err := n.AccountSequence(ctx, "rPT1Sjq2YGrBMTttX4GZHjKu9dyfzbpAYe"); err != nil || seq != 77 {
		t.Fatalf("sequence %d, %v", seq, err)
	}
	if idx, err := n.ValidatedLedgerIndex(ctx); err != nil || idx != 9000 {
		t.Fatalf("ledger %d, %v", idx, err)
	}
	// xrpl's getFeeXrp: base × load × 1.2, capped at 2 XRP, half-up to 6 decimals.
	for _, c := range []struct {
		base, load string
		want       uint64
	}{
		{"0.00001", "1", 12}, {"0.00001", "", 12}, {"0.00001", "256", 3072},
		{"0.0000123", "1", 15}, {"0.00001", "1000000", 2_000_000}, {"0.00001", "1.5", 18},
		{"0.00000125", "1", 2}, {"0.000001", "1", 1},
	} {
		si.baseFeeXRP, si.loadFactor = c.base, c.load
		if fee, err := n.FeeDrops(ctx); err != nil || fee != c.want {
			t.Errorf("base %s load %q: fee %d (%v), want %d", c.base, c.load, fee, err, c.want)
		}
	}
	// Errors say what failed, without the URL path or the key.
	_, err = n.AccountSequence(ctx, "rUnknownAccountxxxxxxxxxxxxxxxxxx")
	if err == nil || !strings.Contains(err.Error(), "actNotFound") || strings.Contains(err.Error(), "secret-path") || strings.Contains(err.Error(), "k3y") {
		t.Fatalf("unknown account: %v", err)
	}
	si.fail = "ledger"
	if _, err := n.ValidatedLedgerIndex(ctx); err == nil || !strings.Contains(err.Error(), "Not synced") {
		t.Fatalf("node error: %v", err)
	}
	for _, k := range si.apiKeys {
		if k != "k3y" {
			t.Fatalf("x-api-key %q", k)
		}
	}
	srv.Close()
	if _, err := n.FeeDrops(ctx); err == nil || strings.Contains(err.Error(), "secret-path") {
		t.Fatalf("closed server: %v", err)
	}
	for _, bad := range []string{"", "ftp://x", "/relative", "http://"} {
		if _, err := NewRPC(bad, "", nil); err == nil {
			t.Errorf("URL %q accepted", bad)
		}
	}
}

// The autofill vectors, signed with the real client against the stand-in,
// give xrpl's blob.
func TestSignWithRPCNode(t *testing.T) {
	for _, v := range loadVectors(t) {
		if v.Node == nil {
			continue
		}
		key, err := wallet.XRPKeyFromSecret(v.Secret)
		if err != nil {
			t.Fatal(err)
		}
		// base_fee_xrp × 1.2 = fee drops: base = fee / 1.2 / 10^6.
		var fee int
		fmt.Sscan(v.Node.Fee, &fee)
		si := &standIn{seq: map[string]uint32{v.Address: v.Node.Sequence}, ledger: v.Node.ValidatedLedgerIndex, loadFactor: fmt.Sprint(fee), baseFeeXRP: "0.000001"}
		// 0.000001 × fee × 1.2 rounds to fee×1.2 drops: undo the cushion in load_factor instead.
		si.loadFactor = fmt.Sprintf("%g", float64(fee)/1.2)
		srv := httptest.NewServer(si)
		n, _ := NewRPC(srv.URL, "", nil)
		blob, err := Sign(context.Background(), v.SerializedTransaction, key, Params{Node: n})
		srv.Close()
		if err != nil {
			t.Fatalf("%s: %v", v.Name, err)
		}
		if blob != v.TxBlob {
			t.Errorf("%s: blob differs from xrpl's", v.Name)
		}
	}
}
