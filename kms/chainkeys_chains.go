package kms

// The key table's entries for the chains whose keys are not BIP32
// secp256k1 at m/44'/coin'/0'/0: what each tatum-kms 8.0.1 command does
// for them (src/management.ts and the SDK functions it calls), and where
// gokms answers what tatum-kms cannot. docs/keys.md, "Chains with keys of
// their own", has the table.

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/wallet"
)

// single-key chains refuse a mnemonic (see TakesMnemonic).
type noMnemonicKeys struct{}

func (noMnemonicKeys) noMnemonic() {}

func (noMnemonicKeys) fromMnemonic(code, _ string, _ bool) (backend.Record, error) {
	return backend.Record{}, TakesMnemonic(code)
}

func (noMnemonicKeys) mnemonicKey(rec backend.Record, _ uint32) (string, error) {
	return "", fmt.Errorf("a %s wallet holds no mnemonic, but this one does: %w", rec.Chain, ErrNoMnemonic)
}

func (noMnemonicKeys) mnemonicAddress(rec backend.Record, _ uint32) (string, error) {
	return "", fmt.Errorf("a %s wallet holds no mnemonic, but this one does: %w", rec.Chain, ErrNoMnemonic)
}

// secretWallet is the {address, secret} wallet of XRP, XLM and ALGO.
func secretWallet(address, secret string) backend.Record {
	return backend.Record{Kind: backend.PrivateKey, Secret: []byte(secret), Address: address, Layout: layoutAddressSecret}
}

// xlmKeys: Stellar. Every command's wallet is Keypair.random()'s
// {address, secret}; the network does not change keys or addresses.
type xlmKeys struct{ noMnemonicKeys }

func (xlmKeys) generate(string, bool) (backend.Record, error) {
	w, err := wallet.GenerateStellarWallet()
	if err != nil {
		return backend.Record{}, err
	}
	return secretWallet(w.Address, w.Secret), nil
}

func (xlmKeys) keyAddress(_, key string, _ bool) (string, error) {
	w, err := wallet.StellarWalletFromSecret(key)
	if err != nil {
		return "", err
	}
	return w.Address, nil
}

func (xlmKeys) newKey(string, bool) (string, string, error) {
	w, err := wallet.GenerateStellarWallet()
	return w.Secret, w.Address, err
}

// indexRule: an XLM wallet is one "S..." seed; an index or a mnemonic
// record is refused (tatum-kms signs with the seed whatever the index;
// gokms does not guess which key a transaction with an index meant).
func (xlmKeys) indexRule(rec backend.Record, index *uint32) error {
	if rec.Kind != backend.PrivateKey {
		return fmt.Errorf("signatureId %s is a %s XLM wallet: Stellar wallets are a secret seed (S...), gokms derives none from a mnemonic; refusing to sign: %w",
			rec.ID, rec.Kind, signing.ErrIndexMismatch)
	}
	if index != nil {
		return fmt.Errorf("signatureId %s is an XLM secret, but the transaction asks for index %d: %w; XLM wallets take no index",
			rec.ID, *index, signing.ErrIndexMismatch)
	}
	return nil
}

func (xlmKeys) signingKey(rec backend.Record, _ *uint32) (k SigningKey, err error) {
	k.Ed25519, err = wallet.DecodeStellarSecret(string(rec.Secret))
	return k, err
}

func (xlmKeys) signingAddress(_ backend.Record, _ *uint32, k SigningKey) (string, bool) {
	return wallet.StellarAddress(k.Ed25519.Public().(ed25519.PublicKey)), true
}

// xrpKeys: XRP family seeds. generatemanagedwallet (and the batch) use
// @tatumio/xrp's wallet(), xrpl's Wallet.generate(): an ed25519 "sEd…"
// seed. (generatewallet XRP calls ripple-lib's generateAddress, which fails
// in tatum-kms 8.0.1's build; gokms prints the same kind of wallet as
// generatemanagedwallet stores.)
type xrpKeys struct{ noMnemonicKeys }

