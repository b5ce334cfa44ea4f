package utxo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/backend/memory"
	"github.com/gokms/gokms/signing"
)

// vectorFile is testdata/signing/vectors.json, written by
// testdata/signing/gen/gen.js with the functions tatum-kms itself calls.
type vectorFile struct {
	Vectors []vector `json:"vectors"`
}

type vector struct {
	Name    string `json:"name"`
	Chain   string `json:"chain"`
	Testnet bool   `json:"testnet"`
	Request struct {
		ID                    string          `json:"id"`
		Chain                 string          `json:"chain"`
		SerializedTransaction string          `json:"serializedTransaction"`
		Hashes                []string        `json:"hashes"`
		WithdrawalID          string          `json:"withdrawalId"`
		WithdrawalResponses   json.RawMessage `json:"withdrawalResponses"`
	} `json:"request"`
	Keys []struct {
		ID    string  `json:"id"`
		Index *uint32 `json:"index"`
		WIF   string  `json:"wif"`
	} `json:"keys"`
	Mnemonic *struct {
		ID    string `json:"id"`
		Words string `json:"words"`
	} `json:"mnemonic"`
	Expected     string `json:"expected"`
	Generator    string `json:"generator"`
	TatumSchnorr string `json:"tatumSchnorr"`
}

func loadVectors(t testing.TB) []vector {
	t.Helper()
	b, err := os.ReadFile("../../testdata/signing/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var f vectorFile
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Vectors) < 10 {
		t.Fatalf("only %d vectors", len(f.Vectors))
	}
	return f.Vectors
}

// mapKeys is a KeySource over fixed keys: id -> key for private-key
// wallets, id -> index -> key for mnemonic wallets. It reproduces the
// resolver's index rules so signers see the same errors.
type mapKeys struct {
	pk    map[string]*btcec.PrivateKey
	mn    map[string]map[uint32]*btcec.PrivateKey
	calls int
}

func newMapKeys() *mapKeys {
	return &mapKeys{pk: map[string]*btcec.PrivateKey{}, mn: map[string]map[uint32]*btcec.PrivateKey{}}
}

func (m *mapKeys) Key(_ context.Context, id string, index *uint32) (*btcec.PrivateKey, error) {
	m.calls++
	if k, ok := m.pk[id]; ok {
		if index != nil {
			return nil, fmt.Errorf("signatureId %s is a private-key wallet but an index was given", id)
		}
		return k, nil
	}
	if ks, ok := m.mn[id]; ok {
		if index == nil {
			return nil, fmt.Errorf("signatureId %s is a mnemonic wallet but no index was given", id)
		}
		k, ok := ks[*index]
		if !ok {
			return nil, fmt.Errorf("test has no key for %s index %d", id, *index)
		}
		return k, nil
	}
	return nil, fmt.Errorf("no wallet for signatureId %s", id)
}

func (v vector) request() signing.Request {
	return signing.Request{
		ID: v.Request.ID, Chain: v.Request.Chain, Testnet: v.Testnet,
		SerializedTransaction: v.Request.SerializedTransaction, Hashes: v.Request.Hashes,
		WithdrawalID: v.Request.WithdrawalID, WithdrawalResponses: v.Request.WithdrawalResponses,
	}
}

func (v vector) keys(t testing.TB) *mapKeys {
	m := newMapKeys()
	for _, k := range v.Keys {
		w, err := btcutil.DecodeWIF(k.WIF)
		if err != nil {
			t.Fatalf("%s: %v", v.Name, err)
		}
		if k.Index == nil {
			m.pk[k.ID] = w.PrivKey
		} else {
			if m.mn[k.ID] == nil {
				m.mn[k.ID] = map[uint32]*btcec.PrivateKey{}
			}
			m.mn[k.ID][*k.Index] = w.PrivKey
		}
	}
	return m
}

// TestVectors signs every library-produced vector and demands the exact
// bytes: tatum's own sign functions for BTC/LTC/DOGE (bitcore-lib, -ltc,
// -doge), bitcoincashjs2-lib and bitcore-lib-cash ECDSA for BCH. Both sides
// use RFC6979 nonces and low S, so any difference in digest, encoding or
// input handling shows up as a byte difference.
func TestVectors(t *testing.T) {
	chains := map[string]int{}
	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			chains[v.Chain]++
			got, err := signers.Sign(context.Background(), v.request(), v.keys(t))
			if err != nil {
				t.Fatalf("sign: %v", err)
			}
			if got != v.Expected {
				t.Fatalf("signed transaction differs from %s\n got  %s\n want %s", v.Generator, got, v.Expected)
			}
		})
	}
	for _, c := range []string{"BTC", "LTC", "DOGE", "BCH"} {
		if chains[c] < 2 {
			t.Errorf("chain %s has %d vectors", c, chains[c])
		}
	}
}

