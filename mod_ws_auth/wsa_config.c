/*
 * wsa_config.c - mod_ws_auth's per-directory configuration: create, merge,
 * the directive setters (a bad value fails `apache2 -t` with the fix) and
 * the command table.
 */
#include "wsa_private.h"

APLOG_USE_MODULE(ws_auth);

void *wsa_create_dir(apr_pool_t *p, char *dir)
{
    wsa_dir_conf *c = apr_pcalloc(p, sizeof(*c));
    (void)dir;
    c->enabled = -1;
    c->lifetime = -1;
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

void *wsa_merge_dir(apr_pool_t *p, void *basev, void *addv)
{
    wsa_dir_conf *base = basev, *add = addv;
    wsa_dir_conf *c = apr_pcalloc(p, sizeof(*c));

    c->enabled = add->enabled != -1 ? add->enabled : base->enabled;
    c->scope = add->scope != WSA_SCOPE_UNSET ? add->scope : base->scope;
    c->origins = add->origins ? add->origins : base->origins;
    c->missing = add->missing != WSA_MISSING_UNSET ? add->missing : base->missing;
    c->lifetime = add->lifetime != -1 ? add->lifetime : base->lifetime;
    if (base->forward && add->forward) {
        c->forward = apr_array_append(p, base->forward, add->forward);
    }
    else {
        c->forward = add->forward ? add->forward : base->forward;
    }
    wsa_conf_names(p, c);
    return c;
}

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

static const char *set_lifetime(cmd_parms *cmd, void *dconf, const char *arg)
{
    wsa_dir_conf *c = dconf;

    if (!strcasecmp(arg, "absolute")) {
        c->lifetime = WSA_LIFETIME_ABSOLUTE;
    }
    else if (!strcasecmp(arg, "session")) {
        c->lifetime = WSA_LIFETIME_SESSION;
    }
    else if (!strcasecmp(arg, "off")) {
        c->lifetime = WSA_LIFETIME_OFF;
    }
    else {
        return apr_psprintf(cmd->pool,
                            "WSAuthTunnelLifetime: unknown value '%s'; use 'absolute' "
                            "(end open tunnels at SessionSignMaxLifetime or on revocation, "
                            "default), 'session' (also at the SessionMaxAge expiry) or 'off'",
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

const command_rec wsa_cmds[] = {
    AP_INIT_FLAG("WSAuth", set_wsauth, NULL, ACCESS_CONF,
                 "On: requests here need a verified signed session (default Off)"),
    AP_INIT_TAKE1("WSAuthScope", set_scope, NULL, ACCESS_CONF,
                  "all (every request, default) or upgrade (WebSocket upgrades only)"),
    AP_INIT_ITERATE("WSAuthOrigin", add_origin, NULL, ACCESS_CONF,
                    "allowed origins (scheme://host[:port], https://*.example.com); "
                    "default: the request's own host"),
    AP_INIT_TAKE1("WSAuthOriginMissing", set_missing, NULL, ACCESS_CONF,
                  "allow (default) or deny requests without an Origin header"),
    AP_INIT_TAKE1("WSAuthTunnelLifetime", set_lifetime, NULL, ACCESS_CONF,
                  "absolute (default), session or off: what ends an open tunnel"),
    AP_INIT_TAKE2("WSAuthForwardHeader", add_forward, NULL, ACCESS_CONF,
                  "Header-Name session-key: send the session's value to the backend"),
    {NULL}};