func (xrpKeys) generate(string, bool) (backend.Record, error) {
	w, err := wallet.GenerateXRPWallet(nil)
	if err != nil {
		return backend.Record{}, err
	}
	return secretWallet(w.Address, w.Secret), nil
}

func (xrpKeys) keyAddress(_, key string, _ bool) (string, error) {
	k, err := wallet.XRPKeyFromSecret(key)
	if err != nil {
		return "", err
	}
	defer k.Zero()
	return k.Address(), nil
}

func (xrpKeys) newKey(string, bool) (string, string, error) {
	w, err := wallet.GenerateXRPWallet(nil)
	return w.Secret, w.Address, err
}

// indexRule: an XRP wallet is one family seed; an index (which the XRP
// signer refuses before it asks for the key) or a mnemonic record is
// refused.
func (xrpKeys) indexRule(rec backend.Record, index *uint32) error {
	if rec.Kind != backend.PrivateKey {
		return fmt.Errorf("signatureId %s is a %s XRP wallet: XRP wallets are a family seed (s...), gokms derives none from a mnemonic; refusing to sign: %w",
			rec.ID, rec.Kind, signing.ErrIndexMismatch)
	}
	if index != nil {
		return fmt.Errorf("signatureId %s is an XRP family seed, but the transaction asks for index %d: %w; XRP wallets take no derivation index",
			rec.ID, *index, signing.ErrIndexMismatch)
	}
	return nil
}

func (xrpKeys) signingKey(rec backend.Record, _ *uint32) (k SigningKey, err error) {
	k.XRP, err = wallet.XRPKeyFromSecret(string(rec.Secret))
	return k, err
}

func (xrpKeys) signingAddress(_ backend.Record, _ *uint32, k SigningKey) (string, bool) {
	return k.XRP.Address(), true
}

// algoKeys: Algorand. generateAlgoWallet: a random key as {address,
// secret} (base32 of the 64-byte secret key); storemanagedwallet takes an
// Algorand 25-word mnemonic (algosdk's mnemonicToSecretKey), not BIP39, and
// stores the same {address, secret}.
type algoKeys struct{}

// ownMnemonic: the words are Algorand's, checked by fromMnemonic.
func (algoKeys) ownMnemonic() {}

func (algoKeys) generate(string, bool) (backend.Record, error) {
	a, s, err := wallet.GenerateAlgoWallet()
	if err != nil {
		return backend.Record{}, err
	}
	return secretWallet(a, s), nil
}

func (algoKeys) fromMnemonic(_, m string, _ bool) (backend.Record, error) {
	a, s, err := wallet.AlgoWalletFromMnemonic(m)
	if err != nil {
		return backend.Record{}, fmt.Errorf("%w (ALGO takes Algorand's own 25-word mnemonic, as algosdk writes it)", err)
	}
	return secretWallet(a, s), nil
}

func (algoKeys) keyAddress(_, key string, _ bool) (string, error) {
	return wallet.AlgoAddressFromSecret(key)
}

func (algoKeys) newKey(string, bool) (string, string, error) {
	a, s, err := wallet.GenerateAlgoWallet()
	return s, a, err
}

// indexRule: tatum-kms's ALGO case reads wallets[0].secret and nothing
// else, so the index plays no part; a mnemonic record (which no ALGO
// command writes) is refused.
func (algoKeys) indexRule(rec backend.Record, _ *uint32) error {
	if rec.Kind != backend.PrivateKey {
		return fmt.Errorf("signatureId %s is an ALGO %s wallet, but ALGO signs with private-key wallets only (tatum-kms's ALGO wallets hold a secret): %w",
			rec.ID, rec.Kind, signing.ErrIndexMismatch)
	}
	return nil
}

func (algoKeys) signingKey(rec backend.Record, _ *uint32) (k SigningKey, err error) {
	k.Ed25519, err = wallet.AlgoKeyFromSecret(string(rec.Secret))
	return k, err
}

