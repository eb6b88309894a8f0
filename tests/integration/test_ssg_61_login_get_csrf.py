"""Issue 13.5: a login by GET (session-sign-login behind AuthType Basic or
any SSO module) follows the same origin rules as a POST: a request that
another site sent (Origin, Referer or Sec-Fetch-Site say so) gets 403 and no
session, where it once got 303 with a fresh session (login CSRF wherever a
browser authenticates silently). SessionSignLoginCrossSite On lets GET logins
from another site through, for SSO redirect chains whose identity provider
lives on another site; POST logins stay same-origin whatever it says."""
import pytest

from test_ssg_00_common import *  # noqa: F401,F403
from test_ssg_60_login import PASSWORDS, _server, _origin, _post, _issued

ALICE = basic("alice", PASSWORDS["alice"])


def _get_login(h, headers):
    return get(h.port, "/login?return=/app/x", [ALICE] + list(headers))


@pytest.mark.parametrize("headers", [
    [("Sec-Fetch-Site", "cross-site"), ("Origin", "http://evil.example")],
    [("Origin", "http://evil.example")],
    [("Origin", "null")],
    [("Referer", "http://evil.example/page")],
    [("Sec-Fetch-Site", "cross-site")],
    [("Sec-Fetch-Site", "same-site")],
    [("Origin", "https://127.0.0.1:1")],
])
def test_ssg_61_01_cross_site_get_login_is_refused_without_a_session(httpd, headers):
    h = _server(httpd)
    h.ack("SSG0042")
    st, hd, _ = _get_login(h, headers)
    assert st == 403
    assert not cookie_value(hd)
    assert header(hd, "Location") is None
    assert h.wait_log("SSG0042")


@pytest.mark.parametrize("headers", [
    [],                                                   # not a browser
    [("Sec-Fetch-Site", "none")],                         # typed or bookmarked
    [("Sec-Fetch-Site", "same-origin")],
    "same-origin",
    "same-referer",
])
def test_ssg_61_02_same_origin_get_login_still_works(httpd, headers):
    h = _server(httpd)
    if headers == "same-origin":
        headers = [("Origin", _origin(h)), ("Sec-Fetch-Site", "same-origin")]
    elif headers == "same-referer":
        headers = [("Referer", _origin(h) + "/home")]
    st, hd, _ = _get_login(h, headers)
    assert st == 303 and header(hd, "Location") == "/app/x"
    assert _issued(h, hd)


def test_ssg_61_03_cross_site_allowed_by_the_directive_for_get_only(httpd):
    h = _server(httpd, login_extra="SessionSignLoginCrossSite On",
                form_extra="SessionSignLoginCrossSite On")
    h.ack("SSG0035")
    st, hd, _ = _get_login(h, [("Sec-Fetch-Site", "cross-site"),
                              ("Referer", "https://idp.example/authorize")])
    assert st == 303 and _issued(h, hd)
    # the form POST stays same-origin
    st, hd, _ = _post(h, {"username": "alice", "password": PASSWORDS["alice"]},
                      headers=[("Content-Type", "application/x-www-form-urlencoded"),
                               ("Origin", "http://evil.example")])
    assert st == 403 and not cookie_value(hd)


def test_ssg_61_04_directive_takes_on_or_off_only(httpd):
    h = _server(httpd, login_extra="SessionSignLoginCrossSite maybe", start=False)
    t = h.configtest()
    assert t.returncode != 0 and "SessionSignLoginCrossSite" in t.stderr + t.stdout


def test_ssg_61_05_directive_is_refused_in_htaccess(httpd):
    h = _server(httpd, top="<Directory \"%s/htdocs/d\">\n  AllowOverride AuthConfig\n"
                           "</Directory>" % "{root}", start=False)
    h.conf.write_text(h.conf.read_text().replace("{root}", str(h.root)))
    d = h.root / "htdocs" / "d"
    d.mkdir(parents=True, exist_ok=True)
    (d / ".htaccess").write_text("SessionSignLoginCrossSite On\n")
    (d / "index.html").write_text("d\n")
    boot(h)
    h.ack("AH00526", r"not allowed here")
    st, _, _ = get(h.port, "/d/")
    assert st == 500
