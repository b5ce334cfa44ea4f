// Generates ../vectors.json: EGLD keys from fixed mnemonics with the
// functions tatum-kms 8.0.1 calls (generatePrivateKeyFromMnemonic and
// generateAddressFromPrivatekey of @tatumio/tatum 1.37.68: SLIP-10 ed25519,
// m/44'/508'/0'/0'/i' on mainnet, m/44'/1'/0'/0'/i' on testnet, bech32
// "erd"), and pending transactions in the form the Tatum API hands
// tatum-kms ({from, to, value, data, gasPrice, gasLimit}), each with the
// txData signEgldKMSTransaction returns for it. The node gateway the SDK
// asks for the network config, the sender's nonce and the gas cost is a
// local stand-in here, so every fetched value is recorded in the vector
// along with the exact requests the SDK sent.
//
//   cd testdata/egld/gen && npm ci --ignore-scripts && npm run gen
//
// ed25519 is deterministic: the output is reproducible. CI does not run
// this; the JSON is committed.
'use strict'

const http = require('node:http')
const tatum = require('@tatumio/tatum')

const MNEMONICS = [
  'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about',
  'legal winner thank year wave sausage worth useful legal winner thank yellow',
]

let node = null // what the stand-in answers for the current vector
const seen = [] // requests it received
const server = http.createServer((req, res) => {
  let body = ''
  req.on('data', (c) => { body += c })
  req.on('end', () => {
    seen.push({ method: req.method, path: req.url, body: body || undefined })
    let out
    if (req.method === 'GET' && req.url === '/network/config') {
      out = { data: { config: node.config }, code: 'successful' }
    } else if (req.method === 'GET' && /^\/address\/erd1[a-z0-9]+\/nonce$/.test(req.url)) {
      out = { data: { nonce: node.nonce }, code: 'successful' }
    } else if (req.method === 'POST' && req.url === '/transaction/cost') {
      out = { data: { txGasUnits: node.gas }, code: 'successful' }
    } else {
      res.writeHead(404); res.end('{}'); return
    }
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify(out))
  })
})