func (algoKeys) mnemonicKey(rec backend.Record, i uint32) (string, error) {
	return noMnemonicKeys{}.mnemonicKey(rec, i)
}

func (algoKeys) mnemonicAddress(rec backend.Record, i uint32) (string, error) {
	return noMnemonicKeys{}.mnemonicAddress(rec, i)
}

// solKeys: Solana. @tatumio/solana's wallet(): a mnemonic and its index-0
// key, stored together as {mnemonic, address, privateKey}. tatum-kms signs
// with the entry's privateKey whatever the index, and its getaddress prints
// the stored address whatever the index; gokms's getprivatekey gives that
// same key, so the key and address shown are the ones the daemon uses.
type solKeys struct{}

const layoutSolana = "mnemonic,address,privateKey,chain,testnet"

func solWallet(w wallet.SolanaWallet) backend.Record {
	return backend.Record{Kind: backend.Mnemonic, Secret: []byte(w.Mnemonic), ExtraKey: []byte(w.PrivateKey), Address: w.Address, Layout: layoutSolana}
}

func (solKeys) generate(string, bool) (backend.Record, error) {
	w, err := wallet.GenerateSolanaWallet()
	if err != nil {
		return backend.Record{}, err
	}
	return solWallet(w), nil
}

// fromMnemonic derives the wallet of the given words (tatum-kms's
// storemanagedwallet SOL ignores them and stores a new random wallet).
func (solKeys) fromMnemonic(_, m string, _ bool) (backend.Record, error) {
	w, err := wallet.SolanaWalletFromMnemonic(m, 0)
	if err != nil {
		return backend.Record{}, err
	}
	return solWallet(w), nil
}

func (solKeys) keyAddress(_, key string, _ bool) (string, error) {
	w, err := wallet.SolanaWalletFromPrivateKey(key)
	if err != nil {
		return "", err
	}
	return w.Address, nil
}

func (solKeys) newKey(string, bool) (string, string, error) {
	pub, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", "", fmt.Errorf("generate Solana key: %w", err)
	}
	defer clear(k)
	return wallet.EncodeSolanaPrivateKey(k), wallet.SolanaAddress(pub), nil
}

// The wallet's one key: the stored privateKey, else (a mnemonic-only entry)
// index 0 of the mnemonic, which is what wallet() stores beside it.
func (solKeys) mnemonicKey(rec backend.Record, _ uint32) (string, error) {
	if len(rec.ExtraKey) > 0 {
		return string(rec.ExtraKey), nil
	}
	w, err := wallet.SolanaWalletFromMnemonic(string(rec.Secret), 0)
	return w.PrivateKey, err
}

func (s solKeys) mnemonicAddress(rec backend.Record, _ uint32) (string, error) {
	if rec.Address != "" {
		return rec.Address, nil
	}
	if len(rec.ExtraKey) > 0 {
		return s.keyAddress("SOL", string(rec.ExtraKey), rec.Testnet)
	}
	w, err := wallet.SolanaWalletFromMnemonic(string(rec.Secret), 0)
	return w.Address, err
}

// indexRule: a private-key wallet takes no index; a mnemonic wallet signs
// with or without one (see signingKey).
func (solKeys) indexRule(rec backend.Record, index *uint32) error {
	if rec.Kind == backend.PrivateKey && index != nil {
		return pkIndexError(rec, *index)
	}
	return nil
}

// signingKey: without an index the entry's privateKey, as tatum-kms signs
// with it (a mnemonic-only entry: index 0, the key wallet() stores beside
// the mnemonic); with an index the mnemonic's key at m/44'/501'/index'/0',
// the key a signature with an index names (tatum-kms's
// getWalletForSignature asks its SDK for it, which fails for SOL).
// getprivatekey/getaddress show the stored key whatever the index
// (docs/keys.md).
func (solKeys) signingKey(rec backend.Record, index *uint32) (k SigningKey, err error) {
	switch {
	case rec.Kind == backend.PrivateKey:
		k.Ed25519, err = wallet.DecodeSolanaPrivateKey(string(rec.Secret))
	case index != nil:
		k.Ed25519, err = wallet.SolanaKeyFromMnemonic(string(rec.Secret), *index)
	case len(rec.ExtraKey) > 0:
		k.Ed25519, err = wallet.DecodeSolanaPrivateKey(string(rec.ExtraKey))
	default:
		k.Ed25519, err = wallet.SolanaKeyFromMnemonic(string(rec.Secret), 0)
	}
	return k, err
}

