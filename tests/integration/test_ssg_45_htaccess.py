"""Issue 14.4 (design issue B4): an .htaccess author with AllowOverride
AuthConfig and a CGI cannot obtain a session that verifies outside their
own directory. Where an .htaccess file applied to a request sets a
directive of mod_session (SessionHeader, Session, ...) or of
mod_session_sign (SessionSignContext, SessionSignKey, ...), the sessions
written there are signed for that .htaccess scope: the configured context
plus the .htaccess directories. They verify there and nowhere else;
sessions the server issued keep verifying everywhere, the .htaccess
directory included; an .htaccess without session directives (rewrite
rules, DirectoryIndex) changes nothing."""
import os
import shutil

import pytest

import support
from test_ssg_00_common import *  # noqa: F401,F403


def _site(httpd, htaccess, app_context=None):
    h = serve(httpd, "", start=False, modules=["cgid"])
    h.ack("SSG0001")
    u = h.root / "htdocs" / "user"
    u.mkdir()
    shutil.copy(TOOLS / "cgi_login.py", u / "evil.py")
    os.chmod(u / "evil.py", 0o755)
    shutil.copy(TOOLS / "cgi_login.py", u / "other.py")
    os.chmod(u / "other.py", 0o755)
    (u / "index.html").write_text("user\n")
    if htaccess is not None:
        (u / ".htaccess").write_text(htaccess)
    ctx = ""
    if app_context:
        ctx = "<Location /app/a>\n  SessionSignContext %s\n</Location>\n" % app_context
    h.conf.write_text(h.conf.read_text() + site(top="SessionHeader X-Replace-Session"
                                                if htaccess is None else "", extra="""
<Directory "%s">
  AllowOverride AuthConfig FileInfo Indexes
  Options +ExecCGI
  AddHandler cgi-script .py
</Directory>
<Location /user/guarded>
  AuthType session-sign
  Require valid-user
</Location>
%s""" % (u, ctx)))
    for p in ("app/a", "user/guarded"):
        d = h.root / "htdocs" / p
        d.mkdir(parents=True, exist_ok=True)
        (d / "index.html").write_text("x\n")
    boot(h)
    return h


def _minted(h, path="/user/evil.py?as=admin"):
    st, hd, _ = send(h, path)
    assert st == 200
    tok = cookie_value(hd)
    assert tok, "the CGI's session was not written"
    h.secret(tok)
    return tok


def test_ssg_45_01_session_header_alone_in_htaccess_mints_nothing_for_the_site(httpd):
    """The attack: only `SessionHeader X-Replace-Session` in the .htaccess;
    the CGI answers X-Replace-Session: user=admin."""
    h = _site(httpd, "SessionHeader X-Replace-Session\n")
    tok = _minted(h)
    st, _, _ = send(h, "/app/", tok)
    assert st == 401


def test_ssg_45_02_htaccess_context_mints_nothing_for_that_context(httpd):
    """With SessionSignContext app-a added, it once passed where the
    server uses context app-a."""
    h = _site(httpd, "SessionHeader X-Replace-Session\nSessionSignContext app-a\n",
              app_context="app-a")
    tok = _minted(h)
    st, _, _ = send(h, "/app/a/", tok)
    assert st == 401
    st, _, _ = send(h, "/app/", tok)
    assert st == 401


def test_ssg_45_03_the_htaccess_session_works_inside_its_directory(httpd):
    h = _site(httpd, "SessionHeader X-Replace-Session\n")
    tok = _minted(h, "/user/evil.py?as=carol")
    st, hd, _ = send(h, "/user/guarded/", tok)
    assert st == 200 and header(hd, "X-User") in (None, "")   # no X-User header here
    st, _, _ = send(h, "/user/guarded/")
    assert st == 401


def test_ssg_45_04_server_issued_sessions_still_verify_in_the_htaccess_directory(httpd):
    h = _site(httpd, "SessionHeader X-Replace-Session\n")
    st, _, _ = send(h, "/user/guarded/", support.mint("user=alice"))
    assert st == 200
    st, _, _ = send(h, "/app/", support.mint("user=alice"))
    assert st == 200


def test_ssg_45_05_htaccess_without_session_directives_changes_nothing(httpd):
    """A server-wide SessionHeader (the admin's choice) and an .htaccess of
    rewrite-style directives only: sessions written there are the site's."""
    h = _site(httpd, None)
    (h.root / "htdocs" / "user" / ".htaccess").write_text("DirectoryIndex index.html\n")
    tok = _minted(h, "/user/evil.py?as=dave")
    st, hd, _ = send(h, "/app/", tok)
    assert st == 200 and header(hd, "X-User") == "dave"


def test_ssg_45_06_a_forged_htaccess_context_token_is_refused_elsewhere(httpd):
    """The binding is in the MAC: a token signed (with the real key) for
    the .htaccess scope of /user is refused at /app even by name."""
    h = _site(httpd, "SessionHeader X-Replace-Session\n")
    ctx = "default\n.htaccess:%s/" % (h.root / "htdocs" / "user")
    tok = support.mint("user=admin", context=ctx)
    h.secret(tok)
    st, _, _ = send(h, "/app/", tok)
    assert st == 401
