/*
 * ssg_login.c - the session-sign-login handler (a login by the Location's
 * AuthType, or by the HTML form below, checked against authn providers)
 * and the session-sign-logout handler; both refuse cross-origin requests
 * (login CSRF) and accept only a local `return` path (no open redirect).
 */
#include "ssg_private.h"

APLOG_USE_MODULE(session_sign);
#include "mod_auth.h"
#include "ap_provider.h"
#include "util_script.h"

#include "ssg_util.h"
#include "ssg_origin.h"

#define SSG_MAX_FORM_BODY 8192

static const char *ssg_return_param(request_rec *r, int *bad)
{
    const char *v = NULL;
    ssg_return_e rs;

    *bad = 0;
    if (ssg_query_get(r->pool, r->args, "return", &v) != 0) {
        *bad = 1;
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "SSG0020: malformed or repeated return parameter: 400");
        return NULL;
    }
    if (!v) {
        return NULL;
    }
    rs = ssg_return_path_check(v, strlen(v));
    if (rs != SSG_RET_OK) {
        *bad = 1;
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "SSG0021: refused return parameter (%s): 400",
                      ssg_return_str(rs));
        return NULL;
    }
    return v;
}

/* Is this request from our own origin? Origin first, Referer second,
 * Sec-Fetch-Site third; a request with none of them (not a browser) passes. */
static int ssg_same_origin(request_rec *r)
{
    const char *origin = apr_table_get(r->headers_in, "Origin");
    const char *referer = apr_table_get(r->headers_in, "Referer");
    const char *host = apr_table_get(r->headers_in, "Host");
    const char *scheme = ap_http_scheme(r);
    ssg_origin_t o;

    if (origin) {
        if (ssg_origin_parse(origin, strlen(origin), &o) != SSG_ORIGIN_OK) {
            return 0;
        }
    }
    else if (referer) {
        if (ssg_origin_from_referer(referer, strlen(referer), &o) != 0) {
            return 0;
        }
    }
    else {
        /* no Origin, no Referer: a browser still says where it comes from */
        const char *site = apr_table_get(r->headers_in, "Sec-Fetch-Site");
        return !site || !strcasecmp(site, "same-origin") || !strcasecmp(site, "none");
    }
    if (!host) {
        return 0;
    }
    return ssg_origin_same_as_host(&o, host, strlen(host), scheme);
}

static void ssg_no_store(request_rec *r)
{
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
}

static int ssg_send_form(request_rec *r, ssg_dir_conf *conf, int status, const char *ret)
{
    const char *uf = conf->user_field ? conf->user_field : SSG_DEFAULT_USER_FIELD;
    const char *pf = conf->pass_field ? conf->pass_field : SSG_DEFAULT_PASS_FIELD;

    if (status != HTTP_OK || !r->prev) {
        /* as an ErrorDocument the form keeps the original status (401) */
        r->status = status;
    }
    ssg_no_store(r);
    ap_set_content_type(r, "text/html; charset=utf-8");
    if (r->header_only) {
        return OK;
    }
    ap_rprintf(
        r,
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Sign in</title></head>\n"
        "<body>\n%s<form method=\"post\" action=\"%s\">\n"
        "<label>User <input name=\"%s\" autocomplete=\"username\" required></label>\n"
        "<label>Password <input name=\"%s\" type=\"password\" autocomplete=\"current-password\" "
        "required></label>\n"
        "%s%s%s"
        "<button type=\"submit\">Sign in</button>\n</form>\n</body></html>\n",
        status == HTTP_UNAUTHORIZED ? "<p role=\"alert\">Sign-in failed.</p>\n" : "",
        ap_escape_html(r->pool, r->uri), ap_escape_html(r->pool, uf), ap_escape_html(r->pool, pf),
        ret ? "<input type=\"hidden\" name=\"return\" value=\"" : "",
        ret ? ap_escape_html(r->pool, ret) : "", ret ? "\">\n" : "");
    return OK;
}

