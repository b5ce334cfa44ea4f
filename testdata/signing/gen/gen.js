// Generates ../vectors.json: unsigned pending transactions in the exact form
// the Tatum API hands tatum-kms (bitcore-lib Transaction JSON for BTC/LTC/DOGE,
// "<hex>:<amounts>" for BCH), and the signed transactions produced by the
// very functions tatum-kms 8.0.1 calls (@tatumio/tatum 1.37.68:
// sign{Bitcoin,Litecoin,Dogecoin,BitcoinCash}KMSTransaction and the
// *OffchainKMSTransaction variants), plus ECDSA Bitcoin Cash references from
// bitcoincashjs2-lib and bitcore-lib-cash.
//
//   cd testdata/signing/gen && npm install --ignore-scripts && npm run gen
//
// Every key is derived from a fixed label, so the output is deterministic
// (RFC6979 nonces everywhere). CI does not run this; the JSON is committed.
'use strict'

const crypto = require('crypto')
const tatum = require('@tatumio/tatum')
const btc = require('bitcore-lib')
const ltc = require('bitcore-lib-ltc')
const doge = require('bitcore-lib-doge')
const bchCore = require('bitcore-lib-cash')
const bcash = require('@tatumio/bitcoincashjs2-lib')
const coininfo = require('coininfo')

// The BIP39 test mnemonic (public): off-chain withdrawals derive from it.
const MNEMONIC = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about'

const sha = (s) => crypto.createHash('sha256').update(s).digest('hex')
const hash160 = (buf) => crypto.createHash('ripemd160').update(crypto.createHash('sha256').update(buf).digest()).digest('hex')

// Fake prevouts: txids are hashes of labels, so they never collide.
const txid = (label) => sha('prev ' + label)

function scripts(pubBuf) {
  const h = hash160(pubBuf)
  const redeem = '0014' + h
  return {
    p2pkh: '76a914' + h + '88ac',
    p2wpkh: '0014' + h,
    p2shp2wpkh: 'a914' + hash160(Buffer.from(redeem, 'hex')) + '87',
  }
}

