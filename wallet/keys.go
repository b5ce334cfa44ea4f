package wallet

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/base58"
	"github.com/btcsuite/btcd/chaincfg"
)

// ErrInvalidPrivateKey is wrapped by every private-key decoding error.
// Messages never contain the key or any part of it.
var ErrInvalidPrivateKey = errors.New("invalid private key")

// encodePrivateKey writes a key as the SDK's generatePrivateKeyFromMnemonic
// does: WIF (compressed) on UTXO chains, 0x + 64 hex digits on EVM chains,
// 64 hex digits without 0x on TRON.
func encodePrivateKey(fam family, ns netSpec, k *btcec.PrivateKey) (string, error) {
	switch fam {
	case famUTXO:
		// NewWIF reads only PrivateKeyID from the params: no registry needed.
		w, err := btcutil.NewWIF(k, &chaincfg.Params{PrivateKeyID: ns.wifID}, true)
		if err != nil {
			return "", err
		}
		return w.String(), nil
	case famEVM:
		b := k.Serialize()
		defer zero(b)
		return "0x" + hex.EncodeToString(b), nil
	case famTRON:
		b := k.Serialize()
		defer zero(b)
		return hex.EncodeToString(b), nil
	}
	return "", ErrUnsupportedChain
}

// DecodePrivateKey parses a private key in the chain's encoding (see
// PrivateKeyFromMnemonic). WIF keys must carry the network's version byte;
// hex keys may have a 0x prefix and must be 64 hex digits. The scalar must
// be in 1..n-1.
func DecodePrivateKey(c Chain, privateKey string, testnet bool) (*btcec.PrivateKey, error) {
	k, _, err := DecodePrivateKeyCompressed(c, privateKey, testnet)
	return k, err
}

// DecodePrivateKeyCompressed is DecodePrivateKey that also reports whether
// the key's public key is used compressed: always true except for a WIF key
// without the compression flag (old-style; its P2PKH address hashes the
// uncompressed public key, and a UTXO signer must sign with that form).
func DecodePrivateKeyCompressed(c Chain, privateKey string, testnet bool) (*btcec.PrivateKey, bool, error) {
	ns, fam, err := c.spec(testnet)
	if err != nil {
		return nil, false, err
	}
	net := "mainnet"
	if testnet {
		net = "testnet"
	}
	if fam == famUTXO {
		return decodeWIF(c, net, ns, privateKey)
	}
	s := privateKey
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		s = s[2:]
	}
	want := "64 hex digits, optionally with 0x"
	if fam == famTRON {
		want = "64 hex digits"
	}
	if len(s) != 64 {
		return nil, false, fmt.Errorf("%w for %s: want %s (got %d characters)", ErrInvalidPrivateKey, c, want, len(privateKey))
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, false, fmt.Errorf("%w for %s: want %s (found a non-hex character)", ErrInvalidPrivateKey, c, want)
	}
	defer zero(b)
	k, err := scalarKey(b)
	if err != nil {
		return nil, false, fmt.Errorf("%w for %s: %v", ErrInvalidPrivateKey, c, err)
	}
	return k, true, nil
}

func decodeWIF(c Chain, net string, ns netSpec, s string) (*btcec.PrivateKey, bool, error) {
	raw := base58.Decode(s)
	defer zero(raw)
	w, err := btcutil.DecodeWIF(s)
	if err != nil || len(raw) < 33 {
		return nil, false, fmt.Errorf("%w for %s %s: not a WIF key (base58check of version, 32-byte key, optional 0x01)", ErrInvalidPrivateKey, c, net)
	}
	if raw[0] != ns.wifID {
		return nil, false, fmt.Errorf("%w for %s %s: WIF version byte is 0x%02x, want 0x%02x (a key of another chain or network?)",
			ErrInvalidPrivateKey, c, net, raw[0], ns.wifID)
	}
	// DecodeWIF reduces the scalar modulo n without saying so; check the range.
	k, err := scalarKey(raw[1:33])
	if err != nil {
		return nil, false, fmt.Errorf("%w for %s %s: %v", ErrInvalidPrivateKey, c, net, err)
	}
	return k, w.CompressPubKey, nil
}

// scalarKey makes a private key from 32 big-endian bytes in 1..n-1.
func scalarKey(b []byte) (*btcec.PrivateKey, error) {
	var s btcec.ModNScalar
	if overflow := s.SetByteSlice(b); overflow || s.IsZero() {
		s.Zero()
		return nil, errors.New("value is not in the secp256k1 key range 1..n-1")
	}
	return btcec.PrivKeyFromScalar(&s), nil
}
