"""Keys: rotation (SessionSignKey and SessionSignKeyFile), config-time
refusals at `apache2 -t`, SessionSignContext, SessionSignUserKey."""
import os
import time

import pytest

import support
from test_ssg_00_common import *  # noqa: F401,F403

KID1 = support.ssg_ref.kid(KEY1)
KID2 = support.ssg_ref.kid(KEY2)


def _refused(h):
    """Run apache2 -t; assert it refuses; return its message (stderr)."""
    t = h.configtest()
    out = t.stderr + t.stdout
    assert t.returncode != 0, out
    assert "Syntax OK" not in out
    return out


def _keyfile(h, name, text, mode=0o600):
    p = h.root / "conf" / name
    p.write_text(text)
    os.chmod(p, mode)
    return p


# ---------------------------------------------------------------- rotation

def test_ssg_20_01_old_key_token_is_accepted_and_resigned_with_new_key(httpd):
    h = serve(httpd, site(keys=(KEY1, KEY2)))
    iat = now() - 30
    old = support.mint("user=alice&role=ops", key=KEY2, iat=iat)
    assert fields(old)["kid"] == KID2
    st, hd, _ = send(h, "/app/", old)
    assert st == 200
    assert header(hd, "X-User") == "alice"
    new = cookie_value(hd)
    assert new, "an old-key token must be re-signed in the response"
    h.secret(new)
    # verifies with KEY1 ALONE, as the current key (not "ok-old-key")
    st_, payload, new_iat, idx = support.verify(new, keys=(KEY1,))
    assert (st_, idx) == ("ok", 0)
    assert fields(new)["kid"] == KID1
    assert entries(payload.decode()) == {"user": "alice", "role": "ops"}
    # re-signing is not a new login: the issued-at is kept
    assert new_iat == iat
    # KEY2 alone no longer verifies it
    assert support.verify(new, keys=(KEY2,))[0] == "unknown-key"
    assert h.wait_log(r"\[session_sign:info\].*SSG0002: session signed with an "
                      r"older key; re-signing it with the current key")
    # the re-signed token is accepted as is, and not re-signed again
    st, hd, _ = send(h, "/app/", new)
    assert st == 200 and header(hd, "X-User") == "alice"
    assert set_cookies(hd) == []
    assert ssg_count(h) == 0


def test_ssg_20_02_current_key_token_is_not_rewritten(httpd):
    h = serve(httpd, site(keys=(KEY1, KEY2)))
    st, hd, _ = send(h, "/app/", support.mint("user=alice"))
    assert st == 200
    assert set_cookies(hd) == []
    assert "SSG0002" not in h.error_log()


def test_ssg_20_03_token_of_a_key_removed_from_the_ring_is_refused(httpd):
    h = serve(httpd, site(keys=(KEY1,)))
    h.ack("SSG0001")
    old = support.mint("user=alice", key=KEY2)
    st, hd, _ = send(h, "/app/", old)
    assert st == 401
    assert no_token_cookie(hd)
    lines = wait_ssg(h, 1)
    assert len(lines) == 1 and "session refused (invalid): unknown key id;" in lines[0]
    assert KID2 not in lines[0]


def test_ssg_20_04_third_key_in_ring_also_verifies(httpd):
    h = serve(httpd, site(keys=(KEY1, KEY2, KEY3)))
    st, hd, _ = send(h, "/app/", support.mint("user=carol", key=KEY3))
    assert st == 200 and header(hd, "X-User") == "carol"
    assert support.verify(cookie_value(hd), keys=(KEY1,))[0] == "ok"


def test_ssg_20_05_key_file_rotation_then_removal_on_graceful_restart(httpd):
    body = site(keys=(KEY1,)).replace(
        "SessionSignKey %s" % KEY1, "SessionSignKeyFile conf/keys")
    h = serve(httpd, body, start=False)
    h.ack("SSG0001")
    kf = _keyfile(h, "keys", "# current first, then the previous one\n%s\n\n%s\n"
                  % (KEY1, KEY2))
    boot(h)
    old = support.mint("user=alice", key=KEY2)
    st, hd, _ = send(h, "/app/", old)
    assert st == 200 and header(hd, "X-User") == "alice"
    new = cookie_value(hd)
    h.secret(new)
    assert support.verify(new, keys=(KEY1,))[:2] == ("ok", b"user=alice")

    # retire KEY2: rewrite the file, graceful restart
    kf.write_text("%s\n" % KEY1)
    h.graceful()
    deadline = time.time() + 8
    while time.time() < deadline:
        st, hd, _ = send(h, "/app/", old)
        if st == 401:
            break
        time.sleep(0.2)
    assert st == 401, "KEY2 still accepted after it left the key file"
    assert "unknown key id" in ssg_lines(h)[-1]
    # the token re-signed with KEY1 survives the rotation
    st, hd, _ = send(h, "/app/", new)
    assert st == 200 and header(hd, "X-User") == "alice"


