#!/usr/bin/env bash
# Times `gokms getaddress <id> 1` end to end (process start, password, KDF,
# store read, derivation, JSON output), and, when a Node tatum-kms build is
# available, the same command of tatum-kms 8.0.1 on an equivalent store, with
# the ratio. Every figure is measured in this run, on this machine.
#
#   bench/getaddress.sh                      # gokms only
#   TATUM_KMS_BIN=/path/tatum-kms bench/getaddress.sh
#       (the wrapper script a tatum-kms 8.0.1 source build leaves; it needs
#       Node.js and reads TATUM_KMS_PASSWORD like gokms)
#
# Stores: 1 wallet, and 5,000 records (1 wallet + 4,999 keys); gokms stores
# use the default Argon2id costs (what users get) and, to show the rest of
# the path, the cheap test costs. Uses hyperfine when installed
# (apt-get install hyperfine), else a loop timed with date +%s%N.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-20}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
go build -o "$WORK/gokms" ./cmd/gokms # before HOME moves: keep the Go caches
G=$WORK/gokms
# A throw-away HOME: both tools read ~/.tatumrc/.env.
export HOME=$WORK/home
mkdir -p "$HOME"
export TATUM_KMS_PASSWORD=bench-password-1
export GOKMS_LOG_LEVEL=error

id_of() { sed -n 's/.*"signatureId": *"\([^"]*\)".*/\1/p' | head -1; }

# gokms stores: default KDF and test KDF, 1 and 5,000 records.
for kdf in default test; do
	for n in 1 5000; do
		store=$WORK/$kdf-$n.dat
		id=$(GOKMS_KDF=$kdf "$G" generatemanagedwallet BTC --testnet --path "$store" | id_of)
		if [ "$n" -gt 1 ]; then
			GOKMS_KDF=$kdf "$G" generatemanagedprivatekeybatch BTC $((n - 1)) --testnet --path "$store" >/dev/null 2>&1
		fi
		echo "$id" >"$store.id"
	done
done

declare -A MEDIAN

# measure NAME COMMAND: median wall time in seconds of COMMAND over RUNS runs.
measure() {
	local name=$1 cmd=$2
	if command -v hyperfine >/dev/null; then
		hyperfine --style basic --warmup 2 --runs "$RUNS" --export-json "$WORK/$name.json" -n "$name" "$cmd" >&2
		MEDIAN[$name]=$(python3 -c 'import json,sys; print("%.4f" % json.load(open(sys.argv[1]))["results"][0]["median"])' "$WORK/$name.json")
	else
		local ts=()
		for _ in $(seq "$RUNS"); do
			local t0 t1
			t0=$(date +%s%N)
			bash -c "$cmd" >/dev/null
			t1=$(date +%s%N)
			ts+=($(((t1 - t0) / 1000)))
		done
		MEDIAN[$name]=$(printf '%s\n' "${ts[@]}" | sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.4f", m/1e6}')
	fi
	printf '%-34s median %8.4f s\n' "$name" "${MEDIAN[$name]}"
}

echo "== gokms $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) CPUs, $RUNS runs each"
measure gokms-version "$G --version"
for kdf in default test; do
	for n in 1 5000; do
		store=$WORK/$kdf-$n.dat
		measure "gokms-getaddress-$kdf-kdf-$n" "$G getaddress $(cat "$store.id") 1 --path $store"
	done
done

TKMS=${TATUM_KMS_BIN:-}
if [ -n "$TKMS" ] && [ -x "$TKMS" ]; then
	echo "== tatum-kms: $TKMS ($("$TKMS" --version 2>/dev/null))"
	RUNS_NODE=${RUNS_NODE:-10}
	tstore=$WORK/tkms-1.dat
	tid=$("$TKMS" generatemanagedwallet BTC --testnet --path "$tstore" | id_of)
	# The 5,000-wallet tatum-kms fixture (crypto-js, as tatum-kms writes
	# it; its xpubs are synthetic), plus one real wallet stored by tatum-kms.
	big=$WORK/tkms-5000.dat
	cp testdata/tatumkms/large.dat "$big"
	bigpw=$(python3 -c 'import json; print(json.load(open("testdata/tatumkms/manifest.json"))["fixtures"]["large.dat"]["password"])')
	bigid=$(TATUM_KMS_PASSWORD=$bigpw "$TKMS" generatemanagedwallet BTC --testnet --path "$big" | id_of)
	RUNS_SAVE=$RUNS
	RUNS=$RUNS_NODE
	measure tatum-kms-getaddress-1 "$TKMS getaddress $tid 1 --path $tstore"
	measure tatum-kms-getaddress-5000 "TATUM_KMS_PASSWORD='$bigpw' $TKMS getaddress $bigid 1 --path $big"
	RUNS=$RUNS_SAVE
	echo "== ratio (tatum-kms median / gokms median, default KDF)"
	for n in 1 5000; do
		python3 -c 'import sys; t, g = float(sys.argv[1]), float(sys.argv[2]); print("getaddress, %5s-record store: tatum-kms %.3f s / gokms %.3f s = %.1fx" % (sys.argv[3], t, g, t / g))' \
			"${MEDIAN[tatum-kms-getaddress-$n]}" "${MEDIAN[gokms-getaddress-default-kdf-$n]}" "$n"
	done
else
	echo "== tatum-kms: not found (set TATUM_KMS_BIN to compare)"
fi
