"""mod_ws_auth: the backend receives the identity, never a forged one (issue 3, point 6)."""
import json

import pytest

import support
from wsa_conf import PROXY_MODULES, gate, cookie


@pytest.fixture
def gw(httpd, backend):
    h = httpd(gate(backend, ws_extra="WSAuthForwardHeader X-Role role"), modules=PROXY_MODULES)
    h.ack("WSA0001", "WSA0005")
    return h


def seen(h, c, extra=()):
    _, hd = support.ws_session(h.port, "/ws/", cookie=c, extra_headers=extra,
                               messages=(), want_headers=True)
    return hd


def test_wsa_40_01_backend_sees_session_identity(gw):
    hd = seen(gw, cookie(gw, "user=alice&role=admin"))
    assert hd["x-remote-user"] == "alice"
    assert hd["x-role"] == "admin"


def test_wsa_40_02_spoofed_header_is_replaced(gw):
    hd = seen(gw, cookie(gw, "user=alice&role=user"),
              [("X-Remote-User", "admin"), ("X-Role", "admin"), ("x-remote-user", "root")])
    assert hd["x-remote-user"] == "alice"
    assert hd["x-role"] == "user"


def test_wsa_40_03_spoofed_header_removed_when_session_lacks_key(gw):
    hd = seen(gw, cookie(gw, "user=alice"), [("X-Role", "admin")])
    assert hd["x-remote-user"] == "alice"
    assert "x-role" not in hd


def test_wsa_40_04_connection_header_cannot_strip_forwarded_identity(gw):
    # CVE-2022-31813: a client listing our header in Connection must not make
    # the proxy drop it as hop-by-hop
    st, _, body = support.get(gw.port, "/ws/poll", [
        ("Cookie", cookie(gw, "user=alice&role=user")),
        ("Connection", "close, X-Remote-User, X-Role")])
    assert st == 200
    hd = json.loads(body)["headers"]
    assert hd.get("x-remote-user") == "alice"
    assert hd.get("x-role") == "user"


def test_wsa_40_05_client_session_headers_removed(gw):
    st, _, body = support.get(gw.port, "/ws/poll", [
        ("Cookie", cookie(gw)), ("Session", "user=admin"), ("X-Replace-Session", "user=admin")])
    assert st == 200
    hd = json.loads(body)["headers"]
    assert "session" not in hd and "x-replace-session" not in hd


def test_wsa_40_06_unsafe_session_value_not_forwarded(gw):
    # a signed value with CR LF (url-encoded in the payload) never becomes a header
    hd = seen(gw, cookie(gw, "user=alice&role=a%0d%0aX-Evil:%201"))
    assert hd["x-remote-user"] == "alice"
    assert "x-role" not in hd and "x-evil" not in hd
    assert gw.wait_log("WSA0005")


def test_wsa_40_07_refused_request_forwards_nothing(gw, backend):
    st, _, body = support.get(gw.port, "/ws/poll", [("X-Remote-User", "admin")])
    assert st == 401 and b"admin" not in body


def test_wsa_40_08_polling_request_gets_identity(gw):
    st, _, body = support.get(gw.port, "/ws/?EIO=4&transport=polling",
                              [("Cookie", cookie(gw, "user=bob&role=ops")),
                               ("X-Remote-User", "alice")])
    hd = json.loads(body)["headers"]
    assert hd["x-remote-user"] == "bob" and hd["x-role"] == "ops"


def test_wsa_40_09_forward_header_stripped_even_with_wsauth_off(httpd, backend):
    h = httpd(f"""
<Location /open/>
    WSAuthForwardHeader X-Remote-User user
    ProxyPass http://127.0.0.1:{backend.port}/
</Location>
""", modules=PROXY_MODULES)
    st, _, body = support.get(h.port, "/open/x", [("X-Remote-User", "admin")])
    assert st == 200
    assert "x-remote-user" not in json.loads(body)["headers"]
