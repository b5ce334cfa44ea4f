// Package egld signs MultiversX (EGLD) pending transactions byte for byte
// as tatum-kms 8.0.1 does (@tatumio/tatum 1.37 signEgldKMSTransaction over
// @elrondnetwork/erdjs 7.0.1). The pending transaction's
// serializedTransaction is {from, to, value, data, gasPrice, gasLimit}
// with value in EGLD; like the SDK, gokms asks the node gateway for the
// network config (chain id, minimum gas price, transaction version), the
// sender's nonce and the gas cost, builds erdjs's transaction, signs
// JSON.stringify of its plain object with ed25519 and sends that object
// with the signature as txData to POST /v3/egld/broadcast.
//
// The node is reached through the Node interface (HTTPNode speaks the
// gateway's REST API); vector tests inject the values the SDK got.
// docs/egld.md lists the checks and the differences from tatum-kms.
package egld

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"sort"
	"strconv"

	"github.com/gokms/gokms/signing/internal/onejson"
	"github.com/gokms/gokms/wallet"
)

// ErrRefused is wrapped by every refusal of a pending transaction (it was
// not signed and will not be on a retry).
var ErrRefused = errors.New("EGLD transaction refused")

// BroadcastPath is where tatum-kms posts the signed transaction.
const BroadcastPath = "/v3/egld/broadcast"

const (
	defaultGasPrice = 1000000000 // the SDK's fallback when the config has none
	maxSafeInteger  = 1<<53 - 1
)

// NetworkConfig is the part of GET /network/config the SDK reads.
type NetworkConfig struct {
	ChainID               string // erd_chain_id
	MinGasPrice           uint64 // erd_min_gas_price (0: the SDK's 1e9)
	MinTransactionVersion uint64 // erd_min_transaction_version
}

// Node is what the SDK asks the gateway at signing time.
type Node interface {
	NetworkConfig(ctx context.Context) (NetworkConfig, error)
	// Nonce is the account's next nonce (GET /address/{a}/nonce).
	Nonce(ctx context.Context, address string) (uint64, error)
	// Cost is the gas the node estimates (POST /transaction/cost) for the
	// request body, which is the transaction with gasLimit 0.
	Cost(ctx context.Context, body []byte) (uint64, error)
}

// Transaction is erdjs's plain object: what is signed.
type Transaction struct {
	Nonce    uint64
	Value    *big.Int // in the smallest unit (1e-18 EGLD)
	Receiver string
	Sender   string
	GasPrice uint64
	GasLimit uint64
	Data     []byte // nil: no data field
	ChainID  string
	Version  uint64
}

// json writes erdjs's toPlainObject order: nonce, value, receiver, sender,
// gasPrice, gasLimit, data (base64, when set), chainID, version, then the
// signature when given. Every string in it is checked to need no escaping
// (digits, bech32, base64, the chain id's letters), so this is exactly
// JSON.stringify's output.
func (t *Transaction) json(sig []byte) []byte {
	var b bytes.Buffer
	b.WriteString(`{"nonce":`)
	b.WriteString(strconv.FormatUint(t.Nonce, 10))
	b.WriteString(`,"value":"`)
	b.WriteString(t.Value.String())
	b.WriteString(`","receiver":"`)
	b.WriteString(t.Receiver)
	b.WriteString(`","sender":"`)
	b.WriteString(t.Sender)
	b.WriteString(`","gasPrice":`)
	b.WriteString(strconv.FormatUint(t.GasPrice, 10))
	b.WriteString(`,"gasLimit":`)
	b.WriteString(strconv.FormatUint(t.GasLimit, 10))
	if len(t.Data) > 0 {
		b.WriteString(`,"data":"`)
		b.WriteString(base64.StdEncoding.EncodeToString(t.Data))
		b.WriteString(`"`)
	}
	b.WriteString(`,"chainID":"`)
	b.WriteString(t.ChainID)
	b.WriteString(`","version":`)
	b.WriteString(strconv.FormatUint(t.Version, 10))
	if sig != nil {
		b.WriteString(`,"signature":"`)
		b.WriteString(hex.EncodeToString(sig))
		b.WriteString(`"`)
	}
	b.WriteString("}")
	return b.Bytes()
}

// SigningBytes is erdjs's serializeForSigning: the JSON without signature.
func (t *Transaction) SigningBytes() []byte { return t.json(nil) }

// costBody is the SDK's egldTx as POSTed to /transaction/cost: the same
// fields in its own order with gasLimit 0.
func (t *Transaction) costBody() []byte {
	c := *t
	c.GasLimit = 0
	return c.json(nil)
}

// Pending is what the pending transaction asks for.
type Pending struct {
	From  string   // "" when absent: the key's own address
	To    string   // erd1 address
	Value *big.Int // smallest unit
	Data  []byte   // nil when absent or empty
}

// Signed is the result of Sign.
type Signed struct {
	TxData string // the broadcast body's txData (erdjs's sendable JSON)
	Tx     *Transaction
}

func refuse(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrRefused, fmt.Sprintf(format, a...))
}

var chainIDPattern = regexp.MustCompile(`^[A-Za-z0-9]{1,16}$`)

// networkChainIDs are the chain ids accepted on each network: mainnet "1";
// Tatum's EGLD testnet is MultiversX's devnet ("D"), "T" the testnet.
func chainIDAllowed(id string, testnet bool) bool {
	if testnet {
		return id == "D" || id == "T"
	}
	return id == "1"
}