function uuid(label) {
  const h = sha('id ' + label)
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`
}

// One private-key wallet per label for a bitcore flavour.
function pkWallet(lib, network, label, compressed = true) {
  const pk = lib.PrivateKey.fromObject({ bn: sha('key ' + label), network: network.name, compressed })
  return { id: uuid(label), wif: pk.toWIF(), pub: pk.publicKey.toBuffer(), pk }
}

function bitcoreUnsigned(lib, utxos, outputs, opts = {}) {
  const tx = new lib.Transaction()
  for (const u of utxos) tx.from(u)
  for (const o of outputs) tx.addOutput(new lib.Transaction.Output(o))
  if (opts.fee !== undefined) tx.fee(opts.fee)
  if (opts.lockTime) tx.lockUntilBlockHeight(opts.lockTime)
  return tx
}

const vectors = []

async function onchainBitcore({ name, chain, lib, network, testnet, wallets, utxos, outputs, sign, opts }) {
  const tx = bitcoreUnsigned(lib, utxos, outputs, opts)
  const serializedTransaction = JSON.stringify(tx.toObject())
  const pending = { id: sha('pending ' + name).slice(0, 24), chain, serializedTransaction, hashes: wallets.map(w => w.id) }
  const signed = await sign({ ...pending }, wallets.map(w => w.wif), testnet)
  vectors.push({
    name, chain, testnet, request: pending,
    keys: wallets.map(w => ({ id: w.id, wif: w.wif })),
    expected: signed, expectedKind: 'exact',
    generator: `@tatumio/tatum ${require('@tatumio/tatum/package.json').version} sign${{ BTC: 'Bitcoin', LTC: 'Litecoin', DOGE: 'Dogecoin' }[chain]}KMSTransaction`,
  })
}

async function main() {
  // ---- BTC: P2PKH (compressed and uncompressed), P2WPKH, P2SH-P2WPKH, two outputs.
  {
    const net = btc.Networks.livenet
    const a = pkWallet(btc, net, 'btc a'), b = pkWallet(btc, net, 'btc b'), c = pkWallet(btc, net, 'btc c')
    const u = pkWallet(btc, net, 'btc uncompressed', false)
    const utxos = [
      { txId: txid('btc 0'), outputIndex: 0, script: scripts(a.pub).p2pkh, satoshis: 150000 },
      { txId: txid('btc 1'), outputIndex: 3, script: scripts(b.pub).p2wpkh, satoshis: 250000 },
      { txId: txid('btc 2'), outputIndex: 1, script: scripts(c.pub).p2shp2wpkh, satoshis: 350000 },
      { txId: txid('btc 3'), outputIndex: 7, script: scripts(u.pub).p2pkh, satoshis: 50000 },
    ]
    const outputs = [
      { script: scripts(pkWallet(btc, net, 'btc dest').pub).p2wpkh, satoshis: 600000 },
      { script: scripts(a.pub).p2pkh, satoshis: 190000 },
    ]
    await onchainBitcore({ name: 'BTC mixed inputs', chain: 'BTC', lib: btc, network: net, testnet: false,
      wallets: [a, b, c, u], utxos, outputs, sign: (t, k) => tatum.signBitcoinKMSTransaction(t, k) })
    // The seed example's shape: one P2PKH input, one segwit output, locktime set.
    await onchainBitcore({ name: 'BTC single P2PKH with locktime', chain: 'BTC', lib: btc, network: net, testnet: false,
      wallets: [a], utxos: [{ txId: txid('btc 9'), outputIndex: 0, script: scripts(a.pub).p2pkh, satoshis: 2000 }],
      outputs: [{ script: scripts(b.pub).p2wpkh, satoshis: 1000 }], opts: { lockTime: 800000 },
      sign: (t, k) => tatum.signBitcoinKMSTransaction(t, k) })
  }
  // ---- LTC: P2PKH, P2WPKH, P2SH-P2WPKH.
  {
    const net = ltc.Networks.livenet
    const a = pkWallet(ltc, net, 'ltc a'), b = pkWallet(ltc, net, 'ltc b'), c = pkWallet(ltc, net, 'ltc c')
    const utxos = [
      { txId: txid('ltc 0'), outputIndex: 2, script: scripts(a.pub).p2pkh, satoshis: 12000000 },
      { txId: txid('ltc 1'), outputIndex: 0, script: scripts(b.pub).p2wpkh, satoshis: 3000000 },
      { txId: txid('ltc 2'), outputIndex: 5, script: scripts(c.pub).p2shp2wpkh, satoshis: 4500000 },
    ]
    const outputs = [{ script: scripts(pkWallet(ltc, net, 'ltc dest').pub).p2pkh, satoshis: 19000000 }]
    await onchainBitcore({ name: 'LTC mixed inputs', chain: 'LTC', lib: ltc, network: net, testnet: false,
      wallets: [a, b, c], utxos, outputs, sign: (t, k, tn) => tatum.signLitecoinKMSTransaction(t, k, tn) })
  }
  // ---- DOGE: P2PKH only; signDogecoinKMSTransaction serializes with bitcore's
  // checks on, so the fee is stated and outputs are above dust.
  {
    const net = doge.Networks.livenet
    const a = pkWallet(doge, net, 'doge a'), b = pkWallet(doge, net, 'doge b')
    const utxos = [
      { txId: txid('doge 0'), outputIndex: 1, script: scripts(a.pub).p2pkh, satoshis: 500000000 },
      { txId: txid('doge 1'), outputIndex: 0, script: scripts(b.pub).p2pkh, satoshis: 700000000 },
    ]
    const outputs = [
      { script: scripts(pkWallet(doge, net, 'doge dest').pub).p2pkh, satoshis: 1000000000 },
      { script: scripts(b.pub).p2pkh, satoshis: 190000000 },
    ]
    await onchainBitcore({ name: 'DOGE two P2PKH inputs', chain: 'DOGE', lib: doge, network: net, testnet: false,
      wallets: [a, b], utxos, outputs, opts: { fee: 10000000 },
      sign: (t, k, tn) => tatum.signDogecoinKMSTransaction(t, k, tn) })
  }
  // ---- BCH, Tatum's "<hex>:<amounts>" form, signed by tatum (Schnorr) and by
  // bitcoincashjs2-lib with ECDSA (the same digest, comparable byte for byte).
  for (const testnet of [false, true]) {
    const network = testnet ? coininfo.bitcoincash.test.toBitcoinJS() : coininfo.bitcoincash.main.toBitcoinJS()
    const net = testnet ? btc.Networks.testnet : btc.Networks.livenet
    const a = pkWallet(btc, net, 'bch a ' + testnet), b = pkWallet(btc, net, 'bch b ' + testnet)
    const amounts = [80000, 120000]
    const builder = new bcash.TransactionBuilder(network)
    builder.addInput(txid('bch 0 ' + testnet), 1, 0xffffffff, null)
    builder.addInput(txid('bch 1 ' + testnet), 0, 0xfffffffe, null)
    builder.addOutput(Buffer.from(scripts(pkWallet(btc, net, 'bch dest').pub).p2pkh, 'hex'), 150000)
    builder.addOutput(Buffer.from(scripts(a.pub).p2pkh, 'hex'), 49000)
    const unsigned = builder.buildIncomplete().toHex()
    const serializedTransaction = unsigned + ':' + JSON.stringify(amounts)
    const name = `BCH hex form two P2PKH inputs ${testnet ? 'testnet' : 'mainnet'}`
    const pending = { id: sha('pending ' + name).slice(0, 24), chain: 'BCH', serializedTransaction, hashes: [a.id, b.id] }
    const schnorr = await tatum.signBitcoinCashKMSTransaction({ ...pending }, [a.wif, b.wif], testnet)
    const eb = bcash.TransactionBuilder.fromTransaction(bcash.Transaction.fromHex(unsigned), network)
    for (const [i, w] of [a, b].entries()) {
      eb.sign(i, bcash.ECPair.fromWIF(w.wif, network), undefined, 0x01, amounts[i], undefined, bcash.ECSignature.ECDSA)
    }
    vectors.push({
      name, chain: 'BCH', testnet, request: pending,
      keys: [a, b].map(w => ({ id: w.id, wif: w.wif })),
      expected: eb.build().toHex(), expectedKind: 'exact',
      generator: '@tatumio/bitcoincashjs2-lib 4.1.2 TransactionBuilder.sign(ECDSA, 0x01|FORKID)',
      tatumSchnorr: schnorr,
      tatumGenerator: '@tatumio/tatum 1.37.68 signBitcoinCashKMSTransaction (Schnorr)',
    })
  }
  // ---- BCH in bitcore JSON (bitcore-lib-cash), ECDSA ALL|FORKID.
  {
    const net = bchCore.Networks.livenet
    const a = pkWallet(bchCore, net, 'bchcore a'), b = pkWallet(bchCore, net, 'bchcore b')
    const tx = bitcoreUnsigned(bchCore, [
      { txId: txid('bchcore 0'), outputIndex: 0, script: scripts(a.pub).p2pkh, satoshis: 300000 },
      { txId: txid('bchcore 1'), outputIndex: 2, script: scripts(b.pub).p2pkh, satoshis: 200000 },
    ], [{ script: scripts(pkWallet(bchCore, net, 'bchcore dest').pub).p2pkh, satoshis: 490000 }])
    const serializedTransaction = JSON.stringify(tx.toObject())
    const name = 'BCH bitcore-lib-cash JSON'
    const pending = { id: sha('pending ' + name).slice(0, 24), chain: 'BCH', serializedTransaction, hashes: [a.id, b.id] }
    const s = new bchCore.Transaction(JSON.parse(serializedTransaction))
    s.sign([a.pk, b.pk], null, 'ecdsa')
    vectors.push({
      name, chain: 'BCH', testnet: false, request: pending,
      keys: [a, b].map(w => ({ id: w.id, wif: w.wif })),
      expected: s.serialize(true), expectedKind: 'exact',
      generator: 'bitcore-lib-cash 10.8.0 Transaction.sign(ecdsa)',
    })
  }
  // ---- Off-chain withdrawals: hashes[0] is a mnemonic wallet, the keys sit at
  // withdrawalResponses[].address.derivationKey; the "-1" entry is the
  // prepared output to the pool and signs nothing.
  for (const testnet of [false, true]) {
    const mid = uuid('mnemonic ' + testnet)
    const keyAt = async (chain, i) => tatum.generatePrivateKeyFromMnemonic(chain, testnet, MNEMONIC, i)
    const pubOf = (lib, wif) => lib.PrivateKey.fromWIF(wif).publicKey.toBuffer()
    const resp = (addr, idx, vIn, vInIndex, amount) => ({
      address: idx === undefined ? { address: addr, currency: 'X' } : { address: addr, currency: 'X', derivationKey: idx },
      amount, vIn, vInIndex, scriptPubKey: null,
    })
    for (const [chain, lib, signFn, kinds] of [
      ['BTC', btc, tatum.signBitcoinOffchainKMSTransaction, ['p2wpkh', 'p2pkh', 'p2pkh']],
      ['LTC', ltc, tatum.signLitecoinOffchainKMSTransaction, ['p2pkh', 'p2wpkh', 'p2pkh']],
      ['DOGE', doge, tatum.signDogecoinOffchainKMSTransaction, ['p2pkh', 'p2pkh', 'p2pkh']],
    ]) {
      // index 0 comes from an entry without derivationKey (tatum defaults to 0).
      const idxs = [undefined, 3, 7]
      const keys = [], utxos = [], responses = []
      for (const [j, idx] of idxs.entries()) {
        const wif = await keyAt(chain, idx || 0)
        keys.push({ id: mid, index: idx || 0, wif })
        const script = scripts(pubOf(lib, wif))[kinds[j]]
        const sat = 1000000 * (j + 2)
        utxos.push({ txId: txid(`off ${chain} ${testnet} ${j}`), outputIndex: j, script, satoshis: sat })
        responses.push(resp('addr' + j, idx, txid(`off ${chain} ${testnet} ${j}`), j, sat / 1e8))
      }
      responses.push(resp('pool', undefined, '-1', 0, 0))
      const dest = scripts(pkWallet(lib, testnet ? lib.Networks.testnet : lib.Networks.livenet, 'off dest ' + chain).pub).p2pkh
      const tx = bitcoreUnsigned(lib, utxos, [{ script: dest, satoshis: 8000000 }, { script: dest, satoshis: 900000 }])
      const serializedTransaction = JSON.stringify(tx.toObject())
      const name = `${chain} off-chain withdrawal ${testnet ? 'testnet' : 'mainnet'}`
      const pending = {
        id: sha('pending ' + name).slice(0, 24), chain, serializedTransaction, hashes: [mid],
        withdrawalId: sha('withdrawal ' + name).slice(0, 24), withdrawalResponses: responses,
      }
      const signed = await signFn({ ...pending }, MNEMONIC, testnet)
      vectors.push({
        name, chain, testnet, request: pending, keys, mnemonic: { id: mid, words: MNEMONIC },
        expected: signed, expectedKind: 'exact', generator: `@tatumio/tatum 1.37.68 sign${{ BTC: 'Bitcoin', LTC: 'Litecoin', DOGE: 'Dogecoin' }[chain]}OffchainKMSTransaction`,
      })
    }
    // BCH off-chain, hex form: input i belongs to withdrawalResponses[i].
    {
      const network = testnet ? coininfo.bitcoincash.test.toBitcoinJS() : coininfo.bitcoincash.main.toBitcoinJS()
      const idxs = [5, undefined]
      const keys = [], responses = [], amounts = []
      const builder = new bcash.TransactionBuilder(network)
      for (const [j, idx] of idxs.entries()) {
        const wif = await keyAt('BCH', idx || 0)
        keys.push({ id: mid, index: idx || 0, wif })
        const sat = 500000 * (j + 1)
        amounts.push(sat)
        builder.addInput(txid(`off BCH ${testnet} ${j}`), j, 0xffffffff, null)
        responses.push(resp('addr' + j, idx, txid(`off BCH ${testnet} ${j}`), j, sat / 1e8))
      }
      responses.push(resp('pool', undefined, '-1', 0, 0))
      builder.addOutput(Buffer.from(scripts(Buffer.from('02' + sha('bch off dest'), 'hex')).p2pkh, 'hex'), 1400000)
      const unsigned = builder.buildIncomplete().toHex()
      const name = `BCH off-chain withdrawal ${testnet ? 'testnet' : 'mainnet'}`
      const pending = {
        id: sha('pending ' + name).slice(0, 24), chain: 'BCH', serializedTransaction: unsigned + ':' + JSON.stringify(amounts),
        hashes: [mid], withdrawalId: sha('withdrawal ' + name).slice(0, 24), withdrawalResponses: responses,
      }
      const schnorr = await tatum.signBitcoinCashOffchainKMSTransaction({ ...pending }, MNEMONIC, testnet)
      const eb = bcash.TransactionBuilder.fromTransaction(bcash.Transaction.fromHex(unsigned), network)
      for (const [i, k] of keys.entries()) {
        eb.sign(i, bcash.ECPair.fromWIF(k.wif, network), undefined, 0x01, amounts[i], undefined, bcash.ECSignature.ECDSA)
      }
      vectors.push({
        name, chain: 'BCH', testnet, request: pending, keys, mnemonic: { id: mid, words: MNEMONIC },
        expected: eb.build().toHex(), expectedKind: 'exact',
        generator: '@tatumio/bitcoincashjs2-lib 4.1.2 TransactionBuilder.sign(ECDSA, 0x01|FORKID)',
        tatumSchnorr: schnorr, tatumGenerator: '@tatumio/tatum 1.37.68 signBitcoinCashOffchainKMSTransaction (Schnorr)',
      })
    }
  }
  process.stdout.write(JSON.stringify({ note: 'generated by testdata/signing/gen/gen.js; do not edit', vectors }, null, 2) + '\n')
}

main().catch((e) => { console.error(e); process.exit(1) })
