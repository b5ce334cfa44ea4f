// Package evmtest runs a real EVM for tests: go-ethereum's simulated backend
// (ethclient/simulated) with a chosen chain id and funded accounts, served
// as JSON-RPC over HTTP on 127.0.0.1, plus the ERC-20 test token of
// testdata/evm/erc20. Only tests import it.
package evmtest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/eth/ethconfig"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/ethclient/simulated"
	"github.com/ethereum/go-ethereum/node"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rpc"
)

// Chain is a running simulated chain.
type Chain struct {
	Backend *simulated.Backend
	Client  simulated.Client
	ChainID *big.Int
	// URL is the JSON-RPC endpoint (http://127.0.0.1:port).
	URL string

	rpc    *rpc.Client
	srv    *httptest.Server
	mu     sync.Mutex // Commit and sends are serialized so a send is never half-committed
	calls  sync.Map   // method -> *atomic.Int64
	closed atomic.Bool
}

// Ether is 10^18 wei.
var Ether = new(big.Int).Exp(big.NewInt(10), big.NewInt(18), nil)

// Start runs a simulated chain with chainID whose genesis funds alloc; it is
// closed when the test ends.
func Start(t testing.TB, chainID uint64, alloc types.GenesisAlloc) *Chain {
	t.Helper()
	c, err := New(chainID, alloc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// New is Start without a test; call Close.
func New(chainID uint64, alloc types.GenesisAlloc) (*Chain, error) {
	id := new(big.Int).SetUint64(chainID)
	b := simulated.NewBackend(alloc, func(_ *node.Config, ec *ethconfig.Config) {
		cc := *params.AllDevChainProtocolChanges
		cc.ChainID = id
		ec.Genesis.Config = &cc
		ec.NetworkId = chainID
	})
	cl := b.Client()
	rc, err := rpcClientOf(cl)
	if err != nil {
		b.Close()
		return nil, err
	}
	c := &Chain{Backend: b, Client: cl, ChainID: id, rpc: rc}
	got, err := cl.ChainID(context.Background())
	if err != nil || got.Cmp(id) != 0 {
		b.Close()
		return nil, fmt.Errorf("evmtest: simulated chain id %v (%v), want %d", got, err, chainID)
	}
	c.srv = httptest.NewServer(http.HandlerFunc(c.serveRPC))
	c.URL = c.srv.URL
	return c, nil
}

// rpcClientOf digs the in-process *rpc.Client out of the simulated client.
// The backend wraps an *ethclient.Client in an unexported struct whose
// embedded field (named Client) hides ethclient's Client() method, so the
// field is read by reflection; it is exported, so reflect allows it.
func rpcClientOf(cl simulated.Client) (*rpc.Client, error) {
	v := reflect.ValueOf(cl)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if v.Kind() == reflect.Struct {
		if f := v.FieldByName("Client"); f.IsValid() && f.CanInterface() {
			if ec, ok := f.Interface().(*ethclient.Client); ok && ec != nil {
				return ec.Client(), nil
			}
		}
	}
	return nil, fmt.Errorf("evmtest: cannot reach the rpc.Client inside %T", cl)
}

// Close stops the HTTP server and the chain.
func (c *Chain) Close() {
	if c.closed.Swap(true) {
		return
	}
	c.srv.Close()
	c.Backend.Close()
}

// Calls returns how many times the JSON-RPC method was called over HTTP.
func (c *Chain) Calls(method string) int64 {
	if v, ok := c.calls.Load(method); ok {
		return v.(*atomic.Int64).Load()
	}
	return 0
}

// TotalCalls returns the number of JSON-RPC calls served over HTTP.
func (c *Chain) TotalCalls() int64 {
	var n int64
	c.calls.Range(func(_, v any) bool { n += v.(*atomic.Int64).Load(); return true })
	return n
}

type rpcRequest struct {
	JSONRPC string            `json:"jsonrpc"`
	ID      json.RawMessage   `json:"id"`
	Method  string            `json:"method"`
	Params  []json.RawMessage `json:"params"`
}

type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    any    `json:"data,omitempty"`
}

type rpcResponse struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   *rpcError       `json:"error,omitempty"`
}

