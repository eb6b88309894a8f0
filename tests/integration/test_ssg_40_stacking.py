"""Stacking with the rest of mod_session: mod_session_crypto (the signature
wraps the ciphertext: encrypt-then-MAC), mod_session_dbd (the payload stored
in the database is signed), SessionHeader from an application (a tiny CGI),
SessionEnv (what a CGI is told)."""
import os
import shutil
import sqlite3

import pytest

import support
from test_ssg_00_common import *  # noqa: F401,F403

PASS_ALICE = "alice-pass-123"
CRYPTO_PASS = "crypto-passphrase-0123456789"


def _login_location(h, users=None):
    pw = h.root / "conf" / "htpasswd"
    htpasswd(pw, users or {"alice": PASS_ALICE})
    h.secret(PASS_ALICE)
    return pw


LOGIN = """
<Location /login>
  AuthType Basic
  AuthName "test"
  AuthBasicProvider file
  AuthUserFile "{pw}"
  Require valid-user
  SetHandler session-sign-login
</Location>
"""


def _cgi(h, names=("cgi_login.py", "cgi_env.py")):
    d = h.root / "cgi-bin"
    d.mkdir(exist_ok=True)
    os.chmod(d, 0o755)
    for n in names:
        shutil.copy(TOOLS / n, d / n)
        os.chmod(d / n, 0o755)
    return d


# ---------------------------------------------------------------- crypto

def _crypto_server(httpd, order):
    """order: which of session_crypto / session_sign is loaded first (the
    hook priorities, not the load order, must decide who wraps whom)."""
    mods = {"crypto": "LoadModule session_crypto_module %s/mod_session_crypto.so"
                      % support.MODDIR,
            "sign": "LoadModule session_sign_module %s/mod_session_sign.so"
                    % support.BUILD}
    pre = "\n".join(mods[m] for m in order)
    h = serve(httpd, "", start=False, sign=False, preamble=pre,
              loglevel="warn session_sign:info")
    pw = _login_location(h)
    h.conf.write_text(h.conf.read_text() + site(
        top="SessionCryptoPassphrase %s" % CRYPTO_PASS,
        extra=LOGIN.format(pw=pw)))
    h.secret(CRYPTO_PASS)
    boot(h)
    return h


def _crypto_cookie(h):
    st, hd, _ = login_basic(h, "alice", PASS_ALICE)
    assert st == 303, st
    tok = cookie_value(hd)
    assert tok
    h.secret(tok)
    return tok


@pytest.mark.parametrize("order", [("crypto", "sign"), ("sign", "crypto")],
                         ids=["crypto-loaded-first", "sign-loaded-first"])
def test_ssg_40_01_signature_wraps_the_ciphertext(httpd, order):
    h = _crypto_server(httpd, order)
    tok = _crypto_cookie(h)
    # the outer layer is ours: ssg_ref verifies it
    inner = payload_of(tok)
    # ... and what it signs is mod_session_crypto's ciphertext, not the session
    assert "user" not in inner and "alice" not in inner
    assert "=" not in inner.rstrip("=") or "&" not in inner
    # the server reads it back through both layers
    st, hd, _ = send(h, "/app/", tok)
    assert st == 200
    assert header(hd, "X-User") == "alice"
    assert entries(header(hd, "X-Session"))["user"] == "alice"


@pytest.mark.parametrize("where", ["payload", "mac"])
def test_ssg_40_02_tampered_crypto_cookie_is_refused_before_decryption(httpd, where):
    h = _crypto_server(httpd, ("crypto", "sign"))
    h.ack("SSG0001")
    tok = _crypto_cookie(h)
    i = 3 if where == "payload" else 4
    bad = with_field(tok, i, flip_b64(tok.split(".")[i], bit=1))
    st, hd, _ = send(h, "/app/", bad)
    assert st == 401
    st, hd, _ = send(h, "/open/", bad)
    assert st == 200 and header(hd, "X-Session") == ""
    lines = wait_ssg(h, 2)
    assert len(lines) == 2
    assert all("bad signature" in l for l in lines)
    log = h.error_log()
    # mod_session_crypto never saw it: no decrypt error, no decode error
    assert "AH01842" not in log and "session_crypto" not in log
    assert "AH01817" not in log


def test_ssg_40_03_authentic_but_undecryptable_payload_is_no_session(httpd):
    """Control for 40_02: a payload that passes OUR check but is not
    mod_session_crypto's ciphertext reaches the decrypter, which complains
    (so 40_02 would see AH01842 if the MAC were not checked first)."""
    h = _crypto_server(httpd, ("crypto", "sign"))
    h.ack("SSG0001", r"\[session_crypto:error\].*AH01842",
          r"\[session:error\].*AH01817")
    tok = support.mint("bm90LWNpcGhlcnRleHQ")
    st, hd, _ = send(h, "/app/", tok)
    assert st == 401
    assert no_token_cookie(hd)
    assert h.wait_log("AH01842")
    lines = wait_ssg(h, 1)
    assert len(lines) == 1
    assert "signed payload could not be decoded" in lines[0]


