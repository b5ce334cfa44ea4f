// Generates ../vectors.json for gokms's Stellar keys and signer.
//
// Keys: Keypair.fromRawEd25519Seed of fixed seeds, the same code path as
// tatum-kms's XLM wallets (Keypair.random() -> {address: publicKey(), secret:
// secret()}), and Keypair.fromSecret for imported secrets.
//
// Signing: tatum-kms 8.0.1 calls @tatumio/xlm's kms.sign(pending, secret,
// testnet), which is TransactionBuilder.fromXDR(serializedTransaction,
// testnet ? Networks.TESTNET : Networks.PUBLIC), transaction.sign(
// Keypair.fromSecret(secret)), transaction.toEnvelope().toXDR() in base64
// (@tatumio/xlm is not on the registry here; signXlmKMSTransaction below is
// that code, as @tatumio/tatum 1.x ships it). The pending transactions are what
// Tatum's KMS-mode prepare functions return: the unsigned envelope's
// tx.toXDR(). Built here with stellar-sdk 9.1.0's TransactionBuilder:
// payments (native and credit assets), account creation, trust lines, every
// memo type, envelopes already signed by a co-signer, v0 envelopes and fee
// bumps.
//
// Run: npm install && node gen.js. CI reads only ../vectors.json.
const fs = require('fs')
const path = require('path')
const crypto = require('crypto')
const StellarSdk = require('stellar-sdk')
const { Keypair, TransactionBuilder, Networks, Operation, Asset, Memo, Account, xdr } = StellarSdk

function signXlmKMSTransaction(tx, secret, testnet) { // @tatumio/tatum's code, verbatim in substance
  if (tx.chain !== 'XLM') throw Error('Unsupported chain.')
  const transaction = TransactionBuilder.fromXDR(tx.serializedTransaction, testnet ? Networks.TESTNET : Networks.PUBLIC)
  transaction.sign(Keypair.fromSecret(secret))
  return transaction.toEnvelope().toXDR().toString('base64')
}

const seed = label => crypto.createHash('sha256').update('gokms-xlm-' + label).digest()
const kp = label => Keypair.fromRawEd25519Seed(seed(label))

const wallets = []
for (let i = 0; i < 6; i++) {
  const k = kp('wallet-' + i)
  wallets.push({ seedHex: seed('wallet-' + i).toString('hex'), address: k.publicKey(), secret: k.secret() })
}
const fromSecret = wallets.map(w => { const k = Keypair.fromSecret(w.secret); return { secret: w.secret, address: k.publicKey() } })

const ISSUER = kp('issuer').publicKey()
const USDC = new Asset('USDC', ISSUER)
const LONG = new Asset('GOKMSTOKEN12', ISSUER) // alphanum12

function build(w, seq, testnet, ops, memo, opts = {}) {
  const b = new TransactionBuilder(new Account(w.address, String(seq)), {
    fee: String(opts.fee || 100), networkPassphrase: testnet ? Networks.TESTNET : Networks.PUBLIC,
    memo: memo || Memo.none(),
    timebounds: opts.timebounds || { minTime: 0, maxTime: 1900000000 + seq % 1000 },
  })
  ops.forEach(op => b.addOperation(op))
  return b.build()
}

