"""Issue 17: WSAuthSource express in front of a real Express app
(express-session + connect-redis + Socket.IO) with its own login form and
its own Redis, and the backend's check of WSAuthForwardSignature.

Run alone: /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration -k exp_10
"""
import base64
import hashlib
import hmac
import json
import re
import subprocess
import time
import urllib.parse

import pytest

import express_app as ex
import fsig_ref
import stores
import support

pytestmark = pytest.mark.skipif(not ex.have_packages(),
                                reason="npm packages of tests/express-app missing (make express-deps)")


@pytest.fixture
def stack(tmp_path, httpd):
    """redis + the app + Apache; stack(**apache_kw) -> (h, app, redis)"""
    made = []

    def make(app_kw=None, **kw):
        redis = stores.Redis(tmp_path / ("redis%d" % len(made))).start()
        app = ex.ExpressApp(tmp_path / ("app%d" % len(made)), redis, **(app_kw or {}))
        made.append((redis, app))
        h = ex.start_apache(httpd, app, redis, **kw)
        return h, app, redis

    yield make
    for redis, app in made:
        app.stop()
        redis.stop()


_probes = iter(range(1, 1 << 30))


def ws_status(h, cookie, path="/socket.io/?EIO=4&transport=websocket", **kw):
    """A raw handshake, marked with a probe number of its own so that
    last_ws_auth() finds its access-log line (lines are written when a
    connection is done, so not in request order)."""
    h.probe = "probe=%d" % next(_probes)
    st, hd, body = support.ws_handshake(h.port, path + "&" + h.probe, cookie=cookie, **kw)
    return st, hd, body


def last_ws_auth(h):
    """WS_AUTH of the handshake ws_status() just made."""
    deadline = time.time() + 5
    while time.time() < deadline:
        for line in h.access_log().splitlines():
            if h.probe + " " in line:
                return re.findall(r"ws_auth=(\S+)", line)[0]
        time.sleep(0.05)
    return None


def test_exp_10_01_logged_in_at_the_app_the_socket_opens_with_the_user(stack):
    h, app, redis = stack()
    cookie = ex.login(h.port, "alice")
    h.secret(cookie.split("=", 1)[1], ex.sid_of(cookie))
    for polling in (False, True):
        r = ex.probe(h.port, cookie, polling=polling)
        assert r["ok"], r
        assert r["hello"]["user"] == "alice" and r["hello"]["role"] == "admin"
        assert r["hello"]["verified"] is True          # the backend's verifier passed
        assert r["echo"] == "ping" and r["transport"] == "websocket"
    assert re.search(r" alice 101 .*ws_auth=ok", h.access_log())


def test_exp_10_02_logged_out_at_the_app_the_handshake_is_401(stack):
    h, app, redis = stack()
    cookie = ex.login(h.port, "bob")
    sid = ex.sid_of(cookie)
    h.secret(cookie.split("=", 1)[1], sid)
    assert redis.cli("exists", "sess:" + sid) == "1"
    assert ws_status(h, cookie)[0] == 101
    st, _, _ = support.get(h.port, "/logout", method="POST", headers=[("Cookie", cookie)])
    assert st == 200
    assert redis.cli("exists", "sess:" + sid) == "0"     # the store entry is gone
    st, hd, body = ws_status(h, cookie)
    assert st == 401 and b"WebSocket authentication required" in body
    assert last_ws_auth(h) == "unknown-session"
    assert not ex.probe(h.port, cookie)["ok"]
    # the polling transport too
    st, _, _ = support.get(h.port, "/socket.io/?EIO=4&transport=polling",
                           headers=[("Cookie", cookie), ("Origin", h.base)])
    assert st == 401


def _tamper(cookie):
    v = cookie[:-1] + ("A" if cookie[-1] != "A" else "B")
    return v


@pytest.mark.parametrize("name", ["other-secret", "tampered-signature", "trailing-byte",
                                  "trailing-escaped-byte", "bad-percent-escape",
                                  "duplicate-other-value", "unsigned", "quoted", "no-cookie"])