/* Check user/password against the scope's SessionSignLoginProvider list
 * (default "file"), each provider looked up in httpd's registry, in order,
 * as mod_auth_basic and mod_auth_form do with theirs. */
static authn_status ssg_check_password(request_rec *r, const ssg_dir_conf *conf, const char *user,
                                       const char *password)
{
    const authn_provider_list *list;
    authn_provider_list fallback;
    authn_status res = AUTH_USER_NOT_FOUND;
    int i, n;

    if (conf->providers && conf->providers->nelts) {
        list = (const authn_provider_list *)conf->providers->elts;
        n = conf->providers->nelts;
    }
    else {
        fallback.provider_name = AUTHN_DEFAULT_PROVIDER;
        fallback.provider = ap_lookup_provider(AUTHN_PROVIDER_GROUP, AUTHN_DEFAULT_PROVIDER,
                                               AUTHN_PROVIDER_VERSION);
        fallback.next = NULL;
        if (!fallback.provider || !fallback.provider->check_password) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                          "SSG0030: form login needs an authentication "
                          "provider: load mod_authn_file or set "
                          "SessionSignLoginProvider for this location");
            return AUTH_GENERAL_ERROR;
        }
        list = &fallback;
        n = 1;
    }
    for (i = 0; i < n; i++) {
        apr_table_setn(r->notes, AUTHN_PROVIDER_NAME_NOTE, list[i].provider_name);
        res = list[i].provider->check_password(r, user, password);
        apr_table_unset(r->notes, AUTHN_PROVIDER_NAME_NOTE);
        if (res != AUTH_USER_NOT_FOUND) {
            break;
        }
    }
    return res;
}

static int ssg_write_login(request_rec *r, ssg_dir_conf *conf, const char *user)
{
    session_rec *z = NULL;
    ssg_req_t *st;
    int i;

    if (ssg_session_load_fn(r, &z) != APR_SUCCESS || !z) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "SSG0031: login cannot write a session here: add "
                      "Session On and a session store (SessionCookieName or "
                      "SessionDBDCookieName) to this location");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    /* a login starts a new session: nothing of a previous one survives */
    apr_table_clear(z->entries);
    z->expiry = 0;
    ssg_session_set_fn(r, z, ssg_conf_user_key(conf), user);
    r->user = apr_pstrdup(r->pool, user);
    if (conf->login_attrs) {
        ssg_login_attr_t *a = (ssg_login_attr_t *)conf->login_attrs->elts;
        for (i = 0; i < conf->login_attrs->nelts; i++) {
            const char *err = NULL, *val;
            if (a[i].cond) {
                int c = ap_expr_exec(r, a[i].cond, &err);
                if (err || c <= 0) {
                    if (err) {
                        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                                      "SSG0032: SessionSignLoginAttribute %s: "
                                      "condition failed: %s",
                                      a[i].name, err);
                    }
                    continue;
                }
            }
            val = ap_expr_str_exec(r, a[i].value, &err);
            if (err) {
                ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                              "SSG0033: SessionSignLoginAttribute %s: %s", a[i].name, err);
                continue;
            }
            if (val && *val) {
                ssg_session_set_fn(r, z, a[i].name, val);
            }
        }
    }
    z->dirty = 1;
    st = ssg_req(r);
    st->fresh = 1;
    if (ssg_revocation_enabled(r)) {
        /* revoke-user refuses sessions issued at or before its second: a
         * login in that same second is issued one second later */
        apr_int64_t t = ssg_revocation_user_since(r, user);
        st->min_iat = t >= 0 ? t + 1 : 0;
    }
    return OK;
}

static int ssg_see_other(request_rec *r, const char *to)
{
    ssg_no_store(r);
    apr_table_setn(r->headers_out, "Location", to);
    return HTTP_SEE_OTHER;
}

