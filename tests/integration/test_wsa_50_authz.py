"""mod_ws_auth with AuthType session-sign and Require lines (issue 3, point 4)."""
import pytest

import support
from wsa_conf import PROXY_MODULES, gate, cookie

ACKS = ("WSA0001", "WSA0002", "AH01629", "AH01630", "AH01631")


@pytest.mark.parametrize("require,payload,expect", [
    ("Require session-attr role admin", "user=alice&role=admin", 101),
    ("Require session-attr role admin", "user=bob&role=user", 403),
    ("Require session-attr role admin", "user=bob", 403),
    ("Require session-attr role admin ops", "user=carol&role=ops", 101),
    ("Require session-attr role", "user=carol&role=x", 101),
    ("Require user alice", "user=alice", 101),
    ("Require user alice", "user=bob", 403),
    ("Require valid-user", "user=bob", 101),
    ("Require expr %{REMOTE_USER} =~ /^a/", "user=alice", 101),
    ("Require expr %{REMOTE_USER} =~ /^a/", "user=bob", 403),
    ("<RequireAll>\n Require valid-user\n Require session-attr role admin\n</RequireAll>",
     "user=alice&role=admin", 101),
    ("<RequireAll>\n Require valid-user\n Require session-attr role admin\n</RequireAll>",
     "user=alice&role=user", 403),
    ("<RequireAny>\n Require user bob\n Require session-attr role admin\n</RequireAny>",
     "user=bob", 101),
    ("<RequireAny>\n Require user bob\n Require session-attr role admin\n</RequireAny>",
     "user=eve&role=user", 403),
])
def test_wsa_50_01_admin_location_require_lines(httpd, backend, require, payload, expect):
    h = httpd(gate(backend, admin_require=require), modules=PROXY_MODULES)
    h.ack(*ACKS)
    st, _, body = support.ws_handshake(h.port, "/admin/ws/", cookie=cookie(h, payload))
    assert st == expect
    if expect == 403:
        assert body == b"WebSocket forbidden\n"


def test_wsa_50_02_admin_location_no_session_is_401(httpd, backend):
    h = httpd(gate(backend, admin_require="Require session-attr role admin"),
              modules=PROXY_MODULES)
    h.ack(*ACKS)
    st, hd, _ = support.ws_handshake(h.port, "/admin/ws/")
    assert st == 401 and support.header(hd, "www-authenticate") is None


def test_wsa_50_03_authz_refusal_logged_with_reason(httpd, backend):
    h = httpd(gate(backend, admin_require="Require user alice"), modules=PROXY_MODULES)
    h.ack(*ACKS)
    assert support.ws_handshake(h.port, "/admin/ws/", cookie=cookie(h, "user=bob"))[0] == 403
    assert h.wait_log(r"WSA0002: GET /admin/ws/ refused: authz-denied")
    import time
    time.sleep(0.2)
    assert 'bob 403 "GET /admin/ws/ HTTP/1.1" ws_auth=authz-denied' in h.access_log()


def test_wsa_50_04_admin_echo_through_tunnel(httpd, backend):
    h = httpd(gate(backend, admin_require="Require session-attr role admin"),
              modules=PROXY_MODULES)
    out, hd = support.ws_session(h.port, "/admin/ws/", cookie=cookie(h, "user=alice&role=admin"),
                                 want_headers=True)
    assert out == ["hello"] and hd["x-remote-user"] == "alice"


def test_wsa_50_05_plain_location_any_identity_passes(httpd, backend):
    h = httpd(gate(backend, admin_require="Require session-attr role admin"),
              modules=PROXY_MODULES)
    assert support.ws_handshake(h.port, "/ws/", cookie=cookie(h, "user=nobody"))[0] == 101
