'use strict';
/*
 * The demo's chat backend: Socket.IO behind Apache (mod_session_sign +
 * mod_ws_auth). It holds no secret and never parses a cookie: the identity
 * is what Apache forwards in X-Remote-User / X-Remote-Role after verifying
 * the signed session (WSAuthForwardHeader). Apache strips client copies of
 * those headers, so they can only come from the gate. That trust holds only
 * because this server listens on 127.0.0.1 and nothing but Apache reaches it.
 *
 *   /socket.io/        Socket.IO server 1: namespace "/" (chat room "lobby",
 *                      every signed-in user) and "/admin" (namespace
 *                      middleware: X-Remote-Role must be "admin")
 *   /admin/socket.io/  Socket.IO server 2: namespace "/admin" only; Apache
 *                      also guards this path (Require session-attr role admin)
 *
 * Usage: node server.js [port]   (or BACKEND_PORT=...; default 3000)
 */
const http = require('node:http');
const { Server } = require('socket.io');

const PORT = Number(process.argv[2] || process.env.BACKEND_PORT || 3000);
const HOST = '127.0.0.1';
const USER_HEADER = 'x-remote-user';
const ROLE_HEADER = 'x-remote-role';
const MAX_TEXT = 500;
const HISTORY = 50;

function log(...args) {
    console.log(new Date().toISOString(), 'backend:', ...args);
}

/* The identity Apache forwarded for this request; never anything else. */
function forwarded(headers) {
    const user = headers[USER_HEADER];
    const role = headers[ROLE_HEADER];
    return {
        user: typeof user === 'string' && user ? user : null,
        role: typeof role === 'string' && role ? role : null,
    };
}

/* Engine.IO middleware: runs for EVERY HTTP request and upgrade of one
 * Socket.IO server (handshake, each long-poll, the websocket upgrade).
 * A request without the forwarded identity did not come through the gate;
 * a request of an existing Engine.IO session must carry the identity that
 * opened it. */
function gateCheck(engine, label) {
    return (req, res, next) => {
        const id = forwarded(req.headers);
        if (!id.user) {
            log(`${label}: refused a request without ${USER_HEADER} (not through Apache?)`);
            return next(new Error('no forwarded identity'));
        }
        const sid = new URL(req.url, 'http://backend.invalid').searchParams.get('sid');
        if (sid && engine.clients[sid]) {
            const opener = forwarded(engine.clients[sid].request.headers).user;
            if (opener !== id.user) {
                log(`${label}: refused sid of ${opener} used by ${id.user}`);
                return next(new Error('identity changed'));
            }
        }
        return next();
    };
}

function transportOf(socket) {
    return socket.conn && socket.conn.transport ? socket.conn.transport.name : '?';
}

const history = [];

function cleanText(text) {
    if (typeof text !== 'string') {
        return null;
    }
    const t = text.replace(/[\u0000-\u001f\u007f]/g, ' ').trim();
    if (!t || t.length > MAX_TEXT) {
        return null;
    }
    return t;
}

function post(chat, msg) {
    history.push(msg);
    if (history.length > HISTORY) {
        history.shift();
    }
    chat.to('lobby').emit('chat', msg);
}

function online(chat) {
    const users = new Set();
    for (const s of chat.sockets.values()) {
        users.add(s.data.user);
    }
    return [...users].sort();
}

/* 404 for anything that is not a Socket.IO path (both Engine.IO servers
 * pass non-matching requests on to this listener). */
const httpServer = http.createServer((req, res) => {
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('not found\n');
});

const common = {
    serveClient: false,             // Apache serves the client bundle
    maxHttpBufferSize: 16 * 1024,
    pingInterval: 20000,
    pingTimeout: 15000,
};
const chatIo = new Server(httpServer, { ...common, path: '/socket.io/' });
const adminIo = new Server(httpServer, { ...common, path: '/admin/socket.io/' });
chatIo.engine.use(gateCheck(chatIo.engine, 'chat path'));
adminIo.engine.use(gateCheck(adminIo.engine, 'admin path'));

