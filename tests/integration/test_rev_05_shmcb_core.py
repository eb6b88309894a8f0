"""Issue 15 on one host (shmcb): the core cases of revocation, each through
a real httpd with real logins. A session can be taken back: logout revokes
its id, session-sign-revoke ends a user's sessions; replayed copies are
refused at AuthType session-sign (401), at a WSAuth gate (401
revoked-session) and for plain mod_session readers (no session). Without
SessionSignRevocationCache nothing changes (v1 tokens)."""
import json

import pytest

import support
from test_ssg_00_common import *  # noqa: F401,F403
from test_ssg_60_login import PASSWORDS, LOGIN_SITE
from wsa_conf import PROXY_MODULES

FORM = ("Content-Type", "application/x-www-form-urlencoded")
CACHE = "SessionSignRevocationCache shmcb\n"


def _server(httpd, backend=None, top=CACHE, modules=("socache_shmcb",), keys=None):
    mods = list(modules) + (PROXY_MODULES if backend else [])
    h = serve(httpd, "", start=False, modules=mods)
    pw = h.root / "conf" / "htpasswd"
    htpasswd(pw, PASSWORDS)
    h.secret(*PASSWORDS.values())
    ws = ""
    if backend:
        ws = """
<Location /ws/>
  WSAuth On
  WSAuthForwardHeader X-Remote-User user
  WSAuthForwardHeader X-Session-Id session-sign:sid
  ProxyPass ws://127.0.0.1:%d/
</Location>
""" % backend.port
    h.conf.write_text(h.conf.read_text() + top + site(keys=keys or (KEY1,), extra=LOGIN_SITE.format(
        pw=pw, login_extra="", form_extra="") + ws + """
<Location /revoke>
  SetHandler session-sign-revoke
</Location>
"""))
    boot(h)
    h.ack("SSG0005", "WSA0001", "SSG0044")
    return h


def _login(h, user):
    st, hd, _ = login_basic(h, user, PASSWORDS[user])
    assert st == 303
    tok = cookie_value(hd)
    h.secret(tok)
    return tok


def _within(seconds, fn):
    import time
    t0 = time.time()
    while time.time() - t0 < seconds:
        if fn():
            return True
        time.sleep(0.05)
    return fn()


def _revoke(h, body=b"user=bob", headers=(FORM,), method="POST"):
    return get(h.port, "/revoke", list(headers), method=method, body=body)


def test_rev_05_01_with_a_cache_sessions_carry_an_id_without_one_nothing_changes(httpd):
    h = _server(httpd)
    tok = _login(h, "alice")
    assert tok.startswith("v2.") and len(tok.split(".")) == 6
    h.stop()
    h2 = _server(httpd, top="")
    tok2 = _login(h2, "alice")
    assert tok2.startswith("v1.") and len(tok2.split(".")) == 5


def test_rev_05_02_logout_then_the_replayed_cookie_is_401(httpd):
    h = _server(httpd)
    tok = _login(h, "alice")
    st, hd, _ = send(h, "/app/", tok)
    assert st == 200 and header(hd, "X-User") == "alice"
    st, _, _ = send(h, "/logout", tok)
    assert st == 200
    # another child may answer from its memory for up to the interval (1 s)
    assert _within(1.3, lambda: send(h, "/app/", tok)[0] == 401)
    # plain mod_session readers see no session
    assert _within(1.3, lambda: not header(send(h, "/open/", tok)[1], "X-Session"))
    assert h.wait_log("SSG0005: session refused \\(revoked\\)")
    assert tok.split(".")[3] not in h.error_log()          # never the id in full


