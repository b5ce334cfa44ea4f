// Package ada signs Cardano pending transactions as tatum-kms 8.0.1 does
// (@tatumio/cardano 2.2.88's signKmsTransaction): the pending transaction
// holds Rosetta operations, a Rosetta node on Tatum's side builds the
// transaction (construction/preprocess, metadata, payloads), gokms signs the
// payloads with ed25519 and the node assembles the result
// (construction/combine). Unlike tatum-kms, gokms does not sign what the node
// hands back blindly: it decodes the unsigned transaction's body and checks it
// against the operations, checks that every payload is the body's
// blake2b-256 hash, and checks that the combined transaction carries that
// same body with its signatures.
package ada

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/fxamacker/cbor/v2"
	"golang.org/x/crypto/blake2b"

	"github.com/gokms/gokms/wallet"
)

// ErrRefused is wrapped by every refusal to sign: the pending transaction or
// the node's answer is not something gokms can check, or fails a check.
var ErrRefused = errors.New("ADA transaction refused")

// DefaultMaxFee is the fee (in lovelace) above which gokms refuses to sign
// unless Params.MaxFee says otherwise. The largest transaction the protocol
// allows (16 KiB) costs about 0.88 ADA at today's parameters.
const DefaultMaxFee = 2_000_000

// Params are the chain parameters a signature depends on.
type Params struct {
	Testnet bool   // preprod addresses and network identifier
	MaxFee  uint64 // lovelace; 0 means DefaultMaxFee
}

// Node calls a Rosetta Construction API endpoint ("construction/payloads",
// ...): req is marshalled to JSON, the answer is unmarshalled into resp.
type Node interface {
	Call(ctx context.Context, endpoint string, req, resp any) error
}

// Signed is the result of a signature.
type Signed struct {
	TxData string // construction/combine's signed_transaction: the broadcast txData
	TxHash string // blake2b-256 of the transaction body, hex: the Cardano transaction id
}

type networkID struct {
	Blockchain string `json:"blockchain"`
	Network    string `json:"network"`
}

func network(testnet bool) networkID {
	if testnet {
		return networkID{"cardano", "preprod"}
	}
	return networkID{"cardano", "mainnet"}
}

// The operation fields gokms reads; the node is sent the operations exactly
// as the pending transaction holds them.
type operation struct {
	Type    string `json:"type"`
	Account *struct {
		Address string `json:"address"`
	} `json:"account"`
	Amount *struct {
		Value    string `json:"value"`
		Currency struct {
			Symbol   string `json:"symbol"`
			Decimals int    `json:"decimals"`
		} `json:"currency"`
	} `json:"amount"`
	CoinChange *struct {
		CoinIdentifier struct {
			Identifier string `json:"identifier"`
		} `json:"coin_identifier"`
	} `json:"coin_change"`
	Metadata map[string]json.RawMessage `json:"metadata"`
}

type input struct {
	id      [32]byte
	index   uint64
	address string
	value   uint64
}

type output struct {
	address string
	raw     []byte
	value   uint64
}

type plan struct {
	ops     json.RawMessage
	inputs  []input
	outputs []output
	fee     uint64
}

