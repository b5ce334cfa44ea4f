#!/usr/bin/env node
// Writes ../tatum-vectors.json: what the Tatum SDKs that tatum-kms 8.0.1 calls
// return for fixed mnemonics, per chain, mainnet and testnet. The Go tests in
// wallet/ check every value. CI never runs this; the JSON is committed.
//
//   cd testdata/wallet/gen && npm install --ignore-scripts && node gen.js
//
// Which SDK function produces which value mirrors tatum-kms 8.0.1
// (src/management.ts, src/signatures.ts):
//   xpub (generatemanagedwallet/storemanagedwallet): generatePureWallet():
//        CELO -> @tatumio/celo generateWallet(mnemonic, {testnet})
//        TRON -> @tatumio/tron generateWallet(mnemonic)
//        KCS  -> @tatumio/tatum-kcs (not on the registry, see KCS below)
//        else -> @tatumio/tatum generateWallet(chain, testnet, mnemonic)
//   xpub (generatewallet): @tatumio/tatum generateWallet for every chain
//   address (getaddress, generatemanagedprivatekeybatch): @tatumio/tatum generateAddressFromXPub
//   private key (getprivatekey, daemon signing): @tatumio/tatum generatePrivateKeyFromMnemonic
//        (KCS signing: @tatumio/tatum-kcs generatePrivateKeyFromMnemonic)
//   address from private key: @tatumio/tatum generateAddressFromPrivatekey (not used by
//        tatum-kms itself; recorded because gokms offers the same function)
//
// KCS: @tatumio/tatum-kcs is not served by the registry. Tatum's v2 SDKs derive every
// EVM chain through @tatumio/shared-blockchain-evm-based evmBasedUtils with the path
// table in @tatumio/shared-core (KCS: m/44'/60'/0'/0, testnet m/44'/1'/0'/0, the same
// table docs.tatum.io "Mnemonic Derivation Path" publishes). The KCS vectors come
// from those shared functions, called with blockchain 'KCS'.
'use strict'
const fs = require('fs')
const path = require('path')
const bip39 = require('bip39')

// Two copies of the v1 SDK do not load into one process (bitcore-lib guards against
// it), so the cross-check against 1.37.33 (what tools/tatum-kms builds with) runs the
// same code in a child process: `node gen.js --child tatum-v1-33` prints its vectors.
const CHILD = process.argv[2] === '--child'
const V1_MODULE = CHILD ? process.argv[3] : '@tatumio/tatum'
const v1 = require(V1_MODULE)
const { TatumCeloSDK } = require('@tatumio/celo')
const { TatumTronSDK } = require('@tatumio/tron')
const { evmBasedUtils } = require('@tatumio/shared-blockchain-evm-based')
const { HarmonyAddress } = require('@harmony-js/crypto')

const celo = TatumCeloSDK({ apiKey: '' })
const tron = TatumTronSDK({ apiKey: '' })

const CHAINS = ['BTC', 'LTC', 'DOGE', 'BCH', 'ETH', 'BSC', 'MATIC', 'CELO', 'KLAY', 'ONE', 'XDC', 'KCS', 'TRON']
const INDICES = [0, 1, 2, 7, 2147483647]

const MNEMONICS = [
  // BIP39: 256 bits of zero entropy (24 words)
  bip39.entropyToMnemonic('00'.repeat(32)),
  // Trezor vectors.json english #8 (24 words)
  'legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth title',
  // fixed entropy sha256("gokms wallet vectors") (24 words), an ordinary-looking mnemonic
  bip39.entropyToMnemonic(require('crypto').createHash('sha256').update('gokms wallet vectors').digest('hex')),
  // 12 words: tatum-kms storemanagedwallet accepts any mnemonic length
  bip39.entropyToMnemonic('00'.repeat(16)),
]

async function run(fn) {
  try {
    return { value: await fn() }
  } catch (e) {
    return { error: String(e && e.message ? e.message : e) }
  }
}

// tatum-kms generatePureWallet
async function managedWallet(sdk, chain, testnet, mnemonic) {
  if (chain === 'CELO') return celo.wallet.generateWallet(mnemonic, { testnet })
  if (chain === 'TRON') return tron.wallet.generateWallet(mnemonic)
  if (chain === 'KCS') return evmBasedUtils.generateBlockchainWallet('KCS', mnemonic, { testnet })
  return sdk.generateWallet(chain, testnet, mnemonic)
}

