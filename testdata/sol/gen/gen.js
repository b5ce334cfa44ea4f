// Generates ../vectors.json for gokms's Solana keys and signer.
//
// Keys: @tatumio/solana 2.2.100's solanaWallet() (what tatum-kms's
// generatewallet/storemanagedwallet SOL call): SLIP-10 ed25519 from the BIP39
// seed at m/44'/501'/0'/0'/<index>', privateKey = base58 of the 64-byte secret.
//
// Signing: the pending transaction's serializedTransaction is what the SDK's
// prepare functions return in KMS mode ({txData: hex of the compiled message
// with the placeholder blockhash, mintPK?}); the messages are built here with
// the same web3.js / spl-token calls the SDK uses. Each one is then signed by
// the very function tatum-kms 8.0.1 calls, TatumSolanaSDK({apiKey, url}).kms
// .sign(pending, privateKeys), which rebuilds the transaction with a fresh
// blockhash and sends it to the node at <url>/v3/blockchain/node/SOL/<apiKey>.
// That node is a local JSON-RPC server below: it hands out a fixed blockhash
// per vector, records the wire transaction web3.js sends, and answers
// getTransaction so the SDK's confirmation loop ends. The recorded JSON-RPC
// requests are written too (the Go stand-in speaks the same protocol).
//
// Run: npm install && node gen.js. CI reads only ../vectors.json.
const fs = require('fs')
const path = require('path')
const http = require('http')
const crypto = require('crypto')
const web3 = require('@solana/web3.js')
const spl = require('@solana/spl-token')
const bs58 = require('bs58')
const { TatumSolanaSDK } = require('@tatumio/solana')
const { createAssociatedTokenAccountInstruction } = require('@tatumio/solana/src/lib/schema/instructions')

const PLACEHOLDER = '7WyEshBZcZwEbJsvSeGgCkSNMxxxFAym3x7Cuj6UjAUE' // the SDK's KMS-mode blockhash
const MEMO_PROGRAM = new web3.PublicKey('MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr')
const API_KEY = 'test-api-key'

const MNEMONICS = [
  'quantum tobacco key they maid mean crime youth chief jungle mind design broken tilt bus shoulder leaf good forward erupt split divert bread kitten',
  'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about',
]

function seeded(label) { // deterministic keypair for recipients, mints, fee payers
  return web3.Keypair.fromSeed(crypto.createHash('sha256').update('gokms-sol-' + label).digest())
}
function blockhashFor(i) {
  return bs58.encode(crypto.createHash('sha256').update('gokms-sol-blockhash-' + i).digest())
}

// ---- the local Solana node -------------------------------------------------
let current = null // {blockhash, lastValidBlockHeight, sent: [], requests: []}
const server = http.createServer((req, res) => {
  let body = ''
  req.on('data', c => { body += c })
  req.on('end', () => {
    const calls = JSON.parse(body)
    const batch = Array.isArray(calls)
    const out = (batch ? calls : [calls]).map(call => {
      current.requests.push({ path: req.url, method: call.method, params: call.params })
      switch (call.method) {
        case 'getLatestBlockhash':
          return { jsonrpc: '2.0', id: call.id, result: { context: { slot: 1000 }, value: { blockhash: current.blockhash, lastValidBlockHeight: current.lastValidBlockHeight } } }
        case 'sendTransaction': {
          const wire = Buffer.from(call.params[0], 'base64')
          current.sent.push(wire)
          const tx = web3.Transaction.from(wire)
          return { jsonrpc: '2.0', id: call.id, result: bs58.encode(tx.signature) }
        }
        case 'getTransaction': {
          const tx = web3.Transaction.from(current.sent[current.sent.length - 1])
          const msg = tx.compileMessage()
          return {
            jsonrpc: '2.0', id: call.id, result: {
              slot: 1001, blockTime: null,
              meta: { err: null, fee: 5000, preBalances: msg.accountKeys.map(() => 0), postBalances: msg.accountKeys.map(() => 0), innerInstructions: [], logMessages: [], preTokenBalances: [], postTokenBalances: [] },
              transaction: {
                signatures: tx.signatures.map(s => bs58.encode(s.signature)),
                message: { header: msg.header, accountKeys: msg.accountKeys.map(k => k.toBase58()), recentBlockhash: msg.recentBlockhash, instructions: msg.instructions },
              },
            },
          }
        }
        default:
          return { jsonrpc: '2.0', id: call.id, error: { code: -32601, message: 'Method not found' } }
      }
    })
    res.setHeader('Content-Type', 'application/json')
    res.end(JSON.stringify(batch ? out : out[0]))
  })
})

