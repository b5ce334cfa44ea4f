#!/usr/bin/env bash
# Builds the btcd full node used by the daemon end-to-end tests (a real node in
# regtest that must accept every transaction gokms signs) into a cache outside
# the repository, and prints the binary's path on the last line of stdout.
#
#   scripts/btcd.sh             # build if absent, else reuse
#   GOKMS_CACHE=/some/dir scripts/btcd.sh
#
# The tests find it at ${GOKMS_CACHE:-$HOME/.cache/gokms}/btcd-v0.24.2/btcd
# (or $GOKMS_BTCD). A cold build takes about a minute on 2 cores.
set -euo pipefail

version=v0.24.2
cache="${GOKMS_CACHE:-$HOME/.cache/gokms}"
dir="$cache/btcd-$version"
bin="$dir/btcd"

log() { echo "btcd.sh: $*" >&2; }

# Reuse only a binary that runs and reports the pinned version.
if [[ -x "$bin" ]] && "$bin" --version 2>/dev/null | grep -q "${version#v}"; then
	log "reusing $bin ($("$bin" --version 2>/dev/null))"
	echo "$bin"
	exit 0
fi

mkdir -p "$dir"
# One build at a time: CI and a test package may ask at once.
exec 9>"$dir/.build.lock"
if ! flock -n 9; then
	log "another build is running; waiting for it (lock $dir/.build.lock)"
	flock 9
	if [[ -x "$bin" ]]; then
		log "built by the other process: $bin"
		echo "$bin"
		exit 0
	fi
fi

log "building btcd $version with 'go install github.com/btcsuite/btcd@$version' into $dir"
start=$(date +%s)
tmp="$(mktemp -d "$dir/.gobin.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
# Outside any module (cd /), so the install uses btcd's own go.mod, not ours;
# GOBIN to a temp dir + rename so an interrupted build never leaves a half file.
(cd / && GOWORK=off GOFLAGS= GOBIN="$tmp" go install "github.com/btcsuite/btcd@$version")
mv -f "$tmp/btcd" "$bin"
log "built $("$bin" --version 2>/dev/null) in $(($(date +%s) - start))s: $bin"
echo "$bin"
