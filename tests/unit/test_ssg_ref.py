"""test_ssg_ref.py - proves the Python reference (tests/tools/ssg_ref.py) is
itself strict, with the same tables as the C unit tests (test_ssg_token.c),
so that when the two agree on tokens it means something.

Run with Debian's pytest (PyPI is unreachable here):
    pytest-3 tests/unit/test_ssg_ref.py            # or /usr/bin/python3 -m pytest
    pytest-3 tests/unit/test_ssg_ref.py -k ssg_ref_50
"""

import hashlib
import json
import os
import struct
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.join(HERE, "..", "tools")
sys.path.insert(0, TOOLS)

import make_vectors  # noqa: E402
import ssg_ref  # noqa: E402
from ssg_ref import (BAD_MAC, BAD_VERSION, EMPTY, EXPIRED, FUTURE,  # noqa: E402
                     MALFORMED, NO_KEY, OK, OK_OLD_KEY, TOO_LONG, UNKNOWN_KEY)

KEY_A = b"secret A: 0123456789abcdefghijklmnop"
KEY_B = b"secret B: 0123456789abcdefghijklmnop"
KEY_C = b"secret C: 0123456789abcdefghijklmnop"
NOW = 1700000000
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def status(secrets, context, token, now=NOW, max_lifetime=0, skew=60):
    return ssg_ref.verify(secrets, context, token, now, max_lifetime, skew)[0]


def with_field(token, index, text):
    fields = token.split(".")
    assert len(fields) == 5
    fields[index] = text
    return ".".join(fields)


@pytest.fixture(name="tok")
def sample_token():
    """The sample token of the tamper tables (as in test_ssg_token.c)."""
    t = ssg_ref.sign([KEY_A], "app-a", NOW, b"user=alice")
    assert status([KEY_A], "app-a", t) == OK
    return t


# ---- ssg_ref_10: base64url ------------------------------------------------

def test_ssg_ref_10_01_roundtrip_every_length_0_to_70():
    for pattern in range(3):
        for n in range(71):
            raw = bytes(((i * 37 + n * 11 + 5) & 0xFF) if pattern == 0
                        else (0xFF if pattern == 1 else 0) for i in range(n))
            enc = ssg_ref.b64url_encode(raw)
            assert len(enc) == (n * 4 + 2) // 3
            assert set(enc) <= set(B64)
            assert ssg_ref.b64url_decode(enc) == raw


@pytest.mark.parametrize("raw,enc", [
    (b"", ""), (b"f", "Zg"), (b"fo", "Zm8"), (b"foo", "Zm9v"),
    (b"foob", "Zm9vYg"), (b"fooba", "Zm9vYmE"), (b"foobar", "Zm9vYmFy"),
    (b"\xfb\xff", "-_8"), (b"\xff\xff\xff", "____"), (b"\xfb\xef\xbe", "----"),
])
def test_ssg_ref_10_02_rfc4648_vectors_without_padding(raw, enc):
    assert ssg_ref.b64url_encode(raw) == enc
    assert ssg_ref.b64url_decode(enc) == raw


@pytest.mark.parametrize("text", [
    # padding
    "Zg==", "Zg=", "Zm8=", "=", "==", "====", "Zm9v====", "Zm9vYg==", "Z=g",
    # the standard alphabet's + and /
    "+w", "/w", "Zm+v", "Zm/v", "++++", "////", "Zm9vYmF+", "+_8", "-/8",
    # whitespace and other bytes
    "Zm9 ", " Zm9", "Zm\t9", "Zm9v\r\n", "Zm9vYg\n", "Zm\n9v", "Zm.v", "Zm%v",
    b"Zm\x80v", b"Zm\xffv", b"Z\x7fm9", b"Zm\x00v", b"Zm9v\x00",
    # lengths no byte string encodes to
    "Z", "A", "Zm9vY", "AAAAA", "Zm9vYmFyZ",
    # non-zero trailing bits
    "AB", "AAB", "Zh", "Zm9",
])
def test_ssg_ref_10_03_decode_refuses(text):
    assert ssg_ref.b64url_decode(text) is None


def test_ssg_ref_10_04_only_canonical_last_characters_accepted():
    for v, c in enumerate(B64):
        assert (ssg_ref.b64url_decode("A" + c) is not None) == (v & 0x0F == 0)
        assert (ssg_ref.b64url_decode("AA" + c) is not None) == (v & 0x03 == 0)
        assert len(ssg_ref.b64url_decode("AAA" + c)) == 3
    assert ssg_ref.b64url_decode("") == b""


# ---- ssg_ref_20: secrets and key ids ---------------------------------------

