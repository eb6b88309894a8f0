/* The demo page. It never sees the session cookie (HttpOnly) and sends no
 * identity of its own: whether a socket opens is decided by Apache, and
 * every name on screen is the one the backend received from Apache.
 *
 * ?transport=websocket on the page URL skips long-polling (websocket only);
 * the default is Socket.IO's own: long-polling first, then the upgrade. */
(function () {
    'use strict';

    var $ = function (id) { return document.getElementById(id); };
    var params = new URLSearchParams(location.search);
    var transports = params.get('transport') === 'websocket'
        ? ['websocket'] : ['polling', 'websocket'];
    var everConnected = false;
    var endedBy = null;   // the reason of Apache's 1008 close frame, if any
    var adminSocket = null;

    function setStatus(state, text) {
        var s = $('status');
        s.dataset.state = state;
        s.textContent = text;
    }

    function why(err) {
        // long-polling errors carry the HTTP status; a browser WebSocket
        // never tells the page why its handshake failed
        if (err && typeof err.description === 'number') {
            return 'HTTP ' + err.description;
        }
        if (err && err.message === 'websocket error') {
            return 'WebSocket handshake refused; see the Apache log for the status';
        }
        return err && err.message ? err.message : 'refused';
    }

    function show(section, on) {
        $(section).hidden = !on;
    }

    function addMessage(m) {
        var li = document.createElement('li');
        var t = document.createElement('time');
        var from = document.createElement('span');
        var role = document.createElement('span');
        var text = document.createElement('span');
        t.textContent = new Date(m.at).toLocaleTimeString();
        from.className = 'from';
        from.textContent = m.from;
        from.title = 'name the backend received in X-Remote-User';
        role.className = 'role' + (m.role === 'admin' ? ' admin' : '');
        role.textContent = m.role;
        text.className = 'text';
        text.textContent = ': ' + m.text;
        if (m.announcement) {
            li.className = 'announcement';
        }
        li.dataset.from = m.from;
        li.append(t, from, role, text);
        $('messages').append(li);
        $('messages').scrollTop = $('messages').scrollHeight;
    }

    var chat = io({
        transports: transports,
        reconnectionAttempts: 5,
        reconnectionDelayMax: 4000
    });

    chat.on('connect', function () {
        everConnected = true;
        endedBy = null;     // reconnected: the session is still alive
        setStatus('connected', 'Connected: Apache verified the signed session and opened the socket.');
        show('login', false);
        show('chat', true);
        $('transport').textContent = chat.io.engine.transport.name;
        chat.io.engine.on('upgrade', function (t) {
            $('transport').textContent = t.name;
        });
    });

    chat.on('welcome', function (w) {
        $('me-user').textContent = w.user;
        $('me-role').textContent = w.role;
        $('messages').textContent = '';
        w.history.forEach(addMessage);
        if (!adminSocket) {
            connectAdmin();
        }
    });

    chat.on('presence', function (p) {
        $('online').textContent = 'Online: ' + p.online.join(', ');
    });

    chat.on('chat', addMessage);

    chat.on('connect_error', function (err) {
        var status = err && err.description;
        if (endedBy) {
            // Apache ended the socket with the session, and the session
            // is gone for good: say why, and offer the login form
            chat.disconnect();
            setStatus('ended', 'Session ended (' + endedBy + '): sign in again.');
            show('chat', false);
            show('admin', false);
            show('login', true);
            return;
        }
        if (!everConnected || status === 401 || status === 403) {
            // no (more) session: stop retrying and offer the login form
            chat.disconnect();
            setStatus('refused', 'Socket refused by Apache (' + why(err) + '): sign in first.');
            show('chat', false);
            show('admin', false);
            show('login', true);
        }
    });

    chat.on('disconnect', function (reason, details) {
        // Apache closes an open socket whose session ended (logout in
        // another tab, revocation, SessionSignMaxLifetime) with 1008 and a
        // reason; Socket.IO then reconnects, which works while the session
        // is alive (a fresh cookie) and fails with 401 once it is not
        var ev = details && details.context;
        if (ev && ev.code === 1008) {
            endedBy = ev.reason || 'session ended';
            setStatus('ended', 'Session ended by Apache (' + endedBy + '); reconnecting\u2026');
            return;
        }
        if (reason !== 'io client disconnect') {
            setStatus('connecting', 'Disconnected (' + reason + '); reconnecting\u2026');
        }
    });

    chat.io.on('reconnect_failed', function () {
        setStatus(endedBy ? 'ended' : 'refused', endedBy
            ? 'Session ended (' + endedBy + '): sign in again.'
            : 'Could not reconnect: sign in again.');
        show('chat', false);
        show('admin', false);
        show('login', true);
    });

    function connectAdmin() {
        show('admin', true);
        // its own Socket.IO path, so Apache can guard it on its own
        adminSocket = io('/admin', {
            path: '/admin/socket.io/',
            transports: transports,
            reconnectionAttempts: 2
        });
        adminSocket.on('connect', function () {
            $('admin-status').dataset.state = 'connected';
            $('admin-status').textContent = 'Connected to the admin area.';
            $('announce-form').hidden = false;
        });
        adminSocket.on('admin-welcome', function (w) {
            $('admin-status').textContent = 'Connected to the admin area as ' + w.user
                + ' (online: ' + w.online.join(', ') + ').';
        });
        adminSocket.on('connect_error', function (err) {
            adminSocket.disconnect();
            $('admin-status').dataset.state = 'refused';
            $('admin-status').textContent = 'Admin area refused (' + why(err)
                + '): the session has no role=admin.';
            $('announce-form').hidden = true;
        });
    }

    $('send-form').addEventListener('submit', function (e) {
        e.preventDefault();
        var text = $('text').value;
        if (!text) {
            return;
        }
        chat.emit('chat', text, function (r) {
            if (r && r.ok) {
                $('text').value = '';
            }
        });
    });

    $('announce-form').addEventListener('submit', function (e) {
        e.preventDefault();
        var text = $('announce-text').value;
        if (text && adminSocket) {
            adminSocket.emit('announce', text, function (r) {
                if (r && r.ok) {
                    $('announce-text').value = '';
                }
            });
        }
    });

    // An open WebSocket outlives the cookie: close ours before signing out.
    $('logout-form').addEventListener('submit', function () {
        chat.disconnect();
        if (adminSocket) {
            adminSocket.disconnect();
        }
    });

    window.demo = { chat: chat, admin: function () { return adminSocket; } };
}());
