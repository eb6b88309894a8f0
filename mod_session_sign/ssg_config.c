/*
 * ssg_config.c - mod_session_sign's per-directory configuration: create,
 * merge, the directive setters (each refuses a bad value at `apache2 -t`,
 * naming the directive, the value and the fix) and the command table.
 */
#include "ssg_private.h"

APLOG_USE_MODULE(session_sign);
#include "mod_auth.h"
#include "ap_provider.h"

#include <errno.h>

#include "apr_file_io.h"

#define SSG_MAX_LIFETIME_CAP (10 * 365 * 24 * 3600LL)
#define SSG_MAX_KEYFILE      65536

const char *ssg_conf_user_key(const ssg_dir_conf *c)
{
    return c->user_key ? c->user_key : SSG_DEFAULT_USER_KEY;
}

void *ssg_create_dir(apr_pool_t *p, char *dir)
{
    ssg_dir_conf *c = apr_pcalloc(p, sizeof(*c));
    (void)dir;
    c->login_cross_site = -1;
    return c;
}

void *ssg_merge_dir(apr_pool_t *p, void *basev, void *addv)
{
    ssg_dir_conf *base = basev, *add = addv;
    ssg_dir_conf *c = apr_pcalloc(p, sizeof(*c));

    c->ring = add->ring_set ? add->ring : base->ring;
    c->ring_source = add->ring_set ? add->ring_source : base->ring_source;
    c->ring_set = add->ring_set || base->ring_set;
    c->max_lifetime = add->max_lifetime_set ? add->max_lifetime : base->max_lifetime;
    c->max_lifetime_set = add->max_lifetime_set || base->max_lifetime_set;
    c->context = add->context_set ? add->context : base->context;
    c->context_set = add->context_set || base->context_set;
    c->user_key = add->user_key_set ? add->user_key : base->user_key;
    c->user_key_set = add->user_key_set || base->user_key_set;
    c->user_field = add->fields_set ? add->user_field : base->user_field;
    c->pass_field = add->fields_set ? add->pass_field : base->pass_field;
    c->fields_set = add->fields_set || base->fields_set;
    c->login_attrs = add->login_attrs_set ? add->login_attrs : base->login_attrs;
    c->login_attrs_set = add->login_attrs_set || base->login_attrs_set;
    c->login_cross_site =
        add->login_cross_site != -1 ? add->login_cross_site : base->login_cross_site;
    c->providers = add->providers ? add->providers : base->providers;
    return c;
}

/* ------------------------------------------------------------------ */
/* directive setters                                                   */

static const char *ssg_new_ring(cmd_parms *cmd, ssg_dir_conf *c, const char *source)
{
    if (c->ring_set) {
        return apr_psprintf(cmd->pool,
                            "%s: this scope already has its keys from %s; "
                            "list every secret in one SessionSignKey line or "
                            "in one SessionSignKeyFile",
                            cmd->cmd->name, c->ring_source);
    }
    ssg_ring_create(cmd->pool, &c->ring);
    c->ring_set = 1;
    c->ring_source = source;
    c->ring_directive = cmd->directive;
    return NULL;
}

static const char *set_sign_key(cmd_parms *cmd, void *dconf, const char *secret)
{
    ssg_dir_conf *c = dconf;
    const char *err;

    if (!c->ring_set || c->ring_directive != cmd->directive) {
        err = ssg_new_ring(cmd, c, "SessionSignKey");
        if (err) {
            return err;
        }
    }
    err = ssg_ring_add(c->ring, secret, strlen(secret));
    if (err) {
        return apr_psprintf(cmd->pool,
                            "SessionSignKey: secret #%d refused: %s; generate "
                            "one with `session-sign genkey` (at least %d bytes)",
                            ssg_ring_count(c->ring) + 1, err, SSG_MIN_SECRET_LEN);
    }
    return NULL;
}

