// Generates ../vectors.json with the exact functions tatum-kms 8.0.1 calls
// for TRON: @tatumio/tron 2.2.100 kms.sign(pendingTx, privateKey), which is
// JSON.stringify(await tronWeb.trx.sign(JSON.parse(serializedTransaction), key))
// with tronweb 5.3.2. The unsigned transactions are built the way
// @tatumio/tron builds them for a signatureId (tronweb's transactionBuilder:
// sendTrx, sendToken, triggerSmartContract, addUpdateData), locally from a
// fixed block header so no node is needed. The Go tests read only the JSON.
// Run: npm install && node gen.js
const fs = require('fs')
const path = require('path')
const crypto = require('crypto')
const TronWeb = require('tronweb')
const { TatumTronSDK } = require('@tatumio/tron')

const det = (label) => crypto.createHash('sha256').update(label).digest()
const tw = new TronWeb({ fullHost: 'http://127.0.0.1:9' })
const sdk = TatumTronSDK({ apiKey: 'gokms-vectors' })

// Keys: fixed private keys (64 hex digits, as tatum-kms stores TRON keys).
const KEYS = []
for (let i = 0; i < 6; i++) KEYS.push(det('tron-key-' + i).toString('hex'))
const addr = (pk) => TronWeb.address.fromPrivateKey(pk)
const RECIPIENTS = ['TJRabPrwbZy45sbavfcjinPJC18kjpRTv8', 'TXLAQ63Xg1NAzckPwKHvzw7CSEmLMEqcdj', addr(det('tron-recipient').toString('hex'))]
const USDT = 'TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t'
const TOKEN_IDS = ['1000001', '1002000', '1004031']

function header(i) {
  const h = det('tron-block-' + i)
  const ts = 1733000000000 + i * 3000
  return { ref_block_bytes: h.subarray(0, 2).toString('hex'), ref_block_hash: h.subarray(8, 16).toString('hex'), expiration: ts + 60000, timestamp: ts }
}

