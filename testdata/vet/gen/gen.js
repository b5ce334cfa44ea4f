// Generates ../vectors.json: VET keys from fixed mnemonics with the functions
// tatum-kms 8.0.1's getprivatekey/getaddress call (generatePrivateKeyFromMnemonic,
// generateVetWallet + generateAddressFromXPub of @tatumio/tatum 1.37.68:
// m/44'/818'/0'/0/i on mainnet, m/44'/1'/0'/0/i on testnet), and pending
// transactions in the form the Tatum API hands tatum-kms (a web3 transaction
// config: {from: 0, to, value in wei, data?, gas?}), each with the raw
// transaction signVetKMSTransaction returns. thorify 1.6.2 asks the node
// for the chain tag (/blocks/0), the block reference (/blocks/best) and the
// VM gas (/accounts/*), and draws a random nonce: the node is a local
// stand-in here, the nonce is fixed per vector (thorify's utils.newNonce is
// replaced), and every fetched value and request is recorded.
//
//   cd testdata/vet/gen && npm ci --ignore-scripts && npm run gen
//
// secp256k1 signatures are RFC 6979 deterministic: the output is
// reproducible. CI does not run this; the JSON is committed.
'use strict'

const http = require('node:http')
const tatum = require('@tatumio/tatum')
const thorUtils = require('thorify/dist/utils')
const { Transaction, cry } = require('thor-devkit')

const MNEMONICS = [
  'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about',
  'legal winner thank year wave sausage worth useful legal winner thank yellow',
]

let node = null
const seen = []
const server = http.createServer((req, res) => {
  let body = ''
  req.on('data', (c) => { body += c })
  req.on('end', () => {
    seen.push({ method: req.method, path: req.url, body: body || undefined })
    let out
    if (req.method === 'GET' && req.url === '/blocks/0') {
      out = { number: 0, id: node.genesisId }
    } else if (req.method === 'GET' && req.url === '/blocks/best') {
      out = { number: 123, id: node.bestId }
    } else if (req.method === 'POST' && req.url.startsWith('/accounts/*')) {
      out = [{ data: '0x', events: [], transfers: [], gasUsed: node.gasUsed, reverted: false, vmError: '' }]
    } else {
      res.writeHead(404); res.end('{}'); return
    }
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify(out))
  })
})

const MAINNET_GENESIS = '0x00000000851caf3cfdb6e899cf5958bfb1ac3413d346d43539627e6be7ec1b4a'
const TESTNET_GENESIS = '0x000000000b2bce3c70bc649a02749e8687721b09ed2e15997f466536b20bb127'

