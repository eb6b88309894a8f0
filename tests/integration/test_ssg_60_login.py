"""The session-sign-login and session-sign-logout handlers: login by the
location's AuthType (Basic here) or by form (SessionSignLoginProvider file),
CSRF (Origin/Referer) check of the form POST, the `return` open-redirect
table, logout, SessionSignLoginFields and SessionSignLoginAttribute."""
from urllib.parse import urlencode

import pytest

import support
from test_ssg_00_common import *  # noqa: F401,F403

PASSWORDS = {"alice": "alice-pass-123", "bob": "bob-pass-4567"}
FORM_CT = ("Content-Type", "application/x-www-form-urlencoded")

LOGIN_SITE = """
<Location /login>
  AuthType Basic
  AuthName "test"
  AuthBasicProvider file
  AuthUserFile "{pw}"
  Require valid-user
  SetHandler session-sign-login
  {login_extra}
</Location>
<Location /signin>
  SetHandler session-sign-login
  SessionSignLoginProvider file
  AuthUserFile "{pw}"
  {form_extra}
</Location>
<Location /logout>
  SetHandler session-sign-logout
</Location>
"""


def _server(httpd, login_extra="", form_extra="", top="", start=True, **kw):
    h = serve(httpd, "", start=False, **kw)
    pw = h.root / "conf" / "htpasswd"
    # alice's hash is bcrypt, bob's apr1-MD5
    htpasswd(pw, PASSWORDS, bcrypt_users=("alice",))
    h.secret(*PASSWORDS.values())
    h.conf.write_text(h.conf.read_text() + site(top=top, extra=LOGIN_SITE.format(
        pw=pw, login_extra=login_extra, form_extra=form_extra)))
    if start:
        boot(h)
    return h


def _origin(h):
    return "http://127.0.0.1:%d" % h.port


def _post(h, fields, path="/signin", headers=None, raw=None):
    body = raw if raw is not None else urlencode(fields).encode()
    hd = [FORM_CT] if headers is None else list(headers)
    return get(h.port, path, hd, method="POST", body=body)


def _issued(h, hd):
    tok = cookie_value(hd)
    assert tok, "no session cookie issued"
    h.secret(tok)
    return tok


# ---------------------------------------------------------------- AuthType login

@pytest.mark.parametrize("user", ["alice", "bob"], ids=["bcrypt", "apr1-md5"])
def test_ssg_60_01_basic_login_redirects_with_a_signed_session(httpd, user):
    h = _server(httpd)
    t0 = now()
    st, hd, _ = login_basic(h, user, PASSWORDS[user])
    assert st == 303
    assert header(hd, "Location") == "/app/"
    assert "no-store" in (header(hd, "Cache-Control") or "")
    tok = _issued(h, hd)
    assert entries(payload_of(tok)) == {"user": user}
    assert abs(fields(tok)["iat"] - t0) <= 2
    attrs = cookie_attrs(hd)
    assert attrs.get("path") == "/" and "httponly" in attrs
    # the session is good for the application
    st, hd, _ = send(h, "/app/", tok)
    assert st == 200 and header(hd, "X-User") == user
    assert h.wait_log(r"\[session_sign:info\].*SSG0038: user \"%s\" signed in by Basic" % user)


def test_ssg_60_02_basic_login_without_return_goes_to_root(httpd):
    h = _server(httpd)
    st, hd, _ = login_basic(h, "alice", PASSWORDS["alice"], path="/login")
    assert st == 303 and header(hd, "Location") == "/"
    _issued(h, hd)


def test_ssg_60_03_basic_login_with_bad_credentials_is_basics_401(httpd):
    h = _server(httpd)
    h.ack(r"\[auth_basic:error\].*AH01617: user alice: authentication failure",
          r"\[auth_basic:error\].*AH01618: user nobody not found")
    st, hd, _ = login_basic(h, "alice", "wrong-password-1")
    assert st == 401
    assert (header(hd, "WWW-Authenticate") or "").startswith("Basic")
    assert set_cookies(hd) == []
    st, hd, _ = login_basic(h, "nobody", "wrong-password-1")
    assert st == 401 and set_cookies(hd) == []


