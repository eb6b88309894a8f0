"""mod_ws_auth: Origin checks against Cross-Site WebSocket Hijacking (issue 3, point 5)."""
import pytest

import support
from wsa_conf import PROXY_MODULES, gate, cookie


@pytest.fixture
def same(httpd, backend):
    h = httpd(gate(backend), modules=PROXY_MODULES)
    h.ack("WSA0001")
    return h


def test_wsa_30_01_cross_origin_is_403(same):
    st, _, _ = support.ws_handshake(same.port, "/ws/", cookie=cookie(same),
                                    origin="http://evil.example")
    assert st == 403


def test_wsa_30_02_cross_origin_without_cookie_still_403(same):
    assert support.ws_handshake(same.port, "/ws/", origin="http://evil.example")[0] == 403


@pytest.mark.parametrize("host,origin,expect", [
    ("app.example", "http://app.example", 101),
    ("app.example", "http://app.example:80", 101),          # default port normalised
    ("app.example:80", "http://app.example", 101),
    ("APP.example", "http://app.EXAMPLE", 101),             # case-insensitive host
    ("app.example:8080", "http://app.example:8080", 101),
    ("app.example:8080", "http://app.example", 403),        # other port
    ("app.example", "http://app.example:8080", 403),
    ("app.example", "https://app.example", 403),            # other scheme (request is http)
    ("app.example", "http://evil.app.example", 403),
    ("app.example", "http://app.example.evil.net", 403),
    ("127.0.0.1", "http://127.0.0.1", 101),
    ("[::1]:8080", "http://[::1]:8080", 101),
])
def test_wsa_30_03_default_same_origin_rule(same, host, origin, expect):
    st, _, _ = support.ws_handshake(same.port, "/ws/", cookie=cookie(same),
                                    origin=origin, host=host)
    assert st == expect


@pytest.mark.parametrize("origin", [
    "null",
    "http://127.0.0.1/",
    "http://user@127.0.0.1",
    "ftp://127.0.0.1",
    "ws://127.0.0.1",
    "http://127.0.0.1, http://127.0.0.1",
    "http://127.0.0.1 http://evil",
    "127.0.0.1",
    "http://127.0.0.1:99999",
    "http://127.0.0.1:",
    "http://exa%6dple.com",
])
def test_wsa_30_04_malformed_origin_is_403(same, origin):
    st, _, _ = support.ws_handshake(same.port, "/ws/", cookie=cookie(same), origin=origin,
                                    host="127.0.0.1")
    assert st == 403


def test_wsa_30_05_two_origin_headers_is_403(same):
    st, _, _ = support.ws_handshake(
        same.port, "/ws/", cookie=cookie(same), origin=None, host="127.0.0.1",
        headers=[("Origin", "http://127.0.0.1"), ("Origin", "http://127.0.0.1")])
    assert st == 403


def test_wsa_30_06_missing_origin_allowed_by_default(same):
    assert support.ws_handshake(same.port, "/ws/", cookie=cookie(same), origin=None)[0] == 101


def test_wsa_30_07_missing_origin_denied_when_configured(httpd, backend):
    h = httpd(gate(backend, ws_extra="WSAuthOriginMissing deny"), modules=PROXY_MODULES)
    h.ack("WSA0001")
    st, _, _ = support.ws_handshake(h.port, "/ws/", cookie=cookie(h), origin=None)
    assert st == 403
    assert h.wait_log("origin-missing")
    assert support.ws_handshake(h.port, "/ws/", cookie=cookie(h))[0] == 101


@pytest.mark.parametrize("origin,expect", [
    ("https://a.example.com", 101),
    ("https://a.b.example.com", 101),
    ("https://A.Example.COM", 101),
    ("https://a.example.com:443", 101),
    ("https://app.example.org", 101),          # exact entry
    ("https://example.com", 403),              # the wildcard never matches the apex
    ("https://example.com.evil.net", 403),
    ("https://a.example.com.evil.net", 403),
    ("https://evilexample.com", 403),
    ("http://a.example.com", 403),             # another scheme
    ("https://a.example.com:8443", 403),       # another port
    ("https://x.app.example.org", 403),        # exact entries are exact
    ("http://127.0.0.1", 403),                 # the allow list replaces the default
])
def test_wsa_30_08_allow_list_and_wildcards(httpd, backend, origin, expect):
    h = httpd(gate(backend, ws_extra="WSAuthOrigin https://*.example.com https://app.example.org"),
              modules=PROXY_MODULES)
    h.ack("WSA0001")
    st, _, _ = support.ws_handshake(h.port, "/ws/", cookie=cookie(h), origin=origin,
                                    host="127.0.0.1")
    assert st == expect


def test_wsa_30_09_origin_applies_to_polling_requests(same):
    st, _, _ = support.get(same.port, "/ws/?transport=polling",
                           [("Cookie", cookie(same)), ("Origin", "http://evil.example")])
    assert st == 403


def test_wsa_30_10_apex_listed_explicitly(httpd, backend):
    h = httpd(gate(backend, ws_extra="WSAuthOrigin https://example.com https://*.example.com"),
              modules=PROXY_MODULES)
    assert support.ws_handshake(h.port, "/ws/", cookie=cookie(h),
                                origin="https://example.com")[0] == 101


@pytest.mark.parametrize("site,expect", [
    ("cross-site", 403), ("same-site", 403), ("same-origin", 200), ("none", 200), (None, 200)])
def test_wsa_30_11_no_origin_but_sec_fetch_site_says_elsewhere(same, site, expect):
    # a no-cors GET from another site carries the cookie but no Origin
    hdrs = [("Cookie", cookie(same))]
    if site:
        hdrs.append(("Sec-Fetch-Site", site))
    st, _, _ = support.get(same.port, "/ws/?EIO=4&transport=polling", hdrs)
    assert st == expect
    if expect == 403:
        assert same.wait_log("refused: cross-site")


def test_wsa_30_12_same_site_allowed_with_an_allow_list(httpd, backend):
    h = httpd(gate(backend, ws_extra="WSAuthOrigin https://*.example.com"), modules=PROXY_MODULES)
    h.ack("WSA0001")
    st, _, _ = support.get(h.port, "/ws/x", [("Cookie", cookie(h)), ("Sec-Fetch-Site", "same-site")])
    assert st == 200
    st, _, _ = support.get(h.port, "/ws/x", [("Cookie", cookie(h)), ("Sec-Fetch-Site", "cross-site")])
    assert st == 403


def test_wsa_30_13_null_origin_has_its_own_reason(same):
    st, _, _ = support.ws_handshake(same.port, "/ws/", cookie=cookie(same), origin="null")
    assert st == 403
    assert same.wait_log(r"refused: origin-null: null \(403\)")
