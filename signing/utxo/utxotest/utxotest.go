// Package utxotest builds unsigned transactions in the forms the Tatum API
// hands a KMS (bitcore-lib Transaction JSON, and Bitcoin Cash's
// "<hex>:<amounts>"), for tests and benchmarks of the signer and the daemon.
package utxotest

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
)

// Input is an output being spent.
type Input struct {
	TxID     string // display (big-endian) hex, as block explorers and RPC show it
	Vout     uint32
	Script   []byte // the previous output's locking script
	Satoshis int64
	Sequence *uint32 // default 0xffffffff
}

// Output is a new output.
type Output struct {
	Script   []byte
	Satoshis int64
}

type bitcoreOut struct {
	Satoshis int64  `json:"satoshis"`
	Script   string `json:"script"`
}

type bitcoreIn struct {
	PrevTxID       string     `json:"prevTxId"`
	OutputIndex    uint32     `json:"outputIndex"`
	SequenceNumber uint32     `json:"sequenceNumber"`
	Script         string     `json:"script"`
	ScriptString   string     `json:"scriptString"`
	Output         bitcoreOut `json:"output"`
}

type bitcoreTx struct {
	Hash      string       `json:"hash"`
	Version   int32        `json:"version"`
	Inputs    []bitcoreIn  `json:"inputs"`
	Outputs   []bitcoreOut `json:"outputs"`
	NLockTime uint32       `json:"nLockTime"`
}

// Unsigned returns the wire transaction the inputs and outputs describe
// (version 2, no scriptSigs).
func Unsigned(ins []Input, outs []Output, lockTime uint32) (*wire.MsgTx, error) {
	tx := wire.NewMsgTx(2)
	tx.LockTime = lockTime
	for i, in := range ins {
		h, err := chainhash.NewHashFromStr(in.TxID)
		if err != nil {
			return nil, fmt.Errorf("input %d: %w", i, err)
		}
		seq := uint32(wire.MaxTxInSequenceNum)
		if in.Sequence != nil {
			seq = *in.Sequence
		}
		tx.AddTxIn(&wire.TxIn{PreviousOutPoint: wire.OutPoint{Hash: *h, Index: in.Vout}, Sequence: seq})
	}
	for _, o := range outs {
		tx.AddTxOut(wire.NewTxOut(o.Satoshis, o.Script))
	}
	return tx, nil
}

// BitcoreJSON returns the bitcore-lib Transaction.toObject() JSON of an
// unsigned transaction, with its "hash" (the unsigned txid) as bitcore
// writes it.
func BitcoreJSON(ins []Input, outs []Output, lockTime uint32) (string, error) {
	tx, err := Unsigned(ins, outs, lockTime)
	if err != nil {
		return "", err
	}
	bt := bitcoreTx{Hash: tx.TxHash().String(), Version: tx.Version, NLockTime: lockTime}
	for i, in := range ins {
		bt.Inputs = append(bt.Inputs, bitcoreIn{
			PrevTxID: in.TxID, OutputIndex: in.Vout, SequenceNumber: tx.TxIn[i].Sequence,
			Output: bitcoreOut{Satoshis: in.Satoshis, Script: hex.EncodeToString(in.Script)},
		})
	}
	for _, o := range outs {
		bt.Outputs = append(bt.Outputs, bitcoreOut{Satoshis: o.Satoshis, Script: hex.EncodeToString(o.Script)})
	}
	b, err := json.Marshal(bt)
	return string(b), err
}

// BCHHex returns Tatum's Bitcoin Cash form: unsigned transaction hex, ':',
// the JSON array of input amounts.
func BCHHex(ins []Input, outs []Output, lockTime uint32) (string, error) {
	tx, err := Unsigned(ins, outs, lockTime)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if err := tx.SerializeNoWitness(&buf); err != nil {
		return "", err
	}
	amts := make([]int64, len(ins))
	for i, in := range ins {
		amts[i] = in.Satoshis
	}
	a, _ := json.Marshal(amts)
	return hex.EncodeToString(buf.Bytes()) + ":" + string(a), nil
}