def test_ssg_60_04_login_replaces_any_previous_session(httpd):
    h = _server(httpd)
    old = support.mint("user=mallory&role=admin&cart=42", iat=now() - 1000)
    h.secret(old)
    st, hd, _ = get(h.port, "/login?return=/app/",
                    [basic("bob", PASSWORDS["bob"]), ("Cookie", "session=" + old)])
    assert st == 303
    tok = _issued(h, hd)
    # nothing of the old session survives, and the lifetime starts anew
    assert entries(payload_of(tok)) == {"user": "bob"}
    assert fields(tok)["iat"] >= now() - 5


# ---------------------------------------------------------------- form login

def test_ssg_60_10_form_get_shows_the_form(httpd):
    h = _server(httpd)
    st, hd, body = get(h.port, "/signin?return=/app/%3Fx%3D1")
    assert st == 200
    assert (header(hd, "Content-Type") or "").startswith("text/html")
    assert header(hd, "WWW-Authenticate") is None
    assert "no-store" in header(hd, "Cache-Control")
    b = body.decode()
    assert '<form method="post" action="/signin">' in b
    assert 'name="username"' in b and 'name="password"' in b
    assert 'type="password"' in b
    assert '<input type="hidden" name="return" value="/app/?x=1">' in b
    assert set_cookies(hd) == []


def test_ssg_60_11_form_post_with_good_credentials_logs_in(httpd):
    h = _server(httpd)
    st, hd, _ = _post(h, {"username": "alice", "password": PASSWORDS["alice"],
                          "return": "/app/"},
                      headers=[FORM_CT, ("Origin", _origin(h))])
    assert st == 303
    assert header(hd, "Location") == "/app/"
    tok = _issued(h, hd)
    payload = payload_of(tok)
    assert entries(payload) == {"user": "alice"}
    # the session never holds the password (unlike mod_auth_form)
    assert PASSWORDS["alice"] not in payload and "password" not in payload
    st, hd, _ = send(h, "/app/", tok)
    assert st == 200 and header(hd, "X-User") == "alice"
    assert h.wait_log(r"SSG0037: user \"alice\" signed in by form")


def test_ssg_60_12_wrong_password_and_unknown_user_look_the_same(httpd):
    h = _server(httpd)
    h.ack(r"\[session_sign:warn\].*SSG0036: form login failed: 401$")
    wrong = "not-the-password-1"
    h.secret(wrong)
    a = _post(h, {"username": "alice", "password": wrong})
    b = _post(h, {"username": "nobody", "password": wrong})
    for st, hd, body in (a, b):
        assert st == 401
        assert header(hd, "WWW-Authenticate") is None
        assert set_cookies(hd) == []
        assert b'name="username"' in body and b"Sign-in failed." in body
    assert a[2] == b[2]                            # no hint which one was wrong
    assert header(a[1], "Content-Length") == header(b[1], "Content-Length")
    assert wrong.encode() not in a[2]
    lines = ssg_lines(h, "SSG0036")
    assert len(lines) == 2
    # no user name at [warn]: people type their password into that field
    assert not any("alice" in l or "nobody" in l for l in lines)


@pytest.mark.parametrize("fields_,status", [
    ({"username": "alice"}, 401),
    ({"password": PASSWORDS["alice"]}, 401),
    ({"username": "", "password": PASSWORDS["alice"]}, 401),
    ({"username": "alice", "password": ""}, 401),
    ({}, 401),
], ids=["no-password", "no-user", "empty-user", "empty-password", "empty-form"])
def test_ssg_60_13_incomplete_form_is_the_form_again(httpd, fields_, status):
    h = _server(httpd)
    st, hd, body = _post(h, fields_)
    assert st == status
    assert b"Sign-in failed." in body and set_cookies(hd) == []


def test_ssg_60_14_form_fields_given_twice_are_refused(httpd):
    h = _server(httpd)
    raw = ("username=bob&username=alice&password=%s" % PASSWORDS["alice"]).encode()
    st, hd, _ = _post(h, None, raw=raw)
    assert st == 400 and set_cookies(hd) == []


