// demo/run.sh itself: what it prints and writes, what Apache serves, and
// that Ctrl-C (or the death of one server) leaves nothing running.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {
    startStack, alive, groupMembers, portOpen, waitFor, freePort, login, DEMO, ROOT, RUNS, track, untrack,
} from './harness.mjs';

const started = [];

async function stack(name, opts) {
    const s = await startStack(name, opts);
    started.push(s);
    return s;
}

/** Local addresses listening on a TCP port, from /proc/net/tcp{,6}. */
function listeners(port) {
    const hex = port.toString(16).toUpperCase().padStart(4, '0');
    const out = [];
    for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
        let text = '';
        try { text = fs.readFileSync(f, 'utf8'); } catch { continue; }
        for (const line of text.split('\n').slice(1)) {
            const c = line.trim().split(/\s+/);
            if (c.length > 3 && c[3] === '0A' && c[1].endsWith(`:${hex}`)) {
                out.push(c[1].split(':')[0]);
            }
        }
    }
    return out;
}

async function assertAllGone(s, r) {
    assert.deepEqual(r.leftovers, [], `left running: ${r.leftovers}`);
    assert.ok(!alive(s.httpdPid), 'httpd still alive');
    assert.ok(!alive(s.backendPid), 'backend still alive');
    assert.deepEqual(groupMembers(s.httpdPid), [], "processes left in Apache's group");
    assert.equal(await portOpen(s.port), false, 'Apache port still open');
    assert.equal(await portOpen(s.backendPort), false, 'backend port still open');
}

