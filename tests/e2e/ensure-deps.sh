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
ENSURE_DEPS_WHO=e2e sh "$(dirname "$0")/../tools/ensure-deps.sh" --only chromium fonts-liberation
