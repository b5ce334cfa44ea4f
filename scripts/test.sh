#!/usr/bin/env bash
# Runs every gokms test. Builds (once, cached outside the repository in
# ${GOKMS_CACHE:-~/.cache/gokms}) the servers the tests need, then go test.
# Usage: ./scripts/test.sh [go test flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
export GOKMS_CACHE="${GOKMS_CACHE:-$HOME/.cache/gokms}"
mkdir -p "$GOKMS_CACHE"

# Servers used by integration tests (each script is idempotent and prints what it does).
for s in scripts/btcd.sh scripts/vault.sh scripts/postgres.sh scripts/deploy-tools.sh; do
	if [ -x "$s" ]; then
		echo "== $s"
		"$s"
	fi
done

echo "== go vet ./..."
go vet ./...
echo "== go test ./..."
# -p 2: the machine has two cores; packages that start servers stay within it.
go test -p 2 -timeout 20m -count=1 "$@" ./...
