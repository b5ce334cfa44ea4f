#!/usr/bin/env bash
# A wallet.dat with wallets of all 22 chains tatum-kms 8.0.1 signs
# (src/signatures.ts), and what the real tatum-kms 8.0.1 build prints for it.
# Go tests read the outputs; they never run node.
#
#   TKMS_MIRROR=/work/.mirror/tatumio+tatum-kms/repo bash /work/shared/tools/tatum-kms/setup.sh /tmp/tkms
#   TKMS=/tmp/tkms/tatum-kms bash make.sh
#
# It starts from ../real-8.0.1/wallet.dat (19 chains, every command that
# stores, made by the real build: ../real-8.0.1/make.sh), same password, and
# adds with the real build: SOL, XRP, ALGO and BNB testnet wallets, a stored
# SOL mnemonic, stored private keys of chains with other key shapes (XLM,
# XRP, KCS, ADA), and batch keys of SOL, ALGO, BNB and TRON; and the KCS, ADA
# and XLM wallets whose SDKs the build stubs, with add-sdk-wallets.js (see
# there), written as tatum-kms's storeWallet writes them.
#
# Outputs: wallet.dat; export.txt (`tatum-kms export`); getmanagedwallet.json
# (signatureId -> what `tatum-kms getmanagedwallet <id>` printed, byte for
# byte, for one entry of every field layout and network, and of every chain
# whose wallets are not {mnemonic, xpub}: the CLI takes 3 to 40 s a call here);
# getmanagedwallet-all.json (the same for every entry, computed as its
# getWallet does, JSON.stringify(wallets[id], null, 2) + "\n", in one node
# process). Every secret here is test data.
set -euo pipefail
TKMS=${TKMS:?set TKMS to the tatum-kms wrapper made by setup.sh}
SRC=$(dirname "$TKMS")/src
ANSWER=${TTY_ANSWER:-$(dirname "$TKMS")/tty-answer}
cd "$(dirname "$0")"
export HOME=$(mktemp -d) TATUM_KMS_PASSWORD=$(cat ../real-8.0.1/wallet.password)
W=./wallet.dat
rm -f wallet.dat export.txt getmanagedwallet*.json batch-*.err
cp ../real-8.0.1/wallet.dat "$W"
for ch in SOL XRP ALGO BNB; do "$TKMS" generatemanagedwallet "$ch" --testnet --path "$W" >/dev/null; done
node add-sdk-wallets.js "$SRC" "$W"
m='abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about'
"$ANSWER" "$m" -- "$TKMS" storemanagedwallet SOL --path "$W" >/dev/null 2>&1
key() { "$ANSWER" "$2" -- "$TKMS" storemanagedprivatekey "$1" $3 --path "$W" >/dev/null 2>&1; }
key XLM 'SBG4NI5I43LX6B553L4M5MOOUQPEUQV4H4WV4VTDSUUYFWIGZWQFKOU5' ''
key XRP 'snoPBrXtMeMyMHUVTgbuqAfg1SUTb' --testnet
key KCS '0x8da4ef21b864d2cc526dbdb2a120bd2874c36c9d0a1fb7f8c63d7f7a8b41de8f' ''
key ADA 'ed25519e_sk1testdataonlytestdataonlytestdataonlytestdataonlytestdataonlytestdataonly' ''
for ch in SOL ALGO BNB TRON; do
  "$TKMS" generatemanagedprivatekeybatch "$ch" 1 --path "$W" >/dev/null 2>"batch-$ch.err" || echo "batch $ch failed (see batch-$ch.err)" >&2
  [ -s "batch-$ch.err" ] || rm -f "batch-$ch.err"
done
"$TKMS" export --path "$W" >export.txt
node -e '
  const fs = require("fs"), { execFileSync } = require("child_process")
  const wallets = JSON.parse(fs.readFileSync("export.txt", "utf8"))
  const all = {}, real = {}, seen = new Set()
  for (const [id, w] of Object.entries(wallets)) {
    all[id] = JSON.stringify(w, null, 2) + "\n"
    // One call per field layout, and per chain for the chains whose wallets
    // are not {mnemonic, xpub} (plus the three whose SDKs are stubbed).
    const own = ["SOL", "XRP", "ALGO", "BNB", "XLM", "ADA", "KCS", "EGLD"].includes(w.chain)
    const shape = (own ? w.chain : "") + ":" + w.testnet + ":" + Object.keys(w).join(",")
    if (seen.has(shape)) continue
    seen.add(shape)
    real[id] = execFileSync(process.argv[1], ["getmanagedwallet", id, "--path", "./wallet.dat"], { encoding: "utf8" })
  }
  fs.writeFileSync("getmanagedwallet-all.json", JSON.stringify(all, null, 2) + "\n")
  fs.writeFileSync("getmanagedwallet.json", JSON.stringify(real, null, 2) + "\n")
' "$TKMS"
"$TKMS" --version >version.txt 2>&1 || true