static const char *set_sign_key_file(cmd_parms *cmd, void *dconf, const char *arg)
{
    ssg_dir_conf *c = dconf;
    const char *path = ap_server_root_relative(cmd->pool, arg);
    apr_file_t *f;
    apr_finfo_t fi;
    apr_status_t rv;
    apr_size_t got = 0;
    char *buf, ebuf[120];
    const char *err;

    if (!path) {
        return apr_psprintf(cmd->pool, "SessionSignKeyFile: invalid path '%s'", arg);
    }
    rv = apr_file_open(&f, path, APR_FOPEN_READ, APR_OS_DEFAULT, cmd->temp_pool);
    if (rv != APR_SUCCESS) {
        return apr_psprintf(cmd->pool,
                            "SessionSignKeyFile %s: cannot open it (%s); create "
                            "it with `session-sign genkey > %s` and make it "
                            "readable by the user that starts httpd",
                            path, apr_strerror(rv, ebuf, sizeof(ebuf)), path);
    }
    rv = apr_file_info_get(&fi, APR_FINFO_SIZE | APR_FINFO_TYPE, f);
    if (rv != APR_SUCCESS || fi.filetype != APR_REG) {
        apr_file_close(f);
        return apr_psprintf(cmd->pool,
                            "SessionSignKeyFile %s: not a regular file; point "
                            "it at a file of secrets, one per line",
                            path);
    }
    if (fi.size == 0) {
        apr_file_close(f);
        return apr_psprintf(cmd->pool,
                            "SessionSignKeyFile %s: the file is empty; add a "
                            "secret with `session-sign genkey >> %s`",
                            path, path);
    }
    if (fi.size > SSG_MAX_KEYFILE) {
        apr_file_close(f);
        return apr_psprintf(cmd->pool,
                            "SessionSignKeyFile %s: larger than %d bytes; keep "
                            "only the current and the previous secrets",
                            path, SSG_MAX_KEYFILE);
    }
    buf = apr_palloc(cmd->temp_pool, (apr_size_t)fi.size + 1);
    rv = apr_file_read_full(f, buf, (apr_size_t)fi.size, &got);
    apr_file_close(f);
    if (rv != APR_SUCCESS && rv != APR_EOF) {
        return apr_psprintf(cmd->pool,
                            "SessionSignKeyFile %s: cannot read it (%s); make "
                            "it readable by the user that starts httpd",
                            path, apr_strerror(rv, ebuf, sizeof(ebuf)));
    }
    err = ssg_new_ring(cmd, c, apr_pstrcat(cmd->pool, "SessionSignKeyFile ", path, NULL));
    if (err) {
        return err;
    }
    err = ssg_ring_parse_keyfile(cmd->temp_pool, c->ring, buf, got);
    memset(buf, 0, got);
    if (err) {
        return apr_psprintf(cmd->pool,
                            "SessionSignKeyFile %s: %s; each line must be one "
                            "secret of at least %d bytes (`session-sign genkey`)",
                            path, err, SSG_MIN_SECRET_LEN);
    }
    return NULL;
}

static const char *set_max_lifetime(cmd_parms *cmd, void *dconf, const char *arg)
{
    ssg_dir_conf *c = dconf;
    char *end = NULL;
    apr_int64_t v;

    errno = 0;
    v = apr_strtoi64(arg, &end, 10);
    if (!*arg || *end || errno || v < 0 || v > SSG_MAX_LIFETIME_CAP || arg[0] == '+' ||
        arg[0] == '-' || arg[0] == ' ') {
        return apr_psprintf(cmd->pool,
                            "SessionSignMaxLifetime: '%s' is not a number of "
                            "seconds between 0 (no limit) and %" APR_INT64_T_FMT,
                            arg, (apr_int64_t)SSG_MAX_LIFETIME_CAP);
    }
    c->max_lifetime = v;
    c->max_lifetime_set = 1;
    return NULL;
}

static const char *set_context(cmd_parms *cmd, void *dconf, const char *arg)
{
    ssg_dir_conf *c = dconf;
    const char *p;

    (void)cmd;
    if (!*arg || strlen(arg) > SSG_MAX_CONTEXT_LEN) {
        return "SessionSignContext: the label must be 1 to 255 characters";
    }
    for (p = arg; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            return "SessionSignContext: the label may not contain control characters";
        }
    }
    c->context = arg;
    c->context_set = 1;
    return NULL;
}

static const char *check_session_key_name(cmd_parms *cmd, const char *what, const char *arg)
{
    const char *p;

    if (!*arg || strlen(arg) > 128) {
        return apr_psprintf(cmd->pool, "%s: a name of 1 to 128 characters is needed", what);
    }
    for (p = arg; *p; p++) {
        if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '=' || *p == '&') {
            return apr_psprintf(cmd->pool,
                                "%s: '%s' may not contain '=', '&', spaces or "
                                "control characters",
                                what, arg);
        }
    }
    return NULL;
}

static const char *set_user_key(cmd_parms *cmd, void *dconf, const char *arg)
{
    ssg_dir_conf *c = dconf;
    const char *err = check_session_key_name(cmd, "SessionSignUserKey", arg);

    if (err) {
        return err;
    }
    c->user_key = arg;
    c->user_key_set = 1;
    return NULL;
}

