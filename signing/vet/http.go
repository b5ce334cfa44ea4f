package vet

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gokms/gokms/signing/internal/restjson"
)

// HTTPNode is Node over the VeChain Thor REST API, as thorify calls it.
// tatum-kms points thorify at https://sync-mainnet.vechain.org/ and
// https://sync-testnet.vechain.org/ (the SDK's VET_URL and TEST_VET_URL).
type HTTPNode struct {
	c *restjson.Client
}

// Public nodes tatum-kms's SDK uses.
const (
	MainnetURL = "https://sync-mainnet.vechain.org"
	TestnetURL = "https://sync-testnet.vechain.org"
)

// NewHTTPNode returns a Node for the Thor REST API at baseURL.
func NewHTTPNode(baseURL string, hc *http.Client) (*HTTPNode, error) {
	c, err := restjson.New(baseURL, hc)
	if err != nil {
		return nil, fmt.Errorf("VET %w", err)
	}
	return &HTTPNode{c: c}, nil
}

func blockID(s string) ([32]byte, error) {
	var id [32]byte
	if len(s) != 66 || !strings.HasPrefix(s, "0x") {
		return id, fmt.Errorf("block id %q is not 32 bytes of hex", s)
	}
	b, err := hex.DecodeString(s[2:])
	if err != nil {
		return id, fmt.Errorf("block id %q is not hex", s)
	}
	copy(id[:], b)
	return id, nil
}

func (n *HTTPNode) block(ctx context.Context, which string) ([32]byte, error) {
	var b *struct {
		ID string `json:"id"`
	}
	if err := n.c.Get(ctx, "/blocks/"+which, &b); err != nil {
		return [32]byte{}, err
	}
	if b == nil {
		return [32]byte{}, errors.New("block " + which + ": not found")
	}
	return blockID(b.ID)
}

// GenesisID is GET /blocks/0.
func (n *HTTPNode) GenesisID(ctx context.Context) ([32]byte, error) { return n.block(ctx, "0") }

// BestBlockID is GET /blocks/best.
func (n *HTTPNode) BestBlockID(ctx context.Context) ([32]byte, error) {
	return n.block(ctx, "best")
}

// simulateBody is thorify's eth_estimateGas request, field for field.
type simulateBody struct {
	Clauses []simClause `json:"clauses"`
	Gas     uint64      `json:"gas,omitempty"`
	Caller  string      `json:"caller"`
}

type simClause struct {
	To    string `json:"to"`
	Value string `json:"value"`
	Data  string `json:"data"`
}

func simulateRequest(caller [20]byte, c Clause, gas uint64) ([]byte, error) {
	return json.Marshal(simulateBody{
		Clauses: []simClause{{To: "0x" + hex.EncodeToString(c.To[:]), Value: "0x" + c.Value.Text(16), Data: "0x" + hex.EncodeToString(c.Data)}},
		Gas:     gas,
		Caller:  "0x" + hex.EncodeToString(caller[:]),
	})
}

// Simulate is POST /accounts/*?revision=best.
func (n *HTTPNode) Simulate(ctx context.Context, caller [20]byte, c Clause, gas uint64) (Estimate, error) {
	body, err := simulateRequest(caller, c, gas)
	if err != nil {
		return Estimate{}, err
	}
	var out []struct {
		GasUsed  uint64 `json:"gasUsed"`
		Reverted bool   `json:"reverted"`
		VMError  string `json:"vmError"`
	}
	if err := n.c.Post(ctx, "/accounts/*?revision=best", body, &out); err != nil {
		return Estimate{}, err
	}
	if len(out) != 1 {
		return Estimate{}, fmt.Errorf("simulation: %d results for one clause", len(out))
	}
	return Estimate{GasUsed: out[0].GasUsed, Reverted: out[0].Reverted, VMError: out[0].VMError}, nil
}
