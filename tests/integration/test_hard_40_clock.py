"""Fault: a clock that jumps.

The honest tests run the server under libfaketime (Debian package
`faketime`): the server's clock is moved while it runs (a relative offset
in a file it re-reads on every call, FAKETIME_NO_CACHE=1), the test's own
clock is not. They show:
  - a session renewed on every request (SessionMaxAge, sliding expiry)
    still dies at SessionSignMaxLifetime from its first issue: the server
    clock jumps forward past it and the renewed cookie is refused;
  - a session not renewed dies once its SessionMaxAge expiry is passed;
  - with the server clock set back, a token issued "now" by the real clock
    comes from the server's future: refused beyond the 60 s tolerance,
    accepted within it.
Both through AuthType session-sign (/app) and through the WebSocket gate
(/ws/, WS_AUTH reason expired-session / invalid-session).

A last test needs no faketime: tokens minted with an issued-at in the
future/past and signed expiry payloads against the gate (the same rules
seen from the client side).

Not a bug but worth knowing: a server clock set BACK by d extends every
session by d (its expiry and lifetime are judged against the slow clock);
only a correct clock bounds a session.
"""
import os
import time

import pytest

import support
from test_hard_00_common import *  # noqa: F401,F403

MAX_AGE = 300           # SessionMaxAge
LIFETIME = 600          # SessionSignMaxLifetime
SKEW = 60               # SSG_CLOCK_SKEW

needs_faketime = pytest.mark.skipif(
    FAKETIME_LIB is None,
    reason="libfaketime missing: apt-get install faketime (tests/tools/ensure-deps.sh)")


def _conf(backend):
    return f"""
DirectoryIndex index.html
Session On
SessionCookieName session path=/;HttpOnly
SessionSignKey {KEY1}
SessionMaxAge {MAX_AGE}
SessionSignMaxLifetime {LIFETIME}
<Location /app>
    AuthType session-sign
    Require valid-user
</Location>
<Location /ws/>
    WSAuth On
    {proxy_lines(backend, "/")}
</Location>
"""


class Clock:
    """The server's clock offset, in a file libfaketime re-reads."""

    def __init__(self, path):
        self.path = path
        self.set(0)

    def set(self, seconds):
        self.path.write_text("%+d\n" % seconds)


def _server(httpd, backend, tmp_path):
    clock = Clock(tmp_path / "faketime")
    env = {"LD_PRELOAD": FAKETIME_LIB,
           "FAKETIME_TIMESTAMP_FILE": str(clock.path),
           "FAKETIME_NO_CACHE": "1",
           "FAKETIME_DONT_RESET": "1"}
    if support.HTTPD_PRELOAD:
        # make check-asan: libfaketime behind the sanitizer runtimes hangs
        # the process at startup; in front of them it works, once ASan is
        # told not to insist on coming first (it still provides malloc & co.:
        # libfaketime defines none of them)
        env["LD_PRELOAD"] = FAKETIME_LIB + ":" + support.HTTPD_PRELOAD
        env["ASAN_OPTIONS"] = os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"
    h = httpd(_conf(backend), modules=PROXY_MODULES + ["dir"], start=False, env=env)
    (h.root / "htdocs" / "app").mkdir()
    (h.root / "htdocs" / "app" / "index.html").write_text("app\n")
    h.start()
    h.ack("SSG0001", "WSA0001")
    return h, clock


def _app(h, cookie):
    """GET /app/: (status, the renewed cookie or None)."""
    st, hd, _ = support.get(h.port, "/app/", [("Cookie", cookie)])
    v = support.cookie_value(hd)
    if v:
        h.secret(v)
    return st, ("session=" + v) if v else None


def _ws(h, cookie):
    return support.ws_handshake(h.port, "/ws/", cookie=cookie)[0]


def _expiry(seconds_from_now):
    return int((time.time() + seconds_from_now) * 1_000_000)


def _server_now(h):
    """The server's idea of now, from its Date header."""
    from email.utils import parsedate_to_datetime
    _, hd, _ = support.get(h.port, "/nonexistent")
    return parsedate_to_datetime(support.header(hd, "date")).timestamp()


