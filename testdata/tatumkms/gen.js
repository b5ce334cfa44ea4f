#!/usr/bin/env node
// Makes the tatum-kms wallet.dat fixtures that gokms's Go tests read, with
// the real crypto-js 4.2.0 (the version tatum-kms 8.0.1 pins), writing the
// files exactly as tatum-kms's src/management.ts does:
//
//   writeFileSync(path, AES.encrypt(JSON.stringify(walletData), pwd).toString())
//   walletData = { ...newEntry, ...JSON.parse(AES.decrypt(data, pwd).toString(CryptoJS.enc.Utf8)) }
//
// and reads them back as its `export` command does:
//
//   console.log(JSON.stringify(JSON.parse(AES.decrypt(data, pwd).toString(CryptoJS.enc.Utf8)), null, 2))
//
// Usage (from this directory; CI never needs it, the outputs are committed):
//   npm ci
//   node gen.js          regenerate every fixture (new random salts) and manifest.json
//   node gen.js extra    (re)write only extra-fields.dat
//   node gen.js verify   decrypt gokms-export.dat (written by gokms's Go test
//                        `go test ./backend/file/tatumkms -run TestWriteExportFixture -update`)
//                        with crypto-js the way tatum-kms does, and record the
//                        result in gokms-export.crypto-js.json
//
// Every secret here is a published test vector, derived from a counter or made up:
// none of them guards funds.
'use strict'

const fs = require('fs')
const path = require('path')
const crypto = require('crypto')
const CryptoJS = require('crypto-js')
const { AES } = CryptoJS

const dir = __dirname
const out = name => path.join(dir, name)
const sha256 = s => crypto.createHash('sha256').update(s).digest('hex')

// Passwords of the fixtures (test data only).
const PASSWORDS = {
  small: 'tatum-kms fixture password',
  single: 'single-entry password',
  empty: 'empty wallet password',
  large: 'large wallet password',
  unicode: 'pässwörd 🔑 with spaces',
}

// --- tatum-kms's own write path, line for line --------------------------

// storeEntry is the body of tatum-kms's storeWallet/storePrivateKey once the
// entry is built: new entry first, then everything already in the file.
function storeEntry(file, pwd, key, value) {
  const entry = { [key]: value }
  if (!fs.existsSync(file)) {
    fs.writeFileSync(file, AES.encrypt(JSON.stringify(entry), pwd).toString())
  } else {
    const data = fs.readFileSync(file, { encoding: 'utf8' })
    let walletData = entry
    if (data?.length > 0) {
      walletData = { ...walletData, ...JSON.parse(AES.decrypt(data, pwd).toString(CryptoJS.enc.Utf8)) }
    }
    fs.writeFileSync(file, AES.encrypt(JSON.stringify(walletData), pwd).toString())
  }
}

// removeWallet, as tatum-kms does it (used to make the empty wallet: a store
// whose last entry was removed holds the encryption of "{}").
function removeEntry(file, pwd, id) {
  const data = fs.readFileSync(file, { encoding: 'utf8' })
  const wallet = JSON.parse(AES.decrypt(data, pwd).toString(CryptoJS.enc.Utf8))
  delete wallet[id]
  fs.writeFileSync(file, AES.encrypt(JSON.stringify(wallet), pwd).toString())
}

// exportOutput is what `tatum-kms export` prints (console.log adds "\n").
function exportOutput(file, pwd) {
  const data = fs.readFileSync(file, { encoding: 'utf8' })
  return JSON.stringify(JSON.parse(AES.decrypt(data, pwd).toString(CryptoJS.enc.Utf8)), null, 2) + '\n'
}

// whatTatumKmsSays runs tatum-kms's read path with a (wrong) password and
// reports how it fails: crypto-js does not check PKCS#7 padding, so a wrong
// password usually surfaces as "Malformed UTF-8 data" (tatum-kms issue #48)
// or a JSON.parse error.
function whatTatumKmsSays(file, pwd) {
  try {
    const data = fs.readFileSync(file, { encoding: 'utf8' })
    const parsed = JSON.parse(AES.decrypt(data, pwd).toString(CryptoJS.enc.Utf8))
    return { ok: true, entries: Object.keys(parsed).length }
  } catch (e) {
    return { ok: false, error: String(e.message) }
  }
}