def test_ssg_20_06_key_file_with_crlf_and_blanks_gives_the_same_keys(httpd):
    body = site().replace("SessionSignKey %s" % KEY1, "SessionSignKeyFile conf/keys")
    h = serve(httpd, body, start=False)
    _keyfile(h, "keys", "# keys\r\n  %s\t \r\n\r\n#%s\r\n%s\r\n" % (KEY1, KEY3, KEY2))
    boot(h)
    st, hd, _ = send(h, "/app/", support.mint("user=alice"))
    assert st == 200
    st, hd, _ = send(h, "/app/", support.mint("user=bob", key=KEY2))
    assert st == 200 and header(hd, "X-User") == "bob"
    # the commented-out KEY3 is not in the ring
    h.ack("SSG0001")
    st, hd, _ = send(h, "/app/", support.mint("user=carol", key=KEY3))
    assert st == 401


def test_ssg_20_07_key_file_is_read_by_root_at_startup_not_by_workers(httpd):
    """A key file only root can read (mode 0400, owned by root) works: httpd
    reads it while parsing the config, before switching to User daemon."""
    body = site().replace("SessionSignKey %s" % KEY1, "SessionSignKeyFile conf/keys")
    h = serve(httpd, body, start=False)
    _keyfile(h, "keys", KEY1 + "\n", mode=0o400)
    boot(h)
    st, hd, _ = send(h, "/app/", support.mint("user=alice"))
    assert st == 200 and header(hd, "X-User") == "alice"


# ---------------------------------------------------------------- config refusals

@pytest.mark.parametrize("secret", ["x" * 31, "tiny-secret", "k1-" + "A" * 28])
def test_ssg_20_10_sessionsignkey_shorter_than_32_bytes_is_refused(httpd, secret):
    h = serve(httpd, site(keys=(secret,)), start=False)
    out = _refused(h)
    assert "SessionSignKey" in out
    assert "shorter than 32 bytes" in out
    assert "session-sign genkey" in out            # the fix
    assert secret not in out                       # never echo a secret


def test_ssg_20_11_sessionsignkey_of_exactly_32_bytes_is_accepted(httpd):
    h = serve(httpd, site(keys=("k" * 32,)), start=False)
    t = h.configtest()
    assert t.returncode == 0, t.stderr


def test_ssg_20_12_second_short_secret_is_named_by_position(httpd):
    h = serve(httpd, site(keys=(KEY1, "y" * 20)), start=False)
    out = _refused(h)
    assert "SessionSignKey: secret #2 refused: secret shorter than 32 bytes" in out


def test_ssg_20_13_same_secret_twice_is_refused(httpd):
    h = serve(httpd, site(keys=(KEY1, KEY1)), start=False)
    out = _refused(h)
    assert "SessionSignKey" in out and "listed twice" in out
    assert KEY1 not in out


def test_ssg_20_14_more_than_16_secrets_are_refused(httpd):
    keys = ["key%02d-" % i + "Z" * 40 for i in range(17)]
    h = serve(httpd, site(keys=keys), start=False)
    out = _refused(h)
    assert "SessionSignKey" in out and "too many secrets" in out
    h2 = serve(httpd, site(keys=keys[:16]), start=False)
    assert h2.configtest().returncode == 0


def test_ssg_20_15_two_key_directives_in_one_scope_are_refused(httpd):
    h = serve(httpd, site(extra="SessionSignKey %s" % KEY2), start=False)
    out = _refused(h)
    assert "SessionSignKey" in out and "already has its keys" in out
    # SessionSignKey and SessionSignKeyFile together, too
    h2 = serve(httpd, site(extra="SessionSignKeyFile conf/keys"), start=False)
    _keyfile(h2, "keys", KEY2 + "\n")
    out = _refused(h2)
    assert "SessionSignKeyFile" in out and "already has its keys" in out


def test_ssg_20_16_location_may_override_the_server_keys(httpd):
    body = site(keys=(KEY1,), extra="""
<Location /app/b>
  SessionSignKey %s
</Location>""" % KEY2)
    h = serve(httpd, body, files={"app/b/index.html": "b\n"})
    h.ack("SSG0001")
    st, hd, _ = send(h, "/app/b/", support.mint("user=bob", key=KEY2))
    assert st == 200 and header(hd, "X-User") == "bob"
    st, hd, _ = send(h, "/app/b/", support.mint("user=alice", key=KEY1))
    assert st == 401
    st, hd, _ = send(h, "/app/", support.mint("user=alice", key=KEY1))
    assert st == 200


