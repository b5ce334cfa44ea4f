#!/usr/bin/env bash
# Provides the tools the deploy tests (deploy/*_test.go) run, and prints the
# directory holding helm and deploycheck on the last line of stdout:
#   - systemd-analyze (Debian package systemd), installed with apt-get if absent and root;
#   - helm v3 and deploycheck (tools/deploycheck: BuildKit's Dockerfile linter,
#     compose-go's loader, strict Kubernetes API decoding), built from the Go
#     module proxy into ${GOKMS_CACHE:-~/.cache/gokms}/deploytools-<hash>/.
#
#   scripts/deploy-tools.sh    # build if absent, else reuse
#
# Versions are pinned by tools/deploycheck/go.mod + go.sum; the cache key is a
# hash of those and of deploycheck's source, so an edit rebuilds.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mod="$repo/tools/deploycheck"
cache="${GOKMS_CACHE:-$HOME/.cache/gokms}"
key="$(cat "$mod/go.mod" "$mod/go.sum" "$mod"/cmd/deploycheck/*.go | sha256sum | cut -c1-16)"
dir="$cache/deploytools-$key"

log() { echo "deploy-tools.sh: $*" >&2; }

if ! command -v systemd-analyze >/dev/null; then
	if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
		log "installing systemd (for systemd-analyze)"
		apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends systemd >&2
	else
		log "systemd-analyze is missing and cannot be installed here (need root and apt-get)"
	fi
fi

if [[ -x "$dir/helm" && -x "$dir/deploycheck" ]]; then
	log "reusing $dir"
	echo "$dir"
	exit 0
fi

mkdir -p "$dir"
# One build at a time: two test runs may ask at once.
exec 9>"$dir/.build.lock"
if ! flock -n 9; then
	log "another build is running; waiting for it (lock $dir/.build.lock)"
	flock 9
fi
if [[ ! -x "$dir/helm" || ! -x "$dir/deploycheck" ]]; then
	log "building helm and deploycheck from $mod into $dir (5-15 minutes with a cold Go build cache on 2 cores)"
	start=$(date +%s)
	tmp="$(mktemp -d "$dir/.tmp.XXXXXX")"
	trap 'rm -rf "$tmp"' EXIT
	(
		cd "$mod"
		helmver="$(GOWORK=off go list -m -f '{{.Version}}' helm.sh/helm/v3)"
		# -mod=mod: the tools module carries no vendor dir; go.sum pins every hash.
		export GOFLAGS="${GOFLAGS:-} -mod=mod" GOWORK=off
		go build -trimpath -ldflags "-X helm.sh/helm/v3/internal/version.version=$helmver" -o "$tmp/helm" helm.sh/helm/v3/cmd/helm
		go build -trimpath -o "$tmp/deploycheck" ./cmd/deploycheck
	)
	mv -f "$tmp/helm" "$tmp/deploycheck" "$dir/"
	log "built $("$dir/helm" version --short) and deploycheck in $(($(date +%s) - start))s"
fi
echo "$dir"
