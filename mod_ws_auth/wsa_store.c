/*
 * wsa_store.c - the session store connect-redis writes: one GET of
 * prefix + id per guarded request, on Redis connections each child opens
 * lazily (hiredis, in an apr_reslist), every step bounded by a time-out.
 *
 * What a reply means, and why there is no cache: a string is the live
 * session's JSON; nil means no live session (destroyed at logout, or
 * expired by the TTL connect-redis set), so the gate refuses; anything else
 * (cannot connect, time-out, an error reply) is "store down", which the
 * gate answers with 503 and never with an allow. Unlike APR-util's
 * apr_redis, hiredis never turns a dead server into "not found". Nothing is
 * cached: a logout at the app must close the next handshake, and one GET on
 * a warm connection costs about as much as the handshake's HMAC.
 */
#include "wsa_private.h"

#include "apr_reslist.h"
#include <hiredis/hiredis.h>

APLOG_USE_MODULE(ws_auth);

#define WSA_STORE_MAX_CONNS 64 /* per child and store */
#define WSA_STORE_IDLE_TTL  (60 * APR_USEC_PER_SEC)
#define WSA_STORE_BACKOFF   APR_USEC_PER_SEC /* after a failed connect */
#define WSA_STORE_MAX_VALUE (64 * 1024)      /* bytes of session JSON */

wsa_store_t *wsa_stores = NULL;

/* ------------------------------------------------------------ config time */

const char *wsa_store_parse(apr_pool_t *p, const char *const *argv, int argc, wsa_store_t **out)
{
    wsa_store_t *s = apr_pcalloc(p, sizeof(*s)), *dup;
    const char *u = argv[0], *hp, *slash, *colon;
    char *end;
    long v;
    int i;

    if (strncmp(u, "redis://", 8)) {
        return "the URL must start with redis:// (redis://host:port[/db])";
    }
    hp = u + 8;
    if (strchr(hp, '@')) {
        return "a password or user in the URL is not supported; bind Redis to "
               "loopback or a private network";
    }
    slash = strchr(hp, '/');
    colon = strrchr(hp, ':');
    if (!colon || (slash && colon > slash) || colon == hp) {
        return "write redis://host:port[/db], e.g. redis://127.0.0.1:6379/0";
    }
    s->host = apr_pstrmemdup(p, hp, (apr_size_t)(colon - hp));
    if (s->host[0] == '[') { /* an IPv6 literal: hiredis wants it bare */
        apr_size_t n = strlen(s->host);
        if (n < 3 || s->host[n - 1] != ']') {
            return "write an IPv6 address in brackets: redis://[::1]:6379";
        }
        s->host = apr_pstrmemdup(p, s->host + 1, n - 2);
    }
    else if (strchr(s->host, ':') || strchr(s->host, ']')) {
        return "write an IPv6 address in brackets: redis://[::1]:6379";
    }
    v = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || v < 1 || v > 65535 || (*end && *end != '/')) {
        return "the port must be 1-65535";
    }
    s->port = (int)v;
    if (slash) {
        v = strtol(slash + 1, &end, 10);
        if (end == slash + 1 || *end || v < 0 || v > 1000) {
            return "the database must be a number 0-1000 (redis://host:port/0)";
        }
        s->db = (int)v;
    }
    s->prefix = "sess:"; /* connect-redis's default */
    s->timeout_ms = WSA_STORE_TIMEOUT_MS;
    for (i = 1; i < argc; i++) {
        if (!strncmp(argv[i], "prefix=", 7)) {
            s->prefix = argv[i] + 7;
        }
        else if (!strncmp(argv[i], "timeout=", 8)) {
            v = strtol(argv[i] + 8, &end, 10);
            if (end == argv[i] + 8 || *end || v < 10 || v > 10000) {
                return "timeout= takes milliseconds, 10-10000 (default 500)";
            }
            s->timeout_ms = (int)v;
        }
        else {
            return apr_psprintf(p, "unknown option '%s'; use prefix=... or timeout=ms", argv[i]);
        }
    }
    s->url = u;
    /* Locations naming the same store share its connections */
    for (dup = wsa_stores; dup; dup = dup->next) {
        if (!strcmp(dup->host, s->host) && dup->port == s->port && dup->db == s->db &&
            !strcmp(dup->prefix, s->prefix) && dup->timeout_ms == s->timeout_ms) {
            *out = dup;
            return NULL;
        }
    }
    s->next = wsa_stores;
    wsa_stores = s;
    *out = s;
    return NULL;
}

/* ------------------------------------------------------------ connections */

