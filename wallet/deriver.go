package wallet

import (
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil/hdkeychain"
)

// Deriver holds one mnemonic's account-level extended key for one chain and
// network, so that keys and addresses for index after index cost one BIP32
// child derivation each instead of BIP39's 2048 PBKDF2-HMAC-SHA512 rounds
// plus four derivations. It gives the same keys as DeriveKey and the same
// addresses as AddressFromXpub with its Xpub.
//
// A Deriver is safe for concurrent use, except Zero, which must not run
// concurrently with anything else.
type Deriver struct {
	chain   Chain
	testnet bool
	ns      netSpec
	fam     family
	acct    *hdkeychain.ExtendedKey // private, at DerivationPath
	pub     *hdkeychain.ExtendedKey // public, serialized with the chain's version
	xpub    string
}

// NewDeriver derives the account key of mnemonic for the chain. Like
// PrivateKeyFromMnemonic it does not validate the mnemonic's words.
func NewDeriver(c Chain, mnemonic string, testnet bool) (*Deriver, error) {
	ns, fam, err := c.spec(testnet)
	if err != nil {
		return nil, err
	}
	acct, err := accountFromMnemonic(mnemonic, ns)
	if err != nil {
		return nil, err
	}
	// neuter computes the account public key, which hdkeychain memoizes in
	// acct; after that, acct.Derive only reads acct, so concurrent calls
	// do not race.
	pub, err := neuter(acct, ns.xpubID)
	if err != nil {
		acct.Zero()
		return nil, err
	}
	return &Deriver{chain: c, testnet: testnet, ns: ns, fam: fam, acct: acct, pub: pub, xpub: pub.String()}, nil
}

// Chain returns the Deriver's chain.
func (d *Deriver) Chain() Chain { return d.chain }

// Testnet reports whether the Deriver is for testnet.
func (d *Deriver) Testnet() bool { return d.testnet }

// Xpub returns the wallet's xpub, as WalletFromMnemonic.
func (d *Deriver) Xpub() string { return d.xpub }

// Key returns the private key at index.
func (d *Deriver) Key(index uint32) (*btcec.PrivateKey, error) {
	if err := checkIndex(index); err != nil {
		return nil, err
	}
	return childKey(d.acct, index)
}

// PrivateKey returns the private key at index in the chain's encoding, as
// PrivateKeyFromMnemonic.
func (d *Deriver) PrivateKey(index uint32) (string, error) {
	k, err := d.Key(index)
	if err != nil {
		return "", err
	}
	defer k.Zero()
	return encodePrivateKey(d.fam, d.ns, k)
}

// Address returns the address at index, as AddressFromXpub.
func (d *Deriver) Address(index uint32) (string, error) {
	if err := checkIndex(index); err != nil {
		return "", err
	}
	return addressAt(d.pub, index, d.ns)
}

// Zero wipes the account key. The Deriver is unusable afterwards.
func (d *Deriver) Zero() {
	if d.acct != nil {
		d.acct.Zero()
	}
}
