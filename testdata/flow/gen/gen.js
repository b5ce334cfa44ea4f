// Generates ../vectors.json for gokms's Flow keys and signer. tatum-kms 8.0.1
// signs FLOW through @tatumio/tatum 1.37.56 (not on the registry; its source
// is tatum-js branch v1: src/transaction/flow.ts, src/wallet/*.ts,
// src/transaction/flowTransaction/index.ts), which builds the transaction
// with @onflow/fcl 1.12.3 (-> @onflow/sdk 1.5.3) and signs with elliptic +
// sha3. This script uses the served building blocks directly:
//   keys: bip32 fromSeed(mnemonicToSeed).derivePath("m/44'/539'/0'/0").derive(i),
//     privateKey = elliptic keyFromPrivate(key).getPrivate().toString(16)
//     (unpadded hex), public key = uncompressed point hex without the 04;
//   code: prepareTransferFlowTxTemplate, copied from tatum-js v1 and run
//     through dedent-js 1.0.1 as the SDK does;
//   arguments: @onflow/types asArgument, as fcl.arg resolves them;
//   messages: @onflow/sdk encodeTransactionPayload / encodeTransactionEnvelope /
//     encodeTxIdFromVoucher;
//   signatures: flowSign (elliptic secp256k1 over SHA3-256, r || s, no low-S).
//   and, end to end, fcl.send exactly as the SDK's sendTransaction calls it
//     (getFlowSigner for the wallet, getFlowApiSigner's shape for Tatum's
//     proposer and payer), with an in-process transport standing in for the
//     access node: it answers the reference block and the proposer's sequence
//     number and hands the transaction to @onflow/transport-http's own send
//     with a capturing httpRequest, so the POST /v1/transactions body and the
//     messages fcl asks each signer to sign are fcl's own.
// What is not compared: the real network's answers (Tatum's keys, blocks,
// sequence numbers are injected) and fcl.tx(...).onceSealed().
// Run: npm install && node gen.js
const fs = require('fs')
const path = require('path')
const bip39 = require('bip39')
const bip32 = require('bip32')
const elliptic = require('elliptic')
const { SHA3 } = require('sha3')
const dedent = require('dedent-js')
const t = require('@onflow/types')
const sdk = require('@onflow/sdk')
const fcl = require('@onflow/fcl')
const transportHttp = require('@onflow/transport-http')

const ec = new elliptic.ec('secp256k1')
const FLOW_DERIVATION_PATH = "m/44'/539'/0'/0"
const FLOW_TESTNET_ADDRESSES = { FlowToken: '0x7e60df042a9c0868', FungibleToken: '0x9a0766d93b6608b7', FUSD: '0xe223d8a629e49c68' }
const FLOW_MAINNET_ADDRESSES = { FlowToken: '0x1654653399040a61', FungibleToken: '0xf233dcee88fe0abe', FUSD: '0x3c5959b568896393' }

// tatum-js v1 src/transaction/flowTransaction/index.ts
const prepareTransferFlowTxTemplate = (testnet, tokenAddress, tokenName, tokenStorage) =>
  dedent`import FungibleToken from ${testnet ? FLOW_TESTNET_ADDRESSES.FungibleToken : FLOW_MAINNET_ADDRESSES.FungibleToken}
  import ${tokenName} from ${tokenAddress}

transaction(amount: UFix64, recipient: Address) {
  let sentVault: @FungibleToken.Vault
  prepare(signer: AuthAccount) {
    let vaultRef = signer.borrow<&${tokenName}.Vault>(from: /storage/${tokenStorage}Vault)
      ?? panic("failed to borrow reference to sender vault")

    self.sentVault <- vaultRef.withdraw(amount: amount)
  }

  execute {
    let receiverRef =  getAccount(recipient)
      .getCapability(/public/${tokenStorage}Receiver)
      .borrow<&{FungibleToken.Receiver}>()
        ?? panic("failed to borrow reference to recipient vault")

    receiverRef.deposit(from: <-self.sentVault)
  }
}`

