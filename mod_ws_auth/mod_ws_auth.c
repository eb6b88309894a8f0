/*
 * mod_ws_auth.c - cookie-session authorization of WebSocket upgrades.
 *
 * Thin glue over wsa_core.c / ssg_origin.c. The gate runs in the
 * post_perdir_config hook: right after the <Location> walk, for every
 * request and subrequest, before access/authn/authz (so `Satisfy Any` and
 * friends cannot skip it) and long before any proxy handler (so it holds
 * whichever of mod_proxy_http or mod_proxy_wstunnel carries the tunnel, for
 * HTTP/1.1 Upgrade and for HTTP/2 extended CONNECT alike).
 *
 * The session verdict comes from mod_session_sign's optional function
 * session_sign_status(): only a session whose signature verified counts.
 *
 * Log tags: WSA0001..WSA0099, one per call site. No log line carries a
 * cookie value or a secret.
 */
#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "mod_session.h"

#include "apr_strings.h"
#include "apr_optional.h"

#include "wsa_core.h"
#include "ssg_origin.h"
#include "mod_session_sign.h"

/* the only symbol this module exports (built with -fvisibility=hidden) */
extern module AP_MODULE_DECLARE_DATA __attribute__((visibility("default"))) ws_auth_module;

#define WSA_ENV           "WS_AUTH"
#define WSA_NOTE          "ws-auth-verdict"
#define WSA_SCOPE_UNSET   0
#define WSA_SCOPE_ALL     1
#define WSA_SCOPE_UPGRADE 2
#define WSA_MISSING_UNSET 0
#define WSA_MISSING_ALLOW 1
#define WSA_MISSING_DENY  2

static APR_OPTIONAL_FN_TYPE(session_sign_status) *sign_status = NULL;
static APR_OPTIONAL_FN_TYPE(session_sign_get) *sign_get = NULL;
/* only asked whether it is there: mod_session is loaded */
static APR_OPTIONAL_FN_TYPE(ap_session_load) *session_load = NULL;
static int wsa_enabled_somewhere = 0;

/* ------------------------------------------------------------------ */
/* configuration                                                       */

typedef struct {
    const char *header;
    const char *key;
} wsa_forward_t;

typedef struct {
    int enabled;                 /* -1 unset, 0 off, 1 on */
    int scope;                   /* WSA_SCOPE_* */
    apr_array_header_t *origins; /* wsa_origin_pattern_t; NULL: same origin */
    int missing;                 /* WSA_MISSING_* */
    apr_array_header_t *forward; /* wsa_forward_t */
    const char **names;          /* forward[].header, for wsa_strip */
    int nnames;
} wsa_dir_conf;

/* What the gate decided for one request */
typedef struct {
    int guarded;
    int status;         /* OK or the refusal status */
    const char *reason; /* the WS_AUTH value */
    const char *user;
} wsa_verdict_t;

/* ------------------------------------------------------------------ */
/* request time                                                        */

/* Is k, the name of a client header, one of ours once '_' and '-' are
 * alike and case is ignored (X_Remote_User, x-remote-user...)? */
static int wsa_owned_header(const wsa_dir_conf *conf, const char *k)
{
    int i;

    for (i = 0; i < conf->nnames; i++) {
        if (wsa_header_name_alike(k, conf->names[i])) {
            return 1;
        }
    }
    return conf->enabled == 1 &&
           (wsa_header_name_alike(k, "Session") || wsa_header_name_alike(k, "X-Replace-Session"));
}

/* Remove every client-sent copy of the headers we own, also their spellings
 * with '_' for '-' (a backend that folds them would read a forged one), and
 * the names of our headers from Connection, read exactly as mod_proxy reads
 * it: a client that lists "X-Remote-User" there would otherwise have the
 * proxy strip our forwarded copy as a hop-by-hop header (CVE-2022-31813).
 * One pass over the request headers; no work proportional to anything but
 * their size (issue 13.3: no rebuild per token). */
