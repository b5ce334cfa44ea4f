package kms

// The per-chain key table: every key command (generatewallet,
// generatemanagedwallet, storemanagedwallet, storemanagedprivatekey,
// generatemanagedprivatekeybatch, getprivatekey, getaddress) reaches a
// chain's keys through one entry here, so adding a chain's keys is one
// chainKeys implementation and one line in keyFamilies. docs/keys.md has
// the table of what each entry does and where it differs from tatum-kms.

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/chain"
	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/wallet"
)

// chainKeys is one chain family's key handling. code is the upper-case
// chain code (several chains share the HD family). Records it returns carry
// the Layout of the entry tatum-kms writes for them, so getmanagedwallet and
// export give tatum-kms's shape back; the caller sets ID, Chain and Testnet
// and zeroes them.
type chainKeys interface {
	// generate makes a new wallet: what generatemanagedwallet stores and
	// generatewallet prints (without chain and testnet).
	generate(code string, testnet bool) (backend.Record, error)
	// fromMnemonic is storemanagedwallet's wallet for a checked mnemonic.
	fromMnemonic(code, mnemonic string, testnet bool) (backend.Record, error)
	// keyAddress checks a private key for storemanagedprivatekey and
	// returns its address.
	keyAddress(code, key string, testnet bool) (string, error)
	// newKey is one key of generatemanagedprivatekeybatch and the address
	// printed beside it.
	newKey(code string, testnet bool) (key, address string, err error)
	// mnemonicKey and mnemonicAddress are getprivatekey and getaddress for a
	// mnemonic record at index.
	mnemonicKey(rec backend.Record, index uint32) (string, error)
	mnemonicAddress(rec backend.Record, index uint32) (string, error)
	// signingKey decodes the key the daemon signs with for rec at index
	// (RecordKeys.SigningKey has checked kind and index first: a mnemonic
	// record of a strictIndex family has one).
	signingKey(rec backend.Record, index *uint32) (SigningKey, error)
}

// keyFamilies maps each signer family of the chain table to its keys.
var keyFamilies = map[chain.Family]chainKeys{
	chain.UTXO: hdKeys{},
	chain.EVM:  hdKeys{},
	chain.TRON: hdKeys{},
	chain.SOL:  solKeys{},
	chain.XLM:  xlmKeys{},
	chain.XRP:  xrpKeys{},
	chain.ALGO: algoKeys{},
	chain.EGLD: egldKeys{},
	chain.VET:  vetKeys{},
	chain.FLOW: flowKeys{},
	chain.ADA:  adaKeys{},
}

// ParseChain checks a chain code given on the command line: a chain whose
// network was shut down is refused with why (signing.ErrChainShutDown), a
// chain gokms has no keys for with tatum-kms's "Unsupported blockchain.".
// It returns the upper-case code.
func ParseChain(s string) (string, error) {
	if err := signing.ShutDown(s); err != nil {
		return "", err
	}
	c, ok := chain.Lookup(s)
	if !ok || keyFamilies[c.Family] == nil {
		return "", fmt.Errorf("%w (chain %q)", wallet.ErrUnsupportedChain, s)
	}
	return c.Code, nil
}

// keysOf returns a chain's entry; code must have passed ParseChain.
func keysOf(code string) (chainKeys, error) {
	if err := signing.ShutDown(code); err != nil {
		return nil, err
	}
	c, ok := chain.Lookup(code)
	if !ok || keyFamilies[c.Family] == nil {
		return nil, wallet.ErrUnsupportedChain
	}
	return keyFamilies[c.Family], nil
}

// ErrNoMnemonic is wrapped when a mnemonic is given for a chain whose
// wallets are a single key.
var ErrNoMnemonic = errors.New("this chain's wallets have no mnemonic")

// TakesMnemonic reports, before a mnemonic is asked for, whether the chain's
// wallets are made from one: XRP and XLM wallets are a single key without
// one (tatum-kms's storemanagedwallet ignores the words for them and stores
// a new random wallet instead). ALGO takes Algorand's 25-word mnemonic.
func TakesMnemonic(code string) error {
	k, err := keysOf(code)
	if err != nil {
		return err
	}
	if _, ok := k.(singleKey); ok {
		return fmt.Errorf("%s: %w (tatum-kms would store a new random wallet in its place); store the wallet's secret with `gokms storemanagedprivatekey %s` instead",
			code, ErrNoMnemonic, code)
	}
	return nil
}

