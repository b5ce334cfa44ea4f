package flow

import (
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"golang.org/x/crypto/sha3"
)

// SignMessage is tatum-js v1's flowSign: ECDSA secp256k1 over SHA3-256 of
// the message, with elliptic's deterministic nonce (RFC 6979, HMAC-SHA256)
// and, unlike most secp256k1 signers, no low-S normalisation: the
// signature is r || s exactly as elliptic returns it, so gokms's
// signatures are byte-equal to tatum-kms's. (Flow accepts either S.)
func SignMessage(k *btcec.PrivateKey, msg []byte) []byte {
	h := sha3.Sum256(msg)
	d := k.Key.Bytes()
	defer clear(d[:])
	var e secp256k1.ModNScalar
	e.SetByteSlice(h[:]) // reduced mod n, as elliptic's _truncateToN
	for iter := uint32(0); ; iter++ {
		nonce := secp256k1.NonceRFC6979(d[:], h[:], nil, nil, iter)
		var R secp256k1.JacobianPoint
		secp256k1.ScalarBaseMultNonConst(nonce, &R)
		R.ToAffine()
		xb := R.X.Bytes()
		var r secp256k1.ModNScalar
		r.SetBytes(xb)
		if r.IsZero() {
			nonce.Zero()
			continue
		}
		kinv := new(secp256k1.ModNScalar).InverseValNonConst(nonce)
		nonce.Zero()
		s := new(secp256k1.ModNScalar).Mul2(&k.Key, &r)
		s.Add(&e).Mul(kinv)
		if s.IsZero() {
			continue
		}
		rb, sb := r.Bytes(), s.Bytes()
		return append(rb[:], sb[:]...)
	}
}