def test_exp_10_03_forged_cookies_are_401(stack, name):
    h, app, redis = stack()
    cookie = ex.login(h.port, "alice")
    sid = ex.sid_of(cookie)
    h.secret(cookie.split("=", 1)[1], sid)
    mac = base64.b64encode(hmac.new(ex.SECRET_OTHER.encode(), sid.encode(),
                                    hashlib.sha256).digest()).decode().rstrip("=")
    forged = {
        "other-secret": "connect.sid=" + urllib.parse.quote("s:%s.%s" % (sid, mac), safe=""),
        "tampered-signature": _tamper(cookie),
        "trailing-byte": cookie + "A",
        "trailing-escaped-byte": cookie + "%41",
        "bad-percent-escape": cookie.replace("s%3A", "s%3"),
        "duplicate-other-value": cookie + "; connect.sid=" + _tamper(cookie).split("=", 1)[1],
        "unsigned": "connect.sid=" + sid,
        "quoted": 'connect.sid="%s"' % cookie.split("=", 1)[1],
        "no-cookie": None,
    }[name]
    before = redis.commands()
    st, hd, body = ws_status(h, forged)
    assert st == 401, (name, st)
    assert support.header(hd, "location") is None
    assert last_ws_auth(h) == ("no-session" if name == "no-cookie" else "invalid-session")
    # the store was never asked for an id whose signature failed (the one
    # command counted is the INFO that reads the counter)
    assert redis.commands() - before == 1
    before = redis.commands()
    assert ws_status(h, cookie)[0] == 101
    assert redis.commands() - before >= 2


def test_exp_10_04_any_listed_secret_verifies_rotation(stack, tmp_path):
    # the app signs with SECRET_B now; Apache's file still lists A first
    h, app, redis = stack(app_kw={"secrets": (ex.SECRET_B, ex.SECRET_A)})
    cookie = ex.login(h.port, "alice")
    h.secret(cookie.split("=", 1)[1], ex.sid_of(cookie))
    app.secret_file.write_text(ex.SECRET_A + "\n" + ex.SECRET_B + "\n")   # Apache's copy
    assert ws_status(h, cookie)[0] == 101


def test_exp_10_05_backend_verifier_refuses_what_did_not_come_through_apache(stack):
    h, app, redis = stack()
    cookie = ex.login(h.port, "alice")
    h.secret(cookie.split("=", 1)[1], ex.sid_of(cookie))
    st, _, body = support.get(h.port, "/api/whoami", headers=[("Cookie", cookie),
                                                              ("Origin", h.base)])
    assert st == 200, body
    seen = json.loads(body)
    assert seen["user"] == "alice" and seen["verified"] is True
    sig = seen["signature"]
    # straight to the app, a forged identity: refused by the verifier
    st, _, body = support.get(app.port, "/api/whoami", headers=[("X-Remote-User", "alice")])
    assert st == 401 and b"not through the gate: no signature" in body
    # Apache's signature replayed with another user: refused
    st, _, body = support.get(app.port, "/api/whoami", headers=[("X-Remote-User", "mallory"),
                                                                ("X-Remote-Role", "admin"),
                                                                ("X-WS-Auth-Signature", sig)])
    assert st == 401 and b"bad signature" in body
    # ... on another path
    st, _, body = support.get(app.port, "/api/other", headers=[("X-Remote-User", "alice"),
                                                               ("X-Remote-Role", "admin"),
                                                               ("X-WS-Auth-Signature", sig)])
    assert st == 401
    # the Socket.IO handshake straight to the app with a forged header
    r = subprocess.run([ex.NODE, "-e", """
const { io } = require('socket.io-client');
const s = io('http://127.0.0.1:%d', { transports: ['websocket'], reconnection: false,
  extraHeaders: { 'X-Remote-User': 'alice' } });
s.on('hello', () => { console.log('OPENED'); process.exit(0); });
s.on('connect_error', (e) => { console.log('REFUSED ' + e.message); process.exit(0); });
""" % app.port], capture_output=True, text=True, timeout=20, cwd=str(ex.APP))
    assert r.stdout.startswith("REFUSED unauthorized"), r.stdout + r.stderr
    # a client's own copy of the signature header never reaches the app
    st, _, body = support.get(h.port, "/api/whoami", headers=[("Cookie", cookie),
                                                              ("X-WS-Auth-Signature", sig + "x")])
    assert st == 200 and json.loads(body)["signature"] != sig + "x"


