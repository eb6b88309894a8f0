/*
 * mod_session_sign.c - signed sessions for Apache httpd 2.4's mod_session.
 *
 * Thin glue: maps request_rec and per-directory configuration onto the pure
 * core (ssg_token.c, ssg_util.c, ssg_origin.c). Every session mod_session
 * writes is signed (session_encode, APR_HOOK_REALLY_LAST: outermost, after
 * mod_session_crypto), every session read back is verified
 * (session_decode, APR_HOOK_REALLY_FIRST: before anything else looks at it).
 *
 * Log tags: SSG0001..SSG0099, one per call site. No log line carries a
 * secret, a token or a cookie value.
 */
#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "ap_expr.h"
#include "ap_provider.h"
#include "mod_auth.h"
#include "mod_session.h"
#include "util_script.h"

#include <errno.h>

#include "apr_strings.h"
#include "apr_file_io.h"
#include "apr_optional.h"

#include "ssg_token.h"
#include "ssg_util.h"
#include "ssg_origin.h"
#include "mod_session_sign.h"

#define SSG_AUTH_TYPE          "session-sign"
#define SSG_LOGIN_HANDLER      "session-sign-login"
#define SSG_LOGOUT_HANDLER     "session-sign-logout"
#define SSG_DEFAULT_CONTEXT    "default"
#define SSG_DEFAULT_USER_KEY   "user"
#define SSG_DEFAULT_USER_FIELD "username"
#define SSG_DEFAULT_PASS_FIELD "password"
#define SSG_MAX_LIFETIME_CAP   (10 * 365 * 24 * 3600LL)
#define SSG_MAX_FORM_BODY      8192
#define SSG_MAX_KEYFILE        65536
#define SSG_NOTE_IN_AUTHZ      "session-sign-in-authz"

/* the only symbol this module exports (built with -fvisibility=hidden) */
extern module AP_MODULE_DECLARE_DATA __attribute__((visibility("default"))) session_sign_module;

static APR_OPTIONAL_FN_TYPE(ap_session_load) *session_load_fn = NULL;
static APR_OPTIONAL_FN_TYPE(ap_session_get) *session_get_fn = NULL;
static APR_OPTIONAL_FN_TYPE(ap_session_set) *session_set_fn = NULL;

/* Set at startup when the session_decode hooks are ours and mod_session's
 * alone (no mod_session_crypto, nothing else between the token and
 * mod_session's decoder): then a verified payload that is simple
 * (ssg_payload_decode_simple) is decoded by ssg_session_decode itself, the
 * same way, without mod_session's strtok and unescaping passes. */
static int ssg_decode_alone = 0;
static int ssg_crypto_on(request_rec *r);

/* ------------------------------------------------------------------ */
/* configuration                                                       */

typedef struct {
    const char *name;
    ap_expr_info_t *value;
    ap_expr_info_t *cond; /* NULL: always */
} ssg_login_attr_t;

typedef struct {
    ssg_ring_t *ring; /* NULL: signing not configured here */
    int ring_set;
    const char *ring_source;    /* "SessionSignKey" or the key file path */
    const void *ring_directive; /* the directive that built ring */
    apr_int64_t max_lifetime;   /* seconds from issued-at, 0 = none */
    int max_lifetime_set;
    const char *context; /* bound into every MAC */
    int context_set;
    const char *user_key; /* session key holding the identity */
    int user_key_set;
    const char *user_field; /* login form fields */
    const char *pass_field;
    int fields_set;
    apr_array_header_t *login_attrs; /* of ssg_login_attr_t */
    int login_attrs_set;
    int login_cross_site; /* GET logins from another site: -1 unset, 0 no, 1 yes */
} ssg_dir_conf;

/* Per top-level request: the verdict on its session. Kept on the first
 * request of an internal-redirect chain, where mod_session_cookie caches
 * the session itself, so re-runs of the decode hooks (with z->encoded NULL)
 * never overwrite a verdict already reached. */
typedef struct {
    int decided;
    int verdict; /* SESSION_SIGN_* */
    const char *reason;
    apr_int64_t iat;           /* issued-at of the verified token */
    int pending;               /* verified; mod_session has not finished decoding */
    const char *verified_user; /* identity at verification time */
    int fresh;                 /* a login: the next save starts a new lifetime */
    int logged;
    /* the scope the verdict was reached in: an internal redirect into a
     * scope with other keys or another context must not inherit it */
    const ssg_ring_t *ring;
    const char *context;
    const char *token; /* the verified token, to re-check in a new scope */
    /* the cookie fast path (ssg_cookie_seed): the request whose notes it
     * has seen, and for which cookie name */
    const request_rec *seed_req;
    const char *seed_name;
    session_rec *seed_z; /* the session it left in the cache, or NULL */
    /* the last ssg_status(): for which request, and its verified session */
    const request_rec *status_req;
    session_rec *status_z;
} ssg_req_t;