static void wsa_strip(request_rec *r, const wsa_dir_conf *conf)
{
    const apr_array_header_t *arr = apr_table_elts(r->headers_in);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    apr_array_header_t *drop = NULL;
    int i, conn_named = 0;

    for (i = 0; i < arr->nelts; i++) {
        const char *k = e[i].key;

        if (!k) {
            continue;
        }
        if (wsa_owned_header(conf, k)) {
            if (!drop) {
                drop = apr_array_make(r->pool, 4, sizeof(const char *));
            }
            APR_ARRAY_PUSH(drop, const char *) = k;
        }
        else if (conf->nnames && !strcasecmp(k, "Connection") &&
                 wsa_connection_filter(e[i].val, conf->names, conf->nnames, NULL) > 0) {
            conn_named = 1;
        }
    }
    if (conn_named) {
        /* rebuild every Connection line without our names, each into a
         * buffer of its own size (mod_proxy reads them all) */
        apr_array_header_t *kept = apr_array_make(r->pool, 2, sizeof(char *));
        for (i = 0; i < arr->nelts; i++) {
            if (e[i].key && e[i].val && !strcasecmp(e[i].key, "Connection")) {
                char *out = apr_palloc(r->pool, strlen(e[i].val) + 1);
                wsa_connection_filter(e[i].val, conf->names, conf->nnames, out);
                if (*out) {
                    APR_ARRAY_PUSH(kept, char *) = out;
                }
            }
        }
        apr_table_unset(r->headers_in, "Connection");
        for (i = 0; i < kept->nelts; i++) {
            apr_table_addn(r->headers_in, "Connection", APR_ARRAY_IDX(kept, i, char *));
        }
    }
    for (i = 0; drop && i < drop->nelts; i++) {
        apr_table_unset(r->headers_in, APR_ARRAY_IDX(drop, i, const char *));
    }
}

static void wsa_forward(request_rec *r, const wsa_dir_conf *conf)
{
    const wsa_forward_t *fw;
    int i;

    if (!conf->forward) {
        return;
    }
    fw = (const wsa_forward_t *)conf->forward->elts;
    for (i = 0; i < conf->forward->nelts; i++) {
        /* from the session sign_status() just verified */
        const char *v = sign_get(r, fw[i].key);
        if (!v || !*v) {
            continue; /* stripped already: backend sees nothing */
        }
        if (!wsa_header_value_safe(v)) {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                          "WSA0005: session value of '%s' is not a safe header "
                          "value; %s not forwarded",
                          fw[i].key, fw[i].header);
            continue;
        }
        apr_table_set(r->headers_in, fw[i].header, v);
    }
}

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
    /* what ap_custom_response(r, status, text) records, without its
     * ap_is_url() and copy on every accepted request: the leading '"'
     * marks a text body, as there */
    core_request_config *rc = ap_get_core_module_config(r->request_config);
    const char *body;

    switch (status) {
    case HTTP_UNAUTHORIZED: body = "\"WebSocket authentication required\n"; break;
    case HTTP_FORBIDDEN: body = "\"WebSocket forbidden\n"; break;
    default: body = "\"WebSocket gate misconfigured\n";
    }
    if (!rc->response_code_strings) {
        rc->response_code_strings =
            apr_pcalloc(r->pool, sizeof(*rc->response_code_strings) * RESPONSE_CODES);
    }
    rc->response_code_strings[ap_index_of_response(status)] = (char *)body;
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

static int wsa_gate(request_rec *r)
{
    wsa_dir_conf *conf = ap_get_module_config(r->per_dir_config, &ws_auth_module);
    wsa_verdict_t *v;
    const char *user = NULL, *why, *reason;
    int st;

    if (conf->enabled != 1 && !conf->forward) {
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

    if (!sign_status || !sign_get || !session_load) {
        return wsa_refuse(r, v, HTTP_INTERNAL_SERVER_ERROR, "misconfigured",
                          "mod_session_sign is not loaded");
    }
    st = sign_status(r, &user, &reason);
    if (st == SESSION_SIGN_UNCONFIGURED) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "WSA0010: WSAuth On for %s but %s: add SessionSignKey "
                      "(or SessionSignKeyFile), Session On and SessionCookieName "
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
        if (!user) {
            return wsa_refuse(r, v, HTTP_UNAUTHORIZED, "no-identity",
                              "the session holds no identity");
        }
        break;
    case SESSION_SIGN_EXPIRED:
        return wsa_refuse(r, v, HTTP_UNAUTHORIZED, "expired-session", reason);
    case SESSION_SIGN_INVALID:
        return wsa_refuse(r, v, HTTP_UNAUTHORIZED, "invalid-session", reason);
    default: return wsa_refuse(r, v, HTTP_UNAUTHORIZED, "no-session", NULL);
    }

    wsa_forward(r, conf);
    /* the Require lines may still refuse this identity: with our own 403 */
    wsa_own_error_body(r, HTTP_FORBIDDEN);
    v->status = OK;
    v->reason = "ok";
    apr_table_setn(r->subprocess_env, WSA_ENV, "ok");
    return OK;
}

/* After authz: the identity in %u, and a second look for safety. */
static int wsa_fixups(request_rec *r)
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
    return DECLINED;
}