const cases = []
const dest = i => kp('dest-' + i).publicKey()
for (let i = 0; i < 12; i++) { // native payments
  const w = wallets[i % wallets.length]; const testnet = i % 2 === 1
  cases.push({ kind: 'native', name: `native-${i}`, w, testnet, tx: build(w, 1000 + i, testnet, [Operation.payment({ destination: dest(i), asset: Asset.native(), amount: (1.5 + i).toFixed(7) })]) })
}
for (let i = 0; i < 12; i++) { // asset payments and trust lines
  const w = wallets[i % wallets.length]; const testnet = i % 2 === 0
  const asset = i % 3 === 2 ? LONG : USDC
  const op = i % 4 === 3 ? Operation.changeTrust({ asset, limit: '1000000' }) : Operation.payment({ destination: dest(100 + i), asset, amount: (0.0000001 * (i + 1) + i).toFixed(7) })
  cases.push({ kind: 'asset', name: `asset-${i}`, w, testnet, tx: build(w, 2000 + i, testnet, [op]) })
}
for (let i = 0; i < 12; i++) { // memos (and a createAccount every other)
  const w = wallets[i % wallets.length]; const testnet = i % 3 === 0
  const memos = [Memo.text('invoice 42'), Memo.id('1234567890123'), Memo.hash(seed('memo-h-' + i)), Memo.return(seed('memo-r-' + i)), Memo.text('žluťoučký'), Memo.id('18446744073709551615'), Memo.text('a'.repeat(28)), Memo.text('1')]
  const op = i % 2 === 0 ? Operation.createAccount({ destination: dest(200 + i), startingBalance: '2.5' }) : Operation.payment({ destination: dest(200 + i), asset: Asset.native(), amount: '10' })
  cases.push({ kind: 'memo', name: `memo-${i}`, w, testnet, tx: build(w, 3000 + i, testnet, [op], memos[i % memos.length], { fee: 100 + i }) })
}
for (let i = 0; i < 10; i++) { // several signers: co-signers sign first, the wallet adds its signature
  const w = wallets[i % wallets.length]; const testnet = i % 2 === 0
  const tx = build(w, 4000 + i, testnet, [Operation.payment({ destination: dest(300 + i), asset: i % 2 ? USDC : Asset.native(), amount: '3' }), Operation.payment({ destination: dest(400 + i), asset: Asset.native(), amount: '0.25' })], Memo.text('multi ' + i), { fee: 200 })
  for (let j = 0; j <= i % 3; j++) tx.sign(kp(`cosigner-${i}-${j}`))
  cases.push({ kind: 'multisig', name: `multisig-${i}`, w, testnet, tx })
}
for (let i = 0; i < 10; i++) { // v0 envelopes (pre-protocol-13 encoding, still accepted)
  const w = wallets[i % wallets.length]; const testnet = i % 2 === 1
  const v1 = build(w, 5000 + i, testnet, [Operation.payment({ destination: dest(500 + i), asset: Asset.native(), amount: '1' })], i % 2 ? Memo.text('v0') : Memo.none())
  const t = v1.tx
  const v0 = new xdr.TransactionV0({
    sourceAccountEd25519: Keypair.fromPublicKey(w.address).rawPublicKey(),
    fee: t.fee(), seqNum: t.seqNum(), timeBounds: t.timeBounds(), memo: t.memo(), operations: t.operations(), ext: new xdr.TransactionV0Ext(0),
  })
  const env = xdr.TransactionEnvelope.envelopeTypeTxV0(new xdr.TransactionV0Envelope({ tx: v0, signatures: [] }))
  cases.push({ kind: 'v0', name: `v0-${i}`, w, testnet, serialized: env.toXDR('base64') })
}
for (let i = 0; i < 10; i++) { // fee bumps: an inner transaction signed by its source, the wallet pays the fee
  const w = wallets[i % wallets.length]; const testnet = i % 2 === 0
  const inner = kp('inner-' + i)
  const innerTx = build({ address: inner.publicKey() }, 6000 + i, testnet, [Operation.payment({ destination: dest(600 + i), asset: Asset.native(), amount: '4' })])
  innerTx.sign(inner)
  const fb = TransactionBuilder.buildFeeBumpTransaction(w.address, '200', innerTx, testnet ? Networks.TESTNET : Networks.PUBLIC)
  cases.push({ kind: 'feebump', name: `feebump-${i}`, w, testnet, tx: fb })
}

const vectors = cases.map(c => {
  const serializedTransaction = c.serialized || c.tx.toXDR() // base64 envelope, as Tatum's KMS prepare returns
  const pending = { id: 'pending-' + c.name, chain: 'XLM', serializedTransaction, hashes: ['sig-' + c.name] }
  const txData = signXlmKMSTransaction(pending, c.w.secret, c.testnet)
  const signed = TransactionBuilder.fromXDR(txData, c.testnet ? Networks.TESTNET : Networks.PUBLIC)
  const pub = Keypair.fromPublicKey(c.w.address)
  const last = signed.signatures[signed.signatures.length - 1]
  if (!pub.verify(signed.hash(), last.signature())) throw new Error(c.name + ': signature does not verify')
  return {
    name: c.name, kind: c.kind, testnet: c.testnet,
    networkPassphrase: c.testnet ? Networks.TESTNET : Networks.PUBLIC,
    secret: c.w.secret, address: c.w.address,
    pending, hash: signed.hash().toString('hex'), txData,
    broadcast: { txData, signatureId: pending.id },
  }
})

const out = {
  generator: 'testdata/xlm/gen/gen.js',
  sdk: { 'stellar-sdk': require('stellar-sdk/package.json').version },
  networks: { mainnet: Networks.PUBLIC, testnet: Networks.TESTNET },
  wallets, fromSecret, vectors,
}
fs.writeFileSync(path.join(__dirname, '..', 'vectors.json'), JSON.stringify(out, null, 1) + '\n')
console.log(`wrote ${wallets.length} wallets, ${vectors.length} signed transactions`)
