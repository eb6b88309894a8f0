"""The session cookie read in one pass (mod_session_sign's cookie fast path).

Where a scope signs sessions and the store is the plain mod_session_cookie
case, mod_session_sign reads the Cookie header itself (ssg_cookie_find, one
pass) and leaves the session in mod_session_cookie's cache, instead of
httpd's ap_cookie_read() tokenizing the header byte by byte. It must give
exactly httpd's answer, and stand aside whenever the case is not simple.

The differential test sends every cookie header twice: alone (the fast path
decides) and beside an unrelated Cookie2 header (the fast path stands aside
and ap_cookie_read() decides, reading Cookie2 too, which names no session).
Status, identity and decoded session must be the same.
"""
import support
from test_ssg_00_common import *  # noqa: F401,F403

TRACE = "warn session_sign:trace3"


def fast_lines(h):
    return ssg_lines(h, "SSG0060")


def outcome(h, cookie, extra=()):
    out = []
    for path in ("/open/", "/app/"):
        hd = list(extra)
        if cookie is not None:
            hd.append(("Cookie", cookie))
        st, rh, _ = get(h.port, path, hd)
        out.append((path, st, header(rh, "X-User"), header(rh, "X-Session"),
                    header(rh, "Cache-Control")))
    return out


def test_ssg_15_01_fast_path_reads_the_cookie_and_says_so_at_trace3(httpd):
    h = serve(httpd, site(), loglevel=TRACE)
    tok = support.mint("user=alice")
    h.secret(tok)
    st, hd, _ = send(h, "/app/", tok)
    assert st == 200 and header(hd, "X-User") == "alice"
    lines = wait_ssg(h, 1, "SSG0060")
    assert len(lines) == 1
    assert "session cookie session read by mod_session_sign (present)" in lines[0]
    st, hd, _ = send(h, "/app/")
    assert st == 401
    lines = wait_ssg(h, 2, "SSG0060")
    assert len(lines) == 2 and "(absent)" in lines[1]
    assert h.leaked() == []


def test_ssg_15_02_fast_path_and_ap_cookie_read_agree(httpd):
    h = serve(httpd, site(), loglevel=TRACE)
    h.ack(r"\[core:error\].*AH00011: ap_cookie: client submitted cookie "
          r"'session' more than once: /(app|open)/",
          r"SSG0001: session refused \(invalid\): (malformed|empty) token")
    good = support.mint("user=alice&role=ops")
    other = support.mint("user=bob")
    h.secret(good, other)
    cases = [
        # decided by the fast path
        ("alone", "session=%s" % good, True),
        ("among others", "a=1; session=%s; b=2" % good, True),
        ("no spaces", "a=1;session=%s;b=2" % good, True),
        ("tabs before", "a=1;\t session=%s" % good, True),
        ("runs of ;", ";;session=%s;;" % good, True),
        ("same twice", "session=%s; session=%s" % (good, good), True),
        ("trailing space", "session=%s ; b=1" % good, True),
        ("empty value", "session=; b=1", True),
        ("garbage", "session=garbage", True),
        ("name as suffix", "xsession=%s" % good, True),
        ("space before =", "session =%s" % good, True),
        ("other case", "Session=%s" % good, True),
        ("no session", "a=1; b=2", True),
        ("no cookie header", None, True),
        # left to httpd by the fast path
        ("two different", "session=%s; session=%s" % (good, other), False),
        ("valid then garbage", "session=%s; session=x" % good, False),
        ("comma list", "a=1, session=%s" % good, False),
        ("comma in a value", "session=%s; a=1,2" % good, False),
        ("high byte", "session=%s; n=\u00e9" % good, False),
    ]
    fast = before_refusals = 0
    for name, cookie, decided in cases:
        before = len(fast_lines(h))
        a = outcome(h, cookie)
        # one line per request: outcome() sends two
        seen = len(wait_ssg(h, before + 2, "SSG0060", timeout=1.0 if decided else 0.3))
        assert seen == before + (2 if decided else 0), name
        refusals = ssg_count(h)
        b = outcome(h, cookie, extra=[("Cookie2", "unrelated=1")])
        assert len(fast_lines(h)) == seen, name + ": Cookie2 must leave it to httpd"
        assert a == b, name
        # the same refusal lines (SSG0001) either way
        assert len(wait_ssg(h, 2 * refusals - before_refusals)) == 2 * refusals - before_refusals, name
        before_refusals = ssg_count(h)
        fast += 2 * decided
    assert len(fast_lines(h)) == fast
    # the answers themselves
    assert outcome(h, "a=1; session=%s; b=2" % good)[1][1:3] == (200, "alice")
    assert outcome(h, "session=%s; session=%s" % (good, other))[1][1] == 401
    assert outcome(h, "session=%s ; b=1" % good)[1][1] == 401
    assert h.leaked() == []


