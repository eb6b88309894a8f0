/*
 * ssg_authz.c - AuthType session-sign (the identity from the verified
 * session) and Require session-attr (a signed session value).
 *
 * An identified user whom the Require lines refuse gets 403, not the 401
 * mod_authz_core answers (a 401 would ask for a login the session already
 * did). Through documented hooks only: mod_authz_core calls
 * ap_note_auth_failure() for exactly that case, where we record it and give
 * the 401 the body of a 403 (ap_custom_response); ap_send_error_response()
 * runs the insert_error_filter hooks before it writes the status line,
 * where we turn the status into 403. AuthzSendForbiddenOnFailure On has
 * the same effect and makes both hooks moot.
 */
#include "ssg_private.h"

APLOG_USE_MODULE(session_sign);
#include "mod_auth.h"
#include "mod_core.h"

#define SSG_NOTE_FORBIDDEN "session-sign-forbidden"
#define SSG_FORBIDDEN_TEXT "\"Forbidden\n"

static int ssg_is_our_auth_type(request_rec *r)
{
    const char *t = ap_auth_type(r);
    return t && !strcasecmp(t, SSG_AUTH_TYPE);
}

static int ssg_check_authn(request_rec *r)
{
    const char *user, *reason;
    int st;

    if (!ssg_is_our_auth_type(r)) {
        return DECLINED;
    }
    st = ssg_status(r, &user, &reason);
    if (st == SESSION_SIGN_UNCONFIGURED) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "SSG0010: AuthType session-sign cannot work here: %s; "
                      "add SessionSignKey (or SessionSignKeyFile), Session On "
                      "and a session store for this location",
                      reason);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (ssg_verified(st) && user) {
        r->user = apr_pstrdup(r->pool, user);
        r->ap_auth_type = SSG_AUTH_TYPE;
        return OK;
    }
    if (st == SESSION_SIGN_UNAVAILABLE) {
        /* not a 401: an application must not log its user out over it */
        apr_table_setn(r->err_headers_out, "Retry-After", "5");
        return HTTP_SERVICE_UNAVAILABLE;
    }
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "SSG0011: no valid session (%s): 401",
                  ssg_verified(st) ? "session holds no identity" : reason);
    return HTTP_UNAUTHORIZED; /* no WWW-Authenticate: no dialog */
}

/* ap_note_auth_failure() for our type: no challenge to add. mod_authz_core
 * calls it with r->user set when the Require lines refused that user. */
static int ssg_note_auth_failure(request_rec *r, const char *auth_type)
{
    const char *text;

    if (!auth_type || strcasecmp(auth_type, SSG_AUTH_TYPE)) {
        return DECLINED;
    }
    if (r->user) {
        apr_table_setn(r->notes, SSG_NOTE_FORBIDDEN, "1");
        /* the 401 is sent as a 403: with the 403's text body if the scope
         * has one (mod_ws_auth's), else a plain one; never the 401's
         * ErrorDocument (a login form for someone already signed in) */
        text = ap_response_code_string(r, ap_index_of_response(HTTP_FORBIDDEN));
        ap_custom_response(r, HTTP_UNAUTHORIZED,
                           text && text[0] == '"' ? text + 1 : SSG_FORBIDDEN_TEXT + 1);
    }
    return OK;
}

static void ssg_insert_error_filter(request_rec *r)
{
    if (r->status == HTTP_UNAUTHORIZED && apr_table_get(r->notes, SSG_NOTE_FORBIDDEN)) {
        r->status = HTTP_FORBIDDEN;
        r->status_line = NULL;
        apr_table_unset(r->err_headers_out, "WWW-Authenticate");
    }
}

/* Require session-attr key [value ...] */
static authz_status ssg_session_attr_check(request_rec *r, const char *require_args,
                                           const void *parsed)
{
    const apr_array_header_t *words = parsed;
    const char **w = (const char **)words->elts;
    const char *reason, *v = NULL;
    int st, i;

    (void)require_args;
    st = ssg_status(r, NULL, &reason);
    if (st == SESSION_SIGN_UNCONFIGURED) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "SSG0012: Require session-attr cannot work here: %s; "
                      "add SessionSignKey (or SessionSignKeyFile), Session On "
                      "and a session store for this location",
                      reason);
        return AUTHZ_GENERAL_ERROR;
    }
    if (!ssg_verified(st)) {
        /* with an AuthType, let authentication answer (401) */
        return ap_auth_type(r) ? AUTHZ_DENIED_NO_USER : AUTHZ_DENIED;
    }
    v = apr_table_get(ssg_req(r)->status_z->entries, w[0]);
    if (!v || !*v) {
        return AUTHZ_DENIED;
    }
    if (words->nelts == 1) {
        return AUTHZ_GRANTED;
    }
    for (i = 1; i < words->nelts; i++) {
        if (!strcmp(v, w[i])) {
            return AUTHZ_GRANTED;
        }
    }
    return AUTHZ_DENIED;
}

static const char *ssg_session_attr_parse(cmd_parms *cmd, const char *line, const void **parsed)
{
    apr_array_header_t *words = apr_array_make(cmd->pool, 4, sizeof(char *));
    const char *p = line;
    char *w;

    while (*p && (w = ap_getword_conf(cmd->pool, &p)) && *w) {
        *(char **)apr_array_push(words) = w;
    }
    if (words->nelts < 1) {
        return "Require session-attr needs a session key, and optionally "
               "values: Require session-attr role admin";
    }
    if (strchr(((char **)words->elts)[0], '=') || strchr(((char **)words->elts)[0], '&')) {
        return "Require session-attr: a session key cannot contain '=' or '&'";
    }
    *parsed = words;
    return NULL;
}

static const authz_provider ssg_authz_session_attr = {
    &ssg_session_attr_check,
    &ssg_session_attr_parse,
};

void ssg_register_authz_hooks(apr_pool_t *p)
{
    /* AuthType session-sign: identity from the verified session */
    ap_hook_check_authn(ssg_check_authn, NULL, NULL, APR_HOOK_MIDDLE, AP_AUTH_INTERNAL_PER_CONF);
    /* records "Require refused an identified user" for the 403 below */
    ap_hook_note_auth_failure(ssg_note_auth_failure, NULL, NULL, APR_HOOK_MIDDLE);
    /* before the error response's status line is written: 401 -> 403 */
    ap_hook_insert_error_filter(ssg_insert_error_filter, NULL, NULL, APR_HOOK_MIDDLE);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "session-attr", AUTHZ_PROVIDER_VERSION,
                              &ssg_authz_session_attr, AP_AUTH_INTERNAL_PER_CONF);
}
