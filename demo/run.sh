#!/usr/bin/env bash
# The demo: a private Apache on 127.0.0.1 (mod_session_sign + mod_ws_auth)
# in front of a Socket.IO chat backend. `make demo` runs this script.
#
#   demo/run.sh               install what is missing, build, start, wait for Ctrl-C
#   demo/run.sh --prepare     install what is missing and build; start nothing
#   demo/run.sh --no-install  start only (everything must be there already;
#                             the end-to-end tests use this)
#
# Environment: PORT (Apache; default 8080 if free, else any free port),
# BACKEND_PORT (default: any free port), DEMO_RUN_DIR (default demo/run, or
# $TMPDIR/ws-auth-demo, default /tmp, when run as root from a checkout User
# daemon cannot reach). For the end-to-end tests (short sessions, a few
# seconds): DEMO_MAX_AGE (SessionMaxAge, default 3600), DEMO_EXPIRY_UPDATE
# (SessionExpiryUpdateInterval, default 300), DEMO_TUNNEL_LIFETIME
# (WSAuthTunnelLifetime of the chat, default absolute).
# Ctrl-C (or SIGTERM) stops Apache and the backend by PID and waits for them.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEMO="$ROOT/demo"
BUILD="$ROOT/build"
RUN_DIR=${DEMO_RUN_DIR:-$DEMO/run}
APACHE=${APACHE:-/usr/sbin/apache2}
MODDIR=${MODDIR:-/usr/lib/apache2/modules}
STOP_WAIT=15            # seconds each server gets to stop before SIGKILL
START_WAIT=20           # seconds the servers get to open their ports

mode=run
install=1
for arg in "$@"; do
    case "$arg" in
    --prepare) mode=prepare ;;
    --no-install) install=0 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "demo: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
    esac
done

