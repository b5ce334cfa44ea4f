// Compiles ../erc20/Token.sol with the solc npm package (soljson, the
// official compiler built to WebAssembly) into ../erc20/Token.json:
// { compiler, settings, abi, bytecode }. Run: npm install && node compile.js
const fs = require('fs')
const path = require('path')
const solc = require('solc')

const dir = path.join(__dirname, '..', 'erc20')
const source = fs.readFileSync(path.join(dir, 'Token.sol'), 'utf8')
const settings = {
  optimizer: { enabled: true, runs: 200 },
  // paris: no PUSH0, so the bytecode also runs on chains behind Shanghai.
  evmVersion: 'paris',
  outputSelection: { '*': { Token: ['abi', 'evm.bytecode.object'] } },
}
const input = { language: 'Solidity', sources: { 'Token.sol': { content: source } }, settings }
const out = JSON.parse(solc.compile(JSON.stringify(input)))
const errors = (out.errors || []).filter((e) => e.severity === 'error')
if (errors.length) {
  console.error(errors.map((e) => e.formattedMessage).join('\n'))
  process.exit(1)
}
const c = out.contracts['Token.sol'].Token
const result = {
  compiler: 'solc ' + solc.version(),
  settings: { optimizer: settings.optimizer, evmVersion: settings.evmVersion },
  abi: c.abi,
  bytecode: '0x' + c.evm.bytecode.object,
}
fs.writeFileSync(path.join(dir, 'Token.json'), JSON.stringify(result, null, 2) + '\n')
console.log('wrote erc20/Token.json with', result.compiler)
