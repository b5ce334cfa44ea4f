// Generates ../vectors.json: ALGO wallets in tatum-kms's form (the secret is
// base32.js's RFC 4648 encoding of the 64-byte ed25519 secret key, the
// address algosdk's base32 with checksum) and pending transactions in the
// form the Tatum API hands tatum-kms (JSON.stringify of an algosdk 1.16
// Transaction, as @tatumio/tatum's prepareAlgo*SignedTransaction returns it
// with a signatureId), each with the txData that signAlgoKMSTransaction,
// the very function tatum-kms 8.0.1 calls, returns for it.
//
//   cd testdata/algo/gen && npm ci --ignore-scripts && npm run gen
//
// Keys come from fixed seeds, ed25519 is deterministic: the output is
// reproducible. CI does not run this; the JSON is committed.
'use strict'

const crypto = require('crypto')
const tatum = require('@tatumio/tatum')
const algosdk = require('algosdk')
const base32 = require('base32.js')
const nacl = require('tweetnacl')

const NETS = {
  mainnet: { genesisID: 'mainnet-v1.0', genesisHash: 'wGHE2Pwdvd7S12BL5FaOP20EGYesN73ktiC1qzkkit8=' },
  testnet: { genesisID: 'testnet-v1.0', genesisHash: 'SGO1GKSzyE7IEPItTxCByw9x8FmnrCDexi9/cOUJOiI=' },
}

const seed = (label) => crypto.createHash('sha256').update('gokms algo ' + label).digest()

function wallet(label) {
  const kp = nacl.sign.keyPair.fromSeed(seed(label))
  const secret = new base32.Encoder({ type: 'rfc4648' }).write(kp.secretKey).finalize()
  const address = algosdk.encodeAddress(kp.publicKey)
  // The SDK's own view of the same key: generateAlgoWallet from the 25-word
  // mnemonic and generateAlgodAddressFromPrivatetKey from the secret.
  const mnemonic = algosdk.secretKeyToMnemonic(kp.secretKey)
  return { label, seed: seed(label).toString('hex'), publicKey: Buffer.from(kp.publicKey).toString('hex'), secret, address, mnemonic }
}

const hex = (u8) => Buffer.from(u8).toString('hex')

// What algosdk decodes back out of the signed bytes, for the Go test to
// compare field by field (with an independent msgpack decoder).
function decoded(txDataHex) {
  const st = algosdk.decodeObj(Buffer.from(txDataHex, 'hex'))
  const conv = (v) => {
    if (v instanceof Uint8Array) return { bin: hex(v) }
    if (typeof v === 'bigint') return Number(v)
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const o = {}
      for (const k of Object.keys(v).sort()) o[k] = conv(v[k])
      return o
    }
    return v
  }
  return conv(st)
}