// tatum-js v1 src/transaction/flow.ts flowSign
const flowSign = (pk, msg) => {
  const keyPair = ec.keyFromPrivate(pk)
  const signature = keyPair.sign(new SHA3(256).update(msg).digest())
  return Buffer.concat([signature.r.toArrayLike(Buffer, 'be', 32), signature.s.toArrayLike(Buffer, 'be', 32)]).toString('hex')
}

const MNEMONICS = [
  'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about',
  'test walk nut penalty hip pave soap entry language right filter choice',
]

async function wallets() {
  const out = []
  for (const m of MNEMONICS) {
    const root = bip32.fromSeed(await bip39.mnemonicToSeed(m))
    const acct = root.derivePath(FLOW_DERIVATION_PATH)
    const keys = []
    const idx = [0, 1, 2, 3]
    // an index whose key has a leading zero nibble, printed shorter than 64 hex
    for (let i = 4; i < 400; i++) {
      if (ec.keyFromPrivate(acct.derive(i).privateKey).getPrivate().toString(16).length < 64) { idx.push(i); break }
    }
    for (const i of idx) {
      const k = ec.keyFromPrivate(acct.derive(i).privateKey)
      keys.push({ index: i, privateKey: k.getPrivate().toString(16), publicKey: k.getPublic().encode('hex', false).slice(2) })
    }
    out.push({ mnemonic: m, xpub: acct.neutered().toBase58(), keys })
  }
  return out
}

// Tatum's proposer and payer: test keys standing in for Tatum's.
const TATUM = {
  proposer: ec.keyFromPrivate(Buffer.from('11'.repeat(32), 'hex')),
  payer: ec.keyFromPrivate(Buffer.from('22'.repeat(32), 'hex')),
}

function sha3hex(s) { return new SHA3(256).update(s).digest('hex') }

// tatum-js v1 getFlowSigner / getFlowApiSigner, with Tatum's HTTP calls
// replaced by the injected key and in-process signatures.
function flowSigner(pk, address, keyId, seen) {
  return (account) => ({
    ...account, tempId: `${address}-${keyId}`, addr: fcl.sansPrefix(address), keyId: Number(keyId),
    signingFunction: async (data) => {
      seen.push({ address, keyId, message: data.message })
      return { addr: fcl.withPrefix(address), keyId: Number(keyId), signature: flowSign(pk, Buffer.from(data.message, 'hex')) }
    },
  })
}

async function fclSend(code, args, refBlock, proposer, sequenceNum, account, userKey, payer) {
  let captured
  const seen = []
  const transport = async (ix, context, opts) => {
    ix = await ix
    const r = context.response()
    r.tag = ix.tag
    if (context.ix.isGetBlock(ix)) {
      r.block = { id: refBlock, parentId: '00'.repeat(32), height: 1, timestamp: '', collectionGuarantees: [], blockSeals: [], signatures: [] }
      return r
    }
    if (context.ix.isGetAccount(ix)) {
      const keys = []
      for (let i = 0; i <= proposer.keyId; i++) keys.push({ index: i, publicKey: '', signAlgo: 2, hashAlgo: 3, weight: 0, sequenceNumber: i === proposer.keyId ? sequenceNum : 0, revoked: false })
      r.account = { address: ix.account.addr, balance: 0, code: '', contracts: {}, keys }
      return r
    }
    if (context.ix.isTransaction(ix)) {
      return transportHttp.send(ix, context, { ...opts, httpRequest: async (req) => { captured = req; return { id: '00'.repeat(32) } } })
    }
    throw new Error('unexpected interaction ' + ix.tag)
  }
  fcl.config().put('accessNode.api', 'http://access-node.invalid').put('sdk.transport', transport)
  await fcl.send([
    fcl.transaction(code),
    fcl.args(args.map((arg) => fcl.arg(arg.type === 'UInt64' ? parseInt(arg.value) : arg.value, arg.type === 'Array' ? t[arg.type](t[arg.subType]) : t[arg.type]))),
    fcl.proposer(flowSigner(TATUM.proposer.getPrivate('hex'), proposer.address, proposer.keyId, seen)),
    fcl.authorizations([flowSigner(userKey, account, 0, seen)]),
    fcl.payer(flowSigner(TATUM.payer.getPrivate('hex'), payer.address, payer.keyId, seen)),
    fcl.limit(9999),
  ])
  return { request: { method: captured.method, path: captured.path, body: captured.body }, seen }
}

