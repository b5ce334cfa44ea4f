#!/usr/bin/env bash
# Drains the same queue of BTC pending transactions (btcd regtest, a Tatum
# stand-in whose every call takes a round trip) with real `gokms daemon`
# processes: 1 daemon on the local journal file, 1 on PostgreSQL, 3 on
# PostgreSQL (the audit trail in the state, then again in a file per
# daemon, which isolates the state's own cost); prints each throughput, the
# CPU share busy during each drain, and the ratios the issue asks for
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
	# $1 is a configuration's name; the benchmark adds -<GOMAXPROCS>.
	rate() { echo "$out" | awk -v n="^BenchmarkDrain/$1-[0-9]+\$" '$1 ~ n { for (i = 1; i <= NF; i++) if ($(i+1) == "tx/s") print $i }'; }
	local1=$(rate local-1) pg1=$(rate postgres-1) pg3=$(rate postgres-3)
	pg1f=$(rate postgres-1-auditfile) pg3f=$(rate postgres-3-auditfile)
	busy() { echo "$out" | awk -v n="^BenchmarkDrain/$1-[0-9]+\$" '$1 ~ n { for (i = 1; i <= NF; i++) if ($(i+1) == "cpu-busy-%") print $i }'; }
	# CPU ms per transaction during the drain: the daemons together, PostgreSQL, btcd, the stand-in.
	m() { echo "$out" | awk -v n="^BenchmarkDrain/$1-[0-9]+\$" -v u="$2" '$1 ~ n { for (i = 1; i <= NF; i++) if ($(i+1) == u) print $i }'; }
	cpu() { printf '%s/%s/%s/%s' "$(m "$1" drain-daemons-cpu-ms/tx)" "$(m "$1" drain-pg-cpu-ms/tx)" "$(m "$1" drain-btcd-cpu-ms/tx)" "$(m "$1" drain-standin-cpu-ms/tx)"; }
	echo "-- Tatum API latency $L (audit trail on everywhere; CPU busy: share of both CPUs busy during the drain, every process;"
	echo "   CPU ms/tx during the drain: daemons/PostgreSQL/btcd/Tatum stand-in)"
	for c in "local-1:1 daemon, local journal (audit file)" "postgres-1:1 daemon, PostgreSQL (audit in the state)" \
		"postgres-3:3 daemons, PostgreSQL (audit in the state)" "postgres-1-auditfile:1 daemon, PostgreSQL (audit file)" \
		"postgres-3-auditfile:3 daemons, PostgreSQL (audit file per daemon)"; do
		printf '%-52s %8s tx/s  CPU busy %6s%%  CPU ms/tx %s\n' "${c#*:}" "$(rate "${c%%:*}")" "$(busy "${c%%:*}")" "$(cpu "${c%%:*}")"
	done
	awk -v l="$local1" -v p1="$pg1" -v p3="$pg3" -v p1f="$pg1f" -v p3f="$pg3f" 'BEGIN {
		printf "3 daemons / 1 daemon (PostgreSQL):   %.2fx, audit file %.2fx (goal >= 2.5x)\n", p3 / p1, p3f / p1f
		printf "PostgreSQL cost vs local journal:    %+.1f%%, audit file %+.1f%% of throughput (goal <= 10%%)\n", (l - p1) / l * 100, (l - p1f) / l * 100
	}'
done
