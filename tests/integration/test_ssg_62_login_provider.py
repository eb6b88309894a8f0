"""SessionSignLoginProvider: the authn providers a form login asks, in
order, looked up in httpd's provider registry (issue 14.2: mod_auth_basic's
private configuration is no longer read)."""
import subprocess
from urllib.parse import urlencode

from test_ssg_00_common import *  # noqa: F401,F403

FORM = ("Content-Type", "application/x-www-form-urlencoded")


def _server(httpd, providers, extra=""):
    h = serve(httpd, "", start=False, modules=["authn_dbm"])
    pw = h.root / "conf" / "htpasswd"
    htpasswd(pw, {"alice": "alice-pass-123"})
    dbm = h.root / "conf" / "users"
    subprocess.run(["htdbm", "-bc", "-TSDBM", str(dbm), "bob", "bob-pass-4567"], check=True,
                   capture_output=True)
    h.secret("alice-pass-123", "bob-pass-4567")
    h.conf.write_text(h.conf.read_text() + site(extra="""
<Location /signin>
  SetHandler session-sign-login
  %s
  AuthUserFile "%s"
  AuthDBMType SDBM
  AuthDBMUserFile "%s"
  %s
</Location>
""" % (providers, pw, dbm, extra)))
    return h


def _login(h, user, password):
    body = urlencode({"username": user, "password": password}).encode()
    return get(h.port, "/signin", [FORM], method="POST", body=body)


def test_ssg_62_01_default_provider_is_file(httpd):
    h = _server(httpd, "")
    boot(h)
    h.ack("SSG0036")
    st, hd, _ = _login(h, "alice", "alice-pass-123")
    assert st == 303 and cookie_value(hd)
    h.secret(cookie_value(hd))
    st, _, _ = _login(h, "bob", "bob-pass-4567")
    assert st == 401                       # bob is only in the dbm file


def test_ssg_62_02_providers_are_asked_in_order(httpd):
    h = _server(httpd, "SessionSignLoginProvider dbm file")
    boot(h)
    h.ack("SSG0036")
    for user, pw in (("bob", "bob-pass-4567"), ("alice", "alice-pass-123")):
        st, hd, _ = _login(h, user, pw)
        assert st == 303, user
        h.secret(cookie_value(hd))
    st, _, _ = _login(h, "bob", "wrong-password")
    assert st == 401


def test_ssg_62_03_unknown_provider_fails_configtest_with_the_fix(httpd):
    h = _server(httpd, "SessionSignLoginProvider nosuch")
    t = h.configtest()
    out = t.stderr + t.stdout
    assert t.returncode != 0
    assert "SessionSignLoginProvider: unknown authentication provider 'nosuch'" in out
    assert "LoadModule" in out