/* Namespace middleware: the forwarded identity goes into socket.data; the
 * client's own auth payload and query are ignored. */
function identify(socket, next) {
    const id = forwarded(socket.handshake.headers);
    if (!id.user) {
        return next(new Error('no forwarded identity'));
    }
    socket.data.user = id.user;
    socket.data.role = id.role || 'user';
    return next();
}

function requireAdmin(label) {
    return (socket, next) => {
        if (socket.data.role !== 'admin') {
            log(`${label}: /admin refused for ${socket.data.user} (forwarded role ${socket.data.role})`);
            return next(new Error('admin role required'));
        }
        return next();
    };
}

const chat = chatIo.of('/');
chat.use(identify);
chat.on('connection', (socket) => {
    const { user, role } = socket.data;
    socket.join('lobby');
    log(`chat: ${user} (role ${role}) connected over ${transportOf(socket)}`);
    socket.emit('welcome', {
        user, role, header: 'X-Remote-User', transport: transportOf(socket),
        history: history.slice(),
    });
    chat.to('lobby').emit('presence', { online: online(chat) });

    socket.on('chat', (text, ack) => {
        const t = cleanText(text);
        const reply = typeof ack === 'function' ? ack : () => {};
        if (t === null) {
            return reply({ ok: false, error: `1 to ${MAX_TEXT} characters` });
        }
        // the sender is who Apache said, whatever the payload claims
        post(chat, { from: user, role, text: t, at: Date.now() });
        return reply({ ok: true });
    });

    // what this connection's handshake saw (the tests read it)
    socket.on('whoami', (ack) => {
        if (typeof ack !== 'function') {
            return;
        }
        ack({
            user, role, transport: transportOf(socket),
            headers: {
                [USER_HEADER]: socket.handshake.headers[USER_HEADER] || null,
                [ROLE_HEADER]: socket.handshake.headers[ROLE_HEADER] || null,
            },
        });
    });

    socket.on('disconnect', (reason) => {
        log(`chat: ${user} disconnected (${reason})`);
        chat.to('lobby').emit('presence', { online: online(chat) });
    });
});

/* The admin area, on both servers: through /admin/socket.io/ (which Apache
 * guards with Require session-attr role admin) and multiplexed on
 * /socket.io/ (where only this namespace middleware stands in the way). */
for (const [io, label] of [[chatIo, 'chat path'], [adminIo, 'admin path']]) {
    const admin = io.of('/admin');
    admin.use(identify);
    admin.use(requireAdmin(label));
    admin.on('connection', (socket) => {
        const { user } = socket.data;
        log(`${label}: admin ${user} connected over ${transportOf(socket)}`);
        socket.emit('admin-welcome', { user, online: online(chat), path: label });
        socket.on('online', (ack) => {
            if (typeof ack === 'function') {
                ack({ online: online(chat) });
            }
        });
        socket.on('announce', (text, ack) => {
            const t = cleanText(text);
            const reply = typeof ack === 'function' ? ack : () => {};
            if (t === null) {
                return reply({ ok: false, error: `1 to ${MAX_TEXT} characters` });
            }
            post(chat, { from: user, role: 'admin', text: t, at: Date.now(), announcement: true });
            return reply({ ok: true });
        });
    });
}
// the admin path serves the admin namespace only
adminIo.of('/').use((socket, next) => next(new Error('use the /admin namespace')));

httpServer.listen(PORT, HOST, () => {
    log(`listening on http://${HOST}:${httpServer.address().port} (pid ${process.pid})`);
});

let stopping = false;
function stop(sig) {
    if (stopping) {
        return;
    }
    stopping = true;
    log(`${sig}: closing`);
    chatIo.close();
    adminIo.close();
    httpServer.close(() => process.exit(0));
    httpServer.closeAllConnections();
    setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
