// ws-auth-verify - check, in a Node backend, that the identity headers of a
// request came from the Apache in front of it (mod_ws_auth's
// WSAuthForwardSignature; format: docs/forward-signature.md). CommonJS,
// no dependencies.
//
//   const { createVerifier } = require('ws-auth-verify');
//   const v = createVerifier({ keyFile: '/etc/apache2/ws-forward.keys' });
//   app.use(v.express());                  // 401 unless signed; req.wsAuth
//   io.use(v.socketio());                  // refuses the socket; socket.data.wsAuth
//   const r = v.verify({ method, url, headers });   // { ok, reason, identity }
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');

const LABEL = 'mod_ws_auth forward-signature v1';
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
const SIG = /^[A-Za-z0-9_-]{43}$/;

function parseKeyFile(text) {
    const keys = [];
    for (const raw of text.split('\n')) {
        const line = raw.replace(/\r$/, '').replace(/^[ \t]+|[ \t]+$/g, '');
        if (!line || line.startsWith('#')) continue;
        if (!/^[\x21-\x7e]+$/.test(line) || line.length < 32) {
            throw new Error('ws-auth-verify: each key file line must be one secret of at least 32 printable ASCII bytes');
        }
        keys.push(Buffer.from(line, 'latin1'));
    }
    if (!keys.length) throw new Error('ws-auth-verify: no secret in the key file');
    return keys;
}

function createVerifier(opts = {}) {
    const keys = opts.keys
        ? opts.keys.map((k) => Buffer.isBuffer(k) ? k : Buffer.from(String(k), 'latin1'))
        : parseKeyFile(fs.readFileSync(opts.keyFile, 'latin1'));
    if (!keys.length || keys.some((k) => k.length < 32)) {
        throw new Error('ws-auth-verify: secrets of at least 32 bytes');
    }
    const header = (opts.header || 'x-ws-auth-signature').toLowerCase();
    const windowSeconds = opts.windowSeconds ?? 60;
    const now = opts.now || (() => Math.floor(Date.now() / 1000));

    // req-like: { method, url, headers } as Node's http gives them
    function verify(req) {
        const fail = (reason) => ({ ok: false, reason, identity: null });
        const value = req.headers[header];
        if (typeof value !== 'string') return fail('no signature');
        const m = /^v1;t=([1-9][0-9]{0,11});h=([^;]*);s=([^;]*)$/.exec(value);
        if (!m || !SIG.test(m[3])) return fail('malformed signature');
        const names = m[2] === '' ? [] : m[2].split(',');
        if (names.length > 16 || names.some((n) => !TOKEN.test(n))) return fail('malformed signature');
        const t = Number(m[1]);
        const age = now() - t;
        if (age > windowSeconds || age < -windowSeconds) return fail('stale signature');
        const path = String(req.url || '/').split('?')[0];
        const parts = [LABEL, m[1], req.method, path];
        const identity = {};
        for (const n of names) {
            const v = req.headers[n];
            if (typeof v !== 'string') return fail('a signed header is missing');
            parts.push(n + ':' + v);
            identity[n] = Buffer.from(v, 'latin1').toString('utf8');
        }
        // Node hands header bytes over as latin1: back to the bytes Apache signed
        const msg = Buffer.from(parts.join('\n') + '\n', 'latin1');
        const got = Buffer.from(m[3], 'base64url');
        let good = false;
        for (const k of keys) {
            const want = crypto.createHmac('sha256', k).update(msg).digest();
            if (got.length === want.length && crypto.timingSafeEqual(got, want)) good = true;
        }
        return good ? { ok: true, reason: 'ok', identity } : fail('bad signature');
    }

    function express() {
        return (req, res, next) => {
            const r = verify({ method: req.method, url: req.originalUrl || req.url, headers: req.headers });
            if (!r.ok) {
                res.statusCode = 401;
                res.setHeader('Content-Type', 'text/plain');
                return res.end('not through the gate: ' + r.reason + '\n');
            }
            req.wsAuth = r.identity;
            next();
        };
    }

    function socketio() {
        return (socket, next) => {
            const r = verify(socket.request);
            if (!r.ok) return next(new Error('unauthorized: ' + r.reason));
            socket.data.wsAuth = r.identity;
            next();
        };
    }

    return { verify, express, socketio };
}

module.exports = { createVerifier, parseKeyFile, LABEL };
