// Socket.IO through the gate, with the real socket.io-client (npm): both
// transports with and without a session, the admin path at the Apache edge,
// the backend's namespace check, and the identity the backend receives.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
    startStack, login, sioConnect, once, emitAck, upgraded, rawStatus,
    wsHandshakeHeaders, demoRequire, sleep, record,
} from './harness.mjs';
import { checkLogs } from './logcheck.mjs';

const { Manager } = demoRequire('socket.io-client');

const BOTH = [
    ['polling-then-upgrade', ['polling', 'websocket']],
    ['websocket-only', ['websocket']],
];

describe('sio: Socket.IO through mod_ws_auth', () => {
    let stack;
    let alice;
    let bob;
    const open = [];

    const connect = async (...args) => {
        const s = await sioConnect(stack, ...args);
        open.push(s);
        return s;
    };

    before(async () => {
        stack = await startStack('sio');
        alice = await login(stack, 'alice');
        bob = await login(stack, 'bob');
    });

    after(async () => {
        for (const s of open) {
            s.close();
        }
        if (stack) {
            const r = await stack.stop();
            assert.deepEqual(r.leftovers, [], 'processes left running');
        }
    });

    it('sio-01 polling-then-upgrade connects with a session and upgrades to websocket', async () => {
        const s = await connect('/', { cookie: alice, transports: ['polling', 'websocket'] });
        const w = await once(s, 'welcome');
        assert.equal(w.user, 'alice');
        assert.equal(w.role, 'admin');
        assert.equal(w.transport, 'polling', 'the Engine.IO handshake went over long-polling');
        assert.equal(await upgraded(s), 'websocket');
        const who = await emitAck(s, 'whoami');
        assert.equal(who.transport, 'websocket');
        s.close();
        // every step went through the gate: long-polls and the upgrade (a
        // tunnel's line is written when it closes)
        await stack.waitLog('access', /alice 101 "GET \/socket\.io\/\?EIO=4&transport=websocket&sid=[^"]*" ws_auth=ok/);
        const acc = stack.accessLog();
        assert.match(acc, /alice 200 "GET \/socket\.io\/\?EIO=4&transport=polling[^"]*" ws_auth=ok/);
        assert.match(acc, /alice 200 "POST \/socket\.io\/\?EIO=4&transport=polling&[^"]*sid=[^"]*" ws_auth=ok/);
    });

    it('sio-02 websocket-only connects with a session', async () => {
        const s = await connect('/', { cookie: bob, transports: ['websocket'] });
        const w = await once(s, 'welcome');
        assert.equal(w.user, 'bob');
        assert.equal(w.role, 'user');
        assert.equal(w.transport, 'websocket');
        s.close();
        await stack.waitLog('access', /bob 101 "GET \/socket\.io\/\?EIO=4&transport=websocket HTTP\/1\.1" ws_auth=ok/);
    });

    for (const [name, transports] of BOTH) {
        it(`sio-03 ${name} fails without a session (401 at Apache, nothing reaches the backend)`, async () => {
            const before = stack.backendLog();
            const err = await sioConnect(stack, '/', { transports }).then(
                () => assert.fail('connected without a session'), (e) => e);
            assert.equal(err.status, 401, `status of the refusal (${err.message})`);
            const t = transports.length === 1 ? 'websocket' : 'polling';
            await stack.waitLog('access', new RegExp(`- 401 "GET /socket\\.io/\\?EIO=4&transport=${t}[^"]*" ws_auth=no-session`));
            assert.match(stack.errorLog(), /WSA0001: GET \/socket\.io\/ refused: no-session \(401\)/);
            await sleep(100);
            assert.equal(stack.backendLog(), before, 'the backend saw something');
        });

        it(`sio-04 ${name} fails with a tampered session cookie`, async () => {
            const bad = alice.slice(0, -4) + (alice.endsWith('AAAA') ? 'BBBB' : 'AAAA');
            const err = await sioConnect(stack, '/', { cookie: bad, transports }).then(
                () => assert.fail('connected with a tampered cookie'), (e) => e);
            assert.equal(err.status, 401);
            assert.match(stack.errorLog(), /WSA0001: GET \/socket\.io\/ refused: invalid-session/);
        });
    }

    it('sio-05 the long-polls of an open session are guarded too', async () => {
        const s = await connect('/', { cookie: alice, transports: ['polling'] });
        await once(s, 'welcome');
        const sid = s.io.engine.id;
        // the same Engine.IO session without the cookie: Apache refuses
        assert.equal(await rawStatus(stack, `/socket.io/?EIO=4&transport=polling&sid=${sid}`), 401);
        // ... and with another user's cookie, the backend refuses the sid
        assert.equal(await rawStatus(stack, `/socket.io/?EIO=4&transport=polling&sid=${sid}`, { Cookie: bob }), 400);
        await stack.waitLog('backend', /refused sid of alice used by bob/);
        // the upgrade of that sid without a cookie is refused at the edge as well
        assert.equal(await rawStatus(stack, `/socket.io/?EIO=4&transport=websocket&sid=${sid}`,
            wsHandshakeHeaders()), 401);
        // alice's own socket is unharmed
        assert.equal((await emitAck(s, 'whoami')).user, 'alice');
    });

    for (const [name, transports] of BOTH) {
        it(`sio-06 ${name}: the backend's handshake sees the forwarded identity, never a client-supplied one`, async () => {
            const s = await connect('/', {
                cookie: bob, transports,
                headers: { 'X-Remote-User': 'alice', 'X-Remote-Role': 'admin' },
                auth: { user: 'alice', role: 'admin' },
            });
            const who = await emitAck(s, 'whoami');
            assert.equal(who.user, 'bob');
            assert.equal(who.role, 'user');
            assert.deepEqual(who.headers, { 'x-remote-user': 'bob', 'x-remote-role': 'user' });
            s.close();
        });
    }

    it('sio-07 every chat message carries the name the backend received', async () => {
        const a = await connect('/', { cookie: alice, transports: ['websocket'] });
        const b = await connect('/', { cookie: bob, transports: ['polling', 'websocket'], headers: { 'X-Remote-User': 'mallory' } });
        await once(a, 'welcome');
        await once(b, 'welcome');
        const got = once(a, 'chat');
        assert.deepEqual(await emitAck(b, 'chat', 'hello from bob'), { ok: true });
        const m = await got;
        assert.equal(m.from, 'bob');
        assert.equal(m.role, 'user');
        assert.equal(m.text, 'hello from bob');
        // a payload claiming a sender is not a message at all
        const r = await emitAck(b, 'chat', { from: 'alice', text: 'forged' });
        assert.equal(r.ok, false);
        a.close();
        b.close();
    });

    for (const [name, transports] of BOTH) {
        it(`sio-08 ${name}: the admin path refuses a plain user at the Apache edge (403)`, async () => {
            const err = await sioConnect(stack, '/admin', {
                cookie: bob, transports, path: '/admin/socket.io/',
                headers: { 'X-Remote-Role': 'admin' },
            }).then(() => assert.fail('bob reached the admin path'), (e) => e);
            assert.equal(err.status, 403);
            const t = transports.length === 1 ? 'websocket' : 'polling';
            await stack.waitLog('access', new RegExp(`bob 403 "GET /admin/socket\\.io/\\?EIO=4&transport=${t}`));
            assert.match(stack.errorLog(), /WSA0002: GET \/admin\/socket\.io\/ refused: authz-denied by the Require lines \(403\)/);
            assert.doesNotMatch(stack.backendLog(), /admin path: .*bob/);
        });
    }

    it('sio-09 the admin path: raw polling and upgrade requests of a plain user are 403, without a session 401', async () => {
        const q = '/admin/socket.io/?EIO=4&transport=polling';
        assert.equal(await rawStatus(stack, q, { Cookie: bob }), 403);
        assert.equal(await rawStatus(stack, q), 401);
        const w = '/admin/socket.io/?EIO=4&transport=websocket';
        assert.equal(await rawStatus(stack, w, wsHandshakeHeaders({ Cookie: bob })), 403);
        assert.equal(await rawStatus(stack, w, wsHandshakeHeaders()), 401);
        // dot segments are resolved before the Location walk: no way round
        for (const p of ['/socket.io/../admin/socket.io/?EIO=4&transport=polling',
                         '/socket.io/%2e%2e/admin/socket.io/?EIO=4&transport=polling']) {
            const st = await rawStatus(stack, p, { Cookie: bob });
            assert.equal(st, 403, `${p} answered ${st}`);
        }
        assert.doesNotMatch(stack.backendLog(), /admin path: admin bob/);
    });

    for (const [name, transports] of BOTH) {
        it(`sio-10 ${name}: the admin path admits an admin`, async () => {
            const s = await connect('/admin', { cookie: alice, transports, path: '/admin/socket.io/' });
            const w = await once(s, 'admin-welcome');
            assert.equal(w.user, 'alice');
            assert.equal(w.path, 'admin path');
            assert.ok(Array.isArray((await emitAck(s, 'online')).online));
            s.close();
        });
    }

    it('sio-11 on the shared path, the namespace check refuses a client-supplied role header', async () => {
        // one Engine.IO connection, two namespaces: Apache cannot tell them
        // apart, the backend's namespace middleware reads X-Remote-Role
        const m = new Manager(stack.url, {
            path: '/socket.io/', transports: ['polling', 'websocket'], reconnection: false,
            extraHeaders: { Cookie: bob, 'X-Remote-Role': 'admin', 'X-Remote-User': 'alice' },
        });
        const chat = record(m.socket('/'));
        const admin = record(m.socket('/admin'));
        try {
            const w = await once(chat, 'welcome');
            assert.equal(w.user, 'bob');
            const err = await once(admin, 'connect_error');
            assert.equal(err.message, 'admin role required');
            await stack.waitLog('backend', /chat path: \/admin refused for bob \(forwarded role user\)/);
            assert.ok(chat.connected, 'the chat namespace stays connected');
        } finally {
            chat.close();
            admin.close();
            m.engine && m.engine.close();
        }
    });

    it('sio-12 on the shared path, an admin reaches /admin through the namespace check', async () => {
        const s = await connect('/admin', { cookie: alice, transports: ['websocket'] });
        const w = await once(s, 'admin-welcome');
        assert.equal(w.user, 'alice');
        assert.equal(w.path, 'chat path');
        s.close();
    });

    it('sio-13 the backend refuses a connection that did not come through Apache', async () => {
        const direct = { ...stack, url: `http://127.0.0.1:${stack.backendPort}` };
        for (const [, transports] of BOTH) {
            const err = await sioConnect(direct, '/', { cookie: alice, transports }).then(
                () => assert.fail('the backend accepted a request without X-Remote-User'), (e) => e);
            assert.ok(err, 'refused');
        }
        await stack.waitLog('backend', /refused a request without x-remote-user/);
    });

    it('sio-14 login: the role comes from SessionSignLoginAttribute; a wrong password gets no cookie', async () => {
        const s = await connect('/', { cookie: await login(stack, 'bob'), transports: ['websocket'] });
        assert.equal((await once(s, 'welcome')).role, 'user');
        s.close();
        const err = await login(stack, 'alice', 'not-her-password').then(() => null, (e) => e);
        assert.equal(err && err.status, 401);
        assert.match(stack.errorLog(), /SSG0036: form login failed/);
    });

    it('sio-15 logout clears the cookie; without it the socket cannot reconnect', async () => {
        const cookie = await login(stack, 'bob');
        const res = await fetch(`${stack.url}/logout?return=/`, {
            method: 'POST', redirect: 'manual', headers: { Cookie: cookie },
        });
        await res.arrayBuffer();
        assert.equal(res.status, 303);
        const cleared = res.headers.getSetCookie().find((c) => c.startsWith('session='));
        assert.ok(cleared, 'logout sets the cookie');
        assert.match(cleared, /^session=;|Max-Age=0|expires=Thu, 01 Jan 1970/i);
        for (const [, transports] of BOTH) {
            const err = await sioConnect(stack, '/', { transports }).then(
                () => assert.fail('reconnected after logout'), (e) => e);
            assert.equal(err.status, 401);
        }
    });

    it('sio-16 logout revokes: its open socket is closed (1008), a copied token is refused', async () => {
        // the demo keeps revocations in SessionSignRevocationCache shmcb:
        // logout takes the session back, also from an open socket
        const cookie = await login(stack, 'bob');
        const s = await connect('/', { cookie, transports: ['websocket'] });
        assert.equal((await once(s, 'welcome')).user, 'bob');
        const closed = new Promise((resolve) => s.once('disconnect', (reason, details) => resolve({ reason, details })));
        const t0 = Date.now();
        const res = await fetch(`${stack.url}/logout`, { method: 'POST', headers: { Cookie: cookie } });
        await res.arrayBuffer();
        assert.equal(res.status, 200);
        const { reason, details } = await closed;
        assert.equal(reason, 'transport close');
        assert.equal(details.context.code, 1008);
        assert.equal(details.context.reason, 'session revoked');
        assert.ok(Date.now() - t0 < 2500, `closed after ${Date.now() - t0} ms`);
        const err = await sioConnect(stack, '/', { cookie, transports: ['websocket'] }).then(
            () => assert.fail('a revoked token connected'), (e) => e);
        assert.equal(err.status ?? 401, 401);
        await stack.waitLog('error', /WSA0040: tunnel ended \(session revoked\): user bob/);
    });

    it('sio-99 the logs hold only the expected refusals and no session token', async () => {
        await sleep(200);
        checkLogs(stack, [alice, bob]);
    });
});