def test_ssg_ref_20_01_secret_lengths_and_bytes():
    assert "shorter" in ssg_ref.secret_error(b"s" * 31)
    assert ssg_ref.secret_error(b"s" * 32) is None
    assert ssg_ref.secret_error(b"L" * 1024) is None
    assert "longer" in ssg_ref.secret_error(b"L" * 1025)
    for ctl in (0x00, 0x01, 0x09, 0x0A, 0x0D, 0x1B, 0x1F, 0x7F):
        for at in (0, 17, 39):
            s = bytearray(b"c" * 40)
            s[at] = ctl
            assert "control" in ssg_ref.secret_error(bytes(s))
    assert ssg_ref.secret_error(b"with a blank inside, 32+ bytes ...") is None
    assert ssg_ref.secret_error(b"\xe9" * 32) is None


def test_ssg_ref_20_02_ring_duplicates_and_size():
    assert "twice" in ssg_ref.ring_error([KEY_A, KEY_B, KEY_A])
    many = [b"key number %02d of sixteen, padded..." % i for i in range(17)]
    assert ssg_ref.ring_error(many[:16]) is None
    assert "16" in ssg_ref.ring_error(many)
    with pytest.raises(ValueError):
        ssg_ref.sign([b"short"], "", NOW, b"p")


def test_ssg_ref_20_03_kid_deterministic_8_chars_known_value():
    k = ssg_ref.kid(KEY_A)
    assert len(k) == 8 and set(k) <= set(B64)
    assert ssg_ref.kid(KEY_A) == k != ssg_ref.kid(KEY_B)
    assert ssg_ref.kid(b"k" * 32) == "AWZDqd_H"     # also in test_ssg_token.c


def _hmac_sha256_by_hand(key, msg):
    """RFC 2104 spelled out with hashlib alone, to check ssg_ref's use of hmac."""
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\x00")
    inner = hashlib.sha256(bytes(k ^ 0x36 for k in key) + msg).digest()
    return hashlib.sha256(bytes(k ^ 0x5C for k in key) + inner).digest()


@pytest.mark.parametrize("secret", [KEY_A, b"L" * 1024])
def test_ssg_ref_20_04_mac_matches_spec_spelled_out(secret):
    """Rebuild one token from the format text, byte by byte."""
    context, iat, payload = b"app-a", 1700000000, b"user=alice&role=admin"
    kid = hashlib.sha256(b"mod_session_sign key-id\x00" + secret).digest()[:6]
    kid_s = ssg_ref.b64url_encode(kid).encode()
    msg = (b"mod_session_sign\x00v1\x00" + kid_s + b"\x00" + b"1700000000\x00"
           + struct.pack(">I", len(context)) + context + payload)
    mac = _hmac_sha256_by_hand(secret, msg)
    want = b".".join([b"v1", kid_s, b"1700000000",
                      ssg_ref.b64url_encode(payload).encode(),
                      ssg_ref.b64url_encode(mac).encode()]).decode()
    assert ssg_ref.sign([secret], context, iat, payload) == want


# ---- ssg_ref_40: sign and verify -------------------------------------------

def test_ssg_ref_40_01_roundtrip_returns_payload_iat_index():
    t = ssg_ref.sign([KEY_A], "app-a", NOW, b"user=alice")
    assert t.startswith("v1.")
    assert ssg_ref.verify([KEY_A], "app-a", t, NOW + 5) == (OK, b"user=alice", NOW, 0)


def test_ssg_ref_40_02_old_key_verifies_with_its_index():
    t = ssg_ref.sign([KEY_A], "", NOW, b"user=bob")
    assert ssg_ref.verify([KEY_B, KEY_C, KEY_A], "", t, NOW) == \
        (OK_OLD_KEY, b"user=bob", NOW, 2)
    assert ssg_ref.verify([KEY_A, KEY_B], "", t, NOW)[0::3] == (OK, 0)
    t2 = ssg_ref.sign([KEY_B, KEY_C, KEY_A], "", NOW, b"user=bob")
    assert status([KEY_A], "", t2) == UNKNOWN_KEY


def test_ssg_ref_40_03_removed_key_unknown_wrong_key_bad_mac():
    t = ssg_ref.sign([KEY_A], "default", NOW, b"x=1")
    assert status([KEY_B, KEY_C], "default", t) == UNKNOWN_KEY
    tb = ssg_ref.sign([KEY_B], "default", NOW, b"user=mallory")
    forged = with_field(tb, 1, ssg_ref.kid(KEY_A))
    assert status([KEY_A], "default", forged) == BAD_MAC
    assert status([KEY_A, KEY_B], "default", forged) == BAD_MAC
    assert status([KEY_A, KEY_B], "default", tb) == OK_OLD_KEY
    assert status([], "default", tb) == NO_KEY


