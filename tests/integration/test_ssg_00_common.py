"""Shared helpers of the mod_session_sign integration tests (test_ssg_*),
plus two smoke tests of the harness itself.

The helpers live here (a test_ssg_* file) because the other files of
tests/integration belong to other people; import them with
`from test_ssg_00_common import *`.
"""
import base64
import os
import re
import subprocess
import time
from pathlib import Path

import support
from support import KEY1, KEY2, KEY3, get, header, set_cookies, cookie_value

__all__ = [
    "KEY1", "KEY2", "KEY3", "WSAUTH", "CLI", "TOOLS", "get", "header",
    "set_cookies", "cookie_value", "serve", "site", "ssg_lines", "send",
    "fields", "with_field", "flip_b64", "b64e", "b64d", "payload_of",
    "ssg_count", "wait_ssg", "no_token_cookie", "now", "entries",
    "htpasswd", "cookie_attrs", "basic", "login_basic", "dechunk", "boot",
]

ROOT = support.ROOT
CLI = support.BUILD / "session-sign"
TOOLS = support.TOOLS
# mod_ws_auth is built by others; load it only when it exists
WSAUTH = (support.BUILD / "mod_ws_auth.so").exists()


def now():
    return int(time.time())


def serve(httpd, body, files=None, start=True, **kw):
    """Make (and start) a private httpd with our module. files maps paths
    under htdocs (or, when starting with '/', absolute paths) to text."""
    kw.setdefault("wsauth", WSAUTH)
    kw["modules"] = ["dir"] + [m for m in kw.get("modules", ()) if m != "dir"]
    h = httpd(body, start=False, **kw)
    defaults = {"app/index.html": "app\n", "open/index.html": "open\n",
                "admin/index.html": "admin\n"}
    defaults.update(files or {})
    for rel, text in defaults.items():
        p = Path(rel) if rel.startswith("/") else h.root / "htdocs" / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    if start:
        boot(h)
    return h


def boot(h):
    """Start h. support.Httpd.start() now makes sure the server answering is
    ours (AH00489 from our own pid; a new port if another run took ours)."""
    return h.start()


COOKIE_STORE = "SessionCookieName session path=/;HttpOnly"


def site(keys=(KEY1,), extra="", app_extra="", open_extra="", top="",
         store=COOKIE_STORE):
    """The usual configuration: a signed cookie session, /app under
    AuthType session-sign, /open reading the session without any auth.
    X-User / X-Session show what the server decoded."""
    return f"""
DirectoryIndex index.html
Session On
{store}
SessionSignKey {" ".join(keys)}
SessionEnv On
{top}
<Location /app>
  AuthType session-sign
  Require valid-user
  Header always set X-User "expr=%{{REMOTE_USER}}"
  Header always set X-Session "expr=%{{env:HTTP_SESSION}}"
  {app_extra}
</Location>
<Location /open>
  Header always set X-User "expr=%{{REMOTE_USER}}"
  Header always set X-Session "expr=%{{env:HTTP_SESSION}}"
  {open_extra}
</Location>
{extra}
"""


# ------------------------------------------------------------------ logs

def ssg_lines(h, tag="SSG0001"):
    return [l for l in h.error_log().splitlines() if tag + ":" in l]


def ssg_count(h, tag="SSG0001"):
    return len(ssg_lines(h, tag))