static struct timeval wsa_tv(int ms)
{
    struct timeval tv;
    tv.tv_sec = ms / 1000;
    tv.tv_usec = (ms % 1000) * 1000;
    return tv;
}

static apr_status_t conn_make(void **res, void *params, apr_pool_t *pool)
{
    wsa_store_t *s = params;
    redisContext *c;
    (void)pool;

    c = redisConnectWithTimeout(s->host, s->port, wsa_tv(s->timeout_ms));
    if (!c || c->err || redisSetTimeout(c, wsa_tv(s->timeout_ms)) != REDIS_OK) {
        if (c) {
            redisFree(c);
        }
        return APR_ECONNREFUSED;
    }
    if (s->db) {
        redisReply *rep = redisCommand(c, "SELECT %d", s->db);
        int ok = rep && rep->type == REDIS_REPLY_STATUS;
        if (rep) {
            freeReplyObject(rep);
        }
        if (!ok) {
            redisFree(c);
            return APR_EGENERAL;
        }
    }
    *res = c;
    return APR_SUCCESS;
}

static apr_status_t conn_free(void *res, void *params, apr_pool_t *pool)
{
    (void)params;
    (void)pool;
    redisFree(res);
    return APR_SUCCESS;
}

/* Each child: an empty list per store, filled on demand (nothing connects
 * before the first guarded request). */
apr_status_t wsa_store_child_init(apr_pool_t *p, server_rec *srv)
{
    wsa_store_t *s;

    for (s = wsa_stores; s; s = s->next) {
        apr_status_t rv = apr_reslist_create(&s->conns, 0, 4, WSA_STORE_MAX_CONNS,
                                             WSA_STORE_IDLE_TTL, conn_make, conn_free, s, p);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_ERR, rv, srv,
                         "WSA0060: WSAuthExpressStore %s: cannot create the "
                         "connection list; guarded requests will get 503",
                         s->url);
            s->conns = NULL;
            continue;
        }
        apr_reslist_timeout_set(s->conns, (apr_interval_time_t)s->timeout_ms * 1000);
    }
    return APR_SUCCESS;
}

/* ------------------------------------------------------------ lookups */

static apr_time_t wsa_down_until; /* per child; a stale read only delays */

int wsa_store_get(request_rec *r, wsa_store_t *s, const char *id, apr_size_t id_len,
                  const char **val, apr_size_t *len)
{
    redisContext *c = NULL;
    redisReply *rep = NULL;
    apr_status_t rv;
    int st, attempt;

    if (!s->conns) {
        return WSA_STORE_DOWN;
    }
    if (r->request_time < wsa_down_until) {
        return WSA_STORE_DOWN; /* do not pile up threads on a dead server */
    }
    /* a pooled connection may have died with a Redis restart: one more
     * try on a fresh one before calling the store down */
    for (attempt = 0; attempt < 2; attempt++) {
        rv = apr_reslist_acquire(s->conns, (void **)&c);
        if (rv != APR_SUCCESS) {
            wsa_down_until = apr_time_now() + WSA_STORE_BACKOFF;
            ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                          "WSA0061: WSAuthExpressStore %s: cannot connect within %d ms", s->url,
                          s->timeout_ms);
            return WSA_STORE_DOWN;
        }
        rep = redisCommand(c, "GET %b%b", s->prefix, strlen(s->prefix), id, id_len);
        if (rep && !c->err) {
            break;
        }
        if (attempt) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                          "WSA0062: WSAuthExpressStore %s: no answer within %d ms (%s)", s->url,
                          s->timeout_ms, c->err ? c->errstr : "no reply");
        }
        if (rep) {
            freeReplyObject(rep);
            rep = NULL;
        }
        apr_reslist_invalidate(s->conns, c);
    }
    if (!rep) {
        return WSA_STORE_DOWN;
    }
    if (rep->type == REDIS_REPLY_NIL) {
        st = WSA_STORE_MISSING;
    }
    else if (rep->type == REDIS_REPLY_STRING && rep->len > 0 && rep->len <= WSA_STORE_MAX_VALUE) {
        *val = apr_pstrmemdup(r->pool, rep->str, rep->len);
        *len = rep->len;
        st = WSA_STORE_FOUND;
    }
    else {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "WSA0063: WSAuthExpressStore %s: unexpected reply (type %d, %lu bytes) "
                      "to GET of a session",
                      s->url, rep->type, (unsigned long)rep->len);
        st = WSA_STORE_DOWN;
    }
    freeReplyObject(rep);
    apr_reslist_release(s->conns, c);
    return st;
}