def test_ssg_ref_40_04_context_mismatch_and_length_prefix():
    t = ssg_ref.sign([KEY_A], "app-a", NOW, b"user=alice")
    for other in ("app-b", "", "app-a "):
        assert status([KEY_A], other, t) == BAD_MAC
    t = ssg_ref.sign([KEY_A], "a", NOW, b"bc")
    assert status([KEY_A], "ab", with_field(t, 3, "Yw")) == BAD_MAC
    assert status([KEY_A], "a", t) == OK
    c255, c256 = "c" * 255, "c" * 256
    t = ssg_ref.sign([KEY_A], c255, NOW, b"p")
    assert status([KEY_A], c255, t) == OK
    assert status([KEY_A], c256, t) == BAD_MAC
    with pytest.raises(ValueError):
        ssg_ref.sign([KEY_A], c256, NOW, b"p")


def test_ssg_ref_40_05_future_skew_and_lifetime():
    at_skew = ssg_ref.sign([KEY_A], "", NOW + 60, b"p=1")
    beyond = ssg_ref.sign([KEY_A], "", NOW + 61, b"p=1")
    assert status([KEY_A], "", at_skew) == OK
    assert status([KEY_A], "", beyond) == FUTURE
    assert status([KEY_A], "", at_skew, skew=0) == FUTURE
    assert status([KEY_A], "x", beyond) == BAD_MAC
    t = ssg_ref.sign([KEY_A], "", NOW, b"p=1")
    assert status([KEY_A], "", t, NOW + 3600, 3600) == OK
    assert status([KEY_A], "", t, NOW + 3601, 3600) == EXPIRED
    assert status([KEY_A], "", t, NOW + 999999999, 0) == OK
    assert status([KEY_A], "y", t, NOW + 3601, 3600) == BAD_MAC


def test_ssg_ref_40_06_payload_with_nul_signed_but_refused():
    assert status([KEY_A], "", ssg_ref.sign([KEY_A], "", NOW, b"a\x00b")) == MALFORMED
    assert status([KEY_A], "", ssg_ref.sign([KEY_A], "", NOW, b"\x00")) == MALFORMED


@pytest.mark.parametrize("iat,want", [
    ("01700000000", MALFORMED), ("0", MALFORMED), ("", MALFORMED),
    ("1000000000000", MALFORMED), ("-1700000000", MALFORMED),
    ("+1700000000", MALFORMED), (" 1700000000", MALFORMED),
    ("1700000000\n", MALFORMED), ("1700000001", BAD_MAC),
])
def test_ssg_ref_40_07_iat_digits_and_leading_zero(iat, want):
    t = ssg_ref.sign([KEY_A], "", NOW, b"p=1")
    assert status([KEY_A], "", with_field(t, 2, iat)) == want


def test_ssg_ref_40_08_sign_preconditions():
    big = ssg_ref.sign([KEY_A], "", 999999999999, b"p=1")
    assert status([KEY_A], "", big, 999999999999) == OK
    assert status([KEY_A], "", ssg_ref.sign([KEY_A], "", 1, b"p=1")) == OK
    for bad in (dict(iat=1000000000000), dict(iat=0), dict(iat=-1),
                dict(payload=b""), dict(secrets=[])):
        args = dict(secrets=[KEY_A], context="", iat=NOW, payload=b"p=1")
        args.update(bad)
        with pytest.raises(ValueError):
            ssg_ref.sign(**args)


def test_ssg_ref_40_09_token_of_exactly_max_length_and_one_more():
    iat = 17000000000                 # 57 + 11 + 16316 = 16384
    t = ssg_ref.sign([KEY_A], "", iat, b"x" * 12237)
    assert len(t) == ssg_ref.MAX_TOKEN_LEN
    assert status([KEY_A], "", t, iat) == OK
    with pytest.raises(ValueError):   # the reference never signs what it refuses
        ssg_ref.sign([KEY_A], "", iat, b"x" * 12238)


# ---- ssg_ref_50: tampering (the table of test_ssg_token.c) -------------------

def expect_changed(tok, pos, c):
    """What verify must say about tok with byte pos changed to c (an int)."""
    if tok[pos] == "." or c == ord("."):
        return MALFORMED
    dots = [i for i, ch in enumerate(tok) if ch == "."]
    field = sum(1 for d in dots if pos > d)
    start = 0 if field == 0 else dots[field - 1] + 1
    end = len(tok) if field == 4 else dots[field]
    is_b64 = 0 < c < 128 and chr(c) in B64
    if field == 0:
        return BAD_VERSION
    if field == 1:
        return UNKNOWN_KEY if is_b64 else MALFORMED
    if field == 2:
        if not ord("0") <= c <= ord("9") or (pos == start and c == ord("0")):
            return MALFORMED
        return BAD_MAC
    if not is_b64:
        return MALFORMED
    if pos == end - 1:
        v = B64.index(chr(c))
        if ((end - start) % 4 == 2 and v & 0x0F) or ((end - start) % 4 == 3 and v & 0x03):
            return MALFORMED
    return BAD_MAC


