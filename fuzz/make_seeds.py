#!/usr/bin/python3
"""make_seeds.py - write the seed corpora of the fuzz targets, fuzz/corpus/<target>/.

Every seed has a name that says what it is. Valid tokens are real: they are
made by the independent Python implementation, tests/tools/ssg_ref.py, run
through its command line, with the keys, context and times the targets
hard-code (fuzz/fuzz_token_ring.h), and a fixed iat, so the seeds are the same
on every run. Each token seed is also checked with `ssg_ref.py verify`, so a
seed called "token-expired-one-second" really is refused as expired.

    /usr/bin/python3 fuzz/make_seeds.py            rewrite fuzz/corpus/*
    /usr/bin/python3 fuzz/make_seeds.py --check    exit 1 if the committed
                                                   corpus differs from what
                                                   this script makes
Run from anywhere; paths are taken from this file's location.
"""

import argparse
import filecmp
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
REF = os.path.join(TOP, "tests", "tools", "ssg_ref.py")
PYTHON = "/usr/bin/python3"

# keep in step with fuzz/fuzz_token_ring.h
KEY_CURRENT = "fuzz-key-current-0123456789abcdefghij"
KEY_PREVIOUS = "fuzz-key-previous-0123456789abcdefghij"
KEY_UNKNOWN = "fuzz-key-unknown-0123456789abcdefghijk"   # in no ring of the targets
CONTEXT = "fuzz-ctx"
IAT = 1700000000
NOW = IAT + 100
MAX_LIFETIME = 3600
SKEW = 60
MAX_TOKEN_LEN = 16384

SID = "AAECAwQFBgcICQoLDA0ODw"      # 00 01 .. 0f: a fixed session id
TARGETS = ("token", "cookie", "keyfile", "origin", "upgrade", "login", "express", "fsig")


def ref(*args):
    """Run ssg_ref.py; return (exit code, first line of stdout)."""
    out = subprocess.run([PYTHON, REF] + list(args), capture_output=True,
                         text=True, check=False)
    if out.returncode not in (0, 1):
        raise SystemExit("ssg_ref.py %s failed: %s" % (args[0], out.stderr.strip()))
    return out.returncode, out.stdout.split("\n", 1)[0]


def sign(keys, context, iat, payload, sid=None):
    """A v1 token, or a v2 one carrying sid (fixed, so seeds are stable)."""
    args = ["sign"]
    for k in keys:
        args += ["--key", k]
    args += ["--context", context, "--iat", str(iat)]
    if sid:
        args += ["--sid", sid]
    rc, line = ref(*(args + [payload]))
    if rc != 0 or not line.startswith("v2." if sid else "v1."):
        raise SystemExit("ssg_ref.py sign refused %r" % payload)
    return line


def ref_status(token, context=CONTEXT):
    """The status ssg_ref.py gives token under the targets' ring and clock."""
    _, line = ref("verify", "--key", KEY_CURRENT, "--key", KEY_PREVIOUS,
                  "--context", context, "--now", str(NOW),
                  "--max-lifetime", str(MAX_LIFETIME), "--skew", str(SKEW),
                  token)
    return line


def fields(token):
    return token.split(".")


def join(parts):
    return ".".join(parts)


def flip_first(s):
    """Change the first character of a base64url field to another letter,
    keeping the field canonical (the first character has no trailing bits)."""
    return ("B" if s[0] == "A" else "A") + s[1:]


# ------------------------------------------------------------------ tokens