static const char *ssg_conf_user_key(const ssg_dir_conf *c)
{
    return c->user_key ? c->user_key : SSG_DEFAULT_USER_KEY;
}

static const char *ssg_conf_context(const ssg_dir_conf *c)
{
    return c->context ? c->context : SSG_DEFAULT_CONTEXT;
}

static request_rec *ssg_top(request_rec *r)
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

static ssg_req_t *ssg_req(request_rec *r)
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

/* ------------------------------------------------------------------ */
/* session hooks                                                       */

static void ssg_log_refusal(request_rec *r, ssg_req_t *st)
{
    if (st->logged) {
        return;
    }
    st->logged = 1;
    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                  "SSG0001: session refused (%s): %s; treated as no session",
                  st->verdict == SESSION_SIGN_EXPIRED ? "expired" : "invalid", st->reason);
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
static void ssg_rescope(request_rec *r, ssg_dir_conf *conf, ssg_req_t *st, session_rec *z)
{
    ssg_status_e vs;

    st->ring = conf->ring;
    st->context = ssg_conf_context(conf);
    if (st->verdict != SESSION_SIGN_VERIFIED && st->verdict != SESSION_SIGN_VERIFIED_OLD_KEY) {
        if (!apr_is_empty_table(z->entries)) {
            ssg_refuse_cached(r, st, z, "session not valid in this scope");
        }
        return;
    }
    vs = st->token
             ? ssg_verify(r->pool, conf->ring, st->context, apr_time_sec(r->request_time),
                          conf->max_lifetime, SSG_CLOCK_SKEW, st->token, strlen(st->token), NULL)
             : SSG_ERR_EMPTY;
    if (!ssg_status_ok(vs)) {
        ssg_refuse_cached(r, st, z,
                          apr_pstrcat(r->pool, ssg_status_str(vs), " in this scope", NULL));
    }
}

/* Verify the outer token and hand the inner payload to the next decoder.
 * A refused token is not an error for mod_session: the session is simply
 * empty (no AH01817, no error page). */