def _keyfile_site(path):
    return site().replace("SessionSignKey %s" % KEY1, "SessionSignKeyFile %s" % path)


def test_ssg_20_20_missing_key_file_is_refused_with_path_and_fix(httpd):
    h = serve(httpd, _keyfile_site("conf/nonexistent.keys"), start=False)
    out = _refused(h)
    path = str(h.root / "conf" / "nonexistent.keys")
    assert "SessionSignKeyFile %s: cannot open it" % path in out
    assert "No such file or directory" in out
    assert "session-sign genkey > %s" % path in out


def test_ssg_20_21_key_file_that_is_a_directory_is_refused(httpd):
    h = serve(httpd, _keyfile_site("conf/keys.d"), start=False)
    (h.root / "conf" / "keys.d").mkdir()
    out = _refused(h)
    path = str(h.root / "conf" / "keys.d")
    assert "SessionSignKeyFile %s" % path in out
    assert "not a regular file" in out
    assert "one per line" in out                   # the fix


def test_ssg_20_22_key_file_that_cannot_be_opened_is_refused(httpd):
    """We run as root, so chmod 000 does not stop the open; a path through a
    regular file (ENOTDIR) exercises the same open-failure branch."""
    h = serve(httpd, _keyfile_site("conf/afile/keys"), start=False)
    (h.root / "conf" / "afile").write_text("x\n")
    out = _refused(h)
    path = str(h.root / "conf" / "afile" / "keys")
    assert "SessionSignKeyFile %s: cannot open it (Not a directory)" % path in out
    assert "readable by the user that starts httpd" in out


def test_ssg_20_23_unreadable_key_file_for_a_non_root_starter_is_refused(httpd, tmp_path):
    """The EACCES case for real: apache2 -t run as daemon on a world-readable
    config pointing at a root-only (0600) key file."""
    import subprocess
    import shutil
    d = tmp_path / "nonroot"
    d.mkdir()
    os.chmod(d, 0o755)
    # the module is copied beside the config: the checkout's build/ may be
    # out of daemon's reach
    support.open_to_workers(d)
    so = d / "mod_session_sign.so"
    shutil.copy2(support.BUILD / "mod_session_sign.so", so)  # uninstrumented: no preload here
    os.chmod(so, 0o755)
    kf = d / "keys"
    kf.write_text(KEY1 + "\n")
    os.chmod(kf, 0o600)
    conf = d / "httpd.conf"
    conf.write_text("""
ServerRoot "%s"
ServerName 127.0.0.1
Listen 127.0.0.1:%d
PidFile "%s/pid"
ErrorLog "%s/error_log"
%s
LoadModule session_module %s/mod_session.so
LoadModule session_sign_module %s
SessionSignKeyFile %s
""" % (d, support.free_port(), d, d, support.load_line("mpm_event"),
       support.MODDIR, so, kf))
    os.chmod(conf, 0o644)
    runuser = shutil.which("runuser") or shutil.which("setpriv")
    if runuser is None:
        pytest.skip("no runuser/setpriv")
    t = subprocess.run(["runuser", "-u", "daemon", "--", support.APACHE, "-f",
                        str(conf), "-t"], capture_output=True, text=True)
    out = t.stderr + t.stdout
    assert t.returncode != 0, out
    assert "SessionSignKeyFile %s: cannot open it (Permission denied)" % kf in out
    assert "readable by the user that starts httpd" in out
    assert KEY1 not in out


def test_ssg_20_24_empty_key_file_is_refused(httpd):
    h = serve(httpd, _keyfile_site("conf/keys"), start=False)
    _keyfile(h, "keys", "")
    out = _refused(h)
    path = str(h.root / "conf" / "keys")
    assert "SessionSignKeyFile %s: the file is empty" % path in out
    assert "session-sign genkey >> %s" % path in out


@pytest.mark.parametrize("text", ["# only a comment\n", "\n\n  \n", "# a\n\t\n# b\n"])
def test_ssg_20_25_key_file_with_only_comments_or_blanks_is_refused(httpd, text):
    h = serve(httpd, _keyfile_site("conf/keys"), start=False)
    _keyfile(h, "keys", text)
    out = _refused(h)
    path = str(h.root / "conf" / "keys")
    assert "SessionSignKeyFile %s: no secret in the file" % path in out
    assert "session-sign genkey" in out