def token_seeds():
    """[(name, bytes, expected ssg_ref status or None, context)]"""
    valid = sign([KEY_CURRENT], CONTEXT, IAT, "user=alice&expiry=1700003600000000")
    v, kid, iat, payload, mac = fields(valid)
    other_kid = fields(sign([KEY_PREVIOUS], CONTEXT, IAT, "x"))[1]
    one = sign([KEY_CURRENT], CONTEXT, IAT, "a")        # payload "YQ"
    v2 = sign([KEY_CURRENT], CONTEXT, IAT, "user=alice&expiry=1700003600000000", SID)
    v2f = fields(v2)
    s = [
        ("token-valid-current-key", valid, "ok", CONTEXT),
        ("token-valid-old-key", sign([KEY_PREVIOUS], CONTEXT, IAT, "user=bob"),
         "ok-old-key", CONTEXT),
        ("token-valid-empty-context", sign([KEY_CURRENT], "", IAT, "user=carol"), "ok", ""),
        ("token-valid-one-byte-payload", one, "ok", CONTEXT),
        ("token-valid-long-payload", sign([KEY_CURRENT], CONTEXT, IAT, "k=" + "v" * 3000),
         "ok", CONTEXT),
        ("token-valid-within-skew", sign([KEY_CURRENT], CONTEXT, NOW + 30, "user=dave"),
         "ok", CONTEXT),
        ("token-valid-at-max-lifetime",
         sign([KEY_CURRENT], CONTEXT, NOW - MAX_LIFETIME, "user=erin"), "ok", CONTEXT),
        ("token-expired-one-second",
         sign([KEY_CURRENT], CONTEXT, NOW - MAX_LIFETIME - 1, "user=erin"), "expired", CONTEXT),
        ("token-future-beyond-skew",
         sign([KEY_CURRENT], CONTEXT, NOW + SKEW + 1, "user=frank"), "future", CONTEXT),
        ("token-wrong-context", sign([KEY_CURRENT], "other-app", IAT, "user=alice"),
         "bad-mac", CONTEXT),
        ("token-unknown-key", sign([KEY_UNKNOWN], CONTEXT, IAT, "user=alice"),
         "unknown-key", CONTEXT),
        ("token-kid-of-other-key", join([v, other_kid, iat, payload, mac]), "bad-mac", CONTEXT),
        ("token-tampered-payload", join([v, kid, iat, flip_first(payload), mac]),
         "bad-mac", CONTEXT),
        ("token-tampered-mac", join([v, kid, iat, payload, flip_first(mac)]), "bad-mac", CONTEXT),
        ("token-tampered-iat", join([v, kid, str(IAT + 1), payload, mac]), "bad-mac", CONTEXT),
        ("token-trailing-dot", valid + ".", "malformed", CONTEXT),
        ("token-trailing-newline", valid + "\n", "malformed", CONTEXT),
        ("token-leading-space", " " + valid, "version", CONTEXT),
        ("token-leading-zero-iat", join([v, kid, "0" + iat, payload, mac]), "malformed", CONTEXT),
        ("token-13-digit-iat", join([v, kid, "1" * 13, payload, mac]), "malformed", CONTEXT),
        ("token-version-v2", join(["v2", kid, iat, payload, mac]), "version", CONTEXT),
        ("token-four-fields", join([v, kid, iat, payload]), "malformed", CONTEXT),
        ("token-six-fields", valid + ".x", "malformed", CONTEXT),
        ("token-padded-payload", join(fields(one)[:3] + ["YQ==", fields(one)[4]]),
         "malformed", CONTEXT),
        ("token-noncanonical-payload-bits", join(fields(one)[:3] + ["YR", fields(one)[4]]),
         "malformed", CONTEXT),
        ("token-standard-base64-char", join([v, kid, iat, payload, "+" + mac[1:]]),
         "malformed", CONTEXT),
        ("token-empty", "", "empty", CONTEXT),
        ("token-too-long", "v1." + "A" * (MAX_TOKEN_LEN - 2), "too-long", CONTEXT),
        # v2: the session id between iat and payload, inside the MAC
        ("token-v2-valid", v2, "ok", CONTEXT),
        ("token-v2-valid-old-key", sign([KEY_PREVIOUS], CONTEXT, IAT, "user=bob", SID),
         "ok-old-key", CONTEXT),
        ("token-v2-tampered-sid", join([v2f[0], v2f[1], v2f[2], flip_first(SID)] + v2f[4:]),
         "bad-mac", CONTEXT),
        ("token-v2-short-sid", join(v2f[:3] + [SID[:21]] + v2f[4:]), "malformed", CONTEXT),
        ("token-v2-long-sid", join(v2f[:3] + [SID + "A"] + v2f[4:]), "malformed", CONTEXT),
        ("token-v2-noncanonical-sid", join(v2f[:3] + [SID[:21] + "x"] + v2f[4:]),
         "malformed", CONTEXT),
        ("token-v2-sid-dropped", join(["v2"] + v2f[1:3] + v2f[4:]), "version", CONTEXT),
        ("token-v1-with-a-sid", join(["v1"] + v2f[1:]), "malformed", CONTEXT),
        ("token-v2-seven-fields", v2 + ".x", "malformed", CONTEXT),
        ("token-v2-trailing-newline", v2 + "\n", "malformed", CONTEXT),
        ("payload-plain-text", "user=bob&role=admin", "malformed", CONTEXT),
        # raw bytes with a NUL: exercises the sign/verify round trip of a
        # payload the verifier refuses (the command line cannot carry a NUL)
        ("payload-with-nul", b"user\x00admin", None, CONTEXT),
    ]
    return s