def test_exp_10_06_python_verifier_checks_what_apache_signed(stack):
    h, app, redis = stack()
    cookie = ex.login(h.port, "n42")
    h.secret(cookie.split("=", 1)[1], ex.sid_of(cookie))
    st, _, body = support.get(h.port, "/api/whoami?x=1", headers=[("Cookie", cookie)])
    seen = json.loads(body)
    assert seen["user"] == "42"               # a numeric passport.user, in decimal
    hdrs = {"x-remote-user": "42", "x-remote-role": "user"}
    assert fsig_ref.verify(seen["signature"], "GET", "/api/whoami", hdrs,
                          ex.FSIG_KEY.encode()) == hdrs
    assert fsig_ref.verify(seen["signature"], "GET", "/api/whoami",
                          dict(hdrs, **{"x-remote-user": "1"}), ex.FSIG_KEY.encode()) is None


def test_exp_10_07_store_down_is_503_then_recovers(stack):
    h, app, redis = stack()
    cookie = ex.login(h.port, "alice")
    sid = ex.sid_of(cookie)
    h.secret(cookie.split("=", 1)[1], sid)
    h.ack("WSA0061", "WSA0062")
    stored = redis.cli("get", "sess:" + sid)
    assert json.loads(stored)["passport"]["user"] == "alice"
    assert 3500 < int(redis.cli("ttl", "sess:" + sid)) <= 3600     # connect-redis's TTL
    for _ in range(4):          # warm connections in more than one child
        assert ws_status(h, cookie)[0] == 101
    redis.kill()
    st, hd, _ = ws_status(h, cookie)
    assert st == 503 and support.header(hd, "retry-after") == "5"
    assert last_ws_auth(h) == "store-unavailable"
    redis.start()              # empty: the session is gone with the old process
    time.sleep(1.2)            # past the one-second back-off
    st, _, _ = ws_status(h, cookie)
    assert st == 401 and last_ws_auth(h) == "unknown-session"
    # the session put back: every child reconnects, no 503 from a stale
    # pooled connection
    redis.cli("set", "sess:" + sid, stored, "EX", "600")
    for _ in range(6):
        assert ws_status(h, cookie)[0] == 101


def test_exp_10_08_client_copies_stripped_and_unsafe_values_not_forwarded(stack):
    h, app, redis = stack(extra="WSAuthForwardHeader X-Session-Cookie cookie")
    h.ack("WSA0022")
    cookie = ex.login(h.port, "alice")
    h.secret(cookie.split("=", 1)[1], ex.sid_of(cookie))
    st, _, body = support.get(h.port, "/api/whoami", headers=[
        ("Cookie", cookie), ("X-Remote-User", "mallory"), ("X_Remote_Role", "root")])
    seen = json.loads(body)
    assert st == 200 and seen["user"] == "alice" and seen["role"] == "admin"
    assert "h=x-remote-user,x-remote-role;" in seen["signature"]   # no x-session-cookie
    assert h.wait_log(r"WSA0022: session value at 'cookie' is a JSON object")
    assert h.error_log().count("WSA0022") == 1          # one line per request


def test_exp_10_09_origin_rules_apply_unchanged(stack):
    h, app, redis = stack()
    cookie = ex.login(h.port, "alice")
    h.secret(cookie.split("=", 1)[1], ex.sid_of(cookie))
    st, _, _ = ws_status(h, cookie, origin="https://evil.example")
    assert st == 403 and last_ws_auth(h) == "origin-mismatch"


def test_exp_10_10_without_a_store_a_valid_signature_suffices(stack):
    """What the docs say: without WSAuthExpressStore, a logged-out cookie
    still opens sockets (the signature proves only that the app issued it)."""
    h, app, redis = stack(store=False, fsig=False)
    cookie = ex.login(h.port, "alice")
    h.secret(cookie.split("=", 1)[1], ex.sid_of(cookie))
    support.get(h.port, "/logout", method="POST", headers=[("Cookie", cookie)])
    assert ws_status(h, cookie)[0] == 101
    assert ws_status(h, _tamper(cookie))[0] == 401


def test_exp_10_11_anonymous_session_without_identity_is_401(stack):
    """saveUninitialized: the store holds sessions of visitors who never
    logged in; without passport.user there is no identity."""
    h, app, redis = stack(app_kw={"env": {"SAVE_UNINITIALIZED": "1"}})
    st, hd, _ = support.get(h.port, "/")
    cookie = "connect.sid=" + support.cookie_value(hd, "connect.sid")
    h.secret(cookie.split("=", 1)[1], ex.sid_of(cookie))
    assert redis.cli("exists", "sess:" + ex.sid_of(cookie)) == "1"
    assert ws_status(h, cookie)[0] == 401 and last_ws_auth(h) == "no-identity"


