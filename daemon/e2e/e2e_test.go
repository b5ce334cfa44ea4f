package e2e

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/backend/file"
	"github.com/gokms/gokms/daemon"
	"github.com/gokms/gokms/daemon/btcdtest"
	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/signing/utxo"
	"github.com/gokms/gokms/signing/utxo/utxotest"
	"github.com/gokms/gokms/tatum"
	"github.com/gokms/gokms/tatum/tatumtest"
	"github.com/gokms/gokms/wallet"
)

// One btcd per package (TestMain), shared by the tests, which run in order.
var (
	w       *world
	skipWhy string
)

type world struct {
	dir       string
	node      *btcdtest.Node
	store     *file.Store
	storePath string
	password  string
	gokms     string // the real binary

	miner, pkSeg, pkNested *btcec.PrivateKey
	mn, mnOff              string
	secrets                []string
	dest                   []byte // a P2WPKH script nobody here controls
	nextCoinbase           int64

	logs syncBuf
	log  *slog.Logger
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	bin, err := btcdtest.Find()
	if err != nil {
		if os.Getenv("CI") == "true" {
			fmt.Fprintf(os.Stderr, "FAIL: daemon/e2e needs btcd (CI=true makes a missing node a failure): %v\n", err)
			return 1
		}
		skipWhy = "btcd not available (run scripts/btcd.sh): " + err.Error()
		return m.Run()
	}
	w, err = setup(bin)
	if w != nil {
		defer w.close()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: daemon/e2e setup: %v\n", err)
		return 1
	}
	// And one Vault server, for the Vault cases (backends_test.go).
	defer stopVault()
	if err := startVault(w.dir); err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: daemon/e2e: %v\n", err)
		return 1
	}
	return m.Run()
}

func need(t *testing.T) {
	t.Helper()
	if skipWhy != "" {
		t.Skip(skipWhy)
	}
}