def test_ssg_ref_50_01_every_bit_flip_at_every_position_refused(tok):
    raw = tok.encode()
    seen = {}
    for pos in range(len(raw)):
        for bit in range(8):
            t = bytearray(raw)
            t[pos] ^= 1 << bit
            got = status([KEY_A], "app-a", bytes(t))
            want = expect_changed(tok, pos, t[pos])
            assert got == want, "byte %d bit %d" % (pos, bit)
            seen[got] = seen.get(got, 0) + 1
    assert set(seen) == {BAD_VERSION, UNKNOWN_KEY, BAD_MAC, MALFORMED}


def test_ssg_ref_50_02_every_truncation_refused(tok):
    for n in range(len(tok)):
        assert status([KEY_A], "app-a", tok[:n]) == (EMPTY if n == 0 else MALFORMED)
    assert status([KEY_A], "app-a", None) == EMPTY


@pytest.mark.parametrize("tail", [b".", b"x", b"A", b"=", b"==", b"\n", b"\r\n", b" ",
                                  b"\x00", b"\x00x", b".x", b";", b"AA", b"AAAA"])
def test_ssg_ref_50_03_trailing_bytes_refused(tok, tail):
    assert status([KEY_A], "app-a", tok.encode() + tail) == MALFORMED


@pytest.mark.parametrize("head,want", [
    (b" ", BAD_VERSION), (b"x", BAD_VERSION), (b"\n", BAD_VERSION),
    (b"\x00", BAD_VERSION), (b"\xef\xbb\xbf", BAD_VERSION), (b"=", BAD_VERSION),
    (b".", MALFORMED), (b"v1.", MALFORMED),
])
def test_ssg_ref_50_04_leading_bytes_refused(tok, head, want):
    assert status([KEY_A], "app-a", head + tok.encode()) == want


@pytest.mark.parametrize("field", [1, 3, 4])
def test_ssg_ref_50_05_non_base64url_characters_refused(tok, field):
    raw = tok.encode()
    pos = [i for i, ch in enumerate(raw) if ch == ord(".")][field - 1] + 1
    for c in b"+/=% \t*~!\"\\\x80\xff\x7f\x00":
        t = bytearray(raw)
        t[pos] = c
        assert status([KEY_A], "app-a", bytes(t)) == MALFORMED, hex(c)


def test_ssg_ref_50_06_field_count_lengths_and_version(tok):
    v, kid, iat, payload, mac = tok.split(".")
    malformed = [
        "v1.%s.%s.%s" % (kid, iat, mac),                         # 4 fields
        "v1.%s.%s.%s.%s.%s" % (kid, iat, payload, payload, mac),  # 6 fields
        tok + ".", "v1....",
        "v1.%s.%s.%s.%s" % (kid[:7], iat, payload, mac),
        "v1.%sA.%s.%s.%s" % (kid, iat, payload, mac),
        "v1.%s.%s.%s.%s" % (kid, iat, payload, mac[:42]),
        "v1.%s.%s.%s.%sA" % (kid, iat, payload, mac),
        "v1.%s.%s..%s" % (kid, iat, mac),
        "v1.%s.%s.A.%s" % (kid, iat, mac),
        "v1.%s.%s.%s=.%s" % (kid, iat, payload, mac),
    ]
    for t in malformed:
        assert status([KEY_A], "app-a", t) == MALFORMED, t
    for version in ("v2", "V1", "v10", ""):
        assert status([KEY_A], "app-a", with_field(tok, 0, version)) == BAD_VERSION
    assert status([KEY_A], "app-a", "....") == BAD_VERSION
    assert status([KEY_A], "app-a", with_field(tok, 1, "AAAAAAAA")) == UNKNOWN_KEY
    assert status([KEY_A], "app-a", with_field(tok, 3, "AA")) == BAD_MAC
    assert status([KEY_A], "app-a", with_field(tok, 4, "A" * 43)) == BAD_MAC


def test_ssg_ref_50_07_overlong_refused(tok):
    assert status([KEY_A], "", "A" * 16385) == TOO_LONG
    assert status([KEY_A], "", "A" * 16384) == MALFORMED
    assert status([KEY_A], "app-a", tok + "A" * (16385 - len(tok))) == TOO_LONG
    assert status([KEY_A], "", "") == EMPTY


# ---- ssg_ref_60: vectors -----------------------------------------------------

VECTORS_JSON = os.path.join(HERE, "vectors.json")
C_TEST = os.path.join(HERE, "test_ssg_token.c")


def test_ssg_ref_60_01_vectors_json_is_what_make_vectors_makes():
    out = subprocess.run([sys.executable, os.path.join(TOOLS, "make_vectors.py")],
                         check=True, capture_output=True).stdout
    with open(VECTORS_JSON, "rb") as f:
        assert f.read() == out, "regenerate: make_vectors.py > tests/unit/vectors.json"


