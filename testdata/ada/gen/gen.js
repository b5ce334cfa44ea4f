// Generates ../vectors.json for gokms's Cardano (ADA) keys and signer with the
// libraries tatum-kms 8.0.1 resolves through @tatumio/cardano 2.2.88 (not on
// the registry; its source is tatum-js branch v2, packages/blockchain/cardano):
//   keys: new CmlBip32Ed25519(CML) from @cardano-sdk/crypto 0.1.31 with the CML
//   that @cardano-sdk/core 0.10.0 exports, exactly the calls of
//   cardano.sdk.wallet.ts (fromBip39Entropy(entropy, ''), derivePrivateKey with
//   [1852', 1815', 0', 0', i], getRawPrivateKey, getBip32PublicKey,
//   derivePublicKey(xpub, [i]), getRawPublicKey, getPublicKey, sign), cross-checked
//   against cardano-crypto.js 6.1.2 (derivation scheme 2).
//   pending transactions: the Rosetta operations JSON that cardano.sdk.tx.ts
//   prepareSignedTransaction returns for a signatureId body (its operation
//   shape is copied below), and, per transaction, what a cardano-rosetta node
//   answers to construction/payloads (unsigned_transaction = cbor([body hex,
//   extra data]) and one payload per input address holding blake2b-256 of the
//   body) and to construction/combine, built with CML;
//   sdkRequests: the four request bodies the SDK's signPayload (copied from
//   cardano.sdk.tx.ts, signing through the SDK's CmlBip32Ed25519) sends for
//   those answers, and a check that its result is the same signed transaction.
// Addresses: construction/derive with no metadata answers an enterprise
// address (header 0x61 mainnet / 0x60 preprod, blake2b-224 of the key), so
// gokms computes it locally; the vectors hold CML's EnterpriseAddress.
// Run: npm install && node gen.js
const fs = require('fs')
const path = require('path')
const bip39 = require('bip39')
const cbor = require('borc')
const { CML } = require('@cardano-sdk/core')
const Crypto = require('@cardano-sdk/crypto')
const cc = require('cardano-crypto.js')

const bip = new Crypto.CmlBip32Ed25519(CML)
const harden = (n) => 2147483648 + n

const MNEMONICS = [
  'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon art',
  'test walk nut penalty hip pave soap entry language right filter choice',
  'excess behave track soul table wear ocean cash stay nature item turtle palm soccer lunch horror start stumble month panic right must lock dress',
]

function enterprise(rawPubHex, testnet) {
  const pub = CML.PublicKey.from_bytes(Buffer.from(rawPubHex, 'hex'))
  const cred = CML.StakeCredential.from_keyhash(pub.hash())
  return CML.EnterpriseAddress.new(testnet ? 0 : 1, cred).to_address().to_bech32()
}

async function wallets() {
  const out = []
  for (const m of MNEMONICS) {
    const entropy = Buffer.from(bip39.mnemonicToEntropy(m), 'hex')
    const root = await bip.fromBip39Entropy(entropy, '')
    const acct = await bip.derivePrivateKey(root, [harden(1852), harden(1815), harden(0), harden(0)])
    const xpub = await bip.getBip32PublicKey(acct)
    // cardano-crypto.js: the independent implementation of the same scheme.
    let kp = await cc.mnemonicToRootKeypair(m, 2)
    if (Buffer.from(kp.slice(0, 64)).toString('hex') + Buffer.from(kp.slice(96, 128)).toString('hex') !== root) {
      throw new Error('cardano-crypto.js root differs from CML root')
    }
    for (const i of [harden(1852), harden(1815), harden(0), harden(0)]) kp = cc.derivePrivate(kp, i, 2)
    const keys = []
    for (const i of [0, 1, 2, 5, 1000]) {
      const k = await bip.derivePrivateKey(root, [harden(1852), harden(1815), harden(0), harden(0), i])
      const raw = await bip.getRawPrivateKey(k)
      const pub = await bip.getPublicKey(raw)
      const pubFromXpub = await bip.getRawPublicKey(await bip.derivePublicKey(xpub, [i]))
      if (pub !== pubFromXpub) throw new Error('xpub derivation differs')
      const ckp = cc.derivePrivate(kp, i, 2)
      if (Buffer.from(ckp.slice(0, 64)).toString('hex') !== raw) throw new Error('cardano-crypto.js child differs')
      keys.push({ index: i, privateKey: raw, publicKey: pub, mainnet: enterprise(pub, false), testnet: enterprise(pub, true) })
    }
    out.push({ mnemonic: m, root, accountXprv: acct, xpub, keys })
  }
  return out
}