async function main() {
  const pending = []
  const add = (kind, name, pk, tx) => pending.push({ kind, name, pk, tx })
  // TRX transfers (TransferContract), as @tatumio/tron sendTransaction with signatureId.
  for (let i = 0; i < 12; i++) {
    const pk = KEYS[i % KEYS.length]
    const amount = [1, 1000000, 123456789, 2 ** 53 - 1, 5, 999999999999, 42000000, 7, 1e12, 31, 250000, 100][i]
    const opts = { blockHeader: header(i) }
    if (i === 5 || i === 9) opts.permissionId = 2
    add('native', `TRX transfer ${i}${opts.permissionId ? ' (Permission_id 2)' : ''}`, pk, await tw.transactionBuilder.sendTrx(RECIPIENTS[i % 3], amount, addr(pk), opts))
  }
  // TRC-10 transfers (TransferAssetContract), as sendToken.
  for (let i = 0; i < 10; i++) {
    const pk = KEYS[(i + 1) % KEYS.length]
    const amount = [1, 1000, 1e6, 123456, 99, 5e9, 17, 1, 3000000, 2 ** 40][i]
    add('trc10', `TRC-10 transfer ${i} token ${TOKEN_IDS[i % 3]}`, pk, await tw.transactionBuilder.sendToken(RECIPIENTS[(i + 1) % 3], amount, TOKEN_IDS[i % 3], addr(pk), { blockHeader: header(100 + i) }))
  }
  // TRC-20 transfers (TriggerSmartContract transfer(address,uint256)), as
  // @tatumio/tron's prepareSignedTrc20Transaction with a fee limit.
  for (let i = 0; i < 10; i++) {
    const pk = KEYS[(i + 2) % KEYS.length]
    const value = (10n ** BigInt(i * 3)) * 1234567n
    const { transaction } = await tw.transactionBuilder.triggerSmartContract(
      TronWeb.address.toHex(i % 2 ? USDT : RECIPIENTS[2]), 'transfer(address,uint256)',
      { feeLimit: [1e8, 15e7, 5e6, 1e9, 1, 2e8, 3e7, 1e8, 4e8, 1e7][i], callValue: 0, txLocal: true, blockHeader: header(200 + i) },
      [{ type: 'address', value: RECIPIENTS[i % 3] }, { type: 'uint256', value: value.toString() }],
      TronWeb.address.toHex(addr(pk)))
    add('trc20', `TRC-20 transfer ${i}`, pk, transaction)
  }
  // Memos (raw_data.data), as addUpdateData on a transfer.
  for (let i = 0; i < 10; i++) {
    const pk = KEYS[(i + 3) % KEYS.length]
    let tx
    if (i % 2) {
      tx = await tw.transactionBuilder.sendTrx(RECIPIENTS[i % 3], 1000 + i, addr(pk), { blockHeader: header(300 + i) })
    } else {
      tx = (await tw.transactionBuilder.triggerSmartContract(TronWeb.address.toHex(USDT), 'transfer(address,uint256)',
        { feeLimit: 1e8, callValue: 0, txLocal: true, blockHeader: header(300 + i) },
        [{ type: 'address', value: RECIPIENTS[1] }, { type: 'uint256', value: String(1000000 * (i + 1)) }], TronWeb.address.toHex(addr(pk)))).transaction
    }
    const memo = ['invoice 42', 'gokms', 'x'.repeat(200), 'ünïcødé ✓', 'a', 'order #1234-5678', '{"json":"memo"}', 'm'.repeat(129), 'tab\tnewline\n', 'last'][i]
    tx = await tw.transactionBuilder.addUpdateData(tx, memo, 'utf8', { txLocal: true })
    add('memo', `memo ${i} on ${i % 2 ? 'TRX' : 'TRC-20'}`, pk, tx)
  }
  // visible: true (base58 addresses), as a node answers with visible=true.
  for (let i = 0; i < 4; i++) {
    const pk = KEYS[i]
    const tx = await tw.transactionBuilder.sendTrx(RECIPIENTS[i % 3], 5000 + i, addr(pk), { blockHeader: header(400 + i) })
    const v = tx.raw_data.contract[0].parameter.value
    v.owner_address = TronWeb.address.fromHex(v.owner_address)
    v.to_address = TronWeb.address.fromHex(v.to_address)
    tx.visible = true
    add('visible', `TRX transfer ${i} with visible: true`, pk, tx)
  }

  const out = []
  for (const { kind, name, pk, tx } of pending) {
    const serializedTransaction = JSON.stringify(tx)
    const txData = await sdk.kms.sign({ chain: 'TRON', serializedTransaction, hashes: [], id: 'x' }, pk, 'http://127.0.0.1:9')
    const signed = JSON.parse(txData)
    const sig = signed.signature[0]
    // Independent check: the signature recovers the owner's address.
    const recovered = TronWeb.utils.crypto.ecRecover(signed.txID, sig)
    if (TronWeb.address.fromHex(recovered) !== addr(pk)) throw new Error(name + ': signature does not recover the owner')
    out.push({ kind, name, privateKey: pk, address: addr(pk), serializedTransaction, txData, txID: tx.txID })
  }
  // JSON.stringify(JSON.parse(x)) for inputs with odd spacing, escapes and
  // number spellings: the re-serialization tronweb's output goes through.
  const jsonCases = [
    ' { "a" : 1 , "b" : [ true , false , null ] } ',
    '{"s":"quote \\" backslash \\\\ slash \\/ tab \\t nl \\n cr \\r bs \\b ff \\f"}',
    '{"u":"\\u0001\\u001f\\u007f\\u00e9\\u2028\\u2029\\ud83d\\ude00 é ✓ 😀"}',
    '{"n":[0,-0,1e3,1E+2,1.0,-5,9007199254740991,-9007199254740991,12.5e1,0.0]}',
    '{"nested":{"z":1,"a":{"y":[{"x":"1"}]}}}',
    '{"empty":{},"arr":[],"str":""}',
  ]
  const json = jsonCases.map((input) => ({ input, output: JSON.stringify(JSON.parse(input)) }))
  const file = { generator: 'testdata/tron/gen/gen.js', sdk: '@tatumio/tron 2.2.100, tronweb 5.3.2', transactions: out, json }
  fs.writeFileSync(path.join(__dirname, '..', 'vectors.json'), JSON.stringify(file, null, 1) + '\n')
  const counts = {}
  out.forEach((v) => { counts[v.kind] = (counts[v.kind] || 0) + 1 })
  console.log(counts)
}
main().catch((e) => { console.error(e); process.exit(1) })