def test_ssg_60_15_form_post_needs_a_form_content_type(httpd):
    h = _server(httpd)
    body = urlencode({"username": "alice", "password": PASSWORDS["alice"]}).encode()
    for ct in (None, "text/plain", "multipart/form-data; boundary=x",
               "application/x-www-form-urlencodedx"):
        hd = [("Content-Type", ct)] if ct else []
        st, rh, _ = get(h.port, "/signin", hd, method="POST", body=body)
        assert st == 415, ct
        assert set_cookies(rh) == []
    st, rh, _ = get(h.port, "/signin", [("Content-Type",
                                         "application/x-www-form-urlencoded; charset=UTF-8")],
                    method="POST", body=body)
    assert st == 303


def test_ssg_60_16_other_methods_are_405(httpd):
    h = _server(httpd)
    for path in ("/signin", "/logout"):
        st, hd, _ = get(h.port, path, method="PUT", body=b"x")
        assert st == 405
        assert "GET" in header(hd, "Allow") and "POST" in header(hd, "Allow")


def test_ssg_60_17_login_fields_directive_renames_the_fields(httpd):
    h = _server(httpd, form_extra="SessionSignLoginFields u p")
    h.ack(r"SSG0036: form login failed: 401$")
    st, hd, body = get(h.port, "/signin")
    assert st == 200
    assert b'name="u"' in body and b'name="p"' in body
    assert b'name="username"' not in body and b'name="password"' not in body
    st, hd, _ = _post(h, {"u": "alice", "p": PASSWORDS["alice"]})
    assert st == 303
    assert entries(payload_of(_issued(h, hd))) == {"user": "alice"}
    st, hd, _ = _post(h, {"username": "alice", "password": PASSWORDS["alice"]})
    assert st == 401 and set_cookies(hd) == []


@pytest.mark.parametrize("args", ["u u", "u return", "return p", "a=b p"])
def test_ssg_60_18_bad_login_fields_are_refused_at_configtest(httpd, args):
    h = _server(httpd, form_extra="SessionSignLoginFields %s" % args, start=False)
    t = h.configtest()
    assert t.returncode != 0
    assert "SessionSignLoginFields" in t.stderr


# ---------------------------------------------------------------- CSRF

@pytest.mark.parametrize("hdrs,status", [
    ([("Origin", "http://evil.example")], 403),
    ([("Origin", "null")], 403),
    ([("Origin", "https://127.0.0.1:{port}")], 403),       # other scheme
    ([("Origin", "http://127.0.0.1:1")], 403),              # other port
    ([("Origin", "http://localhost:{port}")], 403),         # other host name
    ([("Origin", "http://127.0.0.1:{port}/")], 403),        # not an origin
    ([("Referer", "http://evil.example/login.html")], 403),
    ([("Referer", "http://127.0.0.1:{port}.evil.example/")], 403),
    ([("Origin", "http://evil.example"), ("Referer", "http://127.0.0.1:{port}/")], 403),
    ([("Origin", "http://127.0.0.1:{port}")], 303),
    ([("Referer", "http://127.0.0.1:{port}/signin?return=/app/")], 303),
    ([], 303),                                              # not a browser
], ids=["evil-origin", "null-origin", "https-origin", "port-origin", "name-origin",
        "slash-origin", "evil-referer", "suffix-referer", "origin-wins",
        "same-origin", "same-referer", "no-origin-no-referer"])
def test_ssg_60_20_login_post_origin_check(httpd, hdrs, status):
    h = _server(httpd)
    h.ack(r"\[session_sign:warn\].*SSG0035: cross-origin login POST refused: 403")
    hdrs = [(k, v.format(port=h.port)) for k, v in hdrs]
    st, hd, _ = _post(h, {"username": "alice", "password": PASSWORDS["alice"]},
                      headers=[FORM_CT] + hdrs)
    assert st == status
    if status == 403:
        assert set_cookies(hd) == []
        assert h.wait_log("SSG0035")
    else:
        _issued(h, hd)


# ---------------------------------------------------------------- open redirect

