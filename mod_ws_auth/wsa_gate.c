/*
 * wsa_gate.c - the WebSocket gate: in a WSAuth scope, no verified signed
 * session (mod_session_sign's, or the Express app's cookie), no socket
 * (401); wrong Origin, no socket (403); then the identity for the backend
 * (and its signature). Runs in post_perdir_config: right after the
 * <Location> walk, for every request and subrequest, before access, authn
 * and authz, and long before any proxy handler, so it holds whichever of
 * mod_proxy_http or mod_proxy_wstunnel carries the tunnel, for HTTP/1.1
 * Upgrade and HTTP/2 extended CONNECT alike.
 */
#include "wsa_private.h"

APLOG_USE_MODULE(ws_auth);

static int wsa_is_guarded(request_rec *r, const wsa_dir_conf *conf)
{
    if (conf->scope != WSA_SCOPE_UPGRADE) {
        return 1; /* all (default) */
    }
    return wsa_is_upgrade(apr_table_get(r->headers_in, "Connection"),
                          apr_table_get(r->headers_in, "Upgrade"));
}

/* Origin check; @return NULL if allowed, else the WS_AUTH reason. */
static const char *wsa_check_origin(request_rec *r, const wsa_dir_conf *conf)
{
    const char *origin = apr_table_get(r->headers_in, "Origin");
    ssg_origin_t o;
    ssg_origin_status_e os;
    int i;

    if (!origin) {
        const char *site = apr_table_get(r->headers_in, "Sec-Fetch-Site");
        if (conf->missing == WSA_MISSING_DENY) {
            return "origin-missing";
        }
        /* a browser's no-cors request from another site carries no Origin
         * but says where it comes from: never let it through */
        if (site && (!strcasecmp(site, "cross-site") ||
                     (!conf->origins && !strcasecmp(site, "same-site")))) {
            return "cross-site";
        }
        return NULL;
    }
    os = ssg_origin_parse(origin, strlen(origin), &o);
    if (os != SSG_ORIGIN_OK) {
        return os == SSG_ORIGIN_NULL ? "origin-null" : "origin-malformed";
    }
    if (conf->origins) {
        const wsa_origin_pattern_t *p = (const wsa_origin_pattern_t *)conf->origins->elts;
        for (i = 0; i < conf->origins->nelts; i++) {
            if (wsa_origin_pattern_match(&p[i], &o)) {
                return NULL;
            }
        }
        return "origin-mismatch";
    }
    {
        const char *host = apr_table_get(r->headers_in, "Host");
        if (!host && r->hostname) {
            host = r->hostname; /* HTTP/2: :authority becomes r->hostname */
        }
        if (!host || !ssg_origin_same_as_host(&o, host, strlen(host), ap_http_scheme(r))) {
            return "origin-mismatch";
        }
    }
    return NULL;
}

/* A short body of our own for every refusal in a guarded scope: never an
 * ErrorDocument redirect (a browser WebSocket cannot follow one), never
 * session data. */
static void wsa_own_error_body(request_rec *r, int status)
{
    const char *body;

    switch (status) {
    case HTTP_UNAUTHORIZED: body = "WebSocket authentication required\n"; break;
    case HTTP_FORBIDDEN: body = "WebSocket forbidden\n"; break;
    case HTTP_SERVICE_UNAVAILABLE: body = "WebSocket gate: try again shortly\n"; break;
    default: body = "WebSocket gate misconfigured\n";
    }
    ap_custom_response(r, status, body);
}

static int wsa_refuse(request_rec *r, wsa_verdict_t *v, int status, const char *reason,
                      const char *detail)
{
    wsa_own_error_body(r, status);
    v->status = status;
    v->reason = reason;
    apr_table_setn(r->subprocess_env, WSA_ENV, reason);
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    if (v->user) {
        r->user = (char *)v->user; /* %u in the access log */
    }
    if (wsa_is_upgrade(apr_table_get(r->headers_in, "Connection"),
                       apr_table_get(r->headers_in, "Upgrade"))) {
        /* a refused handshake ends the connection (RFC 6455 4.1: the
         * client fails the WebSocket connection anyway) */
        r->connection->keepalive = AP_CONN_CLOSE;
    }
    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "WSA0001: %s %s refused: %s%s%s (%d)", r->method,
                  ap_escape_logitem(r->pool, r->uri), reason, detail ? ": " : "",
                  detail ? detail : "", status);
    return status;
}