func setup(bin string) (*world, error) {
	dir, err := os.MkdirTemp("", "gokms-e2e-")
	if err != nil {
		return nil, err
	}
	wd := &world{dir: dir, nextCoinbase: 1}
	wd.log = slog.New(slog.NewJSONHandler(&wd.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	wd.password = "e2e-" + hex.EncodeToString(randBytes(12))
	wd.storePath = filepath.Join(dir, "wallet.dat")
	wd.store, err = file.Create(wd.storePath, []byte(wd.password), file.Options{KDF: &file.InsecureTestKDF})
	if err != nil {
		return wd, err
	}
	newPK := func(id string) (*btcec.PrivateKey, backend.Record) {
		k, _ := btcec.NewPrivateKey()
		wif, _ := btcutil.NewWIF(k, &chaincfg.TestNet3Params, true)
		wd.secrets = append(wd.secrets, wif.String(), hex.EncodeToString(k.Serialize()))
		return k, backend.Record{ID: id, Kind: backend.PrivateKey, Chain: "BTC", Testnet: true, Secret: []byte(wif.String())}
	}
	newMN := func(id string) (string, backend.Record) {
		m, _ := wallet.GenerateMnemonic()
		wd.secrets = append(wd.secrets, m, strings.Join(strings.Fields(m)[:3], " "))
		return m, backend.Record{ID: id, Kind: backend.Mnemonic, Chain: "BTC", Testnet: true, Secret: []byte(m)}
	}
	var recs []backend.Record
	var r backend.Record
	wd.miner, r = newPK("miner")
	recs = append(recs, r)
	wd.pkSeg, r = newPK("pk-segwit")
	recs = append(recs, r)
	wd.pkNested, r = newPK("pk-nested")
	recs = append(recs, r)
	wd.mn, r = newMN("mn")
	recs = append(recs, r)
	wd.mnOff, r = newMN("mn-offchain")
	recs = append(recs, r)
	if err := backend.PutAll(context.Background(), wd.store, recs); err != nil {
		return wd, err
	}
	other, _ := btcec.NewPrivateKey()
	wd.dest = p2wpkh(other)

	// The real binary, for the runs that go through the CLI.
	wd.gokms = filepath.Join(dir, "gokms")
	build := exec.Command("go", "build", "-o", wd.gokms, "github.com/gokms/gokms/cmd/gokms")
	if out, err := build.CombinedOutput(); err != nil {
		return wd, fmt.Errorf("go build gokms: %v\n%s", err, out)
	}

	minerAddr, _ := btcutil.NewAddressPubKeyHash(btcutil.Hash160(wd.miner.PubKey().SerializeCompressed()), &chaincfg.RegressionNetParams)
	wd.node, err = btcdtest.Start(bin, filepath.Join(dir, "btcd"), minerAddr)
	if err != nil {
		return wd, err
	}
	// Segwit activates on regtest at height 432 (BIP9, window 144); mine
	// past it, which also matures coinbases 1..400 for spending.
	if _, err := wd.node.RPC.Generate(500); err != nil {
		return wd, fmt.Errorf("generate: %w", err)
	}
	info, err := wd.node.RPC.GetBlockChainInfo()
	if err != nil {
		return wd, err
	}
	if sw, ok := info.SoftForks.Bip9SoftForks["segwit"]; !ok || sw.Status != "active" {
		return wd, fmt.Errorf("segwit not active at height %d: %+v", info.Blocks, info.SoftForks)
	}
	return wd, nil
}

func (wd *world) close() {
	if wd.node != nil {
		wd.node.Stop()
	}
	if wd.store != nil {
		_ = wd.store.Close()
	}
	_ = os.RemoveAll(wd.dir)
}

func randBytes(n int) []byte {
	k, _ := btcec.NewPrivateKey()
	b := k.Serialize()
	return b[:n]
}

func p2wpkh(k *btcec.PrivateKey) []byte {
	a, _ := btcutil.NewAddressWitnessPubKeyHash(btcutil.Hash160(k.PubKey().SerializeCompressed()), &chaincfg.RegressionNetParams)
	s, _ := txscript.PayToAddrScript(a)
	return s
}

func p2pkh(k *btcec.PrivateKey) []byte {
	a, _ := btcutil.NewAddressPubKeyHash(btcutil.Hash160(k.PubKey().SerializeCompressed()), &chaincfg.RegressionNetParams)
	s, _ := txscript.PayToAddrScript(a)
	return s
}

func p2shP2wpkh(k *btcec.PrivateKey) []byte {
	redeem := append([]byte{0, 20}, btcutil.Hash160(k.PubKey().SerializeCompressed())...)
	a, _ := btcutil.NewAddressScriptHash(redeem, &chaincfg.RegressionNetParams)
	s, _ := txscript.PayToAddrScript(a)
	return s
}

func (wd *world) mnKey(t *testing.T, m string, i uint32) *btcec.PrivateKey {
	k, err := wallet.DeriveKey(wallet.BTC, m, i, true)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// coinbase returns the next unspent mature coinbase output (to the miner).
func (wd *world) coinbase(t *testing.T) utxotest.Input {
	t.Helper()
	h := wd.nextCoinbase
	wd.nextCoinbase++
	hash, err := wd.node.RPC.GetBlockHash(h)
	if err != nil {
		t.Fatal(err)
	}
	blk, err := wd.node.RPC.GetBlock(hash)
	if err != nil {
		t.Fatal(err)
	}
	cb := blk.Transactions[0]
	return utxotest.Input{TxID: cb.TxHash().String(), Vout: 0, Script: cb.TxOut[0].PkScript, Satoshis: cb.TxOut[0].Value}
}

// broadcaster forwards the stand-in's broadcasts to the node.
func (wd *world) broadcaster(ctx context.Context, txData string) (string, error) {
	raw, err := hex.DecodeString(txData)
	if err != nil {
		return "", err
	}
	var tx wire.MsgTx
	if err := tx.Deserialize(bytes.NewReader(raw)); err != nil {
		return "", err
	}
	h, err := wd.node.RPC.SendRawTransaction(&tx, false)
	if err != nil {
		return "", err
	}
	return h.String(), nil
}

func (wd *world) newStandIn(t *testing.T) *tatumtest.Server {
	s := tatumtest.New(tatumtest.Options{Logf: t.Logf})
	t.Cleanup(s.Close)
	s.SetBroadcaster("BTC", wd.broadcaster)
	return s
}

func (wd *world) runDaemon(t *testing.T, srv *tatumtest.Server, mod func(*daemon.Config)) error {
	t.Helper()
	return wd.newDaemon(t, srv, mod).RunOnce(context.Background())
}

func (wd *world) newDaemon(t *testing.T, srv *tatumtest.Server, mod func(*daemon.Config)) *daemon.Daemon {
	t.Helper()
	api := tatum.New(tatum.Options{BaseURL: srv.URL, APIKey: srv.APIKey, Logger: wd.log,
		MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
	cfg := daemon.Config{Backend: wd.store, API: api, Signers: utxoSigners, Chains: []string{"BTC"}, Testnet: true, Logger: wd.log, Concurrency: 4}
	if mod != nil {
		mod(&cfg)
	}
	d, err := daemon.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	return d
}

// accepted checks the node has the transaction the stand-in completed id
// with (in its mempool or mined) and returns its txid.
func (wd *world) accepted(t *testing.T, srv *tatumtest.Server, id string) *chainhash.Hash {
	t.Helper()
	txid, ok := srv.Completed(id)
	if !ok {
		t.Fatalf("pending %s not completed; reported errors %v", id, srv.Errors())
	}
	if n := srv.Broadcasts(id); n != 1 {
		t.Fatalf("pending %s broadcast %d times", id, n)
	}
	h, err := chainhash.NewHashFromStr(txid)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wd.node.RPC.GetRawTransactionVerbose(h); err != nil {
		t.Fatalf("node does not know %s (pending %s): %v", txid, id, err)
	}
	return h
}

// mineAndConfirm mines a block and checks every txid is in it or earlier.
func (wd *world) mineAndConfirm(t *testing.T, txids ...*chainhash.Hash) {
	t.Helper()
	if _, err := wd.node.RPC.Generate(1); err != nil {
		t.Fatal(err)
	}
	for _, h := range txids {
		v, err := wd.node.RPC.GetRawTransactionVerbose(h)
		if err != nil {
			t.Fatal(err)
		}
		if v.Confirmations < 1 {
			t.Fatalf("%s not mined", h)
		}
	}
}

func (wd *world) bitcore(t *testing.T, ins []utxotest.Input, outs []utxotest.Output) string {
	t.Helper()
	var in int64
	for _, i := range ins {
		in += i.Satoshis
	}
	var out int64
	for _, o := range outs {
		out += o.Satoshis
	}
	if out == 0 {
		outs = append(outs, utxotest.Output{Script: wd.dest, Satoshis: in - 10000})
	}
	s, err := utxotest.BitcoreJSON(ins, outs, 0)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (wd *world) noSecrets(t *testing.T, texts ...string) {
	t.Helper()
	for _, s := range wd.secrets {
		for _, txt := range texts {
			if strings.Contains(txt, s) {
				t.Errorf("a secret leaked into logs or reports")
			}
		}
	}
}

func u32(v uint32) *uint32 { return &v }

func out(txid *chainhash.Hash, vout uint32, script []byte, sat int64) utxotest.Input {
	return utxotest.Input{TxID: txid.String(), Vout: vout, Script: script, Satoshis: sat}
}

// TestDaemonAgainstBtcd funds every kind of wallet output from coinbases
// through the daemon, then spends them all (private-key P2WPKH and
// P2SH-P2WPKH, mnemonic P2WPKH and P2PKH, mixed wallets, an off-chain
// withdrawal) with the faults of the issue, and checks the node accepted and
// mined exactly what the stand-in recorded.
func TestDaemonAgainstBtcd(t *testing.T) {
	need(t)
	const coin = 100_000_000
	mnK := func(i uint32) *btcec.PrivateKey { return w.mnKey(t, w.mn, i) }
	offK := func(i uint32) *btcec.PrivateKey { return w.mnKey(t, w.mnOff, i) }
	fundOuts := []utxotest.Output{
		{Script: p2wpkh(w.pkSeg), Satoshis: coin},        // 0
		{Script: p2shP2wpkh(w.pkNested), Satoshis: coin}, // 1
		{Script: p2wpkh(mnK(0)), Satoshis: coin},         // 2
		{Script: p2pkh(mnK(1)), Satoshis: coin},          // 3
		{Script: p2wpkh(mnK(2)), Satoshis: coin},         // 4
		{Script: p2wpkh(offK(0)), Satoshis: coin},        // 5
		{Script: p2pkh(offK(3)), Satoshis: coin},         // 6
		{Script: p2wpkh(mnK(5)), Satoshis: coin},         // 7 unknown signatureId
		{Script: p2wpkh(mnK(6)), Satoshis: coin},         // 8 mnemonic without index
		{Script: p2wpkh(mnK(7)), Satoshis: coin},         // 9 four-eye refusal
		{Script: p2wpkh(mnK(8)), Satoshis: coin},         // 10 500 before handling
		{Script: p2wpkh(mnK(9)), Satoshis: coin},         // 11 500 after handling
		{Script: p2wpkh(mnK(20)), Satoshis: coin},        // 12 for the binary run
		{Script: p2shP2wpkh(mnK(21)), Satoshis: coin},    // 13 for the binary run
	}
	var fund *chainhash.Hash
	t.Run("fund from coinbases", func(t *testing.T) {
		srv := w.newStandIn(t)
		ins := []utxotest.Input{w.coinbase(t), w.coinbase(t), w.coinbase(t)}
		var in int64
		for _, i := range ins {
			in += i.Satoshis
		}
		outs := append([]utxotest.Output(nil), fundOuts...)
		outs = append(outs, utxotest.Output{Script: p2pkh(w.miner), Satoshis: in - int64(len(fundOuts))*coin - 20000})
		id := srv.Enqueue(tatum.PendingTransaction{Chain: "BTC", SerializedTransaction: w.bitcore(t, ins, outs), Hashes: []string{"miner"}})
		if err := w.runDaemon(t, srv, nil); err != nil {
			t.Fatal(err)
		}
		fund = w.accepted(t, srv, id)
		w.mineAndConfirm(t, fund)
	})
	if fund == nil {
		t.Fatal("funding failed")
	}
	fo := func(i uint32) utxotest.Input { return out(fund, i, fundOuts[i].Script, fundOuts[i].Satoshis) }

	var mined []*chainhash.Hash
	t.Run("spend every wallet kind", func(t *testing.T) {
		srv := w.newStandIn(t)
		ids := []string{
			srv.Enqueue(tatum.PendingTransaction{Chain: "BTC", SerializedTransaction: w.bitcore(t, []utxotest.Input{fo(0)}, nil), Hashes: []string{"pk-segwit"}}),
			srv.Enqueue(tatum.PendingTransaction{Chain: "BTC", SerializedTransaction: w.bitcore(t, []utxotest.Input{fo(1)}, nil), Hashes: []string{"pk-nested"}}),
			srv.Enqueue(tatum.PendingTransaction{Chain: "BTC", SerializedTransaction: w.bitcore(t, []utxotest.Input{fo(2), fo(3)}, nil),
				Signatures: []tatum.Signature{{ID: "mn", Index: u32(0)}, {ID: "mn", Index: u32(1)}}}),
			srv.Enqueue(tatum.PendingTransaction{Chain: "BTC", SerializedTransaction: w.bitcore(t, []utxotest.Input{w.coinbase(t), fo(4)}, nil),
				Hashes: []string{"miner"}, Signatures: []tatum.Signature{{ID: "mn", Index: u32(2)}}}),
		}
		// Off-chain withdrawal: the mnemonic in hashes[0], indexes in the
		// responses (index 0 by omission), the pool entry vIn "-1".
		resp, _ := json.Marshal([]map[string]any{
			{"address": map[string]any{"address": "x", "currency": "BTC"}, "amount": 1, "vIn": fund.String(), "vInIndex": 5},
			{"address": map[string]any{"address": "y", "currency": "BTC", "derivationKey": 3}, "amount": 1, "vIn": fund.String(), "vInIndex": 6},
			{"address": map[string]any{"address": "pool", "currency": "BTC"}, "amount": 0, "vIn": "-1", "vInIndex": 0},
		})
		off := srv.Enqueue(tatum.PendingTransaction{Chain: "BTC", SerializedTransaction: w.bitcore(t, []utxotest.Input{fo(5), fo(6)}, nil),
			Hashes: []string{"mn-offchain"}, WithdrawalID: "wd-1", WithdrawalResponses: resp})
		if err := w.runDaemon(t, srv, nil); err != nil {
			t.Fatal(err)
		}
		for _, id := range append(ids, off) {
			mined = append(mined, w.accepted(t, srv, id))
		}
		if srv.CountRequests("POST", "/v3/offchain/withdrawal/broadcast") != 1 {
			t.Fatal("the withdrawal did not go through /v3/offchain/withdrawal/broadcast")
		}
		w.noSecrets(t, w.logs.String(), fmt.Sprint(srv.Errors()))
	})

	t.Run("faults", func(t *testing.T) {
		srv := w.newStandIn(t)
		unknown := srv.Enqueue(tatum.PendingTransaction{Chain: "BTC", SerializedTransaction: w.bitcore(t, []utxotest.Input{fo(7)}, nil), Hashes: []string{"ghost"},
			Signatures: []tatum.Signature{{ID: "mn", Index: u32(5)}}})
		noIndex := srv.Enqueue(tatum.PendingTransaction{Chain: "BTC", SerializedTransaction: w.bitcore(t, []utxotest.Input{fo(8)}, nil), Hashes: []string{"mn"}})
		refused := srv.Enqueue(tatum.PendingTransaction{Chain: "BTC", SerializedTransaction: w.bitcore(t, []utxotest.Input{fo(9)}, nil),
			Signatures: []tatum.Signature{{ID: "mn", Index: u32(7)}}})
		before := srv.Enqueue(tatum.PendingTransaction{Chain: "BTC", SerializedTransaction: w.bitcore(t, []utxotest.Input{fo(10)}, nil),
			Signatures: []tatum.Signature{{ID: "mn", Index: u32(8)}}})
		after := srv.Enqueue(tatum.PendingTransaction{Chain: "BTC", SerializedTransaction: w.bitcore(t, []utxotest.Input{fo(11)}, nil),
			Signatures: []tatum.Signature{{ID: "mn", Index: u32(9)}}})

		// Four-eye endpoint approving everything but `refused`.
		var approve sync.Map
		ext := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			id := strings.TrimPrefix(r.URL.Path, "/check/")
			if _, ok := approve.Load(id); !ok {
				http.Error(rw, "not ours", http.StatusForbidden)
			}
		}))
		defer ext.Close()
		for _, id := range []string{unknown, noIndex, before, after} {
			approve.Store(id, true)
		}
		fourEye := func(c *daemon.Config) { c.ExternalURL = ext.URL + "/check" }

		// Cycle 1: unknown id, no index, refusal.
		err := w.runDaemon(t, srv, func(c *daemon.Config) { fourEye(c); c.TransactionIDs = []string{unknown, noIndex, refused} })
		if err == nil || !strings.Contains(err.Error(), "2 of 5 pending transaction(s) failed") {
			t.Fatalf("RunOnce: %v", err)
		}
		reports := map[string]string{}
		for _, e := range srv.Errors() {
			reports[e.SignatureID] = e.Error
		}
		if !strings.Contains(reports[unknown], "signatureId ghost: no such wallet") ||
			!strings.Contains(reports[noIndex], "signatureId mn is a mnemonic wallet, but the transaction gives no index") || len(reports) != 2 {
			t.Fatalf("reports %v", reports)
		}
		for _, id := range []string{unknown, noIndex, refused} {
			if srv.Broadcasts(id) != 0 {
				t.Fatalf("%s was broadcast", id)
			}
		}

		// Cycle 2: the broadcast of `before` fails with 500 before Tatum
		// acts: outcome unknown, not reported, not completed.
		srv.Inject(tatumtest.Fault{Path: "/v3/bitcoin/broadcast", Status: 500})
		d := w.newDaemon(t, srv, func(c *daemon.Config) { fourEye(c); c.TransactionIDs = []string{before} })
		if err := d.RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		if _, ok := srv.Completed(before); ok || len(srv.Errors()) != 2 {
			t.Fatalf("completed or reported despite the unknown outcome: %v", srv.Errors())
		}
		// Cycle 3 of the same daemon: GET shows no txId, the same bytes go
		// out once more and the node takes them.
		if err := d.RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		mined = append(mined, w.accepted(t, srv, before))
		if srv.CountRequests("GET", "/v3/kms/"+before) < 2 {
			t.Fatal("the retry did not check GET /v3/kms/{id} first")
		}

		// Cycle 4: `after` is broadcast by Tatum, then its answer is lost.
		srv.Inject(tatumtest.Fault{Path: "/v3/bitcoin/broadcast", Status: 500, AfterHandling: true})
		if err := w.runDaemon(t, srv, func(c *daemon.Config) { fourEye(c); c.TransactionIDs = []string{after} }); err != nil {
			t.Fatal(err)
		}
		mined = append(mined, w.accepted(t, srv, after))
		// Another cycle over everything: nothing is broadcast twice, the
		// refused one stays unsigned.
		_ = w.runDaemon(t, srv, fourEye)
		for _, id := range []string{before, after} {
			if srv.Broadcasts(id) != 1 {
				t.Fatalf("%s broadcast %d times", id, srv.Broadcasts(id))
			}
		}
		if srv.Broadcasts(refused) != 0 {
			t.Fatal("refused transaction broadcast")
		}
		// Once approved, the refused transaction goes through.
		approve.Store(refused, true)
		_ = w.runDaemon(t, srv, func(c *daemon.Config) { fourEye(c); c.TransactionIDs = []string{refused} })
		mined = append(mined, w.accepted(t, srv, refused))
		w.noSecrets(t, w.logs.String(), fmt.Sprint(srv.Errors()))
	})

	t.Run("mined", func(t *testing.T) {
		w.mineAndConfirm(t, mined...)
		if len(mined) != 8 {
			t.Fatalf("%d transactions mined, want 8", len(mined))
		}
	})

	t.Run("gokms daemon --runOnce binary", func(t *testing.T) {
		srv := w.newStandIn(t)
		a := srv.Enqueue(tatum.PendingTransaction{Chain: "BTC", SerializedTransaction: w.bitcore(t, []utxotest.Input{fo(12), fo(13)}, nil),
			Signatures: []tatum.Signature{{ID: "mn", Index: u32(20)}, {ID: "mn", Index: u32(21)}}})
		b := srv.Enqueue(tatum.PendingTransaction{Chain: "BTC", SerializedTransaction: w.bitcore(t, []utxotest.Input{w.coinbase(t)}, nil), Hashes: []string{"miner"}})
		stdout, stderr, code := w.gokmsRun(t, srv, "daemon", "--testnet", "--runOnce", "--chain", "BTC", "--path", w.storePath, "--log-format", "json")
		if code != 0 {
			t.Fatalf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
		}
		ha, hb := w.accepted(t, srv, a), w.accepted(t, srv, b)
		w.mineAndConfirm(t, ha, hb)
		w.noSecrets(t, stdout, stderr)
		if !strings.Contains(stderr, `"msg":"transaction signed and broadcast"`) {
			t.Fatalf("no JSON log of the broadcast:\n%s", stderr)
		}

		// A failure makes --runOnce exit 1 and is reported to Tatum.
		bad := srv.Enqueue(tatum.PendingTransaction{Chain: "BTC", SerializedTransaction: w.bitcore(t, []utxotest.Input{w.coinbase(t)}, nil), Hashes: []string{"miner", "nope"}})
		_, stderr, code = w.gokmsRun(t, srv, "daemon", "--testnet", "--runOnce", "--chain", "BTC", "--path", w.storePath)
		if code != 1 || !strings.Contains(stderr, "error: 1 of 1 pending transaction(s) failed") {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		if len(srv.Errors()) != 1 || srv.Errors()[0].SignatureID != bad {
			t.Fatalf("reports %v", srv.Errors())
		}

		// A wrong password stops the daemon before it polls.
		before := srv.CountRequests("POST", "/v3/kms/pending/BTC")
		_, stderr, code = w.gokmsRunEnv(t, srv, []string{"TATUM_KMS_PASSWORD=wrong"}, "daemon", "--testnet", "--runOnce", "--path", w.storePath)
		if code != 1 || !strings.Contains(stderr, "wrong password") || srv.CountRequests("POST", "/v3/kms/pending/BTC") != before {
			t.Fatalf("wrong password: exit %d\n%s", code, stderr)
		}
	})
}

// TestDaemonBinaryServesAndStops runs the real binary as a daemon (no
// --runOnce): it signs what appears, serves /healthz and /metrics, and on
// SIGTERM finishes and exits 0.
func TestDaemonBinaryServesAndStops(t *testing.T) {
	need(t)
	srv := w.newStandIn(t)
	first := srv.Enqueue(tatum.PendingTransaction{Chain: "BTC", SerializedTransaction: w.bitcore(t, []utxotest.Input{w.coinbase(t)}, nil), Hashes: []string{"miner"}})
	port := freePort(t)
	cmd := exec.Command(w.gokms, "daemon", "--testnet", "--period", "0.2", "--chain", "BTC", "--path", w.storePath,
		"--listen", fmt.Sprintf("127.0.0.1:%d", port))
	cmd.Dir = w.dir
	cmd.Env = []string{"HOME=" + w.dir, "PATH=" + os.Getenv("PATH"),
		"TATUM_API_URL=" + srv.URL, "TATUM_API_KEY=" + srv.APIKey, "TATUM_KMS_PASSWORD=" + w.password}
	var se syncBuf
	cmd.Stdout, cmd.Stderr = &se, &se
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	}()
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s\n%s", what, se.String())
			}
			select {
			case err := <-exited:
				t.Fatalf("daemon exited early: %v\n%s", err, se.String())
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	waitFor("the first transaction", func() bool { _, ok := srv.Completed(first); return ok })
	// A transaction that appears while it runs is picked up by a later cycle.
	second := srv.Enqueue(tatum.PendingTransaction{Chain: "BTC", SerializedTransaction: w.bitcore(t, []utxotest.Input{w.coinbase(t)}, nil), Hashes: []string{"miner"}})
	waitFor("the second transaction", func() bool { _, ok := srv.Completed(second); return ok })
	w.mineAndConfirm(t, w.accepted(t, srv, first), w.accepted(t, srv, second))

	get := func(path string) (int, string) {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d%s", port, path))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	}
	if code, body := get("/healthz"); code != 200 || !strings.Contains(body, `"status":"ok"`) {
		t.Fatalf("healthz %d %s", code, body)
	}
	if _, body := get("/metrics"); !strings.Contains(body, `gokms_daemon_broadcast_total{chain="BTC"} 2`) {
		t.Fatalf("metrics:\n%s", body)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, se.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatal("daemon did not stop after SIGTERM")
	}
	w.noSecrets(t, se.String())
	if !strings.Contains(se.String(), "daemon stopped") {
		t.Fatalf("no clean stop in the log:\n%s", se.String())
	}
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (wd *world) gokmsRun(t *testing.T, srv *tatumtest.Server, args ...string) (string, string, int) {
	return wd.gokmsRunEnv(t, srv, nil, args...)
}

// gokmsRunEnv runs the real binary against the stand-in, secrets in the
// environment as an operator would pass them.
func (wd *world) gokmsRunEnv(t *testing.T, srv *tatumtest.Server, extra []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(wd.gokms, args...)
	cmd.Dir = wd.dir
	cmd.Env = append([]string{
		"HOME=" + wd.dir, "PATH=" + os.Getenv("PATH"),
		"TATUM_API_URL=" + srv.URL, "TATUM_API_KEY=" + srv.APIKey, "TATUM_KMS_PASSWORD=" + wd.password,
	}, extra...)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return so.String(), se.String(), code
}

// utxoSigners is the Set the BTC world signs with, as the application builds it.
var utxoSigners = func() *signing.Set {
	s, err := signing.NewSet(utxo.Family())
	if err != nil {
		panic(err)
	}
	return s
}()