def test_ssg_ref_60_02_vectors_cover_the_brief():
    with open(VECTORS_JSON) as f:
        vecs = json.load(f)
    assert {v["context"] for v in vecs} >= {"", "default", "app-a"}
    payloads = {v["payload"] for v in vecs}
    assert {"user=alice", "user=alice&role=admin"} <= payloads
    assert any(len(p) == 1024 for p in payloads)
    assert any("%" in p for p in payloads)
    for v in vecs:
        assert ssg_ref.kid(v["secret"]) == v["kid"]
        assert ssg_ref.verify([v["secret"]], v["context"], v["token"], v["iat"]) == \
            (OK, v["payload"].encode(), v["iat"], 0)


def test_ssg_ref_60_03_c_unit_test_holds_the_same_vectors():
    """The C table must be the generated one: test_ssg_token.c contains the
    output of make_vectors.py --c verbatim."""
    with open(C_TEST) as f:
        c_source = f.read()
    assert make_vectors.c_table(make_vectors.vectors()) in c_source


def test_ssg_ref_60_04_v2_vectors_carry_their_fixed_sids():
    with open(VECTORS_JSON) as f:
        vecs = json.load(f)
    v1 = [v for v in vecs if v["token"].startswith("v1.")]
    v2 = [v for v in vecs if v["token"].startswith("v2.")]
    assert vecs == v1 + v2 and len(v1) == len(make_vectors.vectors())
    assert all("sid" not in v for v in v1)
    assert v2 == make_vectors.vectors_v2()
    assert {v["sid"] for v in v2} == {ssg_ref.sid_encode(s) for s in make_vectors.SIDS}
    assert v2[0]["sid"] == "AAECAwQFBgcICQoLDA0ODw"      # bytes 0x00..0x0f
    for key in ("secret", "context", "payload", "iat"):
        assert {v[key] for v in v2} == {v[key] for v in v1}, key
    for v in v2:
        assert ssg_ref.kid(v["secret"]) == v["kid"]
        fields = v["token"].split(".")
        assert len(fields) == 6 and fields[3] == v["sid"]
        assert ssg_ref.verify_sid([v["secret"]], v["context"], v["token"], v["iat"]) == \
            (OK, v["payload"].encode(), v["iat"], 0, v["sid"])
    # the same inputs as v1's first vector, another MAC: the version and the
    # sid are inside it
    a, b = v1[0], v2[0]
    assert [a[k] for k in ("secret", "context", "iat", "payload")] == \
        [b[k] for k in ("secret", "context", "iat", "payload")]
    assert a["token"].split(".")[4] != b["token"].split(".")[5]


def test_ssg_ref_60_05_c_unit_test_holds_the_v2_vectors():
    """Once test_ssg_token.c has the v2 table (make_vectors.py --c2), it
    must be the generated one verbatim."""
    with open(C_TEST) as f:
        c_source = f.read()
    if "make_vectors.py --c2" not in c_source:
        pytest.skip("test_ssg_token.c has no v2 table yet (make_vectors.py --c2)")
    assert make_vectors.c_table_v2(make_vectors.vectors_v2()) in c_source


# ---- ssg_ref_70: command line -------------------------------------------------

def run_cli(*args):
    cmd = [sys.executable, os.path.join(TOOLS, "ssg_ref.py")] + list(args)
    return subprocess.run(cmd, capture_output=True, text=True)


def test_ssg_ref_70_01_cli_sign_then_verify():
    key, old = KEY_A.decode(), KEY_B.decode()
    p = run_cli("sign", "--key", old, "--context", "app-a", "--iat", str(NOW),
                "user=alice")
    assert p.returncode == 0, p.stderr
    tok = p.stdout.strip()
    assert tok == ssg_ref.sign([KEY_B], "app-a", NOW, b"user=alice")
    p = run_cli("verify", "--key", key, "--key", old, "--context", "app-a",
                "--now", str(NOW + 10), tok)
    assert (p.returncode, p.stdout) == (0, "ok-old-key\nuser=alice\n")
    p = run_cli("verify", "--key", old, "--context", "app-a", "--now",
                str(NOW + 3601), "--max-lifetime", "3600", tok)
    assert (p.returncode, p.stdout) == (1, "expired\n")
    p = run_cli("verify", "--key", old, "--context", "app-b", "--now", str(NOW), tok)
    assert (p.returncode, p.stdout) == (1, "bad-mac\n")
    p = run_cli("sign", "--key", "short", "--iat", "1", "p")
    assert p.returncode == 2 and "shorter" in p.stderr
    p = run_cli("kid", "--key", "k" * 32)
    assert p.stdout == "AWZDqd_H\n"


