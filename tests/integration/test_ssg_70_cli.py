"""The build/session-sign tool: genkey, sign, verify (exit codes 0 valid,
1 invalid, 2 usage), --key-file, SESSION_SIGN_KEY, and interoperability in
both directions with the independent implementation (ssg_ref) and with the
module itself."""
import base64
import os
import re
import subprocess

import pytest

import support
from test_ssg_00_common import *  # noqa: F401,F403

ssg_ref = support.ssg_ref
B64URL = re.compile(r"^[A-Za-z0-9_-]+$")


def cli(*args, stdin=None, env=None):
    e = {k: v for k, v in os.environ.items() if k != "SESSION_SIGN_KEY"}
    e.update(env or {})
    return subprocess.run([str(CLI)] + [str(a) for a in args], input=stdin,
                          capture_output=True, text=True, env=e, timeout=20)


def _valid(out):
    """Parse verify's success output -> (key index, kid, iat, payload)."""
    first, _, payload = out.partition("\n")
    m = re.fullmatch(r"valid key=(\d+) kid=([A-Za-z0-9_-]{8}) iat=(\d+)", first)
    assert m, out
    return int(m.group(1)), m.group(2), int(m.group(3)), payload.rstrip("\n")


# ---------------------------------------------------------------- genkey

def test_ssg_70_01_genkey_prints_43_base64url_chars_of_32_random_bytes():
    keys = set()
    for _ in range(5):
        r = cli("genkey")
        assert r.returncode == 0, r.stderr
        k = r.stdout.rstrip("\n")
        assert r.stdout.endswith("\n") and "\n" not in k
        assert len(k) == 43 and B64URL.match(k)
        assert len(base64.urlsafe_b64decode(k + "=")) == 32
        assert ssg_ref.b64url_decode(k) is not None      # canonical
        keys.add(k)
    assert len(keys) == 5                                 # different each run


def test_ssg_70_02_genkey_output_is_accepted_by_the_module(httpd):
    k = cli("genkey").stdout.strip()
    h = serve(httpd, site(keys=(k,)), start=False)
    h.secret(k)
    assert h.configtest().returncode == 0
    boot(h)
    st, hd, _ = send(h, "/app/", support.mint("user=alice", key=k))
    assert st == 200 and header(hd, "X-User") == "alice"


def test_ssg_70_03_genkey_takes_no_arguments():
    assert cli("genkey", "extra").returncode == 2


# ---------------------------------------------------------------- sign / verify

def test_ssg_70_10_sign_then_verify_exits_0():
    r = cli("sign", "--key", KEY1, "--iat", 1700000000, "user=alice&role=x")
    assert r.returncode == 0, r.stderr
    tok = r.stdout.strip()
    assert tok.startswith("v1.%s.1700000000." % ssg_ref.kid(KEY1))
    v = cli("verify", "--key", KEY1, "--now", 1700000010, tok)
    assert v.returncode == 0, v.stdout + v.stderr
    assert _valid(v.stdout) == (0, ssg_ref.kid(KEY1), 1700000000, "user=alice&role=x")


def test_ssg_70_11_sign_without_iat_uses_now():
    t0 = now()
    tok = cli("sign", "--key", KEY1, "user=alice").stdout.strip()
    assert abs(fields(tok)["iat"] - t0) <= 2
    assert cli("verify", "--key", KEY1, tok).returncode == 0


@pytest.mark.parametrize("mutate,reason", [
    (lambda t: with_field(t, 3, b64e(b"user=admin")), "bad signature"),
    (lambda t: with_field(t, 4, flip_b64(t.split(".")[4])), "bad signature"),
    (lambda t: with_field(t, 2, str(int(t.split(".")[2]) + 1)), "bad signature"),
    (lambda t: with_field(t, 1, flip_b64(t.split(".")[1])), "unknown key id"),
    (lambda t: t + "x", "malformed token"),
    (lambda t: t[:-1], "malformed token"),
    (lambda t: t + ".", "malformed token"),
    (lambda t: "v2" + t[2:], "unknown token version"),
    (lambda t: "", None),
], ids=["payload", "mac", "iat", "kid", "trailing", "truncated", "trailing-dot",
        "version", "empty"])