# (id, the `return` value exactly as it goes on the wire in the query string,
#  what the handler sees after the one query decoding)
BAD_RETURNS = [
    ("absolute-http", "http://evil.com", "http://evil.com"),
    ("absolute-encoded", "http%3A%2F%2Fevil.com", "http://evil.com"),
    ("scheme-relative", "//evil.com", "//evil.com"),
    ("slash-backslash", "/\\evil.com", "/\\evil.com"),
    ("backslashes", "\\\\evil.com", "\\\\evil.com"),
    ("slash-encoded-backslash", "/%5Cevil.com", "/\\evil.com"),
    ("encoded-slashes-once", "%2F%2Fevil.com", "//evil.com"),
    ("slash-then-encoded-slashes", "/%2F%2Fevil.com", "///evil.com"),
    ("double-encoded-slashes", "%2F%252F%252Fevil.com", "/%2F%2Fevil.com"),
    ("double-encoded-backslash", "%2F%255Cevil.com", "/%5Cevil.com"),
    ("https-no-slashes", "https:evil.com", "https:evil.com"),
    ("javascript", "javascript:alert(1)", "javascript:alert(1)"),
    ("data-url", "data:text/html,x", "data:text/html,x"),
    ("crlf-injection", "/path%0d%0aSet-Cookie:x", "/path\r\nSet-Cookie:x"),
    ("double-encoded-crlf", "/path%250d%250aSet-Cookie:x", "/path%0d%0aSet-Cookie:x"),
    ("tab-slashes", "/%09/evil.com", "/\t/evil.com"),
    ("space", "/a%20b", "/a b"),
    ("nul", "/a%00b", "/a\0b"),
    ("non-ascii", "/%C3%A9", "/\u00e9"),
    ("empty", "", ""),
    ("relative", "app/", "app/"),
    ("bad-escape", "/%zz", None),
    ("repeated", "/app/&return=/other/", None),
    ("too-long", "/" + "a" * 3000, "/" + "a" * 3000),
]


@pytest.mark.parametrize("wire,decoded", [pytest.param(w, d, id=i)
                                          for i, w, d in BAD_RETURNS])
@pytest.mark.parametrize("handler", ["login", "logout"])
def test_ssg_60_30_bad_return_is_400(httpd, wire, decoded, handler):
    h = _server(httpd)
    tok = support.mint("user=alice")
    if handler == "login":
        st, hd, _ = get(h.port, "/login?return=" + wire,
                        [basic("alice", PASSWORDS["alice"])])
    else:
        st, hd, _ = send(h, "/logout?return=" + wire, tok)
    assert st == 400
    assert header(hd, "Location") is None
    # no session issued, none cleared
    assert set_cookies(hd) == []
    assert h.wait_log(r"\[session_sign:info\].*SSG002[01]: ")


@pytest.mark.parametrize("wire,location", [
    ("/app/?x=1", "/app/?x=1"),
    ("%2Fapp%2F%3Fx%3D1", "/app/?x=1"),
    ("/app/%2e%2e/open/", "/app/../open/"),
    ("/a/b/c", "/a/b/c"),
    ("/a%2Fb", "/a/b"),                        # one decoding, then a plain path
    ("/", "/"),
])
def test_ssg_60_31_local_return_is_accepted(httpd, wire, location):
    h = _server(httpd)
    st, hd, _ = get(h.port, "/login?return=" + wire, [basic("alice", PASSWORDS["alice"])])
    assert st == 303
    assert header(hd, "Location") == location
    _issued(h, hd)


@pytest.mark.parametrize("value", ["//evil.com", "http://evil.com", "/\\evil.com",
                                   "/%2F%2Fevil.com"])
def test_ssg_60_32_bad_return_in_the_form_body_is_400(httpd, value):
    h = _server(httpd)
    st, hd, _ = _post(h, {"username": "alice", "password": PASSWORDS["alice"],
                          "return": value})
    assert st == 400
    assert header(hd, "Location") is None and set_cookies(hd) == []


def test_ssg_60_33_return_in_the_form_body_overrides_the_query(httpd):
    h = _server(httpd)
    st, hd, _ = _post(h, {"username": "alice", "password": PASSWORDS["alice"],
                          "return": "/app/form"}, path="/signin?return=/app/query")
    assert st == 303 and header(hd, "Location") == "/app/form"
    _issued(h, hd)


# ---------------------------------------------------------------- logout

def test_ssg_60_40_logout_removes_the_cookie(httpd):
    h = _server(httpd)
    st, hd, _ = login_basic(h, "alice", PASSWORDS["alice"])
    tok = _issued(h, hd)
    st, hd, body = send(h, "/logout", tok)
    assert st == 200
    assert body == b"Signed out.\n"
    assert "no-store" in header(hd, "Cache-Control")
    assert cookie_value(hd) == ""
    attrs = cookie_attrs(hd)
    assert attrs.get("max-age") == "0" or "expires" in attrs
    assert attrs.get("path") == "/"
    # the browser drops the cookie: the next request has none
    st, hd, _ = send(h, "/app/")
    assert st == 401