@pytest.mark.parametrize("name,lines,msg", [
    ("no-secret-file", "WSAuthExpressSecretFile /nonexistent/secrets", "cannot open it"),
    ("weak-secret", "WSAuthExpressSecretFile {weak}", "shorter than 32 bytes"),
    ("bad-source", "WSAuthSource cookie", "unknown source"),
    ("bad-store-url", "WSAuthExpressStore http://127.0.0.1:6379", "redis://"),
    ("store-password", "WSAuthExpressStore redis://u:p@127.0.0.1:6379", "password"),
    ("store-option", "WSAuthExpressStore redis://127.0.0.1:6379 ttl=5", "unknown option"),
    ("store-bare-ipv6", "WSAuthExpressStore redis://::1:6379", "in brackets"),
    ("store-port", "WSAuthExpressStore redis://127.0.0.1:0", "1-65535"),
    ("store-timeout", "WSAuthExpressStore redis://127.0.0.1:6379 timeout=1", "10-10000"),
    ("fsig-weak-key", "WSAuthForwardSignature X-WS-Auth-Signature {weak}", "shorter than 32"),
    ("fsig-bad-header", "WSAuthForwardSignature Cookie {good}", "not a header name"),
    ("forward-empty-path", "WSAuthForwardHeader X-Remote-User passport.", "empty part"),
])
def test_exp_10_12_bad_config_fails_configtest(httpd, tmp_path, name, lines, msg):
    weak = tmp_path / "weak"
    weak.write_text("keyboard-cat\n")
    good = tmp_path / "good"
    good.write_text(ex.FSIG_KEY + "\n")
    body = "<Location /ws/>\nWSAuth On\nWSAuthSource express\n%s\n</Location>\n" % \
        lines.format(weak=weak, good=good)
    h = httpd(body, start=False, sign=False)
    r = h.configtest()
    assert r.returncode != 0 and msg in r.stderr, r.stderr


def test_exp_10_12b_good_store_urls_pass_configtest(httpd, tmp_path):
    good = tmp_path / "good"
    good.write_text(ex.FSIG_KEY + "\n")
    body = ("<Location /ws/>\nWSAuth On\nWSAuthSource express\n"
            "WSAuthExpressSecretFile %s\n%%s\n</Location>\n" % good)
    for line in ("WSAuthExpressStore redis://[::1]:6379/2 prefix=app: timeout=250",
                 "WSAuthExpressStore redis://localhost:6380"):
        r = httpd(body % line, start=False, sign=False).configtest()
        assert r.returncode == 0, r.stderr


