// Package vet signs VeChain (VET) pending transactions byte for byte as
// tatum-kms 8.0.1 does (@tatumio/tatum 1.37 signVetKMSTransaction through
// thorify 1.6.2 and thor-devkit 1.3.3). The pending transaction's
// serializedTransaction is a web3 transaction config {from: 0, to, value
// (wei), data?, gas?}; like thorify, gokms re-estimates the gas (intrinsic
// gas plus the VM gas the node simulates, plus 15000 when the VM used any),
// takes the chain tag from the genesis block and the block reference from
// the best block, draws a random nonce, builds the one-clause VeChain
// transaction, signs blake2b-256 of its RLP with secp256k1 (65-byte
// recoverable signature) and returns "0x" + hex of the signed RLP, which
// tatum-kms posts as txData to POST /v3/vet/broadcast.
//
// The node is reached through the Node interface (HTTPNode speaks the Thor
// REST API); vector tests inject the values thorify got and its nonce.
// docs/vechain.md lists the checks and the differences from tatum-kms.
package vet

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"sort"
	"strings"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rlp"
	"golang.org/x/crypto/blake2b"

	"github.com/gokms/gokms/signing/internal/onejson"
	"github.com/gokms/gokms/wallet"
)

// ErrRefused is wrapped by every refusal of a pending transaction (it was
// not signed and will not be on a retry).
var ErrRefused = errors.New("VET transaction refused")

// BroadcastPath is where tatum-kms posts the signed transaction.
const BroadcastPath = "/v3/vet/broadcast"

// Chain tags: the last byte of each network's genesis block id.
const (
	MainnetChainTag = 0x4a
	TestnetChainTag = 0x27
)

// thorify's defaults (utils/params.ts) and thor-devkit's intrinsic gas.
const (
	defaultExpiration   = 720
	defaultGasPriceCoef = 0
	txGas               = 5000
	clauseGas           = 16000
	zeroByteGas         = 4
	nonZeroByteGas      = 68
	vmGasMargin         = 15000 // thorify adds it to a non-zero VM estimate
)

// Clause is one VeChain clause.
type Clause struct {
	To    [20]byte
	Value *big.Int
	Data  []byte
}

// Estimate is what the node's simulation (POST /accounts/*) says.
type Estimate struct {
	GasUsed  uint64
	Reverted bool
	VMError  string
}

// Node is what thorify asks the node at signing time.
type Node interface {
	// GenesisID is the id of block 0 (GET /blocks/0).
	GenesisID(ctx context.Context) ([32]byte, error)
	// BestBlockID is the id of the best block (GET /blocks/best).
	BestBlockID(ctx context.Context) ([32]byte, error)
	// Simulate runs the clause as caller (POST /accounts/*?revision=best);
	// gas is the pending transaction's own gas field (0: none), which
	// thorify passes along.
	Simulate(ctx context.Context, caller [20]byte, c Clause, gas uint64) (Estimate, error)
}

// NonceSource draws the transaction nonce. thorify draws
// floor(now/65535 * random * 65535); gokms uses 64 random bits by default.
type NonceSource func() (uint64, error)

// RandomNonce is the default NonceSource (crypto/rand).
func RandomNonce() (uint64, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return 0, fmt.Errorf("VET nonce: %w", err)
	}
	return binary.BigEndian.Uint64(b[:]), nil
}

// Transaction is the VeChain transaction body that is signed.
type Transaction struct {
	ChainTag     byte
	BlockRef     [8]byte
	Expiration   uint32
	Clause       Clause
	GasPriceCoef byte
	Gas          uint64
	Nonce        uint64
}

// items is thor-devkit's unsignedTxRLP profile: numbers minimal big-endian
// (0 is the empty string), blockRef without leading zero bytes (compact
// fixed blob), a null dependsOn as the empty string, and no reserved
// features (the empty list).
func (t *Transaction) items() []any {
	ref := t.BlockRef[:]
	for len(ref) > 0 && ref[0] == 0 {
		ref = ref[1:]
	}
	clause := []any{t.Clause.To[:], t.Clause.Value, t.Clause.Data}
	return []any{uint64(t.ChainTag), ref, uint64(t.Expiration), []any{clause},
		uint64(t.GasPriceCoef), t.Gas, []byte{}, t.Nonce, []any{}}
}

// SigningHash is blake2b-256 of the unsigned RLP.
func (t *Transaction) SigningHash() ([32]byte, error) {
	b, err := rlp.EncodeToBytes(t.items())
	if err != nil {
		return [32]byte{}, fmt.Errorf("VET RLP: %w", err)
	}
	return blake2b.Sum256(b), nil
}