def test_ssg_60_41_logout_with_return_redirects(httpd):
    h = _server(httpd)
    st, hd, _ = send(h, "/logout?return=/open/", support.mint("user=alice"))
    assert st == 303
    assert header(hd, "Location") == "/open/"
    assert cookie_value(hd) == ""


def test_ssg_60_42_logout_without_session_is_harmless(httpd):
    h = _server(httpd)
    h.ack("SSG0001")
    st, hd, _ = send(h, "/logout")
    assert st == 200
    assert no_token_cookie(hd)
    st, hd, _ = send(h, "/logout", "garbage-token")
    assert st == 200
    assert no_token_cookie(hd)


def test_ssg_60_43_logout_clears_a_dbd_less_session_even_with_maxage(httpd):
    h = _server(httpd, top="SessionMaxAge 600")
    st, hd, _ = send(h, "/logout", support.mint("user=alice"))
    assert st == 200
    assert cookie_value(hd) == ""


# ---------------------------------------------------------------- attributes

def test_ssg_60_50_login_attribute_for_alice_only(httpd):
    attr = "SessionSignLoginAttribute role admin \"%{REMOTE_USER} == 'alice'\""
    h = _server(httpd, login_extra=attr, form_extra=attr)
    st, hd, _ = login_basic(h, "alice", PASSWORDS["alice"])
    assert st == 303
    assert entries(payload_of(_issued(h, hd))) == {"user": "alice", "role": "admin"}
    st, hd, _ = login_basic(h, "bob", PASSWORDS["bob"])
    assert st == 303
    assert entries(payload_of(_issued(h, hd))) == {"user": "bob"}
    # and by form
    st, hd, _ = _post(h, {"username": "alice", "password": PASSWORDS["alice"]})
    assert entries(payload_of(_issued(h, hd))) == {"user": "alice", "role": "admin"}


def test_ssg_60_51_login_attribute_feeds_require_session_attr(httpd):
    attr = "SessionSignLoginAttribute role admin \"%{REMOTE_USER} == 'alice'\""
    h = _server(httpd, login_extra=attr, start=False)
    h.conf.write_text(h.conf.read_text() + """
<Location /admin>
  AuthType session-sign
  Require session-attr role admin
</Location>""")
    boot(h)
    h.ack(r"\[authz_core:error\].*AH01630: client denied by server configuration")
    st, hd, _ = login_basic(h, "alice", PASSWORDS["alice"])
    alice = _issued(h, hd)
    st, hd, _ = login_basic(h, "bob", PASSWORDS["bob"])
    bob = _issued(h, hd)
    assert send(h, "/admin/", alice)[0] == 200
    assert send(h, "/admin/", bob)[0] == 403


def test_ssg_60_52_login_attribute_with_expression_value(httpd):
    attr = "SessionSignLoginAttribute who \"%{REMOTE_USER}-%{REQUEST_METHOD}\""
    h = _server(httpd, login_extra=attr)
    st, hd, _ = login_basic(h, "bob", PASSWORDS["bob"])
    assert entries(payload_of(_issued(h, hd))) == {"user": "bob", "who": "bob-GET"}


@pytest.mark.parametrize("line,msg", [
    ("SessionSignLoginAttribute role", "usage is SessionSignLoginAttribute"),
    ("SessionSignLoginAttribute a=b x", "may not contain '='"),
    ("SessionSignLoginAttribute role admin \"%{REMOTE_USER} ==\"", "cannot parse condition"),
    ("SessionSignLoginAttribute role \"%{\"", "cannot parse value"),
    ("SessionSignLoginAttribute role admin true extra", "usage is"),
])
def test_ssg_60_53_bad_login_attribute_is_refused_at_configtest(httpd, line, msg):
    h = _server(httpd, login_extra=line, start=False)
    t = h.configtest()
    assert t.returncode != 0
    assert msg in t.stderr


# ---------------------------------------------------------------- form page

