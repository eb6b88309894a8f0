// Issue 17 in a real browser: headless Debian Chromium logs in with the
// Express app's own form (express-session + connect-redis), and its
// Socket.IO page opens a socket through Apache guarded by
// `WSAuthSource express`; the backend gets the user from Apache, with a
// forward signature its verifier accepts. Logged out at the app, the same
// page's socket is refused; a tampered cookie too. The stack is
// tests/tools/express_stack.py (the exp_10 integration tests' own).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, RUNS, ARTIFACTS, ensureDir, track, trackMore, untrack, waitFor, alive } from './harness.mjs';
import { launchChromium } from './browser.mjs';
import { unexpectedLines } from './logcheck.mjs';

async function startExpressStack() {
    const runDir = path.join(RUNS, `express-${process.pid}`);
    fs.rmSync(runDir, { recursive: true, force: true });
    const child = spawn('/usr/bin/python3', [path.join(ROOT, 'tests/tools/express_stack.py'), runDir], {
        detached: true, stdio: ['ignore', 'pipe', 'pipe'],
    });
    const entry = track(child.pid);
    let out = '';
    let err = '';
    let exited = null;
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const exitP = new Promise((r) => child.on('exit', (code) => { exited = { code }; r(exited); }));
    await waitFor(() => exited || out.includes('\n'), { timeout: 40000, what: 'express_stack.py' });
    if (exited) throw new Error(`express_stack.py exited: ${err}`);
    const info = JSON.parse(out.split('\n')[0]);
    trackMore(entry, ...info.pids);
    return {
        ...info,
        accessLog: () => fs.readFileSync(info.logs.access, 'utf8'),
        errorLog: () => fs.readFileSync(info.logs.error, 'utf8'),
        async stop() {
            try { process.kill(child.pid, 'SIGTERM'); } catch { /* gone */ }
            const t = setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }, 30000);
            await exitP;
            clearTimeout(t);
            const left = info.pids.filter(alive);
            untrack(entry);
            return { code: exited.code, stderr: err, left };
        },
    };
}

async function shot(page, name) {
    await page.screenshot({ path: path.join(ensureDir(ARTIFACTS), name), fullPage: true });
}

describe('express: the app\'s own session guards its sockets at Apache', () => {
    let stack;
    let chrome;
    before(async () => {
        stack = await startExpressStack();
        chrome = await launchChromium();
    });
    after(async () => {
        const left = chrome ? await chrome.close() : [];
        assert.deepEqual(left, [], 'chromium processes left');
        if (stack) {
            const r = await stack.stop();
            assert.equal(r.code, 0, `stack stop: ${r.stderr}`);
            assert.deepEqual(r.left, [], 'stack processes left');
        }
    });

    it('logs in at the app, opens the socket with the user, then loses it at logout', async () => {
        const context = await chrome.browser.newContext({ viewport: { width: 900, height: 500 } });
        const page = await context.newPage();
        await page.goto(`${stack.url}/login`);
        await page.fill('#username', 'alice');
        await page.fill('#password', stack.users.alice);
        await Promise.all([page.waitForURL(`${stack.url}/`), page.click('#login')]);
        await page.waitForFunction(() => /socket: (hello|refused)/.test(document.getElementById('socket').textContent));
        await shot(page, 'express-logged-in.png');
        assert.equal(await page.textContent('#who'), 'user alice');
        assert.equal(await page.textContent('#socket'), 'socket: hello alice verified=true');

        // a tampered cookie in the same browser: refused at Apache
        const [sid] = (await context.cookies()).filter((c) => c.name === 'connect.sid');
        const tampered = sid.value.slice(0, -1) + (sid.value.endsWith('A') ? 'B' : 'A');
        await context.addCookies([{ ...sid, value: tampered }]);
        await page.reload();
        await page.waitForFunction(() => /socket: (hello|refused)/.test(document.getElementById('socket').textContent));
        assert.match(await page.textContent('#socket'), /socket: refused/);
        // the first socket's line, written when its tunnel closed
        await waitFor(() => / alice 101 "GET \/socket\.io\/\?EIO=4&transport=websocket HTTP\/1\.1" ws_auth=ok/.test(stack.accessLog()),
            { timeout: 5000, what: 'the 101 in the access log' });
        await context.addCookies([sid]);

        // logged out at the app: its store entry is destroyed
        const st = await page.evaluate(() => fetch('/logout', { method: 'POST' }).then((r) => r.status));
        assert.equal(st, 200);
        await context.addCookies([sid]);      // the browser still sends the old cookie
        await page.reload();
        await page.waitForFunction(() => /socket: (hello|refused)/.test(document.getElementById('socket').textContent));
        await shot(page, 'express-logged-out.png');
        assert.match(await page.textContent('#socket'), /socket: refused/);
        await waitFor(() => /401 "GET \/socket\.io\/\?EIO=4&transport=websocket HTTP\/1\.1" ws_auth=unknown-session/.test(stack.accessLog()),
            { timeout: 5000, what: 'the 401 in the access log' });
        assert.match(stack.accessLog(), /401 "GET \/socket\.io\/[^"]*" ws_auth=invalid-session/);
        assert.deepEqual(unexpectedLines(stack.errorLog()), []);
        assert.ok(!stack.errorLog().includes(sid.value) && !stack.accessLog().includes(sid.value),
            'the cookie in a log');
        await context.close();
    });
});