// parse reads tatum-kms's serializedTransaction: a JSON array of ADA input
// and output operations.
func parse(serialized string, p Params) (*plan, error) {
	var ops []operation
	if err := json.Unmarshal([]byte(serialized), &ops); err != nil {
		return nil, fmt.Errorf("%w: serializedTransaction is not a JSON array of Rosetta operations: %v", ErrRefused, err)
	}
	pl := &plan{ops: json.RawMessage(serialized)}
	var in, out uint64
	seen := map[string]bool{}
	for i, op := range ops {
		if op.Account == nil || op.Amount == nil {
			return nil, fmt.Errorf("%w: operation %d has no account or amount", ErrRefused, i)
		}
		if op.Amount.Currency.Symbol != "ADA" || op.Amount.Currency.Decimals != 6 {
			return nil, fmt.Errorf("%w: operation %d moves %q (decimals %d); gokms signs ADA only, no native tokens", ErrRefused, i, op.Amount.Currency.Symbol, op.Amount.Currency.Decimals)
		}
		for k, v := range op.Metadata {
			if s := strings.TrimSpace(string(v)); s != "{}" && s != "null" && s != "[]" {
				return nil, fmt.Errorf("%w: operation %d carries metadata %q (token bundles, scripts) gokms does not check", ErrRefused, i, k)
			}
		}
		v, err := strconv.ParseInt(op.Amount.Value, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%w: operation %d amount %q is not an integer number of lovelace", ErrRefused, i, op.Amount.Value)
		}
		switch op.Type {
		case "input":
			if v <= 0 && v != math.MinInt64 {
				v = -v
			} else {
				return nil, fmt.Errorf("%w: input operation %d has amount %s; inputs are negative", ErrRefused, i, op.Amount.Value)
			}
			if op.CoinChange == nil {
				return nil, fmt.Errorf("%w: input operation %d names no coin (coin_change)", ErrRefused, i)
			}
			ident := op.CoinChange.CoinIdentifier.Identifier
			h, idx, ok := strings.Cut(ident, ":")
			hb, err := hex.DecodeString(h)
			n, err2 := strconv.ParseUint(idx, 10, 32)
			if !ok || err != nil || len(hb) != 32 || err2 != nil {
				return nil, fmt.Errorf("%w: input operation %d coin %q is not <tx hash>:<index>", ErrRefused, i, ident)
			}
			if seen[strings.ToLower(ident)] {
				return nil, fmt.Errorf("%w: coin %s is spent twice", ErrRefused, ident)
			}
			seen[strings.ToLower(ident)] = true
			if _, err := wallet.ParseCardanoAddress(op.Account.Address, p.Testnet); err != nil {
				return nil, fmt.Errorf("%w: input operation %d: %v", ErrRefused, i, err)
			}
			x := input{index: n, address: op.Account.Address, value: uint64(v)}
			copy(x.id[:], hb)
			pl.inputs = append(pl.inputs, x)
			if in += uint64(v); in < uint64(v) {
				return nil, fmt.Errorf("%w: inputs overflow", ErrRefused)
			}
		case "output":
			if v <= 0 {
				return nil, fmt.Errorf("%w: output operation %d has amount %s; outputs are positive", ErrRefused, i, op.Amount.Value)
			}
			raw, err := wallet.ParseCardanoAddress(op.Account.Address, p.Testnet)
			if err != nil {
				return nil, fmt.Errorf("%w: output operation %d: %v", ErrRefused, i, err)
			}
			pl.outputs = append(pl.outputs, output{address: op.Account.Address, raw: raw, value: uint64(v)})
			if out += uint64(v); out < uint64(v) {
				return nil, fmt.Errorf("%w: outputs overflow", ErrRefused)
			}
		default:
			return nil, fmt.Errorf("%w: operation %d has type %q; gokms signs input and output operations only", ErrRefused, i, op.Type)
		}
	}
	if len(pl.inputs) == 0 || len(pl.outputs) == 0 {
		return nil, fmt.Errorf("%w: %d inputs and %d outputs; want at least one of each", ErrRefused, len(pl.inputs), len(pl.outputs))
	}
	if out > in {
		return nil, fmt.Errorf("%w: outputs (%d lovelace) exceed inputs (%d lovelace)", ErrRefused, out, in)
	}
	pl.fee = in - out
	maxFee := p.MaxFee
	if maxFee == 0 {
		maxFee = DefaultMaxFee
	}
	if pl.fee > maxFee {
		return nil, fmt.Errorf("%w: fee %d lovelace (inputs minus outputs) exceeds the limit of %d lovelace; is a change output missing?", ErrRefused, pl.fee, maxFee)
	}
	return pl, nil
}

type payload struct {
	AccountIdentifier struct {
		Address string `json:"address"`
	} `json:"account_identifier"`
	HexBytes      string `json:"hex_bytes"`
	SignatureType string `json:"signature_type,omitempty"`
}

type publicKey struct {
	HexBytes  string `json:"hex_bytes"`
	CurveType string `json:"curve_type"`
}

type signature struct {
	SigningPayload payload   `json:"signing_payload"`
	PublicKey      publicKey `json:"public_key"`
	SignatureType  string    `json:"signature_type"`
	HexBytes       string    `json:"hex_bytes"`
}

// merge is JavaScript's {network_identifier, ...a, ...b}, as the SDK builds
// its requests.
func merge(net networkID, parts ...map[string]json.RawMessage) map[string]any {
	m := map[string]any{}
	for _, p := range parts {
		for k, v := range p {
			m[k] = v
		}
	}
	m["network_identifier"] = net
	return m
}