def test_ssg_20_26_key_file_with_a_short_secret_names_the_line(httpd):
    short = "too-short-secret-123"
    h = serve(httpd, _keyfile_site("conf/keys"), start=False)
    h.secret(short)
    _keyfile(h, "keys", "# keys\n%s\n%s\n" % (KEY1, short))
    out = _refused(h)
    path = str(h.root / "conf" / "keys")
    assert "SessionSignKeyFile %s: line 3: secret shorter than 32 bytes" % path in out
    assert "at least 32 bytes" in out and "session-sign genkey" in out
    assert short not in out and KEY1 not in out


def test_ssg_20_27_key_file_with_a_duplicate_secret_is_refused(httpd):
    h = serve(httpd, _keyfile_site("conf/keys"), start=False)
    _keyfile(h, "keys", "%s\n%s\n" % (KEY1, KEY1))
    out = _refused(h)
    assert "line 2: the same secret is listed twice" in out


def test_ssg_20_28_oversized_key_file_is_refused(httpd):
    h = serve(httpd, _keyfile_site("conf/keys"), start=False)
    _keyfile(h, "keys", (KEY1 + "\n") + ("#" * 70000) + "\n")
    out = _refused(h)
    assert "larger than 65536 bytes" in out


@pytest.mark.parametrize("value", ["abc", "-1", "+5", "1.5", "10s",
                                   "999999999999999999999", "315360001"])
def test_ssg_20_30_bad_max_lifetime_is_refused(httpd, value):
    h = serve(httpd, site(top="SessionSignMaxLifetime %s" % value), start=False)
    out = _refused(h)
    assert "SessionSignMaxLifetime: '%s' is not a number of seconds" % value in out


@pytest.mark.parametrize("value", ["0", "1", "86400", "315360000"])
def test_ssg_20_31_good_max_lifetime_is_accepted(httpd, value):
    h = serve(httpd, site(top="SessionSignMaxLifetime %s" % value), start=False)
    assert h.configtest().returncode == 0


def test_ssg_20_32_bad_context_is_refused(httpd):
    h = serve(httpd, site(top='SessionSignContext "%s"' % ("c" * 256)), start=False)
    assert "SessionSignContext: the label must be 1 to 255 characters" in _refused(h)
    h = serve(httpd, site(top='SessionSignContext ""'), start=False)
    assert "SessionSignContext" in _refused(h)
    h = serve(httpd, site(top='SessionSignContext "%s"' % ("c" * 255)), start=False)
    assert h.configtest().returncode == 0


@pytest.mark.parametrize("value", ["a=b", "a&b"])
def test_ssg_20_33_bad_user_key_is_refused(httpd, value):
    h = serve(httpd, site(top="SessionSignUserKey %s" % value), start=False)
    assert "SessionSignUserKey" in _refused(h)


# ---------------------------------------------------------------- context

CONTEXTS = """
<Location /app/a>
  SessionSignContext app-a
</Location>
<Location /app/b>
  SessionSignContext app-b
  SessionMaxAge 600
</Location>
"""


def test_ssg_20_40_token_of_one_context_is_refused_by_another(httpd):
    h = serve(httpd, site(extra=CONTEXTS),
              files={"app/a/index.html": "a\n", "app/b/index.html": "b\n"})
    h.ack("SSG0001")
    ta = support.mint("user=alice", context="app-a")
    tb = support.mint("user=alice", context="app-b")
    assert send(h, "/app/a/", ta)[0] == 200
    assert send(h, "/app/b/", tb)[0] == 200
    st, hd, _ = send(h, "/app/b/", ta)
    assert st == 401
    assert "bad signature" in wait_ssg(h, 1)[-1]
    st, hd, _ = send(h, "/app/a/", tb)
    assert st == 401
    # the default context ("default") is a context like any other
    st, hd, _ = send(h, "/app/", ta)
    assert st == 401
    assert len(wait_ssg(h, 3)) == 3


def test_ssg_20_41_module_issued_token_is_bound_to_its_context(httpd):
    h = serve(httpd, site(extra=CONTEXTS),
              files={"app/a/index.html": "a\n", "app/b/index.html": "b\n"})
    h.ack("SSG0001")
    st, hd, _ = send(h, "/app/b/", support.mint("user=alice", context="app-b"))
    issued = cookie_value(hd)
    assert issued
    h.secret(issued)
    assert support.verify(issued, context="app-b")[0] == "ok"
    assert support.verify(issued, context="app-a")[0] == "bad-mac"
    st, _, _ = send(h, "/app/a/", issued)
    assert st == 401


