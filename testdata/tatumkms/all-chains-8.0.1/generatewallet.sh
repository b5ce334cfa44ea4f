#!/usr/bin/env bash
# What the real tatum-kms 8.0.1 build prints for `generatewallet <chain>` and
# `generatewallet <chain> --testnet` for the chains with keys of their own
# and TRON. Go tests read generatewallet.json: "<chain>[ --testnet]" ->
# {stdout, error} (error: the first line naming the Error, when it fails).
# The wallets are random and used nowhere else.
#
#   TKMS=/tmp/tkms/tatum-kms bash generatewallet.sh
set -euo pipefail
TKMS=${TKMS:?set TKMS to the tatum-kms wrapper made by /work/shared/tools/tatum-kms/setup.sh}
cd "$(dirname "$0")"
work=$(mktemp -d)
export HOME=$work
for ch in SOL XLM XRP ALGO EGLD VET FLOW ADA TRON; do
  for net in "" --testnet; do
    "$TKMS" generatewallet "$ch" $net >"$work/$ch$net.out" 2>"$work/$ch$net.err" &
  done
  wait
done
node -e '
  const fs = require("fs"), dir = process.argv[1], out = {}
  for (const ch of ["SOL", "XLM", "XRP", "ALGO", "EGLD", "VET", "FLOW", "ADA", "TRON"])
    for (const net of ["", "--testnet"]) {
      const err = fs.readFileSync(`${dir}/${ch}${net}.err`, "utf8").split("\n").find((l) => /Error/.test(l)) || ""
      out[ch + (net ? " " + net : "")] = { stdout: fs.readFileSync(`${dir}/${ch}${net}.out`, "utf8"), error: err.trim() }
    }
  fs.writeFileSync("generatewallet.json", JSON.stringify(out, null, 2) + "\n")
' "$work"
rm -rf "$work"
