"""bench/mod_min_gate.c: M, the benchmark's reference "minimal HMAC-cookie
gate" (docs/performance.md). Its figures only mean something if it is a real
gate: a private httpd runs it in front of the real echo backend, and these
tests hold it to the least any correct cookie gate must do (verify the
signature and the token's time, forward the identity, never a forged or
unsafe one)."""
import json
import subprocess
import sys

import pytest

import support
from wsa_conf import PROXY_MODULES

sys.path.insert(0, str(support.ROOT / "bench"))
from gatebench.figures import min_gate_rel  # noqa: E402
from gatebench.report import min_gate_section  # noqa: E402

SO = support.BUILD / "bench" / "mod_min_gate.so"


@pytest.fixture(scope="module")
def built():
    r = subprocess.run(["make", "-s", "-C", str(support.ROOT), "build/bench/mod_min_gate.so"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    return SO


@pytest.fixture
def m(httpd, backend, built):
    return httpd(f"""
LoadModule min_gate_module {built}
MinGateKey {support.KEY1}
<Location /ws/>
    MinGate On
    ProxyPass ws://127.0.0.1:{backend.port}/
</Location>
""", modules=PROXY_MODULES, sign=False, wsauth=False)


def cookie(h, payload="user=alice", **kw):
    tok = support.mint(payload, **kw)
    h.secret(tok)
    return "session=" + tok


def poll(h, headers=()):
    st, _, body = support.get(h.port, "/ws/poll", headers)
    return st, (json.loads(body)["headers"] if st == 200 else None)


def test_no_cookie_no_request(m):
    assert poll(m)[0] == 401
    assert support.ws_handshake(m.port, "/ws/")[0] == 401


def test_valid_session_forwards_the_user(m):
    st, seen = poll(m, [("Cookie", cookie(m))])
    assert st == 200 and seen["x-remote-user"] == "alice"
    assert support.ws_handshake(m.port, "/ws/", cookie=cookie(m))[0] == 101
    _, hd = support.ws_session(m.port, "/ws/", cookie=cookie(m, "user=bob"), messages=(),
                               want_headers=True)
    assert hd["x-remote-user"] == "bob"


def test_forged_identity_header_never_reaches_the_backend(m):
    assert poll(m, [("X-Remote-User", "admin")])[0] == 401
    st, seen = poll(m, [("Cookie", cookie(m)), ("X-Remote-User", "admin")])
    assert st == 200 and seen["x-remote-user"] == "alice"


@pytest.mark.parametrize("why,make", [
    ("other key", lambda h: cookie(h, key=support.KEY2)),
    ("other context", lambda h: cookie(h, context="admin")),
    ("tampered", lambda h: cookie(h)[:-2] + ("AA" if not cookie(h).endswith("AA") else "BB")),
    ("trailing byte", lambda h: cookie(h) + "x"),
    ("from the future", lambda h: cookie(h, iat=int(support.time.time()) + 3600)),
    ("expired payload", lambda h: cookie(h, "expiry=1000000&user=alice")),
    ("no user", lambda h: cookie(h, "role=admin")),
    ("only a longer key", lambda h: cookie(h, "username=admin")),
    ("empty user", lambda h: cookie(h, "user=&role=admin")),
    ("CR LF in the user", lambda h: cookie(h, "user=a%0d%0aX-Admin:%201")),
    ("NUL in the user", lambda h: cookie(h, "user=admin%00alice")),
    ("two session cookies", lambda h: cookie(h) + "; " + cookie(h, "user=bob")),
])
def test_refusals(m, why, make):
    assert poll(m, [("Cookie", make(m))])[0] == 401, why


def test_user_value_decoded_as_mod_session_does(m):
    st, seen = poll(m, [("Cookie", cookie(m, "role=x&user=a+b%2Fc"))])
    assert st == 200 and seen["x-remote-user"] == "a b/c"


# ---------------------------------------------------------------- the report

def run(p, s, m=None):
    r = {"P": {"us_per_op": p}, "S": {"us_per_op": s}}
    if m is not None:
        r["M"] = {"us_per_op": m}
    return r


def test_report_sets_s_beside_the_minimal_gate():
    # P, S and M at once: S/P 1.06, 1.05, 1.07; M/P 1.04, 1.03, 1.05
    res = {"concurrent": {"get": [run(100, 106, 104), run(120, 126, 123.6), run(100, 107, 105)],
                          "hs": [run(300, 306, 303), run(300, 309, 302)]},
           "instructions": {"P": 55000, "M": 65000, "S": 69000}}
    S = {("get", "P"): {"apache_us_per_op": {"median": 80.0}},
         ("hs", "P"): {"apache_us_per_op": {"median": 250.0}}}
    assert min_gate_rel(res)[0] == pytest.approx(1.04)
    assert min_gate_rel(res, "hs")[0] == pytest.approx(1.0083333)
    text = "\n".join(min_gate_section(res, S))
    # at P's 80 us: M +3.2 us (+4.0%), S +4.8 us (+6.0%), S - M +1.6 us
    assert "Per guarded GET, at P's 80.0 us" in text
    assert "M costs +3.2 us (+4.0% of P, capacity 0.962 x P)" in text
    assert "S +4.8 us (+6.0%, 0.943 x P). S - M +1.6 us" in text
    # handshakes at P's 250 us: M +2.1 us (+0.8%), S +6.25 us (+2.5%)
    assert "Per handshake, at P's 250.0 us (sequential median): M costs +2.1 us (+0.8% of P" in text
    assert "S +6.2 us (+2.5%, 0.976 x P). S - M +4.2 us" in text
    assert "M - P +10000, S - P +14000, S - M +4000" in text
    assert "| guarded GET | 2 | 120.0 | 126.0 | 123.6 | 1.050 | 1.030 | 1.019 |" in text
    assert "| handshake | 1 | 300.0 | 306.0 | 303.0 | 1.020 | 1.010 | 1.010 |" in text
    # runs without M (--no-min-gate): no section
    assert min_gate_rel({"concurrent": {"get": [run(100, 106)]}}) == (None, [])
    assert min_gate_section({"concurrent": {"get": [run(100, 106)]}}, S) == []