def test_ssg_70_12_tampered_token_exits_1_with_reason(mutate, reason):
    tok = cli("sign", "--key", KEY1, "user=alice").stdout.strip()
    bad = mutate(tok)
    r = cli("verify", "--key", KEY1, bad)
    if reason is None:
        # an empty argument: "invalid: empty token", or a usage error
        assert r.returncode in (1, 2)
        if r.returncode == 1:
            assert r.stdout.strip() == "invalid: empty token"
        return
    assert r.returncode == 1, r.stdout + r.stderr
    assert r.stdout.strip() == "invalid: " + reason
    assert "user=" not in r.stdout                 # nothing of the payload


def test_ssg_70_13_wrong_key_and_other_context_exit_1():
    tok = cli("sign", "--key", KEY1, "--context", "app-a", "user=alice").stdout.strip()
    r = cli("verify", "--key", KEY2, "--context", "app-a", tok)
    assert (r.returncode, r.stdout.strip()) == (1, "invalid: unknown key id")
    r = cli("verify", "--key", KEY1, tok)                  # context "default"
    assert (r.returncode, r.stdout.strip()) == (1, "invalid: bad signature")
    r = cli("verify", "--key", KEY1, "--context", "app-a", tok)
    assert r.returncode == 0


def test_ssg_70_14_default_context_is_the_modules_default():
    tok = cli("sign", "--key", KEY1, "--iat", 1700000000, "user=alice").stdout.strip()
    assert ssg_ref.verify([KEY1], "default", tok, 1700000000)[0] == "ok"


def test_ssg_70_15_future_and_expired_exit_1():
    t = now()
    tok = cli("sign", "--key", KEY1, "--iat", t + 3600, "user=alice").stdout.strip()
    r = cli("verify", "--key", KEY1, tok)
    assert (r.returncode, r.stdout.strip()) == (1, "invalid: issued in the future")
    tok = cli("sign", "--key", KEY1, "--iat", 1000, "user=alice").stdout.strip()
    r = cli("verify", "--key", KEY1, "--now", 5000, "--max-lifetime", 100, tok)
    assert (r.returncode, r.stdout.strip()) == (1, "invalid: lifetime exceeded")
    r = cli("verify", "--key", KEY1, "--now", 1050, "--max-lifetime", 100, tok)
    assert r.returncode == 0
    r = cli("verify", "--key", KEY1, "--now", 1059, tok)   # 59 s skew: ok
    tok2 = cli("sign", "--key", KEY1, "--iat", 1059, "x=1").stdout.strip()
    assert cli("verify", "--key", KEY1, "--now", 1000, tok2).returncode == 0
    tok3 = cli("sign", "--key", KEY1, "--iat", 1061, "x=1").stdout.strip()
    assert cli("verify", "--key", KEY1, "--now", 1000, tok3).returncode == 1


def test_ssg_70_16_older_key_verifies_with_its_index():
    tok = cli("sign", "--key", KEY2, "user=bob").stdout.strip()
    r = cli("verify", "--key", KEY1, "--key", KEY2, tok)
    assert r.returncode == 0
    assert _valid(r.stdout)[0] == 1


def test_ssg_70_17_stdin_dash_for_payload_and_token():
    r = cli("sign", "--key", KEY1, "-", stdin="user=alice\n")
    assert r.returncode == 0
    tok = r.stdout.strip()
    assert ssg_ref.verify([KEY1], "default", tok, now())[1] == b"user=alice"
    r = cli("verify", "--key", KEY1, "-", stdin=tok + "\n")
    assert r.returncode == 0 and _valid(r.stdout)[3] == "user=alice"


