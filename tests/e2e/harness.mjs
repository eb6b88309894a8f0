// The end-to-end harness: starts the demo stack (demo/run.sh --no-install:
// the same script `make demo` runs) on free loopback ports, in a process
// group of its own, and stops it the way Ctrl-C does. Every process it
// starts is tracked by PID and killed on exit, on failure too.
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DEMO = path.join(ROOT, 'demo');
export const BUILD = path.join(ROOT, 'build');
export const ARTIFACTS = path.join(BUILD, 'e2e-artifacts');

// Run directories of the stacks. Run as root, Apache's workers are User
// daemon and must reach theirs: a checkout under a 0700 directory (root's
// home, a CI workspace) cannot be reached, so the runs then go to a private
// directory under /tmp, removed at exit when every test passed.
function daemonReaches(dir) {
    if (process.getuid() !== 0) {
        return true;
    }
    return spawnSync('runuser', ['-u', 'daemon', '--', 'test', '-x', dir], { stdio: 'ignore' }).status === 0;
}

function runsDir() {
    const inBuild = path.join(BUILD, 'e2e-run');
    fs.mkdirSync(inBuild, { recursive: true });
    if (daemonReaches(inBuild)) {
        return inBuild;
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ws-auth-e2e-'));
    fs.chmodSync(dir, 0o755);
    process.on('exit', (code) => {
        if (code === 0) {
            fs.rmSync(dir, { recursive: true, force: true });
        } else {
            console.error(`e2e: run directories kept in ${dir}`);
        }
    });
    return dir;
}

// npm packages live in demo/node_modules (pinned by demo/package-lock.json)
export const demoRequire = createRequire(path.join(DEMO, 'package.json'));

const live = new Set();          // { pgid, pids[] } still to be killed

function killGroupSync(entry, sig) {
    for (const pid of [entry.pgid, ...entry.pids]) {
        if (!pid) {
            continue;
        }
        try { process.kill(-pid, sig); } catch { /* gone */ }
        try { process.kill(pid, sig); } catch { /* gone */ }
    }
}

// last resort: nothing this harness started outlives the test process
process.on('exit', () => {
    for (const e of live) {
        killGroupSync(e, 'SIGKILL');
    }
});
for (const sig of ['SIGINT', 'SIGTERM']) {
    process.once(sig, () => {
        for (const e of live) {
            killGroupSync(e, 'SIGKILL');
        }
        process.exit(130);
    });
}

// after the handlers above: at exit, servers are killed before their run
// directories are removed
export const RUNS = runsDir();

// An out-of-process reaper, one per test process: it waits until this
// process is gone (however it ended, SIGKILL included) and then kills every
// group and PID still listed in its file. Normal runs leave the list empty.
const REAPER = `
parent=$1 list=$2
alive() { [ -r /proc/$1/stat ] && [ "$(sed 's/^.*) //' /proc/$1/stat | cut -d' ' -f1)" != Z ]; }
for ((i = 0; i < 1400; i++)); do alive "$parent" || break; sleep 0.5; done
if [ -s "$list" ]; then
    for p in $(cat "$list"); do kill -TERM -- "-$p" 2>/dev/null; kill -TERM "$p" 2>/dev/null; done
    sleep 3
    for p in $(cat "$list"); do kill -KILL -- "-$p" 2>/dev/null; kill -KILL "$p" 2>/dev/null; done
fi
rm -f "$list"
`;
let reaperFile = null;

function syncReaper() {
    if (!reaperFile) {
        fs.mkdirSync(RUNS, { recursive: true });
        reaperFile = path.join(RUNS, `.reap-${process.pid}`);
        fs.writeFileSync(reaperFile, '');
        const r = spawn('bash', ['-c', REAPER, 'e2e-reaper', String(process.pid), reaperFile], {
            detached: true, stdio: 'ignore',
        });
        r.unref();
    }
    const pids = [...live].flatMap((e) => [e.pgid, ...e.pids]).filter(Boolean);
    fs.writeFileSync(reaperFile, pids.length ? `${pids.join('\n')}\n` : '');
}

export function track(pgid, pids = []) {
    const e = { pgid, pids };
    live.add(e);
    syncReaper();
    return e;
}

export function trackMore(e, ...pids) {
    e.pids.push(...pids);
    syncReaper();
}

export function untrack(e) {
    live.delete(e);
    syncReaper();
}

/** Alive and not a zombie. */
export function alive(pid) {
    if (!pid) {
        return false;
    }
    try {
        const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
        return st.slice(st.lastIndexOf(')') + 2, st.lastIndexOf(')') + 3) !== 'Z';
    } catch {
        return false;
    }
}

/** PIDs of the processes in a process group (from /proc; no name matching). */
export function groupMembers(pgid) {
    const out = [];
    for (const d of fs.readdirSync('/proc')) {
        if (!/^\d+$/.test(d)) {
            continue;
        }
        try {
            const st = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
            const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
            if (Number(f[2]) === pgid && f[0] !== 'Z') {
                out.push(Number(d));
            }
        } catch { /* raced */ }
    }
    return out;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function waitFor(fn, { timeout = 10000, step = 50, what = 'condition' } = {}) {
    const end = Date.now() + timeout;
    for (;;) {
        const v = await fn();
        if (v) {
            return v;
        }
        if (Date.now() > end) {
            throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
        }
        await sleep(step);
    }
}

export function freePort() {
    return new Promise((resolve, reject) => {
        const s = net.createServer();
        s.on('error', reject);
        s.listen(0, '127.0.0.1', () => {
            const { port } = s.address();
            s.close(() => resolve(port));
        });
    });
}

export function portOpen(port) {
    return new Promise((resolve) => {
        const c = net.connect({ host: '127.0.0.1', port });
        c.setTimeout(500);
        c.on('connect', () => { c.destroy(); resolve(true); });
        c.on('error', () => resolve(false));
        c.on('timeout', () => { c.destroy(); resolve(false); });
    });
}

function readText(p) {
    try {
        return fs.readFileSync(p, 'utf8');
    } catch {
        return '';
    }
}

let stackCount = 0;

/**
 * Start the demo stack; resolves once run.sh says it is ready.
 * opts.script: another path to run.sh (default demo/run.sh); opts.env: more
 * environment; opts.runDir: the run directory run.sh picks by itself (no
 * DEMO_RUN_DIR is passed then), default a fresh one under RUNS.
 * @return stack: { url, port, backendPort, users, httpdPid, backendPid,
 *                  runPid, runDir, output(), errorLog(), accessLog(),
 *                  backendLog(), waitLog(), stop() }
 */
export async function startStack(name, opts = {}) {
    const port = await freePort();
    const backendPort = await freePort();
    const runDir = opts.runDir || path.join(RUNS, `${name}-${process.pid}-${++stackCount}`);
    fs.rmSync(runDir, { recursive: true, force: true });
    fs.mkdirSync(RUNS, { recursive: true });
    const env = { ...process.env, PORT: String(port), BACKEND_PORT: String(backendPort), ...opts.env };
    if (opts.runDir) {
        delete env.DEMO_RUN_DIR;
    } else {
        env.DEMO_RUN_DIR = runDir;
    }
    const child = spawn('bash', [opts.script || path.join(DEMO, 'run.sh'), '--no-install'], {
        env,
        detached: true,                         // own session and process group
        stdio: ['ignore', 'pipe', 'pipe'],
    });
    const entry = track(child.pid);
    let out = '';
    let exited = null;
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    const exitP = new Promise((resolve) => child.on('exit', (code, sig) => {
        exited = { code, sig };
        resolve(exited);
    }));

    try {
        await waitFor(() => exited || /demo: Ctrl-C stops both/.test(out),
            { timeout: 40000, what: `demo/run.sh to start (${runDir})` });
        if (exited) {
            throw new Error(`demo/run.sh exited (${JSON.stringify(exited)}):\n${out}`);
        }
    } catch (e) {
        killGroupSync(entry, 'SIGKILL');
        throw e;
    }
    const m = out.match(/httpd pid (\d+) on 127\.0\.0\.1:(\d+), backend pid (\d+) on 127\.0\.0\.1:(\d+)/);
    const users = {};
    for (const u of out.matchAll(/demo: user (\w+) password (\S+) role (\w+)/g)) {
        users[u[1]] = { password: u[2], role: u[3] };
    }
    const httpdPid = Number(m[1]);
    const backendPid = Number(m[3]);
    trackMore(entry, httpdPid, backendPid);   // Apache leads a group of its own

    const logs = {
        error: path.join(runDir, 'logs', 'error_log'),
        access: path.join(runDir, 'logs', 'access_log'),
        backend: path.join(runDir, 'logs', 'backend.log'),
    };
    const stack = {
        name, port, backendPort, runDir, users, httpdPid, backendPid,
        runPid: child.pid,
        url: `http://127.0.0.1:${port}`,
        output: () => out,
        errorLog: () => readText(logs.error),
        accessLog: () => readText(logs.access),
        backendLog: () => readText(logs.backend),
        async waitLog(which, re, timeout = 5000) {
            const get = { error: stack.errorLog, access: stack.accessLog, backend: stack.backendLog }[which];
            return waitFor(() => get().match(re), { timeout, what: `${re} in the ${which} log` });
        },
        /**
         * Stop like Ctrl-C in a terminal: SIGINT to run.sh's process group.
         * Resolves to { exit, leftovers } once run.sh has exited; anything
         * still running after that is killed (and reported in leftovers).
         */
        async stop({ signal = 'SIGINT' } = {}) {
            if (!exited) {
                try { process.kill(-child.pid, signal); } catch { /* gone */ }
                const t = setTimeout(() => killGroupSync(entry, 'SIGKILL'), 40000);
                await exitP;
                clearTimeout(t);
            }
            const leftovers = [];
            await waitFor(() => !alive(httpdPid) && !alive(backendPid)
                              && groupMembers(httpdPid).length === 0,
                          { timeout: 5000, what: 'the servers to go' }).catch(() => {});
            for (const pid of [httpdPid, backendPid, ...groupMembers(httpdPid), ...groupMembers(child.pid)]) {
                if (alive(pid)) {
                    leftovers.push(pid);
                }
            }
            killGroupSync(entry, 'SIGKILL');
            untrack(entry);
            return { exit: exited, leftovers, output: out };
        },
    };
    return stack;
}

// ---------------------------------------------------------------- HTTP helpers

/** Form login through session-sign-login; returns the Cookie header value. */
export async function login(stack, user, password = stack.users[user].password) {
    const res = await fetch(`${stack.url}/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ username: user, password, return: '/' }),
    });
    const cookies = res.headers.getSetCookie();
    await res.arrayBuffer();
    if (res.status !== 303) {
        const err = new Error(`login of ${user}: HTTP ${res.status}`);
        err.status = res.status;
        throw err;
    }
    const c = cookies.find((s) => s.startsWith('session='));
    if (!c) {
        throw new Error(`login of ${user}: no session cookie`);
    }
    return c.split(';')[0];
}

/** A raw GET (or upgrade handshake) with node:http; resolves to the status. */
export async function rawStatus(stack, pathAndQuery, headers = {}) {
    const http = await import('node:http');
    return new Promise((resolve, reject) => {
        const req = http.request({
            host: '127.0.0.1', port: stack.port, path: pathAndQuery, headers,
            agent: false,
        });
        req.setTimeout(10000, () => req.destroy(new Error('timeout')));
        req.on('response', (res) => { res.resume(); resolve(res.statusCode); });
        req.on('upgrade', (res, socket) => { socket.destroy(); resolve(res.statusCode); });
        req.on('error', reject);
        req.end();
    });
}

export function wsHandshakeHeaders(extra = {}) {
    return {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': Buffer.from(Array.from({ length: 16 }, () => Math.floor(Math.random() * 256))).toString('base64'),
        ...extra,
    };
}

// ---------------------------------------------------------------- Socket.IO

const { io } = demoRequire('socket.io-client');

/**
 * Connect with the real socket.io-client. opts: { cookie, transports,
 * path, headers }. Resolves to the socket once connected, rejects with the
 * connect_error (err.status: the HTTP status when the client learnt it).
 */
export function sioConnect(stack, ns = '/', opts = {}) {
    const headers = { ...(opts.headers || {}) };
    if (opts.cookie) {
        headers.Cookie = opts.cookie;
    }
    const socket = io(stack.url + ns, {
        path: opts.path || '/socket.io/',
        transports: opts.transports || ['polling', 'websocket'],
        extraHeaders: headers,
        reconnection: false,
        forceNew: true,
        timeout: 8000,
        ...(opts.auth ? { auth: opts.auth } : {}),
    });
    record(socket);
    return new Promise((resolve, reject) => {
        const t = setTimeout(() => { socket.close(); reject(new Error('connect timed out')); }, 12000);
        socket.once('connect', () => { clearTimeout(t); resolve(socket); });
        socket.once('connect_error', (err) => {
            clearTimeout(t);
            socket.close();
            err.status = statusOf(err);
            reject(err);
        });
    });
}

function statusOf(err) {
    const d = err && err.description;
    if (typeof d === 'number') {
        return d;                                  // long-polling: the XHR status
    }
    const msg = String((d && (d.message || (d.error && d.error.message))) || '');
    const m = msg.match(/Unexpected server response: (\d+)/);   // ws
    return m ? Number(m[1]) : null;
}

/**
 * Record every event a socket receives from the moment it is created, so a
 * test never misses one that arrived before it started listening (the
 * server's 'welcome' comes in the same packet batch as the connect).
 */
export function record(socket) {
    if (socket.__received) {
        return socket;
    }
    socket.__received = [];
    socket.__waiters = [];
    const deliver = (event, args) => {
        const i = socket.__waiters.findIndex((w) => w.event === event);
        if (i >= 0) {
            socket.__waiters.splice(i, 1)[0].resolve(args[0]);
        } else {
            socket.__received.push({ event, args });
        }
    };
    socket.onAny((event, ...args) => deliver(event, args));
    // reserved events are not seen by onAny
    socket.on('connect_error', (err) => deliver('connect_error', [err]));
    return socket;
}

/** The next (or an already received) `event` on a recorded socket. */
export function once(socket, event, timeout = 8000) {
    record(socket);
    const i = socket.__received.findIndex((r) => r.event === event);
    if (i >= 0) {
        return Promise.resolve(socket.__received.splice(i, 1)[0].args[0]);
    }
    return new Promise((resolve, reject) => {
        const w = { event, resolve: null };
        const t = setTimeout(() => {
            socket.__waiters.splice(socket.__waiters.indexOf(w), 1);
            reject(new Error(`no '${event}' in ${timeout} ms`));
        }, timeout);
        w.resolve = (v) => { clearTimeout(t); resolve(v); };
        socket.__waiters.push(w);
    });
}

export function emitAck(socket, event, ...args) {
    return socket.timeout(8000).emitWithAck(event, ...args);
}

/** The transport after the upgrade settles (polling -> websocket). */
export async function upgraded(socket, timeout = 8000) {
    await waitFor(() => socket.io.engine && socket.io.engine.transport.name === 'websocket',
        { timeout, what: 'the upgrade to websocket' });
    return socket.io.engine.transport.name;
}

export function ensureDir(d) {
    fs.mkdirSync(d, { recursive: true });
    return d;
}

export function sh(cmd, args) {
    return spawnSync(cmd, args, { encoding: 'utf8' });
}