def test_ssg_ref_70_02_cli_signs_v2_with_a_given_or_new_sid():
    key = KEY_A.decode()
    p = run_cli("sign", "--key", key, "--context", "app-a", "--iat", str(NOW),
                "--sid", SID0, "user=alice")
    assert p.returncode == 0, p.stderr
    tok = p.stdout.strip()
    assert tok == ssg_ref.sign([KEY_A], "app-a", NOW, b"user=alice", sid=SID0)
    p = run_cli("verify", "--key", key, "--context", "app-a", "--now", str(NOW), tok)
    assert (p.returncode, p.stdout) == (0, "ok\nuser=alice\n")
    p = run_cli("sign", "--key", key, "--iat", str(NOW), "--sid", "new", "u=1")
    assert p.returncode == 0 and p.stdout.startswith("v2.")
    assert ssg_ref.sid_valid(p.stdout.split(".")[3])
    p = run_cli("sign", "--key", key, "--iat", str(NOW), "--sid", SID0[:21], "u=1")
    assert p.returncode == 2 and "sid" in p.stderr


# ---- ssg_ref_80: token v2 (a session id inside the MAC) ----------------------

SID0 = "AAECAwQFBgcICQoLDA0ODw"          # bytes 0x00..0x0f
SID1 = "_____________________w"          # sixteen 0xff


@pytest.fixture(name="tok2")
def sample_token_v2():
    t = ssg_ref.sign([KEY_A], "app-a", NOW, b"user=alice", sid=SID0)
    assert t.startswith("v2.") and t.split(".")[3] == SID0
    assert status([KEY_A], "app-a", t) == OK
    return t


def with_field2(token, index, text):
    fields = token.split(".")
    assert len(fields) == 6
    fields[index] = text
    return ".".join(fields)


def test_ssg_ref_80_01_v2_roundtrip_returns_the_sid():
    t = ssg_ref.sign([KEY_A], "app-a", NOW, b"user=alice", sid=SID0)
    assert ssg_ref.verify_sid([KEY_A], "app-a", t, NOW + 5) == \
        (OK, b"user=alice", NOW, 0, SID0)
    # verify keeps its four results for both versions
    assert ssg_ref.verify([KEY_A], "app-a", t, NOW + 5) == (OK, b"user=alice", NOW, 0)
    assert ssg_ref.verify_sid([KEY_B, KEY_A], "app-a", t, NOW) == \
        (OK_OLD_KEY, b"user=alice", NOW, 1, SID0)
    assert ssg_ref.verify_sid([KEY_A], "app-b", t, NOW) == (BAD_MAC,) + (None,) * 4
    assert status([KEY_B], "app-a", t) == UNKNOWN_KEY
    # the same sid as bytes, and sign_v2
    assert ssg_ref.sign([KEY_A], "app-a", NOW, b"user=alice", sid=SID0.encode()) == t
    assert ssg_ref.sign_v2([KEY_A], "app-a", NOW, b"user=alice", SID0) == t
    a = ssg_ref.sign_v2([KEY_A], "", NOW, b"u=1")
    b = ssg_ref.sign_v2([KEY_A], "", NOW, b"u=1")
    sa, sb = a.split(".")[3], b.split(".")[3]
    assert sa != sb and ssg_ref.sid_valid(sa) and ssg_ref.sid_valid(sb)
    assert ssg_ref.verify_sid([KEY_A], "", a, NOW)[4] == sa
    # another sid, the same inputs: another MAC
    assert ssg_ref.sign([KEY_A], "app-a", NOW, b"user=alice", sid=SID1).split(".")[5] \
        != t.split(".")[5]


def test_ssg_ref_80_02_v2_mac_matches_spec_spelled_out():
    context, payload = b"app-a", b"user=alice&role=admin"
    kid_s = ssg_ref.b64url_encode(
        hashlib.sha256(b"mod_session_sign key-id\x00" + KEY_A).digest()[:6]).encode()
    sid = ssg_ref.b64url_encode(bytes(range(16))).encode()
    assert sid == SID0.encode()
    msg = (b"mod_session_sign\x00v2\x00" + kid_s + b"\x001700000000\x00" + sid + b"\x00"
           + struct.pack(">I", len(context)) + context + payload)
    assert ssg_ref.mac_message(kid_s, b"1700000000", context, payload, sid) == msg
    mac = _hmac_sha256_by_hand(KEY_A, msg)
    want = b".".join([b"v2", kid_s, b"1700000000", sid,
                      ssg_ref.b64url_encode(payload).encode(),
                      ssg_ref.b64url_encode(mac).encode()]).decode()
    assert ssg_ref.sign([KEY_A], context, 1700000000, payload, sid=SID0) == want


