#!/usr/bin/env bash
# Compares the drain benchmarks' ratios (journal on/off, policy/off, ...)
# of two revisions on a shared machine, where one count drifts by ±0.1:
# builds the test binary of BASE and of the working tree once each, runs
# them in turn COUNTS times (-count 1 each), and prints per revision, per
# benchmark and per ratio metric the mean, the range and every count. Both
# see the same drift; compare means, never single counts.
#
#   bench/alternate.sh 35027e4 ./daemon/ DaemonDrain
#   COUNTS=8 BENCHTIME=5x bench/alternate.sh HEAD~3 ./daemon/policy/ DrainPolicyAudit
#   GOKMS_BENCH_LATENCY=5ms bench/alternate.sh HEAD ./daemon/ 'DaemonDrain/store=memory'
#   METRICS='/off$|cpu-us/tx$' bench/alternate.sh HEAD ./daemon/policy/ DrainPolicyAudit
#
# METRICS (an awk regular expression, default /off$) picks the reported
# metrics that are summarised.
#
# BASE may be HEAD (the committed tree against the working tree, or the
# same code twice: the spread it shows is the machine's). Environment
# variables (GOKMS_BENCH_*) reach both binaries alike.
set -euo pipefail
[ $# -eq 3 ] || { sed -n '2,19p' "$0"; exit 2; }
base=$1 pkg=$2 bench=$3
COUNTS=${COUNTS:-5}
BENCHTIME=${BENCHTIME:-3x}
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'git worktree remove --force "$work/base" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
rev=$(git rev-parse --short "$base")
git worktree add -q --detach "$work/base" "$rev"
(cd "$work/base" && go test -c -o "$work/base.test" "$pkg")
go test -c -o "$work/new.test" "$pkg"
echo "== $rev against the working tree ($(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo '+changes')), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), -bench '$bench' -benchtime $BENCHTIME, $COUNTS alternating counts"
out=$work/out.txt
for ((i = 1; i <= COUNTS; i++)); do
	for b in base new; do
		echo "## $b" >>"$out"
		# The test binary runs in the package's directory, as go test does.
		(cd "$pkg" && "$work/$b.test" -test.run '^$' -test.bench "$bench" -test.benchtime "$BENCHTIME" -test.count 1) >"$work/one.txt" 2>&1 || {
			cat "$work/one.txt"
			exit 1
		}
		grep '^Benchmark' "$work/one.txt" >>"$out" || true
	done
done
awk -v rev="$rev" -v metrics="${METRICS:-/off\$}" '
/^## / { build = ($2 == "base") ? rev : "new"; next }
/^Benchmark/ {
	name = $1; sub(/-[0-9]+$/, "", name); sub(/^Benchmark/, "", name)
	for (i = 3; i < NF; i++) if ($(i + 1) ~ metrics) {
		k = build SUBSEP name SUBSEP $(i + 1)
		if (!(k in n)) { keys[++nk] = k; min[k] = $i; max[k] = $i }
		n[k]++; sum[k] += $i; all[k] = all[k] sprintf(" %.2f", $i)
		if ($i < min[k]) min[k] = $i
		if ($i > max[k]) max[k] = $i
	}
}
END {
	for (j = 1; j <= nk; j++) {
		k = keys[j]; split(k, p, SUBSEP)
		printf "%-8s %-32s %-22s mean %.4g (%.2f–%.2f, n=%d):%s\n", p[1], p[2], p[3], sum[k] / n[k], min[k], max[k], n[k], all[k]
	}
}' "$out" | sort -b -s -k2,3
