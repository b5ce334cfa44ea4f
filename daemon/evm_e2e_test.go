package daemon_test

// End-to-end EVM tests: wallets in a store, pending transactions in the
// Tatum stand-in, the daemon signing them through signing/evm with nonces,
// gas and fees filled from a real EVM (go-ethereum's simulated backend,
// chain id 11155111 as ETH testnet) over JSON-RPC on 127.0.0.1, and the
// stand-in broadcasting to that chain.

import (
	"context"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/backend/file"
	"github.com/gokms/gokms/backend/memory"
	"github.com/gokms/gokms/daemon"
	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/signing/evm/evmtest"
	"github.com/gokms/gokms/tatum"
	"github.com/gokms/gokms/tatum/tatumtest"
	"github.com/gokms/gokms/wallet"
)

const (
	evmMnemonic  = "legal winner thank year wave sausage worth useful legal winner thank yellow"
	evmKeyHex    = "0x8f2a55949038a9610f50fb23b5883af3b4ecb3c3bb792cbcefbd1542c692be63"
	evmRecipient = "0x687422eEA2cB73B5d3e242bA5456b782919AFc85"
)

func evmAddr(k *btcec.PrivateKey) common.Address {
	return crypto.PubkeyToAddress(*k.PubKey().ToECDSA())
}

// evmWorld is a simulated ETH testnet, a Tatum stand-in broadcasting to it,
// and a store with a mnemonic wallet "evm-mn" and a private-key wallet "evm-pk".
type evmWorld struct {
	chain *evmtest.Chain
	srv   *tatumtest.Server
	store *memory.Backend
	token evmtest.Token
	pk    *btcec.PrivateKey
	mnKey func(i uint32) *btcec.PrivateKey
	// signers: the UTXO and EVM families, EVM on this world's chain.
	signers *signing.Set
}

