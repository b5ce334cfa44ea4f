package utxo

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
)

// bitcoreTx is bitcore-lib's Transaction.toObject() form, which the Tatum API
// hands out as serializedTransaction for BTC, LTC and DOGE (bitcore-lib,
// bitcore-lib-ltc, bitcore-lib-doge all share it). changeScript, changeIndex
// and fee are bitcore builder hints that do not change the transaction; they
// are accepted and ignored, as bitcore's fromObject ignores them for signing.
type bitcoreTx struct {
	Hash      string         `json:"hash"`
	Version   *int32         `json:"version"`
	Inputs    []bitcoreInput `json:"inputs"`
	Outputs   []bitcoreOut   `json:"outputs"`
	NLockTime *uint32        `json:"nLockTime"`
}

type bitcoreInput struct {
	PrevTxID       string      `json:"prevTxId"`
	OutputIndex    *uint32     `json:"outputIndex"`
	SequenceNumber *uint32     `json:"sequenceNumber"`
	Script         string      `json:"script"`
	Output         *bitcoreOut `json:"output"`
}

type bitcoreOut struct {
	Satoshis satoshis `json:"satoshis"`
	Script   string   `json:"script"`
}

// satoshis accepts a JSON integer or a decimal string of one (bitcore's
// Output accepts both), and nothing else: a fractional or exponent amount is
// a malformed transaction, not something to round.
type satoshis struct {
	v   int64
	set bool
}

func (s *satoshis) UnmarshalJSON(b []byte) error {
	t := strings.TrimSpace(string(b))
	if t == "null" {
		return nil
	}
	if len(t) >= 2 && t[0] == '"' {
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return err
		}
		t = str
	}
	v, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		return fmt.Errorf("satoshis %q is not a whole number of satoshis", t)
	}
	s.v, s.set = v, true
	return nil
}

// prevOut is what signing needs to know about the output an input spends.
type prevOut struct {
	script []byte
	amount int64
}

// parsedTx is an unsigned transaction plus the outputs its inputs spend.
type parsedTx struct {
	tx   *wire.MsgTx
	prev []prevOut // one per input; script nil when unknown (BCH hex form)
}

// clone returns a copy that signing may change (scripts, witnesses, the
// previous scripts of the BCH hex form) without touching p.
func (p *parsedTx) clone() *parsedTx {
	return &parsedTx{tx: p.tx.Copy(), prev: slices.Clone(p.prev)}
}

// parseBitcore builds the wire transaction from bitcore JSON and checks it is
// self-consistent: every input names the output it spends, amounts are whole
// and in range, outputs do not exceed inputs, and the "hash" bitcore wrote
// (the txid of the unsigned transaction) matches what the fields describe.
func parseBitcore(c *chainInfo, s string) (*parsedTx, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var bt bitcoreTx
	if err := dec.Decode(&bt); err != nil {
		return nil, fmt.Errorf("parse serializedTransaction as bitcore transaction JSON: %w", err)
	}
	if bt.Version == nil {
		return nil, fmt.Errorf("serializedTransaction has no version")
	}
	if len(bt.Inputs) == 0 {
		return nil, fmt.Errorf("serializedTransaction has no inputs")
	}
	if len(bt.Outputs) == 0 {
		return nil, fmt.Errorf("serializedTransaction has no outputs")
	}
	tx := wire.NewMsgTx(*bt.Version)
	if bt.NLockTime != nil {
		tx.LockTime = *bt.NLockTime
	}
	p := &parsedTx{tx: tx}
	seen := make(map[wire.OutPoint]int, len(bt.Inputs))
	var in int64
	for i, bi := range bt.Inputs {
		h, err := chainhash.NewHashFromStr(bi.PrevTxID)
		if err != nil || len(bi.PrevTxID) != 64 {
			return nil, fmt.Errorf("input %d: prevTxId %q is not a 32-byte hex transaction id", i, bi.PrevTxID)
		}
		if bi.OutputIndex == nil {
			return nil, fmt.Errorf("input %d: no outputIndex", i)
		}
		op := wire.OutPoint{Hash: *h, Index: *bi.OutputIndex}
		if j, dup := seen[op]; dup {
			return nil, fmt.Errorf("input %d spends %s, as input %d already does", i, op, j)
		}
		seen[op] = i
		seq := uint32(wire.MaxTxInSequenceNum)
		if bi.SequenceNumber != nil {
			seq = *bi.SequenceNumber
		}
		sigScript, err := hex.DecodeString(bi.Script)
		if err != nil {
			return nil, fmt.Errorf("input %d: script is not hex: %w", i, err)
		}
		if bi.Output == nil || !bi.Output.Satoshis.set || bi.Output.Script == "" {
			return nil, fmt.Errorf("input %d (%s): no previous output (satoshis and script); an input cannot be signed without them", i, op)
		}
		amt := bi.Output.Satoshis.v
		if err := c.checkAmount(amt); err != nil {
			return nil, fmt.Errorf("input %d (%s): %w", i, op, err)
		}
		pk, err := hex.DecodeString(bi.Output.Script)
		if err != nil {
			return nil, fmt.Errorf("input %d (%s): output script is not hex: %w", i, op, err)
		}
		in += amt
		if err := c.checkAmount(in); err != nil {
			return nil, fmt.Errorf("sum of inputs: %w", err)
		}
		tx.AddTxIn(&wire.TxIn{PreviousOutPoint: op, SignatureScript: sigScript, Sequence: seq})
		p.prev = append(p.prev, prevOut{script: pk, amount: amt})
	}
	var out int64
	for i, bo := range bt.Outputs {
		if !bo.Satoshis.set {
			return nil, fmt.Errorf("output %d: no satoshis", i)
		}
		if err := c.checkAmount(bo.Satoshis.v); err != nil {
			return nil, fmt.Errorf("output %d: %w", i, err)
		}
		pk, err := hex.DecodeString(bo.Script)
		if err != nil {
			return nil, fmt.Errorf("output %d: script is not hex: %w", i, err)
		}
		out += bo.Satoshis.v
		if err := c.checkAmount(out); err != nil {
			return nil, fmt.Errorf("sum of outputs: %w", err)
		}
		tx.AddTxOut(wire.NewTxOut(bo.Satoshis.v, pk))
	}
	if out > in {
		return nil, fmt.Errorf("outputs spend %d satoshis but the inputs hold only %d", out, in)
	}
	if bt.Hash != "" {
		// bitcore's fromObject refuses an object whose hash does not match;
		// so do we: a mismatch means the JSON was altered or mis-built.
		if got := tx.TxHash().String(); got != strings.ToLower(bt.Hash) {
			return nil, fmt.Errorf("serializedTransaction hash %s does not match its contents (txid %s)", bt.Hash, got)
		}
	}
	return p, nil
}

