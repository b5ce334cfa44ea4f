package wallet

import (
	"encoding/hex"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/base58"
	"github.com/btcsuite/btcd/btcutil/bech32"
	"github.com/ethereum/go-ethereum/crypto"
)

// tronAddressVersion is the first byte of a TRON address (base58 "T...").
const tronAddressVersion = 0x41

// encodeAddress turns a public key into an address of the given kind.
// compressed chooses the public key serialization that base58 UTXO
// addresses hash (an uncompressed WIF key has an uncompressed address).
func encodeAddress(kind addrKind, ns netSpec, pub *btcec.PublicKey, compressed bool) (string, error) {
	switch kind {
	case addrP2PKH:
		return base58.CheckEncode(btcutil.Hash160(serializePub(pub, compressed)), ns.pubKeyHashID), nil
	case addrP2WPKH:
		if !compressed {
			return "", fmt.Errorf("segwit address needs a compressed public key")
		}
		prog, err := bech32.ConvertBits(btcutil.Hash160(pub.SerializeCompressed()), 8, 5, true)
		if err != nil {
			return "", err
		}
		return bech32.Encode(ns.hrp, append([]byte{0}, prog...)) // witness version 0
	case addrCashAddr:
		return cashAddrP2PKH(ns.cashPrefix, btcutil.Hash160(serializePub(pub, compressed)))
	case addrEVM:
		return "0x" + hex.EncodeToString(evmAddress(pub)), nil
	case addrXDC:
		return "xdc" + hex.EncodeToString(evmAddress(pub)), nil
	case addrTRON:
		return base58.CheckEncode(evmAddress(pub), tronAddressVersion), nil
	}
	return "", fmt.Errorf("unknown address kind %d", kind)
}

func serializePub(pub *btcec.PublicKey, compressed bool) []byte {
	if compressed {
		return pub.SerializeCompressed()
	}
	return pub.SerializeUncompressed()
}

// evmAddress is keccak256(uncompressed pubkey without 0x04)[12:].
func evmAddress(pub *btcec.PublicKey) []byte {
	a := crypto.PubkeyToAddress(*pub.ToECDSA())
	return a[:]
}