static apr_status_t ssg_session_decode(request_rec *r, session_rec *z)
{
    ssg_dir_conf *conf = ap_get_module_config(r->per_dir_config, &session_sign_module);
    ssg_req_t *st;
    ssg_result_t res;
    ssg_status_e vs;

    if (!conf->ring) {
        return OK; /* signing not configured here */
    }
    st = ssg_req(r);
    if (!z->encoded) {
        if (!st->decided) {
            st->decided = 1;
            st->ring = conf->ring;
            st->context = ssg_conf_context(conf);
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
        if (st->ring != conf->ring || (st->context != ssg_conf_context(conf) &&
                                       strcmp(st->context, ssg_conf_context(conf)) != 0)) {
            ssg_rescope(r, conf, st, z); /* internal redirect */
        }
        return OK; /* a re-run: keep the verdict */
    }

    vs = ssg_verify(r->pool, conf->ring, ssg_conf_context(conf), apr_time_sec(r->request_time),
                    conf->max_lifetime, SSG_CLOCK_SKEW, z->encoded, strlen(z->encoded), &res);
    st->decided = 1;
    st->ring = conf->ring;
    st->context = ssg_conf_context(conf);
    st->token = NULL;
    if (ssg_status_ok(vs)) {
        st->token = apr_pstrdup(ssg_top(r)->pool, z->encoded);
        z->encoded = res.payload;
        if (ssg_decode_alone && !ssg_crypto_on(r)) {
            /* mod_session's decoder is the only other one: decode a simple
             * payload here, as it would, and leave it nothing to do */
            apr_pool_t *tp = apr_table_elts(z->entries)->pool;
            char *pl = tp == r->pool ? (char *)res.payload
                                     : apr_pstrmemdup(tp, res.payload, res.payload_len);
            if (ssg_payload_decode_simple(pl, z->entries, &z->expiry)) {
                z->encoded = NULL;
            }
        }
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
static apr_status_t ssg_session_decode_done(request_rec *r, session_rec *z)
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
static apr_status_t ssg_session_encode(request_rec *r, session_rec *z)
{
    ssg_dir_conf *conf = ap_get_module_config(r->per_dir_config, &session_sign_module);
    ssg_req_t *st;
    apr_int64_t iat, now;
    const char *user;
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
    if (!st->fresh && st->iat > 0 &&
        (st->verdict == SESSION_SIGN_VERIFIED || st->verdict == SESSION_SIGN_VERIFIED_OLD_KEY) &&
        ((!user && !st->verified_user) ||
         (user && st->verified_user && !strcmp(user, st->verified_user)))) {
        iat = st->iat;
    }
    tok =
        ssg_sign(r->pool, conf->ring, ssg_conf_context(conf), iat, z->encoded, strlen(z->encoded));
    if (!tok) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "SSG0003: cannot sign the session (payload of %" APR_SIZE_T_FMT
                      " bytes; at most %d); session not saved",
                      strlen(z->encoded), SSG_MAX_TOKEN_LEN);
        return APR_EGENERAL;
    }
    z->encoded = tok;
    return OK;
}

/* ------------------------------------------------------------------ */
/* the session cookie, read once                                       */

/* mod_session_cookie reads its cookie with httpd's ap_cookie_read(), which
 * tokenizes the whole Cookie header with apr_strtok (one strchr per byte,
 * twice): on a guarded request with a ~90-byte token that is the largest
 * single cost after the HMAC. Where this scope signs sessions and the
 * cookie store is the plain case (SessionCookieName, no SessionCookieName2,
 * SessionCookieRemove Off), the first session load of a request reads the
 * cookie with ssg_cookie_find() (one pass, the same answer; checked against
 * httpd's algorithm in the unit tests) and leaves the session where
 * mod_session_cookie caches it: in the main request's notes under
 * "mod_session_cookie" + name, with the Cache-Control header it would add.
 * mod_session_cookie then answers from that cache, as it does for every
 * later load. Anything unusual (several Cookie headers, Cookie2, a comma,
 * a duplicate, a high byte) is left to mod_session_cookie untouched.
 *
 * This reads mod_session_cookie's per-directory configuration, a private
 * struct: its httpd 2.4 layout is mirrored below and proven at every
 * startup by ssg_cookie_probe(), which runs the module's own
 * create_dir_config and directive handlers and reads the result back.
 * If the probe fails, the fast path is off and nothing else changes. */
typedef struct {
    const char *name;
    int name_set;
    const char *name_attrs;
    const char *name2;
    int name2_set;
    const char *name2_attrs;
    int remove;
    int remove_set;
} ssg_cookie_conf_t;

#define SSG_COOKIE_NOTE "mod_session_cookie" /* mod_session_cookie's cache key prefix */

static module *ssg_cookie_module = NULL; /* set when the probe passed */

static const command_rec *ssg_find_cmd(const module *m, const char *name)
{
    const command_rec *c;

    for (c = m->cmds; c && c->name; c++) {
        if (!strcasecmp(c->name, name)) {
            return c;
        }
    }
    return NULL;
}

/* The cmd_parms a probe passes to another module's directive handler c. */
static void ssg_probe_parms(cmd_parms *cmd, ap_directive_t *dir, apr_pool_t *p, server_rec *s,
                            const command_rec *c)
{
    memset(cmd, 0, sizeof(*cmd));
    memset(dir, 0, sizeof(*dir));
    dir->directive = c->name;
    cmd->pool = p;
    cmd->temp_pool = p;
    cmd->server = s;
    cmd->directive = dir;
    cmd->cmd = c;
}

/* @return NULL if mod_session_cookie's configuration reads back as the
 * mirror above says, else why not */
static const char *ssg_cookie_probe(apr_pool_t *p, server_rec *s)
{
    module *m = ap_find_linked_module("mod_session_cookie.c");
    const command_rec *c1, *c2, *c3;
    const ssg_cookie_conf_t *cc;
    ap_directive_t dir;
    cmd_parms cmd;
    void *dc;

    ssg_cookie_module = NULL;
    if (!m) {
        return "mod_session_cookie is not loaded";
    }
    c1 = ssg_find_cmd(m, "SessionCookieName");
    c2 = ssg_find_cmd(m, "SessionCookieName2");
    c3 = ssg_find_cmd(m, "SessionCookieRemove");
    if (!m->create_dir_config || !c1 || !c2 || !c3 || c1->args_how != RAW_ARGS ||
        c2->args_how != RAW_ARGS || c3->args_how != FLAG) {
        return "unexpected directives";
    }
    dc = m->create_dir_config(p, NULL);
    cc = dc;
    if (cc->name_set || cc->name2_set || cc->remove || cc->remove_set) {
        return "unexpected defaults";
    }
    ssg_probe_parms(&cmd, &dir, p, s, c1);
    if (c1->AP_RAW_ARGS(&cmd, dc, "ssg-probe-a path=/") != NULL || cc->name_set != 1 ||
        cc->name2_set != 0 || cc->remove != 0 || !cc->name || strcmp(cc->name, "ssg-probe-a") ||
        !cc->name_attrs || strcmp(cc->name_attrs, "path=/")) {
        return "SessionCookieName reads back wrong";
    }
    dc = m->create_dir_config(p, NULL);
    cc = dc;
    ssg_probe_parms(&cmd, &dir, p, s, c2);
    if (c2->AP_RAW_ARGS(&cmd, dc, "ssg-probe-b") != NULL || cc->name2_set != 1 ||
        cc->name_set != 0 || cc->remove != 0 || !cc->name2 || strcmp(cc->name2, "ssg-probe-b")) {
        return "SessionCookieName2 reads back wrong";
    }
    dc = m->create_dir_config(p, NULL);
    cc = dc;
    ssg_probe_parms(&cmd, &dir, p, s, c3);
    if (c3->AP_FLAG(&cmd, dc, 1) != NULL || cc->remove != 1 || cc->remove_set != 1 ||
        cc->name_set != 0 || cc->name2_set != 0) {
        return "SessionCookieRemove reads back wrong";
    }
    /* the store that answers first must be mod_session_cookie, right after
     * our hook: then answering in its place changes nothing */
    {
        apr_array_header_t *hooks = ap_hook_get_session_load();
        const ap_LINK_session_load_t *h =
            hooks ? (const ap_LINK_session_load_t *)hooks->elts : NULL;
        int i = 0;

        while (h && i < hooks->nelts && !strcmp(h[i].szName, "mod_session_sign.c")) {
            i++;
        }
        if (!h || i >= hooks->nelts || strcmp(h[i].szName, "mod_session_cookie.c") != 0) {
            return "another session store's hook runs before mod_session_cookie's";
        }
    }
    ssg_cookie_module = m;
    return NULL;
}

/* mod_session_crypto's per-directory configuration as httpd 2.4 lays it
 * out (modules/session/mod_session_crypto.c); read only after
 * ssg_crypto_probe() proved the layout, as for mod_session_cookie. */
typedef struct {
    apr_array_header_t *passphrases;
    int passphrases_set;
} ssg_crypto_conf_t;

static module *ssg_crypto_module = NULL; /* loaded, and the probe passed */

static const char *ssg_crypto_probe(apr_pool_t *p, server_rec *s, module *m)
{
    const command_rec *c = ssg_find_cmd(m, "SessionCryptoPassphrase");
    const ssg_crypto_conf_t *cc;
    ap_directive_t dir;
    cmd_parms cmd;
    void *dc;

    if (!m->create_dir_config || !c || c->args_how != ITERATE) {
        return "unexpected directives";
    }
    dc = m->create_dir_config(p, NULL);
    cc = dc;
    if (!cc->passphrases || cc->passphrases->nelts != 0 ||
        cc->passphrases->elt_size != sizeof(char *) || cc->passphrases_set != 0) {
        return "unexpected defaults";
    }
    ssg_probe_parms(&cmd, &dir, p, s, c);
    if (c->AP_TAKE1(&cmd, dc, "ssg-probe-passphrase") != NULL || cc->passphrases_set != 1 ||
        cc->passphrases->nelts != 1 ||
        strcmp(((const char **)cc->passphrases->elts)[0], "ssg-probe-passphrase")) {
        return "SessionCryptoPassphrase reads back wrong";
    }
    return NULL;
}

/* Does mod_session_crypto decrypt sessions in this scope? */
static int ssg_crypto_on(request_rec *r)
{
    const ssg_crypto_conf_t *cc;

    if (!ssg_crypto_module) {
        return 0;
    }
    cc = ap_get_module_config(r->per_dir_config, ssg_crypto_module);
    return !cc || cc->passphrases_set;
}

/* @return NULL if the session_decode hooks are ours, mod_session's and at
 * most mod_session_crypto's (with its configuration readable), else why not */
static const char *ssg_decoders_alone(apr_pool_t *p, server_rec *s)
{
    apr_array_header_t *hooks = ap_hook_get_session_decode();
    const ap_LINK_session_decode_t *h;
    int i, identity = 0, crypto = 0;

    ssg_crypto_module = NULL;
    if (!hooks) {
        return "no decoders";
    }
    h = (const ap_LINK_session_decode_t *)hooks->elts;
    for (i = 0; i < hooks->nelts; i++) {
        if (!strcmp(h[i].szName, "mod_session.c")) {
            identity++;
        }
        else if (!strcmp(h[i].szName, "mod_session_crypto.c")) {
            crypto++;
        }
        else if (strcmp(h[i].szName, "mod_session_sign.c") != 0) {
            return apr_psprintf(p, "another decoder: %s", h[i].szName);
        }
    }
    if (identity != 1 || crypto > 1) {
        return "unexpected decoders";
    }
    if (crypto) {
        module *m = ap_find_linked_module("mod_session_crypto.c");
        const char *why = m ? ssg_crypto_probe(p, s, m) : "mod_session_crypto not found";
        if (why) {
            return apr_pstrcat(p, "mod_session_crypto: ", why, NULL);
        }
        ssg_crypto_module = m;
    }
    return NULL;
}

/* The one Cookie header of r, NULL if there is none; sets *several when
 * there is more than one Cookie header or any Cookie2 header (then
 * ap_cookie_read() reads them all, and the fast path stands aside). */
static const char *ssg_cookie_header(request_rec *r, int *several)
{
    const apr_array_header_t *arr = apr_table_elts(r->headers_in);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    const char *found = NULL;
    int i;

    *several = 0;
    for (i = 0; i < arr->nelts; i++) {
        const char *k = e[i].key;
        if (!k || (k[0] != 'C' && k[0] != 'c') || strncasecmp(k, "Cookie", 6) != 0) {
            continue;
        }
        if (k[6] == '\0' && !found) {
            found = e[i].val;
        }
        else if (k[6] == '\0' || !strcmp(k + 6, "2")) {
            *several = 1;
            return NULL;
        }
    }
    return found;
}

/* session_load, before mod_session_cookie's. Where it reads the cookie, it
 * leaves the session in mod_session_cookie's cache, as mod_session_cookie
 * would have, and answers this and every later load of the request with
 * that same session_rec, as mod_session_cookie would from its cache.
 * Everywhere else DECLINED: mod_session_cookie loads. */
static apr_status_t ssg_cookie_seed(request_rec *r, session_rec **z)
{
    ssg_dir_conf *conf;
    const ssg_cookie_conf_t *cc;
    request_rec *m = r;
    ssg_req_t *st;
    session_rec *zz;
    const char *note, *header, *val = NULL;
    apr_size_t vlen = 0;
    ssg_cookie_e found = SSG_COOKIE_ABSENT;
    int several;

    if (!ssg_cookie_module) {
        return DECLINED;
    }
    conf = ap_get_module_config(r->per_dir_config, &session_sign_module);
    cc = ap_get_module_config(r->per_dir_config, ssg_cookie_module);
    if (!conf->ring || !cc || !cc->name_set || !cc->name || cc->name2_set || cc->remove) {
        return DECLINED;
    }
    /* the request whose notes mod_session_cookie uses */
    while (m->prev) {
        m = m->prev;
    }
    while (m->main) {
        m = m->main;
    }
    st = ssg_req(r);
    if (st->seed_req == m && st->seed_name == cc->name) {
        if (st->seed_z) {
            /* what mod_session_cookie would answer from its cache (and
             * SessionCookieRemove is Off here): the same session_rec */
            *z = st->seed_z;
            return OK;
        }
        return DECLINED; /* not ours: mod_session_cookie answers */
    }
    st->seed_req = m;
    st->seed_name = cc->name;
    st->seed_z = NULL;
    note = apr_pstrcat(m->pool, SSG_COOKIE_NOTE, cc->name, NULL);
    if (apr_table_get(m->notes, note)) {
        return DECLINED;
    }
    header = ssg_cookie_header(r, &several);
    if (several) {
        return DECLINED;
    }
    if (header) {
        found = ssg_cookie_find(header, cc->name, &val, &vlen);
        if (found == SSG_COOKIE_UNSURE) {
            return DECLINED;
        }
    }
    zz = apr_pcalloc(m->pool, sizeof(*zz));
    zz->pool = m->pool;
    zz->entries = apr_table_make(m->pool, 10);
    zz->encoded = found == SSG_COOKIE_FOUND ? apr_pstrmemdup(m->pool, val, vlen) : NULL;
    apr_table_setn(m->notes, note, (char *)zz);
    /* what mod_session_cookie adds when it reads the cookie itself */
    apr_table_addn(r->headers_out, "Cache-Control", "no-cache, private");
    ap_log_rerror(
        APLOG_MARK, APLOG_TRACE3, 0, r, "SSG0060: session cookie %s read by mod_session_sign (%s)",
        ap_escape_logitem(r->pool, cc->name), found == SSG_COOKIE_FOUND ? "present" : "absent");
    st->seed_z = zz;
    *z = zz;
    return OK;
}

/* ------------------------------------------------------------------ */
/* the optional function other modules call                            */

static int ssg_status(request_rec *r, const char **user, const char **reason)
{
    ssg_dir_conf *conf = ap_get_module_config(r->per_dir_config, &session_sign_module);
    session_dir_conf *sconf;
    session_rec *z = NULL;
    ssg_req_t *st;
    const char *u;

    if (user) {
        *user = NULL;
    }
    if (reason) {
        *reason = "not configured";
    }
    st = ssg_req(r);
    st->status_req = r;
    st->status_z = NULL;
    if (!conf->ring) {
        if (reason) {
            *reason = "no SessionSignKey or SessionSignKeyFile in this scope";
        }
        return SESSION_SIGN_UNCONFIGURED;
    }
    sconf = ap_get_module_config(r->per_dir_config, &session_module);
    if (!sconf || !sconf->enabled || !session_load_fn) {
        if (reason) {
            *reason = "Session is not On in this scope";
        }
        return SESSION_SIGN_UNCONFIGURED;
    }
    if (session_load_fn(r, &z) != APR_SUCCESS || !z) {
        if (reason) {
            *reason = "no session store (SessionCookieName or "
                      "SessionDBDCookieName) in this scope";
        }
        return SESSION_SIGN_UNCONFIGURED;
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
    if (st->verdict == SESSION_SIGN_VERIFIED || st->verdict == SESSION_SIGN_VERIFIED_OLD_KEY) {
        st->status_z = z;
        u = apr_table_get(z->entries, ssg_conf_user_key(conf));
        if (user && u && *u) {
            *user = u;
        }
    }
    return st->verdict;
}

static const char *session_sign_get(request_rec *r, const char *key)
{
    ssg_req_t *st = ssg_req(r);

    if (st->status_req != r) {
        ssg_status(r, NULL, NULL); /* sets status_req and status_z */
    }
    return st->status_z ? apr_table_get(st->status_z->entries, key) : NULL;
}

static const char *ssg_status_name(int status)
{
    switch (status) {
    case SESSION_SIGN_ABSENT: return "absent";
    case SESSION_SIGN_VERIFIED: return "verified";
    case SESSION_SIGN_VERIFIED_OLD_KEY: return "verified-old-key";
    case SESSION_SIGN_INVALID: return "invalid";
    case SESSION_SIGN_EXPIRED: return "expired";
    case SESSION_SIGN_UNCONFIGURED: return "unconfigured";
    }
    return "unknown";
}

static int session_sign_status(request_rec *r, const char **user, const char **reason)
{
    return ssg_status(r, user, reason);
}

static const char *session_sign_status_name(int status)
{
    return ssg_status_name(status);
}

static int ssg_verified(int st)
{
    return st == SESSION_SIGN_VERIFIED || st == SESSION_SIGN_VERIFIED_OLD_KEY;
}

/* ------------------------------------------------------------------ */
/* AuthType session-sign                                               */

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
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "SSG0011: no valid session (%s): 401",
                  ssg_verified(st) ? "session holds no identity" : reason);
    return HTTP_UNAUTHORIZED; /* no WWW-Authenticate: no dialog */
}

