"""mod_ws_auth: configurations that cannot be enforced are refused (issue 3, point 7)."""
import pytest

import support
from wsa_conf import PROXY_MODULES, gate, cookie


def refused(httpd, body, pattern, **kw):
    h = httpd(body, start=False, modules=PROXY_MODULES, **kw)
    t = h.configtest()
    out = t.stderr + t.stdout
    assert t.returncode != 0, out
    assert pattern in out, out
    return out


def test_wsa_70_01_wsauth_without_mod_session_sign(httpd):
    refused(httpd, "<Location /ws/>\n WSAuth On\n</Location>\n",
            "WSA0050", sign=False)


def test_wsa_70_02_wsauth_without_mod_session(httpd):
    refused(httpd, "<Location /ws/>\n WSAuth On\n</Location>\n",
            "WSA0050", sign=False, without=("session", "session_cookie"))


def test_wsa_70_03_wsauth_off_needs_nothing(httpd):
    h = httpd("<Location /ws/>\n WSAuth Off\n</Location>\n", start=False, sign=False)
    assert h.configtest().returncode == 0


@pytest.mark.parametrize("pattern", [
    "*", "https://*", "https://*.com", "https://a*.example.com", "https://*example.com",
    "https://a.*.example.com", "https://*.*.example.com", "example.com", "https://example.com/",
    "https://user@example.com", "ftp://example.com", "https://example.com:0",
    "https://example.com:99999", "null", "https://*.127.0.0.1",
])
def test_wsa_70_04_invalid_origin_pattern(httpd, pattern):
    out = refused(httpd, f"<Location /ws/>\n WSAuthOrigin {pattern}\n</Location>\n",
                  "WSAuthOrigin")
    assert "https://*.example.com" in out       # the message shows the fix


@pytest.mark.parametrize("scope", ["everything", "websocket", "", "upgrades"])
def test_wsa_70_05_unknown_scope(httpd, scope):
    arg = scope if scope else '""'
    refused(httpd, f"<Location /ws/>\n WSAuthScope {arg}\n</Location>\n", "WSAuthScope")


@pytest.mark.parametrize("name", [
    "X User", "X:User", "X(User)", "", "Host", "Connection", "Cookie", "Upgrade",
    "Sec-WebSocket-Key", "Content-Length", "Transfer-Encoding", "x" * 100,
])
def test_wsa_70_06_bad_forward_header_name(httpd, name):
    arg = '"%s"' % name
    refused(httpd, f"<Location /ws/>\n WSAuthForwardHeader {arg} user\n</Location>\n",
            "WSAuthForwardHeader")


def test_wsa_70_07_unknown_origin_missing_value(httpd):
    refused(httpd, "<Location /ws/>\n WSAuthOriginMissing maybe\n</Location>\n",
            "WSAuthOriginMissing")


def test_wsa_70_08_no_key_in_scope_is_500_with_the_fix(httpd, backend):
    h = httpd(f"""
Session On
SessionCookieName session path=/
<Location /ws/>
    WSAuth On
    ProxyPass ws://127.0.0.1:{backend.port}/
</Location>
""", modules=PROXY_MODULES)
    h.ack("WSA0010")
    # even a session mod_session_cookie would accept is never an allow
    st, _, body = support.ws_handshake(h.port, "/ws/", cookie="session=user=alice")
    assert st == 500
    assert body == b"WebSocket gate misconfigured\n"
    assert h.wait_log(r"\[ws_auth:error\].*WSA0010: .*add SessionSignKey")
    lines = [l for l in h.error_log().splitlines() if "WSA0010" in l]
    assert len(lines) == 1


def test_wsa_70_09_session_off_in_scope_is_500(httpd, backend):
    h = httpd(f"""
SessionSignKey {support.KEY1}
<Location /ws/>
    WSAuth On
    ProxyPass ws://127.0.0.1:{backend.port}/
</Location>
""", modules=PROXY_MODULES)
    h.ack("WSA0010")
    st, _, _ = support.ws_handshake(h.port, "/ws/", cookie=cookie(h))
    assert st == 500
    assert h.wait_log("Session is not On")


def test_wsa_70_10_no_session_store_is_500(httpd, backend):
    h = httpd(f"""
Session On
SessionSignKey {support.KEY1}
<Location /ws/>
    WSAuth On
    ProxyPass ws://127.0.0.1:{backend.port}/
</Location>
""", modules=PROXY_MODULES)
    h.ack("WSA0010", "AH01815")
    st, _, _ = support.ws_handshake(h.port, "/ws/", cookie=cookie(h))
    assert st == 500


def test_wsa_70_11_satisfy_any_is_no_bypass(httpd, backend):
    # legacy access control that would grant the request on its own
    h = httpd(gate(backend, ws_extra="Satisfy Any\n    Order allow,deny\n    Allow from all\n"
                                     "    AuthType Basic\n    AuthName x\n    Require valid-user"),
              modules=PROXY_MODULES + ["access_compat"])
    h.ack("WSA0001")
    assert support.ws_handshake(h.port, "/ws/")[0] == 401
    assert support.ws_handshake(h.port, "/ws/", cookie=cookie(h))[0] == 101


def test_wsa_70_12_require_all_granted_is_no_bypass(httpd, backend):
    h = httpd(gate(backend, ws_extra="Require all granted"), modules=PROXY_MODULES)
    h.ack("WSA0001")
    assert support.ws_handshake(h.port, "/ws/")[0] == 401


def test_wsa_70_13_rewrite_proxy_in_scope_is_guarded(httpd, backend):
    h = httpd(f"""
{SESSION_LINES}
RewriteEngine On
RewriteRule ^/rw/(.*)$ ws://127.0.0.1:{backend.port}/$1 [P]
<Location /rw/>
    WSAuth On
</Location>
""", modules=PROXY_MODULES + ["rewrite"])
    h.ack("WSA0001")
    assert support.ws_handshake(h.port, "/rw/x")[0] == 401
    assert support.ws_handshake(h.port, "/rw/x", cookie=cookie(h))[0] == 101


SESSION_LINES = f"""
Session On
SessionCookieName session path=/
SessionSignKey {support.KEY1}
"""
