// Package utxo signs Bitcoin, Litecoin, Dogecoin and Bitcoin Cash pending
// transactions. It registers one signing.Signer per chain from init; import
// it for effect.
//
// The unsigned transaction arrives as bitcore-lib's Transaction JSON (BTC,
// LTC, DOGE) or, for BCH, as Tatum's "<hex>:<amounts>" form. Every input
// whose previous output pays to one of the resolved keys (P2PKH, P2WPKH or
// P2SH-P2WPKH; BCH: P2PKH) is signed with SIGHASH_ALL (BCH: ALL|FORKID). An
// input no key controls is an error: a partially signed transaction is never
// returned. Every signature is verified before the transaction is returned:
// by btcd's script engine for BTC, LTC and DOGE, and against the recomputed
// replay-protected digest for BCH.
package utxo

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/gokms/gokms/signing"
)

// Family returns a Signer for every UTXO chain of the chain table, for
// signing.NewSet. UTXO signing needs no configuration.
func Family() signing.Family {
	f := signing.Family{}
	for _, c := range chains {
		f[c.code] = &Signer{c: c}
	}
	return f
}

// Signer signs one UTXO chain's pending transactions.
type Signer struct{ c *chainInfo }

// For returns the Signer of a UTXO chain code (BTC, LTC, DOGE, BCH), for
// callers that want one chain's signer alone (benchmarks, tools).
func For(chain string) (*Signer, bool) {
	c := chainOf(chain)
	if c == nil {
		return nil, false
	}
	return &Signer{c: c}, true
}

// chainOf returns the chain of a code, or nil (without a Signer's
// allocation: the policy asks for every transaction).
func chainOf(chain string) *chainInfo {
	for _, c := range chains {
		if strings.EqualFold(c.code, chain) {
			return c
		}
	}
	return nil
}

// IsChain reports whether chain is a UTXO chain this package signs.
func IsChain(chain string) bool { return chainOf(chain) != nil }

// key is one resolved private key with the script hashes it can spend.
// The private key belongs to the KeySource (it may be cached and zeroed by
// it); the signer never keeps it beyond Sign.
type key struct {
	priv   *btcec.PrivateKey
	ref    string // "signatureId X" or "signatureId X index N", for messages
	pkc    []byte // compressed public key
	pku    []byte // uncompressed public key
	hc     []byte // hash160(pkc): P2PKH (compressed) and P2WPKH
	hu     []byte // hash160(pku): P2PKH (uncompressed)
	nested []byte // hash160(0x0014 || hc): P2SH-P2WPKH
	redeem []byte // 0x0014 || hc
}

func newKey(priv *btcec.PrivateKey, pub *btcec.PublicKey, ref string) *key {
	k := &key{priv: priv, ref: ref}
	k.pkc = pub.SerializeCompressed()
	k.pku = pub.SerializeUncompressed()
	k.hc = btcutil.Hash160(k.pkc)
	k.hu = btcutil.Hash160(k.pku)
	k.redeem = append([]byte{txscript.OP_0, txscript.OP_DATA_20}, k.hc...)
	k.nested = btcutil.Hash160(k.redeem)
	return k
}

func ref(id string, index *uint32) string {
	if index == nil {
		return "signatureId " + id
	}
	return fmt.Sprintf("signatureId %s index %d", id, *index)
}

// withdrawalResponse is the part of Tatum's WithdrawalResponseData signing
// needs: vIn "-1" marks the prepared output to the pool address, every other
// entry an input whose key sits at address.derivationKey (0 when absent) of
// the withdrawal's mnemonic wallet.
type withdrawalResponse struct {
	VIn     *string `json:"vIn"`
	Address *struct {
		DerivationKey *int64 `json:"derivationKey"`
	} `json:"address"`
}

// resolved is the outcome of key resolution: the keys in request order and,
// for off-chain withdrawals, the withdrawalResponses position of each.
type resolved struct {
	keys    []*key
	respIdx []int
}

