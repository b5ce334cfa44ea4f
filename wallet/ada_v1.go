package wallet

import "encoding/hex"

// CardanoV1Xpub is @tatumio/tatum 1.37's generateAdaWallet xpub, which
// tatum-kms 8.0.1's generatewallet ADA prints (cardano-crypto.js, scheme 2,
// ADA_DERIVATION_PATH m/1852'/1815'/0'): the public key and chain code of
// the account's child 0 (spend) followed by those of 2/0 (stake), 256 hex.
// It is not the xpub tatum-kms stores for generatemanagedwallet ADA
// (@tatumio/cardano's [1852',1815',0',0'], GenerateCardanoWalletFromMnemonic).
func CardanoV1Xpub(mnemonic string) (string, error) {
	x, err := CardanoRootKey(mnemonic)
	if err != nil {
		return "", err
	}
	for _, i := range []uint32{hardened + 1852, hardened + 1815, hardened} {
		c := x.Derive(i)
		x.Wipe()
		x = c
	}
	defer x.Wipe()
	spend := x.Derive(0)
	defer spend.Wipe()
	role := x.Derive(2)
	defer role.Wipe()
	stake := role.Derive(0)
	defer stake.Wipe()
	return hex.EncodeToString(spend.Public()) + hex.EncodeToString(stake.Public()), nil
}
