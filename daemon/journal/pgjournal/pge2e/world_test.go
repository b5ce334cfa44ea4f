package pge2e

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
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
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/backend/file"
	"github.com/gokms/gokms/daemon/btcdtest"
	"github.com/gokms/gokms/daemon/journal/pgjournal/pgtest"
	"github.com/gokms/gokms/signing/evm/evmtest"
	"github.com/gokms/gokms/signing/utxo/utxotest"
	"github.com/gokms/gokms/tatum"
	"github.com/gokms/gokms/tatum/tatumtest"
)

// One PostgreSQL, one btcd, one simulated EVM chain and one gokms binary
// per package (TestMain); tests and benchmarks run in order.
var w *world

type world struct {
	dir      string
	pg       *pgtest.Server
	node     *btcdtest.Node
	chain    *evmtest.Chain
	gokms    string
	password string
	store    string // the wallet store each daemon copies

	miner   *btcec.PrivateKey
	btcKey  *btcec.PrivateKey   // wallet "btc-pk": owns the funding outputs (P2WPKH)
	evmKeys []*btcec.PrivateKey // wallets "evm-pk-<i>"
	secrets []string

	mu       sync.Mutex
	utxos    []utxotest.Input // funding outputs not yet handed to a pending transaction
	nextID   uint64
	evmNonce map[int]uint64 // sender index -> transactions queued so far (all runs)
}

const (
	evmSenders  = 3
	fundSat     = 100_000
	paySat      = 90_000
	evmValueWei = 1_000_000_000_000_000 // 0.001 ETH
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	ci := os.Getenv("CI") == "true"
	pgtest.UnsetEnv()
	pgBin, err := pgtest.Find(ci)
	if err != nil {
		if ci {
			fmt.Fprintf(os.Stderr, "FAIL: pge2e needs PostgreSQL (CI=true makes a missing server a failure): %v\n", err)
			return 1
		}
		fmt.Fprintf(os.Stderr, "pge2e: skipping, %v\n", err)
		return m.Run() // every test calls need(t), which skips
	}
	btcdBin, err := btcdtest.Find()
	if err != nil {
		if ci {
			fmt.Fprintf(os.Stderr, "FAIL: pge2e needs btcd (CI=true makes a missing node a failure): %v\n", err)
			return 1
		}
		fmt.Fprintf(os.Stderr, "pge2e: skipping, %v\n", err)
		return m.Run()
	}
	w, err = setup(pgBin, btcdBin)
	if w != nil {
		defer w.close()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: pge2e setup: %v\n", err)
		return 1
	}
	return m.Run()
}

func need(t testing.TB) {
	t.Helper()
	if w == nil {
		t.Skip("PostgreSQL or btcd not available (run scripts/postgres.sh and scripts/btcd.sh)")
	}
}