// The operation shapes of cardano.sdk.tx.ts prepareSignedTransaction.
function inputOp(idx, utxo, address) {
  return {
    operation_identifier: { index: idx, network_index: utxo.index },
    related_operations: [], type: 'input', status: 'success',
    account: { address, metadata: {} },
    amount: { value: `${-utxo.value}`, currency: { symbol: 'ADA', decimals: 6 } },
    coin_change: { coin_identifier: { identifier: utxo.txHash + ':' + utxo.index }, coin_action: 'coin_created' },
    metadata: {},
  }
}
function outputOp(idx, outIdx, address, value) {
  return {
    operation_identifier: { index: idx, network_index: outIdx },
    related_operations: [], type: 'output', status: 'success',
    account: { address, metadata: {} },
    amount: { value: `${value}`, currency: { symbol: 'ADA', decimals: 6 }, metadata: {} },
    metadata: {},
  }
}

function buildBody(ops, fee, ttl) {
  const ins = CML.TransactionInputs.new()
  const outs = CML.TransactionOutputs.new()
  for (const op of ops) {
    if (op.type === 'input') {
      const [h, i] = op.coin_change.coin_identifier.identifier.split(':')
      ins.add(CML.TransactionInput.new(CML.TransactionHash.from_bytes(Buffer.from(h, 'hex')), CML.BigNum.from_str(i)))
    } else {
      outs.add(CML.TransactionOutput.new(CML.Address.from_bech32(op.account.address), CML.Value.new(CML.BigNum.from_str(op.amount.value))))
    }
  }
  return CML.TransactionBody.new(ins, outs, CML.BigNum.from_str(`${fee}`), CML.BigNum.from_str(`${ttl}`))
}

function rosettaEncode(txHex, ops) {
  return cbor.encode([txHex, { operations: ops }]).toString('hex')
}

async function signedTx(body, sigs, ops) {
  const ws = CML.TransactionWitnessSet.new()
  const vk = CML.Vkeywitnesses.new()
  for (const s of sigs) {
    vk.add(CML.Vkeywitness.new(CML.Vkey.new(CML.PublicKey.from_bytes(Buffer.from(s.publicKey, 'hex'))),
      CML.Ed25519Signature.from_bytes(Buffer.from(s.signature, 'hex'))))
  }
  ws.set_vkeys(vk)
  const tx = CML.Transaction.new(body, ws)
  return rosettaEncode(Buffer.from(tx.to_bytes()).toString('hex'), ops)
}

// The node's canned answers to preprocess and metadata; signing/ada's
// stand-in answers the same.
const PREPROCESS_ANSWER = { options: { relative_ttl: 1000, transaction_size: 285 } }
const METADATA_ANSWER = {
  metadata: { ttl: '91000000', protocol_parameters: { minFeeA: 44, minFeeB: 155381 } },
  suggested_fee: [{ value: '170000', currency: { symbol: 'ADA', decimals: 6 } }],
}

