#!/usr/bin/python3
"""ssg_ref.py - an independent reference implementation of token formats v1
and v2.

Written from the format description in mod_session_sign/ssg_token.h (and
docs/token-format.md), with the Python 3 standard library only, so that the C
core can be cross-checked against code that shares none of its bugs.

    token   = "v1" "." kid "." iat "." payload "." mac
    kid     = b64url(SHA-256("mod_session_sign key-id" 0x00 secret)[:6])   8 chars
    iat     = decimal seconds, 1..12 digits, no leading zero
    payload = b64url(payload bytes), at least one byte
    mac     = b64url(HMAC-SHA256(secret, msg))                             43 chars
    msg     = "mod_session_sign" 0x00 "v1" 0x00 kid 0x00 iat 0x00
              u32be(len(context)) context payload-bytes

    token   = "v2" "." kid "." iat "." sid "." payload "." mac     (v2)
    sid     = b64url(16 random bytes)                              22 chars
    msg     = "mod_session_sign" 0x00 "v2" 0x00 kid 0x00 iat 0x00 sid 0x00
              u32be(len(context)) context payload-bytes

b64url is RFC 4648 section 5 without padding, decoded strictly: only the 64
alphabet characters, no '=', no whitespace, no length of 4n+1, and the unused
low bits of the last character must be zero (only the canonical encoding of a
byte string is accepted). A sid is exactly 22 characters of 16 bytes.

Five fields must be v1 (else "version"), six fields must be v2 (else
"malformed"), any other count is "malformed": the order of the C core.

Library use:
    tok = sign([secret], "app-a", 1700000000, b"user=alice")          # v1
    status, payload, iat, key_index = verify([secret], "app-a", tok, now)
    tok = sign([secret], "app-a", 1700000000, b"user=alice", sid=new_sid())
    status, payload, iat, key_index, sid = verify_sid([secret], "app-a", tok, now)
verify accepts both versions and keeps its four results; verify_sid adds
the session id (None for a v1 token).

Command line (run with /usr/bin/python3):
    ssg_ref.py sign   --key K [--key K2 ...] --context C --iat N
                      [--sid SID|new] PAYLOAD
    ssg_ref.py verify --key K [--key K2 ...] --context C --now N
                      [--max-lifetime S] [--skew S] TOKEN
    ssg_ref.py kid    --key K
verify prints the status, then the payload when valid; it exits 0 for
"ok" and "ok-old-key", 1 otherwise.
"""

import argparse
import base64
import hashlib
import hmac
import os
import struct
import sys

VERSION = b"v1"
VERSION2 = b"v2"
SID_RAW_LEN = 16
SID_LEN = 22
LABEL = b"mod_session_sign"
KID_LABEL = b"mod_session_sign key-id"
MAC_LEN = 32
MAC_B64_LEN = 43
KID_RAW_LEN = 6
KID_LEN = 8
MIN_SECRET_LEN = 32
MAX_SECRET_LEN = 1024
MAX_IAT_DIGITS = 12
MAX_TOKEN_LEN = 16384
MAX_CONTEXT_LEN = 255
CLOCK_SKEW = 60
MAX_KEYS = 16

# The statuses of ssg_status_e, in its order, spelled for humans and tests.
OK = "ok"
OK_OLD_KEY = "ok-old-key"
EMPTY = "empty"
TOO_LONG = "too-long"
MALFORMED = "malformed"
BAD_VERSION = "version"
UNKNOWN_KEY = "unknown-key"
BAD_MAC = "bad-mac"
FUTURE = "future"
EXPIRED = "expired"
NO_KEY = "no-key"
STATUSES = (OK, OK_OLD_KEY, EMPTY, TOO_LONG, MALFORMED, BAD_VERSION,
            UNKNOWN_KEY, BAD_MAC, FUTURE, EXPIRED, NO_KEY)

B64_ALPHABET = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                         b"abcdefghijklmnopqrstuvwxyz0123456789-_")
DIGITS = frozenset(b"0123456789")


def _bytes(value):
    """Accept str (encoded as UTF-8) or bytes-like; return bytes."""
    if isinstance(value, str):
        return value.encode("utf-8")
    return bytes(value)


def b64url_encode(data):
    """RFC 4648 section 5 base64url of data, without padding, as str."""
    return base64.urlsafe_b64encode(_bytes(data)).rstrip(b"=").decode("ascii")


def b64url_decode(text):
    """Strict base64url decode; return bytes, or None if text is not the
    canonical unpadded encoding of some byte string."""
    text = _bytes(text)
    if len(text) % 4 == 1:
        return None
    if any(c not in B64_ALPHABET for c in text):
        return None
    raw = base64.urlsafe_b64decode(text + b"=" * (-len(text) % 4))
    # Canonical form only: re-encoding must give back the very same text,
    # which refuses non-zero trailing bits ("AB" decodes like "AA").
    if b64url_encode(raw).encode("ascii") != text:
        return None
    return raw