// Sign runs the construction flow for one pending transaction with the keys
// of its input addresses and returns the broadcast txData.
func Sign(ctx context.Context, node Node, serialized string, keys []*wallet.CardanoKey, p Params) (*Signed, error) {
	pl, err := parse(serialized, p)
	if err != nil {
		return nil, err
	}
	byAddr := map[string]*wallet.CardanoKey{}
	for _, k := range keys {
		a, err := wallet.CardanoEnterpriseAddress(k.PublicKey(), p.Testnet)
		if err != nil {
			return nil, err
		}
		byAddr[a] = k
	}
	for _, in := range pl.inputs {
		if byAddr[in.address] == nil {
			return nil, fmt.Errorf("%w: an input spends from %s, and none of the transaction's wallets has that address", ErrRefused, in.address)
		}
	}
	net := network(p.Testnet)

	var pre map[string]json.RawMessage
	if err := node.Call(ctx, "construction/preprocess", map[string]any{
		"network_identifier": net, "operations": pl.ops, "metadata": map[string]any{"relative_ttl": 1000},
	}, &pre); err != nil {
		return nil, err
	}
	var meta map[string]json.RawMessage
	if err := node.Call(ctx, "construction/metadata", merge(net, pre), &meta); err != nil {
		return nil, err
	}
	payReq := merge(net, map[string]json.RawMessage{"operations": pl.ops}, meta)
	payReq["operations"] = pl.ops // the operations always win over anything the node echoes back
	var pay struct {
		UnsignedTransaction string    `json:"unsigned_transaction"`
		Payloads            []payload `json:"payloads"`
	}
	if err := node.Call(ctx, "construction/payloads", payReq, &pay); err != nil {
		return nil, err
	}
	body, err := rosettaBody(pay.UnsignedTransaction, false)
	if err != nil {
		return nil, fmt.Errorf("%w: construction/payloads: unsigned_transaction: %v", ErrRefused, err)
	}
	if err := checkBody(body, pl); err != nil {
		return nil, fmt.Errorf("%w: construction/payloads built a transaction that is not the pending one: %v", ErrRefused, err)
	}
	hash := blake2b.Sum256(body)
	if len(pay.Payloads) == 0 {
		return nil, fmt.Errorf("%w: construction/payloads asked for no signature", ErrRefused)
	}
	sigs := make([]signature, 0, len(pay.Payloads))
	for i, pp := range pay.Payloads {
		msg, err := hex.DecodeString(pp.HexBytes)
		if err != nil || !bytes.Equal(msg, hash[:]) {
			return nil, fmt.Errorf("%w: payload %d is not the blake2b-256 hash of the transaction body (%x); gokms signs nothing else", ErrRefused, i, hash)
		}
		if pp.SignatureType != "" && pp.SignatureType != "ed25519" {
			return nil, fmt.Errorf("%w: payload %d wants a %q signature; Cardano keys sign ed25519", ErrRefused, i, pp.SignatureType)
		}
		k := byAddr[pp.AccountIdentifier.Address]
		if k == nil {
			return nil, fmt.Errorf("%w: payload %d is for %s, which is not an input address of the pending transaction", ErrRefused, i, pp.AccountIdentifier.Address)
		}
		sigs = append(sigs, signature{
			SigningPayload: pp,
			PublicKey:      publicKey{HexBytes: hex.EncodeToString(k.PublicKey()), CurveType: "edwards25519"},
			SignatureType:  "ed25519",
			HexBytes:       hex.EncodeToString(k.Sign(msg)),
		})
	}
	var comb struct {
		SignedTransaction string `json:"signed_transaction"`
	}
	if err := node.Call(ctx, "construction/combine", map[string]any{
		"network_identifier": net, "unsigned_transaction": pay.UnsignedTransaction, "signatures": sigs,
	}, &comb); err != nil {
		return nil, err
	}
	if err := checkSigned(comb.SignedTransaction, body, sigs); err != nil {
		return nil, fmt.Errorf("%w: construction/combine: %v", ErrRefused, err)
	}
	return &Signed{TxData: comb.SignedTransaction, TxHash: hex.EncodeToString(hash[:])}, nil
}

var dec, _ = cbor.DecOptions{MaxNestedLevels: 16, MaxArrayElements: 4096, MaxMapPairs: 4096}.DecMode()