/* The urlencoded form body of r, or the status to answer (415, 400). */
static int ssg_read_form(request_rec *r, apr_array_header_t **pairs)
{
    const char *ct = apr_table_get(r->headers_in, "Content-Type");

    if (!ct || strncasecmp(ct, "application/x-www-form-urlencoded", 33) ||
        (ct[33] && ct[33] != ';' && ct[33] != ' ')) {
        return HTTP_UNSUPPORTED_MEDIA_TYPE;
    }
    *pairs = NULL;
    if (ap_parse_form_data(r, NULL, pairs, -1, SSG_MAX_FORM_BODY) != OK || !*pairs) {
        return HTTP_BAD_REQUEST;
    }
    return OK;
}

/* One form field's value into *slot (NUL-terminated, from r->pool).
 * @return OK, or 400 for a field given twice, too long or holding a NUL */
static int ssg_form_value(request_rec *r, ap_form_pair_t *pair, apr_off_t max, const char **slot)
{
    apr_off_t len;
    apr_size_t size;
    char *buf;

    if (*slot) {
        return HTTP_BAD_REQUEST; /* a field given twice */
    }
    apr_brigade_length(pair->value, 1, &len);
    if (len < 0 || len > max) {
        return HTTP_BAD_REQUEST;
    }
    size = (apr_size_t)len;
    buf = apr_palloc(r->pool, size + 1);
    apr_brigade_flatten(pair->value, buf, &size);
    buf[size] = '\0';
    if (strlen(buf) != size) {
        return HTTP_BAD_REQUEST; /* embedded NUL */
    }
    *slot = buf;
    return OK;
}