// Sign decodes and checks serializedTransaction, fetches what the SDK
// fetches from node, and signs with key for the given network. The key is
// not kept.
func Sign(ctx context.Context, serializedTransaction string, key ed25519.PrivateKey, testnet bool, node Node) (*Signed, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, errors.New("EGLD signing key: not an ed25519 private key")
	}
	p, err := Decode(serializedTransaction)
	if err != nil {
		return nil, err
	}
	own, err := wallet.EGLDAddress(key.Public().(ed25519.PublicKey))
	if err != nil {
		return nil, err
	}
	sender := p.From
	if sender == "" {
		sender = own
	} else if sender != own {
		// The SDK fetches the nonce of "from" but signs as the key's
		// address: a transaction that cannot be what was asked.
		return nil, refuse("its sender %s is not the address of the wallet's key (%s); check the signatureId and index", sender, own)
	}
	cfg, err := node.NetworkConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("EGLD network config: %w", err)
	}
	if !chainIDPattern.MatchString(cfg.ChainID) {
		return nil, fmt.Errorf("EGLD network config: chain id %q is not a chain id", cfg.ChainID)
	}
	if !chainIDAllowed(cfg.ChainID, testnet) {
		return nil, fmt.Errorf("EGLD network config: the node's chain id %q is not %s's; check the node URL", cfg.ChainID, map[bool]string{false: "mainnet (1)", true: "testnet (D or T)"}[testnet])
	}
	if cfg.MinTransactionVersion == 0 || cfg.MinTransactionVersion > maxSafeInteger {
		return nil, errors.New("EGLD network config: no erd_min_transaction_version")
	}
	gasPrice := cfg.MinGasPrice
	if gasPrice == 0 {
		gasPrice = defaultGasPrice
	}
	nonce, err := node.Nonce(ctx, sender)
	if err != nil {
		return nil, fmt.Errorf("EGLD nonce of %s: %w", sender, err)
	}
	if nonce > maxSafeInteger || gasPrice > maxSafeInteger {
		return nil, errors.New("EGLD node: nonce or gas price above 2^53")
	}
	tx := &Transaction{Nonce: nonce, Value: p.Value, Receiver: p.To, Sender: sender, GasPrice: gasPrice,
		Data: p.Data, ChainID: cfg.ChainID, Version: cfg.MinTransactionVersion}
	gas, err := node.Cost(ctx, tx.costBody())
	if err != nil {
		return nil, fmt.Errorf("EGLD gas cost: %w", err)
	}
	if gas == 0 || gas > maxSafeInteger {
		return nil, fmt.Errorf("EGLD gas cost: the node answered %d gas units", gas)
	}
	tx.GasLimit = gas
	sig := ed25519.Sign(key, tx.SigningBytes())
	return &Signed{TxData: string(tx.json(sig)), Tx: tx}, nil
}

// BroadcastBody is the JSON tatum-kms posts to BroadcastPath.
func BroadcastBody(txData, signatureID string) ([]byte, error) {
	return json.Marshal(struct {
		TxData      string `json:"txData"`
		SignatureID string `json:"signatureId"`
	}{txData, signatureID})
}

var wei = new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(18), nil))

// Decode parses serializedTransaction and refuses what it does not
// understand.
func Decode(serializedTransaction string) (*Pending, error) {
	raw, err := onejson.Object(serializedTransaction)
	if errors.Is(err, onejson.ErrTrailing) {
		return nil, refuse("serializedTransaction has data after the JSON object")
	}
	if err != nil {
		return nil, refuse("serializedTransaction is not a JSON object (want {from, to, value, data, gasPrice, gasLimit})")
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch k {
		case "from", "to", "value", "data":
		case "gasPrice", "gasLimit":
			// The SDK ignores them: it asks the node again (so does gokms).
		default:
			if string(raw[k]) != "null" {
				return nil, refuse("unknown field %q", k)
			}
		}
	}
	p := &Pending{}
	str := func(k string) (string, bool, error) {
		v, ok := raw[k]
		if !ok || string(v) == "null" {
			return "", false, nil
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return "", true, refuse("%s is not a string", k)
		}
		return s, true, nil
	}
	from, ok, err := str("from")
	if err != nil {
		return nil, err
	}
	if ok && from != "" {
		if _, err := wallet.ParseEGLDAddress(from); err != nil {
			return nil, refuse("from: %v", err)
		}
		p.From = from
	}
	to, ok, err := str("to")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, refuse("to is missing")
	}
	if _, err := wallet.ParseEGLDAddress(to); err != nil {
		return nil, refuse("to: %v", err)
	}
	p.To = to
	data, _, err := str("data")
	if err != nil {
		return nil, err
	}
	if data != "" {
		p.Data = []byte(data)
	}
	v, ok := raw["value"]
	if !ok || string(v) == "null" {
		return nil, refuse("value is missing")
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		var n json.Number
		if err := json.Unmarshal(v, &n); err != nil {
			return nil, refuse("value is neither a number nor a string")
		}
		s = n.String()
	}
	// BigNumber(value) * 1e18: decimal, optionally with an exponent.
	if !decimalPattern.MatchString(s) {
		return nil, refuse("value %q is not a decimal amount of EGLD", s)
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return nil, refuse("value %q is not a decimal amount of EGLD", s)
	}
	if r.Sign() < 0 {
		// The SDK would send 0 instead; a negative amount is a broken request.
		return nil, refuse("value %s is negative", s)
	}
	r.Mul(r, wei)
	if !r.IsInt() {
		return nil, refuse("value %s has more than 18 decimals", s)
	}
	p.Value = new(big.Int).Set(r.Num())
	return p, nil
}

var decimalPattern = regexp.MustCompile(`^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d{1,3})?$`)