// SessionMaxAge of a few seconds, WSAuthTunnelLifetime session: an open
// socket ends at the expiry its session carried; Socket.IO reconnects by
// itself with the client's current (refreshed) cookie while the session
// is alive, and cannot once it is not.
describe('sio-tun: sockets that end with their session, and reconnect', () => {
    let stack;
    const M = Manager;

    before(async () => {
        stack = await startStack('siotun', {
            env: { DEMO_MAX_AGE: '3', DEMO_EXPIRY_UPDATE: '1', DEMO_TUNNEL_LIFETIME: 'session' },
        });
    });

    after(async () => {
        if (stack) {
            const r = await stack.stop();
            assert.deepEqual(r.leftovers, [], 'processes left running');
        }
    });

    async function refreshed(cookie) {
        // any request that loads the session rewrites its expiry
        // (SessionExpiryUpdateInterval 1): the browser's cookie jar
        const res = await fetch(`${stack.url}/socket.io/?EIO=4&transport=polling`, {
            headers: { Cookie: cookie, Origin: stack.url },
        });
        await res.arrayBuffer();
        const c = res.headers.getSetCookie().find((x) => x.startsWith('session='));
        return c ? c.split(';')[0] : null;
    }

    it('sio-20 the socket ends at its expiry (1008 "session ended") and reconnects with the fresh cookie', async () => {
        const first = await login(stack, 'alice');
        const mgr = new M(stack.url, {
            path: '/socket.io/', transports: ['websocket'], extraHeaders: { Cookie: first },
            reconnection: true, reconnectionDelay: 200, reconnectionDelayMax: 500,
            reconnectionAttempts: 3, forceNew: true, timeout: 8000,
        });
        const s = mgr.socket('/');
        record(s);
        const connected = () => new Promise((r) => s.once('connect', r));
        try {
            await connected();
            assert.equal((await once(s, 'welcome')).user, 'alice');
            await sleep(1200);
            const fresh = await refreshed(first);
            assert.ok(fresh && fresh !== first, 'the session was refreshed');
            mgr.opts.extraHeaders.Cookie = fresh;       // what the cookie jar does
            const t0 = Date.now();
            const [reason, details] = await new Promise((r) => s.once('disconnect', (a, b) => r([a, b])));
            assert.equal(reason, 'transport close');
            assert.equal(details.context.code, 1008);
            assert.equal(details.context.reason, 'session ended');
            await connected();                           // reconnected by Socket.IO itself
            assert.ok(Date.now() - t0 < 3000, `reconnected after ${Date.now() - t0} ms`);
            assert.equal((await once(s, 'welcome')).user, 'alice');

            // no refresh this time: at its expiry the socket ends, and the
            // reconnects are refused (the session is gone)
            await new Promise((r) => s.once('disconnect', r));
            await new Promise((r) => mgr.once('reconnect_failed', r));
            assert.equal(s.connected, false);
        } finally {
            s.close();
        }
        await stack.waitLog('error', /WSA0040: tunnel ended \(session ended\): user alice/);
    });

    it('sio-29 the logs hold only the expected refusals', async () => {
        await sleep(200);
        checkLogs(stack);
    });
});