def cookie_seeds():
    valid = sign([KEY_CURRENT], CONTEXT, IAT, "user=alice")
    v, kid, iat, payload, mac = fields(valid)
    return [
        ("cookie-valid-token", valid, "ok", CONTEXT),
        ("cookie-valid-old-key", sign([KEY_PREVIOUS], CONTEXT, IAT, "user=bob"),
         "ok-old-key", CONTEXT),
        ("cookie-expired", sign([KEY_CURRENT], CONTEXT, NOW - MAX_LIFETIME - 1, "user=alice"),
         "expired", CONTEXT),
        ("cookie-wrong-context", sign([KEY_CURRENT], "other-app", IAT, "user=alice"),
         "bad-mac", CONTEXT),
        ("cookie-tampered-mac", join([v, kid, iat, payload, flip_first(mac)]), "bad-mac", CONTEXT),
        ("cookie-duplicate-session", valid + "; session=" + valid, None, CONTEXT),
        ("cookie-cut-at-semicolon", valid + ";extra", None, CONTEXT),
        ("cookie-quoted-value", '"' + valid + '"', None, CONTEXT),
        ("cookie-space-padded", " " + valid + " ", None, CONTEXT),
        ("cookie-tab-padded", "\t" + valid, None, CONTEXT),
        ("cookie-empty-value", "", None, CONTEXT),
        ("cookie-equals-in-value", valid + "==", None, CONTEXT),
        ("cookie-percent-encoded-dots", valid.replace(".", "%2E"), None, CONTEXT),
        ("cookie-comma-separated", valid + ", c2=v", None, CONTEXT),
        ("cookie-other-name-only", "x; other=" + valid, None, CONTEXT),
        ("cookie-name-other-case", "x; SESSION=" + valid, None, CONTEXT),
    ]


# ----------------------------------------------------------------- keyfiles