async function privateKey(sdk, chain, testnet, mnemonic, i) {
  if (chain === 'KCS') return evmBasedUtils.generatePrivateKeyFromMnemonic('KCS', mnemonic, i, { testnet })
  return sdk.generatePrivateKeyFromMnemonic(chain, testnet, mnemonic, i)
}

async function addressFromXpub(sdk, chain, testnet, xpub, i) {
  if (chain === 'KCS') return evmBasedUtils.generateAddressFromXPub(xpub, i)
  return sdk.generateAddressFromXPub(chain, testnet, xpub, i)
}

async function addressFromPrivateKey(sdk, chain, testnet, pk) {
  if (chain === 'KCS') return evmBasedUtils.generateAddressFromPrivateKey('KCS', pk)
  return sdk.generateAddressFromPrivatekey(chain, testnet, pk)
}

// Every value once per SDK version; the two must agree.
async function vectorFor(sdk, mnemonic, chain, testnet) {
  const w = await managedWallet(sdk, chain, testnet, mnemonic)
  const gw = await run(() => sdk.generateWallet(chain, testnet, mnemonic))
  const v = {
    chain,
    testnet,
    mnemonic,
    xpub: w.xpub,
    generateWalletXpub: gw.value ? gw.value.xpub : null,
    generateWalletError: gw.error || null,
    addresses: {},
    privateKeys: {},
    addressFromPrivateKey: {},
    addressFromPrivateKeyError: null,
  }
  for (const i of INDICES) {
    const a = await run(() => addressFromXpub(sdk, chain, testnet, w.xpub, i))
    if (a.error) throw new Error(`${chain} ${testnet} address ${i}: ${a.error}`)
    v.addresses[i] = a.value
    const pk = await run(() => privateKey(sdk, chain, testnet, mnemonic, i))
    if (pk.error) throw new Error(`${chain} ${testnet} private key ${i}: ${pk.error}`)
    v.privateKeys[i] = pk.value
    const ap = await run(() => addressFromPrivateKey(sdk, chain, testnet, pk.value))
    if (ap.error) {
      v.addressFromPrivateKeyError = ap.error
      v.addressFromPrivateKey[i] = null
    } else {
      v.addressFromPrivateKey[i] = ap.value
    }
  }
  if (chain === 'TRON') {
    // generateAddressFromXPub(TRON) also takes a 130-hex "xpub": compressed pubkey || chain code.
    const node = require('bip32').fromBase58(w.xpub)
    const hexXpub = node.publicKey.toString('hex') + node.chainCode.toString('hex')
    v.hexXpub = hexXpub
    v.hexXpubAddresses = {}
    for (const i of INDICES) v.hexXpubAddresses[i] = await addressFromXpub(sdk, chain, testnet, hexXpub, i)
  }
  if (chain === 'ONE') {
    // For the record: the SDK's ONE address is basicHex (0x...), not the one1 bech32 form.
    v.oneBech32 = {}
    for (const i of INDICES) v.oneBech32[i] = new HarmonyAddress(v.addresses[i]).bech32
  }
  return v
}

// tatum-kms generatemanagedprivatekeybatch: a fresh wallet, its private key and its
// xpub address at index 1.
async function batchSample(chain, testnet) {
  const mnemonic = bip39.generateMnemonic(256)
  const w = await managedWallet(v1, chain, testnet, mnemonic)
  const address = await addressFromXpub(v1, chain, testnet, w.xpub, 1)
  const pk = await privateKey(v1, chain, testnet, mnemonic, 1)
  return { chain, testnet, privateKey: pk, address }
}