def test_exp_10_13_vectors_file_is_what_the_package_makes():
    r = subprocess.run([ex.NODE, str(support.TOOLS / "make_express_vectors.js"), "--check"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


def test_exp_10_14_express_without_secrets_fails_configtest_or_is_500(httpd, tmp_path):
    # none anywhere: apache2 -t refuses
    h = httpd("<Location /ws/>\nWSAuth On\nWSAuthSource express\n</Location>\n",
              start=False, sign=False)
    r = h.configtest()
    assert r.returncode != 0 and "WSA0051" in r.stderr and "WSAuthExpressSecretFile" in r.stderr
    # in another scope only: this one answers 500 with the fix
    good = tmp_path / "good"
    good.write_text(ex.FSIG_KEY + "\n")
    h = httpd("<Location /ws/>\nWSAuth On\nWSAuthSource express\n</Location>\n"
              "<Location /other/>\nWSAuthExpressSecretFile %s\n</Location>\n" % good,
              sign=False)
    h.ack("WSA0010")
    st, _, body = support.ws_handshake(h.port, "/ws/", cookie="connect.sid=s%3Aa.b")
    assert st == 500 and b"misconfigured" in body
    assert h.wait_log(r"WSA0010: .*WSAuthExpressSecretFile")


def test_exp_10_15_stored_session_past_its_expires_is_401(stack):
    h, app, redis = stack()
    cookie = ex.login(h.port, "alice")
    sid = ex.sid_of(cookie)
    h.secret(cookie.split("=", 1)[1], sid)
    sess = json.loads(redis.cli("get", "sess:" + sid))
    sess["cookie"]["expires"] = "2020-01-01T00:00:00.000Z"
    redis.cli("set", "sess:" + sid, json.dumps(sess), "EX", "600")
    st, _, _ = ws_status(h, cookie)
    assert st == 401 and last_ws_auth(h) == "expired-session"
    # a stored value that is not a JSON object: refused, logged, no 5xx
    h.ack("WSA0020")
    for bad in ("[1,2]", '{"passport": {"user": "secret-in-json"'):
        redis.cli("set", "sess:" + sid, bad, "EX", "600")
        st, _, _ = ws_status(h, cookie)
        assert st == 401 and last_ws_auth(h) == "invalid-session"
    assert "secret-in-json" not in h.error_log()


def test_exp_10_16_http2_websocket_with_cookie_crumbs(stack):
    """RFC 8441 over h2c: the browser may split Cookie into crumbs (one
    header per cookie); mod_http2 joins them with '; '."""
    from h2ws import h2ws
    h, app, redis = stack(modules=["http2"], server_extra="Protocols h2c http/1.1\n"
                          "H2WebSockets on\nH2MinWorkers 2\nH2MaxWorkers 8\n")
    cookie = ex.login(h.port, "alice")
    h.secret(cookie.split("=", 1)[1], ex.sid_of(cookie))
    origin = ("origin", "http://127.0.0.1:%d" % h.port)
    path = "/socket.io/?EIO=4&transport=websocket"
    st, first = h2ws(h.port, path, [("cookie", "theme=dark"), ("cookie", cookie), origin])
    assert st == 200 and first.startswith("0{")      # Engine.IO's open packet
    st, _ = h2ws(h.port, path, [("cookie", cookie + "A"), origin])
    assert st == 401
    st, _ = h2ws(h.port, path, [("cookie", cookie), ("cookie", _tamper(cookie)), origin])
    assert st == 401


@pytest.mark.parametrize("value,log", [("al\x01ice", "WSA0023"), ("", "WSA0023"),
                                       ({"id": 1}, "WSA0022"), (True, "WSA0022"),
                                       ("x" * 5000, "WSA0023")])
def test_exp_10_17_unsafe_identity_is_no_identity(stack, value, log):
    """A control byte, an empty or over-long string, or a non-scalar as the
    first forwarded value: nothing forwarded, logged, 401 no-identity."""
    h, app, redis = stack()
    h.ack(log)
    cookie = ex.login(h.port, "alice")
    sid = ex.sid_of(cookie)
    h.secret(cookie.split("=", 1)[1], sid)
    sess = json.loads(redis.cli("get", "sess:" + sid))
    sess["passport"]["user"] = value
    subprocess.run(["redis-cli", "-p", str(redis.port), "-x", "set", "sess:" + sid],
                   input=json.dumps(sess).encode(), check=True, capture_output=True)
    st, _, _ = ws_status(h, cookie)
    assert st == 401 and last_ws_auth(h) == "no-identity"
    assert h.wait_log(log + ":")


def _connections(redis):
    for line in redis.cli("info", "stats").splitlines():
        if line.startswith("total_connections_received:"):
            return int(line.split(":")[1])
    return 0


def test_exp_10_18_children_keep_their_store_connections(stack):
    """Connect lazily per child and keep the connection: 40 handshakes (and
    /api/ requests, the same store) open a handful of connections, not 40."""
    h, app, redis = stack()
    cookie = ex.login(h.port, "alice")
    h.secret(cookie.split("=", 1)[1], ex.sid_of(cookie))
    before = _connections(redis)
    for i in range(20):
        assert ws_status(h, cookie)[0] == 101
        assert support.get(h.port, "/api/whoami", headers=[("Cookie", cookie)])[0] == 200
    opened = _connections(redis) - before - 1        # this INFO's own connection
    assert 1 <= opened <= 8, opened


@pytest.mark.parametrize("mpm", ["prefork"])   # worker is threaded like event
def test_exp_10_19_other_mpms(stack, mpm):
    h, app, redis = stack(mpm=mpm)
    cookie = ex.login(h.port, "bob")
    h.secret(cookie.split("=", 1)[1], ex.sid_of(cookie))
    r = ex.probe(h.port, cookie)
    assert r["ok"] and r["hello"]["user"] == "bob" and r["hello"]["verified"], r
    support.get(h.port, "/logout", method="POST", headers=[("Cookie", cookie)])
    assert ws_status(h, cookie)[0] == 401 and last_ws_auth(h) == "unknown-session"