async function main() {
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  const provider = `http://127.0.0.1:${server.address().port}`

  const keys = []
  for (const testnet of [false, true]) {
    for (let m = 0; m < MNEMONICS.length; m++) {
      for (const index of [0, 1, 7, 2147483647]) {
        const privateKey = await tatum.generatePrivateKeyFromMnemonic('EGLD', testnet, MNEMONICS[m], index)
        const address = await tatum.generateAddressFromPrivatekey('EGLD', testnet, privateKey)
        keys.push({ mnemonic: MNEMONICS[m], testnet, index, privateKey, address })
      }
    }
  }
  const key = (testnet, m, index) => keys.find((k) => k.testnet === testnet && k.mnemonic === MNEMONICS[m] && k.index === index)
  const recipients = [
    'erd1qyu5wthldzr8wx5c9ucg8kjagg0jfs53s8nr3zpz3hypefsdd8ssycr6th',
    'erd1spyavw0956vq68xj8y4tenjpq2wd5a9p2c6j8gsz7ztyrnpxrruqzu66jx',
    'erd1k2s324ww2g0yj38qn2ch2jwctdy8mnfxep94q9arncc6xecg3xaq6mjse8',
  ]
  const ESDT = 'ESDTTransfer@' + Buffer.from('GKT-1a2b3c').toString('hex') + '@0de0b6b3a7640000'

  const cases = [
    // name, kind, testnet, mnemonic, index, value, data, config, nonce, gas
    ['native 1 EGLD', 'native', false, 0, 0, '1', undefined],
    ['native 0.5', 'native', true, 0, 0, '0.5', undefined],
    ['native smallest unit', 'native', false, 1, 1, '0.000000000000000001', undefined],
    ['native number', 'native', true, 1, 7, 12.25, undefined],
    ['native exponent number', 'native', false, 0, 7, 1e-7, undefined],
    ['native large', 'native', true, 0, 1, '123456789.123456789012345678', undefined],
    ['native zero', 'native', false, 1, 0, '0', undefined],
    ['native max index', 'native', true, 1, 2147483647, '3', undefined],
    ['native integer number', 'native', false, 0, 1, 25, undefined],
    ['native 1000 EGLD', 'native', true, 0, 7, '1000', undefined],
    ['data store', 'data', false, 0, 0, '0', 'hello gokms'],
    ['data unicode', 'data', true, 1, 1, '0.01', 'ü ✓ memo'],
    ['data long', 'data', false, 1, 7, '0.1', 'x'.repeat(300)],
    ['data json', 'data', true, 0, 1, '0', '{"invoice":42}'],
    ['esdt transfer', 'esdt', false, 0, 0, '0', ESDT],
    ['esdt issue', 'esdt', true, 1, 0, '0.05', 'issue@' + Buffer.from('Gokms').toString('hex') + '@' + Buffer.from('GKT').toString('hex') + '@0f4240@06'],
    ['esdt nft transfer', 'esdt', false, 1, 1, '0', 'ESDTNFTTransfer@' + Buffer.from('NFT-abcdef').toString('hex') + '@01@01@' + '00'.repeat(31) + '01'],
    ['esdt mint', 'esdt', true, 0, 7, '0', 'mint@' + Buffer.from('GKT-1a2b3c').toString('hex') + '@0a'],
    ['esdt pause', 'esdt', false, 0, 2147483647, '0', 'pause@' + Buffer.from('GKT-1a2b3c').toString('hex')],
    ['esdt sc call', 'esdt', true, 1, 7, '0.25', 'stake@01'],
  ]
  const out = []
  let n = 0
  for (const [name, kind, testnet, m, index, value, data] of cases) {
    n++
    const k = key(testnet, m, index)
    node = {
      config: {
        erd_chain_id: testnet ? (n % 2 ? 'D' : 'T') : '1',
        erd_min_gas_price: [1000000000, 1000000000, 1500000000][n % 3],
        erd_min_transaction_version: 1,
        erd_min_gas_limit: 50000,
        erd_gas_per_data_byte: 1500,
      },
      nonce: [0, 1, 42, 65535, 9007199254740991][n % 5] === 9007199254740991 ? 123456789 : [0, 1, 42, 65535, 777][n % 5],
      gas: 50000 + 1500 * (data ? Buffer.from(data).length : 0) + (kind === 'esdt' ? 250000 : 0),
    }
    const pending = { from: k.address, to: recipients[n % 3], value, data, gasPrice: 1000000000, gasLimit: node.gas }
    const serializedTransaction = JSON.stringify(pending)
    seen.length = 0
    const txData = await tatum.signEgldKMSTransaction({ chain: 'EGLD', serializedTransaction }, k.privateKey, provider)
    out.push({
      name, kind, testnet, mnemonic: k.mnemonic, index: k.index, privateKey: k.privateKey, address: k.address,
      serializedTransaction, node: JSON.parse(JSON.stringify(node)), requests: seen.slice(), txData,
    })
  }
  // A pending transaction without "from": the SDK signs for the key's own
  // address (generateAddressFromPrivatekey).
  {
    const k = key(false, 0, 0)
    node = { config: { erd_chain_id: '1', erd_min_gas_price: 1000000000, erd_min_transaction_version: 1 }, nonce: 5, gas: 50000 }
    const serializedTransaction = JSON.stringify({ to: recipients[0], value: '2' })
    seen.length = 0
    const txData = await tatum.signEgldKMSTransaction({ chain: 'EGLD', serializedTransaction }, k.privateKey, provider)
    out.push({ name: 'native without from', kind: 'native', testnet: false, mnemonic: k.mnemonic, index: 0, privateKey: k.privateKey, address: k.address, serializedTransaction, node, requests: seen.slice(), txData })
  }
  server.close()
  process.stdout.write(JSON.stringify({
    generator: 'testdata/egld/gen/gen.js',
    sdk: { '@tatumio/tatum': require('@tatumio/tatum/package.json').version, '@elrondnetwork/erdjs': require('@elrondnetwork/erdjs/package.json').version },
    keys, transactions: out,
  }, null, 1) + '\n')
}

main().catch((e) => { console.error(e); process.exit(1) })