int wsa_gate(request_rec *r)
{
    wsa_dir_conf *conf = ap_get_module_config(r->per_dir_config, &ws_auth_module);
    wsa_verdict_t *v;
    const char *user = NULL, *why, *reason = NULL;
    wsa_express_verdict_t *ev = NULL;
    int st;

    if (conf->enabled != 1 && !conf->forward && !conf->fsig_header) {
        return OK;
    }
    wsa_strip(r, conf);
    if (conf->enabled != 1) {
        return OK;
    }
    v = apr_pcalloc(r->pool, sizeof(*v));
    ap_set_module_config(r->request_config, &ws_auth_module, v);
    if (!wsa_is_guarded(r, conf)) {
        v->status = OK;
        v->reason = "unguarded";
        apr_table_setn(r->subprocess_env, WSA_ENV, "unguarded");
        return OK;
    }
    v->guarded = 1;

    if (conf->source == WSA_SOURCE_EXPRESS) {
        ev = apr_pcalloc(r->pool, sizeof(*ev));
        wsa_express_check(r, conf, ev);
        st = ev->st;
        user = ev->user;
        reason = ev->detail;
    }
    else if (!wsa_sign_status || !wsa_sign_get || !wsa_session_load) {
        return wsa_refuse(r, v, HTTP_INTERNAL_SERVER_ERROR, "misconfigured",
                          "mod_session_sign is not loaded");
    }
    else {
        st = wsa_sign_status(r, &user, &reason);
    }
    if (st == SESSION_SIGN_UNCONFIGURED) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "WSA0010: WSAuth On for %s but %s: add SessionSignKey "
                      "(or SessionSignKeyFile), Session On and SessionCookieName "
                      "(or, for WSAuthSource express, WSAuthExpressSecretFile) "
                      "to this scope; refusing with 500",
                      ap_escape_logitem(r->pool, r->uri), reason);
        v->status = HTTP_INTERNAL_SERVER_ERROR;
        v->reason = "misconfigured";
        apr_table_setn(r->subprocess_env, WSA_ENV, "misconfigured");
        wsa_own_error_body(r, HTTP_INTERNAL_SERVER_ERROR);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (st == SESSION_SIGN_VERIFIED || st == SESSION_SIGN_VERIFIED_OLD_KEY) {
        v->user = user;
    }

    why = wsa_check_origin(r, conf);
    if (why) {
        const char *origin = apr_table_get(r->headers_in, "Origin");
        return wsa_refuse(r, v, HTTP_FORBIDDEN, why,
                          origin ? ap_escape_logitem(r->pool, apr_pstrndup(r->pool, origin, 200))
                                 : NULL);
    }

    switch (st) {
    case SESSION_SIGN_VERIFIED:
    case SESSION_SIGN_VERIFIED_OLD_KEY:
        /* express: the first forwarded value is the identity, when the
         * store is asked and headers are forwarded (an anonymous
         * saveUninitialized session holds no passport.user) */
        if (!user && (!ev || (conf->store && conf->forward && conf->forward->nelts))) {
            return wsa_refuse(r, v, HTTP_UNAUTHORIZED, "no-identity",
                              "the session holds no identity");
        }
        break;
    case SESSION_SIGN_EXPIRED:
        return wsa_refuse(r, v, HTTP_UNAUTHORIZED, "expired-session", reason);
    case SESSION_SIGN_REVOKED:
        return wsa_refuse(r, v, HTTP_UNAUTHORIZED, ev ? ev->reason : "revoked-session",
                          ev ? ev->detail : NULL);
    case SESSION_SIGN_UNAVAILABLE:
        /* never a 101, never a 401 that would make an application log
         * its user out: try again shortly */
        apr_table_setn(r->err_headers_out, "Retry-After", "5");
        return wsa_refuse(r, v, HTTP_SERVICE_UNAVAILABLE,
                          ev ? ev->reason : "revocation-unavailable", NULL);
    case SESSION_SIGN_INVALID:
        return wsa_refuse(r, v, HTTP_UNAUTHORIZED, "invalid-session", reason);
    default: return wsa_refuse(r, v, HTTP_UNAUTHORIZED, "no-session", NULL);
    }

    wsa_forward(r, conf, ev);
    wsa_sign_forwarded(r, conf);
    /* the Require lines may still refuse this identity: with our own 403 */
    wsa_own_error_body(r, HTTP_FORBIDDEN);
    v->status = OK;
    v->reason = "ok";
    apr_table_setn(r->subprocess_env, WSA_ENV, "ok");
    return OK;
}

/* After authz: the identity in %u, and a second look for safety. */
int wsa_fixups(request_rec *r)
{
    wsa_dir_conf *conf = ap_get_module_config(r->per_dir_config, &ws_auth_module);
    wsa_verdict_t *v;

    if (conf->enabled != 1) {
        return DECLINED;
    }
    v = ap_get_module_config(r->request_config, &ws_auth_module);
    if (!v) {
        /* cannot happen: post_perdir_config runs for every request. If a
         * future httpd skips it, refuse rather than pass. */
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "WSA0011: the WebSocket gate did not run for %s; refusing",
                      ap_escape_logitem(r->pool, r->uri));
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (v->guarded && v->status != OK) {
        return v->status;
    }
    if (v->guarded && v->user && !r->user) {
        r->user = (char *)v->user;
    }
    if (v->guarded) {
        wsa_tunnel_prepare(r, conf, v); /* an upgrade: its tunnel's end */
    }
    return DECLINED;
}

/* A refusal by the Require lines after the gate passed: say so in WS_AUTH
 * and in one line of our own. */
int wsa_log_transaction(request_rec *r)
{
    wsa_verdict_t *v = ap_get_module_config(r->request_config, &ws_auth_module);

    if (v && v->guarded && v->status == OK &&
        (r->status == HTTP_UNAUTHORIZED || r->status == HTTP_FORBIDDEN)) {
        v->reason = "authz-denied";
        apr_table_setn(r->subprocess_env, WSA_ENV, "authz-denied");
        if (!r->user && v->user) {
            r->user = (char *)v->user;
        }
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      "WSA0002: %s %s refused: authz-denied by the Require "
                      "lines (%d)",
                      r->method, ap_escape_logitem(r->pool, r->uri), r->status);
    }
    if (v && v->tunnel) {
        wsa_tunnel_log(r, v);
    }
    return DECLINED;
}
