"""mod_ws_auth: the gate's outcomes (issue 3, points 1 and 3)."""
import json
import re
import time

import pytest

import support
from wsa_conf import PROXY_MODULES, gate, cookie


@pytest.fixture
def gw(httpd, backend):
    h = httpd(gate(backend), modules=PROXY_MODULES)
    h.ack("WSA0001", "SSG0001")
    return h


def test_wsa_10_01_no_cookie_is_401(gw):
    st, hd, body = support.ws_handshake(gw.port, "/ws/")
    assert st == 401
    assert support.header(hd, "www-authenticate") is None
    assert support.header(hd, "location") is None
    assert b"session" not in body.lower()


def test_wsa_10_02_valid_session_gets_101_and_echo(gw):
    st, hd, _ = support.ws_handshake(gw.port, "/ws/", cookie=cookie(gw))
    assert st == 101
    assert support.header(hd, "upgrade").lower() == "websocket"
    out, _ = support.ws_session(gw.port, "/ws/", cookie=cookie(gw),
                                messages=("one", "two" * 1000))
    assert out == ["one", "two" * 1000]


@pytest.mark.parametrize("mutate", [
    pytest.param(lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"), id="mac-char"),
    pytest.param(lambda t: t.replace(".", ".x", 1), id="kid"),
    pytest.param(lambda t: t[:-5], id="truncated"),
    pytest.param(lambda t: t + ".", id="trailing-dot"),
    pytest.param(lambda t: t + "AAAA", id="trailing-bytes"),
    pytest.param(lambda t: "v2" + t[2:], id="version"),
])
def test_wsa_10_03_tampered_token_is_401(gw, mutate):
    tok = support.mint("user=alice")
    bad = mutate(tok)
    gw.secret(tok, bad)
    st, _, body = support.ws_handshake(gw.port, "/ws/", cookie="session=" + bad)
    assert st == 401
    assert gw.wait_log(r"WSA0001: GET /ws/ refused: invalid-session")


def test_wsa_10_04_wrong_key_is_401(gw):
    st, _, _ = support.ws_handshake(gw.port, "/ws/",
                                    cookie=cookie(gw, key=support.KEY2))
    assert st == 401


def test_wsa_10_05_expired_session_is_401(gw):
    past = int((time.time() - 60) * 1_000_000)
    st, _, _ = support.ws_handshake(
        gw.port, "/ws/", cookie=cookie(gw, "user=alice&expiry=%d" % past))
    assert st == 401
    assert gw.wait_log(r"refused: expired-session")


def test_wsa_10_06_unsigned_mod_session_cookie_session_is_401(gw):
    # what plain mod_session_cookie writes, and what any client can forge
    st, _, _ = support.ws_handshake(gw.port, "/ws/", cookie="session=user=alice")
    assert st == 401
    assert gw.wait_log(r"refused: invalid-session")


def test_wsa_10_07_session_without_identity_is_401(gw):
    st, _, _ = support.ws_handshake(gw.port, "/ws/", cookie=cookie(gw, "role=admin"))
    assert st == 401
    assert gw.wait_log(r"refused: no-identity")


def test_wsa_10_08_access_log_has_reason_and_user(gw):
    support.ws_handshake(gw.port, "/ws/")
    support.ws_handshake(gw.port, "/ws/", cookie=cookie(gw))
    support.ws_handshake(gw.port, "/ws/", cookie=cookie(gw), origin="http://evil.example")
    time.sleep(0.3)
    log = gw.access_log()
    assert re.search(r'^127\.0\.0\.1 - 401 "GET /ws/ HTTP/1.1" ws_auth=no-session$', log, re.M)
    assert re.search(r'^127\.0\.0\.1 alice 101 "GET /ws/ HTTP/1.1" ws_auth=ok$', log, re.M)
    assert re.search(r'^127\.0\.0\.1 alice 403 "GET /ws/ HTTP/1.1" ws_auth=origin-mismatch$', log, re.M)


def test_wsa_10_09_one_log_line_per_refusal(gw):
    support.ws_handshake(gw.port, "/ws/", cookie="session=garbage")
    time.sleep(0.3)
    lines = [l for l in gw.error_log().splitlines() if "ws_auth:" in l]
    assert len(lines) == 1
    assert "invalid-session" in lines[0]


def test_wsa_10_10_error_document_never_redirects(httpd, backend):
    h = httpd(gate(backend, server_extra="ErrorDocument 401 http://login.example/\n"
                                         "ErrorDocument 403 /forbidden.html\n"),
              modules=PROXY_MODULES)
    h.ack("WSA0001")
    st, hd, body = support.ws_handshake(h.port, "/ws/")
    assert st == 401 and support.header(hd, "location") is None
    assert body == b"WebSocket authentication required\n"
    st, hd, body = support.ws_handshake(h.port, "/ws/", cookie=cookie(h),
                                        origin="http://evil.example")
    assert st == 403 and support.header(hd, "location") is None
    assert body == b"WebSocket forbidden\n"


def test_wsa_10_11_refusal_body_holds_no_session_data(gw):
    c = cookie(gw, "user=alice&secret=s3cr3tvalue")
    st, _, body = support.ws_handshake(gw.port, "/ws/", cookie=c, origin="http://evil.example")
    assert st == 403
    assert b"alice" not in body and b"s3cr3t" not in body


def test_wsa_10_12_old_key_still_passes(httpd, backend):
    conf = gate(backend).replace(f"SessionSignKey {support.KEY1}",
                                 f"SessionSignKey {support.KEY1} {support.KEY2}")
    h = httpd(conf, modules=PROXY_MODULES)
    st, _, _ = support.ws_handshake(h.port, "/ws/", cookie=cookie(h, key=support.KEY2))
    assert st == 101


def test_wsa_10_13_backend_sees_no_refused_request(gw, backend, tmp_path):
    # a refused handshake never reaches the backend: its request count is unchanged
    st, _, body = support.get(gw.port, "/ws/probe", [("Cookie", cookie(gw))])
    assert st == 200
    assert json.loads(body)["path"] == "/probe"
    st, _, body = support.get(gw.port, "/ws/probe")
    assert st == 401 and b"headers" not in body


def test_wsa_10_14_refused_upgrade_is_not_cached_and_closes_the_connection(gw):
    st, hd, _ = support.ws_handshake(gw.port, "/ws/")
    assert st == 401
    assert support.header(hd, "cache-control") == "no-store"
    assert (support.header(hd, "connection") or "").lower() == "close"


def test_wsa_10_15_refused_polling_request_keeps_the_connection(gw):
    # only a refused upgrade ends the connection; a refused GET may keep it
    st, hd, _ = support.raw_request(
        gw.port, "GET /ws/poll HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert st == 401
    assert support.header(hd, "cache-control") == "no-store"
    assert (support.header(hd, "connection") or "").lower() != "close"
