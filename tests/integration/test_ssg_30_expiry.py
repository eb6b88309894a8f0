"""Expiry: SessionMaxAge (mod_session's sliding expiry, made tamper-proof by
the signature) and SessionSignMaxLifetime (absolute, from the issued-at,
never extended by re-saves)."""
import time

import support
from test_ssg_00_common import *  # noqa: F401,F403


def _usec(seconds_from_now):
    return int((time.time() + seconds_from_now) * 1000000)


def test_ssg_30_01_session_max_age_expires_the_session(httpd):
    h = serve(httpd, site(top="SessionMaxAge 1"))
    h.ack("SSG0001")
    st, hd, _ = send(h, "/app/", support.mint("user=alice"))
    assert st == 200
    issued = cookie_value(hd)
    assert issued
    h.secret(issued)
    e = entries(payload_of(issued))
    assert e["user"] == "alice"
    assert 0 < int(e["expiry"]) - time.time() * 1e6 <= 1.5e6
    # the cookie itself says Max-Age=1 (mod_session_cookie)
    assert cookie_attrs(hd).get("max-age") == "1"
    time.sleep(2.2)
    st, hd, _ = send(h, "/app/", issued)
    assert st == 401
    assert header(hd, "WWW-Authenticate") is None
    assert no_token_cookie(hd)
    lines = wait_ssg(h, 1)
    assert len(lines) == 1
    assert "SSG0001: session refused (expired): SessionMaxAge exceeded;" in lines[0]
    st, hd, _ = send(h, "/open/", issued)
    assert st == 200
    # a blank session: mod_session only adds its own fresh expiry
    assert "user" not in entries(header(hd, "X-Session"))
    assert no_token_cookie(hd)


def test_ssg_30_02_signed_past_expiry_is_refused_without_waiting(httpd):
    h = serve(httpd, site())
    h.ack("SSG0001")
    tok = support.mint("user=alice&expiry=%d" % _usec(-5))
    st, hd, _ = send(h, "/app/", tok)
    assert st == 401
    assert "(expired): SessionMaxAge exceeded" in wait_ssg(h, 1)[0]
    # a future expiry is fine
    st, hd, _ = send(h, "/app/", support.mint("user=alice&expiry=%d" % _usec(60)))
    assert st == 200 and header(hd, "X-User") == "alice"


def test_ssg_30_03_expiry_cannot_be_extended_by_the_client(httpd):
    """The expiry lives in the signed payload: editing it breaks the MAC."""
    h = serve(httpd, site())
    h.ack("SSG0001")
    tok = support.mint("user=alice&expiry=%d" % _usec(-5))
    f = tok.split(".")
    forged = with_field(tok, 3, b64e(("user=alice&expiry=%d" % _usec(3600)).encode()))
    assert forged != tok and f[4] == forged.split(".")[4]
    st, hd, _ = send(h, "/app/", forged)
    assert st == 401
    assert "(invalid): bad signature" in wait_ssg(h, 1)[0]


def test_ssg_30_04_max_lifetime_refuses_old_token_despite_large_max_age(httpd):
    h = serve(httpd, site(top="SessionMaxAge 86400\nSessionSignMaxLifetime 2"))
    h.ack("SSG0001")
    old = support.mint("user=alice&expiry=%d" % _usec(3600), iat=now() - 10)
    st, hd, _ = send(h, "/app/", old)
    assert st == 401
    assert no_token_cookie(hd)
    lines = wait_ssg(h, 1)
    assert len(lines) == 1
    assert "SSG0001: session refused (expired): lifetime exceeded;" in lines[0]
    # ssg_ref agrees
    assert support.verify(old, max_lifetime=2)[0] == "expired"
    # a young token passes
    st, hd, _ = send(h, "/app/", support.mint("user=alice", iat=now()))
    assert st == 200


def test_ssg_30_05_resave_keeps_the_original_issued_at(httpd):
    h = serve(httpd, site(top="SessionMaxAge 600"))
    iat = now() - 100
    tok = support.mint("user=alice&role=ops", iat=iat)
    for _ in range(3):
        st, hd, _ = send(h, "/app/", tok)
        assert st == 200
        new = cookie_value(hd)
        assert new and new != tok            # expiry moved: re-saved
        h.secret(new)
        assert fields(new)["iat"] == iat
        tok = new
    assert entries(payload_of(tok))["role"] == "ops"


def test_ssg_30_06_absolute_lifetime_is_not_extended_by_resaves(httpd):
    h = serve(httpd, site(top="SessionMaxAge 600\nSessionSignMaxLifetime 3"))
    h.ack("SSG0001")
    iat = now() - 2
    st, hd, _ = send(h, "/app/", support.mint("user=alice", iat=iat))
    assert st == 200
    resaved = cookie_value(hd)
    assert resaved
    h.secret(resaved)
    # the re-save moved SessionMaxAge's expiry but not the issued-at
    assert fields(resaved)["iat"] == iat
    assert int(entries(payload_of(resaved))["expiry"]) > (time.time() + 500) * 1e6
    time.sleep(2.1)
    st, hd, _ = send(h, "/app/", resaved)
    assert st == 401
    assert "lifetime exceeded" in wait_ssg(h, 1)[-1]


def test_ssg_30_07_max_lifetime_applies_per_location(httpd):
    h = serve(httpd, site(extra="""
<Location /app/strict>
  SessionSignMaxLifetime 5
</Location>"""), files={"app/strict/index.html": "s\n"})
    h.ack("SSG0001")
    tok = support.mint("user=alice", iat=now() - 60)
    assert send(h, "/app/", tok)[0] == 200
    assert send(h, "/app/strict/", tok)[0] == 401
    assert "lifetime exceeded" in wait_ssg(h, 1)[0]


def test_ssg_30_08_max_lifetime_zero_means_no_limit(httpd):
    h = serve(httpd, site(top="SessionSignMaxLifetime 0"))
    tok = support.mint("user=alice", iat=1000000000)     # 2001
    st, hd, _ = send(h, "/app/", tok)
    assert st == 200 and header(hd, "X-User") == "alice"
