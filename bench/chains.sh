#!/usr/bin/env bash
# Signatures per second of each chain's whole signer (decode the pending
# transaction, check it, sign, encode the broadcast body) beside the bare
# library signature it is built on, measured in the same run of the same
# package's benchmarks. Node calls are injected: no network.
#
#   bench/chains.sh                # 2000 iterations per benchmark
#   BENCHTIME=500x bench/chains.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BENCHTIME=${BENCHTIME:-2000x}
echo "== gokms $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), -benchtime $BENCHTIME"
printf '%-6s %-30s %12s %12s %8s %12s\n' chain signer "signer ns/op" "bare ns/op" ratio "signs/s"
# chain package signer-benchmark bare-benchmark
while read -r chain pkg sign bare; do
	out=$(go test -run '^$' -bench "^Benchmark(${sign}|${bare})\$" -benchtime "$BENCHTIME" -count 1 "./signing/$pkg/" 2>&1) || {
		echo "$out"
		exit 1
	}
	ns() { echo "$out" | awk -v n="Benchmark$1" '{ sub(/-[0-9]+$/, "", $1) } $1 == n { print $3; exit }'; }
	s=$(ns "$sign") b=$(ns "$bare")
	awk -v c="$chain" -v g="$sign" -v s="$s" -v b="$b" 'BEGIN { printf "%-6s %-30s %12.0f %12.0f %7.2fx %12.0f\n", c, g, s, b, s / b, 1e9 / s }'
done <<'LIST'
TRON tron SignTRC20 BareSignCompact
SOL sol Sign BareEd25519
XLM xlm Sign BareEd25519
XRP xrp SignEd25519 BareEd25519
XRP xrp SignSecp256k1 BareSecp256k1
ALGO algo Sign BareEd25519
EGLD egld Sign BareEd25519
VET vet Sign BareSecp256k1
ADA ada Sign BareEd25519
FLOW flow IntentAndSign BareSecp256k1
ETH evm SignComplete GethSignTx
LIST