// paddingLooksValid decrypts without unpadding and tells whether the last
// block ends in valid PKCS#7 padding (as a wrong password does ~1/256 of the time).
function paddingLooksValid(file, pwd) {
  const data = fs.readFileSync(file, { encoding: 'utf8' })
  const plain = AES.decrypt(data, pwd, { padding: CryptoJS.pad.NoPadding })
  const hex = plain.toString(CryptoJS.enc.Hex)
  const bytes = Buffer.from(hex, 'hex')
  const n = bytes[bytes.length - 1]
  if (n < 1 || n > 16) return false
  for (let i = bytes.length - n; i < bytes.length; i++) if (bytes[i] !== n) return false
  return true
}

// --- fixture contents ----------------------------------------------------

// BIP39 test vectors (English, and the Japanese all-zero vector whose words
// are separated by U+3000 IDEOGRAPHIC SPACE) and the BIP44 xpubs gokms's
// own wallet code derives for them (m/44'/0'/0'/0, m/44'/1'/0'/0, m/44'/60'/0'/0).
const ABANDON = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about'
const LEGAL = 'legal winner thank year wave sausage worth useful legal winner thank yellow'
const LETTER = 'letter advice cage absurd amount doctor acoustic avoid letter advice cage above'
const ZOO = 'zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo wrong'
const JAPANESE = 'あいこくしん　あいこくしん　あいこくしん　あいこくしん　あいこくしん　あいこくしん　あいこくしん　あいこくしん　あいこくしん　あいこくしん　あいこくしん　あおぞら'
const XPUB = {
  abandonBtcMain: 'xpub6ELHKXNimKbxMCytPh7EdC2QXx46T9qLDJWGnTraz1H9kMMFdcduoU69wh9cxP12wDxqAAfbaESWGYt5rREsX1J8iR2TEunvzvddduAPYcY',
  legalBtcTest: 'tpubDE3PrZWUdx2TpjAbne1daiVgX3yXGbMGEpYWCkcp2SCUGRuoj7MC65ghKfsoWirN58UP8iBVZRRycWmFTrtkrAkeVHQ6YZZktgdFY1txmMh',
  letterEth: 'xpub6Exk3ZUx6ZE2S1KwpEdAkCNypoSq3xKhRtTZSMsj3os5Y6NtFkuJ7CWdUgFhZrTrV6Uz7MVrXETXw5zJQQsSQwpRFGrSwzVVEEN19DhY6Pm',
  zooEth: 'xpub6DpGgjZLMYcMEq4afyVaRdAkvfTYQ7y86keUTEkMFcbrJM5hzyMCaxLe2VvR28TJTTvbodUHsnHSkGdjJq4N5upHzRqrshTLQqi72MegHq7',
  abandonEth: 'xpub6EF8jXqFeFEW5bwMU7RpQtHkzE4KJxcqJtvkCjJumzW8CPpacXkb92ek4WzLQXjL93HycJwTPUAcuNxCqFPKKU5m5Z2Vq4nCyh5CyPeBFFr',
}