describe('demo: demo/run.sh', () => {
    after(async () => {
        for (const s of started) {
            await s.stop();
        }
    });

    it('demo-01 prints the URL, the users and the PIDs; key and htpasswd are private; loopback only', async () => {
        const s = await stack('demo01');
        const out = s.output();
        assert.match(out, new RegExp(`demo: ready: http://127\\.0\\.0\\.1:${s.port}/`));
        assert.deepEqual(Object.keys(s.users).sort(), ['alice', 'bob']);
        assert.equal(s.users.alice.role, 'admin');
        assert.equal(s.users.bob.role, 'user');
        assert.ok(alive(s.httpdPid) && alive(s.backendPid));

        const key = fs.statSync(path.join(s.runDir, 'keys', 'session.key'));
        const pw = fs.statSync(path.join(s.runDir, 'htpasswd'));
        if (process.getuid() === 0) {
            const daemonGid = Number(fs.readFileSync('/etc/group', 'utf8').match(/^daemon:[^:]*:(\d+):/m)[1]);
            for (const st of [key, pw]) {
                assert.equal(st.mode & 0o777, 0o640);
                assert.equal(st.gid, daemonGid, 'group daemon (the httpd workers)');
            }
        } else {
            assert.equal(key.mode & 0o077, 0);
        }
        const secret = fs.readFileSync(path.join(s.runDir, 'keys', 'session.key'), 'utf8').trim();
        assert.ok(secret.length >= 32, 'a session-sign genkey secret');
        assert.ok(!out.includes(secret), 'the key is not printed');
        const hashes = fs.readFileSync(path.join(s.runDir, 'htpasswd'), 'utf8');
        assert.match(hashes, /^alice:\$2y\$/m, 'bcrypt (htpasswd -B)');
        assert.match(hashes, /^bob:\$2y\$/m);

        assert.deepEqual(listeners(s.port), ['0100007F'], 'Apache listens on 127.0.0.1 only');
        assert.deepEqual(listeners(s.backendPort), ['0100007F'], 'the backend listens on 127.0.0.1 only');
    });

    it('demo-02 Apache serves the page and the client bundle; the backend only behind the Socket.IO paths', async () => {
        const s = started[0] || await stack('demo02');
        const page = await fetch(`${s.url}/`);
        assert.equal(page.status, 200);
        assert.match(await page.text(), /action="\/login"/);
        assert.match(page.headers.get('content-security-policy'), /connect-src 'self'/);
        const js = await fetch(`${s.url}/vendor/socket.io.min.js`);
        assert.equal(js.status, 200);
        assert.match(js.headers.get('content-type'), /javascript/);
        await js.arrayBuffer();
        for (const p of ['/server.js', '/package.json', '/node_modules/socket.io/package.json',
                         '/socket.io', '/admin/', '/conf/httpd.conf', '/keys/session.key']) {
            const r = await fetch(`${s.url}${p}`);
            await r.arrayBuffer();
            assert.equal(r.status, 404, `${p}: ${r.status}`);
        }
        // the login form of the module itself, for a browser without the page
        const form = await fetch(`${s.url}/login`);
        assert.equal(form.status, 200);
        assert.match(await form.text(), /name="username"/);
    });

    it('demo-03 Ctrl-C stops Apache and the backend and leaves nothing running', async () => {
        const s = await stack('demo03');
        const r = await s.stop({ signal: 'SIGINT' });          // to the whole group, as a terminal does
        assert.equal(r.exit.code, 0, r.output);
        assert.match(r.output, /demo: stopping \(httpd \d+, backend \d+\)\ndemo: stopped/);
        await assertAllGone(s, r);
        assert.match(s.errorLog(), /AH00491: caught SIGTERM, shutting down/);
    });

    it('demo-04 SIGTERM to the script alone stops both servers', async () => {
        const s = await stack('demo04');
        process.kill(s.runPid, 'SIGTERM');
        await waitFor(() => !alive(s.runPid), { timeout: 30000, what: 'run.sh to exit' });
        const r = await s.stop();
        assert.equal(r.exit.code, 0, r.output);
        await assertAllGone(s, r);
    });

    it('demo-05 when the backend dies, the script stops Apache and fails', async () => {
        const s = await stack('demo05');
        process.kill(s.backendPid, 'SIGKILL');
        await waitFor(() => !alive(s.runPid), { timeout: 30000, what: 'run.sh to exit' });
        const r = await s.stop();
        assert.equal(r.exit.code, 1, r.output);
        assert.match(r.output, /the backend exited unexpectedly/);
        await assertAllGone(s, r);
    });

    it('demo-06 a busy PORT is refused before anything starts', async () => {
        const busy = net.createServer();
        await new Promise((res) => busy.listen(0, '127.0.0.1', res));
        const port = busy.address().port;
        const runDir = path.join(RUNS, `demo06-${process.pid}`);
        fs.rmSync(runDir, { recursive: true, force: true });
        const child = spawn('bash', [path.join(DEMO, 'run.sh'), '--no-install'], {
            env: { ...process.env, PORT: String(port), BACKEND_PORT: String(await freePort()), DEMO_RUN_DIR: runDir },
            detached: true, stdio: ['ignore', 'pipe', 'pipe'],
        });
        const t = track(child.pid);
        let out = '';
        child.stdout.on('data', (d) => { out += d; });
        child.stderr.on('data', (d) => { out += d; });
        const code = await new Promise((res) => child.on('exit', res));
        untrack(t);
        busy.close();
        assert.equal(code, 1);
        assert.match(out, new RegExp(`PORT=${port} is in use`));
        assert.ok(!fs.existsSync(path.join(runDir, 'run', 'httpd.pid')), 'nothing started');
    });

    it('demo-07 as root from a checkout User daemon cannot reach, the run directory moves under TMPDIR and everything is served',
        { skip: process.getuid() !== 0 && 'only root switches the workers to daemon' }, async () => {
            // the checkout seen through a 0700 directory, as in a CI workspace
            const base = fs.mkdtempSync(path.join(RUNS, 'demo07-'));
            fs.chmodSync(base, 0o755);
            const closed = path.join(base, 'closed');
            fs.mkdirSync(closed);
            fs.chmodSync(closed, 0o700);
            fs.symlinkSync(ROOT, path.join(closed, 'checkout'));
            const tmp = path.join(base, 'tmp');
            fs.mkdirSync(tmp);
            fs.chmodSync(tmp, 0o755);
            const runDir = path.join(tmp, 'ws-auth-demo');
            const s = await stack('demo07', {
                script: path.join(closed, 'checkout', 'demo', 'run.sh'), env: { TMPDIR: tmp }, runDir,
            });
            assert.match(s.output(), new RegExp(`out of User daemon's reach: the run directory is ${runDir}\n`));
            const page = await fetch(`${s.url}/`);
            assert.equal(page.status, 200);
            assert.match(await page.text(), /action="\/login"/);
            const js = await fetch(`${s.url}/vendor/socket.io.min.js`);
            assert.equal(js.status, 200);
            await js.arrayBuffer();
            // the workers read htpasswd at every login: it must be theirs to read
            assert.match(await login(s, 'bob'), /^session=v2\./);
            const r = await s.stop();
            assert.equal(r.exit.code, 0, r.output);
            await assertAllGone(s, r);
            fs.rmSync(base, { recursive: true, force: true });
        });
});