// ---- wallets ----------------------------------------------------------------
const sdk0 = TatumSolanaSDK({ apiKey: '' })
const wallets = []
for (const mnemonic of MNEMONICS) {
  for (const index of [0, 1, 2, 5]) {
    const w = sdk0.wallet.generateAddressFromMnemonic(mnemonic, index)
    wallets.push({ mnemonic, index, address: w.address, privateKey: w.privateKey })
  }
}
// wallet(privateKey) as storemanagedprivatekey-era tooling calls it: base58 and hex forms.
const fromKeys = []
for (let i = 0; i < 3; i++) {
  const kp = seeded('pk-' + i)
  const b58 = sdk0.wallet.wallet(bs58.encode(kp.secretKey))
  const hex = sdk0.wallet.wallet(Buffer.from(kp.secretKey).toString('hex'))
  fromKeys.push({ input: bs58.encode(kp.secretKey), address: b58.address, privateKey: b58.privateKey })
  fromKeys.push({ input: Buffer.from(kp.secretKey).toString('hex'), address: hex.address, privateKey: hex.privateKey })
}

const kp = w => web3.Keypair.fromSecretKey(bs58.decode(w.privateKey))

// ---- pending transactions, as the SDK's KMS-mode prepare functions make them --
function compile(tx) {
  tx.recentBlockhash = PLACEHOLDER
  return tx.compileMessage().serialize().toString('hex')
}

function nativeTx(from, to, lamports, feePayer) {
  const tx = new web3.Transaction({ feePayer: feePayer || from })
  tx.add(web3.SystemProgram.transfer({ fromPubkey: from, toPubkey: to, lamports: BigInt(lamports) }))
  return tx
}

async function splTx(from, to, mint, amount, createAta, feePayer) {
  const feePayerKey = feePayer || from
  const tx = new web3.Transaction({ feePayer: feePayerKey })
  const fromToken = await spl.getAssociatedTokenAddress(mint, from)
  const toToken = await spl.getAssociatedTokenAddress(mint, to)
  if (createAta) tx.add(createAssociatedTokenAccountInstruction(toToken, feePayerKey, to, mint))
  tx.add(spl.createTransferInstruction(fromToken, toToken, from, BigInt(amount), [], spl.TOKEN_PROGRAM_ID))
  return tx
}

async function deployTx(from, mint, digits, supply, feePayer) {
  // deploySignedTransaction: createAccount + initializeMint + ATA + mintTo; the mint's
  // secret travels as mintPK.
  const feePayerKey = feePayer || from
  const tx = new web3.Transaction({ feePayer: feePayerKey })
  tx.add(web3.SystemProgram.createAccount({ fromPubkey: feePayerKey, newAccountPubkey: mint.publicKey, space: spl.MINT_SIZE, lamports: 1461600, programId: spl.TOKEN_PROGRAM_ID }),
    spl.createInitializeMintInstruction(mint.publicKey, digits, from, from, spl.TOKEN_PROGRAM_ID))
  const ata = (await web3.PublicKey.findProgramAddress([from.toBuffer(), spl.TOKEN_PROGRAM_ID.toBuffer(), mint.publicKey.toBuffer()], new web3.PublicKey('ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL')))[0]
  tx.add(createAssociatedTokenAccountInstruction(ata, feePayerKey, from, mint.publicKey),
    spl.createMintToInstruction(mint.publicKey, ata, from, BigInt(supply), [], spl.TOKEN_PROGRAM_ID))
  return tx
}

function memoTx(from, to, lamports, memo) {
  const tx = nativeTx(from, to, lamports)
  tx.add(new web3.TransactionInstruction({ keys: [{ pubkey: from, isSigner: true, isWritable: false }], programId: MEMO_PROGRAM, data: Buffer.from(memo, 'utf8') }))
  return tx
}