// The small wallet, in the order the entries were stored (oldest first), each
// shaped as tatum-kms builds it: generatemanagedwallet -> { ...wallet, chain,
// testnet } where wallet is {mnemonic, xpub} for BIP44 chains and {address,
// secret} for XRP/XLM/ALGO; storemanagedprivatekey -> { privateKey, chain, testnet }.
const SMALL = [
  ['8f5f2e53-0b0e-4c6d-9d8e-2b6f9d2a6c11', { mnemonic: ABANDON, xpub: XPUB.abandonBtcMain, chain: 'BTC', testnet: false }],
  ['0b6a9c1e-55d4-4f0e-8a77-3f0e1c2d4b5a', { mnemonic: LEGAL, xpub: XPUB.legalBtcTest, chain: 'BTC', testnet: true }],
  ['26d3883e-4e17-48b3-a0ee-09a3e484ac83', { privateKey: 'cTpB4YiyKiBcPxnefsDpbnDxFDffjqJob8wGCEDXxgQ7zQoMXJdH', chain: 'BTC', testnet: true }],
  ['c2d7b8e4-1f3a-4e6b-9c0d-7a8b9c0d1e2f', { mnemonic: LETTER, xpub: XPUB.letterEth, chain: 'ETH', testnet: false }],
  ['5e1c7f0a-2b3d-4c5e-8f9a-0b1c2d3e4f50', { mnemonic: ZOO, xpub: XPUB.zooEth, chain: 'ETH', testnet: true }],
  ['a1b2c3d4-e5f6-4789-8abc-def012345678', { privateKey: '0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318', chain: 'ETH', testnet: false }],
  ['f0e1d2c3-b4a5-4968-8776-655443322110', { privateKey: '0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318', chain: 'BSC', testnet: true }],
  ['3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f', { address: 'rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTh', secret: 'snoPBrXtMeMyMHUVTgbuqAfg1SUTb', chain: 'XRP', testnet: true }],
  ['7d8e9f0a-1b2c-4d3e-9f4a-5b6c7d8e9f0a', { address: 'GCFXHS4GXL6BVUCXBWXGTITROWLVYXQKQLF4YH5O5JT3YZXCYPAFBJZB', secret: 'SCZANGBA5YHTNYVVV4C3U252E2B6P6F5T3U6MM63WBSBZATAQI3EBTQ4', chain: 'XLM', testnet: false }],
  ['9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d', { mnemonic: JAPANESE, xpub: XPUB.abandonEth, chain: 'TRON', testnet: false }],
  ['1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b', { privateKey: 'T6gfhhgMuBmqYJVhKDGcZLMZoEpSWRjg4RXxGGR1GbKtQ7VJHm2V', chain: 'LTC', testnet: false }],
  ['b0c1d2e3-f4a5-4b6c-9d7e-8f90a1b2c3d4', { address: 'NVBKTMYVWFPJ3VCVVPVKTGI4K3YSEKX2LUZFZMKOGQNQOPP2OGHH6FV6DY', secret: 'gravity sweet shine swarm erupt reduce notable mad purchase harbor silly motion desk vapor canoe joy cliff wash absent coin cable dice advice above fiber', chain: 'ALGO', testnet: true }],
]

function makeSmall() {
  const file = out('small.dat')
  fs.rmSync(file, { force: true })
  for (const [id, value] of SMALL) storeEntry(file, PASSWORDS.small, id, value)
}

function makeSingle() {
  const file = out('single.dat')
  fs.rmSync(file, { force: true })
  storeEntry(file, PASSWORDS.single, '26d3883e-4e17-48b3-a0ee-09a3e484ac83', {
    privateKey: 'cTpB4YiyKiBcPxnefsDpbnDxFDffjqJob8wGCEDXxgQ7zQoMXJdH',
    chain: 'BTC',
    testnet: true,
  })
}

function makeUnicode() {
  // A password outside ASCII: crypto-js turns string passwords into UTF-8 bytes.
  const file = out('unicode-password.dat')
  fs.rmSync(file, { force: true })
  storeEntry(file, PASSWORDS.unicode, 'e3b0c442-98fc-4c14-9afb-f4c8996fb924', { mnemonic: ABANDON, xpub: XPUB.abandonBtcMain, chain: 'BTC', testnet: false })
}

function makeEmpty() {
  // "Empty" as tatum-kms leaves it: one entry stored, then removed.
  const file = out('empty.dat')
  fs.rmSync(file, { force: true })
  storeEntry(file, PASSWORDS.empty, 'deadbeef-0000-4000-8000-000000000000', { privateKey: '0x01', chain: 'ETH', testnet: true })
  removeEntry(file, PASSWORDS.empty, 'deadbeef-0000-4000-8000-000000000000')
  // A zero-length file, which tatum-kms treats as "no wallets".
  fs.writeFileSync(out('empty-file.dat'), '')
}