def test_rev_05_03_logout_refuses_the_socket_of_a_replayed_cookie(httpd, backend):
    h = _server(httpd, backend)
    tok = _login(h, "alice")
    out, seen = support.ws_session(h.port, "/ws/", cookie="session=" + tok,
                                   want_headers=True)
    assert out == ["hello"] and seen["x-remote-user"] == "alice"
    assert send(h, "/logout", tok)[0] == 200
    import time
    time.sleep(1.1)
    st, _, body = get(h.port, "/ws/", [("Cookie", "session=" + tok),
                                       ("Origin", "http://127.0.0.1:%d" % h.port),
                                       ("Upgrade", "websocket"), ("Connection", "Upgrade"),
                                       ("Sec-WebSocket-Version", "13"),
                                       ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")])
    assert st == 401
    assert h.wait_log(r"WSA0001: GET /ws/ refused: revoked-session")


def test_rev_05_04_revoke_user_ends_that_users_sessions_only(httpd):
    h = _server(httpd)
    bob, alice = _login(h, "bob"), _login(h, "alice")
    st, hd, body = _revoke(h)
    assert st == 200 and body == b"revoked sessions of bob\n"
    assert _within(1.3, lambda: send(h, "/app/", bob)[0] == 401)
    st, hd, _ = send(h, "/app/", alice)
    assert st == 200 and header(hd, "X-User") == "alice"
    # a later login of the same user works at once
    bob2 = _login(h, "bob")
    st, hd, _ = send(h, "/app/", bob2)
    assert st == 200 and header(hd, "X-User") == "bob"


@pytest.mark.parametrize("method,body,headers,want", [
    ("GET", b"", (), 405),
    ("PUT", b"user=bob", (FORM,), 405),
    ("POST", b"user=bob", (("Content-Type", "text/plain"),), 415),
    ("POST", b"", (FORM,), 400),
    ("POST", b"user=", (FORM,), 400),
    ("POST", b"user=a&user=b", (FORM,), 400),
    ("POST", b"user=bob", (FORM, ("Origin", "http://evil.example")), 403),
])
def test_rev_05_05_revoke_handler_refuses_what_it_should(httpd, method, body, headers, want):
    h = _server(httpd)
    bob = _login(h, "bob")
    st, hd, _ = _revoke(h, body=body, headers=headers, method=method)
    assert st == want
    if want == 405:
        assert "POST" in header(hd, "Allow") and "GET" not in header(hd, "Allow")
    assert send(h, "/app/", bob)[0] == 200               # nothing revoked


def test_rev_05_06_revoke_without_a_cache_is_a_loud_500(httpd):
    h = _server(httpd, top="")
    h.ack("SSG0043")
    st, _, _ = _revoke(h)
    assert st == 500
    assert h.wait_log("SSG0043: session-sign-revoke needs SessionSignRevocationCache")


def test_rev_05_07_the_session_id_is_no_session_entry(httpd, backend):
    h = _server(httpd, backend, top=CACHE + "SessionEnv On\n")
    tok = _login(h, "alice")
    st, hd, _ = send(h, "/app/", tok)
    assert st == 200 and entries(header(hd, "X-Session")) == {"user": "alice"}
    # ... but asked for by name (session_sign_get "session-sign:sid") it is there
    out, seen = support.ws_session(h.port, "/ws/", cookie="session=" + tok, want_headers=True)
    assert out == ["hello"] and seen["x-session-id"] == tok.split(".")[3]
    assert seen["x-remote-user"] == "alice"


def test_rev_05_08_the_id_and_issued_at_are_kept_across_re_signing(httpd):
    h = _server(httpd, top=CACHE + "SessionMaxAge 600\nSessionExpiryUpdateInterval 0\n")
    tok = _login(h, "alice")
    sid, iat = tok.split(".")[3], tok.split(".")[2]
    import time
    time.sleep(1.1)
    st, hd, _ = send(h, "/app/", tok)
    assert st == 200
    again = cookie_value(hd)                             # re-signed with a new expiry
    assert again
    h.secret(again)
    assert again != tok and again.split(".")[3] == sid and again.split(".")[2] == iat


@pytest.mark.parametrize("line,want", [
    ("SessionSignRevocationCache redis:127.0.0.1:6379",
     "LoadModule socache_redis_module"),
    ("SessionSignRevocationCache nosuch:x", "LoadModule socache_nosuch_module"),
    ("SessionSignRevocationUnavailable maybe", "SessionSignRevocationUnavailable: 'maybe'"),
    ("SessionSignRevocationInterval 61", "SessionSignRevocationInterval: '61'"),
    ("SessionSignRevocationInterval -1", "SessionSignRevocationInterval: '-1'"),
])
def test_rev_05_09_bad_configuration_fails_configtest_with_the_fix(httpd, line, want):
    h = serve(httpd, site(top=line), start=False)
    t = h.configtest()
    out = t.stderr + t.stdout
    assert t.returncode != 0 and want in out, out


def test_rev_05_10_shmcb_bad_size_fails_configtest(httpd):
    h = serve(httpd, site(top="SessionSignRevocationCache shmcb:/tmp/x(1)"), start=False,
              modules=["socache_shmcb"])
    t = h.configtest()
    assert t.returncode != 0 and "SessionSignRevocationCache" in t.stderr + t.stdout


MPMCONF = {
    "prefork": "StartServers 3\nMinSpareServers 3\nMaxSpareServers 6\nServerLimit 6\n"
               "MaxRequestWorkers 6",
    "worker": "StartServers 3\nServerLimit 3\nThreadsPerChild 4\nMaxRequestWorkers 12\n"
              "MinSpareThreads 4\nMaxSpareThreads 12",
    "event": "StartServers 3\nServerLimit 3\nThreadsPerChild 4\nMaxRequestWorkers 12\n"
             "MinSpareThreads 4\nMaxSpareThreads 12",
}


@pytest.mark.parametrize("mpm", ["prefork", "worker", "event"])
def test_rev_05_11_a_revocation_is_seen_by_every_child(httpd, mpm):
    """shmcb is shared by the children of one host: after logout in one
    child, every child refuses the cookie (many fresh connections reach
    several children; their pids are in the access log)."""
    h = serve(httpd, "", start=False, modules=["socache_shmcb"], mpm=mpm)
    pw = h.root / "conf" / "htpasswd"
    htpasswd(pw, PASSWORDS)
    h.secret(*PASSWORDS.values())
    h.conf.write_text(h.conf.read_text() + CACHE + """
{mpmconf}
LogFormat "%P %>s %U" pids
CustomLog "{root}/logs/pids_log" pids
""".replace("{root}", str(h.root)).replace("{mpmconf}", MPMCONF[mpm]) + site(extra=LOGIN_SITE.format(pw=pw, login_extra="",
                                                                   form_extra="")))
    boot(h)
    h.ack("SSG0005")
    tok = _login(h, "alice")
    for _ in range(20):
        assert send(h, "/app/", tok)[0] == 200
    assert send(h, "/logout", tok)[0] == 200
    import time
    time.sleep(1.1)
    for _ in range(40):
        assert send(h, "/app/", tok)[0] == 401
    pids = {line.split()[0] for line in (h.root / "logs" / "pids_log").read_text().splitlines()
            if line.split()[1] == "401"}
    assert len(pids) >= 2, pids


def test_rev_05_12_v1_and_reference_v2_tokens_verify_and_can_be_revoked(httpd):
    """Tokens signed before the cache was configured (v1) keep verifying
    until they expire; a v2 token minted by the independent Python reference
    verifies too. revoke-user ends both kinds (by issued-at); another user's
    v1 token is untouched."""
    import time
    h = _server(httpd)
    iat = int(time.time()) - 5
    v1_bob = support.mint("user=bob", iat=iat)
    v2_bob = support.mint("user=bob", iat=iat, version=2)
    v1_alice = support.mint("user=alice", iat=iat)
    h.secret(v1_bob, v2_bob, v1_alice)
    for tok, user in ((v1_bob, "bob"), (v2_bob, "bob"), (v1_alice, "alice")):
        st, hd, _ = send(h, "/app/", tok)
        assert st == 200 and header(hd, "X-User") == user
    assert _revoke(h)[0] == 200
    assert _within(1.3, lambda: send(h, "/app/", v1_bob)[0] == 401)
    assert _within(1.3, lambda: send(h, "/app/", v2_bob)[0] == 401)
    assert send(h, "/app/", v1_alice)[0] == 200


def test_rev_05_13_logout_of_a_v1_session_refuses_that_cookie(httpd):
    """A v1 token has no session id: its id for revocation is the start of
    its MAC, so logging it out refuses exactly that cookie."""
    import time
    h = _server(httpd)
    tok = support.mint("user=alice", iat=int(time.time()) - 5)
    h.secret(tok)
    assert send(h, "/app/", tok)[0] == 200
    assert send(h, "/logout", tok)[0] == 200
    assert _within(1.3, lambda: send(h, "/app/", tok)[0] == 401)
    assert h.wait_log("SSG0005: session refused \\(revoked\\)")


@pytest.mark.parametrize("how", ["graceful", "restart"])
def test_rev_05_14_shmcb_revocations_survive_a_reload(httpd, how):
    """shmcb is re-created at every restart (graceful too: logrotate's
    nightly reload): the parent carries its records across, so a logout and
    a revoke-user still hold afterwards; alice's session still passes."""
    import os
    import signal
    import time
    h = _server(httpd)
    h.ack("AH00493", "AH00494")                      # httpd's own restart notices
    alice, bob = _login(h, "alice"), _login(h, "bob")
    carol = support.mint("user=carol", iat=int(time.time()) - 5, version=2)
    h.secret(carol)
    assert send(h, "/logout", alice)[0] == 200
    assert _revoke(h)[0] == 200
    assert _within(1.3, lambda: send(h, "/app/", alice)[0] == 401 and
                   send(h, "/app/", bob)[0] == 401)
    mark = len(h.error_log())
    if how == "graceful":
        h.graceful()
    else:
        os.kill(int((h.root / "run" / "httpd.pid").read_text()), signal.SIGHUP)
    assert h.wait_log(r"SSG0077: revocation cache shmcb: \d+ of \d+ records kept", timeout=10)
    time.sleep(1.2)                                  # no child remembers anything now
    for _ in range(6):
        assert send(h, "/app/", alice)[0] == 401
        assert send(h, "/app/", bob)[0] == 401
        assert send(h, "/app/", carol)[0] == 200
    assert "SSG0072" not in h.error_log()[mark:]     # the marker came across too
