package wallet

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"

	"filippo.io/edwards25519"
	"github.com/btcsuite/btcd/btcutil/bech32"
	"github.com/tyler-smith/go-bip39"
	"golang.org/x/crypto/blake2b"
)

// Cardano keys as tatum-kms makes them (@tatumio/cardano 2.2.88's
// cardanoWallet, through @cardano-sdk/crypto's CmlBip32Ed25519):
//   - root: the Icarus master key, CML's Bip32PrivateKey.from_bip39_entropy
//     (PBKDF2-HMAC-SHA512, password = the empty passphrase, salt = the BIP39
//     entropy, 4096 rounds, 96 bytes; kL clamped), as cardano-crypto.js's
//     derivation scheme 2 also does;
//   - children: BIP32-Ed25519 (Khovratovich and Law) "V2" derivation;
//   - path: [1852', 1815', 0', 0', i]: the role level (0) is hardened, unlike
//     CIP-1852's m/1852'/1815'/0'/0/i, so these keys are NOT the ones Daedalus,
//     Yoroi or Eternl derive from the same mnemonic;
//   - xpub: the Bip32PublicKey of [1852', 1815', 0', 0'] (public key || chain
//     code, 128 hex), from which index i is a soft child;
//   - privateKey: the raw extended key kL || kR (128 hex);
//   - address: what Rosetta construction/derive answers without metadata, an
//     enterprise address (no stake part) of the key's blake2b-224 hash.

// ErrInvalidCardanoKey is wrapped by every Cardano key decoding error. The
// messages describe the shape, never the key.
var ErrInvalidCardanoKey = errors.New("invalid Cardano private key")

// ErrInvalidCardanoAddress is wrapped by Cardano address decoding errors.
var ErrInvalidCardanoAddress = errors.New("invalid Cardano address")

// CardanoAccountPath is the path of the wallet's xpub; index i is its soft child.
var CardanoAccountPath = []uint32{hardened + 1852, hardened + 1815, hardened, hardened}

// CardanoXprv is a BIP32-Ed25519 extended private key: kL || kR || chain code.
type CardanoXprv [96]byte

// CardanoKey signs as CML's PrivateKey does: an extended key (kL || kR) from
// derivation, or a plain ed25519 seed (from_normal_bytes) when the operator
// stored a 64-hex key.
type CardanoKey struct {
	ext    [64]byte
	seed   ed25519.PrivateKey // set for a plain ed25519 key
	public [32]byte
}

// CardanoWallet is what tatum-kms's generatemanagedwallet ADA prints.
type CardanoWallet struct {
	Mnemonic string `json:"mnemonic"`
	Xpub     string `json:"xpub"`
}

// CardanoRootKey is the Icarus master key of a BIP39 mnemonic's entropy.
func CardanoRootKey(mnemonic string) (CardanoXprv, error) {
	var x CardanoXprv
	// bip39.mnemonicToEntropy throws on a bad word or checksum; so do we.
	entropy, err := bip39.EntropyFromMnemonic(mnemonic)
	if err != nil {
		return x, fmt.Errorf("%w: not a valid BIP39 mnemonic (a word is wrong or the checksum does not match)", ErrInvalidMnemonic)
	}
	defer clear(entropy)
	k, err := pbkdf2.Key(sha512.New, "", entropy, 4096, 96)
	if err != nil {
		return x, fmt.Errorf("Cardano root key: %w", err)
	}
	defer clear(k)
	copy(x[:], k)
	x[0] &= 0xf8
	x[31] &= 0x1f
	x[31] |= 0x40
	return x, nil
}

// Derive returns the child at index (hardened when index >= 2^31).
func (x *CardanoXprv) Derive(index uint32) CardanoXprv {
	kl, kr, cc := x[:32], x[32:64], x[64:]
	var idx [4]byte
	binary.LittleEndian.PutUint32(idx[:], index)
	zm := hmac.New(sha512.New, cc)
	im := hmac.New(sha512.New, cc)
	if index >= hardened {
		zm.Write([]byte{0})
		zm.Write(x[:64])
		im.Write([]byte{1})
		im.Write(x[:64])
	} else {
		pub := scalarBasePoint(kl)
		zm.Write([]byte{2})
		zm.Write(pub)
		im.Write([]byte{3})
		im.Write(pub)
	}
	zm.Write(idx[:])
	im.Write(idx[:])
	z := zm.Sum(nil)
	defer clear(z)
	var child CardanoXprv
	// kL' = 8*zL[0:28] + kL, kR' = zR + kR mod 2^256, both little-endian.
	var carry uint16
	for i := 0; i < 32; i++ {
		var zl uint16
		if i < 28 {
			zl = uint16(z[i] << 3) // the byte's low 5 bits, shifted
		}
		if i > 0 && i <= 28 {
			zl |= uint16(z[i-1]) >> 5
		}
		s := uint16(kl[i]) + zl + carry
		child[i] = byte(s)
		carry = s >> 8
	}
	carry = 0
	for i := 0; i < 32; i++ {
		s := uint16(kr[i]) + uint16(z[32+i]) + carry
		child[32+i] = byte(s)
		carry = s >> 8
	}
	copy(child[64:], im.Sum(nil)[32:])
	return child
}

