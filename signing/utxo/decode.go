package utxo

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math/big"
	"math/bits"
	"slices"
	"strings"
	"sync"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/bech32"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/gokms/gokms/signing"
)

// Decode builds the signing.View of a UTXO transaction for policy and
// audit. serialized is the pending transaction's serializedTransaction: it
// supplies what a signed transaction does not carry, the amount (and, in
// bitcore JSON, the script) of every output spent. signedHex, when not
// empty, is the raw transaction the Signer returned: its outputs are then
// read from those bytes, the ones that are broadcast, and it must spend
// exactly the outputs serialized lists. With signedHex empty the unsigned
// transaction is decoded (gokms policy explain).
//
// Outputs are decoded from their scripts into the chain's addresses
// (P2PKH, P2SH, P2WPKH, P2WSH, P2TR; Bitcoin Cash in the legacy form). An
// OP_RETURN output of zero value carries data, not money; any other
// script is listed in View.Unknown. An output to an address one of the
// inputs spends from is change.
func Decode(chain string, testnet bool, serialized, signedHex string) (*signing.View, error) {
	pd, err := ParsePending(chain, serialized)
	if err != nil {
		return nil, err
	}
	return pd.View(testnet, signedHex)
}

// Pending is a pending transaction parsed once, so that the view before
// signing and the view of the signed bytes (which need the pending
// transaction's previous outputs) do not parse it twice. View does not
// change it: it is safe for concurrent use.
type Pending struct {
	c          *chainInfo
	p          *parsedTx
	serialized string

	mu sync.Mutex // guards unsigned
	// unsigned is the view of the unsigned transaction (for the network
	// unsignedTest): the view of signed bytes that pay exactly its outputs
	// is a copy of it, which saved a third of the policy's decoding.
	unsigned     *signing.View
	unsignedTest bool
}

type scriptInfo struct {
	hex, addr string
	ok        bool // addr is a standard address
}

// script returns the hex and the address of an output script.
func (pd *Pending) script(script []byte, testnet bool) scriptInfo {
	return scripts.of(script, pd.c.params(testnet))
}

// ParsePending parses a pending transaction of chain for View.
func ParsePending(chain, serialized string) (*Pending, error) {
	c := chainOf(chain)
	if c == nil {
		return nil, fmt.Errorf("%s is not a UTXO chain gokms signs", chain)
	}
	raw := strings.TrimSpace(serialized)
	if raw == "" {
		return nil, fmt.Errorf("%s: empty serializedTransaction", c.code)
	}
	var (
		p   *parsedTx
		err error
	)
	if c.forkID && !strings.HasPrefix(raw, "{") {
		p, err = parseBCHHex(c, raw)
	} else {
		p, err = parseBitcore(c, raw)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.code, err)
	}
	return &Pending{c: c, p: p, serialized: serialized}, nil
}

// Of reports whether pd was parsed from this chain's serialized
// transaction.
func (pd *Pending) Of(chain, serialized string) bool {
	c := chainOf(chain)
	return c != nil && c == pd.c && serialized == pd.serialized
}

// View decodes the pending transaction (signedHex empty) or its signed
// bytes, as Decode does.
func (pd *Pending) View(testnet bool, signedHex string) (*signing.View, error) {
	signedHex = strings.TrimSpace(signedHex)
	if signedHex == "" {
		return pd.unsignedView(testnet)
	}
	c, tx := pd.c, pd.p.tx
	b, err := hex.DecodeString(strings.TrimPrefix(signedHex, "0x"))
	if err != nil {
		return nil, fmt.Errorf("%s: signed transaction is not hex: %w", c.code, err)
	}
	st := wire.NewMsgTx(wire.TxVersion)
	r := bytes.NewReader(b)
	if c.segwit {
		err = st.Deserialize(r)
	} else {
		err = st.DeserializeNoWitness(r)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: decode signed transaction: %w", c.code, err)
	}
	if r.Len() != 0 {
		return nil, fmt.Errorf("%s: %d bytes after the signed transaction", c.code, r.Len())
	}
	if len(st.TxIn) != len(tx.TxIn) {
		return nil, fmt.Errorf("%s: the signed transaction has %d inputs, the pending one %d", c.code, len(st.TxIn), len(tx.TxIn))
	}
	for i := range st.TxIn {
		if st.TxIn[i].PreviousOutPoint != tx.TxIn[i].PreviousOutPoint {
			return nil, fmt.Errorf("%s: signed input %d spends %s, the pending transaction %s", c.code, i, st.TxIn[i].PreviousOutPoint, tx.TxIn[i].PreviousOutPoint)
		}
	}
	txID := st.TxHash().String()
	if !pd.paysAsPending(st) {
		return pd.build(testnet, st, txID)
	}
	uv, err := pd.unsignedView(testnet)
	if err != nil {
		return nil, err
	}
	sv := *uv
	sv.Signed, sv.TxID = true, txID
	sv.Inputs, sv.Outputs, sv.Unknown = slices.Clone(uv.Inputs), slices.Clone(uv.Outputs), slices.Clone(uv.Unknown)
	return &sv, nil
}

