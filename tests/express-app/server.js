// A real Express app of the kind issue 17 is about: its own login form,
// express-session with a connect-redis store, and a Socket.IO backend.
// Behind Apache with `WSAuthSource express`, the sockets are guarded at the
// edge; the backend reads the identity from X-Remote-User and, with
// FSIG_KEY_FILE, refuses any request whose forward signature does not
// verify (node/ws-auth-verify).
//
//   PORT=3000 REDIS_URL=redis://127.0.0.1:6379 SECRET_FILE=secrets \
//   [FSIG_KEY_FILE=forward.keys] node server.js
//
// Prints "express-app listening on PORT" when ready. Users: alice /
// wonderland (role admin), bob / builder (role user), n42 / numeric (a
// numeric passport.user, as a database id would be).
'use strict';
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const express = require('express');
const session = require('express-session');
const { RedisStore } = require('connect-redis');
const { createClient } = require('redis');
const { Server } = require('socket.io');
const { createVerifier } = require('../../node/ws-auth-verify');

const USERS = {
    alice: { password: 'wonderland', id: 'alice', role: 'admin' },
    bob: { password: 'builder', id: 'bob', role: 'user' },
    n42: { password: 'numeric', id: 42, role: 'user' },
};

function secretsFrom(file) {
    return fs.readFileSync(file, 'utf8').split('\n').map((l) => l.trim())
        .filter((l) => l && !l.startsWith('#'));
}

async function main() {
    const port = Number(process.env.PORT || 3000);
    const redis = createClient({ url: process.env.REDIS_URL || 'redis://127.0.0.1:6379' });
    redis.on('error', (e) => console.error('redis:', e.message));
    await redis.connect();

    const app = express();
    app.set('trust proxy', 'loopback');
    app.use(express.urlencoded({ extended: false }));
    app.use(session({
        store: new RedisStore({ client: redis, prefix: process.env.SESS_PREFIX || 'sess:' }),
        secret: secretsFrom(process.env.SECRET_FILE), // signs with the first, accepts all
        name: process.env.COOKIE_NAME || 'connect.sid',
        resave: false,
        saveUninitialized: process.env.SAVE_UNINITIALIZED === '1',
        cookie: { httpOnly: true, sameSite: 'lax', maxAge: 3600 * 1000 },
    }));

    // the client library outside the guarded /socket.io/ path: a logged-out
    // page must still load it to show the refusal
    app.use('/static', express.static(path.join(path.dirname(require.resolve('socket.io')), '..', 'client-dist')));
    app.get('/login', (req, res) => {
        res.type('html').send(`<!doctype html><title>login</title>
<form method="post" action="/login">
<label>user <input name="username" id="username"></label>
<label>password <input name="password" id="password" type="password"></label>
<button id="login" type="submit">log in</button></form>`);
    });
    app.post('/login', (req, res, next) => {
        const u = USERS[req.body.username];
        if (!u || u.password !== req.body.password) return res.status(401).send('bad login\n');
        req.session.regenerate((err) => {
            if (err) return next(err);
            req.session.passport = { user: u.id }; // the shape passport writes
            req.session.role = u.role;
            req.session.save((e) => (e ? next(e) : res.redirect(303, '/')));
        });
    });
    app.post('/logout', (req, res, next) => {
        req.session.destroy((err) => (err ? next(err) : res.send('logged out\n')));
    });
    app.get('/', (req, res) => {
        const user = req.session.passport && req.session.passport.user;
        res.type('html').send(`<!doctype html><title>app</title>
<p id="who">${user === undefined ? 'anonymous' : 'user ' + String(user).replace(/[<&>]/g, '')}</p>
<p id="socket">socket: connecting</p>
<script src="/static/socket.io.min.js"></script>
<script>
const s = io({ transports: ['websocket'], reconnection: false });
s.on('hello', (m) => { document.getElementById('socket').textContent = 'socket: hello ' + m.user + ' verified=' + m.verified; });
s.on('connect_error', (e) => { document.getElementById('socket').textContent = 'socket: refused ' + e.message; });
</script>`);
    });

    // what the backend saw, behind the verifier when there is one
    const verifier = process.env.FSIG_KEY_FILE
        ? createVerifier({ keyFile: process.env.FSIG_KEY_FILE, header: 'x-ws-auth-signature' })
        : null;
    if (verifier) app.use('/api', verifier.express());
    app.get('/api/whoami', (req, res) => {
        res.json({ user: req.headers['x-remote-user'] || null, role: req.headers['x-remote-role'] || null,
                   verified: !!req.wsAuth, signature: req.headers['x-ws-auth-signature'] || null });
    });

    const server = http.createServer(app);
    const io = new Server(server, { path: '/socket.io/' });
    if (verifier) io.use(verifier.socketio());
    io.use((socket, next) => {
        // the recipe's handshake check, now a formality: Apache did it
        if (!socket.request.headers['x-remote-user']) return next(new Error('unauthorized'));
        next();
    });
    io.on('connection', (socket) => {
        socket.emit('hello', { user: socket.request.headers['x-remote-user'],
                               role: socket.request.headers['x-remote-role'] || null,
                               verified: !!(socket.data.wsAuth) });
        socket.on('echo', (m, ack) => ack(m));
    });
    server.listen(port, '127.0.0.1', () => console.log('express-app listening on ' + port));
    const stop = () => { io.close(); server.close(); redis.quit().finally(() => process.exit(0)); };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
}

main().catch((e) => { console.error(e); process.exit(1); });
