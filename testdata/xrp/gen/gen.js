// Generates ../vectors.json with the exact functions tatum-kms 8.0.1 calls
// for XRP: @tatumio/xrp 2.2.100 kms.sign(pendingTx, secret), which is
// xrpl 2.14.1 Wallet.fromSeed(secret).sign(JSON.parse(serializedTransaction)).tx_blob
// (ripple-binary-codec 1.11.0, ripple-keypairs 1.3.1), and the wallet shape
// tatum-kms prints ({address, secret} from Wallet.generate()).
// Everything is deterministic (seeds from fixed entropy). The Go tests read
// only the JSON. Run: npm install && node gen.js
const fs = require('fs')
const path = require('path')
const crypto = require('crypto')
const { Wallet } = require('xrpl')
const keypairs = require('ripple-keypairs')
const codec = require('ripple-binary-codec')
const { TatumXrpSDK } = require('@tatumio/xrp')

// Deterministic bytes: sha256(label || counter).
function det(label, n) {
  const out = []
  let i = 0
  while (Buffer.concat(out).length < n) {
    out.push(crypto.createHash('sha256').update(label + ':' + i++).digest())
  }
  return Buffer.concat(out).subarray(0, n)
}

const sdk = TatumXrpSDK({ apiKey: 'gokms-vectors' })

// Wallets: as tatum-kms generatewallet XRP prints them ({address, secret}),
// from fixed entropy, both key types, plus the published ripple-keypairs
// fixtures.
const wallets = []
for (let i = 0; i < 12; i++) {
  for (const algorithm of ['ecdsa-secp256k1', 'ed25519']) {
    const seed = keypairs.generateSeed({ entropy: det(`xrp-wallet-${algorithm}`, 16 + i).subarray(i), algorithm })
    wallets.push(seed)
  }
}
wallets.push('sn259rEFXrQrWyx3Q7XneWcwV6dfL', 'sEdSKaCy2JT7JaM7v95H9SxkhP9wS2r', 'snoPBrXtMeMyMHUVTgbuqAfg1SUTb', 'sEdV19BLfeQeKdEXyYA4NhjPJe6XBfG')
const walletOut = wallets.map((seed) => {
  const w = Wallet.fromSeed(seed)
  const kp = keypairs.deriveKeypair(seed)
  if (kp.publicKey !== w.publicKey) throw new Error('keypair mismatch')
  return { address: w.classicAddress, secret: seed, publicKey: w.publicKey, privateKey: w.privateKey, algorithm: seed.startsWith('sEd') ? 'ed25519' : 'secp256k1' }
})

const signers = walletOut.slice(0, 8) // 4 secp256k1, 4 ed25519 alternating
const issuer = walletOut[20].address
const dest = [walletOut[10].address, walletOut[11].address, walletOut[12].address, 'rPT1Sjq2YGrBMTttX4GZHjKu9dyfzbpAYe']
const hex = (s) => Buffer.from(s, 'utf8').toString('hex').toUpperCase()