def test_ssg_70_18_session_sign_key_environment_variable():
    r = cli("sign", "user=alice", env={"SESSION_SIGN_KEY": KEY1})
    assert r.returncode == 0
    tok = r.stdout.strip()
    assert cli("verify", tok, env={"SESSION_SIGN_KEY": KEY1}).returncode == 0
    assert cli("verify", tok, env={"SESSION_SIGN_KEY": KEY2}).returncode == 1
    # --key wins over the environment
    assert cli("verify", "--key", KEY1, tok, env={"SESSION_SIGN_KEY": KEY2}).returncode == 0


@pytest.mark.parametrize("args", [
    (),
    ("frobnicate",),
    ("sign",),                                   # no key, no payload
    ("sign", "--key", KEY1),                     # no payload
    ("verify", "--key", KEY1),                   # no token
    ("sign", "--key", "short-secret", "x=1"),    # key too short
    ("sign", "--key", KEY1, "--iat", "-5", "x=1"),
    ("sign", "--key", KEY1, "--iat", "12abc", "x=1"),
    ("verify", "--key", KEY1, "--now", "x", "t"),
    ("sign", "--key", KEY1, "--context", "c" * 256, "x=1"),
    ("sign", "--key", KEY1, "a", "b"),           # two payloads
    ("sign", "--key", KEY1, "--now", "5", "x=1"),  # verify-only option
], ids=["none", "unknown", "sign-bare", "sign-no-payload", "verify-no-token",
        "short-key", "negative-iat", "bad-iat", "bad-now", "long-context",
        "two-payloads", "now-on-sign"])