func setup(pgBin, btcdBin string) (*world, error) {
	dir, err := os.MkdirTemp("", "gokms-pge2e-")
	if err != nil {
		return nil, err
	}
	wd := &world{dir: dir, nextID: uint64(time.Now().UnixNano()) & 0xffffffffff, evmNonce: map[int]uint64{}}
	wd.password = "pge2e-" + hex.EncodeToString(randBytes(12))
	wd.secrets = append(wd.secrets, wd.password)
	if wd.pg, err = pgtest.Start(pgBin); err != nil {
		return wd, err
	}
	wd.gokms = filepath.Join(dir, "gokms")
	build := []string{"build", "-o", wd.gokms}
	if profileDir() != "" {
		build = append(build, "-tags", "gokms_cpuprofile") // cmd/gokms/cpuprofile.go
	}
	if out, err := exec.Command("go", append(build, "github.com/gokms/gokms/cmd/gokms")...).CombinedOutput(); err != nil {
		return wd, fmt.Errorf("go build gokms: %v\n%s", err, out)
	}

	wd.miner, _ = btcec.NewPrivateKey()
	wd.btcKey, _ = btcec.NewPrivateKey()
	wif, _ := btcutil.NewWIF(wd.btcKey, &chaincfg.TestNet3Params, true)
	wd.secrets = append(wd.secrets, wif.String(), hex.EncodeToString(wd.btcKey.Serialize()))
	recs := []backend.Record{{ID: "btc-pk", Kind: backend.PrivateKey, Chain: "BTC", Testnet: true, Secret: []byte(wif.String())}}
	alloc := types.GenesisAlloc{}
	for i := 0; i < evmSenders; i++ {
		k, _ := btcec.NewPrivateKey()
		wd.evmKeys = append(wd.evmKeys, k)
		hexKey := "0x" + hex.EncodeToString(k.Serialize())
		wd.secrets = append(wd.secrets, hexKey, hexKey[2:])
		recs = append(recs, backend.Record{ID: fmt.Sprintf("evm-pk-%d", i), Kind: backend.PrivateKey, Chain: "ETH", Testnet: true,
			Secret: []byte(hexKey), Address: evmAddr(k).Hex()})
		alloc[evmAddr(k)] = types.Account{Balance: new(big.Int).Mul(big.NewInt(1000), evmtest.Ether)}
	}
	wd.store = filepath.Join(dir, "wallet.dat")
	st, err := file.Create(wd.store, []byte(wd.password), file.Options{KDF: &file.InsecureTestKDF})
	if err != nil {
		return wd, err
	}
	if err := backend.PutAll(context.Background(), st, recs); err != nil {
		return wd, err
	}
	if err := st.Close(); err != nil {
		return wd, err
	}

	if wd.chain, err = evmtest.New(11155111, alloc); err != nil {
		return wd, err
	}
	minerAddr, _ := btcutil.NewAddressPubKeyHash(btcutil.Hash160(wd.miner.PubKey().SerializeCompressed()), &chaincfg.RegressionNetParams)
	if wd.node, err = btcdtest.Start(btcdBin, filepath.Join(dir, "btcd"), minerAddr); err != nil {
		return wd, err
	}
	// Segwit activates at height 432 on regtest; 500 blocks also mature
	// the first coinbases, which fund 8,000 outputs of 100,000 sat.
	if _, err := wd.node.RPC.Generate(500); err != nil {
		return wd, fmt.Errorf("generate: %w", err)
	}
	for h := int64(1); h <= 8; h++ {
		if err := wd.fund(h, 1000); err != nil {
			return wd, err
		}
	}
	if _, err := wd.node.RPC.Generate(1); err != nil {
		return wd, err
	}
	return wd, nil
}

// fund spends the coinbase of block h into n outputs of fundSat to btc-pk.
func (wd *world) fund(h int64, n int) error {
	hash, err := wd.node.RPC.GetBlockHash(h)
	if err != nil {
		return err
	}
	blk, err := wd.node.RPC.GetBlock(hash)
	if err != nil {
		return err
	}
	cb := blk.Transactions[0]
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(wire.NewTxIn(wire.NewOutPoint(ptr(cb.TxHash()), 0), nil, nil))
	script := p2wpkh(wd.btcKey)
	for i := 0; i < n; i++ {
		tx.AddTxOut(wire.NewTxOut(fundSat, script))
	}
	change := cb.TxOut[0].Value - int64(n)*fundSat - 100_000
	tx.AddTxOut(wire.NewTxOut(change, cb.TxOut[0].PkScript))
	sig, err := txscript.SignatureScript(tx, 0, cb.TxOut[0].PkScript, txscript.SigHashAll, wd.miner, true)
	if err != nil {
		return err
	}
	tx.TxIn[0].SignatureScript = sig
	txid, err := wd.node.RPC.SendRawTransaction(tx, false)
	if err != nil {
		return fmt.Errorf("fund from block %d: %w", h, err)
	}
	for i := 0; i < n; i++ {
		wd.utxos = append(wd.utxos, utxotest.Input{TxID: txid.String(), Vout: uint32(i), Script: script, Satoshis: fundSat})
	}
	return nil
}

func (wd *world) close() {
	if wd.node != nil {
		wd.node.Stop()
	}
	if wd.chain != nil {
		wd.chain.Close()
	}
	if wd.pg != nil {
		wd.pg.Close()
	}
	_ = os.RemoveAll(wd.dir)
}

func ptr[T any](v T) *T { return &v }