def wait_ssg(h, n, tag="SSG0001", timeout=3.0):
    """Wait until the log holds n lines of tag; return them."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        lines = ssg_lines(h, tag)
        if len(lines) >= n:
            break
        time.sleep(0.02)
    return ssg_lines(h, tag)


# ------------------------------------------------------------------ HTTP

def send(h, path, token=None, cookie=None, headers=(), method="GET", body=b""):
    """GET path with session=<token> (registered as a secret first)."""
    hd = list(headers)
    if token is not None:
        h.secret(token)
        hd.append(("Cookie", "session=" + token))
    elif cookie is not None:
        hd.append(("Cookie", cookie))
    return get(h.port, path, hd, method=method, body=body)


def dechunk(headers, body):
    """The body of a response support.get() returned, de-chunked."""
    if (header(headers, "Transfer-Encoding") or "").lower() != "chunked":
        return body
    out = b""
    while body:
        size, _, rest = body.partition(b"\r\n")
        n = int(size.split(b";")[0], 16)
        if n == 0:
            break
        out += rest[:n]
        body = rest[n + 2:]
    return out


def no_token_cookie(headers):
    """True if the response sets no session cookie carrying a token."""
    v = cookie_value(headers)
    return v is None or v == ""


def cookie_attrs(headers, name="session"):
    """Attributes (lower-cased names) of the last Set-Cookie for name."""
    out = None
    for sc in set_cookies(headers):
        parts = [p.strip() for p in sc.split(";")]
        k = parts[0].partition("=")[0].strip()
        if k == name:
            out = {}
            for p in parts[1:]:
                a, _, v = p.partition("=")
                out[a.strip().lower()] = v.strip()
    return out


def basic(user, password):
    return ("Authorization", "Basic " + base64.b64encode(
        ("%s:%s" % (user, password)).encode()).decode())


# ------------------------------------------------------------------ tokens

def b64e(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def b64d(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def fields(token):
    """Split a v1 token: dict version, kid, iat, payload (bytes), mac."""
    v, kid, iat, p, mac = token.split(".")
    return {"version": v, "kid": kid, "iat": int(iat), "payload": b64d(p),
            "mac": mac}


def with_field(token, i, value):
    parts = token.split(".")
    parts[i] = value
    return ".".join(parts)


def flip_b64(text, bit=0, pos=None):
    """Flip one bit of the decoded bytes of a base64url field, re-encode."""
    raw = bytearray(b64d(text))
    pos = len(raw) // 2 if pos is None else pos
    raw[pos] ^= 1 << bit
    return b64e(bytes(raw))


def payload_of(token, keys=(KEY1,), context="default", max_lifetime=0):
    """Verify with ssg_ref (the independent implementation): the payload,
    or raise AssertionError with ssg_ref's status."""
    st, payload, iat, idx = support.verify(token, keys=keys, context=context,
                                           max_lifetime=max_lifetime)
    assert st in ("ok", "ok-old-key"), "ssg_ref refuses the token: %s" % st
    return payload.decode()


def entries(payload):
    """'user=alice&expiry=1' -> dict (decoded as mod_session does: '+' and
    %20 are both a space)."""
    from urllib.parse import unquote_plus
    out = {}
    for pair in payload.split("&"):
        k, _, v = pair.partition("=")
        out[unquote_plus(k)] = unquote_plus(v)
    return out


def htpasswd(path, users, bcrypt_users=()):
    """Write an htpasswd file with apache2-utils' htpasswd (-B for the
    users in bcrypt_users, the default apr1-MD5 for the others)."""
    first = True
    for user, pw in users.items():
        args = ["htpasswd", "-b"]
        if first:
            args.append("-c")
        if user in bcrypt_users:
            args += ["-B", "-C", "5"]
        subprocess.run(args + [str(path), user, pw], check=True,
                       capture_output=True)
        first = False
    os.chmod(path, 0o644)


def login_basic(h, user, password, path="/login?return=/app/"):
    return get(h.port, path, [basic(user, password)])


# ------------------------------------------------------------------ smoke

def test_ssg_00_01_module_loads_and_configtest_passes(httpd):
    h = serve(httpd, site(), start=False)
    t = h.configtest()
    assert t.returncode == 0, t.stderr
    assert "Syntax OK" in t.stderr + t.stdout


def test_ssg_00_02_module_exports_only_its_module_symbol():
    out = subprocess.run(["nm", "-D", "--defined-only",
                          str(support.BUILD / "mod_session_sign.so")],
                         capture_output=True, text=True, check=True).stdout
    syms = [l.split()[-1] for l in out.splitlines() if l.strip()]
    funcs = [s for s in syms if not re.match(r"^_(init|fini|edata|end|_bss_start)", s)
             and s not in ("_edata", "_end", "__bss_start", "_init", "_fini")]
    assert funcs == ["session_sign_module"], funcs
