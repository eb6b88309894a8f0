"""Configurations shared by the mod_ws_auth tests."""
import support

PROXY_MODULES = ["proxy", "proxy_http", "proxy_wstunnel"]

SESSION = f"""
Session On
SessionCookieName session path=/;HttpOnly;SameSite=Lax
SessionSignKey {support.KEY1}
"""


def proxy_lines(backend, path="/", kind="ws"):
    """kind: ws (ws:// via mod_proxy_http, fallback On: the default),
    http-upgrade (http:// upgrade=websocket), wstunnel (ws:// with
    ProxyWebsocketFallbackToProxyHttp Off: mod_proxy_wstunnel)."""
    if kind == "ws":
        return "ProxyPass ws://127.0.0.1:%d%s" % (backend.port, path)
    if kind == "http-upgrade":
        return "ProxyPass http://127.0.0.1:%d%s upgrade=websocket" % (backend.port, path)
    if kind == "wstunnel":
        return ("ProxyWebsocketFallbackToProxyHttp Off\n"
                "    ProxyPass ws://127.0.0.1:%d%s" % (backend.port, path))
    raise ValueError(kind)


def gate(backend, ws_extra="", server_extra="", kind="ws", admin_require=None):
    """The two configurations of the issue, plus optional extras."""
    admin = ""
    if admin_require is not None:
        admin = f"""
<Location /admin/ws/>
    AuthType session-sign
    {admin_require}
    WSAuth On
    WSAuthForwardHeader X-Remote-User user
    {proxy_lines(backend, "/", kind)}
</Location>
"""
    return f"""
{SESSION}
{server_extra}
<Location /ws/>
    WSAuth On
    WSAuthForwardHeader X-Remote-User user
    {ws_extra}
    {proxy_lines(backend, "/", kind)}
</Location>
{admin}
"""


def cookie(h, payload="user=alice", **kw):
    tok = support.mint(payload, **kw)
    h.secret(tok)
    return "session=" + tok