// signingAddress: the stored address is the stored key's (index 0's).
func (solKeys) signingAddress(rec backend.Record, index *uint32, k SigningKey) (string, bool) {
	return wallet.SolanaAddress(k.Ed25519.Public().(ed25519.PublicKey)), rec.Kind == backend.PrivateKey || index == nil || *index == 0
}

// egldKeys: MultiversX. The wallet is {mnemonic} alone (no xpub);
// keys are SLIP-10 ed25519 at m/44'/508'/0'/0'/i' (testnet m/44'/1'/…).
type egldKeys struct{}

func (egldKeys) generate(string, bool) (backend.Record, error) {
	m, err := newMnemonic()
	if err != nil {
		return backend.Record{}, err
	}
	return backend.Record{Kind: backend.Mnemonic, Secret: []byte(m), Layout: "mnemonic,chain,testnet"}, nil
}

func (e egldKeys) fromMnemonic(_, m string, _ bool) (backend.Record, error) {
	return backend.Record{Kind: backend.Mnemonic, Secret: []byte(m), Layout: "mnemonic,chain,testnet"}, nil
}

func (egldKeys) keyAddress(_, key string, _ bool) (string, error) {
	return wallet.EGLDAddressFromPrivateKey(key)
}

func (egldKeys) newKey(string, bool) (string, string, error) { return wallet.GenerateEGLDPrivateKey() }

func (egldKeys) mnemonicKey(rec backend.Record, i uint32) (string, error) {
	return wallet.EGLDPrivateKeyFromMnemonic(string(rec.Secret), i, rec.Testnet)
}

// mnemonicAddress: tatum-kms calls generateAddressFromXPub with the
// missing xpub and fails; gokms derives from the mnemonic.
func (egldKeys) mnemonicAddress(rec backend.Record, i uint32) (string, error) {
	return wallet.EGLDAddressFromMnemonic(string(rec.Secret), i, rec.Testnet)
}

func (egldKeys) signingKey(rec backend.Record, index *uint32) (k SigningKey, err error) {
	if rec.Kind == backend.Mnemonic {
		k.Ed25519, err = wallet.EGLDKeyFromMnemonic(string(rec.Secret), at(index), rec.Testnet)
	} else {
		k.Ed25519, err = wallet.EGLDKeyFromPrivateKey(string(rec.Secret))
	}
	return k, err
}

// vetKeys: VeChain, {xpub, mnemonic} at m/44'/818'/0'/0 (testnet
// m/44'/1'/0'/0), keys "0x" + hex, addresses 0x + lower-case hex.
type vetKeys struct{}

func (v vetKeys) generate(code string, testnet bool) (backend.Record, error) {
	m, err := newMnemonic()
	if err != nil {
		return backend.Record{}, err
	}
	return v.fromMnemonic(code, m, testnet)
}

func (vetKeys) fromMnemonic(_, m string, testnet bool) (backend.Record, error) {
	x, err := wallet.VETXpub(m, testnet)
	if err != nil {
		return backend.Record{}, err
	}
	return backend.Record{Kind: backend.Mnemonic, Secret: []byte(m), Xpub: x, Layout: layoutXpubMnemonic}, nil
}

func (vetKeys) keyAddress(_, key string, _ bool) (string, error) {
	k, err := wallet.VETKeyFromPrivateKey(key)
	if err != nil {
		return "", err
	}
	defer k.Zero()
	return wallet.VETAddress(k.PubKey()), nil
}

