/*
 * ssg_status.c - the verdict on this request's session, and the optional
 * functions other modules (mod_ws_auth) call for it: session_sign_status,
 * session_sign_get, session_sign_status_name, and for open tunnels
 * session_sign_tunnel_info / session_sign_tunnel_check (mod_session_sign.h).
 */
#include "ssg_private.h"

APLOG_USE_MODULE(session_sign);

request_rec *ssg_top(request_rec *r)
{
    while (r->prev) {
        r = r->prev;
    }
    while (r->main) {
        r = r->main;
    }
    while (r->prev) {
        r = r->prev;
    }
    return r;
}

ssg_req_t *ssg_req(request_rec *r)
{
    request_rec *top = ssg_top(r);
    ssg_req_t *st = ap_get_module_config(top->request_config, &session_sign_module);

    if (!st) {
        st = apr_pcalloc(top->pool, sizeof(*st));
        st->verdict = SESSION_SIGN_ABSENT;
        st->reason = "no session";
        ap_set_module_config(top->request_config, &session_sign_module, st);
    }
    return st;
}

int ssg_verified(int status)
{
    return status == SESSION_SIGN_VERIFIED || status == SESSION_SIGN_VERIFIED_OLD_KEY;
}

void ssg_log_refusal(request_rec *r, ssg_req_t *st)
{
    if (st->logged) {
        return;
    }
    st->logged = 1;
    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                  "SSG0001: session refused (%s): %s; treated as no session",
                  st->verdict == SESSION_SIGN_EXPIRED ? "expired" : "invalid", st->reason);
}

static int ssg_unconfigured(const char **reason, const char *why)
{
    if (reason) {
        *reason = why;
    }
    return SESSION_SIGN_UNCONFIGURED;
}

/* Load the session through mod_session (which runs our decode hooks) and
 * report what they decided. */
int ssg_status(request_rec *r, const char **user, const char **reason)
{
    ssg_dir_conf *conf = ap_get_module_config(r->per_dir_config, &session_sign_module);
    session_rec *z = NULL;
    ssg_req_t *st;
    const char *u;

    if (user) {
        *user = NULL;
    }
    st = ssg_req(r);
    st->status_req = r;
    st->status_z = NULL;
    if (!conf->ring) {
        return ssg_unconfigured(reason, "no SessionSignKey or SessionSignKeyFile in this scope");
    }
    /* mod_session answers success without a session where Session is not
     * On (or SessionExclude leaves the URL out), and an error where no
     * store (SessionCookieName, SessionDBDCookieName) is configured */
    if (!ssg_session_load_fn) {
        return ssg_unconfigured(reason, "mod_session is not loaded");
    }
    if (ssg_session_load_fn(r, &z) != APR_SUCCESS) {
        return ssg_unconfigured(reason, "no session store (SessionCookieName or "
                                        "SessionDBDCookieName) in this scope");
    }
    if (!z) {
        return ssg_unconfigured(reason, "Session is not On in this scope");
    }
    if (st->pending) {
        /* a MAC that verified over a payload an inner decoder refused
         * (e.g. mod_session_crypto with another passphrase) */
        st->pending = 0;
        st->verdict = SESSION_SIGN_INVALID;
        st->reason = "signed payload could not be decoded";
        ssg_log_refusal(r, st);
    }
    if (reason) {
        *reason = st->reason;
    }
    if (ssg_verified(st->verdict)) {
        st->status_z = z;
        u = apr_table_get(z->entries, ssg_conf_user_key(conf));
        if (user && u && *u) {
            *user = u;
        }
    }
    return st->verdict;
}

static int session_sign_status(request_rec *r, const char **user, const char **reason)
{
    return ssg_status(r, user, reason);
}

static const char *session_sign_get(request_rec *r, const char *key)
{
    ssg_req_t *st = ssg_req(r);

    if (st->status_req != r) {
        ssg_status(r, NULL, NULL); /* sets status_req and status_z */
    }
    if (st->status_z && key && !strcmp(key, SSG_SID_KEY)) {
        /* the session id is no session entry: only asked for by name */
        return st->sid[0] ? apr_pstrdup(r->pool, st->sid) : NULL;
    }
    return st->status_z ? apr_table_get(st->status_z->entries, key) : NULL;
}

static const char *session_sign_status_name(int status)
{
    switch (status) {
    case SESSION_SIGN_ABSENT: return "absent";
    case SESSION_SIGN_VERIFIED: return "verified";
    case SESSION_SIGN_VERIFIED_OLD_KEY: return "verified-old-key";
    case SESSION_SIGN_INVALID: return "invalid";
    case SESSION_SIGN_EXPIRED: return "expired";
    case SESSION_SIGN_REVOKED: return "revoked";
    case SESSION_SIGN_UNAVAILABLE: return "unavailable";
    case SESSION_SIGN_UNCONFIGURED: return "unconfigured";
    }
    return "unknown";
}

static int session_sign_tunnel_info(request_rec *r, session_sign_tunnel_t *out)
{
    ssg_dir_conf *conf = ap_get_module_config(r->per_dir_config, &session_sign_module);
    const char *user = NULL;
    int st = ssg_status(r, &user, NULL);
    ssg_req_t *rq = ssg_req(r);

    memset(out, 0, sizeof(*out));
    if (!ssg_verified(st) || !rq->status_z) {
        return st;
    }
    out->sid = rq->sid[0] ? apr_pstrdup(r->pool, rq->sid) : NULL;
    out->user = user;
    out->iat = rq->iat;
    /* the token counts whole seconds: refused once now - iat > max */
    out->lifetime_end =
        conf->max_lifetime > 0 ? apr_time_from_sec(rq->iat + conf->max_lifetime + 1) : 0;
    out->expiry = rq->status_z->expiry;
    out->revocable = out->sid && ssg_revocation_enabled(r);
    out->interval = out->revocable ? ssg_revocation_interval(r->server) : 0;
    return st;
}

static int session_sign_tunnel_check(server_rec *s, apr_pool_t *p, const char *sid,
                                     const char *user, apr_int64_t iat)
{
    if (!sid || !ssg_revocation_enabled_server(s)) {
        return SESSION_SIGN_VERIFIED;
    }
    return ssg_revocation_check_server(s, p, sid, user, iat);
}

void ssg_register_optional_fns(void)
{
    APR_REGISTER_OPTIONAL_FN(session_sign_tunnel_info);
    APR_REGISTER_OPTIONAL_FN(session_sign_tunnel_check);
    APR_REGISTER_OPTIONAL_FN(session_sign_status);
    APR_REGISTER_OPTIONAL_FN(session_sign_get);
    APR_REGISTER_OPTIONAL_FN(session_sign_status_name);
}