def keyfile_seeds():
    k1, k2 = KEY_CURRENT, KEY_PREVIOUS
    many = ["fuzz-many-%02d-0123456789abcdefghijklmn" % i for i in range(17)]
    return [
        ("keyfile-one-key", k1 + "\n"),
        ("keyfile-two-keys", k1 + "\n" + k2 + "\n"),
        ("keyfile-crlf-comments", "# current\r\n" + k1 + "\r\n\r\n# previous\r\n" + k2 + "\r\n"),
        ("keyfile-indented-blanks", "  \t" + k1 + " \t\n\t\n   \n"),
        ("keyfile-no-trailing-newline", k1),
        ("keyfile-indented-comment", "   # comment\n" + k1 + "\n"),
        ("keyfile-comment-marker-inside-secret", k1 + " # not a comment\n"),
        ("keyfile-only-comments", "# a\n# b\n"),
        ("keyfile-empty", ""),
        ("keyfile-blank-lines-only", "\n\n \t\n\r\n"),
        ("keyfile-secret-31-bytes", "0123456789abcdef0123456789abcde\n"),
        ("keyfile-secret-32-bytes", "0123456789abcdef0123456789abcdef\n"),
        ("keyfile-secret-1024-bytes", "s" * 1024 + "\n"),
        ("keyfile-secret-1025-bytes", "s" * 1025 + "\n"),
        ("keyfile-duplicate-secret", k1 + "\n" + k1 + "\n"),
        ("keyfile-control-char", "fuzz-key\x01-0123456789abcdefghijklmnop\n"),
        ("keyfile-del-char", "fuzz-key\x7f-0123456789abcdefghijklmnop\n"),
        ("keyfile-leading-cr", "\r" + k1 + "\n"),
        ("keyfile-inner-cr", "fuzz-key\r-0123456789abcdefghijklmnop\n"),
        ("keyfile-nul-byte", "fuzz-key\x00-0123456789abcdefghijklmnop\n"),
        ("keyfile-utf8-secret", "cl\u00e9-secr\u00e8te-0123456789abcdefghijklmnop\n"),
        ("keyfile-bad-line-after-good", k1 + "\nshort\n"),
        ("keyfile-bom-then-comment", "\ufeff# /etc/apache2/session-sign.keys\r\n" + k1 + "\r\n"),
        ("keyfile-bom-then-key", "\ufeff" + k1 + "\n"),
        ("keyfile-utf8-comment", "# cl\u00e9 de production\n" + k1 + "\n"),
        ("keyfile-comment-control-char", "# bad\x1b[31m\n" + k1 + "\n"),
        ("keyfile-pem-block", "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n"
                              "-----END PRIVATE KEY-----\n"),
        ("keyfile-assignment", "SESSION_SIGN_KEY=" + k1 + "\n"),
        ("keyfile-base64-padded", "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=\n"),
        ("keyfile-quoted", '"' + k1 + '"\n'),
        ("keyfile-hash-inside", k1 + "#note\n"),
        ("keyfile-trailing-space", k1 + "   \n"),
        ("keyfile-cr-then-blank", k1 + "\r \n"),
        ("keyfile-sixteen-keys", "\n".join(many[:16]) + "\n"),
        ("keyfile-seventeen-keys", "\n".join(many) + "\n"),
    ]


# ------------------------------------------------------------------ origins

def origin_seeds():
    """ORIGIN "\\n" HOST [ "\\n" PATTERN ]"""
    return [
        ("origin-same-host", "https://app.example.com\napp.example.com\nhttps://app.example.com"),
        ("origin-explicit-default-port",
         "https://app.example.com:443\napp.example.com\nhttps://app.example.com:443"),
        ("origin-other-port", "http://localhost:8080\nlocalhost:8080\nhttp://localhost:8080"),
        ("origin-host-port-of-other-scheme",
         "http://app.example.com\napp.example.com:443\nhttps://app.example.com"),
        ("origin-wildcard-match", "https://a.example.com\na.example.com\nhttps://*.example.com"),
        ("origin-wildcard-deep-match",
         "https://a.b.example.com\nexample.com\nhttps://*.example.com"),
        ("origin-wildcard-evil-suffix",
         "https://evilexample.com\nevilexample.com\nhttps://*.example.com"),
        ("origin-wildcard-appended-domain",
         "https://example.com.evil.net\nexample.com.evil.net\nhttps://*.example.com"),
        ("origin-wildcard-bare-suffix", "https://example.com\nexample.com\nhttps://*.example.com"),
        ("origin-wildcard-other-port",
         "https://a.example.com:8443\na.example.com:8443\nhttps://*.example.com"),
        ("origin-wildcard-single-label", "https://a.com\na.com\nhttps://*.com"),
        ("origin-wildcard-ip", "https://10.0.0.1\n10.0.0.1\nhttps://*.10.0.0.1"),
        ("origin-star-alone", "https://a.com\na.com\n*"),
        ("origin-null", "null\nexample.com\nnull"),
        ("origin-userinfo", "https://user:pw@evil.com\nevil.com\nhttps://evil.com"),
        ("origin-trailing-slash",
         "https://app.example.com/\napp.example.com\nhttps://app.example.com/"),
        ("origin-referer-with-path",
         "https://app.example.com/login?next=/x#frag\napp.example.com\nhttps://app.example.com"),
        ("origin-ipv6-loopback", "http://[::1]:8080\n[::1]:8080\nhttp://[0:0::1]:8080"),
        ("origin-ipv6-embedded-ipv4",
         "http://[::ffff:192.0.2.1]\n[::ffff:c000:201]\nhttp://[::ffff:c000:201]"),
        ("origin-ipv6-zone-id", "http://[fe80::1%25eth0]\n[fe80::1]\nhttp://[fe80::1]"),
        ("origin-ipv4-numeric-last-label", "http://1.2.3\n1.2.3\nhttp://1.2.3.4"),
        ("origin-hex-last-label", "http://a.0x7f\na.0x7f\nhttp://a.0x7f"),
        ("origin-port-zero", "http://a.com:0\na.com:0\nhttp://a.com:0"),
        ("origin-port-too-big", "http://a.com:65536\na.com:65536\nhttp://a.com:65535"),
        ("origin-port-leading-zero", "http://a.com:080\na.com:080\nhttp://a.com:80"),
        ("origin-uppercase", "HTTPS://APP.EXAMPLE.COM\nApp.Example.Com\nhttps://app.example.com"),
        ("origin-comma-merged", "https://a.com, https://b.com\na.com\nhttps://a.com"),
        ("origin-trailing-dot", "https://a.com.\na.com.\nhttps://a.com."),
        ("origin-label-64-bytes", "https://" + "a" * 64 + ".com\n" + "a" * 63 + ".com\nhttps://*."
         + "a" * 63 + ".com"),
        ("origin-nul-byte", "https://a.com\x00.evil.com\na.com\nhttps://a.com"),
    ]