int ssg_login_handler(request_rec *r)
{
    ssg_dir_conf *conf;
    const char *ret, *user = NULL, *pass = NULL;
    int bad, rv;

    if (!r->handler || strcmp(r->handler, SSG_LOGIN_HANDLER)) {
        return DECLINED;
    }
    conf = ap_get_module_config(r->per_dir_config, &session_sign_module);
    if (!conf->ring) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "SSG0034: session-sign-login without a key: add "
                      "SessionSignKey or SessionSignKeyFile to this location");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    ret = ssg_return_param(r, &bad);
    if (bad) {
        return HTTP_BAD_REQUEST;
    }
    if (!ret && r->prev && r->prev->unparsed_uri &&
        ssg_return_path_check(r->prev->unparsed_uri, strlen(r->prev->unparsed_uri)) == SSG_RET_OK) {
        /* shown as ErrorDocument 401: come back to the page asked for */
        ret = r->prev->unparsed_uri;
    }

    if (r->method_number == M_POST) {
        apr_array_header_t *pairs = NULL;
        const char *uf = conf->user_field ? conf->user_field : SSG_DEFAULT_USER_FIELD;
        const char *pf = conf->pass_field ? conf->pass_field : SSG_DEFAULT_PASS_FIELD;
        const char *form_ret = NULL;
        int i;

        if (!ssg_same_origin(r)) {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                          "SSG0035: cross-origin login POST refused: 403");
            return HTTP_FORBIDDEN;
        }
        if ((rv = ssg_read_form(r, &pairs)) != OK) {
            return rv;
        }
        for (i = 0; i < pairs->nelts; i++) {
            ap_form_pair_t *pair = &((ap_form_pair_t *)pairs->elts)[i];
            const char **slot = NULL;

            if (!strcmp(pair->name, uf)) {
                slot = &user;
            }
            else if (!strcmp(pair->name, pf)) {
                slot = &pass;
            }
            else if (!strcmp(pair->name, "return")) {
                slot = &form_ret;
            }
            if (!slot) {
                continue;
            }
            if ((rv = ssg_form_value(r, pair, SSG_MAX_FORM_BODY, slot)) != OK) {
                return rv;
            }
        }
        if (form_ret) {
            ssg_return_e rs = ssg_return_path_check(form_ret, strlen(form_ret));
            if (rs != SSG_RET_OK) {
                ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                              "SSG0022: refused return field of the login form (%s): 400",
                              ssg_return_str(rs));
                return HTTP_BAD_REQUEST;
            }
            ret = form_ret;
        }
        if (!user || !*user || !pass || !*pass || strlen(user) > 256) {
            return ssg_send_form(r, conf, HTTP_UNAUTHORIZED, ret);
        }
        switch (ssg_check_password(r, conf, user, pass)) {
        case AUTH_GRANTED: break;
        case AUTH_GENERAL_ERROR: return HTTP_INTERNAL_SERVER_ERROR;
        default:
            /* no user name at warn: people type passwords into it */
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "SSG0036: form login failed: 401");
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                          "SSG0039: form login failed for user \"%s\"",
                          ap_escape_logitem(r->pool, user));
            return ssg_send_form(r, conf, HTTP_UNAUTHORIZED, ret);
        }
        rv = ssg_write_login(r, conf, user);
        if (rv != OK) {
            return rv;
        }
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "SSG0037: user \"%s\" signed in by form",
                      ap_escape_logitem(r->pool, user));
        return ssg_see_other(r, ret ? ret : "/");
    }

    if (r->method_number != M_GET) {
        ap_allow_methods(r, REPLACE_ALLOW, "GET", "POST", NULL);
        return HTTP_METHOD_NOT_ALLOWED;
    }
    if (!r->user || !*r->user) {
        return ssg_send_form(r, conf, HTTP_OK, ret);
    }
    /* authenticated by this location's AuthType (Basic, LDAP, certificate,
     * OIDC...): carry the identity into the signed session, unless another
     * site sent the browser here (login CSRF: a silent SSO or cached Basic
     * credentials would sign the victim in to the attacker's choice) */
    if (conf->login_cross_site != 1 && !ssg_same_origin(r)) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      "SSG0042: cross-origin login GET refused: 403 "
                      "(SessionSignLoginCrossSite On allows it)");
        return HTTP_FORBIDDEN;
    }
    rv = ssg_write_login(r, conf, r->user);
    if (rv != OK) {
        return rv;
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "SSG0038: user \"%s\" signed in by %s",
                  ap_escape_logitem(r->pool, r->user),
                  r->ap_auth_type ? r->ap_auth_type : "authentication");
    return ssg_see_other(r, ret ? ret : "/");
}

/* With a revocation cache, logout revokes the session's id until the
 * latest moment any token of it could verify: its absolute lifetime, or
 * its SessionMaxAge expiry from now, plus the clock skew; 29 days where
 * neither bounds it. */
static apr_status_t ssg_logout_revoke(request_rec *r, session_rec *z)
{
    ssg_dir_conf *conf = ap_get_module_config(r->per_dir_config, &session_sign_module);
    ssg_req_t *st = ssg_req(r);
    apr_int64_t now = apr_time_sec(apr_time_now()), until = 0;

    if (!ssg_revocation_enabled(r) || !ssg_verified(st->verdict) || !st->sid[0]) {
        return APR_SUCCESS;
    }
    if (conf->max_lifetime > 0) {
        until = st->iat + conf->max_lifetime;
    }
    if (z->maxage > 0 && (!until || now + z->maxage < until)) {
        until = now + z->maxage;
    }
    if (!until) {
        until = now + 29 * 86400;
    }
    until += SSG_CLOCK_SKEW;
    return ssg_revocation_revoke_session(r, st->sid, apr_time_from_sec(until));
}