func randBytes(n int) []byte {
	k, _ := btcec.NewPrivateKey()
	return k.Serialize()[:n]
}

func p2wpkh(k *btcec.PrivateKey) []byte {
	a, _ := btcutil.NewAddressWitnessPubKeyHash(btcutil.Hash160(k.PubKey().SerializeCompressed()), &chaincfg.RegressionNetParams)
	s, _ := txscript.PayToAddrScript(a)
	return s
}

func evmAddr(k *btcec.PrivateKey) common.Address {
	return crypto.PubkeyToAddress(*k.PubKey().ToECDSA())
}

func (wd *world) newID() string {
	wd.mu.Lock()
	defer wd.mu.Unlock()
	wd.nextID++
	return fmt.Sprintf("%024x", wd.nextID)
}

// queue is one drain's pending transactions and what paying them must do.
type queue struct {
	srv      *tatumtest.Server
	btc      map[string]btcPay // pending id -> its input and recipient
	evm      map[string]evmPay
	evmCount map[int]int // sender index -> transactions
	hold     bool
	held     []tatum.PendingTransaction
}

func (q *queue) add(tx tatum.PendingTransaction) string {
	if q.hold {
		q.held = append(q.held, tx)
		return tx.ID
	}
	return q.srv.Enqueue(tx)
}

// release enqueues the held pending transactions.
func (q *queue) release() {
	for _, tx := range q.held {
		q.srv.Enqueue(tx)
	}
	q.held = nil
}

type btcPay struct {
	in        utxotest.Input
	recipient []byte
}

type evmPay struct {
	sender    int
	recipient common.Address
}

// newQueue makes a stand-in broadcasting to the node and the chain, with
// nBTC and nEVM pending transactions, each paying its own recipient.
func (wd *world) newQueue(t testing.TB, nBTC, nEVM int, latency time.Duration) *queue {
	return wd.newQueueHeld(t, nBTC, nEVM, latency, false)
}

// newQueueHeld is newQueue; with hold, the pending transactions reach the
// stand-in only at release (so a benchmark times the drain alone).
func (wd *world) newQueueHeld(t testing.TB, nBTC, nEVM int, latency time.Duration, hold bool) *queue {
	t.Helper()
	q := &queue{srv: tatumtest.New(tatumtest.Options{}), btc: map[string]btcPay{}, evm: map[string]evmPay{}, evmCount: map[int]int{}, hold: hold}
	t.Cleanup(q.srv.Close)
	q.srv.SetBroadcaster("BTC", wd.btcBroadcast)
	q.srv.SetBroadcaster("ETH", func(ctx context.Context, txData string) (string, error) {
		h, err := wd.chain.SendRaw(ctx, txData)
		if err != nil {
			return "", err
		}
		wd.chain.Commit()
		return h.Hex(), nil
	})
	if latency > 0 {
		// Tatum is a remote API: every call takes its round trip.
		q.srv.Inject(tatumtest.Fault{Path: "/v3/", Delay: latency, Times: -1})
	}
	wd.mu.Lock()
	if len(wd.utxos) < nBTC {
		wd.mu.Unlock()
		t.Fatalf("only %d funding outputs left, %d needed", len(wd.utxos), nBTC)
	}
	ins := wd.utxos[:nBTC]
	wd.utxos = wd.utxos[nBTC:]
	wd.mu.Unlock()
	for _, in := range ins {
		k, _ := btcec.NewPrivateKey()
		rcpt := p2wpkh(k)
		s, err := utxotest.BitcoreJSON([]utxotest.Input{in}, []utxotest.Output{{Script: rcpt, Satoshis: paySat}}, 0)
		if err != nil {
			t.Fatal(err)
		}
		id := q.add(tatum.PendingTransaction{ID: wd.newID(), Chain: "BTC", SerializedTransaction: s, Hashes: []string{"btc-pk"}})
		q.btc[id] = btcPay{in: in, recipient: rcpt}
	}
	for i := 0; i < nEVM; i++ {
		k, _ := btcec.NewPrivateKey()
		rcpt := evmAddr(k)
		sender := i % evmSenders
		id := q.add(tatum.PendingTransaction{ID: wd.newID(), Chain: "ETH",
			SerializedTransaction: fmt.Sprintf(`{"to":"%s","value":"%d"}`, rcpt.Hex(), evmValueWei), Hashes: []string{fmt.Sprintf("evm-pk-%d", sender)}})
		q.evm[id] = evmPay{sender: sender, recipient: rcpt}
		q.evmCount[sender]++
	}
	wd.mu.Lock()
	for s, n := range q.evmCount {
		wd.evmNonce[s] += uint64(n)
	}
	wd.mu.Unlock()
	return q
}