def test_ssg_ref_80_03_v2_sid_tampered_refused(tok2):
    # every other character at every position of the sid
    pos3 = [i for i, ch in enumerate(tok2) if ch == "."][2] + 1
    for pos in range(pos3, pos3 + ssg_ref.SID_LEN):
        for c in B64:
            if c == tok2[pos]:
                continue
            t = tok2[:pos] + c + tok2[pos + 1:]
            last = pos == pos3 + ssg_ref.SID_LEN - 1
            want = MALFORMED if last and B64.index(c) & 0x0F else BAD_MAC
            assert status([KEY_A], "app-a", t) == want, (pos, c)
    # another valid sid, or the sid of another token: bad MAC
    other = ssg_ref.sign([KEY_A], "app-a", NOW, b"user=alice", sid=SID1)
    assert status([KEY_A], "app-a", with_field2(tok2, 3, SID1)) == BAD_MAC
    assert status([KEY_A], "app-a", with_field2(other, 3, SID0)) == BAD_MAC


@pytest.mark.parametrize("sid", [
    "", "A", "AAAAAAAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAAAAAAAAAA", "A" * 24,
    "AAECAwQFBgcICQoLDA0ODw==", "AAECAwQFBgcICQoLDA0ODw=", "AAECAwQFBgcICQoLDA0OD",
    "AAECAwQFBgcICQoLDA0ODwQ", "AAECAwQFBgcICQoLDA0OD+", "AAECAwQFBgcICQoLDA0OD/",
    "AAECAwQFBgcICQoLDA0OD ", " AAECAwQFBgcICQoLDA0OD", "AAECAwQFBgcICQoLDA0OD\n",
    "AAECAwQF%gcICQoLDA0ODw", "AAECAwQFBgcICQoLDA0OD\x00",
    "AAAAAAAAAAAAAAAAAAAAAB",       # non-canonical: trailing bits set
    "AAECAwQFBgcICQoLDA0ODx",       # 0x0f with a low bit: decodes like ...Dw
    "____________________w_",       # the canonical one's last two swapped
])
def test_ssg_ref_80_04_sid_of_wrong_length_or_not_canonical_refused(tok2, sid):
    assert not ssg_ref.sid_valid(sid)
    assert status([KEY_A], "app-a", with_field2(tok2, 3, sid)) == MALFORMED
    with pytest.raises(ValueError):
        ssg_ref.sign([KEY_A], "app-a", NOW, b"user=alice", sid=sid)


def test_ssg_ref_80_05_only_canonical_sids_valid():
    for v, c in enumerate(B64):
        assert ssg_ref.sid_valid("A" * 21 + c) == (v & 0x0F == 0)
    assert ssg_ref.sid_valid(SID0) and ssg_ref.sid_valid(SID1)
    assert ssg_ref.sid_encode(b"\xff" * 16) == SID1
    assert not ssg_ref.sid_valid(None)
    for n in (0, 15, 17, 32):
        with pytest.raises(ValueError):
            ssg_ref.sid_encode(b"\x00" * n)


def test_ssg_ref_80_06_relabelled_versions_refused(tok, tok2):
    # a v2 token labelled v1 (six fields), or anything else: malformed
    for version in ("v1", "V2", "v3", "v20", "", "2"):
        assert status([KEY_A], "app-a", with_field2(tok2, 0, version)) == MALFORMED
    # a v1 token labelled v2 (five fields): unknown version
    assert status([KEY_A], "app-a", with_field(tok, 0, "v2")) == BAD_VERSION
    # the sid cut out and labelled v1: the MAC is v2's
    v, kid, iat, sid, payload, mac = tok2.split(".")
    assert status([KEY_A], "app-a", ".".join(["v1", kid, iat, payload, mac])) == BAD_MAC
    assert status([KEY_A], "app-a", ".".join(["v2", kid, iat, payload, mac])) == BAD_VERSION
    # a sid put into a v1 token and labelled v2: the MAC is v1's
    v, kid, iat, payload, mac = tok.split(".")
    assert status([KEY_A], "app-a", ".".join(["v2", kid, iat, SID0, payload, mac])) == BAD_MAC
    # v1 still verifies, with no sid
    assert ssg_ref.verify_sid([KEY_A], "app-a", tok, NOW) == (OK, b"user=alice", NOW, 0, None)


def test_ssg_ref_80_07_v2_field_count_and_trailing_bytes(tok2):
    v, kid, iat, sid, payload, mac = tok2.split(".")
    for t in (tok2 + ".", tok2 + ".x", "v2.%s.%s.%s.%s.%s.%s" % (kid, iat, sid, sid, payload, mac),
              "v2.....", "v2.%s.%s.%s..%s" % (kid, iat, sid, mac),
              "v2.%s.%s..%s.%s" % (kid, iat, payload, mac),
              "v2.%s.%s.%s.%s.%s" % (kid[:7], iat, sid, payload, mac),
              "v2.%s.%s.%s.%s.%s" % (kid, "0" + iat, sid, payload, mac),
              "v2.%s.%s.%s.%s.%s" % (kid, iat, sid, payload, mac[:42])):
        assert status([KEY_A], "app-a", t) == MALFORMED, t
    for tail in (b"\n", b"\r\n", b" ", b"\x00", b"=", b"A", b";"):
        assert status([KEY_A], "app-a", tok2.encode() + tail) == MALFORMED
    assert status([KEY_A], "app-a", with_field2(tok2, 1, "AAAAAAAA")) == UNKNOWN_KEY
    assert status([KEY_A], "app-a", with_field2(tok2, 4, "AA")) == BAD_MAC
    assert status([KEY_A], "app-a", with_field2(tok2, 5, "A" * 43)) == BAD_MAC