const txs = []
function add(kind, name, w, tx, node) {
  txs.push({ kind, name, w, tx, node })
}
// Native payments (drops as a decimal string), the shape @tatumio/xrp's
// prepareSignedTransaction + client.autofill builds for signatureId.
for (let i = 0; i < 12; i++) {
  const w = signers[i % signers.length]
  const amount = ['1', '1000000', '25000000', '99999999999', '100000000000000000', '12', '3000000', '7', '450000', '1000000000', '5', '123456789'][i]
  add('native', `native payment ${i} (${w.algorithm})`, w, {
    Account: w.address, Amount: amount, Destination: dest[i % 4], TransactionType: 'Payment',
    Sequence: 1000 + i * 17, LastLedgerSequence: 80000000 + i * 3, Fee: String(10 + i), Flags: 0,
  })
}
// IOU payments (token + issuerAccount in @tatumio/xrp).
const ious = [
  ['USD', '1'], ['USD', '0.01'], ['EUR', '1234.5678'], ['BTC', '0.00000001'], ['USD', '9999999999999999'],
  ['JPY', '1e-20'], ['CNY', '42.4200'], ['524C555344000000000000000000000000000000', '15.5'], ['XAU', '1000000000000000e50'], ['USD', '0.1'],
  ['SOL', '3.14159265358979'], ['abc', '2'],
]
ious.forEach(([currency, value], i) => {
  const w = signers[(i + 3) % signers.length]
  add('token', `IOU payment ${i} ${currency} ${value} (${w.algorithm})`, w, {
    TransactionType: 'Payment', Account: w.address, Destination: dest[(i + 1) % 4],
    Amount: { currency, value, issuer }, Fee: '12', Sequence: 5 + i, LastLedgerSequence: 7000000 + i, Flags: i % 3 === 0 ? 131072 : 0,
    ...(i % 4 === 1 ? { SendMax: { currency, value: '1000', issuer } } : {}),
  })
})
// Destination tags, source tags and memos.
for (let i = 0; i < 12; i++) {
  const w = signers[(i + 5) % signers.length]
  const memos = []
  for (let m = 0; m < (i % 3) + 1; m++) {
    const memo = {}
    if ((i + m) % 2 === 0) memo.MemoType = hex('text/plain')
    memo.MemoData = hex(`gokms memo ${i}.${m} ` + 'x'.repeat(i * 20)) // up to > 192 bytes: 2-byte VL
    if (m === 2) memo.MemoFormat = hex('text/plain')
    memos.push({ Memo: memo })
  }
  const tx = {
    TransactionType: 'Payment', Account: w.address, Destination: dest[i % 4], Amount: String(1000000 * (i + 1)),
    DestinationTag: [0, 1, 12345, 4294967295, 99, 7, 2147483648, 65536, 3, 100000, 42, 8][i], Fee: '15', Sequence: 300 + i, LastLedgerSequence: 90000000 + i, Flags: 2147483648,
    Memos: memos,
  }
  if (i % 2 === 0) tx.SourceTag = 777 + i
  if (i % 5 === 0) tx.InvoiceID = det('invoice' + i, 32).toString('hex').toUpperCase()
  add('memo', `tag and memo payment ${i} (${w.algorithm})`, w, tx)
}
// TrustSet (@tatumio/xrp prepareSignedTrustlineTransaction).
for (let i = 0; i < 10; i++) {
  const w = signers[(i + 1) % signers.length]
  const tx = {
    TransactionType: 'TrustSet', Account: w.address, Fee: String(12 + i), Sequence: 40 + i, LastLedgerSequence: 6000000 + i,
    LimitAmount: { currency: ['USD', 'EUR', 'BTC', 'GKO', 'USD', 'CNY', 'ETH', 'USD', 'XAG', 'EUR'][i], issuer, value: ['1000000', '0', '1e15', '0.5', '9999999999999999e80', '100', '1', '12.34', '1000', '-0'][i] },
    Flags: [131072, 0, 262144, 2147483648, 0, 1048576, 0, 131072, 0, 0][i],
  }
  if (i % 3 === 0) { tx.QualityIn = 1000000000; tx.QualityOut = 999999 }
  add('trustset', `TrustSet ${i} (${w.algorithm})`, w, tx)
}
// AccountSet (@tatumio/xrp prepareSignedAccountSettingsTransaction: SetFlag/ClearFlag 1 or 8).
for (let i = 0; i < 10; i++) {
  const w = signers[(i + 2) % signers.length]
  const tx = { TransactionType: 'AccountSet', Account: w.address, Fee: '12', Sequence: 70 + i, LastLedgerSequence: 5000000 + i, Flags: 0 }
  if (i % 2 === 0) tx.SetFlag = [1, 8, 1, 8, 1][i / 2]
  else tx.ClearFlag = [8, 1, 8, 1, 8][(i - 1) / 2]
  if (i === 6) tx.Domain = hex('example.com')
  if (i === 7) tx.TransferRate = 1002000000
  if (i === 8) tx.TickSize = 5
  add('accountset', `AccountSet ${i} (${w.algorithm})`, w, tx)
}
// Sequence, Fee and LastLedgerSequence missing from the pending transaction:
// gokms asks the node (xrpl's autofill: account_info Sequence, fee,
// the validated ledger index + 20). The values the node gives are recorded; the
// signed blob is what xrpl signs once they are filled in.
for (let i = 0; i < 10; i++) {
  const w = signers[i % signers.length]
  const node = { sequence: 2000 + i, fee: String(10 + 2 * i), validatedLedgerIndex: 85000000 + i * 11 }
  const pending = { TransactionType: 'Payment', Account: w.address, Destination: dest[(i + 2) % 4], Amount: String(5000000 + i), Flags: 0 }
  if (i % 2) pending.DestinationTag = 1000 + i
  add('autofill', `autofilled payment ${i} (${w.algorithm})`, w, pending, node)
}