// permute reverses the order of the accounts inside each header group except the
// fee payer (index 0) and remaps the instruction indexes, which keeps the
// message's meaning while leaving web3.js's sort order.
function permute(hex, salt) {
  const m = web3.Message.from(Buffer.from(hex, 'hex'))
  const h = m.header
  const n = m.accountKeys.length
  const groups = [[1, h.numRequiredSignatures - h.numReadonlySignedAccounts], [h.numRequiredSignatures - h.numReadonlySignedAccounts, h.numRequiredSignatures], [h.numRequiredSignatures, n - h.numReadonlyUnsignedAccounts], [n - h.numReadonlyUnsignedAccounts, n]]
  const order = [0]
  for (const [a, b] of groups) {
    const g = []
    for (let k = a; k < b; k++) g.push(k)
    if (salt % 2 === 0) g.reverse(); else if (g.length) g.push(g.shift())
    order.push(...g)
  }
  const where = new Map(order.map((old, nw) => [old, nw]))
  const msg = new web3.Message({
    header: h,
    accountKeys: order.map(k => m.accountKeys[k].toBase58()),
    recentBlockhash: m.recentBlockhash,
    instructions: m.instructions.map(ix => ({ programIdIndex: where.get(ix.programIdIndex), accounts: ix.accounts.map(a => where.get(a)), data: ix.data })),
  })
  return msg.serialize().toString('hex')
}

