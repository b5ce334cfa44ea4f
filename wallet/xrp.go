package wallet

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/base58"
)

// XRP keys follow ripple-keypairs 1.3.1 (what xrpl 2.14.1's Wallet.fromSeed
// and therefore tatum-kms use): a "family seed" of 16 bytes of entropy,
// written base58check in the XRPL alphabet as "s..." (secp256k1) or
// "sEd..." (ed25519), deterministically gives one account key.

// XRPKeyType is the signature algorithm of an XRP key.
type XRPKeyType int

const (
	// XRPSecp256k1 keys come from "s..." seeds (ripple-keypairs "ecdsa-secp256k1").
	XRPSecp256k1 XRPKeyType = iota
	// XRPEd25519 keys come from "sEd..." seeds; xrpl's Wallet.generate (and
	// so tatum-kms's generatewallet XRP) makes these.
	XRPEd25519
)

func (t XRPKeyType) String() string {
	if t == XRPEd25519 {
		return "ed25519"
	}
	return "secp256k1"
}

// ErrInvalidXRPSecret is wrapped by every family-seed decoding error. The
// messages never contain the secret or any part of it.
var ErrInvalidXRPSecret = errors.New("invalid XRP secret")

const (
	xrpAlphabet     = "rpshnaf39wBUDNEGHJKLM4PQRST7VWXYZ2bcdeCg65jkm8oFqi1tuvAxyz"
	btcAlphabet     = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
	xrpSeedVersion  = 0x21 // secp256k1 family seed
	xrpAccountIDVer = 0x00 // classic address "r..."
	xrpEntropyLen   = 16
)

var xrpEd25519SeedPrefix = []byte{0x01, 0xe1, 0x4b}

// The XRPL base58 alphabet is a permutation of Bitcoin's, and base58 is
// positional, so mapping characters one to one converts between the two.
var toXRP, toBTC = func() (x, b [256]byte) {
	for i := 0; i < 58; i++ {
		x[btcAlphabet[i]] = xrpAlphabet[i]
		b[xrpAlphabet[i]] = btcAlphabet[i]
	}
	return x, b
}()

func xrpBase58CheckEncode(payload []byte) string {
	sum := doubleSHA256(payload)
	s := []byte(base58.Encode(append(append([]byte{}, payload...), sum[:4]...)))
	for i, c := range s {
		s[i] = toXRP[c]
	}
	return string(s)
}

// xrpBase58CheckDecode returns the payload (version bytes included) or nil
// if s is not base58check in the XRPL alphabet.
func xrpBase58CheckDecode(s string) []byte {
	b := []byte(s)
	for i, c := range b {
		if toBTC[c] == 0 {
			return nil
		}
		b[i] = toBTC[c]
	}
	raw := base58.Decode(string(b))
	zero(b) // the seed, re-spelled; the caller zeroes what it keeps
	if len(raw) < 5 {
		return nil
	}
	payload, sum := raw[:len(raw)-4], raw[len(raw)-4:]
	want := doubleSHA256(payload)
	if !bytes.Equal(sum, want[:4]) {
		return nil
	}
	return payload
}

func doubleSHA256(b []byte) [32]byte {
	h := sha256.Sum256(b)
	return sha256.Sum256(h[:])
}