// rosettaBody unwraps cardano-rosetta's encoding, hex(cbor([tx hex, extra
// data])), and returns the exact bytes of the transaction body: the body
// itself for an unsigned transaction, element 0 of the transaction array for
// a signed one.
func rosettaBody(s string, signed bool) ([]byte, error) {
	outer, err := hex.DecodeString(s)
	if err != nil {
		return nil, errors.New("not hex")
	}
	var pair []cbor.RawMessage
	if err := dec.Unmarshal(outer, &pair); err != nil || len(pair) != 2 {
		return nil, errors.New("not cbor([transaction, extra data]) as cardano-rosetta encodes it")
	}
	var txHex string
	if err := dec.Unmarshal(pair[0], &txHex); err != nil {
		return nil, errors.New("element 0 is not the transaction's hex text")
	}
	tx, err := hex.DecodeString(txHex)
	if err != nil {
		return nil, errors.New("element 0 is not hex")
	}
	if !signed {
		return tx, nil
	}
	parts, err := txParts(tx)
	if err != nil {
		return nil, err
	}
	return parts[0], nil
}

// txParts splits a signed transaction into [body, witnesses, ...].
func txParts(tx []byte) ([]cbor.RawMessage, error) {
	var parts []cbor.RawMessage
	if err := dec.Unmarshal(tx, &parts); err != nil || len(parts) < 2 {
		return nil, errors.New("not a transaction [body, witnesses, ...]")
	}
	return parts, nil
}

// witnessSet returns the witness set of s, a signed transaction in
// cardano-rosetta's encoding, by witness kind (0: vkey witnesses).
func witnessSet(s string) (map[uint64]cbor.RawMessage, error) {
	outer, err := hex.DecodeString(s)
	if err != nil {
		return nil, errors.New("not hex")
	}
	var pair []cbor.RawMessage
	var txHex string
	if err := dec.Unmarshal(outer, &pair); err != nil || len(pair) != 2 || dec.Unmarshal(pair[0], &txHex) != nil {
		return nil, errors.New("not cbor([transaction, extra data]) as cardano-rosetta encodes it")
	}
	tx, err := hex.DecodeString(txHex)
	if err != nil {
		return nil, errors.New("element 0 is not hex")
	}
	parts, err := txParts(tx)
	if err != nil {
		return nil, err
	}
	var ws map[uint64]cbor.RawMessage
	if err := dec.Unmarshal(parts[1], &ws); err != nil {
		return nil, errors.New("witness set is not a map")
	}
	return ws, nil
}

type txIn struct {
	_     struct{} `cbor:",toarray"`
	ID    []byte
	Index uint64
}

// checkBody decodes the transaction body and compares it to the operations:
// the same coins spent, the same outputs in the same order, fee = inputs -
// outputs, and no field that could do anything else (certificates,
// withdrawals, minting, scripts, metadata).
func checkBody(body []byte, pl *plan) error {
	var m map[uint64]cbor.RawMessage
	if err := dec.Unmarshal(body, &m); err != nil {
		return fmt.Errorf("body is not a CBOR map: %v", err)
	}
	for k := range m {
		switch k {
		case 0, 1, 2, 3, 8: // inputs, outputs, fee, ttl, validity start
		default:
			return fmt.Errorf("body has field %d (certificates, withdrawals, metadata, minting or scripts); gokms signs plain payments only", k)
		}
	}
	var ins []txIn
	if err := dec.Unmarshal(m[0], &ins); err != nil {
		return fmt.Errorf("inputs: %v", err)
	}
	if len(ins) != len(pl.inputs) {
		return fmt.Errorf("%d inputs, the operations spend %d", len(ins), len(pl.inputs))
	}
	want := map[string]bool{}
	for _, in := range pl.inputs {
		want[fmt.Sprintf("%x:%d", in.id, in.index)] = true
	}
	for _, in := range ins {
		k := fmt.Sprintf("%x:%d", in.ID, in.Index)
		if !want[k] {
			return fmt.Errorf("input %s is not one of the operations' coins", k)
		}
		delete(want, k)
	}
	var outs []cbor.RawMessage
	if err := dec.Unmarshal(m[1], &outs); err != nil {
		return fmt.Errorf("outputs: %v", err)
	}
	if len(outs) != len(pl.outputs) {
		return fmt.Errorf("%d outputs, the operations have %d", len(outs), len(pl.outputs))
	}
	for i, o := range outs {
		addr, value, err := decodeOutput(o)
		if err != nil {
			return fmt.Errorf("output %d: %v", i, err)
		}
		if !bytes.Equal(addr, pl.outputs[i].raw) {
			return fmt.Errorf("output %d pays another address than %s", i, pl.outputs[i].address)
		}
		if value != pl.outputs[i].value {
			return fmt.Errorf("output %d pays %d lovelace, the operation says %d", i, value, pl.outputs[i].value)
		}
	}
	var fee uint64
	if err := dec.Unmarshal(m[2], &fee); err != nil {
		return fmt.Errorf("fee: %v", err)
	}
	if fee != pl.fee {
		return fmt.Errorf("fee %d lovelace, inputs minus outputs is %d", fee, pl.fee)
	}
	return nil
}

