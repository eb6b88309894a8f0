"""mod_ws_auth: both proxy paths, HTTP/2 WebSockets and three MPMs (issue 3, point 1)."""
import pytest

import support
from h2ws import h2ws
from wsa_conf import PROXY_MODULES, gate, cookie

KINDS = ["ws", "http-upgrade", "wstunnel"]


@pytest.mark.parametrize("kind", KINDS)
def test_wsa_60_01_proxy_path_valid_session_echoes(httpd, backend, kind):
    h = httpd(gate(backend, kind=kind), modules=PROXY_MODULES)
    out, hd = support.ws_session(h.port, "/ws/", cookie=cookie(h), want_headers=True)
    assert out == ["hello"] and hd["x-remote-user"] == "alice"


@pytest.mark.parametrize("kind", KINDS)
def test_wsa_60_02_proxy_path_refusals(httpd, backend, kind):
    h = httpd(gate(backend, kind=kind), modules=PROXY_MODULES)
    h.ack("WSA0001", "SSG0001")
    assert support.ws_handshake(h.port, "/ws/")[0] == 401
    assert support.ws_handshake(h.port, "/ws/", cookie="session=user=alice")[0] == 401
    assert support.ws_handshake(h.port, "/ws/", cookie=cookie(h),
                                origin="http://evil.example")[0] == 403


def test_wsa_60_03_wstunnel_carries_the_tunnel(httpd, backend):
    # fallback Off: mod_proxy_wstunnel's handler runs (it logs at trace)
    h = httpd(gate(backend, kind="wstunnel"), modules=PROXY_MODULES,
              loglevel="warn session_sign:info ws_auth:info proxy_wstunnel:trace1")
    out, _ = support.ws_session(h.port, "/ws/", cookie=cookie(h))
    assert out == ["hello"]
    assert h.wait_log(r"\[proxy_wstunnel:")


H2_CONF = "Protocols h2c http/1.1\nH2WebSockets on\nH2MinWorkers 2\nH2MaxWorkers 8\n"


@pytest.fixture
def h2(httpd, backend):
    h = httpd(gate(backend, server_extra=H2_CONF), modules=PROXY_MODULES + ["http2"])
    h.ack("WSA0001", "SSG0001")
    return h


def test_wsa_60_04_h2_websocket_valid_session(h2):
    origin = "http://127.0.0.1:%d" % h2.port
    st, echoed = h2ws(h2.port, "/ws/", [("cookie", cookie(h2)), ("origin", origin)])
    assert st == 200 and echoed == "hello over h2"


def test_wsa_60_05_h2_websocket_no_cookie_401(h2):
    st, _ = h2ws(h2.port, "/ws/", [("origin", "http://127.0.0.1:%d" % h2.port)])
    assert st == 401


def test_wsa_60_06_h2_websocket_cross_origin_403(h2):
    st, _ = h2ws(h2.port, "/ws/", [("cookie", cookie(h2)), ("origin", "http://evil.example")])
    assert st == 403


def test_wsa_60_07_h2_websocket_tampered_401(h2):
    tok = support.mint("user=alice")
    h2.secret(tok)
    st, _ = h2ws(h2.port, "/ws/", [("cookie", "session=" + tok[:-2] + "xx"),
                                   ("origin", "http://127.0.0.1:%d" % h2.port)])
    assert st == 401


@pytest.mark.parametrize("mpm", ["event", "worker", "prefork"])
def test_wsa_60_08_three_mpms(httpd, backend, mpm):
    h = httpd(gate(backend, admin_require="Require session-attr role admin"),
              modules=PROXY_MODULES, mpm=mpm)
    h.ack("WSA0001", "WSA0002", "AH01630")
    out, hd = support.ws_session(h.port, "/ws/", cookie=cookie(h), want_headers=True)
    assert out == ["hello"] and hd["x-remote-user"] == "alice"
    assert support.ws_handshake(h.port, "/ws/")[0] == 401
    assert support.ws_handshake(h.port, "/ws/", cookie=cookie(h),
                                origin="http://evil.example")[0] == 403
    assert support.ws_handshake(h.port, "/admin/ws/", cookie=cookie(h, "user=bob"))[0] == 403
    assert support.ws_handshake(h.port, "/admin/ws/",
                                cookie=cookie(h, "user=alice&role=admin"))[0] == 101
