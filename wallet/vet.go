package wallet

import (
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil/hdkeychain"
)

// VeChain (VET) keys as tatum-kms's getprivatekey and getaddress derive them
// (@tatumio/tatum 1.37 generateVetPrivateKey / generateVetAddress, through
// ethereumjs-wallet's hdkey): BIP32 secp256k1 along m/44'/818'/0'/0/i on
// mainnet and m/44'/1'/0'/0/i on testnet, the xpub serialized with bitcoin
// mainnet versions ("xpub" on testnet too), private keys "0x" + 64 hex
// digits, addresses "0x" + lower-case hex of keccak256(pubkey)[12:] (the
// Ethereum derivation).
//
// tatum-kms's daemon asks for a VET mnemonic key with Currency.BNB, which
// its SDK answers with "Unsupported blockchain.": it cannot sign for VET
// mnemonic wallets at all. gokms signs them with these keys, the ones
// getprivatekey and getaddress showed the operator.

// VETPath is the account path (the parent of every index).
func VETPath(testnet bool) string {
	return fmt.Sprintf("m/44'/%d'/0'/0", coinType("VET", testnet))
}

func vetAccount(mnemonic string, testnet bool) (*hdkeychain.ExtendedKey, error) {
	seed, err := mnemonicSeed(mnemonic, "")
	if err != nil {
		return nil, err
	}
	defer zero(seed)
	coin := coinType("VET", testnet)
	return accountKey(seed, netSpec{coinType: coin})
}

// VETKeyFromMnemonic derives the key at index. Like the SDK it does not
// validate the mnemonic's words (see PrivateKeyFromMnemonic).
func VETKeyFromMnemonic(mnemonic string, index uint32, testnet bool) (*btcec.PrivateKey, error) {
	if err := checkIndex(index); err != nil {
		return nil, err
	}
	acct, err := vetAccount(mnemonic, testnet)
	if err != nil {
		return nil, err
	}
	defer acct.Zero()
	return childKey(acct, index)
}

// VETPrivateKeyFromMnemonic is generatePrivateKeyFromMnemonic(VET).
func VETPrivateKeyFromMnemonic(mnemonic string, index uint32, testnet bool) (string, error) {
	k, err := VETKeyFromMnemonic(mnemonic, index, testnet)
	if err != nil {
		return "", err
	}
	defer k.Zero()
	return "0x" + hex.EncodeToString(k.Serialize()), nil
}

// VETXpub is generateVetWallet's xpub.
func VETXpub(mnemonic string, testnet bool) (string, error) {
	acct, err := vetAccount(mnemonic, testnet)
	if err != nil {
		return "", err
	}
	defer acct.Zero()
	pub, err := neuter(acct, versionXpub)
	if err != nil {
		return "", fmt.Errorf("VET xpub: %w", err)
	}
	return pub.String(), nil
}

// VETAddressFromXpub is generateAddressFromXPub(VET).
func VETAddressFromXpub(xpub string, index uint32) (string, error) {
	if err := checkIndex(index); err != nil {
		return "", err
	}
	k, err := parseExtendedKey(xpub)
	if err != nil {
		return "", err
	}
	if k.IsPrivate() {
		return "", fmt.Errorf("%w: an extended private key where the xpub belongs", ErrInvalidXpub)
	}
	child, err := k.Derive(index)
	if err != nil {
		return "", fmt.Errorf("derive address %d: %w", index, err)
	}
	pub, err := child.ECPubKey()
	if err != nil {
		return "", fmt.Errorf("derive address %d: %w", index, err)
	}
	return VETAddress(pub), nil
}

// VETAddress is the 0x lower-case hex address of a public key.
func VETAddress(pub *btcec.PublicKey) string {
	return "0x" + hex.EncodeToString(evmAddress(pub))
}

// VETKeyFromPrivateKey decodes a VET private key: 64 hex digits with or
// without 0x (thorify strips the prefix).
func VETKeyFromPrivateKey(privateKey string) (*btcec.PrivateKey, error) {
	s := strings.TrimPrefix(strings.TrimSpace(privateKey), "0x")
	if len(s) != 64 {
		return nil, fmt.Errorf("%w: VET private key: want 64 hex digits", ErrInvalidPrivateKey)
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: VET private key: not hex", ErrInvalidPrivateKey)
	}
	defer zero(b)
	return scalarKey(b)
}