// printedWallet is implemented by the families whose generatewallet prints
// another wallet than generatemanagedwallet stores (tatum-kms calls
// @tatumio/tatum v1's generateWallet for the one, the chain SDK for the
// other).
type printedWallet interface {
	printedWallet(code string, testnet bool) (backend.Record, error)
}

// singleKey marks the families whose wallets are one key without a mnemonic.
type singleKey interface{ noMnemonic() }

// layouts of the entries tatum-kms writes (backend.Record.Layout).
const (
	layoutKey           = "privateKey,chain,testnet" // storemanagedprivatekey, batch
	layoutAddressSecret = "address,secret,chain,testnet"
	layoutMnemonicXpub  = "mnemonic,xpub,chain,testnet"
	layoutXpubMnemonic  = "xpub,mnemonic,chain,testnet"
)

// PrintedFields are the fields of a record's tatum-kms entry without chain
// and testnet: what generatewallet prints for a wallet of that shape.
func printedFields(rec backend.Record) []string {
	layout := rec.Layout
	if layout == "" { // HD chains: the SDK's {mnemonic, xpub} or {xpub, mnemonic}
		layout = layoutMnemonicXpub
		if wallet.XpubFirst(wallet.Chain(rec.Chain)) {
			layout = layoutXpubMnemonic
		}
	}
	var out []string
	for _, f := range strings.Split(layout, ",") {
		if f != "chain" && f != "testnet" {
			out = append(out, f)
		}
	}
	return out
}

func newMnemonic() (string, error) {
	m, err := wallet.GenerateMnemonic()
	if err != nil {
		return "", fmt.Errorf("generate mnemonic: %w", err)
	}
	return m, nil
}

// hdKeys: the UTXO, EVM and TRON chains (BIP32 secp256k1 at m/44'/coin'/0'/0).
type hdKeys struct{}

func (hdKeys) generate(code string, testnet bool) (backend.Record, error) {
	w, err := wallet.GenerateWallet(wallet.Chain(code), testnet)
	if err != nil {
		return backend.Record{}, err
	}
	return backend.Record{Kind: backend.Mnemonic, Secret: []byte(w.Mnemonic), Xpub: w.Xpub}, nil
}

func (hdKeys) fromMnemonic(code, m string, testnet bool) (backend.Record, error) {
	w, err := wallet.WalletFromMnemonic(wallet.Chain(code), m, testnet)
	if err != nil {
		return backend.Record{}, err
	}
	return backend.Record{Kind: backend.Mnemonic, Secret: []byte(w.Mnemonic), Xpub: w.Xpub}, nil
}

func (hdKeys) keyAddress(code, key string, testnet bool) (string, error) {
	k, err := wallet.DecodePrivateKey(wallet.Chain(code), key, testnet)
	if err != nil {
		return "", err
	}
	k.Zero()
	return wallet.AddressFromPrivateKey(wallet.Chain(code), key, testnet)
}

func (hdKeys) newKey(code string, testnet bool) (string, string, error) {
	return wallet.GenerateManagedPrivateKey(wallet.Chain(code), testnet)
}

func (hdKeys) mnemonicKey(rec backend.Record, i uint32) (string, error) {
	return wallet.PrivateKeyFromMnemonic(wallet.Chain(rec.Chain), string(rec.Secret), i, rec.Testnet)
}

func (hdKeys) mnemonicAddress(rec backend.Record, i uint32) (string, error) {
	return wallet.AddressFromXpub(wallet.Chain(rec.Chain), rec.Xpub, i, rec.Testnet)
}

func (hdKeys) signingKey(rec backend.Record, index *uint32) (k SigningKey, err error) {
	c := wallet.Chain(rec.Chain)
	if rec.Kind == backend.Mnemonic {
		k.Secp256k1, err = wallet.DeriveKey(c, string(rec.Secret), at(index), rec.Testnet)
	} else {
		k.Secp256k1, err = wallet.DecodePrivateKey(c, string(rec.Secret), rec.Testnet)
	}
	return k, err
}

// at is a checked index (0 where the family's rule lets none be given).
func at(index *uint32) uint32 {
	if index == nil {
		return 0
	}
	return *index
}

// pkAddress is getaddress for a private-key record: the stored address, else
// the one of the stored key (tatum-kms asks generateAddressFromXPub with
// the missing xpub there and fails).
func pkAddress(k chainKeys, rec backend.Record) (string, error) {
	if rec.Address != "" {
		return rec.Address, nil
	}
	return k.keyAddress(strings.ToUpper(rec.Chain), string(rec.Secret), rec.Testnet)
}