func (wd *world) btcBroadcast(ctx context.Context, txData string) (string, error) {
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

func (q *queue) ids() []string {
	var out []string
	for id := range q.btc {
		out = append(out, id)
	}
	for id := range q.evm {
		out = append(out, id)
	}
	return out
}

// completed counts the pending transactions the stand-in shows complete.
func (q *queue) completed() int {
	n := 0
	for _, id := range q.ids() {
		if _, ok := q.srv.Completed(id); ok {
			n++
		}
	}
	return n
}

// proc is one real `gokms daemon` process.
type proc struct {
	name   string
	cmd    *exec.Cmd
	out    *syncBuf
	exited chan struct{}
	port   int
	fenced float64 // last scraped gokms_state_fenced_writes_total
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

// daemonOpts are the knobs of one daemon process.
type daemonOpts struct {
	state       string // GOKMS_STATE (a postgres:// URL), or "" for the local journal beside the store
	lease       time.Duration
	concurrency int
	period      string
	chains      string
	args        []string // more flags
}

// newDB is a fresh database for one drain; its password joins the secrets
// no output may show.
func (wd *world) newDB(t testing.TB) *pgtest.DB {
	t.Helper()
	db := wd.pg.NewDatabaseT(t)
	wd.mu.Lock()
	wd.secrets = append(wd.secrets, db.Password)
	wd.mu.Unlock()
	return db
}

const flagLease = "lease"

// startDaemon runs `gokms daemon` with its own copy of the wallet store
// (as on its own machine), secrets and the state URL in its environment.
func (wd *world) startDaemon(t testing.TB, name string, q *queue, o daemonOpts) *proc {
	t.Helper()
	home := filepath.Join(wd.dir, "home-"+name+"-"+wd.newID()[16:])
	if err := os.MkdirAll(home, 0o700); err != nil {
		t.Fatal(err)
	}
	store := filepath.Join(home, "wallet.dat")
	copyFile(t, wd.store, store)
	if o.concurrency == 0 {
		o.concurrency = 8
	}
	if o.period == "" {
		o.period = "0.5"
	}
	if o.chains == "" {
		o.chains = "BTC,ETH"
	}
	p := &proc{name: name, out: &syncBuf{}, exited: make(chan struct{}), port: freePort(t)}
	args := []string{"daemon", "--testnet", "--period", o.period, "--chain", o.chains, "--path", store,
		"--concurrency", fmt.Sprint(o.concurrency), "--evm-rpc", "ETH=" + wd.chain.URL,
		"--listen", fmt.Sprintf("127.0.0.1:%d", p.port)}
	if o.lease > 0 {
		args = append(args, "--"+flagLease, o.lease.String())
	}
	args = append(args, o.args...)
	p.cmd = exec.Command(wd.gokms, args...)
	p.cmd.Dir = home
	p.cmd.Env = []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "GOKMS_LOG_FORMAT=json", "GOKMS_LOG_LEVEL=" + logLevel(),
		"TATUM_API_URL=" + q.srv.URL, "TATUM_API_KEY=" + q.srv.APIKey, "TATUM_KMS_PASSWORD=" + wd.password}
	if o.state != "" {
		p.cmd.Env = append(p.cmd.Env, "GOKMS_STATE="+o.state)
	}
	if d := profileDir(); d != "" {
		p.cmd.Env = append(p.cmd.Env, "GOKMS_CPUPROFILE="+filepath.Join(d, name+".pprof"))
	}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() { p.kill() })
	return p
}

func (p *proc) alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