def test_ssg_40_04_plain_session_minted_under_crypto_config_is_not_accepted(httpd):
    """A validly signed plaintext payload is not a session under crypto:
    both layers must agree."""
    h = _crypto_server(httpd, ("crypto", "sign"))
    h.ack("SSG0001", r"\[session_crypto:error\].*AH01842",
          r"\[session:error\].*AH01817")
    st, hd, _ = send(h, "/app/", support.mint("user=alice"))
    assert st == 401


# ---------------------------------------------------------------- dbd

# One child, one connection: SQLite refuses a second connection's statement
# preparation while another one writes ("AH00632: failed to prepare SQL
# statements: database is locked" at a later child's init, seen once here)
DBD = """
StartServers 1
ServerLimit 1
ThreadsPerChild 25
MaxRequestWorkers 25
MinSpareThreads 1
MaxSpareThreads 25
DBDMin 1
DBDKeep 1
DBDMax 1
DBDriver sqlite3
DBDParams "{db}"
DBDPrepareSQL "select value from session where key = %s and (expiry = 0 or expiry > %lld)" selectsession
DBDPrepareSQL "delete from session where key = %s" deletesession
DBDPrepareSQL "insert into session (value, expiry, key) values (%s, %lld, %s)" insertsession
DBDPrepareSQL "update session set value = %s, expiry = %lld, key = %s where key = %s" updatesession
DBDPrepareSQL "delete from session where expiry != 0 and expiry < %lld" cleansession
"""


def _dbd_server(httpd):
    h = serve(httpd, "", start=False, modules=["dbd", "session_dbd"])
    db = h.root / "data" / "sessions.db"
    con = sqlite3.connect(db)
    con.execute("create table session (key varchar(256) primary key, "
                "value varchar(8192), expiry integer)")
    con.commit()
    con.close()
    os.chmod(db, 0o666)
    pw = _login_location(h)
    h.conf.write_text(h.conf.read_text() + DBD.format(db=db) + site(
        store="SessionDBDCookieName session path=/;HttpOnly",
        extra=LOGIN.format(pw=pw) + """
<Location /logout>
  SetHandler session-sign-logout
</Location>"""))
    boot(h)
    return h, db


def _rows(db):
    con = sqlite3.connect(db)
    try:
        return con.execute("select key, value, expiry from session").fetchall()
    finally:
        con.close()


def _dbd_login(h, db):
    st, hd, _ = login_basic(h, "alice", PASS_ALICE)
    assert st == 303
    sid = cookie_value(hd)
    assert sid
    h.secret(sid)
    rows = _rows(db)
    assert len(rows) == 1
    key, value, _ = rows[0]
    h.secret(value)
    return sid, key, value


def test_ssg_40_10_dbd_row_holds_a_signed_payload(httpd):
    h, db = _dbd_server(httpd)
    sid, key, value = _dbd_login(h, db)
    # the cookie is only mod_session_dbd's id; the row is our token
    assert sid == key
    assert not sid.startswith("v1.")
    assert value.startswith("v1.")
    assert entries(payload_of(value)) == {"user": "alice"}
    st, hd, _ = send(h, "/app/", sid)
    assert st == 200 and header(hd, "X-User") == "alice"


@pytest.mark.parametrize("how", ["flip-mac", "replace-payload", "plain-row", "other-key"])
def test_ssg_40_11_tampered_dbd_row_is_no_session(httpd, how):
    h, db = _dbd_server(httpd)
    h.ack("SSG0001")
    sid, key, value = _dbd_login(h, db)
    if how == "flip-mac":
        new = with_field(value, 4, flip_b64(value.split(".")[4]))
        reason = "bad signature"
    elif how == "replace-payload":
        new = with_field(value, 3, b64e(b"user=admin"))
        reason = "bad signature"
    elif how == "plain-row":
        new = "user=admin"
        reason = "malformed token"
    else:
        new = support.mint("user=admin", key=KEY3)
        reason = "unknown key id"
    h.secret(new)
    con = sqlite3.connect(db)
    con.execute("update session set value = ? where key = ?", (new, key))
    con.commit()
    con.close()
    st, hd, _ = send(h, "/app/", sid)
    assert st == 401
    assert header(hd, "X-User") == ""
    lines = wait_ssg(h, 1)
    assert len(lines) == 1 and reason in lines[0]
    assert key not in lines[0]