// Signed is the result of Sign.
type Signed struct {
	RawTransaction string // "0x" + hex: the broadcast body's txData
	ID             string // the transaction id: blake2b-256(signing hash || origin)
	Tx             *Transaction
}

// Pending is what the pending transaction asks for.
type Pending struct {
	To    [20]byte
	Value *big.Int
	Data  []byte
	Gas   uint64 // the config's own gas (passed to the simulation only)
}

func refuse(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrRefused, fmt.Sprintf(format, a...))
}

// IntrinsicGas is thor-devkit's Transaction.intrinsicGas for one clause
// with a recipient.
func IntrinsicGas(data []byte) uint64 {
	g := uint64(txGas + clauseGas)
	for _, b := range data {
		if b == 0 {
			g += zeroByteGas
		} else {
			g += nonZeroByteGas
		}
	}
	return g
}

// Sign decodes and checks serializedTransaction, asks node what thorify
// asks, draws a nonce and signs with key for the given network. The key
// is not kept.
func Sign(ctx context.Context, serializedTransaction string, key *btcec.PrivateKey, testnet bool, node Node, nonce NonceSource) (*Signed, error) {
	if key == nil {
		return nil, errors.New("VET signing key: missing")
	}
	if nonce == nil {
		nonce = RandomNonce
	}
	p, err := Decode(serializedTransaction, key)
	if err != nil {
		return nil, err
	}
	var caller [20]byte
	copy(caller[:], crypto.PubkeyToAddress(*key.PubKey().ToECDSA()).Bytes())
	clause := Clause{To: p.To, Value: p.Value, Data: p.Data}
	est, err := node.Simulate(ctx, caller, clause, p.Gas)
	if err != nil {
		return nil, fmt.Errorf("VET gas estimate: %w", err)
	}
	if est.Reverted || est.VMError != "" {
		// thorify: "Gas estimation failed"; the transaction would fail.
		msg := "Gas estimation failed"
		if est.VMError != "" {
			msg += ": " + est.VMError
		}
		return nil, refuse("%s (the node's simulation of the clause reverted)", msg)
	}
	gas := IntrinsicGas(p.Data)
	if est.GasUsed > 0 {
		if est.GasUsed > 1<<53 {
			return nil, fmt.Errorf("VET gas estimate: %d gas is not a real estimate", est.GasUsed)
		}
		gas += est.GasUsed + vmGasMargin
	}
	genesis, err := node.GenesisID(ctx)
	if err != nil {
		return nil, fmt.Errorf("VET chain tag: %w", err)
	}
	tag := genesis[31]
	if want := map[bool]byte{false: MainnetChainTag, true: TestnetChainTag}[testnet]; tag != want {
		return nil, fmt.Errorf("VET chain tag: the node's genesis block is of chain 0x%02x, not %s's 0x%02x; check the node URL", tag, map[bool]string{false: "mainnet", true: "testnet"}[testnet], want)
	}
	best, err := node.BestBlockID(ctx)
	if err != nil {
		return nil, fmt.Errorf("VET block reference: %w", err)
	}
	n, err := nonce()
	if err != nil {
		return nil, err
	}
	tx := &Transaction{ChainTag: tag, Expiration: defaultExpiration, Clause: clause,
		GasPriceCoef: defaultGasPriceCoef, Gas: gas, Nonce: n}
	copy(tx.BlockRef[:], best[:8])
	h, err := tx.SigningHash()
	if err != nil {
		return nil, err
	}
	sig, err := crypto.Sign(h[:], key.ToECDSA())
	if err != nil {
		return nil, fmt.Errorf("VET sign: %w", err)
	}
	raw, err := rlp.EncodeToBytes(append(tx.items(), sig))
	if err != nil {
		return nil, fmt.Errorf("VET RLP: %w", err)
	}
	id := blake2b.Sum256(append(h[:], caller[:]...))
	return &Signed{RawTransaction: "0x" + hex.EncodeToString(raw), ID: "0x" + hex.EncodeToString(id[:]), Tx: tx}, nil
}

// BroadcastBody is the JSON tatum-kms posts to BroadcastPath.
func BroadcastBody(rawTransaction, signatureID string) ([]byte, error) {
	return json.Marshal(struct {
		TxData      string `json:"txData"`
		SignatureID string `json:"signatureId"`
	}{rawTransaction, signatureID})
}

