package flow

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"

	"github.com/btcsuite/btcd/btcec/v2"
	becdsa "github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"golang.org/x/crypto/sha3"
)

// Verify checks a Flow signature (r || s) of msg against an account key, as
// the access node will: ECDSA_secp256k1 or ECDSA_P256, over SHA3_256 or
// SHA2_256 of the message.
func Verify(k AccountKey, msg, sig []byte) error {
	if k.Revoked {
		return errors.New("the key is revoked")
	}
	if len(sig) != 64 {
		return fmt.Errorf("signature is %d bytes, want 64", len(sig))
	}
	var h []byte
	switch k.HashingAlgo {
	case "SHA3_256":
		x := sha3.Sum256(msg)
		h = x[:]
	case "SHA2_256":
		x := sha256.Sum256(msg)
		h = x[:]
	default:
		return fmt.Errorf("hashing algorithm %q is unknown", k.HashingAlgo)
	}
	pub, err := hex.DecodeString(k.PublicKey)
	if err != nil || len(pub) != 64 {
		return errors.New("the account key is not 64 bytes of hex")
	}
	switch k.SigningAlgo {
	case "ECDSA_secp256k1":
		p, err := btcec.ParsePubKey(append([]byte{4}, pub...))
		if err != nil {
			return errors.New("the account key is not a secp256k1 point")
		}
		var r, s btcec.ModNScalar
		if r.SetByteSlice(sig[:32]) || s.SetByteSlice(sig[32:]) || r.IsZero() || s.IsZero() {
			return errors.New("signature out of range")
		}
		if !becdsa.NewSignature(&r, &s).Verify(h, p) {
			return errors.New("signature does not verify")
		}
	case "ECDSA_P256":
		p := &ecdsa.PublicKey{Curve: elliptic.P256(), X: new(big.Int).SetBytes(pub[:32]), Y: new(big.Int).SetBytes(pub[32:])}
		if !ecdsa.Verify(p, h, new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
			return errors.New("signature does not verify")
		}
	default:
		return fmt.Errorf("signing algorithm %q is unknown", k.SigningAlgo)
	}
	return nil
}