func (p *proc) kill() {
	if p.alive() {
		_ = p.cmd.Process.Signal(syscall.SIGCONT)
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// stop ends the daemon as an operator would (SIGTERM) and waits.
func (p *proc) stop(t testing.TB) {
	t.Helper()
	if !p.alive() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGCONT)
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(2 * time.Minute):
		p.kill()
		t.Errorf("%s did not stop within 2 minutes of SIGTERM", p.name)
	}
}

// metrics scrapes the daemon's /metrics and returns the unlabelled samples
// (and labelled ones by their full text).
func (p *proc) metrics(t testing.TB) map[string]float64 {
	t.Helper()
	var resp *http.Response
	var err error
	// A daemon serves /metrics once its state and store are open.
	for deadline := time.Now().Add(time.Minute); ; {
		resp, err = http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", p.port))
		if err == nil || !p.alive() || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("%s /metrics: %v (alive %v)\n%s", p.name, err, p.alive(), tail(p.out.String(), 3000))
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := map[string]float64{}
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		var v float64
		if _, err := fmt.Sscan(line[i+1:], &v); err == nil {
			out[line[:i]] = v
		}
	}
	return out
}

func copyFile(t testing.TB, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitDrained waits until every pending transaction of q is complete, or
// fails after timeout with the daemons' logs.
func waitDrained(t testing.TB, q *queue, timeout time.Duration, procs ...*proc) time.Duration {
	t.Helper()
	start := time.Now()
	total := len(q.btc) + len(q.evm)
	for {
		n := q.completed()
		if n == total {
			return time.Since(start)
		}
		if time.Since(start) > timeout {
			var logs strings.Builder
			for _, p := range procs {
				fmt.Fprintf(&logs, "--- %s (alive %v), last 4000 bytes:\n%s\n", p.name, p.alive(), tail(p.out.String(), 4000))
			}
			t.Fatalf("%d of %d pending transactions completed after %v; reported errors: %v\n%s", n, total, timeout, clipErrs(q.srv.Errors()), logs.String())
		}
		// Fine enough not to round a drain of a second or two up by a
		// noticeable share (the benchmark times it).
		time.Sleep(10 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

func clipErrs(errs []tatum.ErrorReport) string {
	b, _ := json.Marshal(errs)
	return tail(string(b), 3000)
}

// verify checks what the issue asks of a drain: every pending id paid
// exactly once on chain (inputs spent, recipients' balances), all complete,
// no id signed twice (the stand-in saw one distinct signed transaction per
// id), and no secret in any daemon's output.
func (wd *world) verify(t testing.TB, q *queue, procs ...*proc) (resends int) {
	t.Helper()
	ctx := context.Background()
	// Signed once: one distinct txData per id across every broadcast call.
	signed := map[string]map[string]bool{}
	calls := map[string]int{}
	for _, r := range q.srv.Requests() {
		if r.Method != http.MethodPost || !strings.HasSuffix(r.Path, "/broadcast") {
			continue
		}
		var b struct {
			TxData      string `json:"txData"`
			SignatureID string `json:"signatureId"`
		}
		if json.Unmarshal(r.Body, &b) != nil {
			continue
		}
		if signed[b.SignatureID] == nil {
			signed[b.SignatureID] = map[string]bool{}
		}
		signed[b.SignatureID][b.TxData] = true
		calls[b.SignatureID]++
	}
	for _, id := range q.ids() {
		if _, ok := q.srv.Completed(id); !ok {
			t.Errorf("pending %s not completed", id)
		}
		if n := len(signed[id]); n != 1 {
			t.Errorf("pending %s: %d different signed transactions broadcast, want exactly 1", id, n)
		}
		if calls[id] > 1 {
			resends += calls[id] - 1
		}
	}
	// BTC: mine, then each id's transaction is confirmed, spends its input,
	// and pays its recipient exactly once.
	if len(q.btc) > 0 {
		if _, err := wd.node.RPC.Generate(1); err != nil {
			t.Fatal(err)
		}
	}
	for id, p := range q.btc {
		txid, _ := q.srv.Completed(id)
		h, err := chainhash.NewHashFromStr(txid)
		if err != nil {
			t.Errorf("%s: txId %q: %v", id, txid, err)
			continue
		}
		v, err := wd.node.RPC.GetRawTransactionVerbose(h)
		if err != nil || v.Confirmations < 1 {
			t.Errorf("%s: transaction %s not mined (%v)", id, txid, err)
			continue
		}
		if len(v.Vin) != 1 || v.Vin[0].Txid != p.in.TxID || v.Vin[0].Vout != p.in.Vout {
			t.Errorf("%s: transaction %s spends %+v, want %s:%d", id, txid, v.Vin, p.in.TxID, p.in.Vout)
		}
		inHash, _ := chainhash.NewHashFromStr(p.in.TxID)
		if o, err := wd.node.RPC.GetTxOut(inHash, p.in.Vout, true); err != nil || o != nil {
			t.Errorf("%s: input %s:%d still unspent (%v)", id, p.in.TxID, p.in.Vout, err)
		}
		paid := 0
		for i, o := range v.Vout {
			if o.ScriptPubKey.Hex == hex.EncodeToString(p.recipient) {
				paid++
				if int64(o.Value*1e8+0.5) != paySat {
					t.Errorf("%s: recipient output %d pays %v BTC", id, i, o.Value)
				}
				if u, err := wd.node.RPC.GetTxOut(h, uint32(i), true); err != nil || u == nil {
					t.Errorf("%s: recipient output spent or missing (%v)", id, err)
				}
			}
		}
		if paid != 1 {
			t.Errorf("%s: recipient paid %d times in %s", id, paid, txid)
		}
	}
	// EVM: seal what is pending; every transaction mined with status 1,
	// every recipient holds exactly one payment, every sender's nonce
	// counts exactly its transactions (no gap, none doubled).
	if len(q.evm) > 0 {
		wd.chain.Commit()
	}
	for id, p := range q.evm {
		txid, _ := q.srv.Completed(id)
		r, err := wd.chain.Client.TransactionReceipt(ctx, common.HexToHash(txid))
		if err != nil || r.Status != types.ReceiptStatusSuccessful {
			t.Errorf("%s: transaction %s not mined successfully (%v)", id, txid, err)
		}
		if bal, err := wd.chain.Client.BalanceAt(ctx, p.recipient, nil); err != nil || bal.Cmp(big.NewInt(evmValueWei)) != 0 {
			t.Errorf("%s: recipient %s holds %v wei (%v), want exactly %d", id, p.recipient.Hex(), bal, err, evmValueWei)
		}
	}
	for s, n := range q.evmCount {
		addr := evmAddr(wd.evmKeys[s])
		mined, _ := wd.chain.Client.NonceAt(ctx, addr, nil)
		pending, _ := wd.chain.Client.PendingNonceAt(ctx, addr)
		wd.mu.Lock()
		want := wd.evmNonce[s]
		wd.mu.Unlock()
		if mined != want || pending != want {
			t.Errorf("sender %d (%d transactions in this queue): nonce %d mined, %d pending, want %d: a gap or a doubled payment", s, n, mined, pending, want)
		}
	}
	for _, p := range procs {
		out := p.out.String()
		for _, s := range wd.secrets {
			if strings.Contains(out, s) {
				t.Errorf("%s: a secret appears in the daemon's output", p.name)
			}
		}
	}
	for _, e := range q.srv.Errors() {
		// Every id is enqueued once: a replay alarm is a daemon mistaking
		// another daemon's completion (a stale poll) for an attack.
		if strings.Contains(e.Error, "refusing to sign it twice") {
			t.Errorf("false replay alarm for %s: %s", e.SignatureID, e.Error)
		}
	}
	if errs := q.srv.Errors(); len(errs) > 0 {
		t.Logf("%d failures reported to Tatum (a resend the node already had, say): %s", len(errs), clipErrs(errs))
	}
	return resends
}

// cli runs the gokms binary with args, in the world's directory and HOME,
// and env after them (a later HOME wins); it returns stdout, stderr and the
// exit code.
func (wd *world) cli(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(wd.gokms, args...)
	cmd.Dir = wd.dir
	cmd.Env = append([]string{"HOME=" + wd.dir, "PATH=/usr/bin:/bin"}, env...)
	var so, se syncBuf
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