def test_ssg_15_03_cache_control_as_mod_session_cookie_sets_it(httpd):
    """mod_session_cookie adds Cache-Control: no-cache, private when it
    reads the cookie; the fast path adds the same, once."""
    h = serve(httpd, site())
    tok = support.mint("user=alice")
    h.secret(tok)
    for extra in ((), (("Cookie2", "unrelated=1"),)):
        st, hd, _ = get(h.port, "/open/", [("Cookie", "session=" + tok)] + list(extra))
        assert st == 200 and header(hd, "X-User") == ""
        cc = [v for k, v in hd if k.lower() == "cache-control"]
        assert cc == ["no-cache, private"], (extra, cc)


def test_ssg_15_04_session_cookie_remove_is_left_to_mod_session_cookie(httpd):
    """SessionCookieRemove On: mod_session_cookie removes the cookie from
    the request when it reads it; the fast path stands aside entirely, and
    the application behind never sees the session cookie."""
    h = serve(httpd, site(top="SessionCookieRemove On", app_extra=(
        'Header always set X-Cookie "expr=%{HTTP_COOKIE}"')), loglevel=TRACE)
    tok = support.mint("user=alice")
    h.secret(tok)
    st, hd, _ = get(h.port, "/app/", [("Cookie", "a=1; session=%s; b=2" % tok)])
    assert st == 200 and header(hd, "X-User") == "alice"
    assert tok not in (header(hd, "X-Cookie") or "")
    assert "a=1" in header(hd, "X-Cookie") and "b=2" in header(hd, "X-Cookie")
    assert fast_lines(h) == []


def test_ssg_15_05_scope_without_a_key_is_left_to_mod_session_cookie(httpd):
    """Only scopes that sign sessions read the cookie themselves."""
    h = serve(httpd, """
DirectoryIndex index.html
Session On
SessionCookieName session path=/
SessionEnv On
<Location /open>
  Header always set X-Session "expr=%{env:HTTP_SESSION}"
</Location>
""", loglevel=TRACE)
    st, hd, _ = get(h.port, "/open/", [("Cookie", "session=user=mallory")])
    assert st == 200 and header(hd, "X-Session") == "user=mallory"
    assert fast_lines(h) == []


def test_ssg_15_06_startup_probe_of_mod_session_cookie(httpd):
    """The fast path reads mod_session_cookie's configuration only after a
    probe at startup proved its layout: silent when it passes, one info
    line (SSG0061) when mod_session_cookie is not there."""
    h = serve(httpd, site(), loglevel="info")
    assert h.wait_log(r"AH00489|resuming normal operations")
    assert ssg_lines(h, "SSG0061") == []
    h.stop()
    h2 = serve(httpd, """
Session On
SessionSignKey %s
""" % KEY1, loglevel="info", without=("session_cookie",))
    assert h2.wait_log(r"SSG0061: session cookies are read by mod_session_cookie "
                       r"alone \(mod_session_cookie is not loaded\)")


def test_ssg_15_07_session_cookie_name2_is_left_to_mod_session_cookie(httpd):
    """SessionCookieName2 (the RFC 2965 cookie) is read by ap_cookie_read()
    from Cookie and Cookie2 alike; the fast path stands aside."""
    h = serve(httpd, site(store="SessionCookieName2 session path=/"), loglevel=TRACE)
    tok = support.mint("user=alice")
    h.secret(tok)
    st, hd, _ = send(h, "/app/", tok)
    assert st == 200 and header(hd, "X-User") == "alice"
    assert fast_lines(h) == []