// Public returns the public key || chain code (CML's Bip32PublicKey).
func (x *CardanoXprv) Public() []byte {
	return append(scalarBasePoint(x[:32]), x[64:]...)
}

// Key returns the signing key of this extended key.
func (x *CardanoXprv) Key() *CardanoKey {
	k := &CardanoKey{}
	copy(k.ext[:], x[:64])
	copy(k.public[:], scalarBasePoint(x[:32]))
	return k
}

// Wipe zeroes the key.
func (x *CardanoXprv) Wipe() { clear(x[:]) }

// scalarBasePoint is kL·B for a 32-byte little-endian kL that need not be
// reduced (derived keys exceed the group order).
func scalarBasePoint(kl []byte) []byte {
	var wide [64]byte
	copy(wide[:], kl)
	s, _ := edwards25519.NewScalar().SetUniformBytes(wide[:])
	clear(wide[:])
	return new(edwards25519.Point).ScalarBaseMult(s).Bytes()
}

// CardanoAccountKey is the xprv at CardanoAccountPath.
func CardanoAccountKey(mnemonic string) (CardanoXprv, error) {
	x, err := CardanoRootKey(mnemonic)
	if err != nil {
		return x, err
	}
	for _, i := range CardanoAccountPath {
		c := x.Derive(i)
		x.Wipe()
		x = c
	}
	return x, nil
}

// CardanoKeyFromMnemonic is generatePrivateKeyFromMnemonic(mnemonic, index).
func CardanoKeyFromMnemonic(mnemonic string, index uint32) (*CardanoKey, error) {
	if index >= hardened {
		return nil, fmt.Errorf("Cardano index %d: must be below 2^31", index)
	}
	a, err := CardanoAccountKey(mnemonic)
	if err != nil {
		return nil, err
	}
	defer a.Wipe()
	c := a.Derive(index)
	defer c.Wipe()
	return c.Key(), nil
}

// GenerateCardanoWalletFromMnemonic is generateWallet(mnemonic).
func GenerateCardanoWalletFromMnemonic(mnemonic string) (CardanoWallet, error) {
	a, err := CardanoAccountKey(mnemonic)
	if err != nil {
		return CardanoWallet{}, err
	}
	defer a.Wipe()
	return CardanoWallet{Mnemonic: mnemonic, Xpub: hex.EncodeToString(a.Public())}, nil
}

// CardanoPublicKeyFromXpub is derivePublicKey(xpub, [index]) then
// getRawPublicKey: the soft child's 32-byte public key.
func CardanoPublicKeyFromXpub(xpub string, index uint32) ([]byte, error) {
	b, err := hex.DecodeString(xpub)
	if err != nil || len(b) != 64 {
		return nil, fmt.Errorf("Cardano xpub: want 128 hex characters (public key || chain code), as generatemanagedwallet ADA prints it")
	}
	if index >= hardened {
		return nil, fmt.Errorf("Cardano index %d: an xpub derives only indexes below 2^31", index)
	}
	a, err := new(edwards25519.Point).SetBytes(b[:32])
	if err != nil {
		return nil, fmt.Errorf("Cardano xpub: public key is not a curve point")
	}
	var idx [4]byte
	binary.LittleEndian.PutUint32(idx[:], index)
	zm := hmac.New(sha512.New, b[32:])
	zm.Write([]byte{2})
	zm.Write(b[:32])
	zm.Write(idx[:])
	z := zm.Sum(nil)
	// 8*zL as a scalar: zL is 28 bytes, so 8*zL < 2^227 < l needs no reduction.
	var wide [64]byte
	var carry byte
	for i := 0; i < 28; i++ {
		wide[i] = z[i]<<3 | carry
		carry = z[i] >> 5
	}
	wide[28] = carry
	s, _ := edwards25519.NewScalar().SetUniformBytes(wide[:])
	p := new(edwards25519.Point).ScalarBaseMult(s)
	return p.Add(p, a).Bytes(), nil
}

