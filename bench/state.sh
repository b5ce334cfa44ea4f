#!/usr/bin/env bash
# Drains the same queue of BTC pending transactions (btcd regtest, a Tatum
# stand-in whose every call takes a round trip) with real `gokms daemon`
# processes: 1 daemon on the local journal file, 1 on PostgreSQL, 3 on
# PostgreSQL; prints each throughput and the ratios the issue asks for
# (3 daemons vs 1, PostgreSQL vs the local journal). Every figure is
# measured in this run, on this machine.
#
#   bench/state.sh                          # 1,000 transactions, 20ms and 100ms API latency
#   N=300 LATENCIES="50ms" bench/state.sh
#
# Needs PostgreSQL (scripts/postgres.sh) and btcd (scripts/btcd.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000}
LATENCIES=${LATENCIES:-"20ms 100ms"}
scripts/postgres.sh >/dev/null
scripts/btcd.sh >/dev/null
echo "== gokms $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $N BTC pending per configuration"
for L in $LATENCIES; do
	out=$(GOKMS_BENCH_BTC=$N GOKMS_BENCH_LATENCY=$L go test -count=1 -run '^$' -bench 'Drain' -benchtime=1x -timeout 60m ./daemon/journal/pgjournal/pge2e/ 2>&1) || {
		echo "$out"
		exit 1
	}
	rate() { echo "$out" | awk -v n="BenchmarkDrain/$1-" 'index($1, n) == 1 { for (i = 1; i <= NF; i++) if ($(i+1) == "tx/s") print $i }'; }
	local1=$(rate local-1) pg1=$(rate postgres-1) pg3=$(rate postgres-3)
	echo "-- Tatum API latency $L"
	printf '%-34s %8s tx/s\n' "1 daemon, local journal" "$local1" "1 daemon, PostgreSQL" "$pg1" "3 daemons, PostgreSQL" "$pg3"
	awk -v l="$local1" -v p1="$pg1" -v p3="$pg3" 'BEGIN {
		printf "3 daemons / 1 daemon (PostgreSQL):   %.2fx (goal >= 2.5x)\n", p3 / p1
		printf "PostgreSQL cost vs local journal:    %+.1f%% of throughput (goal <= 10%%)\n", (l - p1) / l * 100
	}'
done