def test_ssg_40_12_dbd_login_never_reuses_a_presented_session_id(httpd):
    """Session fixation: a victim who logs in while carrying an id the
    attacker knows gets a new id; the attacker's id gives nothing."""
    h, db = _dbd_server(httpd)
    sid_attacker, _, _ = _dbd_login(h, db)
    st, hd, _ = get(h.port, "/login?return=/app/",
                    [basic("alice", PASS_ALICE), ("Cookie", "session=" + sid_attacker)])
    assert st == 303
    sid_victim = cookie_value(hd)
    h.secret(sid_victim)
    assert sid_victim and sid_victim != sid_attacker
    assert [r[0] for r in _rows(db)] == [sid_victim]
    assert send(h, "/app/", sid_attacker)[0] == 401
    assert send(h, "/app/", sid_victim)[0] == 200


def test_ssg_40_13_dbd_logout_deletes_the_row(httpd):
    h, db = _dbd_server(httpd)
    sid, key, _ = _dbd_login(h, db)
    st, hd, _ = send(h, "/logout", sid)
    assert st == 200
    assert _rows(db) == []
    # (mod_session_dbd still sets a cookie with a fresh, row-less id)
    new = cookie_value(hd)
    if new:
        h.secret(new)
        assert new != sid
        assert send(h, "/app/", new)[0] == 401
    assert send(h, "/app/", sid)[0] == 401


# ---------------------------------------------------------------- SessionHeader

CGI = """
ScriptAlias /cgi/ "{d}/"
<Location /cgi/>
  SessionHeader X-Replace-Session
  Header always set X-Session "expr=%{{env:HTTP_SESSION}}"
</Location>
"""


def test_ssg_40_20_session_header_from_an_application_is_signed(httpd):
    h = serve(httpd, "", start=False, modules=["cgid"])
    d = _cgi(h)
    h.conf.write_text(h.conf.read_text() + site(extra=CGI.format(d=d)))
    boot(h)
    st, hd, body = send(h, "/cgi/cgi_login.py")
    assert st == 200, body
    assert dechunk(hd, body) == b"ok\n"
    # mod_session consumed the header: the client never sees it
    assert header(hd, "X-Replace-Session") is None
    tok = cookie_value(hd)
    assert tok and tok.startswith("v1.")
    h.secret(tok)
    assert entries(payload_of(tok)) == {"user": "bob", "role": "x"}
    st, hd, _ = send(h, "/app/", tok)
    assert st == 200 and header(hd, "X-User") == "bob"


def test_ssg_40_21_application_can_switch_user_and_clear_the_session(httpd):
    h = serve(httpd, "", start=False, modules=["cgid"])
    d = _cgi(h)
    h.conf.write_text(h.conf.read_text() + site(extra=CGI.format(d=d)))
    boot(h)
    old_iat = now() - 100
    bob = support.mint("user=bob&role=x", iat=old_iat)
    st, hd, _ = send(h, "/cgi/cgi_login.py?as=carol", bob)
    assert st == 200
    tok = cookie_value(hd)
    h.secret(tok)
    assert entries(payload_of(tok))["user"] == "carol"
    # a change of identity starts a new lifetime
    assert fields(tok)["iat"] >= now() - 5
    # the application logs out: no entries left, the cookie is removed
    st, hd, _ = send(h, "/cgi/cgi_login.py?logout=1", tok)
    assert st == 200
    assert cookie_value(hd) == ""
    assert cookie_attrs(hd).get("max-age") == "0"


# ---------------------------------------------------------------- SessionEnv

def test_ssg_40_30_cgi_sees_only_the_verified_session(httpd):
    import json
    h = serve(httpd, "", start=False, modules=["cgid"])
    d = _cgi(h)
    h.conf.write_text(h.conf.read_text() + site(extra="""
ScriptAlias /cgi/app/ "{d}/"
ScriptAlias /cgi/ "{d}/"
<Location /cgi/app/>
  AuthType session-sign
  Require valid-user
</Location>
""".format(d=d)))
    h.ack("SSG0001")
    boot(h)
    st, hd, body = send(h, "/cgi/cgi_env.py", support.mint("user=alice&role=ops"))
    assert st == 200
    env = json.loads(dechunk(hd, body))
    assert entries(env["HTTP_SESSION"]) == {"user": "alice", "role": "ops"}
    # a forged "Session:" request header is not the session (CVE-2018-1283)
    st, hd, body = send(h, "/cgi/cgi_env.py", headers=[("Session", "user=admin")])
    assert st == 200
    assert "admin" not in (json.loads(dechunk(hd, body))["HTTP_SESSION"] or "")
    # a tampered cookie gives the application no session at all
    bad = with_field(support.mint("user=alice"), 3, b64e(b"user=admin"))
    st, hd, body = send(h, "/cgi/cgi_env.py", bad)
    assert st == 200
    assert not json.loads(dechunk(hd, body))["HTTP_SESSION"]
    # behind AuthType session-sign the CGI gets REMOTE_USER and AUTH_TYPE
    st, hd, body = send(h, "/cgi/app/cgi_env.py", support.mint("user=alice"))
    assert st == 200
    env = json.loads(dechunk(hd, body))
    assert env["REMOTE_USER"] == "alice"
    assert env["AUTH_TYPE"] == "session-sign"