/* A refusal by the Require lines after the gate passed: say so in WS_AUTH
 * and in one line of our own. */
static int wsa_log_transaction(request_rec *r)
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
    return DECLINED;
}

/* ------------------------------------------------------------------ */
/* create / merge                                                      */

static void *wsa_create_dir(apr_pool_t *p, char *dir)
{
    wsa_dir_conf *c = apr_pcalloc(p, sizeof(*c));
    (void)dir;
    c->enabled = -1;
    return c;
}

/* The forwarded header names as one array, kept with the scope's config so
 * the request path does not rebuild it. */
static void wsa_conf_names(apr_pool_t *p, wsa_dir_conf *c)
{
    const wsa_forward_t *fw;
    int i;

    c->names = NULL;
    c->nnames = c->forward ? c->forward->nelts : 0;
    if (!c->nnames) {
        return;
    }
    fw = (const wsa_forward_t *)c->forward->elts;
    c->names = apr_palloc(p, sizeof(*c->names) * c->nnames);
    for (i = 0; i < c->nnames; i++) {
        c->names[i] = fw[i].header;
    }
}

static void *wsa_merge_dir(apr_pool_t *p, void *basev, void *addv)
{
    wsa_dir_conf *base = basev, *add = addv;
    wsa_dir_conf *c = apr_pcalloc(p, sizeof(*c));

    c->enabled = add->enabled != -1 ? add->enabled : base->enabled;
    c->scope = add->scope != WSA_SCOPE_UNSET ? add->scope : base->scope;
    c->origins = add->origins ? add->origins : base->origins;
    c->missing = add->missing != WSA_MISSING_UNSET ? add->missing : base->missing;
    if (base->forward && add->forward) {
        c->forward = apr_array_append(p, base->forward, add->forward);
    }
    else {
        c->forward = add->forward ? add->forward : base->forward;
    }
    wsa_conf_names(p, c);
    return c;
}

/* ------------------------------------------------------------------ */
/* directive setters                                                   */

static const char *set_wsauth(cmd_parms *cmd, void *dconf, int flag)
{
    wsa_dir_conf *c = dconf;

    (void)cmd;
    c->enabled = flag ? 1 : 0;
    if (flag) {
        wsa_enabled_somewhere = 1;
    }
    return NULL;
}

static const char *set_scope(cmd_parms *cmd, void *dconf, const char *arg)
{
    wsa_dir_conf *c = dconf;

    if (!strcasecmp(arg, "all")) {
        c->scope = WSA_SCOPE_ALL;
    }
    else if (!strcasecmp(arg, "upgrade")) {
        c->scope = WSA_SCOPE_UPGRADE;
    }
    else {
        return apr_psprintf(cmd->pool,
                            "WSAuthScope: unknown scope '%s'; use "
                            "'all' (every request, default) or 'upgrade' "
                            "(WebSocket upgrade requests only)",
                            arg);
    }
    return NULL;
}

static const char *add_origin(cmd_parms *cmd, void *dconf, const char *arg)
{
    wsa_dir_conf *c = dconf;
    wsa_origin_pattern_t *p;
    const char *err;

    if (!c->origins) {
        c->origins = apr_array_make(cmd->pool, 4, sizeof(wsa_origin_pattern_t));
    }
    p = apr_array_push(c->origins);
    err = wsa_origin_pattern_parse(arg, p);
    if (err) {
        return apr_psprintf(cmd->pool,
                            "WSAuthOrigin: '%s' is not a valid "
                            "origin: %s; write scheme://host[:port], e.g. "
                            "https://app.example.com or https://*.example.com",
                            arg, err);
    }
    return NULL;
}

static const char *set_missing(cmd_parms *cmd, void *dconf, const char *arg)
{
    wsa_dir_conf *c = dconf;

    if (!strcasecmp(arg, "allow")) {
        c->missing = WSA_MISSING_ALLOW;
    }
    else if (!strcasecmp(arg, "deny")) {
        c->missing = WSA_MISSING_DENY;
    }
    else {
        return apr_psprintf(cmd->pool,
                            "WSAuthOriginMissing: unknown value "
                            "'%s'; use 'allow' (default) or 'deny'",
                            arg);
    }
    return NULL;
}

static const char *const wsa_reserved_headers[] = {
    "Host",   "Connection", "Upgrade",    "Content-Length",   "Transfer-Encoding",
    "TE",     "Trailer",    "Keep-Alive", "Proxy-Connection", "Proxy-Authorization",
    "Cookie", "Origin",     "Expect",     "Session",          "X-Replace-Session",
    NULL};