say() { printf 'demo: %s\n' "$*"; }
die() { printf 'demo: error: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- dependencies

DEBS="apache2 apache2-dev apache2-utils libssl-dev libapr1-dev libaprutil1-dev libhiredis-dev libjansson-dev gcc make pkg-config"

ensure_debs() {
    local extra=""
    # node and npm may come from another package (NodeSource's nodejs ships
    # npm): ask Debian only when the commands are missing
    command -v node >/dev/null 2>&1 || extra="$extra nodejs"
    command -v npm >/dev/null 2>&1 || extra="$extra npm"
    # shellcheck disable=SC2086
    ENSURE_DEPS_WHO=demo sh "$ROOT/tests/tools/ensure-deps.sh" --only $DEBS $extra
}

ensure_npm() {
    # npm ci installs exactly what demo/package-lock.json pins; skipped when
    # node_modules already matches the lock file
    if [ ! -f "$DEMO/node_modules/.package-lock.json" ] \
        || [ "$DEMO/package-lock.json" -nt "$DEMO/node_modules/.package-lock.json" ] \
        || [ "$DEMO/package.json" -nt "$DEMO/node_modules/.package-lock.json" ]; then
        say "npm ci (versions pinned by demo/package-lock.json)"
        (cd "$DEMO" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
    fi
}

check_node() {
    local major
    major=$(node -p 'process.versions.node.split(".")[0]')
    [ "$major" -ge 18 ] || die "Node.js $major is too old: the demo needs 18 or later (20 for the browser tests)"
}

if [ "$install" = 1 ]; then
    ensure_debs
    check_node
    say "building the modules"
    make -C "$ROOT" --no-print-directory all
    ensure_npm
fi
[ "$mode" = prepare ] && { say "prepared"; exit 0; }

for f in "$BUILD/mod_session_sign.so" "$BUILD/mod_ws_auth.so" "$BUILD/session-sign" \
         "$DEMO/node_modules/socket.io/package.json" \
         "$DEMO/node_modules/socket.io-client/dist/socket.io.min.js" "$APACHE"; do
    [ -e "$f" ] || die "$f is missing: run 'make demo' (or demo/run.sh --prepare) first"
done
command -v htpasswd >/dev/null 2>&1 || die "htpasswd is missing: apt-get install apache2-utils"

# ---------------------------------------------------------------- ports

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
    node -e 'const s = require("net").createServer();
             s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

if [ -n "${PORT:-}" ]; then
    port_busy "$PORT" && die "PORT=$PORT is in use on 127.0.0.1; choose another"
elif ! port_busy 8080; then
    PORT=8080
else
    PORT=$(free_port)
fi
if [ -n "${BACKEND_PORT:-}" ]; then
    port_busy "$BACKEND_PORT" && die "BACKEND_PORT=$BACKEND_PORT is in use on 127.0.0.1"
else
    BACKEND_PORT=$(free_port)
    [ "$BACKEND_PORT" != "$PORT" ] || BACKEND_PORT=$(free_port)
fi

# ---------------------------------------------------------------- run directory

# Run as root, the workers are User daemon: at request time they read the
# page, the client library and htpasswd, all of them copied into the run
# directory, which daemon must be able to reach. A checkout under a 0700
# directory (root's home, a CI workspace) cannot be reached: the default run
# directory then moves to ${TMPDIR:-/tmp}/ws-auth-demo.
daemon_reaches() { runuser -u daemon -- test -x "$1" </dev/null >/dev/null 2>&1; }
if [ -z "${DEMO_RUN_DIR:-}" ] && [ "$(id -u)" = 0 ] && ! daemon_reaches "$DEMO"; then
    RUN_DIR=${TMPDIR:-/tmp}/ws-auth-demo
    say "$DEMO is out of User daemon's reach: the run directory is $RUN_DIR"
fi
[ -L "$RUN_DIR" ] && die "$RUN_DIR is a symbolic link; refusing to use it"
mkdir -p "$RUN_DIR"
RUN_DIR=$(cd "$RUN_DIR" && pwd)
[ -O "$RUN_DIR" ] || die "$RUN_DIR is not owned by $(id -un); refusing to use it"
mkdir -p "$RUN_DIR/conf" "$RUN_DIR/logs" "$RUN_DIR/run" "$RUN_DIR/keys" "$RUN_DIR/modules"
# what the workers serve: a fresh copy of demo/public and the client library
rm -rf "$RUN_DIR/htdocs.new"
cp -R "$DEMO/public" "$RUN_DIR/htdocs.new"
mkdir -p "$RUN_DIR/htdocs.new/vendor"
cp "$DEMO/node_modules/socket.io-client/dist/socket.io.min.js" "$RUN_DIR/htdocs.new/vendor/"
chmod -R u=rwX,go=rX "$RUN_DIR/htdocs.new"
rm -rf "$RUN_DIR/htdocs"
mv "$RUN_DIR/htdocs.new" "$RUN_DIR/htdocs"
# a private copy of our modules: `make` rewrites build/*.so in place, and a
# running httpd whose mapped module changes under it crashes
for so in mod_session_sign.so mod_ws_auth.so; do
    cp "$BUILD/$so" "$RUN_DIR/modules/$so.new"
    mv -f "$RUN_DIR/modules/$so.new" "$RUN_DIR/modules/$so"
done
KEY="$RUN_DIR/keys/session.key"
HTPASSWD="$RUN_DIR/htpasswd"
CONF="$RUN_DIR/conf/httpd.conf"

if [ "$(id -u)" = 0 ]; then
    # the workers run as daemon: they read htpasswd at every login
    user_group=$'User daemon\nGroup daemon'
    chown root:daemon "$RUN_DIR" "$RUN_DIR/keys"
    chmod 0750 "$RUN_DIR" "$RUN_DIR/keys"
    file_mode=0640
    own() { chown root:daemon "$@"; chmod "$file_mode" "$@"; }
    daemon_reaches "$RUN_DIR/htdocs" \
        || die "User daemon cannot reach $RUN_DIR (a parent directory is closed to it): set DEMO_RUN_DIR to a directory it can traverse"
else
    user_group="# not root: the server runs as $(id -un)"
    chmod 0700 "$RUN_DIR" "$RUN_DIR/keys"
    file_mode=0600
    own() { chmod "$file_mode" "$@"; }
fi

if [ ! -s "$KEY" ]; then
    (umask 077 && "$BUILD/session-sign" genkey > "$KEY.new")
    mv "$KEY.new" "$KEY"
    say "new signing key in $KEY"
fi
own "$KEY"

# demo users, new passwords at every start (fed on stdin, not argv)
newpass() { head -c 12 /dev/urandom | base64 | tr -d '+/=' | cut -c1-12; }
ALICE_PW=$(newpass)
BOB_PW=$(newpass)
rm -f "$HTPASSWD"
printf '%s\n' "$ALICE_PW" | htpasswd -ciB "$HTPASSWD" alice 2>/dev/null
printf '%s\n' "$BOB_PW" | htpasswd -iB "$HTPASSWD" bob 2>/dev/null
own "$HTPASSWD"

sed -e "s|@RUN_DIR@|$RUN_DIR|g" -e "s|@PORT@|$PORT|g" -e "s|@BACKEND_PORT@|$BACKEND_PORT|g" \
    -e "s|@DEMO_DIR@|$DEMO|g" -e "s|@MODDIR@|$MODDIR|g" \
    -e "s|@MAX_AGE@|${DEMO_MAX_AGE:-3600}|g" -e "s|@EXPIRY_UPDATE@|${DEMO_EXPIRY_UPDATE:-300}|g" \
    -e "s|@TUNNEL_LIFETIME@|${DEMO_TUNNEL_LIFETIME:-absolute}|g" \
    -e "s|@USER_GROUP@|${user_group//$'\n'/\\n}|g" "$DEMO/httpd.conf.in" > "$CONF"
"$APACHE" -f "$CONF" -t >"$RUN_DIR/logs/configtest" 2>&1 \
    || { cat "$RUN_DIR/logs/configtest" >&2; die "Apache refused $CONF"; }

# ---------------------------------------------------------------- start and stop

NODE_PID=""
HTTPD_PID=""

alive() {
    # a dead child stays a zombie until waited for: not alive
    [ -r "/proc/$1/stat" ] || return 1
    local st
    st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
    [ -n "$st" ] && [ "$st" != Z ]
}

# stop_pid PID NAME GROUP: SIGTERM, wait up to STOP_WAIT s, then SIGKILL
# (the whole process group when GROUP=1: Apache runs in its own session)
stop_pid() {
    local pid=$1 name=$2 group=$3 i
    [ -n "$pid" ] || return 0
    if alive "$pid"; then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < STOP_WAIT * 10; i++)); do
            alive "$pid" || break
            sleep 0.1
        done
    fi
    if alive "$pid"; then
        say "$name (pid $pid) did not stop in ${STOP_WAIT}s: SIGKILL"
        if [ "$group" = 1 ]; then kill -KILL -- "-$pid" 2>/dev/null || true; fi
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
    if [ "$group" = 1 ] && pgrep -g "$pid" >/dev/null 2>&1; then
        say "$name: processes left in group $pid: SIGKILL"
        kill -KILL -- "-$pid" 2>/dev/null || true
    fi
}