func newEVMWorld(t testing.TB, mnIndexes int) *evmWorld {
	t.Helper()
	w := &evmWorld{store: memory.New(), token: evmtest.LoadToken(t)}
	w.mnKey = func(i uint32) *btcec.PrivateKey {
		k, err := wallet.DeriveKey(wallet.ETH, evmMnemonic, i, true)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	b, _ := hex.DecodeString(strings.TrimPrefix(evmKeyHex, "0x"))
	w.pk, _ = btcec.PrivKeyFromBytes(b)
	ctx := context.Background()
	xpub, err := wallet.Xpub(wallet.ETH, evmMnemonic, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []backend.Record{
		{ID: "evm-mn", Kind: backend.Mnemonic, Chain: "ETH", Testnet: true, Secret: []byte(evmMnemonic), Xpub: xpub},
		{ID: "evm-pk", Kind: backend.PrivateKey, Chain: "ETH", Testnet: true, Secret: []byte(evmKeyHex), Address: evmAddr(w.pk).Hex()},
	} {
		if err := w.store.Put(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	alloc := types.GenesisAlloc{evmAddr(w.pk): {Balance: new(big.Int).Mul(big.NewInt(1000), evmtest.Ether)}}
	for i := 0; i < mnIndexes; i++ {
		alloc[evmAddr(w.mnKey(uint32(i)))] = types.Account{Balance: new(big.Int).Mul(big.NewInt(1000), evmtest.Ether)}
	}
	w.chain = evmtest.Start(t, 11155111, alloc)
	w.srv = tatumtest.New(tatumtest.Options{})
	t.Cleanup(w.srv.Close)
	// Tatum's broadcast of an ETH transaction: eth_sendRawTransaction to the
	// node, then (here) a block is sealed so the test can read receipts.
	w.srv.SetBroadcaster("ETH", func(ctx context.Context, txData string) (string, error) {
		h, err := w.chain.SendRaw(ctx, txData)
		if err != nil {
			return "", err
		}
		w.chain.Commit()
		return h.Hex(), nil
	})
	w.signers = evmSigners(t, w.chain.URL)
	return w
}

func (w *evmWorld) daemon(t testing.TB, concurrency int, logs *syncBuf) *daemon.Daemon {
	t.Helper()
	if logs == nil {
		logs = &syncBuf{}
	}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	api := tatum.New(tatum.Options{BaseURL: w.srv.URL, APIKey: w.srv.APIKey, Logger: log, Timeout: 30 * time.Second})
	d, err := daemon.New(daemon.Config{Backend: w.store, API: api, Signers: w.signers, Chains: []string{"ETH"}, Testnet: true,
		Concurrency: concurrency, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (w *evmWorld) enqueue(id, sigID string, index *uint32, serialized string) string {
	return w.srv.Enqueue(tatum.PendingTransaction{ID: tid(id), Chain: "ETH", SerializedTransaction: serialized, Hashes: []string{sigID}, Index: index})
}

// mined returns the receipt of the transaction the stand-in completed id with.
func (w *evmWorld) mined(t testing.TB, id string) (*types.Transaction, *types.Receipt) {
	t.Helper()
	id = tid(id)
	txID, ok := w.srv.Completed(id)
	if !ok {
		t.Fatalf("pending transaction %s was not completed (errors: %+v)", id, w.srv.Errors())
	}
	h := common.HexToHash(txID)
	tx, pending, err := w.chain.Client.TransactionByHash(context.Background(), h)
	if err != nil || pending {
		t.Fatalf("transaction %s of %s: pending %v, %v", txID, id, pending, err)
	}
	r := w.chain.Receipt(t, h)
	if r.Status != types.ReceiptStatusSuccessful {
		t.Fatalf("transaction %s of %s failed on chain (status %d)", txID, id, r.Status)
	}
	return tx, r
}

// TestEVMDaemonEndToEnd: native transfers (four from one mnemonic address in
// one cycle), an ERC-20 transfer to a token the test deployed, a contract
// deployment and an EIP-1559 transfer: all signed by the daemon with fields
// filled from the node, broadcast, mined with status 1, balances moved.
func TestEVMDaemonEndToEnd(t *testing.T) {
	w := newEVMWorld(t, 4)
	ctx := context.Background()
	supply := new(big.Int).Mul(big.NewInt(1_000_000), evmtest.Ether)
	token := w.chain.Deploy(t, w.pk.ToECDSA(), w.token.DeployData(t, "Gokms", "GKT", supply))
	rcpt := common.HexToAddress(evmRecipient)
	i0, i3 := uint32(0), uint32(3)
	from0 := evmAddr(w.mnKey(0))
	start0 := w.chain.Balance(t, from0)

	var transfers []string
	for i := 1; i <= 4; i++ {
		transfers = append(transfers, w.enqueue(fmt.Sprintf("native-%d", i), "evm-mn", &i0,
			fmt.Sprintf(`{"from":0,"to":"%s","value":"%d"}`, evmRecipient, new(big.Int).Mul(big.NewInt(int64(i)), big.NewInt(1e15)))))
	}
	amount := big.NewInt(777_000)
	erc20 := w.enqueue("erc20", "evm-pk", nil, fmt.Sprintf(`{"from":0,"to":"%s","data":"%s"}`,
		token.Hex(), hexutil.Encode(w.token.TransferData(t, rcpt, amount))))
	deploy := w.enqueue("deploy", "evm-mn", &i3, fmt.Sprintf(`{"from":"%s","data":"%s","value":"0"}`,
		evmAddr(w.mnKey(3)).Hex(), hexutil.Encode(w.token.DeployData(t, "Second", "SEC", big.NewInt(5000)))))
	dyn := w.enqueue("eip1559", "evm-pk", nil, fmt.Sprintf(`{"to":"%s","value":"0x5","maxPriorityFeePerGas":"1500000"}`, evmRecipient))

	logs := &syncBuf{}
	if err := w.daemon(t, 8, logs).RunOnce(ctx); err != nil {
		t.Fatalf("RunOnce: %v\nstand-in errors: %+v\nlog:\n%s", err, w.srv.Errors(), logs)
	}
	if errs := w.srv.Errors(); len(errs) != 0 {
		t.Fatalf("errors reported: %+v", errs)
	}

	// The four transfers from one address: distinct consecutive nonces 0..3.
	nonces := map[uint64]bool{}
	want := big.NewInt(0)
	for i, id := range transfers {
		tx, _ := w.mined(t, id)
		nonces[tx.Nonce()] = true
		want.Add(want, new(big.Int).Mul(big.NewInt(int64(i+1)), big.NewInt(1e15)))
	}
	for n := uint64(0); n < 4; n++ {
		if !nonces[n] {
			t.Fatalf("nonces %v: %d missing", nonces, n)
		}
	}
	if got := w.chain.Balance(t, rcpt); got.Cmp(new(big.Int).Add(want, big.NewInt(5))) != 0 {
		t.Fatalf("recipient has %s wei, want %s + 5", got, want)
	}
	if got := w.chain.Balance(t, from0); new(big.Int).Sub(start0, got).Cmp(want) <= 0 {
		t.Fatalf("sender paid %s, want more than %s (value plus gas)", new(big.Int).Sub(start0, got), want)
	}
	// ERC-20 transfer.
	w.mined(t, erc20)
	if got := w.chain.BalanceOf(t, w.token, token, rcpt); got.Cmp(amount) != 0 {
		t.Fatalf("token balance %s, want %s", got, amount)
	}
	// Deployment from mnemonic index 3.
	_, r := w.mined(t, deploy)
	if r.ContractAddress != crypto.CreateAddress(evmAddr(w.mnKey(3)), 0) {
		t.Fatalf("contract at %s", r.ContractAddress.Hex())
	}
	if got := w.chain.BalanceOf(t, w.token, r.ContractAddress, evmAddr(w.mnKey(3))); got.Int64() != 5000 {
		t.Fatalf("deployed token supply %s", got)
	}
	// EIP-1559 from the private-key wallet after its ERC-20 transfer.
	tx, _ := w.mined(t, dyn)
	if tx.Type() != types.DynamicFeeTxType || tx.GasTipCap().Int64() != 1500000 {
		t.Fatalf("type %d tip %s", tx.Type(), tx.GasTipCap())
	}
	if n, _ := w.chain.Client.NonceAt(ctx, evmAddr(w.pk), nil); n != 3 { // token deployment (set-up) + 2
		t.Fatalf("private-key wallet nonce %d, want 3", n)
	}
	for _, s := range []string{evmMnemonic, evmKeyHex, evmKeyHex[2:]} {
		if strings.Contains(logs.String(), s) {
			t.Fatal("a secret appears in the daemon's log")
		}
	}
}

// TestEVMDaemonRefusalsReported: transactions the signer refuses are
// reported to Tatum with the reason, signed nothing, and do not disturb the
// others or the nonces.
func TestEVMDaemonRefusalsReported(t *testing.T) {
	w := newEVMWorld(t, 1)
	i0 := uint32(0)
	bad := map[string]string{
		"wrong-from":    fmt.Sprintf(`{"from":"%s","to":"%s","value":"1"}`, evmRecipient, evmRecipient),
		"wrong-chainid": fmt.Sprintf(`{"to":"%s","value":"1","chainId":1}`, evmRecipient),
		"negative":      fmt.Sprintf(`{"to":"%s","value":"-1"}`, evmRecipient),
	}
	for id, s := range bad {
		w.enqueue(id, "evm-mn", &i0, s)
	}
	good := w.enqueue("good", "evm-mn", &i0, fmt.Sprintf(`{"to":"%s","value":"9"}`, evmRecipient))
	err := w.daemon(t, 4, nil).RunOnce(context.Background())
	if err == nil || !strings.Contains(err.Error(), "3 of 4") {
		t.Fatalf("RunOnce: %v", err)
	}
	tx, _ := w.mined(t, good)
	if tx.Nonce() != 0 {
		t.Fatalf("good transaction nonce %d, want 0: a refused one took a nonce", tx.Nonce())
	}
	reasons := map[string]string{}
	for _, e := range w.srv.Errors() {
		reasons[e.SignatureID] = e.Error
	}
	for id, want := range map[string]string{"wrong-from": "is not the address of the signing key", "wrong-chainid": "contradicts", "negative": "negative"} {
		if !strings.Contains(reasons[tid(id)], want) {
			t.Errorf("%s: reported %q, want it to contain %q", id, reasons[tid(id)], want)
		}
		if w.srv.Broadcasts(tid(id)) != 0 {
			t.Errorf("%s was broadcast", id)
		}
	}
}

// TestEVMDaemonBinary runs the real `gokms daemon --runOnce` binary on a
// file store against the stand-in, with the simulated chain's RPC given by
// --evm-rpc, then by TATUM_KMS_RPC_ETH, then a node of the wrong chain.
func TestEVMDaemonBinary(t *testing.T) {
	w := newEVMWorld(t, 3)
	dir := t.TempDir()
	password := "evm-e2e-" + hex.EncodeToString([]byte(t.Name()))[:16]
	storePath := filepath.Join(dir, "wallet.dat")
	st, err := file.Create(storePath, []byte(password), file.Options{KDF: &file.InsecureTestKDF})
	if err != nil {
		t.Fatal(err)
	}
	metas, err := w.store.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range metas { // the same two wallets, now in an encrypted file store
		r, err := w.store.Get(context.Background(), m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Put(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "gokms")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/gokms/gokms/cmd/gokms").CombinedOutput(); err != nil {
		t.Fatalf("go build gokms: %v\n%s", err, out)
	}
	run := func(extraEnv []string, args ...string) (string, int) {
		t.Helper()
		cmd := exec.Command(bin, append([]string{"daemon", "--testnet", "--runOnce", "--chain", "ETH", "--path", storePath}, args...)...)
		cmd.Dir = dir
		cmd.Env = append([]string{"HOME=" + dir, "PATH=" + os.Getenv("PATH"), "TATUM_API_URL=" + w.srv.URL,
			"TATUM_API_KEY=" + w.srv.APIKey, "TATUM_KMS_PASSWORD=" + password}, extraEnv...)
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{evmMnemonic, evmKeyHex[2:], password} {
			if strings.Contains(string(out), s) {
				t.Fatalf("a secret appears in the output:\n%s", out)
			}
		}
		return string(out), code
	}

	supply := new(big.Int).Mul(big.NewInt(1000), evmtest.Ether)
	token := w.chain.Deploy(t, w.pk.ToECDSA(), w.token.DeployData(t, "Gokms", "GKT", supply))
	rcpt := common.HexToAddress(evmRecipient)
	i1, i2 := uint32(1), uint32(2)
	var ids []string
	for i := 0; i < 3; i++ {
		ids = append(ids, w.enqueue(fmt.Sprintf("bin-native-%d", i), "evm-mn", &i1, fmt.Sprintf(`{"from":0,"to":"%s","value":"1000"}`, evmRecipient)))
	}
	ids = append(ids, w.enqueue("bin-erc20", "evm-pk", nil, fmt.Sprintf(`{"from":0,"to":"%s","data":"%s"}`, token.Hex(), hexutil.Encode(w.token.TransferData(t, rcpt, big.NewInt(42))))))
	ids = append(ids, w.enqueue("bin-deploy", "evm-mn", &i2, fmt.Sprintf(`{"data":"%s"}`, hexutil.Encode(w.token.DeployData(t, "Bin", "BIN", big.NewInt(1))))))

	if out, code := run(nil, "--evm-rpc", "ETH="+w.chain.URL); code != 0 {
		t.Fatalf("gokms daemon exited %d:\n%s\nreported: %+v", code, out, w.srv.Errors())
	}
	nonces := map[uint64]bool{}
	for _, id := range ids {
		tx, _ := w.mined(t, id)
		if id != tid("bin-erc20") && id != tid("bin-deploy") { // the three transfers
			nonces[tx.Nonce()] = true
		}
	}
	if len(nonces) != 3 || !nonces[0] || !nonces[1] || !nonces[2] {
		t.Fatalf("nonces of the three transfers from one address: %v", nonces)
	}
	if got := w.chain.Balance(t, rcpt); got.Int64() != 3000 {
		t.Fatalf("recipient balance %s, want 3000", got)
	}
	if got := w.chain.BalanceOf(t, w.token, token, rcpt); got.Int64() != 42 {
		t.Fatalf("token balance %s, want 42", got)
	}
	_, r := w.mined(t, "bin-deploy")
	if r.ContractAddress != crypto.CreateAddress(evmAddr(w.mnKey(2)), 0) {
		t.Fatalf("deployed at %s", r.ContractAddress.Hex())
	}

	// The node from the environment instead of the flag; the nonce continues.
	id := w.enqueue("bin-env", "evm-mn", &i1, fmt.Sprintf(`{"to":"%s","value":"5"}`, evmRecipient))
	if out, code := run([]string{"TATUM_KMS_RPC_ETH=" + w.chain.URL}); code != 0 {
		t.Fatalf("gokms daemon (env RPC) exited %d:\n%s", code, out)
	}
	if tx, _ := w.mined(t, id); tx.Nonce() != 3 {
		t.Fatalf("nonce %d, want 3", tx.Nonce())
	}

	// A node serving another chain: refused, reported, nothing broadcast.
	other := evmtest.Start(t, 1337, nil)
	id = w.enqueue("bin-wrong-node", "evm-mn", &i1, fmt.Sprintf(`{"to":"%s","value":"6"}`, evmRecipient))
	out, code := run(nil, "--evm-rpc", "ETH="+other.URL)
	if code != 1 || w.srv.Broadcasts(id) != 0 {
		t.Fatalf("wrong node: exit %d, broadcasts %d\n%s", code, w.srv.Broadcasts(id), out)
	}
	found := false
	for _, e := range w.srv.Errors() {
		if e.SignatureID == id && strings.Contains(e.Error, "serves chain id 1337") {
			found = true
		}
	}
	if !found {
		t.Fatalf("no error report naming the wrong chain id: %+v", w.srv.Errors())
	}
	// A malformed --evm-rpc stops the daemon before it polls.
	before := w.srv.CountRequests("POST", "/v3/kms/pending/ETH")
	out, code = run(nil, "--evm-rpc", "ETH")
	if code != 1 || !strings.Contains(out, "want CHAIN=URL") || w.srv.CountRequests("POST", "/v3/kms/pending/ETH") != before {
		t.Fatalf("bad --evm-rpc: exit %d\n%s", code, out)
	}
}
