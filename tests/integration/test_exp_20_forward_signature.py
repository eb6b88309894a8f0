"""Issue 17.4: WSAuthForwardSignature with mod_session_sign's sessions (the
"any source" half; the Express half is in test_exp_10): what the backend
receives verifies with the Python verifier of docs/forward-signature.md, a
client's own copy never reaches the backend, and a forged identity does not
verify.

Run alone: /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration -k exp_20
"""
import pytest

import fsig_ref
import support
from wsa_conf import PROXY_MODULES, gate, cookie

KEY = "forward-sig-key-" + "g" * 32


@pytest.fixture
def gw(httpd, backend, tmp_path):
    keys = tmp_path / "forward.keys"
    keys.write_text("# current\n%s\n# previous\n%s\n" % (KEY, "old-forward-key-" + "o" * 32))
    h = httpd(gate(backend, ws_extra="WSAuthForwardHeader X-Role role\n"
                   "    WSAuthForwardSignature X-WS-Auth-Signature %s" % keys,
                   server_extra="""
<Location /open/>
    WSAuthForwardSignature X-WS-Auth-Signature %s
    ProxyPass ws://127.0.0.1:%d/
</Location>""" % (keys, backend.port)), modules=PROXY_MODULES)
    h.secret(KEY)
    h.ack("WSA0001")
    return h


def seen(h, c, path="/ws/", extra=()):
    _, hd = support.ws_session(h.port, path, cookie=c, extra_headers=extra, messages=(),
                               want_headers=True)
    return hd


def test_exp_20_01_backend_verifies_the_session_sign_identity(gw):
    hd = seen(gw, cookie(gw, "user=alice&role=admin"))
    sig = hd["x-ws-auth-signature"]
    assert sig.startswith("v1;t=") and ";h=x-remote-user,x-role;" in sig
    got = fsig_ref.verify(sig, "GET", "/ws/", hd, KEY.encode())
    assert got == {"x-remote-user": "alice", "x-role": "admin"}
    # with the previous key, or a changed identity, method or path: no
    assert fsig_ref.verify(sig, "GET", "/ws/", hd, ("old-forward-key-" + "o" * 32).encode()) is None
    assert fsig_ref.verify(sig, "GET", "/ws/", dict(hd, **{"x-remote-user": "bob"}),
                           KEY.encode()) is None
    assert fsig_ref.verify(sig, "POST", "/ws/", hd, KEY.encode()) is None
    assert fsig_ref.verify(sig, "GET", "/admin/ws/", hd, KEY.encode()) is None


def test_exp_20_02_only_headers_set_are_listed(gw):
    hd = seen(gw, cookie(gw, "user=bob"))
    assert ";h=x-remote-user;" in hd["x-ws-auth-signature"] and "x-role" not in hd
    assert fsig_ref.verify(hd["x-ws-auth-signature"], "GET", "/ws/", hd, KEY.encode()) == \
        {"x-remote-user": "bob"}


@pytest.mark.parametrize("name", ["X-WS-Auth-Signature", "x_ws_auth_signature"])
def test_exp_20_03_client_copies_never_reach_the_backend(gw, name):
    forged = "v1;t=1700000000;h=x-remote-user;s=" + "A" * 43
    hd = seen(gw, cookie(gw, "user=alice"), extra=[(name, forged)])
    assert hd["x-ws-auth-signature"] != forged
    assert all(k.replace("_", "-") != "x-ws-auth-signature" or v != forged for k, v in hd.items())
    # and in a scope without WSAuth: stripped, nothing signed
    hd = seen(gw, None, path="/open/", extra=[(name, forged)])
    assert "x-ws-auth-signature" not in hd and "x_ws_auth_signature" not in hd
