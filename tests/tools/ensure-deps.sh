#!/bin/sh
# The one installer of Debian packages: every make target and script that
# needs packages calls it. As root it installs what is missing; as another
# user it prints the exact apt-get line and stops.
#
#   ensure-deps.sh [pkg ...]          the build's and the tests' packages, plus pkg ...
#   ensure-deps.sh --only pkg ...     exactly these packages (demo, e2e, deb, bench)
#   ENSURE_DEPS_WHO=demo ensure-deps.sh ...   the prefix of its messages
set -e
BASE="apache2 apache2-dev apache2-utils libssl-dev libapr1-dev libaprutil1-dev strace
libaprutil1-dbd-sqlite3 sqlite3 check pkg-config gcc make clang-format valgrind faketime
python3-pytest python3-websockets python3-h2 python3-requests redis-server redis-tools memcached graphviz
libhiredis-dev libjansson-dev"
who=${ENSURE_DEPS_WHO:-deps}
if [ "${1:-}" = "--only" ]; then
    shift
    PKGS="$*"
else
    PKGS="$BASE $*"
fi
missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $p"
    fi
done
if [ -z "$missing" ]; then
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "$who: missing Debian packages:$missing" >&2
    echo "$who: run as root: apt-get update && apt-get install -y --no-install-recommends$missing" >&2
    exit 1
fi
echo "$who: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
# the Debian package starts a system apache2 where systemd runs; the tests
# use private instances only and never touch it
