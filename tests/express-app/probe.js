// probe.js - a socket.io-client handshake for the Python tests: connect to
// URL (websocket transport, or polling then upgrade with --polling) with
// COOKIE, print one JSON line: {"ok":true,"hello":{...}} or
// {"ok":false,"error":"..."}.
//   node probe.js http://127.0.0.1:8080 'connect.sid=...' [--polling]
'use strict';
const { io } = require('socket.io-client');

const [url, cookie, mode] = process.argv.slice(2);
const s = io(url, {
    path: '/socket.io/',
    transports: mode === '--polling' ? ['polling', 'websocket'] : ['websocket'],
    reconnection: false,
    timeout: 5000,
    extraHeaders: Object.assign({ Origin: url }, cookie ? { Cookie: cookie } : {}),
});
const done = (o) => { console.log(JSON.stringify(o)); s.close(); process.exit(0); };
s.on('hello', (m) => {
    const echo = () => s.emit('echo', 'ping',
        (back) => done({ ok: true, hello: m, echo: back, transport: s.io.engine.transport.name }));
    // polling first: wait for the upgrade to the WebSocket (also guarded)
    if (s.io.engine.transport.name === 'polling') s.io.engine.once('upgrade', echo);
    else echo();
});
s.on('connect_error', (e) => done({ ok: false, error: e.message,
    status: e.context && (e.context.statusCode || (e.context.target && e.context.target._req && e.context.target._req.res && e.context.target._req.res.statusCode)) || null,
    description: e.description && String(e.description.message || e.description) }));
setTimeout(() => done({ ok: false, error: 'timeout' }), 8000);
