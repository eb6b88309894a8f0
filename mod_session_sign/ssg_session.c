/*
 * ssg_session.c - mod_session's session_encode/decode hooks: every session
 * written is signed (outermost, after mod_session_crypto), every session
 * read is verified before anything else looks at it.
 *
 * A refused token is not an error for mod_session: the session is simply
 * empty (no AH01817, no error page).
 *
 * .htaccess: where an .htaccess file applied to the request holds a
 * directive of mod_session or of ours (SessionHeader, Session,
 * SessionSignContext...), its author could have a CGI write any session.
 * Such sessions are signed with the configured context plus the list of
 * those .htaccess directories, so they verify only where the same
 * .htaccess files configure the request (docs/security.md, "A session
 * written under .htaccess stays there"). Tokens signed with the plain
 * context still verify there, as everywhere.
 */
#include "ssg_private.h"

APLOG_USE_MODULE(session_sign);

#define SSG_HTACCESS_MARK "\n.htaccess:"

static const char *ssg_conf_context(const ssg_dir_conf *c)
{
    return c->context ? c->context : SSG_DEFAULT_CONTEXT;
}

/* Did the .htaccess file whose configuration is v set a directive of
 * mod_session's or of ours? Only the presence of a module's entry in that
 * file's own configuration vector is looked at, never its fields. */
static int ssg_htaccess_touches_sessions(const struct ap_conf_vector_t *v)
{
    return v && (ap_get_module_config(v, &session_module) != NULL /* presence only */
                 || ap_get_module_config(v, &session_sign_module) != NULL);
}

const char *ssg_request_context(request_rec *r, const ssg_dir_conf *c, const char **own)
{
    const struct htaccess_result *h;
    const char *ctx = ssg_conf_context(c);
    char *dirs = NULL;

    *own = NULL;
    for (h = r->htaccess; h; h = h->next) {
        if (ssg_htaccess_touches_sessions(h->htaccess)) {
            dirs = dirs ? apr_pstrcat(r->pool, dirs, "\n", h->dir, NULL) : (char *)h->dir;
        }
    }
    if (dirs) {
        *own = apr_pstrcat(r->pool, ctx, SSG_HTACCESS_MARK, dirs, NULL);
        if (strlen(*own) > SSG_MAX_CONTEXT_LEN) {
            /* a long path list: bind to its digest instead, the same way */
            *own = apr_pstrcat(r->pool, ctx, SSG_HTACCESS_MARK,
                               "sha256:", ssg_digest_hex(r->pool, dirs, strlen(dirs)), NULL);
        }
    }
    return ctx;
}

/* Verify token under the scope's contexts: the configured one, then the
 * one of the .htaccess files that configure this request, if any. */
static ssg_status_e ssg_verify_here(request_rec *r, const ssg_dir_conf *conf, const char *token,
                                    ssg_result_t *res, const char **ctx_out)
{
    const char *own, *ctx = ssg_request_context(r, conf, &own);
    apr_int64_t now = apr_time_sec(r->request_time);
    ssg_status_e vs = ssg_verify(r->pool, conf->ring, ctx, now, conf->max_lifetime, SSG_CLOCK_SKEW,
                                 token, strlen(token), res);

    if (vs == SSG_ERR_BAD_MAC && own) {
        vs = ssg_verify(r->pool, conf->ring, own, now, conf->max_lifetime, SSG_CLOCK_SKEW, token,
                        strlen(token), res);
    }
    if (ctx_out) {
        *ctx_out = own ? own : ctx;
    }
    return vs;
}

/* Drop a session already decoded into z (by an earlier scope of this
 * request chain) and record why. */
static void ssg_refuse_cached(request_rec *r, ssg_req_t *st, session_rec *z, const char *why)
{
    st->verdict = SESSION_SIGN_INVALID;
    st->reason = why;
    st->pending = 0;
    st->logged = 0;
    ssg_log_refusal(r, st);
    apr_table_clear(z->entries);
    z->expiry = 0;
}

/* An internal redirect moved the request into a scope with another ring or
 * context: the cached session counts only if its token verifies here too. */
