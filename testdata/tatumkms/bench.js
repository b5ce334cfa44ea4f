#!/usr/bin/env node
// Baseline for gokms's BenchmarkDecodeLarge: how long tatum-kms (crypto-js
// 4.2.0) takes to read large.dat (5,000 entries) the way it does on every
// lookup: JSON.parse(AES.decrypt(data, pwd).toString(CryptoJS.enc.Utf8)).
// Usage: node bench.js [iterations]
'use strict'
const fs = require('fs')
const path = require('path')
const CryptoJS = require('crypto-js')
const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, 'manifest.json'), 'utf8'))
const pwd = manifest.fixtures['large.dat'].password
const data = fs.readFileSync(path.join(__dirname, 'large.dat'), 'utf8')
const n = Number(process.argv[2] || 10)
let entries = 0
JSON.parse(CryptoJS.AES.decrypt(data, pwd).toString(CryptoJS.enc.Utf8)) // warm up
const t0 = process.hrtime.bigint()
for (let i = 0; i < n; i++) {
  entries = Object.keys(JSON.parse(CryptoJS.AES.decrypt(data, pwd).toString(CryptoJS.enc.Utf8))).length
}
const ns = Number(process.hrtime.bigint() - t0) / n
console.log(`crypto-js decrypt+parse large.dat (${entries} entries): ${(ns / 1e6).toFixed(1)} ms/op over ${n} runs`)
