// Adds the wallets of the three chains whose SDKs the tatum-kms build stubs
// (KCS: @tatumio/tatum-kcs, ADA: @tatumio/cardano, XLM: @tatumio/xlm; not on
// the npm registry here) to wallet.dat exactly as tatum-kms's storeWallet
// does: { [uuid()]: { ...wallet, chain, testnet }, ...existing }, then
// CryptoJS.AES.encrypt(JSON.stringify(all), password).toString(). Each
// wallet has the shape of that SDK's generateWallet, made with the
// @tatumio/tatum v1 functions of the same shape in the build:
//   XLM: generateXlmWallet            -> {address, secret}   (Keypair.random, stellar-sdk)
//   ADA: generateAdaWallet(mnemonic)  -> {mnemonic, xpub}    (cardano-crypto.js)
//   KCS: the EVM SDKs' {xpub, mnemonic}; the xpub is m/44'/60'/0'/0 (generateEthWallet),
//        the path tatum-kcs uses for KCS.
// Usage: node add-sdk-wallets.js <tatum-kms src dir> <wallet.dat> (password in TATUM_KMS_PASSWORD)
const path = require('path')
const fs = require('fs')
const src = process.argv[2]
const file = process.argv[3]
const req = (m) => require(path.join(src, 'node_modules', m))
const CryptoJS = req('crypto-js')
const { v4: uuid } = req('uuid')
const bip39 = req('bip39')
const tatum = req('@tatumio/tatum')
const pwd = process.env.TATUM_KMS_PASSWORD

const store = async (make, chain, testnet) => {
  const wallet = await make(testnet)
  const entry = { [uuid()]: { ...wallet, chain, testnet } }
  const data = fs.readFileSync(file, { encoding: 'utf8' })
  const all = { ...entry, ...JSON.parse(CryptoJS.AES.decrypt(data, pwd).toString(CryptoJS.enc.Utf8)) }
  fs.writeFileSync(file, CryptoJS.AES.encrypt(JSON.stringify(all), pwd).toString())
}

;(async () => {
  for (const testnet of [false, true]) {
    await store(async () => tatum.generateXlmWallet(), 'XLM', testnet)
    await store(async () => tatum.generateAdaWallet(bip39.generateMnemonic(256)), 'ADA', testnet)
    await store(async (t) => tatum.generateEthWallet(t, bip39.generateMnemonic(256)), 'KCS', testnet)
  }
})().catch((e) => {
  console.error(e)
  process.exit(1)
})