def expect_changed2(tok, pos, c):
    """What verify must say about the v2 token tok with byte pos changed to
    c: a dot changed leaves five fields labelled v2 (version), a new dot
    makes seven (malformed)."""
    if tok[pos] == ".":
        return BAD_VERSION
    if c == ord("."):
        return MALFORMED
    dots = [i for i, ch in enumerate(tok) if ch == "."]
    field = sum(1 for d in dots if pos > d)
    start = 0 if field == 0 else dots[field - 1] + 1
    end = len(tok) if field == 5 else dots[field]
    is_b64 = 0 < c < 128 and chr(c) in B64
    if field == 0:
        return MALFORMED
    if field == 1:
        return UNKNOWN_KEY if is_b64 else MALFORMED
    if field == 2:
        if not ord("0") <= c <= ord("9") or (pos == start and c == ord("0")):
            return MALFORMED
        return BAD_MAC
    if not is_b64:
        return MALFORMED
    if pos == end - 1:
        v = B64.index(chr(c))
        if ((end - start) % 4 == 2 and v & 0x0F) or ((end - start) % 4 == 3 and v & 0x03):
            return MALFORMED
    return BAD_MAC


def test_ssg_ref_80_08_v2_every_bit_flip_at_every_position_refused(tok2):
    raw = tok2.encode()
    seen = {}
    for pos in range(len(raw)):
        for bit in range(8):
            t = bytearray(raw)
            t[pos] ^= 1 << bit
            got = status([KEY_A], "app-a", bytes(t))
            assert got == expect_changed2(tok2, pos, t[pos]), "byte %d bit %d" % (pos, bit)
            seen[got] = seen.get(got, 0) + 1
    assert set(seen) == {BAD_VERSION, UNKNOWN_KEY, BAD_MAC, MALFORMED}


def test_ssg_ref_80_09_v2_every_truncation_refused(tok2):
    for n in range(len(tok2)):
        want = EMPTY if n == 0 else (BAD_VERSION if tok2[:n].count(".") == 4 else MALFORMED)
        assert status([KEY_A], "app-a", tok2[:n]) == want, n


def test_ssg_ref_80_10_v2_time_checks_and_max_length():
    t = ssg_ref.sign([KEY_A], "", NOW, b"p=1", sid=SID0)
    assert status([KEY_A], "", t, NOW + 3600, 3600) == OK
    assert status([KEY_A], "", t, NOW + 3601, 3600) == EXPIRED
    assert status([KEY_A], "", t, NOW - 61) == FUTURE
    assert status([KEY_A], "", ssg_ref.sign([KEY_A], "", NOW, b"a\x00b", sid=SID0)) == MALFORMED
    # 3 + 9 + 11 + 23 + 16295 + 43 = 16384 with a 10-digit iat
    t = ssg_ref.sign([KEY_A], "", NOW, b"x" * 12220, sid=SID0)
    assert len(t) == ssg_ref.MAX_TOKEN_LEN
    assert status([KEY_A], "", t) == OK
    with pytest.raises(ValueError):
        ssg_ref.sign([KEY_A], "", NOW, b"x" * 12221, sid=SID0)
    assert status([KEY_A], "", t + "A") == TOO_LONG


def test_ssg_ref_95_the_documented_vectors_are_the_generated_ones():
    """Every token docs/token-format.md shows is a vector of vectors.json and
    verifies under the reference at its issued-at; both versions are shown."""
    import re
    doc = open(os.path.join(HERE, "..", "..", "docs", "token-format.md")).read()
    shown = re.findall(r"`(v[12]\.[A-Za-z0-9_.-]+)`", doc)
    assert any(t.startswith("v1.") for t in shown) and any(t.startswith("v2.") for t in shown)
    by_token = {v["token"]: v for v in make_vectors.vectors() + make_vectors.vectors_v2()}
    for tok in shown:
        v = by_token[tok]
        status, payload, iat, _, sid = ssg_ref.verify_sid(
            [v["secret"].encode()], v["context"], tok, v["iat"])
        assert status == ssg_ref.OK and payload == v["payload"].encode()
        assert sid == v.get("sid")