# ------------------------------------------------------------------ upgrade

def upgrade_seeds():
    """CONNECTION "\\n" UPGRADE"""
    return [
        ("upgrade-websocket-standard", "Upgrade\nwebsocket"),
        ("upgrade-keep-alive-list", "keep-alive, Upgrade\nwebsocket"),
        ("upgrade-mixed-case", "UpGrAdE\nWebSocket"),
        ("upgrade-versioned-websocket", "Upgrade\nwebsocket/13"),
        ("upgrade-protocol-list", "Upgrade\nfoo/1, websocket"),
        ("upgrade-h2c", "Upgrade, HTTP2-Settings\nh2c"),
        ("upgrade-without-connection-token", "keep-alive\nwebsocket"),
        ("upgrade-connection-only", "upgrade\n"),
        ("upgrade-no-upgrade-header", "upgrade"),
        ("upgrade-upgraded-not-a-token", "upgraded\nwebsocketx"),
        ("upgrade-quoted-token", "\"upgrade\"\n\"websocket\""),
        ("upgrade-tabs-around", "\tupgrade\t,\t\n\twebsocket\t"),
        ("upgrade-empty-elements", ",,upgrade,,\n, ,websocket,"),
        ("upgrade-prefixed-tokens", "x-upgrade\nx-websocket"),
        ("upgrade-nul-inside", "up\x00grade\nweb\x00socket"),
        ("upgrade-crlf-in-value", "Upgrade\r\nX-Injected: 1\nwebsocket"),
        ("upgrade-non-ascii", "upgrad\u00e9\nwebsock\u00e9t"),
        ("upgrade-header-name-64-bytes", "X-" + "a" * 62 + "\nX-" + "a" * 63),
        ("upgrade-header-value-4096-bytes", "v" * 4096 + "\n" + "v" * 4097),
        ("upgrade-header-name-separators", "X-User:Name\nX User"),
        ("conn-blank-separated-names", "close X-Remote-User X-Remote-Role\nX-Role"),
        ("conn-semicolon-parameter", "X-Remote-Role;q, X-Remote-User;q\nX-Role"),
        ("conn-tab-separated", "close\tX-Remote-User\nwebsocket"),
        ("conn-quoted-names", "\"x\" X-Remote-User \"y;X-Remote-Role\"\nX-Role"),
        ("conn-long-list", "X-Remote-User," + "a," * 4000 + "\nX-Role"),
        ("conn-vertical-tab-formfeed", "a\x0bX-Remote-User\x0cb\nX-Role"),
    ]


# -------------------------------------------------------------------- login

