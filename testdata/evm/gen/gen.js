// Generates ../vectors.json: for every EVM chain gokms signs, a known key and
// web3.js-style serializedTransaction (as Tatum sends them) with the raw
// signed transaction and hash that ethers v6 produces for the same values.
// ONE addresses are written in bech32 by @harmony-js/crypto. The Go tests
// compare gokms's output byte for byte. Run: npm install && node gen.js
const fs = require('fs')
const path = require('path')
const { Wallet, Transaction, Interface, AbiCoder, getAddress } = require('ethers')
const { toBech32 } = require('@harmony-js/crypto')

// web3.js documentation's example key, and a second one.
const KEYS = [
  '0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318',
  '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
]
const token = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'erc20', 'Token.json'), 'utf8'))

const CHAINS = [
  // code, mainnet id, testnet id, dynamic fee
  ['ETH', 1, 11155111, true],
  ['BSC', 56, 97, true],
  ['MATIC', 137, 80002, true],
  ['CELO', 42220, 11142220, true],
  ['KLAY', 8217, 1001, false],
  ['ONE', 1666600000, 1666700000, false],
  ['XDC', 50, 51, false],
  ['KCS', 321, 322, false],
]

const RECIPIENT = '0x687422eEA2cB73B5d3e242bA5456b782919AFc85'
const TOKEN_ADDR = '0x326C977E6efc84E512bB9C30f76E30c160eD06FB'

// How the chain's users (and Tatum) write an address.
function chainAddr(code, a) {
  if (code === 'XDC') return 'xdc' + a.slice(2)
  if (code === 'ONE') return toBech32(a)
  return a
}

const erc20 = new Interface(token.abi)
const transferData = erc20.encodeFunctionData('transfer', [RECIPIENT, 1234567890000000000n])
const deployData = token.bytecode + AbiCoder.defaultAbiCoder().encode(['string', 'string', 'uint256'], ['Gokms Test', 'GKT', 10n ** 24n]).slice(2)

async function vector(name, code, testnet, keyIdx, json, tx) {
  const w = new Wallet(KEYS[keyIdx])
  const raw = await w.signTransaction(tx)
  const parsed = Transaction.from(raw)
  if (parsed.from !== w.address) throw new Error(name + ': from mismatch')
  return {
    name, chain: code, testnet, privateKey: KEYS[keyIdx], address: w.address,
    serializedTransaction: JSON.stringify(json), raw, hash: parsed.hash, type: parsed.type, nonce: Number(tx.nonce),
  }
}

async function main() {
  const out = []
  for (const [code, mainID, testID, dynamic] of CHAINS) {
    for (const testnet of [false, true]) {
      const id = testnet ? testID : mainID
      const net = testnet ? 'testnet' : 'mainnet'
      // A: Tatum's native transfer: from: 0, wei as decimal strings, JSON number nonce, no chainId.
      out.push(await vector(`${code} ${net} native transfer (decimal strings, from: 0)`, code, testnet, 0,
        { from: 0, to: chainAddr(code, RECIPIENT), value: '1000000000000000000', gasPrice: '20000000000', gas: '21000', nonce: 7 },
        { type: 0, to: RECIPIENT, value: 10n ** 18n, gasPrice: 20000000000n, gasLimit: 21000n, nonce: 7, chainId: id }))
      // B: ERC-20 transfer: hex strings, chainId given, gasLimit alias.
      out.push(await vector(`${code} ${net} ERC-20 transfer (hex strings, chainId)`, code, testnet, 1,
        { to: chainAddr(code, TOKEN_ADDR), data: transferData, gasLimit: '0xea60', gasPrice: '0x3b9aca00', nonce: '0x2a', value: '0', chainId: id },
        { type: 0, to: TOKEN_ADDR, data: transferData, gasLimit: 60000n, gasPrice: 1000000000n, nonce: 42, value: 0n, chainId: id }))
    }
    const id = testID
    // C: contract deployment (no `to`), from given in the chain's notation.
    const w0 = new Wallet(KEYS[0])
    out.push(await vector(`${code} testnet contract deployment`, code, true, 0,
      { from: chainAddr(code, w0.address), data: deployData, gas: 1500000, gasPrice: '5000000000', nonce: '3', value: '0x0' },
      { type: 0, data: deployData, gasLimit: 1500000n, gasPrice: 5000000000n, nonce: 3, value: 0n, chainId: id }))
    if (dynamic) {
      // D: EIP-1559 fee caps.
      out.push(await vector(`${code} testnet EIP-1559 transfer`, code, true, 1,
        { to: RECIPIENT.toLowerCase(), value: '0x2386f26fc10000', maxFeePerGas: '30000000000', maxPriorityFeePerGas: '0x77359400', gas: '0x5208', nonce: 1, type: '0x2', chainId: '0x' + id.toString(16) },
        { type: 2, to: RECIPIENT, value: 10000000000000000n, maxFeePerGas: 30000000000n, maxPriorityFeePerGas: 2000000000n, gasLimit: 21000n, nonce: 1, chainId: id }))
    }
  }
  // ONE and XDC addresses as the generator wrote them, for the address tests.
  const addresses = []
  for (const a of [RECIPIENT, TOKEN_ADDR, new Wallet(KEYS[0]).address, new Wallet(KEYS[1]).address]) {
    addresses.push({ hex: getAddress(a), one: toBech32(a), xdc: 'xdc' + getAddress(a).slice(2) })
  }
  const doc = {
    generator: 'testdata/evm/gen/gen.js with ethers ' + require('ethers').version + ' and @harmony-js/crypto ' + JSON.parse(fs.readFileSync(require.resolve('@harmony-js/crypto').replace(/dist.*$/, 'package.json'), 'utf8')).version,
    vectors: out,
    addresses,
  }
  fs.writeFileSync(path.join(__dirname, '..', 'vectors.json'), JSON.stringify(doc, null, 2) + '\n')
  console.log('wrote', out.length, 'vectors')
}
main().catch((e) => { console.error(e); process.exit(1) })
