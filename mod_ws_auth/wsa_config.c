/*
 * wsa_config.c - mod_ws_auth's per-directory configuration: create, merge,
 * the directive setters (a bad value fails `apache2 -t` with the fix;
 * key files are read and judged here) and the command table.
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
    if (!c->nnames && !c->fsig_header) {
        return;
    }
    c->names = apr_palloc(p, sizeof(*c->names) * (c->nnames + 1));
    if (c->nnames) {
        fw = (const wsa_forward_t *)c->forward->elts;
        for (i = 0; i < c->nnames; i++) {
            c->names[i] = fw[i].header;
        }
    }
    if (c->fsig_header) {
        c->names[c->nnames++] = c->fsig_header; /* a client's copy is forged */
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
    c->source = add->source != WSA_SOURCE_UNSET ? add->source : base->source;
    c->exp_cookie = add->exp_cookie ? add->exp_cookie : base->exp_cookie;
    c->exp_keys = add->exp_keys ? add->exp_keys : base->exp_keys;
    c->store = add->store ? add->store : base->store;
    c->fsig_header = add->fsig_header ? add->fsig_header : base->fsig_header;
    c->fsig_keys = add->fsig_header ? add->fsig_keys : base->fsig_keys;
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
    if (key[0] == '.' || key[strlen(key) - 1] == '.' || strstr(key, "..")) {
        return "WSAuthForwardHeader: a dotted path into the Express session "
               "has no empty part; write e.g. passport.user";
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

/* A key file (one secret a line, mod_session_sign's rules) into a ring;
 * a missing, empty, unreadable or weak file fails `apache2 -t`. */
static const char *wsa_read_keys(cmd_parms *cmd, const char *directive, const char *arg,
                                 wsa_keys_t **out)
{
    const char *path = ap_server_root_relative(cmd->pool, arg);
    apr_file_t *f;
    apr_finfo_t fi;
    apr_status_t rv;
    apr_size_t got = 0;
    char *buf, ebuf[120];
    const char *err;

    if (!path) {
        return apr_psprintf(cmd->pool, "%s: invalid path '%s'", directive, arg);
    }
    rv = apr_file_open(&f, path, APR_FOPEN_READ, APR_OS_DEFAULT, cmd->temp_pool);
    if (rv != APR_SUCCESS) {
        return apr_psprintf(cmd->pool,
                            "%s %s: cannot open it (%s); create it (one secret of at "
                            "least %d bytes a line) and make it readable by the user "
                            "that starts httpd",
                            directive, path, apr_strerror(rv, ebuf, sizeof(ebuf)),
                            WSA_KEYS_MIN_LEN);
    }
    rv = apr_file_info_get(&fi, APR_FINFO_SIZE | APR_FINFO_TYPE, f);
    if (rv != APR_SUCCESS || fi.filetype != APR_REG || fi.size > 64 * 1024) {
        apr_file_close(f);
        return apr_psprintf(cmd->pool,
                            "%s %s: not a regular file of at most 64 KiB; point it "
                            "at a file of secrets, one per line",
                            directive, path);
    }
    buf = apr_palloc(cmd->temp_pool, (apr_size_t)fi.size + 1);
    rv = apr_file_read_full(f, buf, (apr_size_t)fi.size, &got);
    apr_file_close(f);
    if (rv != APR_SUCCESS && !(rv == APR_EOF && got == 0)) {
        return apr_psprintf(cmd->pool, "%s %s: cannot read it (%s)", directive, path,
                            apr_strerror(rv, ebuf, sizeof(ebuf)));
    }
    err = wsa_keys_parse(cmd->pool, buf, got, out);
    memset(buf, 0, got);
    if (err) {
        return apr_psprintf(cmd->pool,
                            "%s %s: %s; each line must be one secret of at least "
                            "%d bytes of printable ASCII (e.g. openssl rand -base64 48)",
                            directive, path, err, WSA_KEYS_MIN_LEN);
    }
    return NULL;
}

static const char *set_source(cmd_parms *cmd, void *dconf, const char *arg)
{
    wsa_dir_conf *c = dconf;

    if (!strcasecmp(arg, "session-sign")) {
        c->source = WSA_SOURCE_SSG;
    }
    else if (!strcasecmp(arg, "express")) {
        c->source = WSA_SOURCE_EXPRESS;
        wsa_express_somewhere = 1;
    }
    else {
        return apr_psprintf(cmd->pool,
                            "WSAuthSource: unknown source '%s'; use 'session-sign' "
                            "(mod_session_sign's session, default) or 'express' (an "
                            "express-session cookie)",
                            arg);
    }
    return NULL;
}

static const char *set_exp_cookie(cmd_parms *cmd, void *dconf, const char *arg)
{
    wsa_dir_conf *c = dconf;

    if (!wsa_header_name_valid(arg)) {
        return apr_psprintf(cmd->pool,
                            "WSAuthExpressCookie: '%s' is not a cookie name; use "
                            "the name given to express-session (default connect.sid)",
                            arg);
    }
    c->exp_cookie = arg;
    return NULL;
}

static const char *set_exp_secrets(cmd_parms *cmd, void *dconf, const char *arg)
{
    wsa_express_keys_somewhere = 1;
    return wsa_read_keys(cmd, "WSAuthExpressSecretFile", arg, &((wsa_dir_conf *)dconf)->exp_keys);
}

static const char *set_exp_store(cmd_parms *cmd, void *dconf, int argc, char *const argv[])
{
    wsa_dir_conf *c = dconf;
    const char *err;

    if (argc < 1) {
        return "WSAuthExpressStore: give redis://host:port[/db] [prefix=sess:] [timeout=500]";
    }
    err = wsa_store_parse(cmd->pool, (const char *const *)argv, argc, &c->store);
    if (err) {
        return apr_psprintf(cmd->pool, "WSAuthExpressStore %s: %s", argv[0], err);
    }
    return NULL;
}

static const char *set_fsig(cmd_parms *cmd, void *dconf, const char *hdr, const char *file)
{
    wsa_dir_conf *c = dconf;
    const char *err;

    if (!wsa_header_name_valid(hdr) || !strncasecmp(hdr, "Sec-WebSocket-", 14) ||
        !strcasecmp(hdr, "Cookie") || !strcasecmp(hdr, "Host") || !strcasecmp(hdr, "Origin")) {
        return apr_psprintf(cmd->pool,
                            "WSAuthForwardSignature: '%s' is not a header name this "
                            "can use; choose one such as X-WS-Auth-Signature",
                            hdr);
    }
    err = wsa_read_keys(cmd, "WSAuthForwardSignature", file, &c->fsig_keys);
    if (err) {
        return err;
    }
    c->fsig_header = hdr;
    wsa_conf_names(cmd->pool, c);
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
                  "Header-Name session-key: send the session's value to the backend "
                  "(express: a dotted path into the stored session, e.g. passport.user)"),
    AP_INIT_TAKE1("WSAuthSource", set_source, NULL, ACCESS_CONF,
                  "session-sign (default) or express: where the session comes from"),
    AP_INIT_TAKE1("WSAuthExpressCookie", set_exp_cookie, NULL, ACCESS_CONF,
                  "the express-session cookie name (default connect.sid)"),
    AP_INIT_TAKE1("WSAuthExpressSecretFile", set_exp_secrets, NULL, ACCESS_CONF,
                  "file of the express-session secrets, one a line (any verifies)"),
    AP_INIT_TAKE_ARGV("WSAuthExpressStore", set_exp_store, NULL, ACCESS_CONF,
                      "redis://host:port[/db] [prefix=sess:] [timeout=ms]: the id must "
                      "name a live session in connect-redis's store"),
    AP_INIT_TAKE2("WSAuthForwardSignature", set_fsig, NULL, ACCESS_CONF,
                  "Header-Name key-file: sign the forwarded identity for the backend"),
    {NULL}};
