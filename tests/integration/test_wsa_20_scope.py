"""mod_ws_auth: WSAuthScope all|upgrade and upgrade detection (issue 3, point 2)."""
import json

import pytest

import support
from wsa_conf import PROXY_MODULES, gate, cookie


def test_wsa_20_01_long_polling_get_guarded_under_all(httpd, backend):
    h = httpd(gate(backend), modules=PROXY_MODULES)
    h.ack("WSA0001")
    # Engine.IO's first transport: a plain GET on the same path
    st, _, _ = support.get(h.port, "/ws/?EIO=4&transport=polling")
    assert st == 401
    st, _, body = support.get(h.port, "/ws/?EIO=4&transport=polling",
                              [("Cookie", cookie(h))])
    assert st == 200
    assert json.loads(body)["headers"]["x-remote-user"] == "alice"


def test_wsa_20_02_post_guarded_under_all(httpd, backend):
    h = httpd(gate(backend), modules=PROXY_MODULES)
    h.ack("WSA0001")
    st, _, _ = support.get(h.port, "/ws/?EIO=4&transport=polling", method="POST",
                           body=b"4hello")
    assert st == 401


def test_wsa_20_03_explicit_all_same_as_default(httpd, backend):
    h = httpd(gate(backend, ws_extra="WSAuthScope all"), modules=PROXY_MODULES)
    h.ack("WSA0001")
    assert support.get(h.port, "/ws/x")[0] == 401


def test_wsa_20_04_plain_get_not_guarded_under_upgrade(httpd, backend):
    h = httpd(gate(backend, ws_extra="WSAuthScope upgrade"), modules=PROXY_MODULES)
    h.ack("WSA0001")
    st, _, body = support.get(h.port, "/ws/?EIO=4&transport=polling")
    assert st == 200
    assert "x-remote-user" not in json.loads(body)["headers"]
    # but the upgrade itself still is
    assert support.ws_handshake(h.port, "/ws/")[0] == 401
    assert support.ws_handshake(h.port, "/ws/", cookie=cookie(h))[0] == 101


def test_wsa_20_05_spoofed_identity_stripped_on_unguarded_request(httpd, backend):
    h = httpd(gate(backend, ws_extra="WSAuthScope upgrade"), modules=PROXY_MODULES)
    st, _, body = support.get(h.port, "/ws/x", [("X-Remote-User", "admin")])
    assert st == 200
    assert "x-remote-user" not in json.loads(body)["headers"]


@pytest.mark.parametrize("connection,upgrade", [
    ("Upgrade", "websocket"),
    ("keep-alive, Upgrade", "websocket"),
    ("keep-alive,upgrade", "WebSocket"),
    ("UPGRADE", "WEBSOCKET"),
    (" Upgrade ", "websocket"),
    ("keep-alive", "websocket"),        # Upgrade header without the token: still guarded
    ("Upgrade", None),                  # token without an Upgrade header: still guarded
])
def test_wsa_20_06_upgrade_detected_under_upgrade_scope(httpd, backend, connection, upgrade):
    h = httpd(gate(backend, ws_extra="WSAuthScope upgrade"), modules=PROXY_MODULES)
    h.ack("WSA0001")
    st, _, _ = support.ws_handshake(h.port, "/ws/", connection=connection, upgrade=upgrade)
    assert st == 401


def test_wsa_20_07_keepalive_upgrade_list_passes_with_session(httpd, backend):
    h = httpd(gate(backend, ws_extra="WSAuthScope upgrade"), modules=PROXY_MODULES)
    st, _, _ = support.ws_handshake(h.port, "/ws/", cookie=cookie(h),
                                    connection="keep-alive, Upgrade")
    assert st == 101


def test_wsa_20_08_wsauth_off_in_sub_location(httpd, backend):
    conf = gate(backend) + f"""
<Location /ws/public/>
    WSAuth Off
</Location>
"""
    h = httpd(conf, modules=PROXY_MODULES)
    h.ack("WSA0001")
    assert support.get(h.port, "/ws/public/x")[0] == 200
    assert support.get(h.port, "/ws/private")[0] == 401