async function main() {
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  const provider = `http://127.0.0.1:${server.address().port}`

  const keys = []
  for (const testnet of [false, true]) {
    for (let m = 0; m < MNEMONICS.length; m++) {
      const w = await tatum.generateVetWallet(testnet, MNEMONICS[m])
      for (const index of [0, 1, 5, 2147483647]) {
        const privateKey = await tatum.generatePrivateKeyFromMnemonic('VET', testnet, MNEMONICS[m], index)
        const address = await tatum.generateAddressFromXPub('VET', testnet, w.xpub, index)
        // generateAddressFromPrivatekey has no VET case: thor-devkit checks it.
        const fromKey = '0x' + cry.publicKeyToAddress(cry.secp256k1.derivePublicKey(Buffer.from(privateKey.slice(2), 'hex'))).toString('hex')
        if (fromKey !== address.toLowerCase()) throw new Error('address mismatch')
        keys.push({ mnemonic: MNEMONICS[m], testnet, xpub: w.xpub, index, privateKey, address })
      }
    }
  }
  // tatum-kms's daemon derives a VET mnemonic key with Currency.BNB, which
  // the SDK refuses: recorded so the docs can quote it.
  let bnbError = null
  try { await tatum.generatePrivateKeyFromMnemonic('BNB', false, MNEMONICS[0], 0) } catch (e) { bnbError = e.message }

  const key = (testnet, m, index) => keys.find((k) => k.testnet === testnet && k.mnemonic === MNEMONICS[m] && k.index === index)
  const TO = ['0x7567d83b7b8d80addcb281a71d54fc7b3364ffed', '0xD3EF28DF6B553ED2FC47259E8134319CB1121A2A', '0x0000000000000000000000000000456e65726779']
  const hexOf = (s) => '0x' + Buffer.from(s, 'utf8').toString('hex')
  const vip180 = (to, amt) => '0xa9059cbb' + to.slice(2).toLowerCase().padStart(64, '0') + BigInt(amt).toString(16).padStart(64, '0')
  const cases = [
    // name, kind, testnet, m, index, tx, gasUsed
    ['native 1 VET', 'native', false, 0, 0, { from: 0, to: TO[0], value: '1000000000000000000' }, 0],
    ['native 0.5 testnet', 'native', true, 0, 0, { from: 0, to: TO[1], value: '500000000000000000' }, 0],
    ['native 1 wei', 'native', false, 1, 1, { from: 0, to: TO[0], value: '1' }, 0],
    ['native large', 'native', true, 1, 5, { from: 0, to: TO[1], value: '123456789000000000000000000' }, 0],
    ['native zero', 'native', false, 0, 5, { from: 0, to: TO[0], value: '0' }, 0],
    ['native with gas field', 'native', true, 0, 1, { from: 0, to: TO[0], value: '2000000000000000000', gas: '21000' }, 0],
    ['native max index', 'native', false, 1, 2147483647, { from: 0, to: TO[1], value: '7000000000000000' }, 0],
    ['native number value', 'native', true, 1, 0, { from: 0, to: TO[0], value: 1000000 }, 0],
    ['native hex value', 'native', false, 0, 1, { from: 0, to: TO[1], value: '0xde0b6b3a7640000' }, 0],
    ['native checksummed to', 'native', true, 1, 1, { from: 0, to: '0x7567D83b7b8d80ADdCb281A71d54Fc7B3364ffed', value: '3000000000000000000' }, 0],
    ['data memo', 'data', false, 0, 0, { from: 0, to: TO[0], value: '1000000000000000000', data: hexOf('hello gokms') }, 0],
    ['data memo testnet', 'data', true, 1, 5, { from: 0, to: TO[1], value: '0', data: hexOf('invoice 42') }, 0],
    ['data zeros', 'data', false, 1, 0, { from: 0, to: TO[0], value: '10', data: '0x00000000ff00' }, 0],
    ['data long', 'data', true, 0, 5, { from: 0, to: TO[1], value: '1', data: hexOf('x'.repeat(200)) }, 0],
    ['data unicode', 'data', false, 0, 2147483647, { from: 0, to: TO[0], value: '0', data: hexOf('ü ✓') }, 0],
    ['data with gas field', 'data', true, 1, 1, { from: 0, to: TO[0], value: '0', data: hexOf('memo'), gas: 50000 }, 0],
    ['vip180 transfer', 'contract', false, 0, 0, { from: 0, to: TO[2], value: '0', data: vip180(TO[0], '1000000000000000000') }, 14231],
    ['vip180 transfer testnet', 'contract', true, 0, 1, { from: 0, to: TO[2], value: '0', data: vip180(TO[1], '5') }, 29231],
    ['contract call value', 'contract', false, 1, 5, { from: 0, to: TO[1], value: '1000', data: '0xd0e30db0' }, 23974],
    ['contract call big gas', 'contract', true, 1, 0, { from: 0, to: TO[2], value: '0', data: vip180(TO[0], '123456789') }, 1234567],
    ['contract no 0x data', 'contract', false, 0, 5, { from: 0, to: TO[2], value: '0', data: 'a9059cbb' + '00'.repeat(64) }, 7000],
  ]
  const out = []
  let n = 0
  for (const [name, kind, testnet, m, index, tx, gasUsed] of cases) {
    n++
    const k = key(testnet, m, index)
    const nonce = [1, 8888, 305419896, 4294967296, 1749023849123][n % 5] + n
    node = {
      genesisId: testnet ? TESTNET_GENESIS : MAINNET_GENESIS,
      bestId: '0x' + (0x0123abcd + n * 7777).toString(16).padStart(8, '0') + 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b' + n.toString(16).padStart(2, '0'),
      gasUsed,
    }
    if (node.bestId.length !== 66) throw new Error('best id length')
    thorUtils.newNonce = () => nonce
    const serializedTransaction = JSON.stringify(tx)
    seen.length = 0
    const raw = await tatum.signVetKMSTransaction({ chain: 'VET', serializedTransaction }, k.privateKey, testnet, provider)
    const d = Transaction.decode(Buffer.from(raw.slice(2), 'hex'))
    if (d.origin.toLowerCase() !== k.address.toLowerCase()) throw new Error(name + ': origin mismatch')
    out.push({
      name, kind, testnet, mnemonic: k.mnemonic, index: k.index, privateKey: k.privateKey, address: k.address,
      serializedTransaction, node, nonce, requests: seen.slice(), rawTransaction: raw,
      signingHash: '0x' + d.signingHash().toString('hex'), id: d.id,
      body: JSON.parse(JSON.stringify(d.body)),
    })
  }
  server.close()
  process.stdout.write(JSON.stringify({
    generator: 'testdata/vet/gen/gen.js',
    sdk: { '@tatumio/tatum': require('@tatumio/tatum/package.json').version, thorify: require('thorify/package.json').version, 'thor-devkit': require('thor-devkit/package.json').version },
    bnbKeyError: bnbError,
    keys, transactions: out,
  }, null, 1) + '\n')
}

main().catch((e) => { console.error(e); process.exit(1) })
