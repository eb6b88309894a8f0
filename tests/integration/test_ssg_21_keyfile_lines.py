"""Issue 13.1: what a key file may hold. A line that is not what
`session-sign genkey` writes (or a documented secret form) is refused at
`apache2 -t` with the file and line named and none of its bytes: a UTF-8
byte-order mark (which once turned the first comment into the signing
secret), non-ASCII, control bytes, a PEM block, NAME=value, a quoted
secret, a '#' or a blank inside a secret. A trailing blank and CRLF line
ends are read as documented. The `session-sign` tool shares the parser."""
import os
import subprocess

import pytest

import support
from test_ssg_00_common import *  # noqa: F401,F403
from test_ssg_20_keys import _refused

BOM = "\ufeff"
COMMENT = "# /etc/apache2/session-sign.keys"


def _site_with_keyfile(httpd, text, raw=None):
    h = serve(httpd, site().replace("SessionSignKey %s" % KEY1,
                                    "SessionSignKeyFile conf/keys"), start=False)
    p = h.root / "conf" / "keys"
    p.write_bytes(raw if raw is not None else text.encode("utf-8"))
    os.chmod(p, 0o600)
    return h, p


def test_ssg_21_01_bom_before_the_first_comment_is_refused_naming_file_and_line(httpd):
    """The finding, byte for byte: BOM, a comment, CRLF, then the real key.
    Before the fix httpd started and BOM+comment (35 bytes) signed; a token
    minted with that string for user=admin passed."""
    h, p = _site_with_keyfile(httpd, BOM + COMMENT + "\r\n" + KEY1 + "\r\n")
    out = _refused(h)
    assert "SessionSignKeyFile %s: line 1: starts with a UTF-8 byte-order mark" % p in out
    assert "save the file without it" in out
    assert COMMENT not in out and KEY1 not in out and "session-sign.keys" not in out


def test_ssg_21_02_the_bom_comment_string_never_signs_anything(httpd, backend):
    """With the file fixed (no BOM), the comment is a comment: a token minted
    with the BOM+comment string is refused, the real key's token passes."""
    h, p = _site_with_keyfile(httpd, COMMENT + "\r\n" + KEY1 + "\r\n")
    boot(h)
    forged_key = BOM + COMMENT
    forged = support.mint("user=admin", key=forged_key)
    st, hd, _ = send(h, "/app/", forged)
    assert st == 401
    st, hd, _ = send(h, "/app/", support.mint("user=alice"))
    assert st == 200 and header(hd, "X-User") == "alice"
    h.ack("SSG0001")


@pytest.mark.parametrize("name,text,line,why", [
    ("bom-then-key", BOM + KEY1 + "\n", 1, "byte-order mark"),
    ("utf8-secret", "# keys\ncl\u00e9-secr\u00e8te-0123456789abcdefghijklmnop\n", 2,
     "outside printable ASCII"),
    ("latin1-byte", None, 1, "outside printable ASCII"),
    ("control-byte", KEY1 + "\x1b\n", 1, "control character"),
    ("nul-byte", KEY1[:10] + "\x00" + KEY1[10:] + "\n", 1, "control character"),
    ("control-in-comment", "# \x1b[31mred\n" + KEY1 + "\n", 1, "control character in a comment"),
    ("pem-block", "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSj\n"
                  "-----END PRIVATE KEY-----\n", 1, "a PEM block is not a key file"),
    ("assignment", "SESSION_SIGN_KEY=%s\n" % KEY1, 1, "looks like NAME=value"),
    ("quoted", '"%s"\n' % KEY1, 1, "quoted secret"),
    ("hash-inside", KEY1 + "#current\n", 1, "'#' inside the secret"),
    ("comment-after-secret", KEY1 + " # current\n", 1, "blank inside the secret"),
    ("lone-cr", KEY1[:5] + "\r" + KEY1[5:] + "\n", 1, "control character"),
])
def test_ssg_21_03_lines_that_are_not_secrets_are_refused(httpd, name, text, line, why):
    raw = (KEY1 + "\xe9\n").encode("latin-1") if text is None else None
    h, p = _site_with_keyfile(httpd, text, raw=raw)
    out = _refused(h)
    assert "SessionSignKeyFile %s: line %d: " % (p, line) in out, out
    assert why in out, out
    assert KEY1 not in out and KEY1[:12] not in out


@pytest.mark.parametrize("name,text", [
    ("trailing-blanks", KEY1 + "  \t\n"),
    ("crlf", "# current\r\n" + KEY1 + "\r\n"),
    ("utf8-comment", "# cl\u00e9 de production\n" + KEY1 + "\n"),
    ("genkey-output", None),
])
def test_ssg_21_04_documented_forms_are_read(httpd, name, text):
    key = KEY1
    if text is None:
        key = subprocess.run([str(CLI), "genkey"], capture_output=True, text=True,
                             check=True).stdout.strip()
        text = key + "\n"
        assert len(key) == 43
    h, p = _site_with_keyfile(httpd, text)
    h.secret(key)
    boot(h)
    st, hd, _ = send(h, "/app/", support.mint("user=alice", key=key))
    assert st == 200 and header(hd, "X-User") == "alice"


def test_ssg_21_05_the_cli_refuses_the_same_file(tmp_path):
    kf = tmp_path / "keys"
    kf.write_bytes((BOM + COMMENT + "\r\n" + KEY1 + "\r\n").encode())
    r = subprocess.run([str(CLI), "sign", "--key-file", str(kf), "user=admin"],
                       capture_output=True, text=True)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "line 1" in r.stderr and "byte-order mark" in r.stderr
    assert r.stdout == "" and KEY1 not in r.stderr and COMMENT not in r.stderr


def test_ssg_21_06_inline_secret_with_non_ascii_bytes_is_refused(httpd):
    h = serve(httpd, site(keys=(BOM + "x" * 40,)), start=False)
    out = _refused(h)
    assert "SessionSignKey: secret #1 refused" in out and "ASCII" in out
