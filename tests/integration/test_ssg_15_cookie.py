"""The session cookie is read by mod_session_cookie alone.

mod_session_sign once read the Cookie header itself where the store was the
plain mod_session_cookie case, through a mirror of mod_session_cookie's
private configuration; issue 14 removed it. These tests hold the module to
httpd's own cookie reader: it never reads the cookie itself (no SSG0060 at
trace3), and every cookie header gives the same verdict alone and beside an
unrelated Cookie2 header (which makes ap_cookie_read() read both).
"""
import time

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


def test_ssg_15_01_mod_session_sign_never_reads_the_cookie_itself(httpd):
    h = serve(httpd, site(), loglevel=TRACE)
    tok = support.mint("user=alice")
    h.secret(tok)
    st, hd, _ = send(h, "/app/", tok)
    assert st == 200 and header(hd, "X-User") == "alice"
    st, hd, _ = send(h, "/app/")
    assert st == 401
    assert fast_lines(h) == []
    assert h.leaked() == []


def test_ssg_15_02_every_cookie_header_reads_the_same_with_or_without_cookie2(httpd):
    h = serve(httpd, site(), loglevel=TRACE)
    h.ack(r"\[core:error\].*AH00011: ap_cookie: client submitted cookie "
          r"'session' more than once: /(app|open)/",
          r"SSG0001: session refused \(invalid\): (malformed|empty) token")
    good = support.mint("user=alice&role=ops")
    other = support.mint("user=bob")
    h.secret(good, other)
    cases = [
        # plain cases
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
        # unusual cases
        ("two different", "session=%s; session=%s" % (good, other), False),
        ("valid then garbage", "session=%s; session=x" % good, False),
        ("comma list", "a=1, session=%s" % good, False),
        ("comma in a value", "session=%s; a=1,2" % good, False),
        ("high byte", "session=%s; n=\u00e9" % good, False),
    ]
    for name, cookie, _ in cases:
        before = ssg_count(h)
        a = outcome(h, cookie)
        time.sleep(0.05)
        after_a = ssg_count(h)
        b = outcome(h, cookie, extra=[("Cookie2", "unrelated=1")])
        assert a == b, name
        # the same refusal lines (SSG0001) either way
        want = 2 * after_a - before
        assert len(wait_ssg(h, want)) == want, name
    assert fast_lines(h) == []
    # the answers themselves
    assert outcome(h, "a=1; session=%s; b=2" % good)[1][1:3] == (200, "alice")
    assert outcome(h, "session=%s; session=%s" % (good, other))[1][1] == 401
    assert outcome(h, "session=%s ; b=1" % good)[1][1] == 401
    assert h.leaked() == []


def test_ssg_15_03_cache_control_as_mod_session_cookie_sets_it(httpd):
    """mod_session_cookie adds Cache-Control: no-cache, private when it
    reads the cookie, once."""
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
    the request when it reads it, and
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
    """A scope without a key verifies nothing and reads no cookie itself."""
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


def test_ssg_15_07_session_cookie_name2_is_left_to_mod_session_cookie(httpd):
    """SessionCookieName2 (the RFC 2965 cookie) is read by ap_cookie_read()
    from Cookie and Cookie2 alike."""
    h = serve(httpd, site(store="SessionCookieName2 session path=/"), loglevel=TRACE)
    tok = support.mint("user=alice")
    h.secret(tok)
    st, hd, _ = send(h, "/app/", tok)
    assert st == 200 and header(hd, "X-User") == "alice"
    assert fast_lines(h) == []