def kid(secret):
    """The 8-character key id of a secret."""
    digest = hashlib.sha256(KID_LABEL + b"\x00" + _bytes(secret)).digest()
    return b64url_encode(digest[:KID_RAW_LEN])


def secret_error(secret):
    """Why a secret cannot join a ring (str), or None if it can."""
    secret = _bytes(secret)
    if len(secret) < MIN_SECRET_LEN:
        return "secret shorter than 32 bytes"
    if len(secret) > MAX_SECRET_LEN:
        return "secret longer than 1024 bytes"
    if any(c < 0x20 or c == 0x7F for c in secret):
        return "secret contains a control character"
    return None


def ring_error(secrets):
    """Why a list of secrets is not a valid key ring (str), or None."""
    secrets = [_bytes(s) for s in secrets]
    if len(secrets) > MAX_KEYS:
        return "too many secrets (at most 16)"
    for i, s in enumerate(secrets):
        err = secret_error(s)
        if err:
            return "secret %d: %s" % (i + 1, err)
    if len(set(secrets)) != len(secrets):
        return "the same secret is listed twice"
    if len({kid(s) for s in secrets}) != len(secrets):
        return "two secrets share a key id"
    return None


def sid_valid(sid):
    """True if sid (str or bytes) is a canonical session id: 22 base64url
    characters that decode strictly to 16 bytes."""
    if sid is None:
        return False
    sid = _bytes(sid)
    if len(sid) != SID_LEN:
        return False
    raw = b64url_decode(sid)
    return raw is not None and len(raw) == SID_RAW_LEN


def sid_encode(raw):
    """The session id (str) of 16 raw bytes."""
    raw = _bytes(raw)
    if len(raw) != SID_RAW_LEN:
        raise ValueError("a session id is 16 bytes")
    return b64url_encode(raw)


def new_sid():
    """A fresh random session id (str), as the module makes one."""
    return sid_encode(os.urandom(SID_RAW_LEN))


def mac_message(kid_s, iat_s, context, payload, sid=None):
    """The bytes the MAC covers (v1 when sid is None, else v2)."""
    kid_s, iat_s = _bytes(kid_s), _bytes(iat_s)
    context, payload = _bytes(context), _bytes(payload)
    if sid is None:
        head = (LABEL, b"\x00", VERSION, b"\x00", kid_s, b"\x00",
                iat_s, b"\x00")
    else:
        head = (LABEL, b"\x00", VERSION2, b"\x00", kid_s, b"\x00",
                iat_s, b"\x00", _bytes(sid), b"\x00")
    return b"".join(head + (struct.pack(">I", len(context)), context, payload))


def _mac(secret, kid_s, iat_s, context, payload, sid=None):
    msg = mac_message(kid_s, iat_s, context, payload, sid)
    return hmac.new(secret, msg, hashlib.sha256).digest()


def sign(secrets, context, iat, payload, sid=None):
    """Sign payload with secrets[0]; return the token (str): v1, or v2
    carrying the session id sid (22 characters, see sid_valid) when given.
    Raise ValueError where the C core's ssg_sign_sid returns NULL, and also
    for a token that would be longer than MAX_TOKEN_LEN (which verify
    refuses)."""
    secrets = [_bytes(s) for s in secrets]
    if not secrets:
        raise ValueError("no signing key")
    err = ring_error(secrets)
    if err:
        raise ValueError(err)
    context = _bytes(context)
    payload = _bytes(payload)
    if len(context) > MAX_CONTEXT_LEN:
        raise ValueError("context longer than 255 bytes")
    if len(payload) < 1:
        raise ValueError("empty payload")
    if not isinstance(iat, int) or iat < 1:
        raise ValueError("iat must be a positive integer")
    iat_s = str(iat).encode("ascii")
    if len(iat_s) > MAX_IAT_DIGITS:
        raise ValueError("iat has more than 12 digits")
    if sid is not None:
        if not sid_valid(sid):
            raise ValueError("sid is not 22 base64url characters of 16 bytes")
        sid = _bytes(sid)
    kid_s = kid(secrets[0]).encode("ascii")
    mac = _mac(secrets[0], kid_s, iat_s, context, payload, sid)
    head = (VERSION, kid_s, iat_s) if sid is None else (VERSION2, kid_s, iat_s, sid)
    token = b".".join(head + (b64url_encode(payload).encode("ascii"),
                              b64url_encode(mac).encode("ascii")))
    if len(token) > MAX_TOKEN_LEN:
        raise ValueError("token would be longer than 16384 bytes")
    return token.decode("ascii")


def sign_v2(secrets, context, iat, payload, sid=None):
    """sign() as v2, with a new random session id unless sid is given."""
    return sign(secrets, context, iat, payload, new_sid() if sid is None else sid)


def verify(secrets, context, token, now, max_lifetime=0, skew=CLOCK_SKEW):
    """Verify a v1 or v2 token strictly.

    Return (status, payload, iat, key_index); payload, iat and key_index are
    None unless status is "ok" or "ok-old-key". See verify_sid."""
    return verify_sid(secrets, context, token, now, max_lifetime, skew)[:4]


