package evm

import (
	"context"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/signing/evm/evmtest"
)

const sepolia = 11155111

type simEnv struct {
	chain *evmtest.Chain
	s     *Signer
	keys  staticKeys
	addr  map[string]common.Address
}

func addrOf(k *btcec.PrivateKey) common.Address { return crypto.PubkeyToAddress(*k.PubKey().ToECDSA()) }

// newSim starts a simulated Sepolia-id chain funding two keys with 1000 ETH
// and a Signer whose ETH node is that chain over HTTP.
func newSim(t testing.TB, chainID uint64) *simEnv {
	t.Helper()
	keys := staticKeys{
		"a": keyFromHex(t, "8f2a55949038a9610f50fb23b5883af3b4ecb3c3bb792cbcefbd1542c692be63"),
		"b": keyFromHex(t, "c87509a1c067bbde78beb793e6fa76530b6382a4c0241e5e4a9ec0a0f44dc0d3"),
	}
	e := &simEnv{keys: keys, addr: map[string]common.Address{}}
	alloc := types.GenesisAlloc{}
	for id, k := range keys {
		e.addr[id] = addrOf(k)
		alloc[addrOf(k)] = types.Account{Balance: new(big.Int).Mul(big.NewInt(1000), evmtest.Ether)}
	}
	e.chain = evmtest.Start(t, chainID, alloc)
	s, err := New(Config{RPC: map[string]string{"ETH": e.chain.URL}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	e.s = s
	return e
}

func (e *simEnv) sign(t testing.TB, key, tx string) string {
	t.Helper()
	raw, err := e.s.Sign(context.Background(), signing.Request{ID: "sim", Chain: "ETH", Testnet: true, SerializedTransaction: tx, Hashes: []string{key}}, e.keys)
	if err != nil {
		t.Fatalf("Sign %s: %v", tx, err)
	}
	return raw
}

func decode(t testing.TB, raw string) *types.Transaction {
	t.Helper()
	var tx types.Transaction
	if err := tx.UnmarshalBinary(hexutil.MustDecode(raw)); err != nil {
		t.Fatal(err)
	}
	return &tx
}

// mine sends the raw transactions, seals a block and checks each succeeded.
func (e *simEnv) mine(t testing.TB, raws ...string) []*types.Receipt {
	t.Helper()
	var hs []common.Hash
	for _, r := range raws {
		h, err := e.chain.SendRaw(context.Background(), r)
		if err != nil {
			t.Fatalf("send: %v", err)
		}
		hs = append(hs, h)
	}
	e.chain.Commit()
	var rs []*types.Receipt
	for _, h := range hs {
		r := e.chain.Receipt(t, h)
		if r.Status != types.ReceiptStatusSuccessful {
			t.Fatalf("tx %s: status %d", h.Hex(), r.Status)
		}
		rs = append(rs, r)
	}
	return rs
}

// TestSimFillAndMine: transactions missing nonce, gas and fees are filled
// from a real EVM node and the chain accepts and executes them: a native
// transfer (legacy), EIP-1559 with no caps and with only the tip, a token
// deployment and an ERC-20 transfer.
func TestSimFillAndMine(t *testing.T) {
	e := newSim(t, sepolia)
	tk := evmtest.LoadToken(t)
	rcpt := common.HexToAddress("0x687422eEA2cB73B5d3e242bA5456b782919AFc85")
	oneEth := evmtest.Ether

	// Native transfer as Tatum serializes it: from 0, wei string, nothing else.
	raw := e.sign(t, "a", fmt.Sprintf(`{"from":0,"to":"%s","value":"%s"}`, rcpt.Hex(), oneEth))
	tx := decode(t, raw)
	if tx.Type() != types.LegacyTxType || tx.Nonce() != 0 || tx.Gas() != 21000 || !tx.Protected() || tx.ChainId().Uint64() != sepolia {
		t.Fatalf("filled legacy tx: type %d nonce %d gas %d protected %v chain %v", tx.Type(), tx.Nonce(), tx.Gas(), tx.Protected(), tx.ChainId())
	}
	e.mine(t, raw)
	if got := e.chain.Balance(t, rcpt); got.Cmp(oneEth) != 0 {
		t.Fatalf("recipient balance %s, want %s", got, oneEth)
	}

	// EIP-1559 with no caps: both filled (tip from eth_maxPriorityFeePerGas,
	// cap from eth_feeHistory).
	raw = e.sign(t, "a", fmt.Sprintf(`{"to":"%s","value":"0x1","type":2}`, rcpt.Hex()))
	tx = decode(t, raw)
	if tx.Type() != types.DynamicFeeTxType || tx.Nonce() != 1 || tx.GasFeeCap().Cmp(tx.GasTipCap()) < 0 {
		t.Fatalf("filled 1559 tx: type %d nonce %d cap %s tip %s", tx.Type(), tx.Nonce(), tx.GasFeeCap(), tx.GasTipCap())
	}
	// Only the tip given: the cap is filled around it.
	raw2 := e.sign(t, "a", fmt.Sprintf(`{"to":"%s","value":"0x1","maxPriorityFeePerGas":"1000000"}`, rcpt.Hex()))
	tx2 := decode(t, raw2)
	if tx2.Type() != types.DynamicFeeTxType || tx2.Nonce() != 2 || tx2.GasTipCap().Int64() != 1000000 {
		t.Fatalf("tip-only tx: type %d nonce %d tip %s", tx2.Type(), tx2.Nonce(), tx2.GasTipCap())
	}
	e.mine(t, raw, raw2)
	for _, n := range []string{"eth_chainId", "eth_getTransactionCount", "eth_estimateGas", "eth_gasPrice", "eth_maxPriorityFeePerGas", "eth_feeHistory"} {
		if e.chain.Calls(n) == 0 {
			t.Errorf("%s was never called", n)
		}
	}
	if n := e.chain.Calls("eth_chainId"); n != 1 {
		t.Errorf("eth_chainId called %d times, want once per node", n)
	}

	// Token deployment (no `to`), gas estimated by the node.
	supply := new(big.Int).Mul(big.NewInt(1_000_000), oneEth)
	raw = e.sign(t, "b", fmt.Sprintf(`{"from":"%s","data":"%s"}`, e.addr["b"].Hex(), hexutil.Encode(tk.DeployData(t, "Gokms", "GKT", supply))))
	r := e.mine(t, raw)[0]
	token := r.ContractAddress
	if token == (common.Address{}) || e.chain.BalanceOf(t, tk, token, e.addr["b"]).Cmp(supply) != 0 {
		t.Fatalf("deployment: contract %s", token.Hex())
	}
	// ERC-20 transfer to the deployed token.
	amount := big.NewInt(123456789)
	raw = e.sign(t, "b", fmt.Sprintf(`{"to":"%s","data":"%s","value":"0"}`, strings.ToLower(token.Hex()), hexutil.Encode(tk.TransferData(t, rcpt, amount))))
	e.mine(t, raw)
	if got := e.chain.BalanceOf(t, tk, token, rcpt); got.Cmp(amount) != 0 {
		t.Fatalf("token balance %s, want %s", got, amount)
	}
	if got := e.chain.BalanceOf(t, tk, token, e.addr["b"]); got.Cmp(new(big.Int).Sub(supply, amount)) != 0 {
		t.Fatalf("sender token balance %s", got)
	}
}

// TestSimConcurrentNonces: many transactions from one address signed
// concurrently before any is broadcast all get distinct, consecutive nonces
// and are all mined in one block.
func TestSimConcurrentNonces(t *testing.T) {
	e := newSim(t, sepolia)
	const n = 25
	raws := make([]string, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			raws[i] = e.sign(t, "a", fmt.Sprintf(`{"from":0,"to":"0x687422eEA2cB73B5d3e242bA5456b782919AFc85","value":"%d"}`, i+1))
		}()
	}
	wg.Wait()
	seen := map[uint64]bool{}
	for _, r := range raws {
		nonce := decode(t, r).Nonce()
		if seen[nonce] {
			t.Fatalf("nonce %d twice", nonce)
		}
		seen[nonce] = true
	}
	for i := uint64(0); i < n; i++ {
		if !seen[i] {
			t.Fatalf("nonce %d missing", i)
		}
	}
	e.mine(t, raws...)
	if got, _ := e.chain.Client.NonceAt(context.Background(), e.addr["a"], nil); got != n {
		t.Fatalf("account nonce %d after mining, want %d", got, n)
	}
	// 1+2+...+25 wei arrived.
	if got := e.chain.Balance(t, common.HexToAddress("0x687422eEA2cB73B5d3e242bA5456b782919AFc85")); got.Int64() != n*(n+1)/2 {
		t.Fatalf("recipient balance %s", got)
	}
}

// TestSimAllFieldsNoRPC: a transaction with every field given is signed
// without a single call to the node.
func TestSimAllFieldsNoRPC(t *testing.T) {
	e := newSim(t, sepolia)
	raw := e.sign(t, "a", `{"to":"0x687422eEA2cB73B5d3e242bA5456b782919AFc85","value":"5","gas":21000,"gasPrice":"3000000000","nonce":"0x3","chainId":11155111}`)
	if n := e.chain.TotalCalls(); n != 0 {
		t.Fatalf("%d RPC calls for a complete transaction", n)
	}
	_ = raw
	// nonce 0 is "ask the node" (tatum-kms), so this one did call it.
	e.sign(t, "a", `{"to":"0x687422eEA2cB73B5d3e242bA5456b782919AFc85","value":"5","gas":21000,"gasPrice":"3000000000","nonce":0}`)
	if e.chain.Calls("eth_getTransactionCount") != 1 {
		t.Fatal("nonce 0 did not ask the node")
	}
}

// TestSimWrongChainID: a node serving another chain is refused before any
// value from it is used.
func TestSimWrongChainID(t *testing.T) {
	e := newSim(t, 1337)
	_, err := e.s.Sign(context.Background(), signing.Request{ID: "x", Chain: "ETH", Testnet: true, Hashes: []string{"a"},
		SerializedTransaction: `{"to":"0x687422eEA2cB73B5d3e242bA5456b782919AFc85","value":"1"}`}, e.keys)
	if err == nil || !strings.Contains(err.Error(), "serves chain id 1337") {
		t.Fatalf("err = %v", err)
	}
	if e.chain.Calls("eth_getTransactionCount")+e.chain.Calls("eth_estimateGas") != 0 {
		t.Fatal("used the wrong chain's node")
	}
}

// TestSimRefusedKeepsNonce: a transaction the node cannot estimate (value
// above the balance) is refused and takes no nonce; the next gets nonce 0.
func TestSimRefusedKeepsNonce(t *testing.T) {
	e := newSim(t, sepolia)
	_, err := e.s.Sign(context.Background(), signing.Request{ID: "x", Chain: "ETH", Testnet: true, Hashes: []string{"a"},
		SerializedTransaction: `{"to":"0x687422eEA2cB73B5d3e242bA5456b782919AFc85","value":"100000000000000000000000"}`}, e.keys)
	if err == nil || !strings.Contains(err.Error(), "eth_estimateGas") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), e.chain.URL[len("http://"):]) && !strings.Contains(err.Error(), "http://127.0.0.1") {
		t.Fatalf("odd URL in %v", err)
	}
	raw := e.sign(t, "a", `{"to":"0x687422eEA2cB73B5d3e242bA5456b782919AFc85","value":"1"}`)
	if n := decode(t, raw).Nonce(); n != 0 {
		t.Fatalf("nonce %d after a refused transaction, want 0", n)
	}
	e.mine(t, raw)
}

// TestNodeRedirectNotFollowed: a node URL that answers with a redirect is
// an error, not a hop to wherever it points (whose nonce, gas and fee
// answers would then be signed, and which would receive the calls' headers).
func TestNodeRedirectNotFollowed(t *testing.T) {
	e := newSim(t, sepolia)
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, e.chain.URL, http.StatusTemporaryRedirect)
	}))
	defer redirector.Close()
	s, err := New(Config{RPC: map[string]string{"ETH": redirector.URL}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	before := e.chain.TotalCalls()
	tx := `{"from":0,"to":"0x687422eEA2cB73B5d3e242bA5456b782919AFc85","value":"1"}`
	_, err = s.Sign(context.Background(), signing.Request{ID: "sim", Chain: "ETH", Testnet: true, SerializedTransaction: tx, Hashes: []string{"a"}}, e.keys)
	if err == nil || !strings.Contains(err.Error(), "redirect") {
		t.Fatalf("Sign through a redirecting node: %v, want an error saying it redirected", err)
	}
	if n := e.chain.TotalCalls() - before; n != 0 {
		t.Fatalf("the redirect target got %d calls", n)
	}
}
