// Makes tatum-kms-wallet.dat: a wallet file exactly as tatum-kms 8.0.1 writes
// it (crypto-js AES.encrypt(JSON, password).toString()). The file store must
// recognise it and point the user to `gokms import tatum-kms`.
// Run: NODE_PATH=../../../testdata/tatumkms/node_modules node gen-tatumkms.js
const CryptoJS = require('crypto-js');
const fs = require('fs');
const wallet = {
  '0d9b3a5e-6a0c-4f55-9a7e-3c3b2f0e1d11': {
    mnemonic: 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon art',
    xpub: 'tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba',
    chain: 'BTC', testnet: true,
  },
};
fs.writeFileSync('tatum-kms-wallet.dat', CryptoJS.AES.encrypt(JSON.stringify(wallet), 'tatum fixture').toString());