static void ssg_rescope(request_rec *r, ssg_dir_conf *conf, ssg_req_t *st, session_rec *z,
                        const char *ctx)
{
    ssg_status_e vs;

    st->ring = conf->ring;
    st->context = ctx;
    if (!ssg_verified(st->verdict)) {
        if (!apr_is_empty_table(z->entries)) {
            ssg_refuse_cached(r, st, z, "session not valid in this scope");
        }
        return;
    }
    vs = st->token ? ssg_verify_here(r, conf, st->token, NULL, NULL) : SSG_ERR_EMPTY;
    if (!ssg_status_ok(vs)) {
        ssg_refuse_cached(r, st, z,
                          apr_pstrcat(r->pool, ssg_status_str(vs), " in this scope", NULL));
    }
}

/* A re-run of the decode hooks on the session mod_session cached for this
 * request (z->encoded NULL): keep the verdict, unless the scope changed. */
static apr_status_t ssg_decode_cached(request_rec *r, ssg_dir_conf *conf, ssg_req_t *st,
                                      session_rec *z)
{
    const char *own, *ctx = ssg_request_context(r, conf, &own);

    if (own) {
        ctx = own;
    }
    if (!st->decided) {
        st->decided = 1;
        st->ring = conf->ring;
        st->context = ctx;
        if (!apr_is_empty_table(z->entries)) {
            /* decoded earlier in this request chain by a scope without
             * a key: unsigned data, never trusted here */
            ssg_refuse_cached(r, st, z, "session decoded unsigned in another scope");
            return OK;
        }
        st->verdict = SESSION_SIGN_ABSENT; /* first look: no session */
        st->reason = "no session";
        return OK;
    }
    if (st->ring != conf->ring || (st->context != ctx && strcmp(st->context, ctx) != 0)) {
        ssg_rescope(r, conf, st, z, ctx); /* internal redirect */
    }
    return OK;
}

/* Verify the outer token and hand the inner payload to the next decoder. */
apr_status_t ssg_session_decode(request_rec *r, session_rec *z)
{
    ssg_dir_conf *conf = ap_get_module_config(r->per_dir_config, &session_sign_module);
    ssg_req_t *st;
    ssg_result_t res;
    ssg_status_e vs;
    const char *ctx;

    if (!conf->ring) {
        return OK; /* signing not configured here */
    }
    st = ssg_req(r);
    if (!z->encoded) {
        return ssg_decode_cached(r, conf, st, z);
    }

    vs = ssg_verify_here(r, conf, z->encoded, &res, &ctx);
    st->decided = 1;
    st->ring = conf->ring;
    st->context = ctx;
    st->token = NULL;
    if (ssg_status_ok(vs)) {
        st->token = apr_pstrdup(ssg_top(r)->pool, z->encoded);
        memcpy(st->sid, res.sid, sizeof(st->sid));
        st->sid_v2 = res.version == 2;
        z->encoded = res.payload;
        st->verdict = (vs == SSG_OK) ? SESSION_SIGN_VERIFIED : SESSION_SIGN_VERIFIED_OLD_KEY;
        st->reason = ssg_status_str(vs);
        st->iat = res.iat;
        st->pending = 1;
        if (vs == SSG_OK_OLD_KEY) {
            /* force a save, so the session is re-signed with the current key */
            z->dirty = 1;
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                          "SSG0002: session signed with an older key; "
                          "re-signing it with the current key");
        }
        return OK;
    }

    st->verdict = (vs == SSG_ERR_EXPIRED) ? SESSION_SIGN_EXPIRED : SESSION_SIGN_INVALID;
    st->reason = ssg_status_str(vs);
    st->pending = 0;
    ssg_log_refusal(r, st);
    /* no session: nothing for the inner decoders to read */
    z->encoded = NULL;
    z->expiry = 0;
    apr_table_clear(z->entries);
    return OK;
}

/* Runs after mod_session's own decoder: the payload is now entries and
 * expiry, so SessionMaxAge can be judged and the identity recorded. */