// unsignedView is the view of the unsigned transaction, built once per
// network. Callers share it: a View is never changed once built.
func (pd *Pending) unsignedView(testnet bool) (*signing.View, error) {
	pd.mu.Lock()
	uv, ok := pd.unsigned, pd.unsigned != nil && pd.unsignedTest == testnet
	pd.mu.Unlock()
	if ok {
		return uv, nil
	}
	uv, err := pd.build(testnet, pd.p.tx, "")
	if err != nil {
		return nil, err
	}
	pd.mu.Lock()
	pd.unsigned, pd.unsignedTest = uv, testnet
	pd.mu.Unlock()
	return uv, nil
}

// build decodes tx, the unsigned transaction (txID "") or the signed one
// (whose inputs spend the pending transaction's outpoints, in order).
func (pd *Pending) build(testnet bool, tx *wire.MsgTx, txID string) (*signing.View, error) {
	c, p := pd.c, pd.p
	v := &signing.View{Chain: c.code, Family: signing.ViewUTXO, Method: signing.MethodTransfer, Signed: txID != "", TxID: txID,
		Inputs: make([]signing.Flow, 0, len(tx.TxIn)), Outputs: make([]signing.Flow, 0, len(tx.TxOut))}
	// Every amount in two allocations (a view is never changed once
	// built): 2 a flow otherwise.
	n := len(tx.TxIn) + len(tx.TxOut)
	amounts, words := make([]big.Int, n), make([]big.Word, n)
	next := 0
	amount := func(sat int64) *big.Int {
		a := &amounts[next]
		if bits.UintSize == 64 && sat >= 0 {
			words[next] = big.Word(sat)
			a.SetBits(words[next : next+1 : next+1])
		} else {
			a.SetInt64(sat)
		}
		next++
		return a
	}
	in := new(big.Int)
	var own ownAddrs
	for i, ti := range tx.TxIn {
		f := signing.Flow{Amount: amount(p.prev[i].amount)}
		script := p.prev[i].script
		if script == nil && v.Signed {
			// BCH hex form: no previous scripts; the signer spends P2PKH
			// to the key, whose public key is the scriptSig's last push.
			script = p2pkhFromSigScript(ti.SignatureScript)
		}
		if script != nil {
			si := pd.script(script, testnet)
			f.Script = si.hex
			if si.ok {
				f.Address = si.addr
				own.add(si.addr)
			}
		}
		in.Add(in, f.Amount)
		v.Inputs = append(v.Inputs, f)
	}
	out := new(big.Int)
	for i, to := range tx.TxOut {
		if err := c.checkAmount(to.Value); err != nil {
			return nil, fmt.Errorf("%s: output %d: %w", c.code, i, err)
		}
		si := pd.script(to.PkScript, testnet)
		f := signing.Flow{Amount: amount(to.Value), Script: si.hex}
		if si.ok {
			f.Address = si.addr
			f.Change = own.has(si.addr)
		} else if txscript.GetScriptClass(to.PkScript) == txscript.NullDataTy && to.Value == 0 {
			// data carrier: moves nothing
		} else {
			v.Unknown = append(v.Unknown, fmt.Sprintf("output %d pays %d to a script gokms does not decode into an address (%s)", i, to.Value, txscript.GetScriptClass(to.PkScript)))
		}
		out.Add(out, f.Amount)
		v.Outputs = append(v.Outputs, f)
	}
	if out.Cmp(in) > 0 {
		return nil, fmt.Errorf("%s: outputs spend %s satoshis but the inputs hold only %s", c.code, out, in)
	}
	v.Fee = new(big.Int).Sub(in, out)
	return v, nil
}

// ownAddrs is the set of a transaction's input addresses: a few are
// scanned, more are put in a map (a pending transaction with thousands of
// inputs and outputs must not cost their product).
type ownAddrs struct {
	l []string
	m map[string]bool
}

func (o *ownAddrs) add(a string) {
	if o.m != nil {
		o.m[a] = true
		return
	}
	o.l = append(o.l, a)
	if len(o.l) > 16 {
		o.m = make(map[string]bool, 2*len(o.l))
		for _, a := range o.l {
			o.m[a] = true
		}
	}
}