// sha512Half is the first 32 bytes of SHA-512, XRPL's hash.
func sha512Half(parts ...[]byte) [32]byte {
	h := sha512.New()
	for _, p := range parts {
		h.Write(p)
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

// EncodeXRPSeed writes 16 bytes of entropy as a family seed.
func EncodeXRPSeed(entropy []byte, t XRPKeyType) (string, error) {
	if len(entropy) != xrpEntropyLen {
		return "", fmt.Errorf("XRP seed entropy must be %d bytes, got %d", xrpEntropyLen, len(entropy))
	}
	if t == XRPEd25519 {
		return xrpBase58CheckEncode(append(append([]byte{}, xrpEd25519SeedPrefix...), entropy...)), nil
	}
	return xrpBase58CheckEncode(append([]byte{xrpSeedVersion}, entropy...)), nil
}

// DecodeXRPSeed parses a family seed ("s..." or "sEd...") into its entropy
// and key type, as ripple-address-codec's decodeSeed does.
func DecodeXRPSeed(secret string) ([]byte, XRPKeyType, error) {
	p := xrpBase58CheckDecode(strings.TrimSpace(secret))
	switch {
	case len(p) == 1+xrpEntropyLen && p[0] == xrpSeedVersion:
		return p[1:], XRPSecp256k1, nil
	case len(p) == len(xrpEd25519SeedPrefix)+xrpEntropyLen && bytes.Equal(p[:3], xrpEd25519SeedPrefix):
		return p[3:], XRPEd25519, nil
	}
	return nil, 0, fmt.Errorf("%w: want a family seed (base58 \"s...\" for secp256k1 or \"sEd...\" for ed25519, as tatum-kms generatewallet XRP prints it)", ErrInvalidXRPSecret)
}

// XRPKey is the account key a family seed gives. It signs XRPL signing
// data (the "STX\0"-prefixed serialization) as ripple-keypairs does.
type XRPKey struct {
	typ  XRPKeyType
	pub  []byte // 33 bytes: compressed secp256k1, or 0xED || ed25519 key
	secp *btcec.PrivateKey
	ed   ed25519.PrivateKey
}

// XRPKeyFromSecret derives the account key of a family seed
// (ripple-keypairs 1.3.1 deriveKeypair, account index 0).
func XRPKeyFromSecret(secret string) (*XRPKey, error) {
	entropy, t, err := DecodeXRPSeed(secret)
	if err != nil {
		return nil, err
	}
	defer zero(entropy)
	if t == XRPEd25519 {
		h := sha512Half(entropy)
		defer zero(h[:])
		priv := ed25519.NewKeyFromSeed(h[:])
		return &XRPKey{typ: t, pub: append([]byte{0xed}, priv.Public().(ed25519.PublicKey)...), ed: priv}, nil
	}
	// secp256k1: root = first sha512Half(entropy || i) in 1..n-1, then the
	// account key adds sha512Half(rootPub || 0 || i) (the "family" step).
	root := xrpScalar(entropy, nil)
	rootKey := secpKey(root)
	var zeroIdx [4]byte
	add := xrpScalar(rootKey.PubKey().SerializeCompressed(), zeroIdx[:])
	var sum btcec.ModNScalar
	sum.Add2(&root, &add)
	root.Zero()
	add.Zero()
	rootKey.Zero()
	k := secpKey(sum)
	sum.Zero()
	return &XRPKey{typ: t, pub: k.PubKey().SerializeCompressed(), secp: k}, nil
}

func secpKey(s btcec.ModNScalar) *btcec.PrivateKey {
	return &btcec.PrivateKey{Key: s}
}

// xrpScalar is ripple-keypairs' deriveScalar: the first
// sha512Half(data || discrim? || i) that is a valid secp256k1 scalar.
func xrpScalar(data, discrim []byte) btcec.ModNScalar {
	var i [4]byte
	for n := uint32(0); ; n++ {
		binary.BigEndian.PutUint32(i[:], n)
		h := sha512Half(data, discrim, i[:])
		var s btcec.ModNScalar
		overflow := s.SetBytes(&h)
		zero(h[:])
		if overflow == 0 && !s.IsZero() {
			return s
		}
	}
}

// Type is the key's algorithm.
func (k *XRPKey) Type() XRPKeyType { return k.typ }

// PublicKey is the 33-byte public key as the SigningPubKey field holds it.
func (k *XRPKey) PublicKey() []byte { return append([]byte{}, k.pub...) }

// Address is the classic "r..." address of the key.
func (k *XRPKey) Address() string { return XRPAddress(k.pub) }

// PrivateKeyHex is the private key as ripple-keypairs writes it: "00" or
// "ED" then 64 upper-case hex digits.
func (k *XRPKey) PrivateKeyHex() string {
	if k.typ == XRPEd25519 {
		return "ED" + strings.ToUpper(hex.EncodeToString(k.ed.Seed()))
	}
	b := k.secp.Serialize()
	defer zero(b)
	return "00" + strings.ToUpper(hex.EncodeToString(b))
}

// Sign signs XRPL signing data as ripple-keypairs' sign does: ed25519 over
// the data itself, or secp256k1 ECDSA (RFC 6979 nonce, low S, DER) over
// sha512Half(data).
func (k *XRPKey) Sign(data []byte) ([]byte, error) {
	if k.typ == XRPEd25519 {
		if k.ed == nil {
			return nil, errors.New("XRP key was zeroed")
		}
		return ed25519.Sign(k.ed, data), nil
	}
	if k.secp == nil {
		return nil, errors.New("XRP key was zeroed")
	}
	h := sha512Half(data)
	return ecdsa.Sign(k.secp, h[:]).Serialize(), nil
}

// Zero wipes the private key. The key cannot sign afterwards.
func (k *XRPKey) Zero() {
	if k.secp != nil {
		k.secp.Zero()
		k.secp = nil
	}
	if k.ed != nil {
		zero(k.ed)
		k.ed = nil
	}
}

// VerifyXRPSignature checks a signature made by Sign against a 33-byte
// public key, as ripple-keypairs' verify does.
func VerifyXRPSignature(pub, data, sig []byte) bool {
	if len(pub) == 33 && pub[0] == 0xed {
		return ed25519.Verify(ed25519.PublicKey(pub[1:]), data, sig)
	}
	pk, err := btcec.ParsePubKey(pub)
	if err != nil {
		return false
	}
	s, err := ecdsa.ParseDERSignature(sig)
	if err != nil {
		return false
	}
	h := sha512Half(data)
	return s.Verify(h[:], pk)
}

// XRPAddress is the classic address of a 33-byte public key:
// base58check(0x00 || ripemd160(sha256(pub))) in the XRPL alphabet.
func XRPAddress(pub []byte) string {
	return xrpBase58CheckEncode(append([]byte{xrpAccountIDVer}, btcutil.Hash160(pub)...))
}

// DecodeXRPAddress returns the 20-byte account id of a classic "r..."
// address. X-addresses are not accepted.
func DecodeXRPAddress(addr string) ([20]byte, error) {
	var id [20]byte
	p := xrpBase58CheckDecode(addr)
	if len(p) != 21 || p[0] != xrpAccountIDVer {
		return id, fmt.Errorf("%q is not a classic XRP address (base58 \"r...\"; X-addresses are not accepted)", addr)
	}
	copy(id[:], p[1:])
	return id, nil
}

// EncodeXRPAccountID is the classic address of a 20-byte account id.
func EncodeXRPAccountID(id [20]byte) string {
	return xrpBase58CheckEncode(append([]byte{xrpAccountIDVer}, id[:]...))
}

// XRPWallet is an XRP wallet as tatum-kms prints it (generatewallet XRP,
// getmanagedwallet): JSON {"address", "secret"} in that order.
type XRPWallet struct {
	Address string `json:"address"`
	Secret  string `json:"secret"`
}

// GenerateXRPWallet makes a new wallet as @tatumio/xrp 2.2.100's
// wallet() does (xrpl Wallet.generate(): an ed25519 "sEd..." seed from 16
// random bytes). A nil rand means crypto/rand.
func GenerateXRPWallet(r io.Reader) (XRPWallet, error) {
	return generateXRPWallet(r, XRPEd25519)
}

// GenerateXRPWalletType is GenerateXRPWallet with a chosen key type.
func GenerateXRPWalletType(r io.Reader, t XRPKeyType) (XRPWallet, error) {
	return generateXRPWallet(r, t)
}

func generateXRPWallet(r io.Reader, t XRPKeyType) (XRPWallet, error) {
	if r == nil {
		r = rand.Reader
	}
	e := make([]byte, xrpEntropyLen)
	defer zero(e)
	if _, err := io.ReadFull(r, e); err != nil {
		return XRPWallet{}, fmt.Errorf("reading randomness for an XRP seed: %w", err)
	}
	seed, err := EncodeXRPSeed(e, t)
	if err != nil {
		return XRPWallet{}, err
	}
	k, err := XRPKeyFromSecret(seed)
	if err != nil {
		return XRPWallet{}, err
	}
	defer k.Zero()
	return XRPWallet{Address: k.Address(), Secret: seed}, nil
}
