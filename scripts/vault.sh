#!/usr/bin/env bash
# Builds the HashiCorp Vault server used by the backend/hashivault tests into a
# cache outside the repository and prints its path on the last line of stdout.
#
#   scripts/vault.sh            # build if absent, else reuse
#   GOKMS_CACHE=/some/dir scripts/vault.sh
#
# The version is pinned by tools/vault/go.mod + go.sum (Vault v1.21.0: later
# 1.21.x releases do not compile against any published vault/sdk). A cold build
# takes 10-15 minutes on 2 cores and ~6 GB of module/build cache; the binary is
# ~480 MB, which is why it never lives in the repository.
set -euo pipefail

version=1.21.0
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${GOKMS_CACHE:-$HOME/.cache/gokms}"
dir="$cache/vault-$version"
bin="$dir/vault"

log() { echo "vault.sh: $*" >&2; }

# Reuse only a binary that runs and reports the pinned version: a build
# interrupted half-way never leaves a file at $bin (we build to a temp name and
# rename), but an older/foreign file there must not be trusted blindly.
if [[ -x "$bin" ]] && "$bin" version 2>/dev/null | grep -q "Vault v$version"; then
	log "reusing $bin ($("$bin" version 2>/dev/null))"
	echo "$bin"
	exit 0
fi

mkdir -p "$dir"
# One build at a time: two test packages (or a test and CI) may ask at once.
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

log "building Vault v$version from $repo/tools/vault into $bin"
log "a large program: 10-15 minutes on 2 idle cores with a cold Go build cache (~6 GB), 1-2 minutes with a warm one"
start=$(date +%s)
tmp="$bin.tmp.$$"
trap 'rm -f "$tmp"' EXIT
(
	cd "$repo/tools/vault"
	# -mod=mod: the tools module carries no vendor dir; go.sum pins every hash.
	GOFLAGS="${GOFLAGS:-} -mod=mod" GOWORK=off go build -trimpath -o "$tmp" github.com/hashicorp/vault
)
mv -f "$tmp" "$bin"
trap - EXIT
log "built $("$bin" version) in $(($(date +%s) - start))s: $bin"
echo "$bin"
