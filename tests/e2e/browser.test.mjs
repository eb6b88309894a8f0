// A real browser: headless Debian Chromium logs in with the form, chats
// over the WebSocket, and a page of a second origin fails to hijack the
// socket with the victim's cookie (CSWSH). After logout no reconnect works.
// Screenshots go to build/e2e-artifacts/.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import { startStack, freePort, ensureDir, ARTIFACTS, waitFor } from './harness.mjs';
import { launchChromium } from './browser.mjs';
import { checkLogs } from './logcheck.mjs';

const ATTACK_PAGE = (target) => `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>another origin</title></head>
<body style="font-family: sans-serif">
<h1>A page of another origin</h1>
<p>It opens the chat's socket with whatever cookie the browser adds.</p>
<pre id="out">pending</pre>
<script>
window.result = { ws: 'pending', poll: 'pending', noCors: 'pending' };
function render() { document.getElementById('out').textContent = JSON.stringify(result, null, 2); }
const ws = new WebSocket('ws://${target}/socket.io/?EIO=4&transport=websocket');
ws.onopen = () => { result.ws = 'open'; render(); };
ws.onmessage = (e) => { result.data = String(e.data); render(); };
ws.onclose = (e) => {
    result.ws = (result.ws === 'open' ? 'closed-after-open:' : 'failed:') + e.code;
    render();
};
fetch('http://${target}/socket.io/?EIO=4&transport=polling', { credentials: 'include' })
    .then((r) => r.text().then((t) => { result.poll = 'read:' + r.status + ':' + t; }),
          (e) => { result.poll = 'failed:' + e.name; })
    .finally(render);
// a no-cors GET carries no Origin header (nor does a same-origin XHR GET,
// which is why WSAuthOriginMissing stays at allow for Socket.IO polling)
fetch('http://${target}/socket.io/?EIO=4&transport=polling&nocors=1', { mode: 'no-cors', credentials: 'include' })
    .then((r) => r.text().then((t) => { result.noCors = r.type + ':' + r.status + ':' + t; }),
          (e) => { result.noCors = 'failed:' + e.name; })
    .finally(render);
</script>
</body></html>
`;

async function shot(page, name) {
    const file = path.join(ensureDir(ARTIFACTS), name);
    await page.bringToFront();          // a background tab does not paint
    await page.screenshot({ path: file, fullPage: true });
    return file;
}

async function signIn(page, stack, user, query = '') {
    await page.goto(`${stack.url}/${query}`);
    // no session yet: the socket is refused and the page offers the form
    await page.waitForSelector('#status[data-state="refused"]');
    await page.waitForSelector('#login:not([hidden])');
    await page.fill('#username', user);
    await page.fill('#password', stack.users[user].password);
    await Promise.all([
        page.waitForURL(`${stack.url}/`),
        page.click('#login-button'),
    ]);
    if (query) {
        await page.goto(`${stack.url}/${query}`);
    }
    await page.waitForSelector('#status[data-state="connected"]');
    await waitFor(async () => (await page.textContent('#me-user')) === user, { what: `#me-user ${user}` });
}

/** Record the WebSocket frames a page sends and receives. */
function watchSockets(page) {
    const seen = { sockets: [], sent: [], received: [] };
    page.on('websocket', (ws) => {
        seen.sockets.push(ws.url());
        ws.on('framesent', (f) => seen.sent.push(String(f.payload)));
        ws.on('framereceived', (f) => seen.received.push(String(f.payload)));
    });
    return seen;
}