var (
	addrPattern = regexp.MustCompile(`^0x[0-9a-fA-F]{40}$`)
	hexPattern  = regexp.MustCompile(`^(0x)?([0-9a-fA-F]{2})*$`)
	decPattern  = regexp.MustCompile(`^[0-9]+$`)
	hexNumber   = regexp.MustCompile(`^0x[0-9a-fA-F]+$`)
	maxValue    = new(big.Int).Lsh(big.NewInt(1), 256)
)

// Decode parses serializedTransaction and refuses what it does not
// understand. key is the signing key, to check the config's "from" when it
// names an address; nil skips that one check.
func Decode(serializedTransaction string, key *btcec.PrivateKey) (*Pending, error) {
	raw, err := onejson.Object(serializedTransaction)
	if errors.Is(err, onejson.ErrTrailing) {
		return nil, refuse("serializedTransaction has data after the JSON object")
	}
	if err != nil {
		return nil, refuse("serializedTransaction is not a JSON object (want a web3 transaction config {from, to, value, data})")
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch k {
		case "from", "to", "value", "data", "gas":
		case "chainTag", "blockRef", "expiration", "gasPriceCoef", "dependsOn", "nonce":
			if string(raw[k]) != "null" {
				// thorify would take them as given; Tatum's API does not send
				// them, and gokms fetches or draws each itself.
				return nil, refuse("it sets %q, which gokms takes from the node (or draws) itself", k)
			}
		default:
			if string(raw[k]) != "null" {
				return nil, refuse("unknown field %q", k)
			}
		}
	}
	p := &Pending{}
	// from: Tatum sends 0 (thorify then uses the key's address); an address
	// must be the key's.
	if v, ok := raw["from"]; ok && string(v) != "null" && string(v) != "0" && string(v) != `""` {
		var s string
		if json.Unmarshal(v, &s) != nil || !addrPattern.MatchString(s) {
			return nil, refuse("from is neither 0 nor an address")
		}
		if key == nil {
			// (a pre-check without the key: Sign checks again with it)
		} else if own := wallet.VETAddress(key.PubKey()); !strings.EqualFold(s, own) {
			return nil, refuse("its sender %s is not the address of the wallet's key (%s); check the signatureId and index", s, own)
		}
	}
	var to string
	if v, ok := raw["to"]; !ok || json.Unmarshal(v, &to) != nil || to == "" {
		return nil, refuse("to is missing (contract creation is not signed)")
	}
	if !addrPattern.MatchString(to) {
		return nil, refuse("to %q is not a 0x address of 20 bytes", to)
	}
	b, _ := hex.DecodeString(to[2:])
	copy(p.To[:], b)
	// value: wei as a decimal string, a number, or a 0x hex string (what
	// web3's numberToHex takes).
	p.Value = new(big.Int)
	if v, ok := raw["value"]; ok && string(v) != "null" {
		var s string
		if json.Unmarshal(v, &s) != nil {
			var n json.Number
			if json.Unmarshal(v, &n) != nil {
				return nil, refuse("value is neither a number nor a string")
			}
			s = n.String()
		}
		var ok bool
		switch {
		case decPattern.MatchString(s):
			_, ok = p.Value.SetString(s, 10)
		case hexNumber.MatchString(s):
			_, ok = p.Value.SetString(s[2:], 16)
		}
		if !ok {
			return nil, refuse("value %q is not a non-negative integer amount of wei", s)
		}
		if p.Value.Cmp(maxValue) >= 0 {
			return nil, refuse("value does not fit in 256 bits")
		}
	}
	if v, ok := raw["data"]; ok && string(v) != "null" {
		var s string
		if json.Unmarshal(v, &s) != nil || !hexPattern.MatchString(s) {
			return nil, refuse("data is not hex bytes (thorify: Data must be valid hex)")
		}
		p.Data, _ = hex.DecodeString(strings.TrimPrefix(s, "0x"))
	}
	if v, ok := raw["gas"]; ok && string(v) != "null" {
		var s string
		if json.Unmarshal(v, &s) != nil {
			var n json.Number
			if json.Unmarshal(v, &n) != nil {
				return nil, refuse("gas is neither a number nor a string")
			}
			s = n.String()
		}
		g, ok := new(big.Int), false
		switch {
		case decPattern.MatchString(s):
			_, ok = g.SetString(s, 10)
		case hexNumber.MatchString(s):
			_, ok = g.SetString(s[2:], 16)
		}
		if !ok || !g.IsUint64() || g.Uint64() > 1<<53 {
			return nil, refuse("gas %q is not a gas amount", s)
		}
		p.Gas = g.Uint64()
	}
	return p, nil
}