// TestBCHTatumSchnorr checks our BCH digest against the transactions
// tatum-kms itself produces (@tatumio/tatum signs BCH with Schnorr): every
// Schnorr signature in them must verify against the digest we compute, and
// the transaction must equal ours except for the scriptSigs.
func TestBCHTatumSchnorr(t *testing.T) {
	n := 0
	for _, v := range loadVectors(t) {
		if v.TatumSchnorr == "" {
			continue
		}
		n++
		t.Run(v.Name, func(t *testing.T) {
			p, err := parseBCHHex(bchInfo, v.Request.SerializedTransaction)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := hex.DecodeString(v.TatumSchnorr)
			var tt wire.MsgTx
			if err := tt.DeserializeNoWitness(bytes.NewReader(raw)); err != nil {
				t.Fatal(err)
			}
			if len(tt.TxIn) != len(p.tx.TxIn) {
				t.Fatalf("inputs %d vs %d", len(tt.TxIn), len(p.tx.TxIn))
			}
			d := newBCHDigest(p.tx)
			for i, in := range tt.TxIn {
				if in.PreviousOutPoint != p.tx.TxIn[i].PreviousOutPoint || in.Sequence != p.tx.TxIn[i].Sequence {
					t.Fatalf("input %d differs", i)
				}
				pushes, err := txscript.PushedData(in.SignatureScript)
				if err != nil || len(pushes) != 2 || len(pushes[0]) != 65 || pushes[0][64] != sigHashAllForkID {
					t.Fatalf("input %d: unexpected scriptSig %x", i, in.SignatureScript)
				}
				pub, err := btcec.ParsePubKey(pushes[1])
				if err != nil {
					t.Fatal(err)
				}
				h := d.sighash(i, p2pkhScript(btcutil.Hash160(pushes[1])), p.prev[i].amount)
				if !bchSchnorrVerify(pub, h[:], pushes[0][:64]) {
					t.Fatalf("input %d: tatum's Schnorr signature does not verify against our digest", i)
				}
				// And a wrong amount must break it: the digest commits to it.
				h2 := d.sighash(i, p2pkhScript(btcutil.Hash160(pushes[1])), p.prev[i].amount+1)
				if bchSchnorrVerify(pub, h2[:], pushes[0][:64]) {
					t.Fatalf("input %d: signature verifies with the wrong amount", i)
				}
			}
			if tt.LockTime != p.tx.LockTime || tt.Version != p.tx.Version || len(tt.TxOut) != len(p.tx.TxOut) {
				t.Fatal("transaction header or outputs differ")
			}
		})
	}
	if n < 4 {
		t.Fatalf("only %d Schnorr vectors", n)
	}
}

// bchSchnorrVerify is Bitcoin Cash's 2019 Schnorr verification
// (bitcoincashorg spec 2019-05-15-schnorr.md): e = H(R.x || P || m),
// R' = sG - eP, valid iff R' is finite, has a quadratic-residue y, and x = r.
func bchSchnorrVerify(pub *btcec.PublicKey, msg, sig []byte) bool {
	curve := btcec.S256()
	p, n := curve.P, curve.N
	r := new(big.Int).SetBytes(sig[:32])
	s := new(big.Int).SetBytes(sig[32:])
	if r.Cmp(p) >= 0 || s.Cmp(n) >= 0 {
		return false
	}
	h := sha256.New()
	h.Write(sig[:32])
	h.Write(pub.SerializeCompressed())
	h.Write(msg)
	e := new(big.Int).SetBytes(h.Sum(nil))
	e.Mod(e, n)
	sx, sy := curve.ScalarBaseMult(s.Bytes())
	ex, ey := curve.ScalarMult(pub.X(), pub.Y(), e.Bytes())
	ey.Sub(p, ey) // -eP
	rx, ry := curve.Add(sx, sy, ex, ey)
	if rx.Sign() == 0 && ry.Sign() == 0 {
		return false
	}
	if big.Jacobi(ry, p) != 1 {
		return false
	}
	return rx.Cmp(r) == 0
}

// TestBCHDigestMatchesBIP143 cross-checks our FORKID digest with btcd's
// BIP143 implementation: BCH's digest is BIP143's layout with hash type 0x41.
func TestBCHDigestMatchesBIP143(t *testing.T) {
	for _, v := range loadVectors(t) {
		if v.Chain != "BCH" || v.Request.SerializedTransaction[0] == '{' {
			continue
		}
		p, err := parseBCHHex(bchInfo, v.Request.SerializedTransaction)
		if err != nil {
			t.Fatal(err)
		}
		d := newBCHDigest(p.tx)
		prevs := map[wire.OutPoint]*wire.TxOut{}
		for i, in := range p.tx.TxIn {
			prevs[in.PreviousOutPoint] = wire.NewTxOut(p.prev[i].amount, []byte{txscript.OP_TRUE})
		}
		hashes := txscript.NewTxSigHashes(p.tx, txscript.NewMultiPrevOutFetcher(prevs))
		for i := range p.tx.TxIn {
			script := p2pkhScript(bytes.Repeat([]byte{byte(i + 1)}, 20))
			want, err := txscript.CalcWitnessSigHash(script, hashes, sigHashAllForkID, p.tx, i, p.prev[i].amount)
			if err != nil {
				t.Fatal(err)
			}
			got := d.sighash(i, script, p.prev[i].amount)
			if !bytes.Equal(got[:], want) {
				t.Fatalf("%s input %d: digest %x, BIP143 %x", v.Name, i, got, want)
			}
		}
	}
}