async function main() {
  await new Promise(r => server.listen(0, '127.0.0.1', r))
  const url = `http://127.0.0.1:${server.address().port}`
  const sdk = TatumSolanaSDK({ apiKey: API_KEY, url })

  const cases = []
  let n = 0
  const W = i => wallets[i % wallets.length]
  for (let i = 0; i < 12; i++) {
    const w = W(i); const to = seeded('to-' + i).publicKey
    cases.push({ kind: 'native', name: `native-${i}`, signers: [w], tx: nativeTx(kp(w).publicKey, to, 1000 * (i + 1) + i) })
  }
  for (let i = 0; i < 10; i++) {
    const w = W(i); const fp = W(i + 3); const to = seeded('to-fp-' + i).publicKey
    cases.push({ kind: 'native-feepayer', name: `native-feepayer-${i}`, signers: [w, fp], tx: nativeTx(kp(w).publicKey, to, 500000 + i, kp(fp).publicKey) })
  }
  for (let i = 0; i < 12; i++) {
    const w = W(i); const to = seeded('spl-to-' + i).publicKey; const mint = seeded('mint-' + (i % 3)).publicKey
    const withFp = i % 4 === 3
    const fp = W(i + 1)
    const tx = await splTx(kp(w).publicKey, to, mint, 10n ** BigInt(i % 7) * 12345n, i % 2 === 0, withFp ? kp(fp).publicKey : undefined)
    cases.push({ kind: 'spl', name: `spl-${i}`, signers: withFp ? [w, fp] : [w], tx })
  }
  for (let i = 0; i < 10; i++) {
    const w = W(i); const to = seeded('memo-to-' + i).publicKey
    const memos = ['invoice 42', 'gokms', 'žluťoučký kůň', 'a'.repeat(120), '{"ref":"x"}', '1', 'payout #7', 'テスト', 'memo with spaces ', 'end']
    cases.push({ kind: 'memo', name: `memo-${i}`, signers: [w], tx: memoTx(kp(w).publicKey, to, 7777 + i, memos[i]) })
  }
  for (let i = 0; i < 10; i++) {
    const w = W(i); const mint = seeded('deploy-mint-' + i)
    const withFp = i % 3 === 2
    const fp = W(i + 2)
    const tx = await deployTx(kp(w).publicKey, mint, i % 10, 10n ** 9n * BigInt(i + 1), withFp ? kp(fp).publicKey : undefined)
    cases.push({ kind: 'deploy', name: `deploy-${i}`, signers: withFp ? [w, fp] : [w], mint, tx })
  }

  // Several recipients in one transaction: the recipients' order in the
  // compiled message is web3.js's localeCompare sort, which differs from
  // byte order (upper case before lower) for most of these sets.
  for (let i = 0; i < 10; i++) {
    const w = W(i)
    const tx = new web3.Transaction({ feePayer: kp(w).publicKey })
    for (let j = 0; j < 8 + (i % 5); j++) tx.add(web3.SystemProgram.transfer({ fromPubkey: kp(w).publicKey, toPubkey: seeded(`multi-${i}-${j}`).publicKey, lamports: BigInt(1000 + j) }))
    cases.push({ kind: 'multi', name: `multi-${i}`, signers: [w], tx })
  }

  // Messages whose accounts are not in web3.js's order (another SDK, or a
  // hand-made message): kms.sign's recompile sorts them again, so the signed
  // message differs from txData. gokms must reproduce that exactly.
  for (let i = 0; i < 10; i++) {
    const base = cases[12 + i] // native-feepayer-i: 2 signers, 2 writable, 1 program
    const spl_ = cases[22 + i] // spl-i
    const src = i % 2 === 0 ? base : spl_
    cases.push({ kind: 'reordered', name: `reordered-${i}`, signers: src.signers, txData: permute(compile(src.tx), i) })
  }

  const vectors = []
  for (const c of cases) {
    const txData = c.txData || compile(c.tx)
    const serialized = c.mint ? JSON.stringify({ txData, mintPK: Buffer.from(c.mint.secretKey).toString('hex') }) : JSON.stringify({ txData })
    current = { blockhash: blockhashFor(n), lastValidBlockHeight: 5000 + n, sent: [], requests: [] }
    n++
    const pending = { id: 'pending-' + c.name, chain: 'SOL', serializedTransaction: serialized, hashes: c.signers.map((_, j) => `sig-${c.name}-${j}`) }
    const txId = await sdk.kms.sign(pending, c.signers.map(s => s.privateKey))
    if (current.sent.length !== 1) throw new Error(c.name + ': expected one sendTransaction, saw ' + current.sent.length)
    const wire = current.sent[0]
    const parsed = web3.Transaction.from(wire)
    if (!parsed.verifySignatures()) throw new Error(c.name + ': signatures do not verify')
    if (bs58.encode(parsed.signature) !== txId) throw new Error(c.name + ': txId is not the first signature')
    vectors.push({
      name: c.name, kind: c.kind,
      privateKeys: c.signers.map(s => s.privateKey),
      addresses: c.signers.map(s => s.address),
      pending,
      blockhash: current.blockhash,
      lastValidBlockHeight: current.lastValidBlockHeight,
      signedMessage: parsed.serializeMessage().toString('hex'),
      wire: wire.toString('base64'),
      txId,
      broadcast: { txData: txId, signatureId: pending.id },
      rpc: current.requests,
    })
  }
  server.close()

  // Account order in web3.js 1.56.2's compileMessage is String.prototype.localeCompare
  // of the base58 keys (ICU collation: case-insensitive first, lowercase first on ties).
  const ALPHA = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
  const keys = []
  for (let i = 0; i < 400; i++) keys.push(seeded('sort-' + i).publicKey.toBase58())
  let r = 1
  const rnd = () => { r = (r * 1103515245 + 12345) % 2147483648; return r }
  for (let i = 0; i < 300; i++) { // short strings with case and prefix ties
    let s = ''
    const len = 1 + rnd() % 4
    for (let j = 0; j < len; j++) s += ALPHA[rnd() % ALPHA.length]
    keys.push(s)
    keys.push(s.toUpperCase().replace(/[IO]/g, 'P'))
    keys.push(s.toLowerCase().replace(/l/g, 'k'))
  }
  const collation = [...new Set(keys)].sort((x, y) => x.localeCompare(y))

  const out = {
    generator: 'testdata/sol/gen/gen.js',
    sdk: { '@tatumio/solana': require('@tatumio/solana/package.json').version, '@solana/web3.js': require('@solana/web3.js/package.json').version, '@solana/spl-token': JSON.parse(fs.readFileSync(path.join(__dirname, 'node_modules/@solana/spl-token/package.json'), 'utf8')).version },
    derivationPath: "m/44'/501'/0'/0'/<index>'",
    placeholderBlockhash: PLACEHOLDER,
    wallets, fromPrivateKey: fromKeys, collation, vectors,
  }
  fs.writeFileSync(path.join(__dirname, '..', 'vectors.json'), JSON.stringify(out, null, 1) + '\n')
  console.log(`wrote ${wallets.length} wallets, ${fromKeys.length} key imports, ${vectors.length} signed transactions`)
}

main().catch(e => { console.error(e); process.exit(1) })