func resolveKeys(ctx context.Context, req signing.Request, ks signing.KeySource) (*resolved, error) {
	r := &resolved{}
	type kid struct {
		id  string
		idx int64
	}
	cache := map[kid]*key{}
	get := func(id string, index *uint32) (*key, error) {
		k := kid{id, -1}
		if index != nil {
			k.idx = int64(*index)
		}
		if v, ok := cache[k]; ok {
			return v, nil
		}
		priv, err := ks.Key(ctx, id, index)
		if err != nil {
			return nil, err
		}
		v := newKey(priv, signing.PublicKeyOf(ks, priv), ref(id, index))
		cache[k] = v
		return v, nil
	}
	if req.WithdrawalID != "" {
		// tatum-kms signs off-chain withdrawals with wallets[0].mnemonic:
		// hashes[0] names the mnemonic, the responses name the indexes.
		if len(req.Hashes) == 0 || req.Hashes[0] == "" {
			return nil, fmt.Errorf("off-chain withdrawal %s names no wallet signatureId in hashes", req.WithdrawalID)
		}
		var resps []withdrawalResponse
		if len(req.WithdrawalResponses) == 0 || string(req.WithdrawalResponses) == "null" {
			return nil, fmt.Errorf("off-chain withdrawal %s has no withdrawalResponses", req.WithdrawalID)
		}
		if err := json.Unmarshal(req.WithdrawalResponses, &resps); err != nil {
			return nil, fmt.Errorf("off-chain withdrawal %s: parse withdrawalResponses: %w", req.WithdrawalID, err)
		}
		for i, wr := range resps {
			if wr.VIn != nil && *wr.VIn == "-1" {
				continue
			}
			var idx int64
			if wr.Address != nil && wr.Address.DerivationKey != nil {
				idx = *wr.Address.DerivationKey
			}
			if idx < 0 || idx >= 1<<31 {
				return nil, fmt.Errorf("off-chain withdrawal %s: withdrawalResponses[%d].address.derivationKey %d is not a valid non-hardened index", req.WithdrawalID, i, idx)
			}
			u := uint32(idx)
			k, err := get(req.Hashes[0], &u)
			if err != nil {
				return nil, err
			}
			r.keys = append(r.keys, k)
			r.respIdx = append(r.respIdx, i)
		}
		if len(r.keys) == 0 {
			return nil, fmt.Errorf("off-chain withdrawal %s: withdrawalResponses name no input to sign", req.WithdrawalID)
		}
		return r, nil
	}
	for _, h := range req.Hashes {
		k, err := get(h, req.Index)
		if err != nil {
			return nil, err
		}
		r.keys = append(r.keys, k)
	}
	for _, s := range req.Signatures {
		k, err := get(s.ID, s.Index)
		if err != nil {
			return nil, err
		}
		r.keys = append(r.keys, k)
	}
	if len(r.keys) == 0 {
		return nil, fmt.Errorf("pending transaction names no signatureId (hashes and signatures are empty)")
	}
	return r, nil
}

// spend says how one input is signed.
type spend struct {
	k          *key
	kind       scriptKind
	compressed bool // P2PKH only: which public key encoding the script commits to
}

type scriptKind int

const (
	p2pkh scriptKind = iota + 1
	p2wpkh
	p2shP2wpkh
)

func (k scriptKind) String() string {
	switch k {
	case p2pkh:
		return "P2PKH"
	case p2wpkh:
		return "P2WPKH"
	case p2shP2wpkh:
		return "P2SH-P2WPKH"
	}
	return "unknown"
}

func classify(script []byte) (scriptKind, []byte) {
	switch {
	case len(script) == 25 && script[0] == txscript.OP_DUP && script[1] == txscript.OP_HASH160 &&
		script[2] == txscript.OP_DATA_20 && script[23] == txscript.OP_EQUALVERIFY && script[24] == txscript.OP_CHECKSIG:
		return p2pkh, script[3:23]
	case len(script) == 22 && script[0] == txscript.OP_0 && script[1] == txscript.OP_DATA_20:
		return p2wpkh, script[2:]
	case len(script) == 23 && script[0] == txscript.OP_HASH160 && script[1] == txscript.OP_DATA_20 &&
		script[22] == txscript.OP_EQUAL:
		return p2shP2wpkh, script[2:22]
	}
	return 0, nil
}

// match finds the key that controls a previous output script.
func (s *Signer) match(script []byte, keys []*key) (spend, error) {
	kind, h := classify(script)
	if kind == 0 {
		return spend{}, fmt.Errorf("script %x is not P2PKH, P2WPKH or P2SH-P2WPKH", script)
	}
	if kind != p2pkh && !s.c.segwit {
		return spend{}, fmt.Errorf("%s input, but %s has no segwit", kind, s.c.code)
	}
	for _, k := range keys {
		switch kind {
		case p2pkh:
			if bytes.Equal(h, k.hc) {
				return spend{k: k, kind: kind, compressed: true}, nil
			}
			if bytes.Equal(h, k.hu) {
				return spend{k: k, kind: kind}, nil
			}
		case p2wpkh:
			if bytes.Equal(h, k.hc) {
				return spend{k: k, kind: kind, compressed: true}, nil
			}
		case p2shP2wpkh:
			if bytes.Equal(h, k.nested) {
				return spend{k: k, kind: kind, compressed: true}, nil
			}
		}
	}
	return spend{}, fmt.Errorf("%s output %s is controlled by none of the keys of %s", kind, s.describe(script), refs(keys))
}