// cardano.sdk.tx.ts signPayload and signKmsTransaction (tatum-js v2), copied
// with apiCalls.rpcCall recording each request; cardanoUtils is the SDK's
// (CmlBip32Ed25519 over @cardano-sdk/core's CML). construction/derive is
// answered with the enterprise address the node derives.
async function sdkSign(privateKeys, serialized, testnet, answers) {
  const requests = []
  const cardanoUtils = {
    networkIdentifier: (testnet) => ({ network_identifier: { blockchain: 'cardano', network: testnet ? 'preprod' : 'mainnet' } }),
    privateKeyToPublicHex: (privateKey) => bip.getPublicKey(privateKey),
    sign: (privateKey, message) => bip.sign(privateKey, message),
  }
  const rpcCall = async (_apiKey, chain, path, body) => {
    if (path === 'construction/derive') return { account_identifier: { address: enterprise(body.public_key.hex_bytes, chain === 'cardano-preprod') } }
    requests.push({ chain, endpoint: path, body: JSON.parse(JSON.stringify(body)) })
    return answers[path]
  }
  const options = { testnet }
  const signPayload = async (privateKeysToSign, operations, network_identifier, options) => {
    const preprocess = await rpcCall('', options?.testnet ? 'cardano-preprod' : 'cardano-mainnet', 'construction/preprocess', { network_identifier, operations, metadata: { relative_ttl: 1000 } })
    const metadata = await rpcCall('', options?.testnet ? 'cardano-preprod' : 'cardano-mainnet', 'construction/metadata', { network_identifier, ...preprocess })
    const { unsigned_transaction, payloads } = await rpcCall('', options?.testnet ? 'cardano-preprod' : 'cardano-mainnet', 'construction/payloads', { network_identifier, operations, ...metadata })
    const signatures = []
    for (const signing_payload of payloads) {
      const { account_identifier: { address } } = signing_payload
      signatures.push({
        signing_payload,
        public_key: { hex_bytes: await cardanoUtils.privateKeyToPublicHex(privateKeysToSign[address]), curve_type: 'edwards25519' },
        signature_type: 'ed25519',
        hex_bytes: await cardanoUtils.sign(privateKeysToSign[address], signing_payload.hex_bytes),
      })
    }
    const { signed_transaction } = await rpcCall('', options?.testnet ? 'cardano-preprod' : 'cardano-mainnet', 'construction/combine', { network_identifier, unsigned_transaction, signatures })
    return signed_transaction
  }
  const { network_identifier } = cardanoUtils.networkIdentifier(options.testnet)
  const operations = JSON.parse(serialized)
  const pks = {}
  for (const privateKey of privateKeys) {
    const pub = await bip.getPublicKey(privateKey)
    pks[(await rpcCall('', testnet ? 'cardano-preprod' : 'cardano-mainnet', 'construction/derive', { public_key: { hex_bytes: pub } })).account_identifier.address] = privateKey
  }
  const signed = await signPayload(pks, operations, network_identifier, options)
  return { signed, requests }
}

function txHash(n) {
  return require('crypto').createHash('sha256').update('gokms-ada-utxo-' + n).digest('hex')
}