static const char *set_login_fields(cmd_parms *cmd, void *dconf, const char *uf, const char *pf)
{
    ssg_dir_conf *c = dconf;
    const char *err;

    if ((err = check_session_key_name(cmd, "SessionSignLoginFields", uf)) ||
        (err = check_session_key_name(cmd, "SessionSignLoginFields", pf))) {
        return err;
    }
    if (!strcmp(uf, pf) || !strcmp(uf, "return") || !strcmp(pf, "return")) {
        return "SessionSignLoginFields: the user and password fields must "
               "differ from each other and from 'return'";
    }
    c->user_field = uf;
    c->pass_field = pf;
    c->fields_set = 1;
    return NULL;
}

static const char *add_login_attr(cmd_parms *cmd, void *dconf, const char *args)
{
    ssg_dir_conf *c = dconf;
    const char *name = ap_getword_conf(cmd->pool, &args);
    const char *value = ap_getword_conf(cmd->pool, &args);
    const char *cond = ap_getword_conf(cmd->pool, &args);
    const char *err = NULL;
    ssg_login_attr_t *a;

    if (!*name || !*value || *args) {
        return "SessionSignLoginAttribute: usage is SessionSignLoginAttribute "
               "name value-expression [condition-expression]";
    }
    if ((err = check_session_key_name(cmd, "SessionSignLoginAttribute", name))) {
        return err;
    }
    if (!c->login_attrs_set || !c->login_attrs) {
        c->login_attrs = apr_array_make(cmd->pool, 4, sizeof(ssg_login_attr_t));
        c->login_attrs_set = 1;
    }
    a = apr_array_push(c->login_attrs);
    a->name = name;
    a->value = ap_expr_parse_cmd(cmd, value, AP_EXPR_FLAG_STRING_RESULT, &err, NULL);
    if (err) {
        return apr_psprintf(cmd->pool,
                            "SessionSignLoginAttribute %s: cannot "
                            "parse value '%s': %s",
                            name, value, err);
    }
    a->cond = NULL;
    if (*cond) {
        a->cond = ap_expr_parse_cmd(cmd, cond, 0, &err, NULL);
        if (err) {
            return apr_psprintf(cmd->pool,
                                "SessionSignLoginAttribute %s: cannot "
                                "parse condition '%s': %s",
                                name, cond, err);
        }
    }
    return NULL;
}

/* SessionSignLoginProvider name [name ...]: the authn providers a form login
 * asks, in order, looked up through httpd's provider registry (the way
 * mod_auth_form's AuthFormProvider does). */
static const char *add_login_provider(cmd_parms *cmd, void *dconf, const char *name)
{
    ssg_dir_conf *c = dconf;
    authn_provider_list *p;

    if (!ap_lookup_provider(AUTHN_PROVIDER_GROUP, name, AUTHN_PROVIDER_VERSION)) {
        return apr_psprintf(cmd->pool,
                            "SessionSignLoginProvider: unknown authentication provider '%s'; "
                            "load its module (e.g. LoadModule authn_%s_module) first",
                            name, name);
    }
    if (!c->providers || c->providers->nelts == 0 || cmd->directive != c->providers_directive) {
        c->providers = apr_array_make(cmd->pool, 2, sizeof(authn_provider_list));
        c->providers_directive = cmd->directive;
    }
    p = apr_array_push(c->providers);
    p->provider_name = name;
    p->provider = ap_lookup_provider(AUTHN_PROVIDER_GROUP, name, AUTHN_PROVIDER_VERSION);
    p->next = NULL;
    if (!p->provider->check_password) {
        return apr_psprintf(cmd->pool,
                            "SessionSignLoginProvider: provider '%s' cannot check passwords", name);
    }
    return NULL;
}

static const char *set_login_cross_site(cmd_parms *cmd, void *dconf, int flag)
{
    ssg_dir_conf *c = dconf;

    (void)cmd;
    c->login_cross_site = flag ? 1 : 0;
    return NULL;
}

void *ssg_create_srv(apr_pool_t *p, server_rec *s)
{
    ssg_srv_conf *c = apr_pcalloc(p, sizeof(*c));

    (void)s;
    c->rv_allow = -1;
    c->rv_interval = -1;
    return c;
}

void *ssg_merge_srv(apr_pool_t *p, void *basev, void *addv)
{
    ssg_srv_conf *base = basev, *add = addv;
    ssg_srv_conf *c = apr_pcalloc(p, sizeof(*c));

    *c = add->rv_instance ? *add : *base;
    c->rv_allow = add->rv_allow != -1 ? add->rv_allow : base->rv_allow;
    c->rv_interval = add->rv_interval != -1 ? add->rv_interval : base->rv_interval;
    if (c->rv_interval == -1) {
        c->rv_interval = apr_time_from_sec(1);
    }
    return c;
}