stopped=0
cleanup() {
    local rc=${1:-0}
    trap - INT TERM EXIT
    if [ "$stopped" = 0 ]; then
        stopped=1
        [ -n "$HTTPD_PID$NODE_PID" ] && say "stopping (httpd ${HTTPD_PID:-none}, backend ${NODE_PID:-none})"
        stop_pid "$HTTPD_PID" httpd 1
        stop_pid "$NODE_PID" backend 0
        [ -n "$HTTPD_PID$NODE_PID" ] && say "stopped"
    fi
    exit "$rc"
}
trap 'cleanup 0' INT TERM
trap 'cleanup $?' EXIT

node "$DEMO/server.js" "$BACKEND_PORT" >>"$RUN_DIR/logs/backend.log" 2>&1 </dev/null &
NODE_PID=$!
echo "$NODE_PID" > "$RUN_DIR/run/backend.pid"
# Apache in a session of its own: its signals never reach this script's group
setsid "$APACHE" -f "$CONF" -DFOREGROUND >>"$RUN_DIR/logs/stderr" 2>&1 </dev/null &
HTTPD_PID=$!

up=0
for ((i = 0; i < START_WAIT * 10; i++)); do
    alive "$NODE_PID" || { cat "$RUN_DIR/logs/backend.log" >&2; die "the backend exited at start"; }
    alive "$HTTPD_PID" || { tail -5 "$RUN_DIR/logs/error_log" "$RUN_DIR/logs/stderr" >&2; die "Apache exited at start"; }
    if port_busy "$BACKEND_PORT" && port_busy "$PORT"; then
        up=1
        break
    fi
    sleep 0.1
done
[ "$up" = 1 ] || die "the servers did not open ports $PORT and $BACKEND_PORT in ${START_WAIT}s"

say "ready: http://127.0.0.1:$PORT/"
say "user alice password $ALICE_PW role admin"
say "user bob password $BOB_PW role user"
say "httpd pid $HTTPD_PID on 127.0.0.1:$PORT, backend pid $NODE_PID on 127.0.0.1:$BACKEND_PORT"
say "logs: $RUN_DIR/logs/{error_log,access_log,backend.log}"
say "Ctrl-C stops both"

# wait until a signal arrives (the trap stops both) or a server dies
set +e
wait -n "$NODE_PID" "$HTTPD_PID"
rc=$?
set -e
if alive "$NODE_PID"; then who=Apache; else who="the backend"; fi
say "$who exited unexpectedly (status $rc); stopping the other one"
cleanup 1
