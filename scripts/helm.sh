#!/usr/bin/env bash
# Builds the Helm CLI used by the deploy tests (helm lint --strict and
# helm template on deploy/helm/gokms) into a cache outside the repository and
# prints its path on the last line of stdout.
#
#   scripts/helm.sh            # build if absent, else reuse
#   GOKMS_CACHE=/some/dir scripts/helm.sh
#
# The version is pinned by tools/helm/go.mod + go.sum; Helm is built from the
# Go module proxy because no prebuilt binary can be downloaded here.
set -euo pipefail

version=3.22.0
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${GOKMS_CACHE:-$HOME/.cache/gokms}"
dir="$cache/helm-$version"
bin="$dir/helm"

log() { echo "helm.sh: $*" >&2; }

# Reuse only a binary that runs and reports the pinned version.
if [[ -x "$bin" ]] && "$bin" version --template '{{.Version}}' 2>/dev/null | grep -qx "v$version"; then
	log "reusing $bin"
	echo "$bin"
	exit 0
fi

mkdir -p "$dir"
# One build at a time: a test and CI may ask at once.
exec 9>"$dir/.build.lock"
if ! flock -n 9; then
	log "another build is running; waiting for it (lock $dir/.build.lock)"
	flock 9
	if [[ -x "$bin" ]]; then
		echo "$bin"
		exit 0
	fi
fi

log "building Helm v$version from $repo/tools/helm into $bin (a few minutes with a cold Go build cache)"
start=$(date +%s)
tmp="$bin.tmp.$$"
trap 'rm -f "$tmp"' EXIT
(
	cd "$repo/tools/helm"
	# Helm reports its version from this variable; the module build has no tag.
	GOFLAGS="${GOFLAGS:-} -mod=mod" GOWORK=off go build -trimpath \
		-ldflags "-X helm.sh/helm/v3/internal/version.version=v$version" \
		-o "$tmp" helm.sh/helm/v3/cmd/helm
)
mv -f "$tmp" "$bin"
trap - EXIT
log "built $("$bin" version --short) in $(($(date +%s) - start))s: $bin"
echo "$bin"