def test_ssg_70_19_usage_errors_exit_2(args):
    r = cli(*args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stdout == ""
    assert "short-secret" not in r.stderr


# ---------------------------------------------------------------- key files

def test_ssg_70_20_key_file_first_signs_all_verify(tmp_path):
    kf = tmp_path / "keys"
    kf.write_text("# current\n%s\n# previous\n%s\n" % (KEY1, KEY2))
    tok = cli("sign", "--key-file", kf, "user=alice").stdout.strip()
    assert fields(tok)["kid"] == ssg_ref.kid(KEY1)
    old = cli("sign", "--key", KEY2, "user=bob").stdout.strip()
    r = cli("verify", "--key-file", kf, old)
    assert r.returncode == 0 and _valid(r.stdout)[:1] == (1,)
    r = cli("verify", "--key-file", kf, tok)
    assert r.returncode == 0 and _valid(r.stdout)[0] == 0


@pytest.mark.parametrize("content,msg", [
    (None, "cannot open key file"),
    ("", "no secret in the file"),
    ("# only a comment\n", "no secret in the file"),
    ("%s\nshort-secret-xyz\n" % KEY1, "line 2: secret shorter than 32 bytes"),
], ids=["missing", "empty", "comments", "short"])
def test_ssg_70_21_bad_key_file_exits_2(tmp_path, content, msg):
    kf = tmp_path / "keys"
    if content is not None:
        kf.write_text(content)
    r = cli("sign", "--key-file", kf, "user=alice")
    assert r.returncode == 2
    assert msg in r.stderr and str(kf) in r.stderr
    assert "short-secret-xyz" not in r.stderr and KEY1 not in r.stderr


def test_ssg_70_22_oversized_key_file_is_refused_like_the_module(tmp_path):
    kf = tmp_path / "keys"
    # a 100-byte second secret starting 50 bytes before byte 65536: read
    # truncated, it would be a different (50-byte, still "valid") secret
    long_secret = "k9-" + "L" * 97
    head = KEY1 + "\n"
    pad = "#" * (65536 - 50 - len(head) - 1) + "\n"
    kf.write_text(head + pad + long_secret + "\n")
    assert kf.stat().st_size > 65536
    r = cli("sign", "--key-file", kf, "user=alice")
    assert r.returncode == 2, "the CLI accepted a key file the module refuses"
    assert r.stdout == ""
    assert "larger than 65536 bytes" in r.stderr and str(kf) in r.stderr
    assert long_secret not in r.stderr
    # exactly 65536 bytes is still fine
    kf.write_text(KEY1 + "\n" + "#" * (65536 - len(KEY1) - 2) + "\n")
    assert kf.stat().st_size == 65536
    assert cli("sign", "--key-file", kf, "user=alice").returncode == 0


# ---------------------------------------------------------------- interop

@pytest.mark.parametrize("payload", ["user=alice", "a" * 5000, "k=%C3%A9&x=1",
                                     "user=al+ice&e=%26"])
@pytest.mark.parametrize("context", ["default", "app-a", "x" * 255])
def test_ssg_70_30_cli_tokens_verify_with_ssg_ref(payload, context):
    tok = cli("sign", "--key", KEY1, "--key", KEY2, "--context", context,
              "--iat", 1700000123, payload).stdout.strip()
    assert tok == ssg_ref.sign([KEY1, KEY2], context, 1700000123, payload)
    st, p, iat, idx = ssg_ref.verify([KEY2, KEY1], context, tok, 1700000200)
    assert (st, p, iat, idx) == ("ok-old-key", payload.encode(), 1700000123, 1)


@pytest.mark.parametrize("payload", ["user=alice", "r=" + "z" * 3000, "u=%2F%0A"])
def test_ssg_70_31_ssg_ref_tokens_verify_with_the_cli(payload):
    tok = ssg_ref.sign([KEY3], "ctx", 1700000000, payload)
    r = cli("verify", "--key", KEY1, "--key", KEY3, "--context", "ctx",
            "--now", 1700000001, tok)
    assert r.returncode == 0, r.stdout
    assert _valid(r.stdout) == (1, ssg_ref.kid(KEY3), 1700000000, payload)


def test_ssg_70_32_ssg_ref_command_line_and_cli_agree_on_refusals():
    good = ssg_ref.sign([KEY1], "default", 1700000000, "user=alice")
    cases = [good[:-1], good + "A", with_field(good, 3, b64e(b"user=bob")),
             "v1.AAAAAAAA.1.AA.%s" % ("A" * 43)]
    for bad in cases:
        c = cli("verify", "--key", KEY1, "--now", 1700000000, bad)
        ref = ssg_ref.verify([KEY1], "default", bad, 1700000000)[0]
        assert c.returncode == 1
        expect = {"malformed": "malformed token", "bad-mac": "bad signature",
                  "unknown-key": "unknown key id"}[ref]
        assert c.stdout.strip() == "invalid: " + expect


def test_ssg_70_40_cli_signed_token_is_accepted_by_the_module(httpd):
    body = site().replace("SessionSignKey %s" % KEY1, "SessionSignKeyFile conf/keys")
    h = serve(httpd, body, start=False)
    kf = h.root / "conf" / "keys"
    kf.write_text("%s\n%s\n" % (KEY1, KEY2))
    boot(h)
    tok = cli("sign", "--key-file", kf, "user=alice&role=ops").stdout.strip()
    st, hd, _ = send(h, "/app/", tok)
    assert st == 200 and header(hd, "X-User") == "alice"
    # and a module-issued (re-signed) token verifies with the CLI
    old = cli("sign", "--key", KEY2, "user=bob").stdout.strip()
    st, hd, _ = send(h, "/app/", old)
    assert st == 200
    resigned = cookie_value(hd)
    h.secret(resigned)
    r = cli("verify", "--key-file", kf, resigned)
    assert r.returncode == 0 and _valid(r.stdout)[0] == 0
    assert _valid(r.stdout)[3] == "user=bob"


def test_ssg_70_45_verify_a_v2_token_names_its_session_id():
    sid = "AAECAwQFBgcICQoLDA0ODw"
    tok = support.mint("user=alice", version=2, sid=sid, iat=1700000000)
    r = cli("verify", "--key", KEY1, "--now", "1700000000", tok)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "valid key=0 kid=%s iat=1700000000 sid=%s\nuser=alice\n" % (
        tok.split(".")[1], sid)
    # the session id is inside the MAC: another id, same MAC, is refused
    forged = ".".join(tok.split(".")[:3] + ["A" * 21 + "w"] + tok.split(".")[4:])
    r = cli("verify", "--key", KEY1, "--now", "1700000000", forged)
    assert r.returncode != 0 and r.stdout == "invalid: bad signature\n"
