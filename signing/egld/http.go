package egld

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/gokms/gokms/signing/internal/restjson"
)

// HTTPNode is Node over the MultiversX gateway REST API, as the SDK calls
// it: tatum-kms uses Tatum's gateway proxy at
// {TATUM_API_URL}/v3/egld/node/{TATUM_API_KEY}; any gateway URL works.
type HTTPNode struct {
	c *restjson.Client
}

// NewHTTPNode returns a Node for the gateway at baseURL. The URL may carry
// the API key in its path: errors never show it.
func NewHTTPNode(baseURL string, hc *http.Client) (*HTTPNode, error) {
	c, err := restjson.New(baseURL, hc)
	if err != nil {
		return nil, fmt.Errorf("EGLD %w", err)
	}
	return &HTTPNode{c: c}, nil
}

// TatumGateway is the node URL tatum-kms's SDK uses.
func TatumGateway(apiURL, apiKey string) string {
	return apiURL + "/v3/egld/node/" + url.PathEscape(apiKey)
}

type gatewayAnswer[T any] struct {
	Data  *T     `json:"data"`
	Error string `json:"error"`
	Code  string `json:"code"`
}

func (a *gatewayAnswer[T]) get(what string) (*T, error) {
	if a.Data == nil {
		msg := a.Error
		if msg == "" {
			msg = "no data in the answer (code " + a.Code + ")"
		}
		return nil, errors.New(what + ": " + msg)
	}
	return a.Data, nil
}

// NetworkConfig is GET /network/config.
func (n *HTTPNode) NetworkConfig(ctx context.Context) (NetworkConfig, error) {
	var a gatewayAnswer[struct {
		Config *struct {
			ChainID     string      `json:"erd_chain_id"`
			MinGasPrice json.Number `json:"erd_min_gas_price"`
			MinVersion  json.Number `json:"erd_min_transaction_version"`
		} `json:"config"`
	}]
	if err := n.c.Get(ctx, "/network/config", &a); err != nil {
		return NetworkConfig{}, err
	}
	d, err := a.get("network config")
	if err != nil {
		return NetworkConfig{}, err
	}
	if d.Config == nil {
		return NetworkConfig{}, errors.New("network config: no config in the answer")
	}
	cfg := NetworkConfig{ChainID: d.Config.ChainID}
	if cfg.MinGasPrice, err = uintOf(d.Config.MinGasPrice, true); err != nil {
		return NetworkConfig{}, fmt.Errorf("network config: erd_min_gas_price: %w", err)
	}
	if cfg.MinTransactionVersion, err = uintOf(d.Config.MinVersion, false); err != nil {
		return NetworkConfig{}, fmt.Errorf("network config: erd_min_transaction_version: %w", err)
	}
	return cfg, nil
}

// Nonce is GET /address/{address}/nonce.
func (n *HTTPNode) Nonce(ctx context.Context, address string) (uint64, error) {
	var a gatewayAnswer[struct {
		Nonce json.Number `json:"nonce"`
	}]
	if err := n.c.Get(ctx, "/address/"+url.PathEscape(address)+"/nonce", &a); err != nil {
		return 0, err
	}
	d, err := a.get("nonce")
	if err != nil {
		return 0, err
	}
	return uintOf(d.Nonce, false)
}

// Cost is POST /transaction/cost.
func (n *HTTPNode) Cost(ctx context.Context, body []byte) (uint64, error) {
	var a gatewayAnswer[struct {
		TxGasUnits    json.Number `json:"txGasUnits"`
		ReturnMessage string      `json:"returnMessage"`
	}]
	if err := n.c.Post(ctx, "/transaction/cost", body, &a); err != nil {
		return 0, err
	}
	d, err := a.get("transaction cost")
	if err != nil {
		return 0, err
	}
	if d.TxGasUnits == "" || d.TxGasUnits == "0" {
		msg := d.ReturnMessage
		if msg == "" {
			msg = "no txGasUnits"
		}
		return 0, errors.New("transaction cost: " + msg)
	}
	return uintOf(d.TxGasUnits, false)
}

func uintOf(n json.Number, optional bool) (uint64, error) {
	if n == "" {
		if optional {
			return 0, nil
		}
		return 0, errors.New("missing")
	}
	var u uint64
	if err := json.Unmarshal([]byte(n), &u); err != nil {
		return 0, fmt.Errorf("%s is not a non-negative integer", n)
	}
	return u, nil
}
