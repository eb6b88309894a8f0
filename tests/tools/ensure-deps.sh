#!/bin/sh
# Install the Debian packages the build and the tests need (as root), or
# print the exact apt-get line and stop. Usage: ensure-deps.sh [extra packages]
set -e
PKGS="apache2 apache2-dev apache2-utils libssl-dev libapr1-dev libaprutil1-dev strace
libaprutil1-dbd-sqlite3 sqlite3 check pkg-config gcc make clang-format valgrind faketime
python3-pytest python3-websockets python3-h2 python3-requests $*"
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
    echo "missing Debian packages:$missing" >&2
    echo "run as root: apt-get update && apt-get install -y --no-install-recommends$missing" >&2
    exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
# the Debian package starts a system apache2 where systemd runs; the tests
# use private instances only and never touch it