/* ap_note_auth_failure() for our type: nothing to add (no challenge). */
static int ssg_note_auth_failure(request_rec *r, const char *auth_type)
{
    (void)r;
    if (!auth_type || strcasecmp(auth_type, SSG_AUTH_TYPE)) {
        return DECLINED;
    }
    return OK;
}

/* An identified user whom the Require lines refuse gets 403, not 401: a 401
 * would ask for a login the session already did. We run the authorization
 * hooks ourselves (re-entering once) and translate their verdict. */
static int ssg_authz_wrapper(request_rec *r)
{
    int rv;

    if (!ssg_is_our_auth_type(r) || apr_table_get(r->notes, SSG_NOTE_IN_AUTHZ)) {
        return DECLINED;
    }
    apr_table_setn(r->notes, SSG_NOTE_IN_AUTHZ, "1");
    rv = ap_run_auth_checker(r);
    apr_table_unset(r->notes, SSG_NOTE_IN_AUTHZ);
    if (rv == HTTP_UNAUTHORIZED && r->user) {
        apr_table_unset(r->err_headers_out, "WWW-Authenticate");
        return HTTP_FORBIDDEN;
    }
    return rv;
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
    session_get_fn(r, NULL, w[0], &v);
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

/* ------------------------------------------------------------------ */
/* login and logout handlers                                           */

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

/* Check user/password against the Location's AuthBasicProvider list, the
 * way mod_auth_basic does (default provider "file"). */
static authn_status ssg_check_password(request_rec *r, const char *user, const char *password)
{
    module *basic = ap_find_linked_module("mod_auth_basic.c");
    authn_provider_list *list = NULL, fallback;
    authn_status res = AUTH_USER_NOT_FOUND;

    if (basic) {
        /* mod_auth_basic's per-dir record starts with its provider list
         * (stable since 2.4.0) */
        void *bconf = ap_get_module_config(r->per_dir_config, basic);
        if (bconf) {
            list = *(authn_provider_list **)bconf;
        }
    }
    if (!list) {
        fallback.provider_name = AUTHN_DEFAULT_PROVIDER;
        fallback.provider = ap_lookup_provider(AUTHN_PROVIDER_GROUP, AUTHN_DEFAULT_PROVIDER,
                                               AUTHN_PROVIDER_VERSION);
        fallback.next = NULL;
        if (!fallback.provider || !fallback.provider->check_password) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                          "SSG0030: form login needs an authentication "
                          "provider: load mod_authn_file or set "
                          "AuthBasicProvider for this location");
            return AUTH_GENERAL_ERROR;
        }
        list = &fallback;
    }
    for (; list; list = list->next) {
        if (!list->provider || !list->provider->check_password) {
            continue;
        }
        apr_table_setn(r->notes, AUTHN_PROVIDER_NAME_NOTE, list->provider_name);
        res = list->provider->check_password(r, user, password);
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

    if (session_load_fn(r, &z) != APR_SUCCESS || !z) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "SSG0031: login cannot write a session here: add "
                      "Session On and a session store (SessionCookieName or "
                      "SessionDBDCookieName) to this location");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    /* a login starts a new session: nothing of a previous one survives */
    apr_table_clear(z->entries);
    z->expiry = 0;
    session_set_fn(r, z, ssg_conf_user_key(conf), user);
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
                session_set_fn(r, z, a[i].name, val);
            }
        }
    }
    z->dirty = 1;
    st = ssg_req(r);
    st->fresh = 1;
    return OK;
}