@needs_faketime
def test_hard_40_01_forward_jumps_never_stretch_a_session_past_its_lifetime(
        httpd, backend, tmp_path):
    h, clock = _server(httpd, backend, tmp_path)
    assert abs(_server_now(h) - time.time()) < 5
    issued = mint_cookie(h, "user=alice&expiry=%d" % _expiry(MAX_AGE))
    st, renewed = _app(h, issued)
    assert st == 200 and renewed, "SessionMaxAge renews the cookie"
    assert _ws(h, issued) == 101

    # +250 s: within SessionMaxAge of the last renewal; renewed again
    clock.set(250)
    assert abs(_server_now(h) - time.time() - 250) < 5, "faketime did not move the clock"
    st, renewed2 = _app(h, renewed)
    assert st == 200 and renewed2
    assert _ws(h, renewed) == 101
    # the first cookie, never renewed, is still inside its own max-age here

    # +400 s: the first cookie is past its SessionMaxAge expiry
    clock.set(400)
    assert _app(h, issued)[0] == 401
    assert _ws(h, issued) == 401
    assert h.wait_log(r"SSG0001: session refused \(expired\): SessionMaxAge exceeded")
    # the renewed one (expiry = 250 + 300) passes and is renewed again
    st, renewed3 = _app(h, renewed2)
    assert st == 200 and renewed3
    assert _ws(h, renewed2) == 101

    # +590 s: just inside the lifetime, with a fresh expiry: still passes
    clock.set(590)
    st, renewed4 = _app(h, renewed3)
    assert st == 200 and renewed4
    for c in (renewed2, renewed3, renewed4):
        assert support.verify(c.split("=", 1)[1], max_lifetime=LIFETIME)[2] == \
            support.verify(issued.split("=", 1)[1])[2], "renewal kept the issued-at"

    # +620 s: past SessionSignMaxLifetime from the first issue: every cookie
    # of the chain is refused, although the last expiry (590 + 300) is ahead
    clock.set(620)
    for c in (issued, renewed, renewed2, renewed3, renewed4):
        assert _app(h, c)[0] == 401
        assert _ws(h, c) == 401
    assert h.wait_log(r"SSG0001: session refused \(expired\): lifetime exceeded")
    time.sleep(0.2)
    assert "ws_auth=expired-session" in h.access_log()

    # and a jump far ahead (a day) refuses it all the same
    clock.set(86400)
    assert _app(h, renewed4)[0] == 401 and _ws(h, renewed4) == 401


@needs_faketime
def test_hard_40_02_backward_jump_refuses_tokens_from_the_servers_future(
        httpd, backend, tmp_path):
    h, clock = _server(httpd, backend, tmp_path)
    # server 120 s behind: a token issued now (real clock) comes from its future
    clock.set(-120)
    assert abs(_server_now(h) - time.time() + 120) < 5, "faketime did not move the clock"
    now_tok = mint_cookie(h, "user=alice&expiry=%d" % _expiry(MAX_AGE))
    assert _app(h, now_tok)[0] == 401
    assert _ws(h, now_tok) == 401
    assert h.wait_log(r"SSG0001: session refused \(invalid\): issued in the future")
    time.sleep(0.2)
    assert "ws_auth=invalid-session" in h.access_log()

    # server 30 s behind: within the 60 s tolerance, accepted
    clock.set(-30)
    assert _app(h, now_tok)[0] == 200
    assert _ws(h, now_tok) == 101

    # the edges of the tolerance, seen from the server's clock
    clock.set(-(SKEW + 10))
    assert _app(h, now_tok)[0] == 401
    clock.set(-(SKEW - 10))
    assert _app(h, now_tok)[0] == 200

    # back to the right time: the same token is simply valid
    clock.set(0)
    assert _app(h, now_tok)[0] == 200 and _ws(h, now_tok) == 101


@pytest.mark.parametrize("name,iat_delta,expiry_delta,want", [
    ("fresh", 0, MAX_AGE, 101),
    ("future-within-skew", SKEW - 5, MAX_AGE, 101),
    ("future-beyond-skew", SKEW + 5, MAX_AGE, 401),
    ("future-an-hour", 3600, 3600 + MAX_AGE, 401),
    ("lifetime-just-inside", -(LIFETIME - 30), MAX_AGE, 101),
    ("lifetime-exceeded", -(LIFETIME + 5), MAX_AGE, 401),
    ("lifetime-exceeded-far-expiry", -(LIFETIME + 5), 10 * 86400, 401),
    ("expiry-passed", -60, -1, 401),
    ("no-expiry-within-lifetime", -30, None, 101),
])
def test_hard_40_03_minted_issued_at_and_expiry_at_the_gate(httpd, backend, name,
                                                           iat_delta, expiry_delta, want):
    h = httpd(_conf(backend), modules=PROXY_MODULES + ["dir"])
    h.ack("SSG0001", "WSA0001")
    payload = "user=alice"
    if expiry_delta is not None:
        payload += "&expiry=%d" % _expiry(expiry_delta)
    c = mint_cookie(h, payload, iat=int(time.time()) + iat_delta)
    assert _ws(h, c) == want, name