def login_seeds():
    """the query string of a login request (also fed raw and form-decoded)"""
    return [
        ("return-plain-path", "return=%2Fapp%2F"),
        ("return-with-other-params", "user=a&return=/app/?x=1&b=2"),
        ("return-query-in-path", "return=%2Fapp%2F%3Fx%3D1%26y%3D%252F"),
        ("return-double-encoded-slash", "return=%2F%252F%252Fevil.com"),
        ("return-encoded-backslash", "return=/%255Cevil.com"),
        ("return-triple-encoded-slash", "return=/%25252F%25252Fevil.com"),
        ("return-scheme-relative", "return=//evil.com"),
        ("return-slash-backslash", "return=/%5Cevil.com"),
        ("return-absolute-url", "return=https%3A%2F%2Fevil.com"),
        ("return-javascript", "return=javascript:alert(1)"),
        ("return-repeated", "return=/a&return=/b"),
        ("return-prefix-key", "returnx=//evil.com"),
        ("return-crlf", "return=/a%0d%0aSet-Cookie:x=1"),
        ("return-encoded-nul", "return=/a%00"),
        ("return-malformed-escape", "return=/a%zz"),
        ("return-trailing-percent", "return=/a%"),
        ("return-plus-space", "return=/a+b"),
        ("return-utf8", "return=/caf%C3%A9"),
        ("return-empty", "return="),
        ("return-bare-key", "a=1&return&b=2"),
        ("return-max-length", "return=/" + "a" * 2047),
        ("return-too-long", "return=/" + "a" * 2048),
        ("return-raw-path", "/app/?x=1&y=%2F"),
    ]


def express_sign(secret, sid):
    """express-session's cookie, made here with Python's hmac (not our C)"""
    import base64
    import hashlib
    import hmac
    import urllib.parse
    mac = base64.b64encode(hmac.new(secret.encode(), sid.encode(), hashlib.sha256).digest())
    return urllib.parse.quote("s:" + sid + "." + mac.decode().rstrip("="), safe="-_.!~*'()")


def express_seeds():
    """a Cookie header for fuzz_express.c (secrets as in the target)"""
    cur = "fuzz-express-secret-current-0123456789"
    old = "fuzz-express-secret-previous-0123456789"
    sid = "Y29xKtTb3OZHcl58Q1b-KjwpB426aTqy"
    good = express_sign(cur, sid)
    return [
        ("express-valid", "connect.sid=" + good),
        ("express-valid-old-secret", "a=1; connect.sid=" + express_sign(old, sid) + "; b=2"),
        ("express-other-secret", "connect.sid=" + express_sign("another-secret-0123456789abcdefgh", sid)),
        ("express-trailing-byte", "connect.sid=" + good + "A"),
        ("express-tampered", "connect.sid=" + good[:-1] + ("A" if good[-1] != "A" else "B")),
        ("express-bad-escape", "connect.sid=" + good.replace("%3A", "%3")),
        ("express-escaped-nul", "connect.sid=s%3A%00." + good.split(".", 1)[1]),
        ("express-duplicate", "connect.sid=" + good + "; connect.sid=" + express_sign(cur, "other")),
        ("express-same-twice", "connect.sid=" + good + "; connect.sid=" + good),
        ("express-quoted", 'connect.sid="' + good + '"'),
        ("express-unsigned", "connect.sid=" + sid),
        ("express-dotted-id", "connect.sid=" + express_sign(cur, "a.b.c")),
        ("express-long-id", "connect.sid=" + express_sign(cur, "i" * 256)),
        ("express-too-long-id", "connect.sid=" + express_sign(cur, "i" * 257)),
        ("express-padded-mac", "connect.sid=" + good + "%3D"),
        ("express-empty", ""),
    ]


def fsig_sign(key, t, method, path, hdrs):
    """WSAuthForwardSignature's value, made here with Python's hmac"""
    import base64
    import hashlib
    import hmac
    msg = "mod_ws_auth forward-signature v1\n%d\n%s\n%s\n" % (t, method, path)
    for n, v in hdrs:
        msg += "%s:%s\n" % (n, v)
    mac = hmac.new(key.encode(), msg.encode(), hashlib.sha256).digest()
    return "v1;t=%d;h=%s;s=%s" % (t, ",".join(n for n, _ in hdrs),
                                  base64.urlsafe_b64encode(mac).rstrip(b"=").decode())