func (vetKeys) newKey(string, bool) (string, string, error) {
	k, err := btcec.NewPrivateKey()
	if err != nil {
		return "", "", fmt.Errorf("generate VET key: %w", err)
	}
	defer k.Zero()
	b := k.Serialize()
	defer clear(b)
	return "0x" + hex.EncodeToString(b), wallet.VETAddress(k.PubKey()), nil
}

func (vetKeys) mnemonicKey(rec backend.Record, i uint32) (string, error) {
	return wallet.VETPrivateKeyFromMnemonic(string(rec.Secret), i, rec.Testnet)
}

func (vetKeys) mnemonicAddress(rec backend.Record, i uint32) (string, error) {
	if rec.Xpub == "" {
		k, err := wallet.VETKeyFromMnemonic(string(rec.Secret), i, rec.Testnet)
		if err != nil {
			return "", err
		}
		defer k.Zero()
		return wallet.VETAddress(k.PubKey()), nil
	}
	return wallet.VETAddressFromXpub(rec.Xpub, i)
}

// signingKey: mnemonic keys at VET's own path, the ones getprivatekey shows
// (tatum-kms's daemon asks for them with Currency.BNB and fails).
func (vetKeys) signingKey(rec backend.Record, index *uint32) (k SigningKey, err error) {
	if rec.Kind == backend.Mnemonic {
		k.Secp256k1, err = wallet.VETKeyFromMnemonic(string(rec.Secret), at(index), rec.Testnet)
	} else {
		k.Secp256k1, err = wallet.VETKeyFromPrivateKey(string(rec.Secret))
	}
	return k, err
}

// flowKeys: Flow, {mnemonic, xpub} at m/44'/539'/0'/0 on both networks.
// Accounts are created on chain, so the "address" tatum-kms prints is the
// key's uncompressed public key without 04 (128 hex).
type flowKeys struct{}

func (f flowKeys) generate(code string, testnet bool) (backend.Record, error) {
	m, err := newMnemonic()
	if err != nil {
		return backend.Record{}, err
	}
	return f.fromMnemonic(code, m, testnet)
}

func (flowKeys) fromMnemonic(_, m string, _ bool) (backend.Record, error) {
	w, err := wallet.GenerateFlowWalletFromMnemonic(m)
	if err != nil {
		return backend.Record{}, err
	}
	return backend.Record{Kind: backend.Mnemonic, Secret: []byte(w.Mnemonic), Xpub: w.Xpub, Layout: layoutMnemonicXpub}, nil
}

func (flowKeys) keyAddress(_, key string, _ bool) (string, error) {
	k, err := wallet.DecodeFlowPrivateKey(key)
	if err != nil {
		return "", err
	}
	defer k.Zero()
	return wallet.FlowPublicKeyHex(k.PubKey()), nil
}

func (flowKeys) newKey(string, bool) (string, string, error) {
	k, err := btcec.NewPrivateKey()
	if err != nil {
		return "", "", fmt.Errorf("generate Flow key: %w", err)
	}
	defer k.Zero()
	return wallet.EncodeFlowPrivateKey(k), wallet.FlowPublicKeyHex(k.PubKey()), nil
}

func (flowKeys) mnemonicKey(rec backend.Record, i uint32) (string, error) {
	k, err := wallet.FlowKeyFromMnemonic(string(rec.Secret), i)
	if err != nil {
		return "", err
	}
	defer k.Zero()
	return wallet.EncodeFlowPrivateKey(k), nil
}

func (flowKeys) mnemonicAddress(rec backend.Record, i uint32) (string, error) {
	return wallet.FlowPublicKeyFromXpub(rec.Xpub, i)
}

func (flowKeys) signingKey(rec backend.Record, index *uint32) (k SigningKey, err error) {
	if rec.Kind == backend.Mnemonic {
		k.Secp256k1, err = wallet.FlowKeyFromMnemonic(string(rec.Secret), at(index))
	} else {
		k.Secp256k1, err = wallet.DecodeFlowPrivateKey(string(rec.Secret))
	}
	return k, err
}