// DecodeCardanoPrivateKey reads a key as tatum-kms stores it: 128 hex (the
// raw extended key getprivatekey prints) or 64 hex (a plain ed25519 seed).
func DecodeCardanoPrivateKey(s string) (*CardanoKey, error) {
	b, err := hex.DecodeString(s)
	defer clear(b)
	if err != nil {
		return nil, fmt.Errorf("%w: not hex; want the 128 hex characters getprivatekey ADA prints", ErrInvalidCardanoKey)
	}
	k := &CardanoKey{}
	switch len(b) {
	case 64:
		copy(k.ext[:], b)
		copy(k.public[:], scalarBasePoint(b[:32]))
	case 32:
		k.seed = ed25519.NewKeyFromSeed(b)
		copy(k.public[:], k.seed[32:])
	default:
		return nil, fmt.Errorf("%w: %d bytes; want 64 (extended key, 128 hex) or 32 (ed25519 seed, 64 hex)", ErrInvalidCardanoKey, len(b))
	}
	return k, nil
}

// Hex is the key as getprivatekey ADA prints it.
func (k *CardanoKey) Hex() string {
	if k.seed != nil {
		return hex.EncodeToString(k.seed.Seed())
	}
	return hex.EncodeToString(k.ext[:])
}

// PublicKey is the 32-byte ed25519 public key.
func (k *CardanoKey) PublicKey() ed25519.PublicKey {
	return append(ed25519.PublicKey(nil), k.public[:]...)
}

// Sign is CML's PrivateKey.sign: ed25519 over msg, with the extended key's
// kL as the scalar and kR as the nonce prefix (RFC 8032 with the hash step
// already done).
func (k *CardanoKey) Sign(msg []byte) []byte {
	if k.seed != nil {
		return ed25519.Sign(k.seed, msg)
	}
	h := sha512.New()
	h.Write(k.ext[32:])
	h.Write(msg)
	rd := h.Sum(nil)
	r, _ := edwards25519.NewScalar().SetUniformBytes(rd)
	clear(rd)
	R := new(edwards25519.Point).ScalarBaseMult(r).Bytes()
	h.Reset()
	h.Write(R)
	h.Write(k.public[:])
	h.Write(msg)
	c, _ := edwards25519.NewScalar().SetUniformBytes(h.Sum(nil))
	var wide [64]byte
	copy(wide[:], k.ext[:32])
	a, _ := edwards25519.NewScalar().SetUniformBytes(wide[:])
	clear(wide[:])
	s := edwards25519.NewScalar().MultiplyAdd(c, a, r)
	return append(R, s.Bytes()...)
}

// Wipe zeroes the key.
func (k *CardanoKey) Wipe() {
	clear(k.ext[:])
	clear(k.seed)
}

// CardanoEnterpriseAddress is construction/derive's answer for pub: header
// 0x61 (mainnet) or 0x60 (testnet/preprod) || blake2b-224(pub), bech32 "addr"
// or "addr_test".
func CardanoEnterpriseAddress(pub []byte, testnet bool) (string, error) {
	if len(pub) != 32 {
		return "", fmt.Errorf("Cardano public key: %d bytes, want 32", len(pub))
	}
	h, _ := blake2b.New(28, nil)
	h.Write(pub)
	header, hrp := byte(0x61), "addr"
	if testnet {
		header, hrp = 0x60, "addr_test"
	}
	data, err := bech32.ConvertBits(append([]byte{header}, h.Sum(nil)...), 8, 5, true)
	if err != nil {
		return "", err
	}
	return bech32.Encode(hrp, data)
}

// ParseCardanoAddress decodes a Shelley bech32 address to its raw bytes (the
// bytes a transaction output holds) and checks its network: header low
// nibble 1 for mainnet, 0 for testnets. Byron (base58) addresses are refused.
func ParseCardanoAddress(s string, testnet bool) ([]byte, error) {
	hrp, data, err := bech32.DecodeNoLimit(s)
	if err != nil {
		return nil, fmt.Errorf("%w %q: not bech32 (Byron addresses are not supported)", ErrInvalidCardanoAddress, s)
	}
	b, err := bech32.ConvertBits(data, 5, 8, false)
	if err != nil || len(b) < 29 {
		return nil, fmt.Errorf("%w %q: bad payload", ErrInvalidCardanoAddress, s)
	}
	wantHRP, wantNet := "addr", byte(1)
	if testnet {
		wantHRP, wantNet = "addr_test", 0
	}
	if hrp != wantHRP || b[0]&0x0f != wantNet {
		return nil, fmt.Errorf("%w %q: not a %s address", ErrInvalidCardanoAddress, s, map[bool]string{false: "mainnet", true: "testnet"}[testnet])
	}
	if t := b[0] >> 4; t > 7 {
		return nil, fmt.Errorf("%w %q: address type %d cannot receive payments", ErrInvalidCardanoAddress, s, t)
	}
	return b, nil
}