def fsig_seeds():
    """a forward signature value for fuzz_fsig.c (key and request as there)"""
    key = "fuzz-fsig-key-0123456789abcdef-0123456789"
    u, r = ("x-remote-user", "alice"), ("x-remote-role", "admin")
    both = fsig_sign(key, 1700000000, "GET", "/socket.io/", [u, r])
    return [
        ("fsig-valid-two", both),
        ("fsig-valid-one", fsig_sign(key, 1700000000, "GET", "/socket.io/", [u])),
        ("fsig-valid-none", fsig_sign(key, 1700000000, "GET", "/socket.io/", [])),
        ("fsig-stale", fsig_sign(key, 1699999000, "GET", "/socket.io/", [u])),
        ("fsig-other-path", fsig_sign(key, 1700000000, "GET", "/admin/", [u])),
        ("fsig-missing-header", fsig_sign(key, 1700000000, "GET", "/socket.io/",
                                          [u, ("x-other", "1")])),
        ("fsig-other-key", fsig_sign("another-fsig-key-0123456789abcdef-01", 1700000000, "GET",
                                     "/socket.io/", [u])),
        ("fsig-trailing", both + "A"),
        ("fsig-uppercase-name", both.replace("x-remote-user", "X-Remote-User")),
        ("fsig-leading-zero", both.replace("t=1", "t=01")),
        ("fsig-empty", ""),
    ]


def as_bytes(data):
    return data if isinstance(data, bytes) else data.encode("utf-8")


def write_all(root):
    seeds = {
        "token": token_seeds(),
        "cookie": cookie_seeds(),
        "keyfile": keyfile_seeds(),
        "origin": origin_seeds(),
        "upgrade": upgrade_seeds(),
        "login": login_seeds(),
        "express": express_seeds(),
        "fsig": fsig_seeds(),
    }
    problems = []
    for target in TARGETS:
        d = os.path.join(root, target)
        os.makedirs(d, exist_ok=True)
        names = set()
        for entry in seeds[target]:
            name, data = entry[0], as_bytes(entry[1])
            if name in names:
                problems.append("%s: seed %s named twice" % (target, name))
            names.add(name)
            if len(entry) > 2 and entry[2] is not None:
                got = ref_status(data.decode("ascii"), entry[3])
                if got != entry[2]:
                    problems.append("%s/%s: ssg_ref.py says %s, the name says %s"
                                    % (target, name, got, entry[2]))
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--check", action="store_true",
                    help="compare with the committed corpus instead of writing it")
    args = ap.parse_args()
    corpus = os.path.join(HERE, "corpus")

    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            problems = write_all(tmp)
            for target in TARGETS:
                a, b = os.path.join(tmp, target), os.path.join(corpus, target)
                if not os.path.isdir(b):
                    problems.append("%s: missing" % b)
                    continue
                cmp = filecmp.dircmp(a, b)
                for n in cmp.left_only:
                    problems.append("%s/%s: not committed" % (target, n))
                for n in cmp.right_only:
                    problems.append("%s/%s: not made by make_seeds.py" % (target, n))
                _, mismatch, errors = filecmp.cmpfiles(a, b, cmp.common_files, shallow=False)
                for n in mismatch + errors:
                    problems.append("%s/%s: differs" % (target, n))
    else:
        for target in TARGETS:
            shutil.rmtree(os.path.join(corpus, target), ignore_errors=True)
        problems = write_all(corpus)

    for p in problems:
        print("make_seeds: " + p, file=sys.stderr)
    if not problems:
        counts = ", ".join("%s %d" % (t, len(os.listdir(os.path.join(corpus, t))))
                           for t in TARGETS if os.path.isdir(os.path.join(corpus, t)))
        print("make_seeds: %s corpus ok (%s)" % ("committed" if args.check else "wrote",
                                                 counts))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
