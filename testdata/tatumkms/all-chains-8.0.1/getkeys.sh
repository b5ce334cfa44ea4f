#!/usr/bin/env bash
# What the real tatum-kms 8.0.1 build prints for `getaddress <id> 1` and
# `getprivatekey <id> 1` on the entries of wallet.dat whose chains have keys
# of their own (SOL, XLM, XRP, ALGO, EGLD, VET, FLOW, ADA, BNB) and TRON,
# one call each (3 to 40 s a call here). Go tests read the output,
# getkeys.json: signatureId -> {"getaddress": {stdout, stderr}, "getprivatekey": {...}}.
#
#   TKMS=/tmp/tkms/tatum-kms bash getkeys.sh
set -euo pipefail
TKMS=${TKMS:?set TKMS to the tatum-kms wrapper made by /work/shared/tools/tatum-kms/setup.sh}
cd "$(dirname "$0")"
work=$(mktemp -d)
export HOME=$work TATUM_KMS_PASSWORD=$(cat ../real-8.0.1/wallet.password)
cp wallet.dat "$work/wallet.dat"
node -e '
  const w = JSON.parse(require("fs").readFileSync("export.txt", "utf8"))
  for (const [id, e] of Object.entries(w))
    if (["SOL","XLM","XRP","ALGO","EGLD","VET","FLOW","ADA","BNB","TRON"].includes(e.chain)) console.log(id)
' >"$work/ids"
run() { # id cmd
  "$TKMS" "$2" "$1" 1 --path "$work/wallet.dat" >"$work/$1.$2.out" 2>"$work/$1.$2.err" || true
}
while read -r id; do
  run "$id" getaddress &
  run "$id" getprivatekey &
  wait
done <"$work/ids"
node -e '
  const fs = require("fs"), dir = process.argv[1], out = {}
  for (const id of fs.readFileSync(dir + "/ids", "utf8").split("\n").filter(Boolean)) {
    out[id] = {}
    for (const c of ["getaddress", "getprivatekey"])
      out[id][c] = { stdout: fs.readFileSync(`${dir}/${id}.${c}.out`, "utf8"), stderr: fs.readFileSync(`${dir}/${id}.${c}.err`, "utf8") }
  }
  fs.writeFileSync("getkeys.json", JSON.stringify(out, null, 2) + "\n")
' "$work"
rm -rf "$work"