static const char *set_revocation_cache(cmd_parms *cmd, void *dconf, const char *arg)
{
    ssg_srv_conf *sc = ap_get_module_config(cmd->server->module_config, &session_sign_module);
    (void)dconf;
    if (sc->rv_instance) {
        return "SessionSignRevocationCache: one cache per server; remove the second line";
    }
    return ssg_revocation_set_cache(cmd, sc, arg);
}

static const char *set_revocation_unavailable(cmd_parms *cmd, void *dconf, const char *arg)
{
    ssg_srv_conf *sc = ap_get_module_config(cmd->server->module_config, &session_sign_module);

    (void)dconf;
    if (!strcasecmp(arg, "deny")) {
        sc->rv_allow = 0;
    }
    else if (!strcasecmp(arg, "allow")) {
        sc->rv_allow = 1;
    }
    else {
        return apr_psprintf(cmd->pool,
                            "SessionSignRevocationUnavailable: '%s' is neither deny (503 while "
                            "the cache is down, the default) nor allow",
                            arg);
    }
    return NULL;
}

static const char *set_revocation_interval(cmd_parms *cmd, void *dconf, const char *arg)
{
    ssg_srv_conf *sc = ap_get_module_config(cmd->server->module_config, &session_sign_module);
    char *end = NULL;
    apr_int64_t v;

    (void)dconf;
    errno = 0;
    v = apr_strtoi64(arg, &end, 10);
    if (!*arg || *end || errno || v < 0 || v > 60 || arg[0] == '+' || arg[0] == '-') {
        return apr_psprintf(cmd->pool,
                            "SessionSignRevocationInterval: '%s' is not a number of seconds "
                            "from 0 (ask the cache on every request) to 60",
                            arg);
    }
    sc->rv_interval = apr_time_from_sec(v);
    return NULL;
}

const command_rec ssg_cmds[] = {
    AP_INIT_ITERATE("SessionSignKey", set_sign_key, NULL, RSRC_CONF | OR_AUTHCFG,
                    "secret [secret ...]: the first signs, all verify (at least 32 bytes each)"),
    AP_INIT_TAKE1("SessionSignKeyFile", set_sign_key_file, NULL, RSRC_CONF | ACCESS_CONF,
                  "path of a file with one secret per line; the first signs, all verify"),
    AP_INIT_TAKE1(
        "SessionSignMaxLifetime", set_max_lifetime, NULL, RSRC_CONF | OR_AUTHCFG,
        "seconds a session may live from its issue, whatever SessionMaxAge says; 0 for none"),
    AP_INIT_TAKE1("SessionSignContext", set_context, NULL, RSRC_CONF | OR_AUTHCFG,
                  "label bound into every signature; tokens of another label are refused"),
    AP_INIT_TAKE1("SessionSignUserKey", set_user_key, NULL, RSRC_CONF | OR_AUTHCFG,
                  "session key that holds the identity (default user)"),
    AP_INIT_TAKE2("SessionSignLoginFields", set_login_fields, NULL, RSRC_CONF | OR_AUTHCFG,
                  "names of the user and password fields of the login form"),
    AP_INIT_RAW_ARGS("SessionSignLoginAttribute", add_login_attr, NULL, RSRC_CONF | OR_AUTHCFG,
                     "name value-expression [condition]: also store this in the session at login"),
    AP_INIT_ITERATE("SessionSignLoginProvider", add_login_provider, NULL, RSRC_CONF | ACCESS_CONF,
                    "authentication providers a form login checks, in order (default file)"),
    AP_INIT_TAKE1("SessionSignRevocationCache", set_revocation_cache, NULL, RSRC_CONF,
                  "provider[:arguments] of httpd's socache (shmcb, redis, memcache) that "
                  "holds revoked sessions"),
    AP_INIT_TAKE1("SessionSignRevocationUnavailable", set_revocation_unavailable, NULL, RSRC_CONF,
                  "deny (default: 503 while the revocation cache is down) or allow"),
    AP_INIT_TAKE1("SessionSignRevocationInterval", set_revocation_interval, NULL, RSRC_CONF,
                  "seconds a child may answer from memory for a session it checked (default 1)"),
    AP_INIT_FLAG("SessionSignLoginCrossSite", set_login_cross_site, NULL, RSRC_CONF | ACCESS_CONF,
                 "On: a GET login (AuthType Basic, SSO) may come from another site (default Off)"),
    {NULL}};