static int ssg_see_other(request_rec *r, const char *to)
{
    ssg_no_store(r);
    apr_table_setn(r->headers_out, "Location", to);
    return HTTP_SEE_OTHER;
}

static int ssg_login_handler(request_rec *r)
{
    ssg_dir_conf *conf;
    const char *ret, *user = NULL, *pass = NULL, *ct;
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
        ct = apr_table_get(r->headers_in, "Content-Type");
        if (!ct || strncasecmp(ct, "application/x-www-form-urlencoded", 33) ||
            (ct[33] && ct[33] != ';' && ct[33] != ' ')) {
            return HTTP_UNSUPPORTED_MEDIA_TYPE;
        }
        rv = ap_parse_form_data(r, NULL, &pairs, -1, SSG_MAX_FORM_BODY);
        if (rv != OK || !pairs) {
            return HTTP_BAD_REQUEST;
        }
        for (i = 0; i < pairs->nelts; i++) {
            ap_form_pair_t *pair = &((ap_form_pair_t *)pairs->elts)[i];
            apr_off_t len;
            apr_size_t size;
            char *buf;
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
            if (*slot) {
                return HTTP_BAD_REQUEST; /* a field given twice */
            }
            apr_brigade_length(pair->value, 1, &len);
            if (len < 0 || len > SSG_MAX_FORM_BODY) {
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
        switch (ssg_check_password(r, user, pass)) {
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

static int ssg_logout_handler(request_rec *r)
{
    session_rec *z = NULL;
    const char *ret;
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
    if (session_load_fn(r, &z) != APR_SUCCESS || !z) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "SSG0040: logout cannot clear a session here: add "
                      "Session On and a session store to this location");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    /* an empty session is written as nothing: the store removes the cookie */
    apr_table_clear(z->entries);
    z->dirty = 1;
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

/* ------------------------------------------------------------------ */
/* create / merge                                                      */

static void *ssg_create_dir(apr_pool_t *p, char *dir)
{
    ssg_dir_conf *c = apr_pcalloc(p, sizeof(*c));
    (void)dir;
    c->login_cross_site = -1;
    return c;
}

static void *ssg_merge_dir(apr_pool_t *p, void *basev, void *addv)
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

static const char *set_login_cross_site(cmd_parms *cmd, void *dconf, int flag)
{
    ssg_dir_conf *c = dconf;

    (void)cmd;
    c->login_cross_site = flag ? 1 : 0;
    return NULL;
}

static const command_rec ssg_cmds[] = {
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
    AP_INIT_FLAG("SessionSignLoginCrossSite", set_login_cross_site, NULL, RSRC_CONF | ACCESS_CONF,
                 "On: a GET login (AuthType Basic, SSO) may come from another site (default Off)"),
    {NULL}};

/* ------------------------------------------------------------------ */
/* startup                                                             */

/* check_config runs for `apache2 -t` too */
static int ssg_check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    (void)pconf;
    (void)plog;
    (void)ptemp;
    session_load_fn = APR_RETRIEVE_OPTIONAL_FN(ap_session_load);
    session_get_fn = APR_RETRIEVE_OPTIONAL_FN(ap_session_get);
    session_set_fn = APR_RETRIEVE_OPTIONAL_FN(ap_session_set);
    if (!session_load_fn || !session_get_fn || !session_set_fn) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
                     "SSG0050: mod_session_sign needs mod_session: add "
                     "LoadModule session_module before mod_session_sign");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

static int ssg_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    const char *why;

    (void)pconf;
    (void)plog;
    why = ssg_cookie_probe(ptemp, s);
    if (why) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s,
                     "SSG0061: session cookies are read by mod_session_cookie alone (%s)", why);
    }
    why = ssg_decoders_alone(ptemp, s);
    ssg_decode_alone = why == NULL;
    if (why) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s,
                     "SSG0062: verified payloads are decoded by mod_session alone (%s)", why);
    }
    return OK;
}

