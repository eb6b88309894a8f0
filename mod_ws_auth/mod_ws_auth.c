/*
 * mod_ws_auth.c - the module record, its startup checks and the hook
 * registrations: cookie-session authorization of WebSocket upgrades.
 *
 * The gate is wsa_gate.c, the identity headers wsa_forward.c and their
 * signature wsa_sign.c, the Express source wsa_express.c and its store
 * wsa_store.c, directives wsa_config.c; upgrade detection and the Origin rules are the pure core
 * in core/. The session verdict comes from mod_session_sign's optional
 * function session_sign_status(): only a session whose signature verified
 * counts.
 */
#include "wsa_private.h"

APR_OPTIONAL_FN_TYPE(session_sign_status) *wsa_sign_status = NULL;
APR_OPTIONAL_FN_TYPE(session_sign_get) *wsa_sign_get = NULL;
APR_OPTIONAL_FN_TYPE(ap_session_load) *wsa_session_load = NULL;
int wsa_enabled_somewhere = 0;
int wsa_express_somewhere = 0;
int wsa_express_keys_somewhere = 0;

static int wsa_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    (void)pconf;
    (void)plog;
    (void)ptemp;
    wsa_enabled_somewhere = 0;
    wsa_express_somewhere = 0;
    wsa_express_keys_somewhere = 0;
    wsa_stores = NULL; /* the configuration is read again: its pool is new */
    return OK;
}

/* check_config runs for `apache2 -t` too: a WSAuth that cannot be
 * enforced never gets as far as a running server. */
static int wsa_check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    (void)pconf;
    (void)plog;
    (void)ptemp;
    wsa_sign_status = APR_RETRIEVE_OPTIONAL_FN(session_sign_status);
    wsa_sign_get = APR_RETRIEVE_OPTIONAL_FN(session_sign_get);
    wsa_session_load = APR_RETRIEVE_OPTIONAL_FN(ap_session_load);
    wsa_sign_tunnel_info = APR_RETRIEVE_OPTIONAL_FN(session_sign_tunnel_info);
    wsa_sign_tunnel_check = APR_RETRIEVE_OPTIONAL_FN(session_sign_tunnel_check);
    /* a configuration that guards only with WSAuthSource express needs no
     * mod_session_sign; a scope that still asks for it then gets 500 */
    if (wsa_enabled_somewhere && !wsa_express_somewhere &&
        (!wsa_sign_status || !wsa_sign_get || !wsa_session_load)) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
                     "WSA0050: WSAuth On needs mod_session and mod_session_sign: "
                     "add LoadModule session_module, session_cookie_module and "
                     "session_sign_module before ws_auth_module");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    /* a scope inherits its secrets, so only "none anywhere" is certain
     * here; a scope still without them answers 500 (WSA0010) */
    if (wsa_express_somewhere && !wsa_express_keys_somewhere) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
                     "WSA0051: WSAuthSource express needs the app's secrets: add "
                     "WSAuthExpressSecretFile (one express-session secret a line) "
                     "to the scope or a scope around it");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

/* each child: its own Redis connections (lazily), one tunnel timer */
static void wsa_child_init(apr_pool_t *p, server_rec *s)
{
    wsa_store_child_init(p, s);
    wsa_timer_child_init(p, s);
}

static void wsa_register_hooks(apr_pool_t *p)
{
    (void)p;
    ap_hook_child_init(wsa_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_pre_config(wsa_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(wsa_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    /* the gate: after the Location walk, before access/authn/authz and
     * before any handler; runs for every request and subrequest */
    ap_hook_post_perdir_config(wsa_gate, NULL, NULL, APR_HOOK_FIRST);
    /* first fixup: %u for the access log; refuse if the gate never ran */
    ap_hook_fixups(wsa_fixups, NULL, NULL, APR_HOOK_REALLY_FIRST);
    /* before mod_log_config writes the line */
    ap_hook_log_transaction(wsa_log_transaction, NULL, NULL, APR_HOOK_REALLY_FIRST);
    /* the tunnel's filters, and where the backend connection is met:
     * mod_proxy's create_req (mod_proxy_http), pre_connection (wstunnel) */
    wsa_tunnel_register_hooks();
}

AP_DECLARE_MODULE(ws_auth) = {
    STANDARD20_MODULE_STUFF, wsa_create_dir,     wsa_merge_dir, NULL, NULL, wsa_cmds,
    wsa_register_hooks,      AP_MODULE_FLAG_NONE};