def test_ssg_60_60_form_escapes_return_and_action(httpd):
    """'"' and '<' are legal in a local path: the form must escape them."""
    h = _server(httpd)
    st, hd, body = get(h.port, "/signin?return=/x%22%3E%3Cscript%3Ealert(1)%3C/script%3E")
    assert st == 200
    assert b"<script>" not in body
    assert b'value="/x&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in body
    st, hd, body = get(h.port, "/signin/%22%3E%3Cscript%3Ealert(2)%3C/script%3E")
    assert st == 200
    assert b"<script>" not in body
    assert b'action="/signin/&quot;&gt;&lt;script&gt;alert(2)&lt;/script&gt;"' in body


ERRDOC = """
<Location /app>
  ErrorDocument 401 /signin
</Location>"""


def test_ssg_60_61_error_document_401_shows_the_login_form(httpd):
    """The usual wiring: unauthenticated users of /app get the form, which
    posts to /signin and logs them in. (Its status: see 60_63.)"""
    h = _server(httpd, start=False)
    h.conf.write_text(h.conf.read_text() + ERRDOC)
    boot(h)
    h.ack("SSG0001")
    st, hd, body = send(h, "/app/")
    assert header(hd, "WWW-Authenticate") is None
    assert b'<form method="post" action="/signin">' in body
    assert set_cookies(hd) == []
    # a tampered cookie: the same form, one SSG0001 line, no session issued
    bad = with_field(support.mint("user=alice"), 3, b64e(b"user=admin"))
    st, hd, body = send(h, "/app/", bad)
    assert b'name="password"' in body
    assert no_token_cookie(hd)
    lines = wait_ssg(h, 1)
    assert len(lines) == 1 and "bad signature" in lines[0]
    st, hd, _ = _post(h, {"username": "alice", "password": PASSWORDS["alice"],
                          "return": "/app/"})
    assert st == 303
    st, hd, _ = send(h, "/app/", _issued(h, hd))
    assert st == 200 and header(hd, "X-User") == "alice"


def test_ssg_60_63_error_document_form_keeps_the_401_status(httpd):
    h = _server(httpd, start=False)
    h.conf.write_text(h.conf.read_text() + ERRDOC)
    boot(h)
    st, hd, body = send(h, "/app/")
    assert b'name="password"' in body
    assert st == 401


def test_ssg_60_64_error_document_form_returns_to_the_requested_page(httpd):
    h = _server(httpd, start=False)
    h.conf.write_text(h.conf.read_text() + ERRDOC)
    boot(h)
    st, hd, body = send(h, "/app/page?x=1")
    assert b'name="password"' in body
    assert b'<input type="hidden" name="return" value="/app/page?x=1">' in body


def test_ssg_60_62_head_on_the_form_has_no_body(httpd):
    h = _server(httpd)
    st, hd, body = get(h.port, "/signin", method="HEAD")
    assert st == 200 and body == b""


def test_ssg_60_54_oversized_session_is_not_saved_and_says_why(httpd):
    """A session whose token would exceed 16384 bytes is not written (SSG0003
    at [error], then mod_session's AH01820); the login still redirects but
    issues no cookie. A session just under the limit round-trips."""
    attr = 'SessionSignLoginAttribute pad "%{HTTP:X-Pad}"'
    h = _server(httpd, login_extra=attr, top="LimitRequestFieldSize 32000")
    h.ack(r"\[session_sign:error\].*SSG0003: cannot sign the session \(payload of "
          r"\d+ bytes; at most 16384\); session not saved",
          r"\[session:error\].*AH01820: error while encoding the session")
    st, hd, _ = get(h.port, "/login?return=/app/",
                    [basic("alice", PASSWORDS["alice"]), ("X-Pad", "p" * 13000)])
    assert st == 303
    assert no_token_cookie(hd)
    assert h.wait_log("SSG0003")
    st, hd, _ = get(h.port, "/login?return=/app/",
                    [basic("alice", PASSWORDS["alice"]), ("X-Pad", "q" * 11000)])
    assert st == 303
    tok = _issued(h, hd)
    assert len(tok) <= 16384
    assert entries(payload_of(tok))["pad"] == "q" * 11000