async function main() {
  const W = ['a', 'b', 'c'].map(wallet)
  const R = wallet('recipient')
  // Cross-check the SDK's wallet functions against the fixed-seed keys.
  for (const w of W.concat([R])) {
    const g = await tatum.generateAlgoWallet(w.mnemonic)
    if (g.secret !== w.secret || g.address !== w.address) throw new Error('generateAlgoWallet mismatch for ' + w.label)
    if (tatum.generateAlgodAddressFromPrivatetKey(w.secret) !== w.address) throw new Error('address mismatch for ' + w.label)
  }

  const txs = []
  const refused = []
  const enc = new TextEncoder()
  let round = 21000000
  async function add(name, kind, testnet, w, makeTxn) {
    const net = NETS[testnet ? 'testnet' : 'mainnet']
    round += 7919
    const params = { fee: 1000, flatFee: true, firstRound: round, lastRound: round + 1000, genesisID: net.genesisID, genesisHash: net.genesisHash }
    const txn = makeTxn(params)
    const serializedTransaction = JSON.stringify(txn)
    if (kind.startsWith('acfg')) {
      // signAlgoKMSTransaction reads txn.to.publicKey, which an asset
      // configuration has not: tatum-kms cannot sign these at all.
      let sdkError = null
      try { await tatum.signAlgoKMSTransaction({ chain: 'ALGO', serializedTransaction }, w.secret, testnet) } catch (e) { sdkError = e.message }
      if (!sdkError) throw new Error(name + ': expected the SDK to fail')
      refused.push({ name, kind, testnet, wallet: w.label, secret: w.secret, serializedTransaction, sdkError })
      return
    }
    const txData = await tatum.signAlgoKMSTransaction({ chain: 'ALGO', serializedTransaction }, w.secret, testnet)
    const st = algosdk.decodeSignedTransaction(Buffer.from(txData, 'hex'))
    txs.push({
      name, kind, testnet, wallet: w.label, secret: w.secret, address: w.address,
      serializedTransaction, txData, txId: st.txn.txID(),
      bytesToSign: hex(st.txn.bytesToSign()), decoded: decoded(txData),
    })
  }

  // Native payments (prepareAlgoSignedTransaction: flat fee, amount in microAlgos).
  const amounts = [1, 1000000, 5000000, 123456789, 0, 9007199254740991, 250000, 42]
  const fees = [1000, 1000, 2000, 1000, 1000, 1500, 1000, 100000]
  for (let i = 0; i < amounts.length; i++) {
    const w = W[i % 3]
    await add(`pay ${i}`, 'pay', i % 2 === 1, w, (p) =>
      algosdk.makePaymentTxnWithSuggestedParams(w.address, i === 4 ? W[(i + 1) % 3].address : R.address, amounts[i], undefined, enc.encode(''), { ...p, fee: fees[i] }))
  }
  // Payments with a note (the SDK's memo).
  const notes = ['hello', 'invoice 2026-12-01/42', 'ü unicode ✓', 'x'.repeat(200), '{"ref":7}', ' ']
  for (let i = 0; i < notes.length; i++) {
    const w = W[(i + 1) % 3]
    await add(`pay note ${i}`, 'pay-note', i % 2 === 0, w, (p) =>
      algosdk.makePaymentTxnWithSuggestedParams(w.address, R.address, 1000 * (i + 1), undefined, enc.encode(notes[i]), p))
  }
  // Asset transfers (prepareAlgoTransferFT/NFT/FractionalNFT) and opt-ins
  // (prepareAlgoReceiveNFTSignedTransaction: to = from, amount 0).
  for (let i = 0; i < 10; i++) {
    const w = W[i % 3]
    const optIn = i >= 7
    await add(`axfer ${i}`, optIn ? 'axfer-optin' : 'axfer', i % 2 === 0, w, (p) =>
      algosdk.makeAssetTransferTxnWithSuggestedParams(w.address, optIn ? w.address : R.address, undefined, undefined,
        optIn ? 0 : [1, 10, 1000000, 5, 77, 123456789012, 3][i], undefined, 10458941 + i * 1111, p))
  }
  // Asset creation (NFT, FT, fractional NFT) and destruction (burn).
  for (let i = 0; i < 6; i++) {
    const w = W[i % 3]
    await add(`acfg create ${i}`, 'acfg-create', i % 2 === 1, w, (p) =>
      algosdk.makeAssetCreateTxnWithSuggestedParams(w.address, undefined, [1, 1000000, 10, 100000000000, 1, 1000][i], [0, 6, 1, 8, 0, 3][i], false,
        w.address, undefined, undefined, undefined, ['NFT', 'GKT', 'FR', 'TOK', 'ART', 'U'][i], ['Gokms NFT ' + i, 'Gokms Token', 'Fraction', 'Big Token', 'Art #7', 'Unit'][i],
        ['https://example.com/nft/' + i, 'ipfs://bafy' + i, 'https://x.io', 'https://tok.example', 'ipfs://art7', 'https://u'][i], undefined, p))
  }
  for (let i = 0; i < 4; i++) {
    const w = W[i % 3]
    await add(`acfg destroy ${i}`, 'acfg-destroy', i % 2 === 0, w, (p) =>
      algosdk.makeAssetDestroyTxnWithSuggestedParams(w.address, undefined, 20000000 + i * 3, p, undefined))
  }
  // Suggested params with a per-byte fee (flatFee false), as the SDK's NFT
  // functions pass algod's params: signAlgoKMSTransaction multiplies the fee
  // by the estimated size once more. Copied, and documented.
  for (let i = 0; i < 3; i++) {
    const w = W[i % 3]
    await add(`per-byte fee ${i}`, 'pay-perbyte', i % 2 === 0, w, (p) =>
      algosdk.makePaymentTxnWithSuggestedParams(w.address, R.address, 777 + i, undefined, enc.encode(i ? 'n' + i : ''), { ...p, flatFee: false, fee: i }))
  }
  await add('acfg create per-byte fee', 'acfg-create-perbyte', true, W[0], (p) =>
    algosdk.makeAssetCreateTxnWithSuggestedParams(W[0].address, undefined, 1, 0, false, W[0].address, undefined, undefined, undefined,
      'NFT', 'Per byte', 'https://pb', undefined, { ...p, flatFee: false, fee: 0 }))

  process.stdout.write(JSON.stringify({
    generator: 'testdata/algo/gen/gen.js',
    sdk: { '@tatumio/tatum': require('@tatumio/tatum/package.json').version, algosdk: require('algosdk/package.json').version },
    wallets: W.concat([R]),
    transactions: txs,
    refused,
  }, null, 1) + '\n')
}

main().catch((e) => { console.error(e); process.exit(1) })