int ssg_logout_handler(request_rec *r)
{
    session_rec *z = NULL;
    const char *ret;
    apr_status_t revoked;
    int bad;

    if (!r->handler || strcmp(r->handler, SSG_LOGOUT_HANDLER)) {
        return DECLINED;
    }
    if (r->method_number != M_GET && r->method_number != M_POST) {
        ap_allow_methods(r, REPLACE_ALLOW, "GET", "POST", NULL);
        return HTTP_METHOD_NOT_ALLOWED;
    }
    ret = ssg_return_param(r, &bad);
    if (bad) {
        return HTTP_BAD_REQUEST;
    }
    if (!ssg_same_origin(r)) {
        /* another site cannot sign the user out either */
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "SSG0041: cross-origin logout refused: 403");
        return HTTP_FORBIDDEN;
    }
    if (ssg_session_load_fn(r, &z) != APR_SUCCESS || !z) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "SSG0040: logout cannot clear a session here: add "
                      "Session On and a session store to this location");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    revoked = ssg_logout_revoke(r, z);
    /* an empty session is written as nothing: the store removes the cookie */
    apr_table_clear(z->entries);
    z->dirty = 1;
    if (revoked != APR_SUCCESS) {
        /* the cookie goes, but a copy of it could not be refused everywhere */
        apr_table_setn(r->err_headers_out, "Retry-After", "5");
        return HTTP_SERVICE_UNAVAILABLE;
    }
    if (ret) {
        return ssg_see_other(r, ret);
    }
    ssg_no_store(r);
    ap_set_content_type(r, "text/plain; charset=utf-8");
    if (!r->header_only) {
        ap_rputs("Signed out.\n", r);
    }
    return OK;
}

/* session-sign-revoke: POST user=NAME ends every session of NAME issued
 * before now, on every node sharing the revocation cache. Guarded by the
 * Location's Require lines; refused cross-origin like logout. */
int ssg_revoke_handler(request_rec *r)
{
    ssg_dir_conf *conf;
    apr_array_header_t *pairs = NULL;
    const char *user = NULL;
    apr_int64_t now, until;
    int i, rv;

    if (!r->handler || strcmp(r->handler, SSG_REVOKE_HANDLER)) {
        return DECLINED;
    }
    if (r->method_number != M_POST) {
        ap_allow_methods(r, REPLACE_ALLOW, "POST", NULL);
        return HTTP_METHOD_NOT_ALLOWED;
    }
    if (!ssg_revocation_enabled(r)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "SSG0043: session-sign-revoke needs SessionSignRevocationCache in "
                      "this server's configuration");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (!ssg_same_origin(r)) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "SSG0044: cross-origin revoke refused: 403");
        return HTTP_FORBIDDEN;
    }
    if ((rv = ssg_read_form(r, &pairs)) != OK) {
        return rv;
    }
    for (i = 0; i < pairs->nelts; i++) {
        ap_form_pair_t *pair = &((ap_form_pair_t *)pairs->elts)[i];
        if (!strcmp(pair->name, "user") && (rv = ssg_form_value(r, pair, 256, &user)) != OK) {
            return rv;
        }
    }
    if (!user || !*user) {
        return HTTP_BAD_REQUEST;
    }
    conf = ap_get_module_config(r->per_dir_config, &session_sign_module);
    now = apr_time_sec(apr_time_now());
    /* as long as any session issued before now could still verify: the
     * longer of this scope's absolute lifetime and 29 days */
    until =
        now + (conf->max_lifetime > 29 * 86400 ? conf->max_lifetime : 29 * 86400) + SSG_CLOCK_SKEW;
    if (ssg_revocation_revoke_user(r, user, now, apr_time_from_sec(until)) != APR_SUCCESS) {
        apr_table_setn(r->err_headers_out, "Retry-After", "5");
        return HTTP_SERVICE_UNAVAILABLE;
    }
    ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r,
                  "SSG0045: sessions of user \"%s\" issued before now revoked by %s",
                  ap_escape_logitem(r->pool, user), r->user ? r->user : "(anonymous)");
    ssg_no_store(r);
    ap_set_content_type(r, "text/plain; charset=utf-8");
    if (!r->header_only) {
        ap_rprintf(r, "revoked sessions of %s\n", ap_escape_html(r->pool, user));
    }
    return OK;
}