describe('br: the demo in headless Chromium', () => {
    let stack;
    let chrome;
    let attacker;
    let attackerPort;
    let alice;       // { context, page, seen }
    let bob;

    before(async () => {
        stack = await startStack('browser');
        attackerPort = await freePort();
        attacker = http.createServer((req, res) => {
            res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
            res.end(ATTACK_PAGE(`127.0.0.1:${stack.port}`));
        });
        await new Promise((r) => attacker.listen(attackerPort, '127.0.0.1', r));
        chrome = await launchChromium();
    });

    after(async () => {
        const left = chrome ? await chrome.close() : [];
        if (attacker) {
            attacker.closeAllConnections();
            await new Promise((r) => attacker.close(r));
        }
        if (stack) {
            const r = await stack.stop();
            assert.deepEqual(r.leftovers, [], 'server processes left running');
        }
        assert.deepEqual(left, [], 'chromium processes left running');
    });

    const newUser = async (name) => {
        const context = await chrome.browser.newContext({ viewport: { width: 1000, height: 800 } });
        const page = await context.newPage();
        return { context, page, seen: watchSockets(page) };
    };

    it('br-01 alice signs in with the form and chats with bob over WebSockets', async () => {
        alice = await newUser('alice');
        bob = await newUser('bob');
        try {
            await signIn(alice.page, stack, 'alice');                          // polling, then upgrade
            await signIn(bob.page, stack, 'bob', '?transport=websocket');      // websocket only
            await waitFor(async () => (await alice.page.textContent('#transport')) === 'websocket',
                { what: "alice's upgrade to websocket" });
            assert.equal(await bob.page.textContent('#transport'), 'websocket');
            assert.equal(await alice.page.textContent('#me-role'), 'admin');
            assert.equal(await bob.page.textContent('#me-role'), 'user');

            const [cookie] = (await alice.context.cookies()).filter((c) => c.name === 'session');
            assert.ok(cookie, 'the session cookie is set');
            assert.equal(cookie.httpOnly, true);
            assert.equal(cookie.sameSite, 'Lax');
            assert.equal(await alice.page.evaluate(() => document.cookie), '', 'the page cannot read it');

            await alice.page.fill('#text', 'Hello bob, this went over the WebSocket');
            await alice.page.click('#send');
            const got = bob.page.locator('#messages li[data-from="alice"]', { hasText: 'Hello bob, this went over the WebSocket' });
            await got.waitFor();
            await bob.page.fill('#text', 'Hi alice, received');
            await bob.page.press('#text', 'Enter');
            await alice.page.locator('#messages li[data-from="bob"]', { hasText: 'Hi alice, received' }).waitFor();

            // the messages travelled in WebSocket frames, not long-polls
            const wsUrl = new RegExp(`^ws://127\\.0\\.0\\.1:${stack.port}/socket\\.io/\\?EIO=4&transport=websocket`);
            assert.ok(alice.seen.sockets.some((u) => wsUrl.test(u)), alice.seen.sockets.join(' '));
            assert.ok(alice.seen.sent.some((p) => p.includes('Hello bob, this went over the WebSocket')));
            assert.ok(bob.seen.received.some((p) => p.includes('"from":"alice"') && p.includes('Hello bob')));
            // the name shown is the one the backend got in X-Remote-User
            assert.equal(await got.locator('.from').getAttribute('title'), 'name the backend received in X-Remote-User');

            await alice.page.waitForSelector('#admin-status[data-state="connected"]');
            await alice.page.fill('#announce-text', 'Admins can announce');
            await alice.page.click('#announce');
            await bob.page.locator('#messages li.announcement', { hasText: 'Admins can announce' }).waitFor();
            await waitFor(async () => /Online: alice, bob/.test(await alice.page.textContent('#online')),
                { what: 'both users online' });
        } finally {
            await shot(alice.page, 'chat-alice.png');
            await shot(bob.page, 'chat-bob.png');
        }
        await stack.waitLog('access', /alice 200 "GET \/socket\.io\/\?EIO=4&transport=polling/);
    });

    it('br-02 bob\'s page: the admin area is refused at the Apache edge (403)', async () => {
        await bob.page.waitForSelector('#admin-status[data-state="refused"]');
        // websocket only in bob's page: the browser hides the status, the log has it
        assert.match(await bob.page.textContent('#admin-status'), /Admin area refused/);
        await stack.waitLog('access', /bob 403 "GET \/admin\/socket\.io\/\?EIO=4&transport=websocket[^"]*" ws_auth=authz-denied/);
        assert.equal(await bob.page.isHidden('#announce-form'), true);
    });

    it('br-03 a page of another origin cannot open the socket with the victim\'s cookie (CSWSH)', async () => {
        const evil = await alice.context.newPage();
        try {
            const chatsBefore = stack.backendLog().match(/chat: alice .*connected over/g).length;
            await evil.goto(`http://127.0.0.1:${attackerPort}/`);
            const result = await waitFor(() => evil.evaluate(() => (
                Object.values(window.result).includes('pending') ? null : window.result)),
            { timeout: 15000, what: 'the attack page to finish' });
            assert.match(result.ws, /^failed:/, `the WebSocket opened: ${JSON.stringify(result)}`);
            assert.equal(result.data, undefined);
            assert.match(result.poll, /^failed:/, `the long-poll was readable: ${JSON.stringify(result)}`);

            const origin = `http://127.0.0.1:${attackerPort}`;
            const esc = origin.replace(/[.]/g, '\\.');
            // refused for the Origin, and not for want of a cookie: the
            // access log names alice, whose cookie the browser did send
            await stack.waitLog('error', new RegExp(`WSA0001: GET /socket\\.io/ refused: origin-mismatch: ${esc} \\(403\\)`));
            await stack.waitLog('access', new RegExp(
                `alice 403 "GET /socket\\.io/\\?EIO=4&transport=websocket HTTP/1\\.1" ws_auth=origin-mismatch origin="${esc}"`));
            await stack.waitLog('access', new RegExp(
                `alice 403 "GET /socket\\.io/\\?EIO=4&transport=polling HTTP/1\\.1" ws_auth=origin-mismatch origin="${esc}"`));
            assert.doesNotMatch(stack.accessLog(), new RegExp(`ws_auth=no-session origin="${esc}"`));
            assert.doesNotMatch(stack.accessLog(), new RegExp(`ws_auth=ok origin="${esc}"`));

            // The no-cors GET has no Origin, but Chromium says where it comes
            // from (Sec-Fetch-Site): the gate refuses it before the backend
            // sees it, and the page can read nothing.
            assert.equal(result.noCors, 'opaque:0:', `the no-cors response was readable: ${result.noCors}`);
            await stack.waitLog('access', /alice 403 "GET \/socket\.io\/\?EIO=4&transport=polling&nocors=1 HTTP\/1\.1" ws_auth=cross-site origin="-"/);
            assert.equal(stack.backendLog().match(/chat: alice .*connected over/g).length, chatsBefore,
                'the other origin got a chat connection');
        } finally {
            await shot(evil, 'cswsh-other-origin.png');
            await evil.close();
        }
        // alice's own page still works
        assert.equal(await alice.page.getAttribute('#status', 'data-state'), 'connected');
    });

    it('br-04 signing out in one tab closes the chat socket in the other: "session ended", no reconnect', async () => {
        const tab2 = await alice.context.newPage();
        await tab2.goto(`${stack.url}/`);
        await tab2.waitForSelector('#status[data-state="connected"]');
        await waitFor(async () => (await tab2.textContent('#transport')) === 'websocket', { what: 'tab 2 upgrade' });

        const t0 = Date.now();
        await Promise.all([
            alice.page.waitForURL(`${stack.url}/`),
            alice.page.click('#logout-button'),
        ]);
        await alice.page.waitForSelector('#login:not([hidden])');
        assert.deepEqual((await alice.context.cookies()).filter((c) => c.name === 'session'), []);
        await shot(alice.page, 'logged-out.png');

        // the tunnel tab 2 opened before the logout is closed by Apache
        // (1008 "session revoked"), and the page says so
        await tab2.waitForSelector('#status[data-state="ended"]', { timeout: 5000 });
        const ms = Date.now() - t0;
        assert.ok(ms < 3000, `tab 2 ended after ${ms} ms`);
        assert.match(await tab2.textContent('#status'), /Session ended .*session revoked/);
        // its reconnect has no cookie any more: 401, and the login form
        await tab2.waitForSelector('#login:not([hidden])', { timeout: 15000 });
        assert.match(await tab2.textContent('#status'), /Session ended \(session revoked\): sign in again/);
        assert.equal(await tab2.evaluate(() => window.demo.chat.connected), false);
        await shot(tab2, 'session-ended.png');

        // and a WebSocket opened by hand from the demo's own origin fails too
        const code = await alice.page.evaluate((port) => new Promise((resolve) => {
            const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`);
            ws.onopen = () => resolve('open');
            ws.onclose = (e) => resolve(`failed:${e.code}`);
        }), stack.port);
        assert.match(code, /^failed:/);
        const esc = `http://127.0.0.1:${stack.port}`.replace(/[.]/g, '\\.');
        await stack.waitLog('access', new RegExp(
            `- 401 "GET /socket\\.io/\\?EIO=4&transport=websocket HTTP/1\\.1" ws_auth=no-session origin="${esc}"`));
        await stack.waitLog('access', /alice 101 "GET \/socket\.io\/\?EIO=4&transport=websocket&sid=[^"]*" ws_auth=ok origin="[^"]*" tunnel_end=revoked/);
        await tab2.close();
    });

    it('br-99 the logs hold only the expected refusals and no session token', async () => {
        checkLogs(stack);
        assert.doesNotMatch(stack.backendLog(), /session=/);
    });
});