apr_status_t ssg_session_decode_done(request_rec *r, session_rec *z)
{
    ssg_dir_conf *conf;
    ssg_req_t *st;
    const char *user;

    st = ap_get_module_config(ssg_top(r)->request_config, &session_sign_module);
    if (!st || !st->pending) {
        return OK;
    }
    st->pending = 0;
    if (z->expiry && z->expiry < apr_time_now()) {
        st->verdict = SESSION_SIGN_EXPIRED;
        st->reason = "SessionMaxAge exceeded";
        ssg_log_refusal(r, st);
        return OK; /* mod_session drops it next */
    }
    conf = ap_get_module_config(r->per_dir_config, &session_sign_module);
    user = apr_table_get(z->entries, ssg_conf_user_key(conf));
    st->verified_user = user ? apr_pstrdup(ssg_top(r)->pool, user) : NULL;
    if (ssg_revocation_enabled(r)) {
        /* only a token whose MAC verified gets this far */
        int rs = ssg_revocation_check(r, st->sid, st->verified_user, st->iat);
        if (rs == SESSION_SIGN_UNAVAILABLE && ssg_revocation_allows_outage(r)) {
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                          "SSG0074: revocation cache down: session %.6s... allowed "
                          "unchecked (SessionSignRevocationUnavailable allow)",
                          st->sid);
            rs = SESSION_SIGN_VERIFIED;
        }
        if (rs != SESSION_SIGN_VERIFIED) {
            st->verdict = rs;
            st->reason = rs == SESSION_SIGN_REVOKED ? "revoked" : "revocation cache unavailable";
            if (rs == SESSION_SIGN_REVOKED) {
                ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                              "SSG0005: session refused (revoked): session %.6s...; "
                              "treated as no session",
                              st->sid);
                st->logged = 1;
            }
            apr_table_clear(z->entries);
            z->expiry = 0;
        }
    }
    return OK;
}

static int ssg_entry_counts(void *rec, const char *key, const char *val)
{
    int *n = rec;

    (void)val;
    if (strcmp(key, "expiry") != 0) {
        (*n)++;
    }
    return 1;
}

/* Wrap whatever the inner encoders produced in a signed token. */
apr_status_t ssg_session_encode(request_rec *r, session_rec *z)
{
    ssg_dir_conf *conf = ap_get_module_config(r->per_dir_config, &session_sign_module);
    ssg_req_t *st;
    apr_int64_t iat, now;
    const char *user, *ctx, *own;
    char *tok;
    int n = 0;

    if (!conf->ring || !z->encoded || !*z->encoded) {
        return OK;
    }
    /* a session without entries is no session: write nothing, so the
     * cookie is removed (logout) and no anonymous token is minted */
    apr_table_do(ssg_entry_counts, &n, z->entries, NULL);
    if (n == 0) {
        z->encoded = "";
        return OK;
    }

    st = ssg_req(r);
    now = apr_time_sec(apr_time_now());
    user = apr_table_get(z->entries, ssg_conf_user_key(conf));
    iat = now;
    /* keep the original issued-at, so SessionSignMaxLifetime is absolute;
     * a login or a change of identity starts a new lifetime */
    if (!st->fresh && st->iat > 0 && ssg_verified(st->verdict) &&
        ((!user && !st->verified_user) ||
         (user && st->verified_user && !strcmp(user, st->verified_user)))) {
        iat = st->iat;
    }
    ctx = ssg_request_context(r, conf, &own);
    if (ssg_revocation_enabled(r)) {
        /* v2: the session id is kept across re-signing, as the issued-at;
         * a login, a change of identity or a v1 session gets a new one */
        char sid[SSG_SID_LEN + 1];
        if (iat == st->iat && st->sid_v2 && !st->fresh) {
            memcpy(sid, st->sid, sizeof(sid));
        }
        else if (ssg_sid_new(sid) != 0) {
            return APR_EGENERAL;
        }
        if (st->fresh && st->min_iat > iat) {
            iat = st->min_iat; /* a login in the second of a revocation */
        }
        tok = ssg_sign_sid(r->pool, conf->ring, own ? own : ctx, iat, sid, z->encoded,
                           strlen(z->encoded));
    }
    else {
        tok = ssg_sign(r->pool, conf->ring, own ? own : ctx, iat, z->encoded, strlen(z->encoded));
    }
    if (!tok) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "SSG0003: cannot sign the session (payload of %" APR_SIZE_T_FMT
                      " bytes; at most %d); session not saved",
                      strlen(z->encoded), SSG_MAX_TOKEN_LEN);
        return APR_EGENERAL;
    }
    if (own) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                      "SSG0004: session signed for the .htaccess scope of this request only");
    }
    z->encoded = tok;
    return OK;
}