async function main() {
  const ws = await wallets()
  const accounts = ['0x01cf0e2f2f715450', '0x179b6b1cb6755e31', '0xf8d6e0586b0a20c7', '0x0000000000000001']
  const recipients = ['0xe03daebed8ca0615', '0x045a1763c93006ca', '0x120e725050340cab']
  const plans = []
  for (const testnet of [false, true]) {
    plans.push({ kind: 'native', testnet, currency: 'FLOW', amount: '1.5', w: 0, i: 0 })
    plans.push({ kind: 'native', testnet, currency: 'FLOW', amount: '0.00000001', w: 0, i: 1 })
    plans.push({ kind: 'native', testnet, currency: 'FLOW', amount: '123456.78901234', w: 1, i: 2 })
    plans.push({ kind: 'native', testnet, currency: 'FLOW', amount: '10', w: 1, i: 'short', samePayer: true })
    plans.push({ kind: 'token', testnet, currency: 'FUSD', amount: '2.25', w: 0, i: 3 })
    plans.push({ kind: 'token', testnet, currency: 'FUSD', amount: '.5', w: 1, i: 0, samePayer: true })
    plans.push({ kind: 'custom', testnet, w: 0, i: 2, code: 'transaction(a: String, n: UInt64, to: Address, xs: [String]) {\n  prepare(signer: AuthAccount) { log(a) }\n}', args: [{ type: 'String', value: 'héllo "world"' }, { type: 'UInt64', value: '42' }, { type: 'Address', value: recipients[1] }, { type: 'Array', subType: 'String', value: ['a', 'b'] }] })
    plans.push({ kind: 'custom', testnet, w: 1, i: 1, code: 'transaction(amount: UFix64, ok: Bool, i: Int) { prepare(s: AuthAccount) {} }', args: [{ type: 'UFix64', value: '3.10000000' }, { type: 'Bool', value: true }, { type: 'Int', value: '-7' }] })
    plans.push({ kind: 'native', testnet, currency: 'FLOW', amount: '99.99999999', w: 0, i: 'short' })
    plans.push({ kind: 'custom', testnet, w: 0, i: 0, code: 'transaction { prepare(signer: AuthAccount) {} }', args: [], samePayer: true })
  }
  const pending = []
  let n = 0
  for (const p of plans) {
    const w = ws[p.w]
    const key = p.i === 'short' ? w.keys[w.keys.length - 1] : w.keys.find((k) => k.index === p.i)
    const account = accounts[n % accounts.length]
    const to = recipients[n % recipients.length]
    let code, args, body, type, rawArgs
    if (p.kind === 'custom') {
      type = 8 // FlowTxType.CUSTOM_TX
      code = p.code
      body = { account, transaction: p.code, args: p.args, signatureId: 'sig', index: key.index }
      rawArgs = p.args
      args = p.args.map((a) => a.type === 'Array' ? t.Array(t[a.subType]).asArgument(a.value) : t[a.type].asArgument(a.type === 'UInt64' ? parseInt(a.value) : a.value))
    } else {
      type = 2 // FlowTxType.TRANSFER
      const tokenAddress = p.currency === 'FLOW'
        ? (p.testnet ? FLOW_TESTNET_ADDRESSES.FlowToken : FLOW_MAINNET_ADDRESSES.FlowToken)
        : (p.testnet ? FLOW_TESTNET_ADDRESSES.FUSD : FLOW_MAINNET_ADDRESSES.FUSD)
      code = prepareTransferFlowTxTemplate(p.testnet, tokenAddress, p.currency === 'FLOW' ? 'FlowToken' : 'FUSD', p.currency === 'FLOW' ? 'flowToken' : 'fusd')
      body = { account, to, amount: p.amount, currency: p.currency, signatureId: 'sig', index: key.index }
      args = [t.UFix64.asArgument(parseFloat(p.amount).toFixed(8)), t.Address.asArgument(to)]
      rawArgs = [{ value: parseFloat(p.amount).toFixed(8), type: 'UFix64' }, { value: to, type: 'Address' }]
    }
    const tatumAddr = p.testnet ? '0x955e2f5e5dba4e8c' : '0x2d0c4ba1c2ee3f4d'
    const proposer = { address: tatumAddr, keyId: 1 + (n % 100) }
    const payer = { address: p.samePayer ? tatumAddr : (p.testnet ? '0x7aa15f4a0c1e7b1a' : '0x4aa4a1d7e4c5d39b'), keyId: 0 }
    const refBlock = sha3hex('block-' + n)
    const sequenceNum = 1000 + n
    const tx = {
      cadence: code, arguments: args, refBlock, computeLimit: 9999,
      proposalKey: { address: proposer.address.slice(2), keyId: proposer.keyId, sequenceNum },
      payer: payer.address.slice(2), authorizers: [account.slice(2)],
    }
    const payloadMsg = sdk.encodeTransactionPayload(tx)
    const userSig = flowSign(key.privateKey, Buffer.from(payloadMsg, 'hex'))
    const proposerSig = flowSign(TATUM.proposer.getPrivate('hex'), Buffer.from(payloadMsg, 'hex'))
    // fcl's inside signers: the authorizer, then the proposer (a different
    // tempId than the payer even when it is the same address).
    const payloadSigs = [
      { address: account.slice(2), keyId: 0, sig: userSig },
      { address: proposer.address.slice(2), keyId: proposer.keyId, sig: proposerSig },
    ]
    const envelopeMsg = sdk.encodeTransactionEnvelope({ ...tx, payloadSigs })
    const payerSig = flowSign(TATUM.payer.getPrivate('hex'), Buffer.from(envelopeMsg, 'hex'))
    const envelopeSigs = [{ address: payer.address.slice(2), keyId: payer.keyId, sig: payerSig }]
    const txId = sdk.encodeTxIdFromVoucher({ ...tx, payloadSigs, envelopeSigs })
    const f = await fclSend(code, rawArgs, refBlock, proposer, sequenceNum, account, key.privateKey, payer)
    const want = { [`${account}-0`]: payloadMsg, [`${proposer.address}-${proposer.keyId}`]: payloadMsg, [`${payer.address}-${payer.keyId}`]: envelopeMsg }
    if (f.seen.length !== 3) throw new Error(`fcl asked ${f.seen.length} signatures`)
    for (const x of f.seen) {
      if (want[`${x.address}-${x.keyId}`] !== x.message) throw new Error(`fcl message for ${x.address}-${x.keyId} differs from the encode functions'`)
    }
    pending.push({
      kind: p.kind, testnet: p.testnet,
      pending: { id: `flow-pending-${n}`, chain: 'FLOW', serializedTransaction: JSON.stringify({ type, body }), hashes: [`flow-wallet-${p.w}`], index: key.index },
      wallet: p.w, privateKey: key.privateKey, publicKey: key.publicKey,
      proposer, payer, refBlock, sequenceNum,
      cadence: code, arguments: args,
      payloadMessage: payloadMsg, userSignature: userSig, proposerSignature: proposerSig,
      envelopeMessage: envelopeMsg, payerSignature: payerSig, txId,
      fclRequest: f.request,
    })
    n++
  }
  const out = {
    generator: 'testdata/flow/gen/gen.js',
    libraries: { '@onflow/sdk': require('@onflow/sdk/package.json').version, '@onflow/types': require('@onflow/types/package.json').version, elliptic: require('elliptic/package.json').version, sha3: '2.1.4', 'dedent-js': '1.0.1' },
    tatum: { proposerPrivateKey: TATUM.proposer.getPrivate('hex'), proposerPublicKey: TATUM.proposer.getPublic().encode('hex', false).slice(2), payerPrivateKey: TATUM.payer.getPrivate('hex'), payerPublicKey: TATUM.payer.getPublic().encode('hex', false).slice(2) },
    wallets: ws, pending,
  }
  fs.writeFileSync(path.join(__dirname, '..', 'vectors.json'), JSON.stringify(out, null, 2) + '\n')
  console.log(`wrote ${pending.length} pending transactions`)
}
main().catch((e) => { console.error(e); process.exit(1) })