// decodeOutput reads a legacy [address, coin] or a post-Babbage {0: address,
// 1: coin} output; a multi-asset value, a datum or a script is refused.
func decodeOutput(o cbor.RawMessage) ([]byte, uint64, error) {
	var addrRaw, amountRaw cbor.RawMessage
	var arr []cbor.RawMessage
	if err := dec.Unmarshal(o, &arr); err == nil {
		if len(arr) != 2 {
			return nil, 0, fmt.Errorf("has %d fields (a datum?); want [address, coin]", len(arr))
		}
		addrRaw, amountRaw = arr[0], arr[1]
	} else {
		var m map[uint64]cbor.RawMessage
		if err := dec.Unmarshal(o, &m); err != nil {
			return nil, 0, errors.New("neither an array nor a map")
		}
		for k := range m {
			if k > 1 {
				return nil, 0, fmt.Errorf("has field %d (datum or script)", k)
			}
		}
		addrRaw, amountRaw = m[0], m[1]
	}
	var addr []byte
	if err := dec.Unmarshal(addrRaw, &addr); err != nil {
		return nil, 0, errors.New("address is not bytes")
	}
	var value uint64
	if err := dec.Unmarshal(amountRaw, &value); err != nil {
		return nil, 0, errors.New("value is not a plain coin amount (native tokens?)")
	}
	return addr, value, nil
}

type vkeyWitness struct {
	_         struct{} `cbor:",toarray"`
	Vkey      []byte
	Signature []byte
}

// checkSigned checks that combine's transaction has the checked body and
// carries the signatures gokms made.
func checkSigned(s string, body []byte, sigs []signature) error {
	got, err := rosettaBody(s, true)
	if err != nil {
		return fmt.Errorf("signed_transaction: %v", err)
	}
	if !bytes.Equal(got, body) {
		return errors.New("signed_transaction has another body than the one signed")
	}
	ws, err := witnessSet(s)
	if err != nil {
		return err
	}
	var vks []vkeyWitness
	if err := dec.Unmarshal(ws[0], &vks); err != nil {
		return errors.New("no vkey witnesses")
	}
	have := map[string]bool{}
	for _, w := range vks {
		have[hex.EncodeToString(w.Vkey)+hex.EncodeToString(w.Signature)] = true
	}
	for _, sg := range sigs {
		if !have[sg.PublicKey.HexBytes+sg.HexBytes] {
			return fmt.Errorf("signed_transaction lacks the signature of %s", sg.SigningPayload.AccountIdentifier.Address)
		}
	}
	return nil
}

// Derive asks the node for pub's address as tatum-kms's getaddress does
// (construction/derive, no metadata) and checks the answer against the
// enterprise address gokms computes; it returns the address only when both
// agree, so a CLI can show what tatum-kms showed without trusting the node.
func Derive(ctx context.Context, node Node, pub []byte, testnet bool) (string, error) {
	local, err := wallet.CardanoEnterpriseAddress(pub, testnet)
	if err != nil {
		return "", err
	}
	var r struct {
		AccountIdentifier struct {
			Address string `json:"address"`
		} `json:"account_identifier"`
	}
	if err := node.Call(ctx, "construction/derive", map[string]any{
		"network_identifier": network(testnet),
		"public_key":         publicKey{HexBytes: hex.EncodeToString(pub), CurveType: "edwards25519"},
		"metadata":           map[string]any{},
	}, &r); err != nil {
		return "", err
	}
	if r.AccountIdentifier.Address != local {
		return "", fmt.Errorf("%w: construction/derive answered %s, the key's enterprise address is %s", ErrRefused, r.AccountIdentifier.Address, local)
	}
	return local, nil
}