def verify_sid(secrets, context, token, now, max_lifetime=0, skew=CLOCK_SKEW):
    """Verify a v1 or v2 token strictly.

    Return (status, payload, iat, key_index, sid); payload, iat, key_index
    and sid are None unless status is "ok" or "ok-old-key", and sid (str) is
    None for a v1 token. The checks come in the order of the C core, so the
    same token gets the same status from both: no-key, empty, too-long,
    field count and version (six fields not v2: malformed; five fields not
    v1: version; other counts: malformed), sid / kid / iat / mac / payload
    syntax (malformed), unknown-key, bad-mac, NUL in payload (malformed),
    future, expired."""
    refused = (None, None, None, None)
    secrets = [_bytes(s) for s in secrets]
    if not secrets:
        return (NO_KEY,) + refused
    token = _bytes(token) if token is not None else b""
    if len(token) == 0:
        return (EMPTY,) + refused
    if len(token) > MAX_TOKEN_LEN:
        return (TOO_LONG,) + refused

    fields = token.split(b".")
    sid = None
    if len(fields) == 6:
        if fields[0] != VERSION2:
            return (MALFORMED,) + refused    # six fields are v2 only
        if not sid_valid(fields[3]):
            return (MALFORMED,) + refused
        sid = fields.pop(3)
    elif len(fields) != 5:
        return (MALFORMED,) + refused
    elif fields[0] != VERSION:
        return (BAD_VERSION,) + refused
    _, kid_s, iat_s, payload_s, mac_s = fields

    if len(kid_s) != KID_LEN or b64url_decode(kid_s) is None:
        return (MALFORMED,) + refused
    if not (1 <= len(iat_s) <= MAX_IAT_DIGITS
            and all(c in DIGITS for c in iat_s) and iat_s[:1] != b"0"):
        return (MALFORMED,) + refused
    mac_given = b64url_decode(mac_s) if len(mac_s) == MAC_B64_LEN else None
    if mac_given is None or len(mac_given) != MAC_LEN:
        return (MALFORMED,) + refused
    payload = b64url_decode(payload_s)
    if not payload:
        return (MALFORMED,) + refused

    index = None
    for i, s in enumerate(secrets):
        if hmac.compare_digest(kid(s).encode("ascii"), kid_s):
            index = i
            break
    if index is None:
        return (UNKNOWN_KEY,) + refused

    context = _bytes(context)
    if len(context) > MAX_CONTEXT_LEN:
        return (BAD_MAC,) + refused
    mac = _mac(secrets[index], kid_s, iat_s, context, payload, sid)
    if not hmac.compare_digest(mac, mac_given):
        return (BAD_MAC,) + refused

    # authentic from here on
    if b"\x00" in payload:
        return (MALFORMED,) + refused
    iat = int(iat_s)
    if iat > now + skew:
        return (FUTURE,) + refused
    if max_lifetime > 0 and now - iat > max_lifetime:
        return (EXPIRED,) + refused
    return (OK if index == 0 else OK_OLD_KEY, payload, iat, index,
            None if sid is None else sid.decode("ascii"))


def _main(argv=None):
    parser = argparse.ArgumentParser(
        description="Reference implementation of mod_session_sign tokens v1 and v2")
    sub = parser.add_subparsers(dest="cmd", required=True)

    p_sign = sub.add_parser("sign", help="print a token for PAYLOAD")
    p_sign.add_argument("--key", action="append", required=True,
                        help="secret; the first one signs")
    p_sign.add_argument("--context", default="")
    p_sign.add_argument("--iat", type=int, required=True)
    p_sign.add_argument("--sid", help="sign v2 with this session id "
                        "(22 base64url characters), or 'new' for a random one")
    p_sign.add_argument("payload")

    p_verify = sub.add_parser("verify", help="check TOKEN")
    p_verify.add_argument("--key", action="append", required=True,
                          help="secret; the first one is current")
    p_verify.add_argument("--context", default="")
    p_verify.add_argument("--now", type=int, required=True)
    p_verify.add_argument("--max-lifetime", type=int, default=0)
    p_verify.add_argument("--skew", type=int, default=CLOCK_SKEW)
    p_verify.add_argument("token")

    p_kid = sub.add_parser("kid", help="print the key id of a secret")
    p_kid.add_argument("--key", required=True)

    args = parser.parse_args(argv)
    if args.cmd == "sign":
        try:
            sid = new_sid() if args.sid == "new" else args.sid
            print(sign(args.key, args.context, args.iat, args.payload, sid))
        except ValueError as e:
            print("ssg_ref: %s" % e, file=sys.stderr)
            return 2
        return 0
    if args.cmd == "kid":
        print(kid(args.key))
        return 0
    status, payload, _, _ = verify(args.key, args.context, args.token,
                                   args.now, args.max_lifetime, args.skew)
    print(status)
    if payload is not None:
        sys.stdout.flush()
        sys.stdout.buffer.write(payload + b"\n")
    return 0 if status in (OK, OK_OLD_KEY) else 1


if __name__ == "__main__":
    sys.exit(_main())