// parseBCHHex reads the form the Tatum API uses for Bitcoin Cash (and
// @tatumio/tatum's signBitcoinCashKMSTransaction splits): the unsigned
// transaction in hex, a colon, and a JSON array with the amount in satoshis
// of the output each input spends. The previous output scripts are not
// included; signing assumes P2PKH to the signing key, which is what Tatum
// builds for BCH.
func parseBCHHex(c *chainInfo, s string) (*parsedTx, error) {
	h, amts, ok := strings.Cut(s, ":")
	if !ok {
		return nil, fmt.Errorf("serializedTransaction is neither bitcore JSON nor \"<hex>:<amounts>\"")
	}
	raw, err := hex.DecodeString(strings.TrimSpace(h))
	if err != nil {
		return nil, fmt.Errorf("serializedTransaction: transaction is not hex: %w", err)
	}
	tx := wire.NewMsgTx(wire.TxVersion)
	r := bytes.NewReader(raw)
	if err := tx.DeserializeNoWitness(r); err != nil {
		return nil, fmt.Errorf("serializedTransaction: decode transaction: %w", err)
	}
	if r.Len() != 0 {
		return nil, fmt.Errorf("serializedTransaction: %d bytes after the transaction", r.Len())
	}
	if len(tx.TxIn) == 0 || len(tx.TxOut) == 0 {
		return nil, fmt.Errorf("serializedTransaction has no inputs or no outputs")
	}
	dec := json.NewDecoder(strings.NewReader(amts))
	dec.UseNumber()
	var list []satoshis
	if err := dec.Decode(&list); err != nil {
		return nil, fmt.Errorf("serializedTransaction: amounts after ':' are not a JSON array of satoshis: %w", err)
	}
	if len(list) != len(tx.TxIn) {
		return nil, fmt.Errorf("serializedTransaction has %d inputs but %d amounts", len(tx.TxIn), len(list))
	}
	p := &parsedTx{tx: tx}
	seen := make(map[wire.OutPoint]int, len(tx.TxIn))
	var in, out int64
	for i, ti := range tx.TxIn {
		if j, dup := seen[ti.PreviousOutPoint]; dup {
			return nil, fmt.Errorf("input %d spends %s, as input %d already does", i, ti.PreviousOutPoint, j)
		}
		seen[ti.PreviousOutPoint] = i
		if !list[i].set {
			return nil, fmt.Errorf("input %d: amount is null", i)
		}
		if err := c.checkAmount(list[i].v); err != nil {
			return nil, fmt.Errorf("input %d: %w", i, err)
		}
		in += list[i].v
		p.prev = append(p.prev, prevOut{amount: list[i].v})
	}
	for i, to := range tx.TxOut {
		if err := c.checkAmount(to.Value); err != nil {
			return nil, fmt.Errorf("output %d: %w", i, err)
		}
		out += to.Value
	}
	if err := c.checkAmount(in); err != nil {
		return nil, fmt.Errorf("sum of inputs: %w", err)
	}
	if err := c.checkAmount(out); err != nil {
		return nil, fmt.Errorf("sum of outputs: %w", err)
	}
	if out > in {
		return nil, fmt.Errorf("outputs spend %d satoshis but the inputs hold only %d", out, in)
	}
	return p, nil
}