// TestVectorsThroughResolver runs every vector with its wallets stored in a
// backend and resolved by signing.Resolver (wallet decoding and BIP32
// derivation included), as the daemon does.
func TestVectorsThroughResolver(t *testing.T) {
	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			m := memory.New()
			var recs []backend.Record
			if v.Mnemonic != nil {
				recs = append(recs, backend.Record{ID: v.Mnemonic.ID, Kind: backend.Mnemonic, Chain: v.Chain, Testnet: v.Testnet, Secret: []byte(v.Mnemonic.Words)})
			}
			for _, k := range v.Keys {
				if k.Index == nil {
					recs = append(recs, backend.Record{ID: k.ID, Kind: backend.PrivateKey, Chain: v.Chain, Testnet: v.Testnet, Secret: []byte(k.WIF)})
				}
			}
			if err := backend.PutAll(context.Background(), m, recs); err != nil {
				t.Fatal(err)
			}
			r := signing.NewResolver(m, v.Testnet)
			defer r.Reset()
			got, err := signers.Sign(context.Background(), v.request(), r)
			if err != nil {
				t.Fatalf("sign: %v", err)
			}
			if got != v.Expected {
				t.Fatalf("signed transaction differs from %s", v.Generator)
			}
		})
	}
}

// TestVectorsWithSharedParse: every vector signed with the policy's parse
// of its transaction (Request.Parsed, from ParsePending) gives the same
// bytes, signing twice with one parse too (the signer changes a copy; the
// parse's view is the same after), and a parse of another transaction, or
// of another chain, is ignored: the request's own transaction is signed.
func TestVectorsWithSharedParse(t *testing.T) {
	vs := loadVectors(t)
	for i, v := range vs {
		if v.Request.WithdrawalID != "" {
			continue
		}
		t.Run(v.Name, func(t *testing.T) {
			pd, err := ParsePending(v.Request.Chain, v.Request.SerializedTransaction)
			if err != nil {
				t.Fatal(err)
			}
			before, err := pd.View(v.Testnet, "")
			if err != nil {
				t.Fatal(err)
			}
			req := v.request()
			req.Parsed = pd
			for round := range 2 {
				got, err := signers.Sign(context.Background(), req, v.keys(t))
				if err != nil || got != v.Expected {
					t.Fatalf("round %d with the shared parse: %v\n got  %s\n want %s", round, err, got, v.Expected)
				}
			}
			after, err := pd.View(v.Testnet, "")
			if err != nil || fmt.Sprint(after) != fmt.Sprint(before) {
				t.Fatalf("the parse changed under signing:\n before %+v\n after  %+v (%v)", before, after, err)
			}
			// Another vector's parse: never signed in place of this one.
			for _, o := range vs[i+1:] {
				if o.Request.SerializedTransaction == v.Request.SerializedTransaction {
					continue
				}
				opd, err := ParsePending(o.Request.Chain, o.Request.SerializedTransaction)
				if err != nil {
					t.Fatal(err)
				}
				req.Parsed = opd
				got, err := signers.Sign(context.Background(), req, v.keys(t))
				if err != nil || got != v.Expected {
					t.Fatalf("with %q's parse: %v\n got  %s\n want %s", o.Name, err, got, v.Expected)
				}
			}
			// The same JSON parsed for another chain: ignored as well.
			for _, c := range []string{"BTC", "LTC", "DOGE", "BCH"} {
				if c == v.Request.Chain {
					continue
				}
				if opd, err := ParsePending(c, v.Request.SerializedTransaction); err == nil {
					req.Parsed = opd
					if got, err := signers.Sign(context.Background(), req, v.keys(t)); err != nil || got != v.Expected {
						t.Fatalf("with a %s parse: %v", c, err)
					}
				}
			}
		})
	}
}

// TestSharedParseOfAnotherChain: a parse made under another chain's rules
// is not used: 1 billion coins pass Dogecoin's amount checks, not
// Bitcoin's, so the BTC signer, handed the DOGE parse, parses for itself
// and refuses.
func TestSharedParseOfAnotherChain(t *testing.T) {
	a := testKey("a")
	aP2PKH, _, _ := scriptsOf(a)
	ks := newMapKeys()
	ks.pk["pk-a"] = a
	const big = 1e9 * 1e8 // satoshis
	ser := bitcoreJSON(t, []tin{{txidOf("1"), 0, aP2PKH, big}}, []tin{{script: aP2PKH, sat: big - 1000}}, false)
	pd, err := ParsePending("DOGE", ser)
	if err != nil {
		t.Fatalf("DOGE: %v", err)
	}
	if _, err := ParsePending("BTC", ser); err == nil {
		t.Fatal("BTC parsed 1 billion coins")
	}
	_, err = signers.Sign(context.Background(), signing.Request{Chain: "BTC", SerializedTransaction: ser, Hashes: []string{"pk-a"}, Parsed: pd}, ks)
	if err == nil {
		t.Fatal("the BTC signer signed 1 billion coins on the strength of a DOGE parse")
	}
}