// describe names a script by its address where that is possible.
func (s *Signer) describe(script []byte) string {
	kind, h := classify(script)
	var (
		a   btcutil.Address
		err error
	)
	p := s.c.params(false)
	switch kind {
	case p2pkh:
		a, err = btcutil.NewAddressPubKeyHash(h, p)
	case p2wpkh:
		a, err = btcutil.NewAddressWitnessPubKeyHash(h, p)
	case p2shP2wpkh:
		a, err = btcutil.NewAddressScriptHashFromHash(h, p)
	default:
		return fmt.Sprintf("script %x", script)
	}
	if err != nil {
		return fmt.Sprintf("script %x", script)
	}
	// Both networks' spellings: the signer does not care which it is on.
	ta := a
	tp := s.c.params(true)
	switch kind {
	case p2pkh:
		ta, _ = btcutil.NewAddressPubKeyHash(h, tp)
	case p2wpkh:
		ta, _ = btcutil.NewAddressWitnessPubKeyHash(h, tp)
	case p2shP2wpkh:
		ta, _ = btcutil.NewAddressScriptHashFromHash(h, tp)
	}
	return fmt.Sprintf("to %s (testnet %s)", a.EncodeAddress(), ta.EncodeAddress())
}

func refs(keys []*key) string {
	seen := map[string]bool{}
	var l []string
	for _, k := range keys {
		if !seen[k.ref] {
			seen[k.ref] = true
			l = append(l, k.ref)
		}
	}
	return strings.Join(l, ", ")
}

// Sign implements signing.Signer.
func (s *Signer) Sign(ctx context.Context, req signing.Request, ks signing.KeySource) (string, error) {
	out, _, err := s.sign(ctx, req, ks)
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(out), nil
}

// sign returns the signed transaction's bytes and the pending transaction
// as parsed (for SignDetailed's view, which needs its previous outputs).
func (s *Signer) sign(ctx context.Context, req signing.Request, ks signing.KeySource) ([]byte, *parsedTx, error) {
	if !strings.EqualFold(req.Chain, s.c.code) {
		return nil, nil, fmt.Errorf("%s signer given a %s transaction", s.c.code, req.Chain)
	}
	raw := strings.TrimSpace(req.SerializedTransaction)
	if raw == "" {
		return nil, nil, fmt.Errorf("%s: empty serializedTransaction", s.c.code)
	}
	var (
		p   *parsedTx
		err error
	)
	hexForm := s.c.forkID && !strings.HasPrefix(raw, "{")
	switch pd, ok := req.Parsed.(*Pending); {
	case ok && pd.c == s.c && pd.serialized == req.SerializedTransaction:
		p = pd.p.clone() // parsed by ParsePending, as below; signing fills in its copy
	case hexForm:
		p, err = parseBCHHex(s.c, raw)
	default:
		p, err = parseBitcore(s.c, raw)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", s.c.code, err)
	}
	rk, err := resolveKeys(ctx, req, ks)
	if err != nil {
		return nil, nil, err
	}
	var plan []spend
	if hexForm {
		plan, err = s.planPositional(p, rk, req.WithdrawalID != "")
	} else {
		plan, err = s.planByScript(p, rk)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", s.c.code, err)
	}
	var out []byte
	if s.c.forkID {
		out, err = s.signFork(p, plan)
	} else {
		out, err = s.signStandard(p, plan)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", s.c.code, err)
	}
	return out, p, nil
}

func (s *Signer) planByScript(p *parsedTx, rk *resolved) ([]spend, error) {
	plan := make([]spend, len(p.tx.TxIn))
	var errs []string
	for i, po := range p.prev {
		sp, err := s.match(po.script, rk.keys)
		if err != nil {
			errs = append(errs, fmt.Sprintf("input %d (%s): %v", i, p.tx.TxIn[i].PreviousOutPoint, err))
			continue
		}
		plan[i] = sp
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("cannot sign every input, refusing to sign any: %s", strings.Join(errs, "; "))
	}
	return plan, nil
}