def test_ssg_60_55_user_name_cannot_inject_session_entries(httpd):
    """A (legitimate) user whose name holds '&' and '=' stays one entry."""
    h = _server(httpd, start=False)
    pw = h.root / "conf" / "htpasswd"
    import subprocess
    subprocess.run(["htpasswd", "-b", str(pw), "eve&role=admin", "eve-pass-7890"],
                   check=True, capture_output=True)
    h.secret("eve-pass-7890")
    boot(h)
    st, hd, _ = _post(h, {"username": "eve&role=admin", "password": "eve-pass-7890"})
    assert st == 303
    tok = _issued(h, hd)
    assert entries(payload_of(tok)) == {"user": "eve&role=admin"}
    assert "&role=" not in payload_of(tok)
    st, hd, _ = send(h, "/app/", tok)
    assert st == 200 and header(hd, "X-User") == "eve&role=admin"
    assert "role" not in entries(header(hd, "X-Session"))


def test_ssg_60_56_failed_login_log_lines_cannot_be_forged(httpd):
    """The attempted user name is only logged at debug (SSG0039), escaped:
    a name with CR/LF cannot forge a log line."""
    h = _server(httpd, loglevel="warn session_sign:debug")
    h.ack(r"SSG0036: form login failed: 401$")
    evil = "x\nSSG0001: forged line\r\n[session_sign:warn] y"
    st, hd, _ = _post(h, {"username": evil, "password": "whatever-123"})
    assert st == 401
    assert len(ssg_lines(h, "SSG0036")) == 1
    assert "forged" not in ssg_lines(h, "SSG0036")[0]
    lines = [l for l in h.error_log().splitlines() if "forged line" in l]
    assert len(lines) == 1
    assert "[session_sign:debug]" in lines[0] and "SSG0039: form login failed for user" in lines[0]
    assert "\\n" in lines[0]                       # escaped, one line
    assert not any(l.startswith("SSG0001") for l in h.error_log().splitlines())


def test_ssg_60_65_error_document_return_never_takes_an_absolute_target(httpd):
    """The default return of the ErrorDocument form comes from the request
    target: an absolute-form target (GET http://host/...) must not turn into
    an absolute return URL."""
    h = _server(httpd, start=False)
    h.conf.write_text(h.conf.read_text() + ERRDOC)
    boot(h)
    st, hd, body = send(h, "http://evil.example/app/page?x=1")
    assert b'name="password"' in body
    assert b"evil.example" not in body
    st, hd, body = send(h, "/app/page?next=//evil.example")
    assert b'value="/app/page?next=//evil.example"' in body    # a local path


@pytest.mark.parametrize("headers", [
    [("Origin", "http://evil.example")],
    [("Referer", "http://evil.example/page")],
    [("Sec-Fetch-Site", "cross-site")],
    [("Origin", "null")],
])
def test_ssg_60_44_cross_origin_logout_is_403(httpd, headers):
    h = _server(httpd)
    h.ack("SSG0041")
    st, hd, _ = send(h, "/logout", support.mint("user=alice"), headers=headers)
    assert st == 403
    assert cookie_value(hd) is None          # the session is left alone
    assert h.wait_log("SSG0041")


def test_ssg_60_45_same_origin_logout_passes(httpd):
    h = _server(httpd)
    st, hd, _ = send(h, "/logout", support.mint("user=alice"),
                     headers=[("Origin", "http://127.0.0.1:%d" % h.port),
                              ("Sec-Fetch-Site", "same-origin")])
    assert st == 200 and cookie_value(hd) == ""


def test_ssg_60_46_login_post_without_origin_but_cross_site_fetch_is_403(httpd):
    h = _server(httpd)
    h.ack("SSG0035")
    st, hd, _ = _post(h, {"username": "alice", "password": PASSWORDS["alice"]},
                      headers=[FORM_CT, ("Sec-Fetch-Site", "cross-site")])
    assert st == 403 and set_cookies(hd) == []


def test_ssg_60_47_form_body_over_8_kib_is_400(httpd):
    h = _server(httpd)
    st, hd, _ = _post(h, {"username": "alice", "password": PASSWORDS["alice"],
                          "pad": "x" * 9000})
    assert st == 400 and set_cookies(hd) == []
    st, hd, _ = _post(h, {"username": "alice", "password": PASSWORDS["alice"],
                          "pad": "x" * 7000})
    assert st == 303
