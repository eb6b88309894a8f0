#!/bin/sh
# What the browser tests need beyond `demo/run.sh --prepare`: Node.js 20+
# (playwright-core) and Debian's Chromium (never a downloaded browser).
# As root, installs chromium when missing; otherwise prints the apt-get line.
set -e
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
    echo "e2e: Node.js $major is too old for playwright-core: install Node.js 20 or later" >&2
    exit 1
fi
[ -x /usr/bin/chromium ] && exit 0
PKGS="chromium fonts-liberation"
if [ "$(id -u)" != 0 ]; then
    echo "e2e: /usr/bin/chromium is missing" >&2
    echo "e2e: run as root: apt-get update && apt-get install -y --no-install-recommends $PKGS" >&2
    exit 1
fi
echo "e2e: installing Debian's $PKGS"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $PKGS >/dev/null