async function main() {
  const out = []
  for (const { kind, name, w, tx, node } of txs) {
    const pendingJSON = JSON.stringify(tx)
    const full = { ...tx }
    if (node) {
      full.Sequence = node.sequence
      full.Fee = node.fee
      full.LastLedgerSequence = node.validatedLedgerIndex + 20
    }
    const blob = await sdk.kms.sign({ chain: 'XRP', serializedTransaction: JSON.stringify(full), hashes: [], id: 'x' }, w.secret)
    const signed = Wallet.fromSeed(w.secret).sign(JSON.parse(JSON.stringify(full)))
    if (signed.tx_blob !== blob) throw new Error(name + ': kms.sign differs from Wallet.sign')
    const decoded = codec.decode(blob)
    const msg = codec.encodeForSigning(decoded)
    if (!keypairs.verify(msg, decoded.TxnSignature, w.publicKey)) throw new Error(name + ': signature does not verify')
    out.push({ kind, name, secret: w.secret, address: w.address, serializedTransaction: pendingJSON, node: node || null, txBlob: blob, hash: signed.hash, signingData: msg })
  }
  // Amount encodings alone (ripple-binary-codec encode of {Amount}), for
  // values at the edges of the IOU range and odd spellings.
  const values = ['0', '-0', '0.0', '1', '-1', '1.0', '10', '100', '0.1', '0.01', '1e-81', '1e-96', '1e-97', '1e97', '12345678901234567', '9999999999999999e80',
    '1000000000000000e80', '0.0000000000000001', '-123.456', '123456789012345.6', '1234567890123456', '.5', '5.', '+7',
    '1E3', '1e+3', '3.14159265358979', '-9999999999999999', '0.000001', '42.4200', '00001.5000', '1e15', '1e16', '1e-15']
  for (let i = 0; i < 40; i++) {
    const d = det('amount-' + i, 8)
    const digits = String(d.readBigUInt64BE() % 10n ** BigInt(1 + (d[0] % 16)))
    const exp = (d[1] % 60) - 40
    values.push((d[2] % 2 ? '-' : '') + digits + 'e' + exp)
  }
  const amounts = []
  for (const [i, value] of values.entries()) {
    const currency = ['USD', 'EUR', '524C555344000000000000000000000000000000', 'a!#'][i % 4]
    const amt = { currency, issuer, value }
    try {
      amounts.push({ amount: amt, hex: codec.encode({ Amount: amt }) })
    } catch (e) {
      amounts.push({ amount: amt, error: e.message })
    }
  }
  for (const drops of ['0', '1', '1000000', '100000000000000000', '99999999999999999', '00012']) {
    amounts.push({ amount: drops, hex: codec.encode({ Amount: drops }) })
  }
  const file = {
    amounts,
    generator: 'testdata/xrp/gen/gen.js', sdk: '@tatumio/xrp 2.2.100, xrpl 2.14.1, ripple-binary-codec 1.11.0, ripple-keypairs 1.3.1',
    wallets: walletOut, transactions: out,
  }
  fs.writeFileSync(path.join(__dirname, '..', 'vectors.json'), JSON.stringify(file, null, 1) + '\n')
  const counts = {}
  out.forEach((v) => { counts[v.kind] = (counts[v.kind] || 0) + 1 })
  console.log('wallets', walletOut.length, 'transactions', counts)
}
main().catch((e) => { console.error(e); process.exit(1) })
