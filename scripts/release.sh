#!/usr/bin/env bash
# Builds gokms release binaries, one CycloneDX SBOM per target and a
# SHA256SUMS file over all of them.
#
#   scripts/release.sh [-o DIR] [TARGET...]
#
# TARGET is GOOS/GOARCH; default: linux/amd64 linux/arm64 darwin/arm64.
# DIR defaults to dist/. The version is $VERSION, else the exact git tag of
# HEAD, else a Go pseudo-version (v0.0.0-<UTC commit time>-<12 hex>); the
# commit and the dirty flag come from git and are linked in with -ldflags
# (go build's own VCS stamping is off in git worktrees and source tarballs).
#
# Output, for VERSION=v1.2.3:
#   DIR/gokms-v1.2.3-linux-amd64           static binary (CGO_ENABLED=0, -trimpath)
#   DIR/gokms-v1.2.3-linux-amd64.cdx.json  its SBOM (cyclonedx-gomod bin, pinned below)
#   DIR/SHA256SUMS                         sha256sum -c compatible
set -euo pipefail

cyclonedx=github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod@v1.10.0
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$repo/dist"

die() { echo "release.sh: $*" >&2; exit 1; }

while getopts "o:h" opt; do
	case $opt in
	o) out="$OPTARG" ;;
	h) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) die "usage: release.sh [-o DIR] [GOOS/GOARCH...]" ;;
	esac
done
shift $((OPTIND - 1))
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(linux/amd64 linux/arm64 darwin/arm64)
for t in "${targets[@]}"; do
	case $t in
	linux/amd64 | linux/arm64 | darwin/arm64 | darwin/amd64 | windows/amd64) ;;
	*) die "unknown target $t: want GOOS/GOARCH, one of linux/amd64 linux/arm64 darwin/arm64 darwin/amd64 windows/amd64" ;;
	esac
done

cd "$repo"
git rev-parse --git-dir >/dev/null 2>&1 || die "$repo is not a git checkout: the commit cannot be recorded"
commit="$(git rev-parse HEAD)"
dirty=false
[[ -z "$(git status --porcelain --untracked-files=no)" ]] || dirty=true
if [[ -z "${VERSION:-}" ]]; then
	VERSION="$(git describe --tags --exact-match 2>/dev/null || true)"
	if [[ -z "$VERSION" ]]; then
		VERSION="v0.0.0-$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y%m%d%H%M%S)-${commit:0:12}"
	fi
	if [[ $dirty == true ]]; then VERSION="$VERSION+dirty"; fi
fi
[[ "$VERSION" =~ ^v[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]+)?$ ]] || die "VERSION $VERSION: want a semantic version such as v1.2.3"

mkdir -p "$out"
out="$(cd "$out" && pwd)"
pkg=github.com/gokms/gokms/tatum
ldflags="-s -w -X $pkg.buildVersion=$VERSION -X $pkg.buildCommit=$commit -X $pkg.buildDirty=$dirty"
echo "release.sh: gokms $VERSION (commit $commit, dirty=$dirty) -> $out" >&2

files=()
for t in "${targets[@]}"; do
	os="${t%/*}" arch="${t#*/}"
	name="gokms-$VERSION-$os-$arch"
	[[ $os == windows ]] && name="$name.exe"
	echo "release.sh: building $name" >&2
	CGO_ENABLED=0 GOOS="$os" GOARCH="$arch" GOFLAGS="-buildvcs=false" \
		go build -trimpath -ldflags "$ldflags" -o "$out/$name" ./cmd/gokms
	echo "release.sh: SBOM $name.cdx.json" >&2
	# From the binary's own build info: exactly the modules linked into this
	# target, with their go.sum hashes (app mode reads git, which fails in
	# worktrees).
	go run "$cyclonedx" bin -json -std -version "$VERSION" -output "$out/$name.cdx.json" "$out/$name"
	files+=("$name" "$name.cdx.json")
done

(cd "$out" && sha256sum "${files[@]}" > SHA256SUMS.tmp && mv SHA256SUMS.tmp SHA256SUMS)
echo "release.sh: wrote $out/SHA256SUMS" >&2
cat "$out/SHA256SUMS"