static const char *add_forward(cmd_parms *cmd, void *dconf, const char *hdr, const char *key)
{
    wsa_dir_conf *c = dconf;
    wsa_forward_t *f;
    int i;

    if (!wsa_header_name_valid(hdr)) {
        return apr_psprintf(cmd->pool,
                            "WSAuthForwardHeader: '%s' is not a "
                            "valid header name; use letters, digits and "
                            "-, e.g. X-Remote-User",
                            hdr);
    }
    for (i = 0; wsa_reserved_headers[i]; i++) {
        if (!strcasecmp(hdr, wsa_reserved_headers[i])) {
            return apr_psprintf(cmd->pool,
                                "WSAuthForwardHeader: '%s' is a "
                                "protocol header and cannot carry the "
                                "identity; choose a name such as X-Remote-User",
                                hdr);
        }
    }
    if (!strncasecmp(hdr, "Sec-WebSocket-", 14)) {
        return "WSAuthForwardHeader: Sec-WebSocket-* headers belong to the "
               "handshake; choose a name such as X-Remote-User";
    }
    if (!*key || strchr(key, '=') || strchr(key, '&')) {
        return "WSAuthForwardHeader: the session key must be non-empty and "
               "may not contain '=' or '&'";
    }
    if (!c->forward) {
        c->forward = apr_array_make(cmd->pool, 2, sizeof(wsa_forward_t));
    }
    f = apr_array_push(c->forward);
    f->header = hdr;
    f->key = key;
    wsa_conf_names(cmd->pool, c); /* also right for a scope never merged */
    return NULL;
}

static const command_rec wsa_cmds[] = {
    AP_INIT_FLAG("WSAuth", set_wsauth, NULL, ACCESS_CONF,
                 "On: requests here need a verified signed session (default Off)"),
    AP_INIT_TAKE1("WSAuthScope", set_scope, NULL, ACCESS_CONF,
                  "all (every request, default) or upgrade (WebSocket upgrades only)"),
    AP_INIT_ITERATE("WSAuthOrigin", add_origin, NULL, ACCESS_CONF,
                    "allowed origins (scheme://host[:port], https://*.example.com); "
                    "default: the request's own host"),
    AP_INIT_TAKE1("WSAuthOriginMissing", set_missing, NULL, ACCESS_CONF,
                  "allow (default) or deny requests without an Origin header"),
    AP_INIT_TAKE2("WSAuthForwardHeader", add_forward, NULL, ACCESS_CONF,
                  "Header-Name session-key: send the session's value to the backend"),
    {NULL}};

/* ------------------------------------------------------------------ */
/* startup                                                             */

static int wsa_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    (void)pconf;
    (void)plog;
    (void)ptemp;
    wsa_enabled_somewhere = 0;
    return OK;
}

/* check_config runs for `apache2 -t` too: a WSAuth that cannot be
 * enforced never gets as far as a running server. */
static int wsa_check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    (void)pconf;
    (void)plog;
    (void)ptemp;
    sign_status = APR_RETRIEVE_OPTIONAL_FN(session_sign_status);
    sign_get = APR_RETRIEVE_OPTIONAL_FN(session_sign_get);
    session_load = APR_RETRIEVE_OPTIONAL_FN(ap_session_load);
    if (wsa_enabled_somewhere && (!sign_status || !sign_get || !session_load)) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
                     "WSA0050: WSAuth On needs mod_session and mod_session_sign: "
                     "add LoadModule session_module, session_cookie_module and "
                     "session_sign_module before ws_auth_module");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

static void wsa_register_hooks(apr_pool_t *p)
{
    (void)p;
    ap_hook_pre_config(wsa_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(wsa_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    /* the gate: after the Location walk, before access/authn/authz and
     * before any handler; runs for every request and subrequest */
    ap_hook_post_perdir_config(wsa_gate, NULL, NULL, APR_HOOK_FIRST);
    /* first fixup: %u for the access log; refuse if the gate never ran */
    ap_hook_fixups(wsa_fixups, NULL, NULL, APR_HOOK_REALLY_FIRST);
    /* before mod_log_config writes the line */
    ap_hook_log_transaction(wsa_log_transaction, NULL, NULL, APR_HOOK_REALLY_FIRST);
}

AP_DECLARE_MODULE(ws_auth) = {
    STANDARD20_MODULE_STUFF, wsa_create_dir,     wsa_merge_dir, NULL, NULL, wsa_cmds,
    wsa_register_hooks,      AP_MODULE_FLAG_NONE};
