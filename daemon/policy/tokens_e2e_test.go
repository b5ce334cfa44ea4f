package policy_test

// Token limits through the real daemon: TRON TRC-20 and XLM issued-asset
// payments built from the committed npm vectors, signed by the chains'
// signers, judged by the policy on the signed bytes, with the rolling
// total in a journal file two daemons share. Nothing refused may reach a
// broadcast.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil/base58"
	"github.com/stellar/go-stellar-sdk/network"
	"github.com/stellar/go-stellar-sdk/xdr"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/backend/memory"
	"github.com/gokms/gokms/daemon/audit"
	"github.com/gokms/gokms/daemon/journal"
	"github.com/gokms/gokms/kms"
	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/signing/tron"
	"github.com/gokms/gokms/signing/xlm"
	"github.com/gokms/gokms/tatum"
	"github.com/gokms/gokms/tatum/tatumtest"
)

func readVectorFile(t *testing.T, chain string, into any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", chain, "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, into); err != nil {
		t.Fatal(err)
	}
}

// useSigners signs with set for the rest of the test.
func useSigners(t *testing.T, fams ...signing.Family) {
	set, err := signing.NewSet(fams...)
	if err != nil {
		t.Fatal(err)
	}
	old := signers
	signers = set
	t.Cleanup(func() { signers = old })
}

// tokenCase is one pending token transfer and what the policy must do.
type tokenCase struct {
	name string
	on   *node
	tx   string
	wal  string
	rule string // "" allowed
}

// runTokenCycles enqueues each cycle's transactions, runs one cycle of the
// first case's daemon, and checks every outcome; then a later cycle
// broadcasts nothing refused.
func runTokenCycles(t *testing.T, srv *tatumtest.Server, chain string, cycles [][]tokenCase) map[string]string {
	t.Helper()
	ctx := context.Background()
	ids := map[string]string{}
	var all []tokenCase
	for ci, cyc := range cycles {
		var cids []string
		for _, c := range cyc {
			id := srv.Enqueue(tatum.PendingTransaction{Chain: chain, SerializedTransaction: c.tx, Hashes: []string{c.wal}})
			cids = append(cids, id)
			ids[c.name] = id
			all = append(all, c)
		}
		cyc[0].on.d.RunCycle(ctx)
		for i, c := range cyc {
			id := cids[i]
			if c.rule == "" {
				if _, ok := srv.Completed(id); !ok || srv.Broadcasts(id) != 1 {
					t.Errorf("cycle %d %s: not broadcast once (broadcasts %d); reports: %s", ci, c.name, srv.Broadcasts(id), reportFor(srv, id))
				}
				continue
			}
			if srv.Broadcasts(id) != 0 {
				t.Errorf("cycle %d %s: REFUSED TRANSACTION BROADCAST", ci, c.name)
			}
			if r := reportFor(srv, id); !strings.Contains(r, "policy refused: rule "+c.rule+":") {
				t.Errorf("cycle %d %s: report %q does not name rule %s", ci, c.name, r, c.rule)
			}
		}
	}
	cycles[0][0].on.d.RunCycle(ctx)
	for _, c := range all {
		if c.rule != "" && srv.Broadcasts(ids[c.name]) != 0 {
			t.Errorf("%s: broadcast on a later cycle", c.name)
		}
	}
	return ids
}

// trc20 rewrites a committed TRC-20 vector's pending transaction to call
// contract (41 + 20 bytes, hex) with transfer(to, amount): the 68 bytes of
// call data and the 21-byte contract keep their length, so raw_data_hex
// changes only there, and txID is its new sha256. Independent of
// signing/tron's encoder.
func trc20(t *testing.T, serialized, contract, to string, amount int64) string {
	t.Helper()
	var tx struct {
		TxID    string `json:"txID"`
		RawData struct {
			Contract []struct {
				Parameter struct {
					Value struct {
						Data     string `json:"data"`
						Contract string `json:"contract_address"`
					} `json:"value"`
				} `json:"parameter"`
			} `json:"contract"`
		} `json:"raw_data"`
		RawDataHex string `json:"raw_data_hex"`
	}
	if err := json.Unmarshal([]byte(serialized), &tx); err != nil {
		t.Fatal(err)
	}
	v := tx.RawData.Contract[0].Parameter.Value
	data := fmt.Sprintf("a9059cbb%024x%s%064x", 0, to[2:], amount)
	raw := strings.Replace(strings.Replace(tx.RawDataHex, v.Data, data, 1), v.Contract, contract, 1)
	if strings.Count(tx.RawDataHex, v.Data) != 1 || strings.Count(tx.RawDataHex, v.Contract) != 1 || len(raw) != len(tx.RawDataHex) {
		t.Fatal("the vector's call data or contract is not once in raw_data_hex")
	}
	b, _ := hex.DecodeString(raw)
	id := sha256.Sum256(b)
	out := strings.Replace(serialized, tx.RawDataHex, raw, 1)
	out = strings.Replace(out, `"data":"`+v.Data+`"`, `"data":"`+data+`"`, 1)
	out = strings.Replace(out, `"contract_address":"`+v.Contract+`"`, `"contract_address":"`+contract+`"`, 1)
	return strings.Replace(out, tx.TxID, hex.EncodeToString(id[:]), 1)
}