# ---------------------------------------------------------------- user key

def test_ssg_20_50_user_key_names_the_identity_entry(httpd):
    h = serve(httpd, site(top="SessionSignUserKey uid"))
    st, hd, _ = send(h, "/app/", support.mint("uid=carol&user=mallory"))
    assert st == 200
    assert header(hd, "X-User") == "carol"
    # a valid session without the identity key is a session, not a user
    st, hd, _ = send(h, "/app/", support.mint("user=alice"))
    assert st == 401
    st, hd, _ = send(h, "/open/", support.mint("user=alice"))
    assert st == 200 and header(hd, "X-Session") == "user=alice"
    # an empty identity is no identity
    st, hd, _ = send(h, "/app/", support.mint("uid=&x=1"))
    assert st == 401
    assert ssg_count(h) == 0                 # none of these is a bad token


# ---------------------------------------------------------------- scope changes

REDIRECT_SCOPES = """
<Location /app/a>
  SessionSignContext app-a
  AuthType None
  Require all granted
  ErrorDocument 404 /app/b/secret.html
</Location>
<Location /app/b>
  SessionSignContext app-b
</Location>
"""


def test_ssg_20_42_internal_redirect_does_not_carry_a_token_into_another_context(httpd):
    """ErrorDocument from app-a into app-b: app-b re-checks the token in its
    own context (was bug B5)."""
    h = serve(httpd, site(extra=REDIRECT_SCOPES),
              files={"app/a/index.html": "a\n", "app/b/secret.html": "SECRET-B\n"})
    h.ack("SSG0001")
    ta = support.mint("user=alice", context="app-a")
    # directly, app-b refuses app-a's token
    assert send(h, "/app/b/secret.html", ta)[0] == 401
    assert "bad signature" in wait_ssg(h, 1)[0]
    # through an ErrorDocument redirect from app-a into app-b it must too
    st, hd, body = send(h, "/app/a/missing", ta)
    assert b"SECRET-B" not in body
    assert header(hd, "X-User") != "alice"
    lines = wait_ssg(h, 2)
    assert len(lines) == 2
    assert "session refused (invalid): bad signature in this scope;" in lines[1]
    # and app-a itself still takes it
    st, hd, _ = send(h, "/app/a/", ta)
    assert st == 200
    time.sleep(0.1)
    assert ssg_count(h) == 2


def test_ssg_20_43_unsigned_session_of_a_keyless_scope_never_reaches_a_signed_scope(httpd):
    """Session On everywhere, a key only in /signed: an unsigned cookie that
    mod_session decoded in the keyless first scope is dropped when an
    internal redirect enters the signed scope (was bug B5)."""
    h = serve(httpd, """
Session On
SessionCookieName session path=/
SessionEnv On
ErrorDocument 404 /signed/page.html
<Location /signed>
  SessionSignKey %s
  Header always set X-Session "expr=%%{env:HTTP_SESSION}"
</Location>
""" % KEY1, files={"signed/page.html": "PAGE\n"})
    h.ack("SSG0001")
    forged = "user=admin&role=root"
    st, hd, _ = send(h, "/signed/page.html", cookie="session=" + forged)
    assert st == 200 and header(hd, "X-Session") == ""
    assert "malformed token" in wait_ssg(h, 1)[0]
    st, hd, body = send(h, "/nonexistent", cookie="session=" + forged)
    assert body == b"PAGE\n"
    assert "admin" not in (header(hd, "X-Session") or "")
    lines = wait_ssg(h, 2)
    assert len(lines) == 2
    assert "session decoded unsigned in another scope" in lines[1]


def test_ssg_20_44_redirect_into_a_scope_with_the_same_key_keeps_the_session(httpd):
    """The re-check must not refuse a token that IS valid in the new scope
    (another ring object holding the same key, same context)."""
    h = serve(httpd, site(extra="""
<Location /open>
  ErrorDocument 404 /app/k/page.html
</Location>
<Location /app/k>
  SessionSignKey %s %s
</Location>""" % (KEY1, KEY3)), files={"app/k/page.html": "K\n"})
    tok = support.mint("user=alice")
    st, hd, body = send(h, "/open/missing", tok)
    # had the re-check refused the token, /app/k would answer 401 and httpd
    # would append "Additionally, a 401 ..." instead of serving the page
    assert st == 404 and body == b"K\n"
    # the page itself, through the redirect, saw alice as its user
    st, hd, body = send(h, "/app/k/page.html", tok)
    assert st == 200 and header(hd, "X-User") == "alice"
    time.sleep(0.1)
    assert ssg_count(h) == 0