// serveRPC relays JSON-RPC over HTTP to the node's in-process RPC server,
// which answers exactly as geth's HTTP endpoint would (same handlers), with
// codes and data of errors preserved.
func (c *Chain) serveRPC(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "JSON-RPC wants POST", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	body = bytes.TrimSpace(body)
	batch := len(body) > 0 && body[0] == '['
	var reqs []rpcRequest
	if batch {
		err = json.Unmarshal(body, &reqs)
	} else {
		var one rpcRequest
		err = json.Unmarshal(body, &one)
		reqs = []rpcRequest{one}
	}
	if err != nil {
		writeJSON(w, rpcResponse{JSONRPC: "2.0", ID: json.RawMessage("null"), Error: &rpcError{Code: -32700, Message: "parse error"}})
		return
	}
	out := make([]rpcResponse, len(reqs))
	for i, q := range reqs {
		out[i] = c.call(r.Context(), q)
	}
	if batch {
		writeJSON(w, out)
	} else {
		writeJSON(w, out[0])
	}
}

func (c *Chain) call(ctx context.Context, q rpcRequest) rpcResponse {
	v, _ := c.calls.LoadOrStore(q.Method, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
	args := make([]any, len(q.Params))
	for i, p := range q.Params {
		args[i] = p
	}
	if q.Method == "eth_sendRawTransaction" {
		c.mu.Lock()
		defer c.mu.Unlock()
	}
	var res json.RawMessage
	err := c.rpc.CallContext(ctx, &res, q.Method, args...)
	resp := rpcResponse{JSONRPC: "2.0", ID: q.ID}
	if err != nil {
		e := &rpcError{Code: -32603, Message: err.Error()}
		var re rpc.Error
		if errors.As(err, &re) {
			e.Code = re.ErrorCode()
		}
		var de rpc.DataError
		if errors.As(err, &de) {
			e.Data = de.ErrorData()
		}
		resp.Error = e
		return resp
	}
	if res == nil {
		res = json.RawMessage("null")
	}
	resp.Result = res
	return resp
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// SendRaw sends a 0x-hex raw transaction (eth_sendRawTransaction) and
// returns its hash.
func (c *Chain) SendRaw(ctx context.Context, rawHex string) (common.Hash, error) {
	b, err := hexutil.Decode(rawHex)
	if err != nil {
		return common.Hash{}, fmt.Errorf("raw transaction is not 0x-hex: %w", err)
	}
	var tx types.Transaction
	if err := tx.UnmarshalBinary(b); err != nil {
		return common.Hash{}, fmt.Errorf("decode raw transaction: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.Client.SendTransaction(ctx, &tx); err != nil {
		return common.Hash{}, err
	}
	return tx.Hash(), nil
}

// Commit seals a block with the pending transactions.
func (c *Chain) Commit() common.Hash {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Backend.Commit()
}

// Receipt returns the receipt of a mined transaction.
func (c *Chain) Receipt(t testing.TB, h common.Hash) *types.Receipt {
	t.Helper()
	// go-ethereum indexes a sealed block's transactions in the background and
	// answers "transaction indexing is in progress" until it is done: wait for
	// that (the limit only stops a broken run), fail on anything else.
	deadline := time.Now().Add(30 * time.Second)
	for {
		r, err := c.Client.TransactionReceipt(context.Background(), h)
		if err == nil {
			return r
		}
		switch {
		case time.Now().After(deadline):
			t.Fatalf("receipt of %s: %v", h.Hex(), err)
		case errors.Is(err, ethereum.NotFound):
			// The pool promotes a transaction that arrived before the one
			// with the nonce below it in the background: a block sealed
			// before that left it out. Seal another.
			if _, _, perr := c.Client.TransactionByHash(context.Background(), h); perr != nil {
				t.Fatalf("receipt of %s: %v (and the pool does not hold it: %v)", h.Hex(), err, perr)
			}
			c.Commit()
		case !strings.Contains(err.Error(), "indexing is in progress"):
			t.Fatalf("receipt of %s: %v", h.Hex(), err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Balance returns the latest balance of a.
func (c *Chain) Balance(t testing.TB, a common.Address) *big.Int {
	t.Helper()
	b, err := c.Client.BalanceAt(context.Background(), a, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Token is the compiled test ERC-20 (testdata/evm/erc20/Token.json).
type Token struct {
	ABI      abi.ABI
	Bytecode []byte
}

// LoadToken reads the committed solc output.
func LoadToken(t testing.TB) Token {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	p := filepath.Join(filepath.Dir(file), "..", "..", "..", "testdata", "evm", "erc20", "Token.json")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var j struct {
		ABI      json.RawMessage `json:"abi"`
		Bytecode string          `json:"bytecode"`
	}
	if err := json.Unmarshal(b, &j); err != nil {
		t.Fatal(err)
	}
	a, err := abi.JSON(strings.NewReader(string(j.ABI)))
	if err != nil {
		t.Fatal(err)
	}
	return Token{ABI: a, Bytecode: hexutil.MustDecode(j.Bytecode)}
}

// DeployData is the creation code with constructor arguments.
func (tk Token) DeployData(t testing.TB, name, symbol string, supply *big.Int) []byte {
	t.Helper()
	args, err := tk.ABI.Pack("", name, symbol, supply)
	if err != nil {
		t.Fatal(err)
	}
	return append(append([]byte(nil), tk.Bytecode...), args...)
}

// TransferData is the calldata of transfer(to, amount).
func (tk Token) TransferData(t testing.TB, to common.Address, amount *big.Int) []byte {
	t.Helper()
	d, err := tk.ABI.Pack("transfer", to, amount)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// BalanceOf calls balanceOf(a) on the token at addr.
func (c *Chain) BalanceOf(t testing.TB, tk Token, token, a common.Address) *big.Int {
	t.Helper()
	d, err := tk.ABI.Pack("balanceOf", a)
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.Client.CallContract(context.Background(), ethereum.CallMsg{To: &token, Data: d}, nil)
	if err != nil {
		t.Fatal(err)
	}
	v, err := tk.ABI.Unpack("balanceOf", out)
	if err != nil {
		t.Fatal(err)
	}
	return v[0].(*big.Int)
}

// Deploy signs and mines a contract creation from key directly (test
// set-up, not through gokms) and returns the contract address.
func (c *Chain) Deploy(t testing.TB, key *ecdsa.PrivateKey, data []byte) common.Address {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	from := crypto.PubkeyToAddress(key.PublicKey)
	nonce, err := c.Client.PendingNonceAt(ctx, from)
	if err != nil {
		t.Fatal(err)
	}
	tip, err := c.Client.SuggestGasTipCap(ctx)
	if err != nil {
		t.Fatal(err)
	}
	head, err := c.Client.HeaderByNumber(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	feeCap := new(big.Int).Add(new(big.Int).Mul(head.BaseFee, big.NewInt(2)), tip)
	tx, err := types.SignNewTx(key, types.LatestSignerForChainID(c.ChainID), &types.DynamicFeeTx{
		ChainID: c.ChainID, Nonce: nonce, GasTipCap: tip, GasFeeCap: feeCap, Gas: 3_000_000, Data: data})
	if err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	err = c.Client.SendTransaction(ctx, tx)
	c.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	c.Commit()
	r := c.Receipt(t, tx.Hash())
	if r.Status != types.ReceiptStatusSuccessful {
		t.Fatalf("deployment failed: status %d", r.Status)
	}
	return r.ContractAddress
}