static void ssg_register_hooks(apr_pool_t *p)
{
    static const char *const after_session[] = {"mod_session.c", NULL};
    static const char *const before_cookie[] = {"mod_session_cookie.c", NULL};
    (void)p;

    /* outermost layer: signs whatever mod_session(_crypto) produced */
    ap_hook_session_encode(ssg_session_encode, NULL, NULL, APR_HOOK_REALLY_LAST);
    /* innermost on the way in: nothing reads a payload we did not verify */
    ap_hook_session_decode(ssg_session_decode, NULL, NULL, APR_HOOK_REALLY_FIRST);
    /* after mod_session's own decoder: judge SessionMaxAge, note the identity */
    ap_hook_session_decode(ssg_session_decode_done, after_session, NULL, APR_HOOK_REALLY_LAST);
    /* reads the session cookie in one pass, for mod_session_cookie's cache */
    ap_hook_session_load(ssg_cookie_seed, NULL, before_cookie, APR_HOOK_FIRST);

    /* AuthType session-sign: identity from the verified session */
    ap_hook_check_authn(ssg_check_authn, NULL, NULL, APR_HOOK_MIDDLE, AP_AUTH_INTERNAL_PER_CONF);
    ap_hook_note_auth_failure(ssg_note_auth_failure, NULL, NULL, APR_HOOK_MIDDLE);
    /* first: wraps mod_authz_core to turn 401-for-an-identified-user into 403 */
    ap_hook_check_authz(ssg_authz_wrapper, NULL, NULL, APR_HOOK_FIRST, AP_AUTH_INTERNAL_PER_CONF);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "session-attr", AUTHZ_PROVIDER_VERSION,
                              &ssg_authz_session_attr, AP_AUTH_INTERNAL_PER_CONF);

    ap_hook_handler(ssg_login_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(ssg_logout_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(ssg_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(ssg_post_config, NULL, NULL, APR_HOOK_MIDDLE);

    APR_REGISTER_OPTIONAL_FN(session_sign_status);
    APR_REGISTER_OPTIONAL_FN(session_sign_get);
    APR_REGISTER_OPTIONAL_FN(session_sign_status_name);
}

AP_DECLARE_MODULE(session_sign) = {
    STANDARD20_MODULE_STUFF, ssg_create_dir,     ssg_merge_dir, NULL, NULL, ssg_cmds,
    ssg_register_hooks,      AP_MODULE_FLAG_NONE};