// adaKeys: Cardano as @tatumio/cardano 2.2.88 makes it: {mnemonic, xpub},
// the xpub of [1852',1815',0',0'] (128 hex), keys its soft children, the
// address the enterprise address Rosetta's construction/derive answers
// (gokms computes it offline).
type adaKeys struct{}

func (a adaKeys) generate(code string, testnet bool) (backend.Record, error) {
	m, err := newMnemonic()
	if err != nil {
		return backend.Record{}, err
	}
	return a.fromMnemonic(code, m, testnet)
}

// printedWallet: generatewallet ADA is @tatumio/tatum v1's
// generateAdaWallet, whose xpub is the 256-hex spend+stake form.
func (adaKeys) printedWallet(string, bool) (backend.Record, error) {
	m, err := newMnemonic()
	if err != nil {
		return backend.Record{}, err
	}
	x, err := wallet.CardanoV1Xpub(m)
	if err != nil {
		return backend.Record{}, err
	}
	return backend.Record{Kind: backend.Mnemonic, Secret: []byte(m), Xpub: x, Layout: layoutMnemonicXpub}, nil
}

func (adaKeys) fromMnemonic(_, m string, _ bool) (backend.Record, error) {
	w, err := wallet.GenerateCardanoWalletFromMnemonic(m)
	if err != nil {
		return backend.Record{}, err
	}
	return backend.Record{Kind: backend.Mnemonic, Secret: []byte(w.Mnemonic), Xpub: w.Xpub, Layout: layoutMnemonicXpub}, nil
}

func (adaKeys) keyAddress(_, key string, testnet bool) (string, error) {
	k, err := wallet.DecodeCardanoPrivateKey(key)
	if err != nil {
		return "", err
	}
	defer k.Wipe()
	return wallet.CardanoEnterpriseAddress(k.PublicKey(), testnet)
}

// newKey is what tatum-kms's batch stores: index 1 of a fresh wallet (an
// extended key must come from a derivation to be a valid BIP32-Ed25519 key).
func (adaKeys) newKey(_ string, testnet bool) (string, string, error) {
	m, err := newMnemonic()
	if err != nil {
		return "", "", err
	}
	k, err := wallet.CardanoKeyFromMnemonic(m, 1)
	if err != nil {
		return "", "", err
	}
	defer k.Wipe()
	addr, err := wallet.CardanoEnterpriseAddress(k.PublicKey(), testnet)
	return k.Hex(), addr, err
}

func (adaKeys) mnemonicKey(rec backend.Record, i uint32) (string, error) {
	k, err := wallet.CardanoKeyFromMnemonic(string(rec.Secret), i)
	if err != nil {
		return "", err
	}
	defer k.Wipe()
	return k.Hex(), nil
}

// mnemonicAddress: from the 128-hex xpub tatum-kms 8.0.1 writes; a wallet of
// @tatumio/tatum v1 (256 hex: spend and stake keys of m/1852'/1815'/0')
// gets the address of the key getprivatekey gives and the daemon signs
// with, derived from the mnemonic (see docs/keys.md).
func (adaKeys) mnemonicAddress(rec backend.Record, i uint32) (string, error) {
	var pub []byte
	if len(rec.Xpub) == 128 {
		p, err := wallet.CardanoPublicKeyFromXpub(rec.Xpub, i)
		if err != nil {
			return "", err
		}
		pub = p
	} else {
		k, err := wallet.CardanoKeyFromMnemonic(string(rec.Secret), i)
		if err != nil {
			return "", err
		}
		pub = k.PublicKey()
		k.Wipe()
	}
	return wallet.CardanoEnterpriseAddress(pub, rec.Testnet)
}

func (adaKeys) signingKey(rec backend.Record, index *uint32) (k SigningKey, err error) {
	if rec.Kind == backend.Mnemonic {
		k.Cardano, err = wallet.CardanoKeyFromMnemonic(string(rec.Secret), at(index))
	} else {
		k.Cardano, err = wallet.DecodeCardanoPrivateKey(string(rec.Secret))
	}
	return k, err
}
