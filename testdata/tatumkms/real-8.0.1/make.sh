#!/usr/bin/env bash
# Make wallet.dat fixtures with the real tatum-kms 8.0.1 build (not crypto-js
# by hand): every wallet shape its commands write. Go tests read the outputs;
# they never run node.
#
#   TKMS_MIRROR=/work/.mirror/tatumio+tatum-kms/repo bash /work/shared/tools/tatum-kms/setup.sh /tmp/tkms
#   TKMS=/tmp/tkms/tatum-kms bash make.sh
#
# Writes wallet.dat (password in wallet.password) and export.txt (what
# `tatum-kms export` prints for it: the file's JSON, key order as stored).
# KCS, ADA and XLM are left out: the build stubs their SDKs.
set -euo pipefail
TKMS=${TKMS:?set TKMS to the tatum-kms wrapper made by setup.sh}
cd "$(dirname "$0")"
export HOME=$(mktemp -d) TATUM_KMS_PASSWORD=$(cat wallet.password)
rm -f wallet.dat export.txt
for ch in BTC ETH TRON SOL XRP ALGO LTC DOGE BCH BSC MATIC CELO ONE KLAY XDC VET EGLD FLOW BNB; do
  "$TKMS" generatemanagedwallet "$ch" --path ./wallet.dat >/dev/null
done
"$TKMS" generatemanagedwallet ETH --testnet --path ./wallet.dat >/dev/null
"$TKMS" generatemanagedwallet BTC --testnet --path ./wallet.dat >/dev/null
# storemanagedwallet and storemanagedprivatekey read the secret from a
# terminal prompt (readline-sync): tty-answer (beside setup.sh's wrapper) types it.
ANSWER=${TTY_ANSWER:-$(dirname "$TKMS")/tty-answer}
m='abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about'
for ch in BTC ETH; do "$ANSWER" "$m" -- "$TKMS" storemanagedwallet "$ch" --path ./wallet.dat >/dev/null 2>&1; done
"$ANSWER" 'cVX7YtgL5muLTPncHFhP95oitV1mqUUA5VeSn8HeCRJbPqipzobf' -- "$TKMS" storemanagedprivatekey BTC --testnet --path ./wallet.dat >/dev/null 2>&1
"$ANSWER" '0x4cbe58c50480e1a5a2c7a4e53f1d8c8d6f1e4ec0c1d3d3a9c3f7c3a5b1e2d3f4' -- "$TKMS" storemanagedprivatekey ETH --path ./wallet.dat >/dev/null 2>&1
"$TKMS" generatemanagedprivatekeybatch ETH 2 --path ./wallet.dat >/dev/null
"$TKMS" generatemanagedprivatekeybatch XRP 1 --path ./wallet.dat >/dev/null
"$TKMS" export --path ./wallet.dat >export.txt
"$TKMS" --version >version.txt 2>&1 || true