async function main() {
  const ws = await wallets()
  const recipientsMain = [ws[2].keys[0].mainnet, ws[2].keys[1].mainnet]
  const recipientsTest = [ws[2].keys[0].testnet, ws[2].keys[1].testnet]
  const pending = []
  let n = 0
  // kinds: single input/output with change, several inputs one key, several
  // keys, several recipients, no change, off-chain withdrawal (mnemonic keys).
  const plans = []
  for (const testnet of [false, true]) {
    const to = testnet ? recipientsTest : recipientsMain
    plans.push({ kind: 'native', testnet, from: [[0, 0, [5000000]]], to: [[to[0], 1500000]], fee: 170000 })
    plans.push({ kind: 'native', testnet, from: [[0, 1, [2000000, 3000000]]], to: [[to[1], 4000000]], fee: 180000 })
    plans.push({ kind: 'several-signers', testnet, from: [[0, 0, [1000000]], [1, 0, [2500000]]], to: [[to[0], 3000000]], fee: 190000 })
    plans.push({ kind: 'several-recipients', testnet, from: [[1, 2, [9000000]]], to: [[to[0], 1000000], [to[1], 2000000]], fee: 200000 })
    plans.push({ kind: 'no-change', testnet, from: [[0, 5, [1171000]]], to: [[to[1], 1000000]], fee: 171000 })
    plans.push({ kind: 'several-signers', testnet, from: [[0, 0, [1500000]], [0, 1, [1500000]], [1, 1, [1500000]]], to: [[to[0], 4000000]], fee: 210000 })
    plans.push({ kind: 'withdrawal', testnet, from: [[0, 0, [3000000]]], to: [[to[0], 2000000]], fee: 175000 })
    plans.push({ kind: 'withdrawal', testnet, from: [[0, 2, [3000000]], [1, 5, [4000000]]], to: [[to[1], 5000000]], fee: 185000 })
    plans.push({ kind: 'native', testnet, from: [[1, 1000, [250000000]]], to: [[to[0], 123456789]], fee: 168000 })
    plans.push({ kind: 'several-recipients', testnet, from: [[0, 2, [10000000, 20000000]]], to: [[to[0], 3000000], [to[1], 4000000], [to[0], 5000000]], fee: 220000 })
  }
  for (const p of plans) {
    const ops = []
    let opIndex = 0
    let total = 0
    const signers = []
    for (const [w, idx, values] of p.from) {
      const k = ws[w].keys.find((x) => x.index === idx)
      const address = p.testnet ? k.testnet : k.mainnet
      for (const v of values) {
        ops.push(inputOp(opIndex++, { txHash: txHash(n++), index: n % 3, value: v }, address))
        total += v
      }
      signers.push({ wallet: w, index: idx, privateKey: k.privateKey, publicKey: k.publicKey, address })
    }
    let outIdx = 0
    let out = 0
    for (const [addr, v] of p.to) { ops.push(outputOp(opIndex++, outIdx++, addr, v)); out += v }
    const change = signers[0].address
    if (total > out + p.fee) ops.push(outputOp(opIndex++, outIdx++, change, total - out - p.fee))
    const body = buildBody(ops, p.fee, 90000000 + n)
    const bodyHex = Buffer.from(body.to_bytes()).toString('hex')
    const hash = Buffer.from(CML.hash_transaction(body).to_bytes()).toString('hex')
    const uniq = [...new Map(signers.map((s) => [s.address, s])).values()]
    const payloads = uniq.map((s) => ({ account_identifier: { address: s.address }, hex_bytes: hash, signature_type: 'ed25519' }))
    const sigs = []
    for (const s of uniq) {
      const sig = await bip.sign(s.privateKey, hash)
      if (!(await bip.verify(sig, hash, s.publicKey))) throw new Error('verify')
      const csig = Buffer.from(cc.sign(Buffer.from(hash, 'hex'), Buffer.concat([Buffer.from(s.privateKey, 'hex'), Buffer.from(s.publicKey, 'hex'), Buffer.alloc(32)]))).toString('hex')
      if (csig !== sig) throw new Error('cardano-crypto.js signature differs')
      sigs.push({ address: s.address, publicKey: s.publicKey, signature: sig })
    }
    const signatureIds = uniq.map((s, i) => `ada-${pending.length}-${i}`)
    const unsignedTransaction = rosettaEncode(bodyHex, ops)
    const signedTransaction = await signedTx(body, sigs, ops)
    const sdk = await sdkSign(uniq.map((s) => s.privateKey), JSON.stringify(ops), p.testnet, {
      'construction/preprocess': PREPROCESS_ANSWER,
      'construction/metadata': METADATA_ANSWER,
      'construction/payloads': { unsigned_transaction: unsignedTransaction, payloads },
      'construction/combine': { signed_transaction: signedTransaction },
    })
    if (sdk.signed !== signedTransaction) throw new Error('SDK flow result differs')
    pending.push({
      kind: p.kind,
      testnet: p.testnet,
      pending: {
        id: `ada-pending-${pending.length}`,
        chain: 'ADA',
        serializedTransaction: JSON.stringify(ops),
        hashes: p.kind === 'withdrawal' ? [] : signatureIds,
        withdrawalId: p.kind === 'withdrawal' ? `wd-${pending.length}` : undefined,
        signatures: p.kind === 'withdrawal' ? uniq.map((s) => ({ id: `mnemonic-${s.wallet}`, index: s.index })) : undefined,
      },
      signers: uniq,
      fee: p.fee,
      ttl: 90000000 + n,
      bodyHex,
      bodyHash: hash,
      unsignedTransaction,
      payloads,
      signatures: sigs,
      signedTransaction,
      sdkRequests: sdk.requests,
    })
  }
  // Plain ed25519 keys (64 hex, what storemanagedprivatekey may hold):
  // CmlBip32Ed25519 takes them through PrivateKey.from_normal_bytes.
  const normal = []
  for (let i = 0; i < 3; i++) {
    const seed = require('crypto').createHash('sha256').update('gokms-ada-normal-' + i).digest('hex')
    const pub = await bip.getPublicKey(seed)
    const msg = txHash(1000 + i)
    normal.push({ privateKey: seed, publicKey: pub, mainnet: enterprise(pub, false), testnet: enterprise(pub, true), message: msg, signature: await bip.sign(seed, msg) })
  }
  const out = { preprocessAnswer: PREPROCESS_ANSWER, metadataAnswer: METADATA_ANSWER, generator: 'testdata/ada/gen/gen.js', libraries: { '@cardano-sdk/core': '0.10.0', '@cardano-sdk/crypto': '0.1.31', '@dcspark/cardano-multiplatform-lib-nodejs': require('@dcspark/cardano-multiplatform-lib-nodejs/package.json').version, 'cardano-crypto.js': '6.1.2' }, wallets: ws, normalKeys: normal, pending }
  fs.writeFileSync(path.join(__dirname, '..', 'vectors.json'), JSON.stringify(out, null, 2) + '\n')
  console.log(`wrote ${pending.length} pending transactions, ${ws.length} wallets`)
}
main().catch((e) => { console.error(e); process.exit(1) })