// LARGE_CHAINS: chains the large wallet spreads over, with how entries of that chain look.
const LARGE_CHAINS = ['BTC', 'ETH', 'LTC', 'DOGE', 'BSC', 'MATIC', 'CELO', 'TRON', 'XRP', 'XLM', 'SOL', 'ADA']
const MNEMONICS = [ABANDON, LEGAL, LETTER, ZOO]

function uuidFrom(i) {
  const h = sha256('gokms large fixture id ' + i)
  // version 4 / variant 1 bits, like uuid v4 (what tatum-kms uses).
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${'89ab'[parseInt(h[16], 16) % 4]}${h.slice(17, 20)}-${h.slice(20, 32)}`
}

function largeEntry(i) {
  const chain = LARGE_CHAINS[i % LARGE_CHAINS.length]
  const testnet = Math.floor(i / LARGE_CHAINS.length) % 2 === 1
  const k = sha256('gokms large fixture key ' + i)
  if (chain === 'XRP' || chain === 'XLM') {
    return { address: 'addr' + k.slice(0, 30), secret: 's' + k.slice(0, 28), chain, testnet }
  }
  if (i % 10 === 0) {
    return { mnemonic: MNEMONICS[(i / 10) % MNEMONICS.length], xpub: 'xpub' + k, chain, testnet }
  }
  return { privateKey: '0x' + k, chain, testnet }
}

const LARGE_COUNT = 5000

function makeLarge() {
  // Storing 5,000 entries one at a time through storeEntry would decrypt and
  // re-encrypt the growing file 5,000 times; build the same object (newest
  // first, as storeEntry's spread order leaves it) and encrypt it once.
  const wallets = {}
  for (let i = LARGE_COUNT - 1; i >= 0; i--) wallets[uuidFrom(i)] = largeEntry(i)
  fs.writeFileSync(out('large.dat'), AES.encrypt(JSON.stringify(wallets), PASSWORDS.large).toString())
}

function describe(file, pwd) {
  const data = fs.readFileSync(file, { encoding: 'utf8' })
  if (data.length === 0) return { bytes: 0, entries: 0 }
  const plain = AES.decrypt(data, pwd).toString(CryptoJS.enc.Utf8)
  const parsed = JSON.parse(plain)
  const perChain = {}
  for (const id of Object.keys(parsed)) {
    const w = parsed[id]
    const key = `${w.chain}/${w.testnet ? 'testnet' : 'mainnet'}`
    perChain[key] = (perChain[key] || 0) + 1
  }
  return {
    bytes: data.length,
    fileSha256: sha256(data),
    plaintextSha256: sha256(plain),
    entries: Object.keys(parsed).length,
    perChain,
    order: Object.keys(parsed).length <= 20 ? Object.keys(parsed) : undefined,
  }
}

// findWrongPasswords returns wrong passwords for file: one that fails the
// usual way and one whose decryption happens to end in valid PKCS#7 padding,
// so only the UTF-8/JSON check can reject it.
function findWrongPasswords(file) {
  const cases = [{ password: 'not the password', paddingValid: paddingLooksValid(file, 'not the password') }]
  cases[0].tatumKms = whatTatumKmsSays(file, cases[0].password)
  for (let i = 0; i < 100000; i++) {
    const pwd = 'wrong-' + i
    if (paddingLooksValid(file, pwd)) {
      cases.push({ password: pwd, paddingValid: true, tatumKms: whatTatumKmsSays(file, pwd) })
      break
    }
  }
  return cases
}

function generate() {
  makeSmall()
  makeSingle()
  makeUnicode()
  makeEmpty()
  makeLarge()
  fs.writeFileSync(out('small.json'), JSON.stringify(JSON.parse(AES.decrypt(fs.readFileSync(out('small.dat'), 'utf8'), PASSWORDS.small).toString(CryptoJS.enc.Utf8)), null, 2) + '\n')
  fs.writeFileSync(out('small.export.txt'), exportOutput(out('small.dat'), PASSWORDS.small))
  fs.writeFileSync(out('single.export.txt'), exportOutput(out('single.dat'), PASSWORDS.single))
  fs.writeFileSync(out('empty.export.txt'), exportOutput(out('empty.dat'), PASSWORDS.empty))
  const manifest = {
    generator: 'gen.js with crypto-js ' + require('crypto-js/package.json').version + ', node ' + process.version,
    fixtures: {
      'small.dat': { password: PASSWORDS.small, ...describe(out('small.dat'), PASSWORDS.small), wrongPasswords: findWrongPasswords(out('small.dat')) },
      'single.dat': { password: PASSWORDS.single, ...describe(out('single.dat'), PASSWORDS.single), wrongPasswords: findWrongPasswords(out('single.dat')) },
      'unicode-password.dat': { password: PASSWORDS.unicode, ...describe(out('unicode-password.dat'), PASSWORDS.unicode), wrongPasswords: findWrongPasswords(out('unicode-password.dat')) },
      'empty.dat': { password: PASSWORDS.empty, ...describe(out('empty.dat'), PASSWORDS.empty), wrongPasswords: findWrongPasswords(out('empty.dat')) },
      'empty-file.dat': { password: PASSWORDS.empty, bytes: 0, entries: 0 },
      'large.dat': { password: PASSWORDS.large, ...describe(out('large.dat'), PASSWORDS.large) },
    },
  }
  fs.writeFileSync(out('manifest.json'), JSON.stringify(manifest, null, 2) + '\n')
  console.log('wrote fixtures:', Object.keys(manifest.fixtures).join(', '))
}

// verify decrypts the file gokms exported the way tatum-kms reads its store,
// and records what came out together with the file's hash (so the Go test
// knows the record belongs to the committed file).
function verify() {
  const file = out('gokms-export.dat')
  const pwd = fs.readFileSync(out('gokms-export.password'), 'utf8')
  const data = fs.readFileSync(file, { encoding: 'utf8' })
  const wallets = JSON.parse(AES.decrypt(data, pwd).toString(CryptoJS.enc.Utf8))
  const result = {
    verifiedWith: 'crypto-js ' + require('crypto-js/package.json').version + ', node ' + process.version,
    fileSha256: sha256(data),
    entries: Object.keys(wallets).length,
    exportOutput: JSON.stringify(wallets, null, 2) + '\n',
    wallets,
  }
  fs.writeFileSync(out('gokms-export.crypto-js.json'), JSON.stringify(result, null, 2) + '\n')
  console.log(`crypto-js decrypted gokms-export.dat: ${result.entries} entries`)
}

// extra writes extra-fields.dat (and its manifest entry) without touching
// the other fixtures: a SOL wallet as tatum-kms stores it ({address,
// privateKey}), and an entry an operator annotated by hand with fields
// tatum-kms ignores (gokms warns that it does not keep them).
function extra() {
  const file = out('extra-fields.dat')
  const pwd = 'extra fields password'
  fs.rmSync(file, { force: true })
  storeEntry(file, pwd, '4a5b6c7d-8e9f-4a0b-9c1d-2e3f4a5b6c7d', { address: 'HN7cABqLq46Es1jh92dQQisAq662SmxELLLsHHe4YWrH', privateKey: '4wBqpZM9xaSheZzJSMawUHDgZ7miWfSsxmfVF5jJpYP2zRN6oXAmQK7Dx1pRk2yCdjk3NRbYDvAKFG9qjWnP3sNT', chain: 'SOL', testnet: false })
  storeEntry(file, pwd, '5b6c7d8e-9f0a-4b1c-8d2e-3f4a5b6c7d8e', { privateKey: '0x8da4ef21b864d2cc526dbdb2a120bd2874c36c9d0a1fb7f8c63d7f7a8b41de8f', chain: 'ETH', testnet: true, label: 'cold storage', index: 0 })
  const manifest = JSON.parse(fs.readFileSync(out('manifest.json'), 'utf8'))
  manifest.fixtures['extra-fields.dat'] = { password: pwd, ...describe(file, pwd) }
  fs.writeFileSync(out('manifest.json'), JSON.stringify(manifest, null, 2) + '\n')
  console.log('wrote extra-fields.dat')
}

if (process.argv[2] === 'verify') verify()
else if (process.argv[2] === 'extra') extra()
else {
  generate()
  extra()
}