// planPositional assigns keys to the inputs of a BCH transaction given in
// Tatum's hex form, which carries no previous output scripts. Like
// @tatumio/tatum, input i is signed by key i; for off-chain withdrawals input
// i by the key of withdrawalResponses[i]. A single key signs every input. The
// previous output is taken to be P2PKH to the key's compressed public key.
func (s *Signer) planPositional(p *parsedTx, rk *resolved, offchain bool) ([]spend, error) {
	n := len(p.tx.TxIn)
	plan := make([]spend, n)
	switch {
	case offchain:
		for j, k := range rk.keys {
			i := rk.respIdx[j]
			if i >= n {
				return nil, fmt.Errorf("withdrawalResponses[%d] names an input, but the transaction has only %d inputs", i, n)
			}
			plan[i] = spend{k: k, kind: p2pkh, compressed: true}
		}
		for i := range plan {
			if plan[i].k == nil {
				return nil, fmt.Errorf("input %d has no entry in withdrawalResponses, refusing to sign any", i)
			}
		}
	case len(rk.keys) == n:
		for i, k := range rk.keys {
			plan[i] = spend{k: k, kind: p2pkh, compressed: true}
		}
	default:
		distinct := map[string]*key{}
		for _, k := range rk.keys {
			distinct[string(k.pkc)] = k
		}
		if len(distinct) != 1 {
			return nil, fmt.Errorf("transaction has %d inputs but %d keys (%s); without previous output scripts each input needs its own key in order, refusing to sign",
				n, len(rk.keys), refs(rk.keys))
		}
		for i := range plan {
			plan[i] = spend{k: rk.keys[0], kind: p2pkh, compressed: true}
		}
	}
	for i := range plan {
		k := plan[i].k
		p.prev[i].script = p2pkhScript(k.hc)
	}
	return plan, nil
}

func p2pkhScript(h []byte) []byte {
	s := make([]byte, 0, 25)
	s = append(s, txscript.OP_DUP, txscript.OP_HASH160, txscript.OP_DATA_20)
	s = append(s, h...)
	return append(s, txscript.OP_EQUALVERIFY, txscript.OP_CHECKSIG)
}

func (sp spend) pub() []byte {
	if sp.compressed {
		return sp.k.pkc
	}
	return sp.k.pku
}

// signStandard signs BTC/LTC/DOGE inputs with SIGHASH_ALL and verifies each
// with btcd's script engine.
func (s *Signer) signStandard(p *parsedTx, plan []spend) ([]byte, error) {
	tx := p.tx
	prevs := make(map[wire.OutPoint]*wire.TxOut, len(tx.TxIn))
	for i, in := range tx.TxIn {
		prevs[in.PreviousOutPoint] = wire.NewTxOut(p.prev[i].amount, p.prev[i].script)
	}
	fetcher := txscript.NewMultiPrevOutFetcher(prevs)
	// The segwit digest commits to no scriptSig, so these are valid across
	// all inputs while we fill them in.
	hashes := txscript.NewTxSigHashes(tx, fetcher)
	// Legacy sighash replaces every other input's scriptSig, so the order we
	// sign in does not matter; set P2SH redeem pushes first for clarity.
	for i, sp := range plan {
		tx.TxIn[i].SignatureScript = nil
		tx.TxIn[i].Witness = nil
		if sp.kind == p2shP2wpkh {
			push, err := txscript.NewScriptBuilder().AddData(sp.k.redeem).Script()
			if err != nil {
				return nil, err
			}
			tx.TxIn[i].SignatureScript = push
		}
	}
	for i, sp := range plan {
		po := p.prev[i]
		switch sp.kind {
		case p2pkh:
			sig, err := txscript.RawTxInSignature(tx, i, po.script, txscript.SigHashAll, sp.k.priv)
			if err != nil {
				return nil, fmt.Errorf("input %d: %w", i, err)
			}
			script, err := txscript.NewScriptBuilder().AddData(sig).AddData(sp.pub()).Script()
			if err != nil {
				return nil, fmt.Errorf("input %d: %w", i, err)
			}
			tx.TxIn[i].SignatureScript = script
		case p2wpkh, p2shP2wpkh:
			sub := po.script
			if sp.kind == p2shP2wpkh {
				sub = sp.k.redeem
			}
			sig, err := txscript.RawTxInWitnessSignature(tx, hashes, i, po.amount, sub, txscript.SigHashAll, sp.k.priv)
			if err != nil {
				return nil, fmt.Errorf("input %d: %w", i, err)
			}
			tx.TxIn[i].Witness = wire.TxWitness{sig, sp.k.pkc}
		}
	}
	for i := range tx.TxIn {
		vm, err := txscript.NewEngine(p.prev[i].script, tx, i, txscript.StandardVerifyFlags, nil, hashes, p.prev[i].amount, fetcher)
		if err != nil {
			return nil, fmt.Errorf("input %d: verify signature: %w", i, err)
		}
		if err := vm.Execute(); err != nil {
			return nil, fmt.Errorf("input %d: signature does not verify: %w", i, err)
		}
	}
	var buf bytes.Buffer
	buf.Grow(tx.SerializeSize())
	if err := tx.Serialize(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
