package wallet

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil/hdkeychain"
	"github.com/btcsuite/btcd/chaincfg"
)

// ErrInvalidXpub is wrapped by every extended-public-key error. Messages do
// not repeat the key.
var ErrInvalidXpub = errors.New("invalid xpub")

const hardened = hdkeychain.HardenedKeyStart

// masterKey is BIP32's master key for a seed. The version bytes it carries
// do not matter: xpubs are re-serialized with the chain's own version.
func masterKey(seed []byte) (*hdkeychain.ExtendedKey, error) {
	k, err := hdkeychain.NewMaster(seed, &chaincfg.MainNetParams)
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	return k, nil
}

// derivePath derives a path like "m/44'/0'/0'/0" (or "m/0H/1") from k.
func derivePath(k *hdkeychain.ExtendedKey, path string) (*hdkeychain.ExtendedKey, error) {
	parts := strings.Split(path, "/")
	if len(parts) == 0 || parts[0] != "m" {
		return nil, fmt.Errorf("derivation path %q: must start with m", path)
	}
	for _, p := range parts[1:] {
		var off uint32
		if strings.HasSuffix(p, "'") || strings.HasSuffix(p, "H") || strings.HasSuffix(p, "h") {
			off = hardened
			p = p[:len(p)-1]
		}
		i, err := ParseIndex(p)
		if err != nil {
			return nil, fmt.Errorf("derivation path %q: %w", path, err)
		}
		// Derive, not DeriveNonStandard: BIP32-correct for private keys with
		// leading zero bytes (bitcoinjs bip32, which the SDK uses, is too).
		if k, err = k.Derive(i + off); err != nil {
			return nil, fmt.Errorf("derivation path %q: %w", path, err)
		}
	}
	return k, nil
}

// accountKey is the extended private key at the chain's account path
// m/44'/coin'/0'/0, the parent of every address index.
func accountKey(seed []byte, ns netSpec) (*hdkeychain.ExtendedKey, error) {
	k, err := masterKey(seed)
	if err != nil {
		return nil, err
	}
	for _, i := range []uint32{44 + hardened, ns.coinType + hardened, 0 + hardened, 0} {
		child, err := k.Derive(i)
		k.Zero() // the intermediate private keys are not needed again
		if err != nil {
			return nil, fmt.Errorf("derive account key: %w", err)
		}
		k = child
	}
	return k, nil
}

// neuter returns the extended public key of k serialized with the given
// version. (hdkeychain's Neuter looks the version up in chaincfg's global
// registry, which has no LTC; building the key directly needs no registry.)
func neuter(k *hdkeychain.ExtendedKey, version [4]byte) (*hdkeychain.ExtendedKey, error) {
	pub, err := k.ECPubKey()
	if err != nil {
		return nil, err
	}
	var fp [4]byte
	binary.BigEndian.PutUint32(fp[:], k.ParentFingerprint())
	return hdkeychain.NewExtendedKey(version[:], pub.SerializeCompressed(), k.ChainCode(), fp[:],
		k.Depth(), k.ChildIndex(), false), nil
}

// parseXpub parses a serialized extended public key and checks it the way
// the SDK's parser for the chain does (bip32.fromBase58(xpub, network):
// the version must be the network's; ethereumjs hdkey: "xpub" only), plus
// BIP32's structural rules. Unlike the SDK it refuses extended PRIVATE
// keys: a private key where a public one belongs is a mistake to stop, not
// to derive from.
func parseXpub(c Chain, s string, ns netSpec, fam family) (*hdkeychain.ExtendedKey, error) {
	if fam == famTRON && len(s) == 130 {
		// generateAddressFromXPub(TRON) also takes hex(compressed pubkey || chain code).
		return parseHexXpub(s)
	}
	k, err := parseExtendedKey(s)
	if err != nil {
		return nil, err
	}
	if k.IsPrivate() {
		return nil, fmt.Errorf("%w: this is an extended private key; give the extended public key", ErrInvalidXpub)
	}
	if !bytes.Equal(k.Version(), ns.xpubID[:]) {
		return nil, fmt.Errorf("%w: version bytes %x are not %s's (%x, %s)", ErrInvalidXpub, k.Version(), c,
			ns.xpubID[:], xpubPrefixName(ns.xpubID))
	}
	return k, nil
}

// parseExtendedKey decodes a base58check extended key and applies BIP32's
// validity rules (test vector 5) that hdkeychain leaves to the caller.
func parseExtendedKey(s string) (*hdkeychain.ExtendedKey, error) {
	k, err := hdkeychain.NewKeyFromString(s)
	if err != nil {
		switch {
		case errors.Is(err, hdkeychain.ErrInvalidKeyLen):
			return nil, fmt.Errorf("%w: not a base58 extended key of the right length", ErrInvalidXpub)
		case errors.Is(err, hdkeychain.ErrBadChecksum):
			return nil, fmt.Errorf("%w: bad checksum", ErrInvalidXpub)
		case errors.Is(err, hdkeychain.ErrUnusableSeed):
			return nil, fmt.Errorf("%w: private key out of range", ErrInvalidXpub)
		default:
			return nil, fmt.Errorf("%w: key data is not a valid secp256k1 key", ErrInvalidXpub)
		}
	}
	// (NewKeyFromString already refused key data other than 0x00 || key or a
	// valid compressed public key.)
	kind, known := knownVersions[[4]byte(k.Version())]
	if !known {
		return nil, fmt.Errorf("%w: unknown version bytes %x", ErrInvalidXpub, k.Version())
	}
	if isPub, isPriv := kind[0], kind[1]; (isPub && k.IsPrivate()) || (isPriv && !k.IsPrivate()) {
		return nil, fmt.Errorf("%w: version bytes %x do not match the key type", ErrInvalidXpub, k.Version())
	}
	if k.Depth() == 0 && (k.ParentFingerprint() != 0 || k.ChildIndex() != 0) {
		return nil, fmt.Errorf("%w: depth 0 with a parent fingerprint or child number", ErrInvalidXpub)
	}
	return k, nil
}

// knownVersions maps version bytes to (isPublic, isPrivate).
var knownVersions = map[[4]byte][2]bool{
	versionXpub:              {true, false},
	versionTpub:              {true, false},
	versionLtub:              {true, false},
	versionTtub:              {true, false},
	{0x04, 0x88, 0xad, 0xe4}: {false, true}, // xprv
	{0x04, 0x35, 0x83, 0x94}: {false, true}, // tprv
	{0x01, 0x9d, 0x9c, 0xfe}: {false, true}, // Ltpv
	{0x04, 0x36, 0xef, 0x7d}: {false, true}, // ttpv
}

func xpubPrefixName(v [4]byte) string {
	switch v {
	case versionXpub:
		return "xpub"
	case versionTpub:
		return "tpub"
	case versionLtub:
		return "Ltub"
	case versionTtub:
		return "ttub"
	}
	return "?"
}

func parseHexXpub(s string) (*hdkeychain.ExtendedKey, error) {
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: 130 characters but not hex", ErrInvalidXpub)
	}
	if _, err := btcec.ParsePubKey(b[:33]); err != nil {
		return nil, fmt.Errorf("%w: hex xpub does not start with a compressed secp256k1 public key", ErrInvalidXpub)
	}
	// bip32.fromPublicKey: depth 0, no parent; only the key and chain code
	// matter for deriving children.
	return hdkeychain.NewExtendedKey(versionXpub[:], b[:33], b[33:], []byte{0, 0, 0, 0}, 0, 0, false), nil
}