// How the SDK treats an extended key that is not the chain's own xpub: the xpub of
// the other network, a tpub where an xpub is expected, or an extended PRIVATE key.
async function otherKeys() {
  const out = []
  const m = MNEMONICS[0]
  const seed = await bip39.mnemonicToSeed(m)
  const bip32 = require('bip32')
  const btcTestXpub = (await v1.generateWallet('BTC', true, m)).xpub // tpub...
  for (const chain of CHAINS) {
    for (const testnet of [false, true]) {
      const own = (await managedWallet(v1, chain, testnet, m)).xpub
      const other = (await managedWallet(v1, chain, !testnet, m)).xpub
      const cases = []
      if (own !== other) cases.push(['xpub of the other network', other])
      if (!own.startsWith('tpub') && !other.startsWith('tpub')) cases.push(['tpub', btcTestXpub])
      // the account-level extended private key (bitcoin mainnet serialization, xprv...)
      const xprv = bip32.fromSeed(seed).derivePath(v1tatumPath(chain, testnet)).toBase58()
      if (own.startsWith('xpub')) cases.push(['xprv (extended private key)', xprv])
      for (const [what, key] of cases) {
        const r = await run(() => addressFromXpub(v1, chain, testnet, key, 0))
        out.push({ what, chain, testnet, xpub: key, error: r.error || null, address: r.value || null })
      }
    }
  }
  return out
}

function v1tatumPath(chain, testnet) {
  const p = {
    BTC: "m/44'/0'/0'/0", LTC: "m/44'/2'/0'/0", DOGE: "m/44'/3'/0'/0", BCH: "m/44'/145'/0'/0",
    ETH: "m/44'/60'/0'/0", BSC: "m/44'/60'/0'/0", MATIC: "m/44'/966'/0'/0", CELO: "m/44'/52752'/0'/0",
    KLAY: "m/44'/8217'/0'/0", ONE: "m/44'/1023'/0'/0", XDC: "m/44'/550'/0'/0", KCS: "m/44'/60'/0'/0",
    TRON: "m/44'/195'/0'/0",
  }[chain]
  if (chain === 'BCH' || chain === 'TRON' || !testnet) return p
  return "m/44'/1'/0'/0"
}

async function allVectors() {
  const vectors = []
  for (const mnemonic of MNEMONICS) {
    for (const chain of CHAINS) {
      for (const testnet of [false, true]) {
        const a = await vectorFor(v1, mnemonic, chain, testnet)
        if (a.generateWalletXpub !== null && a.generateWalletXpub !== a.xpub) {
          throw new Error(`${chain} testnet=${testnet}: generateWallet and the managed-wallet SDK give different xpubs`)
        }
        vectors.push(a)
      }
    }
  }
  return vectors
}

async function main() {
  if (CHILD) {
    process.stdout.write(JSON.stringify(await allVectors()))
    return
  }
  const sdkVersion = require('@tatumio/tatum/package.json').version
  const oldVersion = require('tatum-v1-33/package.json').version
  const vectors = await allVectors()
  const child = require('child_process').spawnSync(process.execPath, [__filename, '--child', 'tatum-v1-33'], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  if (child.status !== 0) throw new Error(`child for ${oldVersion} failed`)
  const old = JSON.parse(child.stdout)
  if (old.length !== vectors.length) throw new Error('vector count differs between SDK versions')
  vectors.forEach((a, k) => {
    const ja = JSON.stringify(a)
    const jb = JSON.stringify(old[k])
    if (ja !== jb) throw new Error(`SDK ${sdkVersion} and ${oldVersion} disagree for ${a.chain} testnet=${a.testnet}:\n${ja}\n${jb}`)
  })
  const batch = []
  for (const chain of CHAINS) for (const testnet of [false, true]) batch.push(await batchSample(chain, testnet))
  const out = {
    comment:
      'Generated by testdata/wallet/gen/gen.js; do not edit. Values from the Tatum SDKs that tatum-kms 8.0.1 calls (see gen.js).',
    sdk: {
      '@tatumio/tatum': sdkVersion,
      '@tatumio/tatum (cross-checked, identical output)': oldVersion,
      '@tatumio/celo': require('@tatumio/celo/package.json').version,
      '@tatumio/tron': require('@tatumio/tron/package.json').version,
      '@tatumio/shared-blockchain-evm-based (KCS)': require('@tatumio/shared-blockchain-evm-based/package.json').version,
    },
    indices: INDICES,
    vectors,
    batch,
    otherKeys: await otherKeys(),
  }
  const file = path.join(__dirname, '..', 'tatum-vectors.json')
  fs.writeFileSync(file, JSON.stringify(out, null, 1) + '\n')
  console.log(`wrote ${file}: ${vectors.length} vectors, ${batch.length} batch samples`)
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e)
    process.exit(1)
  },
)