func tronB58(hex41 string) string {
	b, _ := hex.DecodeString(hex41)
	return base58.CheckEncode(b[1:], b[0])
}

// TestPolicyTRC20ThroughDaemon: TRC-20 transfers of the committed vectors'
// wallets; the policy lists one token contract with maxAmount and
// maxDaily and two recipients. Two daemons share the journal, so the
// 24-hour total is theirs together.
func TestPolicyTRC20ThroughDaemon(t *testing.T) {
	useSigners(t, signing.Family{"TRON": tron.NewSigner(tron.Params{})})
	dir := t.TempDir()
	ctx := context.Background()
	var f struct {
		Transactions []struct{ Kind, Name, PrivateKey, SerializedTransaction string }
	}
	readVectorFile(t, "tron", &f)
	store := memory.New()
	var base []string // a TRC-20 pending transaction of each wallet
	wallets := []string{}
	secrets := []string{}
	for _, v := range f.Transactions {
		if v.Kind != "trc20" || len(base) == 2 {
			continue
		}
		id := fmt.Sprint("tron-", len(base))
		if err := store.Put(ctx, backend.Record{ID: id, Kind: backend.PrivateKey, Chain: "TRON", Testnet: true, Secret: []byte(v.PrivateKey)}); err != nil {
			t.Fatal(err)
		}
		base = append(base, v.SerializedTransaction)
		wallets = append(wallets, id)
		secrets = append(secrets, v.PrivateKey)
	}
	// The vectors' two TRC-20 contracts: USDT, listed; the other, not.
	const usdt, other = "41a614f803b6fd780986a42c78ec9c7f77e6ded13c", "41f18560273d99203ab9a303932d7a3f37ba8b06b0"
	const r1, r2, r3 = "415cbdd86a2fa8dc4bddd8a8f69dba48572eec07fb", "41ea51342dabbb928ae1e576bd39eff8aaf070a8c6", "4133333333333333333333333333333333333333aa"
	j, err := journal.OpenFile(filepath.Join(dir, "journal.db"), journal.FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	srv := tatumtest.New(tatumtest.Options{})
	t.Cleanup(srv.Close)
	var mu sync.Mutex
	sent := map[string]*big.Int{} // contract/recipient -> amount, as broadcast
	srv.SetBroadcaster("TRON", func(_ context.Context, txData string) (string, error) {
		v, err := tron.DecodeView("TRON", true, "", txData)
		if err != nil {
			return "", err
		}
		mu.Lock()
		defer mu.Unlock()
		for _, o := range v.Outputs {
			k := o.Token + "/" + o.Address
			if sent[k] == nil {
				sent[k] = new(big.Int)
			}
			sent[k].Add(sent[k], o.Amount)
		}
		return v.TxID, nil
	})
	pol := fmt.Sprintf(`version: 1
chains:
  TRON:
    destinations: [%q, %q]
    tokens:
      - token: %q
        maxAmount: 1000
        maxDaily: 1500
`, tronB58(r1), tronB58(r2), tronB58(usdt))
	a := startNode(t, "tron-a", pol, dir, srv, store, j, "TRON")
	b := startNode(t, "tron-b", pol, dir, srv, store, j, "TRON")
	tok := "chains.TRON.tokens[" + tronB58(usdt) + "]"
	ids := runTokenCycles(t, srv, "TRON", [][]tokenCase{
		{
			{"allowed", a, trc20(t, base[0], usdt, r1, 600), wallets[0], ""},
			{"over maxAmount", a, trc20(t, base[0], usdt, r1, 1001), wallets[0], tok + ".maxAmount"},
			{"wrong recipient", a, trc20(t, base[0], usdt, r3, 10), wallets[0], "chains.TRON.destinations"},
			{"unlisted token", a, trc20(t, base[1], other, r1, 10), wallets[1], "chains.TRON.tokens"},
		},
		{{"second daemon, within the day's total", b, trc20(t, base[1], usdt, r2, 800), wallets[1], ""}},
		{{"over the 24h total of both daemons", a, trc20(t, base[0], usdt, r1, 200), wallets[0], tok + ".maxDaily"}},
		{{"the rest of the day's total", b, trc20(t, base[1], usdt, r1, 100), wallets[1], ""}},
		{{"one more after the total is used", a, trc20(t, base[0], usdt, r2, 1), wallets[0], tok + ".maxDaily"}},
	})
	mu.Lock()
	got := fmt.Sprint(sent)
	mu.Unlock()
	want := fmt.Sprint(map[string]*big.Int{tronB58(usdt) + "/" + tronB58(r1): big.NewInt(700), tronB58(usdt) + "/" + tronB58(r2): big.NewInt(800)})
	if got != want {
		t.Errorf("broadcast %s, want %s", got, want)
	}
	if sum, err := j.SumSince(ctx, "policy/chain/TRON/token/"+tronB58(usdt), time.Now().Add(-25*time.Hour)); err != nil || sum.Int64() != 1500 {
		t.Errorf("the token's counter: %v %v, want 1500", sum, err)
	}
	checkTokenAudit(t, a, ids["allowed"], tronB58(usdt), "600", secrets)
	b.close(t)
}

// checkTokenAudit: the allowed transfer's signed entry names the token
// destination; the log verifies and holds no secret.
func checkTokenAudit(t *testing.T, nd *node, id, token, amount string, secrets []string) {
	t.Helper()
	nd.close(t)
	if r, err := audit.Verify(nd.path); err != nil || !r.OK() {
		t.Fatalf("verify %+v %v", r, err)
	}
	found := false
	for _, e := range entriesFor(t, nd.path, id) {
		if e.Event == "signed" && len(e.Destinations) == 1 && e.Destinations[0].Token == token && e.Destinations[0].Amount == amount {
			found = true
		}
	}
	if !found {
		t.Errorf("no signed entry with the token destination: %+v", entriesFor(t, nd.path, id))
	}
	raw, _ := os.ReadFile(nd.path)
	for _, s := range secrets {
		if strings.Contains(string(raw), s) || strings.Contains(nd.logs.String(), s) {
			t.Fatal("a secret reached the audit log or the daemon log")
		}
	}
}

// xlmPayment rewrites a committed XLM asset vector's unsigned envelope:
// one payment of amount stroops of asset (CODE:ISSUER) to dest, with the
// sequence number seq (so that each transaction is another).
func xlmPayment(t *testing.T, envelope, asset, dest string, amount int64, seq int64) string {
	t.Helper()
	var env xdr.TransactionEnvelope
	if err := xdr.SafeUnmarshalBase64(envelope, &env); err != nil {
		t.Fatal(err)
	}
	ops := env.V1.Tx.Operations
	if len(ops) != 1 || ops[0].Body.Type != xdr.OperationTypePayment {
		t.Fatalf("the vector is not one payment")
	}
	p := ops[0].Body.MustPaymentOp()
	code, issuer, _ := strings.Cut(asset, ":")
	a, err := xdr.BuildAsset("credit_alphanum4", issuer, code) // the type follows the code's length
	if err != nil {
		t.Fatal(err)
	}
	p.Asset = a
	p.Amount = xdr.Int64(amount)
	if err := p.Destination.SetAddress(dest); err != nil {
		t.Fatal(err)
	}
	ops[0].Body.PaymentOp = &p
	env.V1.Tx.SeqNum = xdr.SequenceNumber(seq)
	s, err := xdr.MarshalBase64(env)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestPolicyXLMAssetThroughDaemon: XLM issued-asset payments of the
// committed vectors' testnet wallets, as for TRC-20.
func TestPolicyXLMAssetThroughDaemon(t *testing.T) {
	useSigners(t, signing.Family{"XLM": xlm.NewSigner(kms.RecordKeys{Testnet: true}.Ed25519Key)})
	dir := t.TempDir()
	ctx := context.Background()
	var f struct {
		Vectors []struct {
			Kind, Secret, Address string
			Testnet               bool
			Pending               struct{ SerializedTransaction string }
		}
	}
	readVectorFile(t, "xlm", &f)
	store := memory.New()
	var base, wallets, secrets []string
	var asset string
	for _, v := range f.Vectors {
		if v.Kind != "asset" || !v.Testnet || len(base) == 2 {
			continue
		}
		var env xdr.TransactionEnvelope
		if err := xdr.SafeUnmarshalBase64(v.Pending.SerializedTransaction, &env); err != nil {
			t.Fatal(err)
		}
		asset = env.V1.Tx.Operations[0].Body.MustPaymentOp().Asset.StringCanonical()
		id := fmt.Sprint("xlm-", len(base))
		if err := store.Put(ctx, backend.Record{ID: id, Kind: backend.PrivateKey, Chain: "XLM", Testnet: true, Secret: []byte(v.Secret), Address: v.Address}); err != nil {
			t.Fatal(err)
		}
		base = append(base, v.Pending.SerializedTransaction)
		wallets = append(wallets, id)
		secrets = append(secrets, v.Secret)
	}
	code, issuer, _ := strings.Cut(asset, ":")
	otherAsset := "EURT:" + issuer // another code of the same issuer
	if code == "EURT" {
		otherAsset = "USDT:" + issuer
	}
	const r1, r2, r3 = "GBBD47IF6LWK7P7MDEVSCWR7DPUWV3NY3DTQEVFL4NAT4AQH3ZLLFLA5", "GA5ZSEJYB37JRC5AVCIA5MOP4RHTM335X2KGX3IHOJAPP5RE34K4KZVN", "GAS7FTSZFELGCTPTKCSQG3F76HT3FJWKT4KULACAGQ6ZI7BBIEOTXWFW"
	j, err := journal.OpenFile(filepath.Join(dir, "journal.db"), journal.FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	srv := tatumtest.New(tatumtest.Options{})
	t.Cleanup(srv.Close)
	var mu sync.Mutex
	sent := map[string]int64{}
	srv.SetBroadcaster("XLM", func(_ context.Context, txData string) (string, error) {
		// Read with the Stellar SDK, not gokms's decoder.
		var env xdr.TransactionEnvelope
		if err := xdr.SafeUnmarshalBase64(txData, &env); err != nil {
			return "", err
		}
		h, err := network.HashTransactionInEnvelope(env, network.TestNetworkPassphrase)
		if err != nil {
			return "", err
		}
		mu.Lock()
		defer mu.Unlock()
		for _, op := range env.Operations() {
			p := op.Body.MustPaymentOp()
			sent[p.Asset.StringCanonical()+"/"+p.Destination.Address()] += int64(p.Amount)
		}
		return hex.EncodeToString(h[:]), nil
	})
	pol := fmt.Sprintf(`version: 1
chains:
  XLM:
    destinations: [%q, %q]
    tokens:
      - token: %q
        maxAmount: 1000
        maxDaily: 1500
`, r1, r2, asset)
	a := startNode(t, "xlm-a", pol, dir, srv, store, j, "XLM")
	b := startNode(t, "xlm-b", pol, dir, srv, store, j, "XLM")
	tok := "chains.XLM.tokens[" + asset + "]"
	seq := int64(1000)
	pay := func(w int, as, dest string, amount int64) string {
		seq++
		return xlmPayment(t, base[w], as, dest, amount, seq)
	}
	ids := runTokenCycles(t, srv, "XLM", [][]tokenCase{
		{
			{"allowed", a, pay(0, asset, r1, 600), wallets[0], ""},
			{"over maxAmount", a, pay(0, asset, r1, 1001), wallets[0], tok + ".maxAmount"},
			{"wrong recipient", a, pay(0, asset, r3, 10), wallets[0], "chains.XLM.destinations"},
			{"unlisted asset", a, pay(1, otherAsset, r1, 10), wallets[1], "chains.XLM.tokens"},
		},
		{{"second daemon, within the day's total", b, pay(1, asset, r2, 800), wallets[1], ""}},
		{{"over the 24h total of both daemons", a, pay(0, asset, r1, 200), wallets[0], tok + ".maxDaily"}},
	})
	mu.Lock()
	got := fmt.Sprint(sent)
	mu.Unlock()
	if want := fmt.Sprint(map[string]int64{asset + "/" + r1: 600, asset + "/" + r2: 800}); got != want {
		t.Errorf("broadcast %s, want %s", got, want)
	}
	checkTokenAudit(t, a, ids["allowed"], asset, "600", secrets)
	b.close(t)
}
