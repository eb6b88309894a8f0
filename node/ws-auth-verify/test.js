// node --test: the verifier against the vectors of docs/forward-signature.md
// (computed by Python's hmac, the same as tests/unit/test_wsa_fsig.c).
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const http = require('node:http');
const { createVerifier, parseKeyFile } = require('./index.js');

const KEY = 'fsig-test-key-0123456789abcdef-0123456789';
const T = 1700000000;
const V1 = 'v1;t=1700000000;h=x-remote-user;s=HkV05JN9UsZom4L7YtPTKZKxDdxtGgWfBqzNTSNsZRA';
const V2 = 'v1;t=1700000000;h=x-remote-user,x-remote-role;s=9SU-Y8av6WkimNpPi-5lLvbMDtQBwKZRZH9EXwdHV1k';
const VU = 'v1;t=1700000000;h=x-remote-user;s=MnrAHylSGwyO3x6uWGk9mzDlR7iJBBnwofN5zcubvDE';
const v = createVerifier({ keys: [KEY], now: () => T + 30 });

function req(sig, extra = {}, method = 'GET', url = '/socket.io/?EIO=4&transport=polling') {
    return { method, url, headers: { 'x-ws-auth-signature': sig, 'x-remote-user': 'alice', ...extra } };
}

test('the documented vectors verify, with the identity', () => {
    assert.deepStrictEqual(v.verify(req(V1)), { ok: true, reason: 'ok', identity: { 'x-remote-user': 'alice' } });
    const r = v.verify(req(V2, { 'x-remote-role': 'admin' }));
    assert.strictEqual(r.ok, true);
    assert.deepStrictEqual(r.identity, { 'x-remote-user': 'alice', 'x-remote-role': 'admin' });
    assert.strictEqual(v.verify(req(V1, {}, 'POST')).ok, false);
});

test('a UTF-8 value: Node gives latin1, the verifier MACs the bytes', () => {
    const latin1 = Buffer.from('jörg', 'utf8').toString('latin1');
    const r = v.verify(req(VU, { 'x-remote-user': latin1 }));
    assert.strictEqual(r.ok, true);
    assert.strictEqual(r.identity['x-remote-user'], 'jörg');
});

test('forged, missing, stale and malformed signatures are refused', () => {
    assert.strictEqual(v.verify(req(V1, { 'x-remote-user': 'mallory' })).reason, 'bad signature');
    assert.strictEqual(v.verify(req(undefined)).reason, 'no signature');
    assert.strictEqual(v.verify(req(V1, {}, 'GET', '/admin/socket.io/')).reason, 'bad signature');
    assert.strictEqual(v.verify(req(V2)).reason, 'a signed header is missing');
    assert.strictEqual(v.verify(req(V1 + 'x')).reason, 'malformed signature');
    assert.strictEqual(v.verify(req(V1.replace('t=1', 't=01'))).reason, 'malformed signature');
    assert.strictEqual(v.verify(req(V1.replace('x-remote-user', 'X-Remote-User'))).reason, 'malformed signature');
    const late = createVerifier({ keys: [KEY], now: () => T + 61 });
    assert.strictEqual(late.verify(req(V1)).reason, 'stale signature');
    const early = createVerifier({ keys: [KEY], now: () => T - 61 });
    assert.strictEqual(early.verify(req(V1)).reason, 'stale signature');
    const wide = createVerifier({ keys: [KEY], now: () => T + 100, windowSeconds: 120 });
    assert.strictEqual(wide.verify(req(V1)).ok, true);
    const other = createVerifier({ keys: ['another-key-0123456789abcdef-0123456789'], now: () => T });
    assert.strictEqual(other.verify(req(V1)).reason, 'bad signature');
    const both = createVerifier({ keys: ['another-key-0123456789abcdef-0123456789', KEY], now: () => T });
    assert.strictEqual(both.verify(req(V1)).ok, true);
});

test('key files: comments, CRLF; short secrets refused', () => {
    assert.strictEqual(parseKeyFile('# c\r\n' + KEY + '\r\n\n').length, 1);
    assert.throws(() => parseKeyFile('short\n'));
    assert.throws(() => parseKeyFile('# only a comment\n'));
    assert.throws(() => createVerifier({ keys: ['short'] }));
});

test('as Express-style middleware on a real http server: 401 unless signed', async () => {
    const mw = createVerifier({ keys: [KEY], now: () => T }).express();
    const srv = http.createServer((rq, rs) => mw(rq, rs, () => { rs.end('hi ' + rq.wsAuth['x-remote-user']); }));
    await new Promise((ok) => srv.listen(0, '127.0.0.1', ok));
    const port = srv.address().port;
    const get = (headers) => new Promise((ok, ko) => {
        http.get({ port, host: '127.0.0.1', path: '/socket.io/?EIO=4', headers }, (res) => {
            let b = '';
            res.on('data', (d) => { b += d; });
            res.on('end', () => ok([res.statusCode, b]));
        }).on('error', ko);
    });
    assert.deepStrictEqual(await get({ 'x-ws-auth-signature': V1, 'x-remote-user': 'alice' }), [200, 'hi alice']);
    const [st] = await get({ 'x-remote-user': 'alice' });
    assert.strictEqual(st, 401);
    srv.close();
});

test('as Socket.IO middleware: next(err) unless signed', () => {
    const mw = v.socketio();
    let err = 'unset';
    const sock = { request: req(V1), data: {} };
    mw(sock, (e) => { err = e; });
    assert.strictEqual(err, undefined);
    assert.strictEqual(sock.data.wsAuth['x-remote-user'], 'alice');
    mw({ request: req('bogus'), data: {} }, (e) => { err = e; });
    assert.match(String(err), /unauthorized/);
});