func (o *ownAddrs) has(a string) bool {
	if o.m != nil {
		return o.m[a]
	}
	return slices.Contains(o.l, a)
}

// paysAsPending reports whether the signed transaction st (whose inputs
// spend the pending transaction's outpoints, checked by View) has the
// pending transaction's outputs, byte for byte, and every input's previous
// script is known: its view is then the unsigned one's, but for Signed and
// TxID. (Without the previous scripts, as in the BCH hex form, the signed
// view reads the inputs' addresses from the signatures: it differs.)
func (pd *Pending) paysAsPending(st *wire.MsgTx) bool {
	tx := pd.p.tx
	if len(st.TxOut) != len(tx.TxOut) {
		return false
	}
	for i, o := range st.TxOut {
		if o.Value != tx.TxOut[i].Value || !bytes.Equal(o.PkScript, tx.TxOut[i].PkScript) {
			return false
		}
	}
	for i := range tx.TxIn {
		if pd.p.prev[i].script == nil {
			return false
		}
	}
	return true
}

// scripts remembers the hex and the address of the scripts views decoded
// lately: the view of the signed bytes has the same ones as the view
// before signing, a custodial wallet's transactions spend from and pay
// change to the same few scripts, and a bech32 address took 3-4 µs to
// encode (a third of a BTC view).
var scripts scriptCache

// scriptCacheMax bounds the cache, per network; a full one starts again
// empty.
const scriptCacheMax = 4096

type scriptCache struct {
	mu sync.Mutex
	m  map[*chaincfg.Params]map[string]scriptInfo
}

// of returns the hex and scriptAddress(script, params), remembered.
func (c *scriptCache) of(script []byte, params *chaincfg.Params) scriptInfo {
	c.mu.Lock()
	si, hit := c.m[params][string(script)]
	c.mu.Unlock()
	if hit {
		return si
	}
	si = scriptInfo{hex: hex.EncodeToString(script)}
	si.addr, si.ok = scriptAddress(script, params)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[*chaincfg.Params]map[string]scriptInfo{}
	}
	m := c.m[params]
	if m == nil || len(m) >= scriptCacheMax {
		m = make(map[string]scriptInfo)
		c.m[params] = m
	}
	m[string(script)] = si
	return si
}

// scriptAddress encodes a standard output script as the chain's address.
func scriptAddress(script []byte, params *chaincfg.Params) (string, bool) {
	class, addrs, _, err := txscript.ExtractPkScriptAddrs(script, params)
	if err != nil || len(addrs) != 1 {
		return "", false
	}
	switch class {
	case txscript.PubKeyHashTy, txscript.ScriptHashTy, txscript.WitnessV0PubKeyHashTy,
		txscript.WitnessV0ScriptHashTy, txscript.WitnessV1TaprootTy:
		return encodeAddress(addrs[0]), true
	}
	return "", false
}

// p2pkhFromSigScript returns the P2PKH script of the public key a
// <sig> <pubkey> scriptSig pushes, or nil.
func p2pkhFromSigScript(sig []byte) []byte {
	pushes, err := txscript.PushedData(sig)
	if err != nil || len(pushes) != 2 {
		return nil
	}
	pk := pushes[1]
	if len(pk) != 33 && len(pk) != 65 {
		return nil
	}
	return p2pkhScript(btcutil.Hash160(pk))
}

// encodeAddress is a.EncodeAddress(), less btcutil's decode of every
// segwit address it has just encoded (a check of its own encoder, half of
// the cost of an address; views encode every output's).
// An address btcutil would not give (a witness version past 1, a chain
// without segwit) is left to it.
// TestEncodeAddress compares the two.
func encodeAddress(a btcutil.Address) string {
	w, ok := a.(interface {
		Hrp() string
		WitnessVersion() byte
		WitnessProgram() []byte
	})
	if !ok || w.WitnessVersion() > 1 || w.Hrp() == "" {
		return a.EncodeAddress()
	}
	conv, err := bech32.ConvertBits(w.WitnessProgram(), 8, 5, true)
	if err != nil {
		return a.EncodeAddress()
	}
	data := append([]byte{w.WitnessVersion()}, conv...)
	var s string
	if w.WitnessVersion() == 0 {
		s, err = bech32.Encode(w.Hrp(), data)
	} else {
		s, err = bech32.EncodeM(w.Hrp(), data)
	}
	if err != nil {
		return a.EncodeAddress()
	}
	return s
}
