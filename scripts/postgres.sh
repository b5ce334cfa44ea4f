#!/usr/bin/env bash
# Makes sure a PostgreSQL server (Debian's `postgresql` package) is installed
# for the tests of the shared daemon state (daemon/journal/pgjournal), and
# prints the directory of its binaries (initdb, postgres, pg_ctl) on the last
# line of stdout.
#
#   scripts/postgres.sh                 # install if absent, else reuse
#   GOKMS_PG_BINDIR=/usr/lib/postgresql/16/bin scripts/postgres.sh
#
# It never starts a server: each test package starts its own (pgtest.Start)
# on a free loopback port, from an initdb template cached in
# ${GOKMS_CACHE:-~/.cache/gokms}/postgres-<major>/ (outside the repository).
# Installing needs root (apt-get); the Debian package does not start a
# cluster we rely on, and the tests never touch the system's cluster.
set -euo pipefail

log() { echo "postgres.sh: $*" >&2; }

# bindir prints the newest /usr/lib/postgresql/<major>/bin holding both
# initdb and postgres (Debian keeps server binaries off PATH).
bindir() {
	if [[ -n "${GOKMS_PG_BINDIR:-}" ]]; then
		[[ -x "$GOKMS_PG_BINDIR/postgres" && -x "$GOKMS_PG_BINDIR/initdb" ]] && echo "$GOKMS_PG_BINDIR"
		return 0
	fi
	local d best=""
	for d in /usr/lib/postgresql/*/bin; do
		[[ -x "$d/postgres" && -x "$d/initdb" ]] && best="$d"
	done
	# The glob sorts 15 before 16 but 9.6 after 16; versions here are >= 10.
	[[ -n "$best" ]] && echo "$best"
	return 0
}

dir="$(bindir)"
if [[ -n "$dir" ]]; then
	log "reusing $dir ($("$dir/postgres" --version))"
	echo "$dir"
	exit 0
fi
if [[ -n "${GOKMS_PG_BINDIR:-}" ]]; then
	log "GOKMS_PG_BINDIR=$GOKMS_PG_BINDIR holds no postgres and initdb; unset it to use Debian's package"
	exit 1
fi

if [[ "$(id -u)" != 0 ]]; then
	log "no PostgreSQL server under /usr/lib/postgresql/*/bin; install it as root: apt-get update && apt-get install -y postgresql"
	exit 1
fi
# One install at a time: CI and a test package may ask at once.
exec 9>/var/lock/gokms-postgres-install.lock
flock 9
dir="$(bindir)"
if [[ -z "$dir" ]]; then
	log "installing Debian's postgresql package (apt-get update; apt-get install -y postgresql)"
	start=$(date +%s)
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2
	# --no-install-recommends: the server and its client, not sysstat & co.
	apt-get install -y -qq --no-install-recommends postgresql >&2
	dir="$(bindir)"
	if [[ -z "$dir" ]]; then
		log "apt-get installed postgresql but no /usr/lib/postgresql/*/bin/postgres appeared"
		exit 1
	fi
	log "installed $("$dir/postgres" --version) in $(($(date +%s) - start))s"
fi
echo "$dir"
