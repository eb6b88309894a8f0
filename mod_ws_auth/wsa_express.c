/*
 * wsa_express.c - WSAuthSource express: the Express app's own
 * express-session cookie as the gate's session. The signature is checked
 * by the pure core (core/wsa_express.c) with the app's secrets; with
 * WSAuthExpressStore the id must also name a live session in the store
 * connect-redis writes, whose JSON (jansson) gives the forwarded values.
 *
 * Never logged: the cookie, the session id, the secrets, the session JSON.
 */
#include "wsa_private.h"

#include <jansson.h>

APLOG_USE_MODULE(ws_auth);

#define WSA_PATH_MAX_DEPTH 8

static apr_status_t json_cleanup(void *data)
{
    json_decref(data);
    return APR_SUCCESS;
}

/* express-session writes cookie.expires as an ISO 8601 string (or null for
 * a browser-session cookie); connect-redis's TTL follows it. A session
 * whose expires has passed is dead even if the store still holds it. */
static int wsa_session_expired(request_rec *r, json_t *sess)
{
    json_t *ck = json_object_get(sess, "cookie");
    json_t *ex = ck ? json_object_get(ck, "expires") : NULL;
    const char *s;
    int y, mo, d, h, mi, sec;
    apr_time_exp_t tm;
    apr_time_t t;

    if (!ex || !json_is_string(ex)) {
        return 0;
    }
    s = json_string_value(ex);
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &sec) != 6) {
        return 0; /* not ours to judge: the store's TTL is */
    }
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    if (apr_time_exp_gmt_get(&t, &tm) != APR_SUCCESS) {
        return 0;
    }
    return t < r->request_time;
}

static void wsa_from_store(request_rec *r, const wsa_dir_conf *conf, const wsa_express_t *c,
                           wsa_express_verdict_t *v)
{
    const char *val = NULL;
    apr_size_t len = 0;
    json_error_t jerr;
    json_t *sess;

    switch (wsa_store_get(r, conf->store, c->id, c->id_len, &val, &len)) {
    case WSA_STORE_MISSING:
        v->st = SESSION_SIGN_REVOKED;
        v->reason = "unknown-session";
        v->detail = "no live session of that id in the store (logged out or expired)";
        return;
    case WSA_STORE_DOWN:
        v->st = SESSION_SIGN_UNAVAILABLE;
        v->reason = "store-unavailable";
        v->detail = NULL;
        return;
    default: break;
    }
    sess = json_loadb(val, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!sess || !json_is_object(sess)) {
        json_decref(sess);
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "WSA0020: WSAuthExpressStore %s: the stored session is not a JSON "
                      "object (%s at byte %d); refusing",
                      conf->store->url, sess ? "another JSON value" : "invalid JSON",
                      sess ? 0 : jerr.position);
        v->st = SESSION_SIGN_INVALID;
        v->reason = "invalid-session";
        v->detail = "the stored session is not JSON";
        return;
    }
    apr_pool_cleanup_register(r->pool, sess, json_cleanup, apr_pool_cleanup_null);
    if (wsa_session_expired(r, sess)) {
        v->st = SESSION_SIGN_EXPIRED;
        v->reason = "expired-session";
        v->detail = "cookie.expires has passed";
        return;
    }
    v->session = sess;
}

void wsa_express_check(request_rec *r, const wsa_dir_conf *conf, wsa_express_verdict_t *v)
{
    const char *name = conf->exp_cookie ? conf->exp_cookie : WSA_EXPRESS_COOKIE;
    wsa_express_t c;
    wsa_express_e es;

    memset(v, 0, sizeof(*v));
    if (!conf->exp_keys) {
        v->st = SESSION_SIGN_UNCONFIGURED;
        v->reason = "misconfigured";
        v->detail = "WSAuthSource express without WSAuthExpressSecretFile";
        return;
    }
    es = wsa_express_verify(r->pool, conf->exp_keys, apr_table_get(r->headers_in, "Cookie"), name,
                            &c);
    if (es == WSA_EXPRESS_ABSENT) {
        v->st = SESSION_SIGN_ABSENT;
        v->reason = "no-session";
        return;
    }
    if (es != WSA_EXPRESS_OK) {
        /* never look a failed id up; the reason is a fixed string */
        v->st = SESSION_SIGN_INVALID;
        v->reason = "invalid-session";
        v->detail = wsa_express_str(es);
        return;
    }
    v->st = c.key_index ? SESSION_SIGN_VERIFIED_OLD_KEY : SESSION_SIGN_VERIFIED;
    if (conf->store) {
        wsa_from_store(r, conf, &c, v);
        if (v->st != SESSION_SIGN_VERIFIED && v->st != SESSION_SIGN_VERIFIED_OLD_KEY) {
            return;
        }
    }
    if (conf->forward && conf->forward->nelts) {
        const wsa_forward_t *fw = (const wsa_forward_t *)conf->forward->elts;
        v->user = wsa_express_value(r, v, fw[0].key);
        if (v->user && (!*v->user || !wsa_header_value_safe(v->user))) {
            /* an identity the backend would never receive is none */
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                          "WSA0023: session value at '%s' is empty or not a safe header "
                          "value (a control character, or over %d bytes); no identity",
                          fw[0].key, WSA_HEADER_VALUE_MAX);
            v->user = NULL;
        }
    }
}

/* A scalar at a dotted path ("passport.user") of the stored session:
 * a string as it is, a number in decimal; anything else NULL, logged. */
const char *wsa_express_value(request_rec *r, const wsa_express_verdict_t *v, const char *path)
{
    json_t *j = v->session;
    const char *p = path;
    int depth = 0;

    if (!j) {
        return NULL;
    }
    while (*p && j) {
        const char *dot = strchr(p, '.');
        apr_size_t n = dot ? (apr_size_t)(dot - p) : strlen(p);
        if (!json_is_object(j) || ++depth > WSA_PATH_MAX_DEPTH) {
            j = NULL;
            break;
        }
        j = json_object_get(j, apr_pstrmemdup(r->pool, p, n));
        p += n + (dot ? 1 : 0);
    }
    if (!j) {
        return NULL; /* absent: nothing forwarded, the backend sees no header */
    }
    if (json_is_string(j)) {
        if (strlen(json_string_value(j)) != json_string_length(j)) {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                          "WSA0021: session value at '%s' holds a NUL; not forwarded", path);
            return NULL;
        }
        return apr_pstrdup(r->pool, json_string_value(j));
    }
    if (json_is_integer(j)) {
        return apr_psprintf(r->pool, "%" APR_INT64_T_FMT, (apr_int64_t)json_integer_value(j));
    }
    if (json_is_real(j)) {
        return apr_psprintf(r->pool, "%.15g", json_real_value(j));
    }
    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                  "WSA0022: session value at '%s' is a JSON %s, not a string or a number; "
                  "not forwarded",
                  path,
                  json_is_object(j)  ? "object"
                  : json_is_array(j) ? "array"
                  : json_is_null(j)  ? "null"
                                     : "boolean");
    return NULL;
}
