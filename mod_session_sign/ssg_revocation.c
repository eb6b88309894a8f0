/*
 * ssg_revocation.c - sessions that can be taken back: revocation records in
 * an httpd socache (shmcb on one host; redis or memcache for a fleet), a
 * bounded per-child memory of recent answers, and the outage policy.
 *
 * Records (keys prefixed "ssg:"; values "V U", two decimal numbers: the
 * value, and the record's own expiry U in seconds, so a record can be
 * copied with its lifetime):
 *   s:<session id>      V=1: the session is revoked (logout), until its
 *                       tokens could no longer verify anyway
 *   u:<sha256(user)>    V=T: sessions of the user issued at or before T
 *                       (seconds) are revoked (session-sign-revoke)
 *   marker              written by the first node; a cache that answers
 *                       "not found" for it is down or lost its state. The
 *                       redis and memcache providers answer "not found" for
 *                       every key while they consider a server dead, so a
 *                       lookup round that finds no record also asks for the
 *                       marker before it says "not revoked".
 * A child asks the cache about one session or user at most once per
 * SessionSignRevocationInterval; its memory holds a fixed number of slots,
 * so a flood of distinct ids cannot grow it, and only ids of tokens whose
 * MAC verified are ever looked up.
 *
 * The per-child memory is ssg_rv_memory.c's; carrying shmcb's records
 * across a restart is ssg_rv_handover.c's.
 */
#include "ssg_private.h"

#include "ap_provider.h"
#include "ap_socache.h"
#include "util_mutex.h"

#include "apr_atomic.h"
#include "apr_hash.h"
#include "apr_shm.h"
#include "apr_thread_mutex.h"

APLOG_USE_MODULE(session_sign);

#define SSG_RV_NAMESPACE   "session-sign" /* socache API: namespace + ":" + NUL <= 16 */
#define SSG_RV_MUTEX       "session-sign-revocation"
#define SSG_RV_MARKER      "ssg:marker"
#define SSG_RV_REINIT_RING 16

typedef struct {
    apr_thread_mutex_t *lock;        /* the instance renewal */
    ssg_rv_memory_t *mem;            /* recent answers (ssg_rv_memory.c) */
    apr_time_t marker_checked;       /* the last round that found the marker */
    ap_socache_instance_t *instance; /* this child's instance (renewed in outages) */
    apr_pool_t *ring[SSG_RV_REINIT_RING];
    unsigned ring_next;
    apr_time_t last_reinit;
} ssg_rv_child_t;

/* shared by the children of one node (anonymous shm, made before the fork) */
typedef struct {
    apr_uint32_t down;        /* 1 while the cache is down */
    apr_uint32_t marker_seen; /* the marker was found once */
} ssg_rv_shared_t;

static apr_global_mutex_t *ssg_rv_mutex = NULL;
static ssg_rv_shared_t *ssg_rv_shared = NULL;
static ssg_rv_child_t *ssg_rv_child = NULL;

/* ------------------------------------------------------------------ */
/* configuration                                                       */

const char *ssg_revocation_set_cache(cmd_parms *cmd, ssg_srv_conf *sc, const char *arg)
{
    const char *sep = strchr(arg, ':');
    const char *name = sep ? apr_pstrmemdup(cmd->pool, arg, (apr_size_t)(sep - arg)) : arg;
    const char *args = sep ? sep + 1 : "";
    const char *err;

    sc->rv_provider =
        ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, name, AP_SOCACHE_PROVIDER_VERSION);
    if (!sc->rv_provider) {
        return apr_psprintf(cmd->pool,
                            "SessionSignRevocationCache: the socache provider '%s' is not "
                            "loaded; add LoadModule socache_%s_module "
                            "modules/mod_socache_%s.so before this line (shmcb, redis, "
                            "memcache, dbm)",
                            name, name, name);
    }
    err = sc->rv_provider->create(&sc->rv_instance, args, cmd->temp_pool, cmd->pool);
    if (err) {
        return apr_psprintf(cmd->pool, "SessionSignRevocationCache %s: %s", arg, err);
    }
    sc->rv_spec = arg;
    sc->rv_args = args;
    return NULL;
}

static struct ap_socache_hints ssg_rv_hints = {SSG_RV_MEMORY_KEY_MAX, 16, 60 * APR_USEC_PER_SEC};

static apr_status_t ssg_rv_destroy(void *data)
{
    ssg_srv_conf *sc = data;

    if (sc->rv_instance && sc->rv_inited) {
        sc->rv_provider->destroy(sc->rv_instance, sc->rv_server);
        sc->rv_inited = 0;
    }
    return APR_SUCCESS;
}

int ssg_revocation_pre_config(apr_pool_t *pconf)
{
    return ap_mutex_register(pconf, SSG_RV_MUTEX, NULL, APR_LOCK_DEFAULT, 0) == APR_SUCCESS
               ? OK
               : HTTP_INTERNAL_SERVER_ERROR;
}

int ssg_revocation_post_config(apr_pool_t *pconf, server_rec *base)
{
    server_rec *s;
    apr_shm_t *shm;
    int any = 0, notmpsafe = 0;
    apr_status_t rv;

    /* a virtual host without the directive shares the main server's instance */
    apr_hash_t *done = apr_hash_make(pconf);

    for (s = base; s; s = s->next) {
        ssg_srv_conf *sc = ap_get_module_config(s->module_config, &session_sign_module);
        if (!sc->rv_instance) {
            continue;
        }
        if (apr_hash_get(done, &sc->rv_instance, sizeof(sc->rv_instance))) {
            sc->rv_inited = 1;
            continue;
        }
        sc->rv_server = s;
        rv = sc->rv_provider->init(sc->rv_instance, SSG_RV_NAMESPACE, &ssg_rv_hints, s, pconf);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                         "SSG0075: SessionSignRevocationCache %s: cannot initialise it",
                         sc->rv_spec);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        sc->rv_inited = 1;
        apr_hash_set(done, &sc->rv_instance, sizeof(sc->rv_instance), sc);
        apr_pool_cleanup_register(pconf, sc, ssg_rv_destroy, apr_pool_cleanup_null);
        if (!strcmp(sc->rv_provider->name, "shmcb")) {
            ssg_rv_handover_restore(sc, s, pconf);
            ssg_rv_handover_keep(sc, s, pconf, &ssg_rv_mutex);
        }
        any = 1;
        notmpsafe |= (sc->rv_provider->flags & AP_SOCACHE_FLAG_NOTMPSAFE) != 0;
    }
    if (!any) {
        return OK;
    }
    if (notmpsafe) {
        rv = ap_global_mutex_create(&ssg_rv_mutex, NULL, SSG_RV_MUTEX, NULL, base, pconf, 0);
        if (rv != APR_SUCCESS) {
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    if (apr_shm_create(&shm, sizeof(ssg_rv_shared_t), NULL, pconf) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, base,
                     "SSG0076: cannot create the shared memory of the revocation cache");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    ssg_rv_shared = apr_shm_baseaddr_get(shm);
    memset(ssg_rv_shared, 0, sizeof(*ssg_rv_shared));
    return OK;
}

void ssg_revocation_child_init(apr_pool_t *p, server_rec *s)
{
    if (!ssg_rv_shared) {
        return;
    }
    if (ssg_rv_mutex) {
        apr_global_mutex_child_init(&ssg_rv_mutex, apr_global_mutex_lockfile(ssg_rv_mutex), p);
    }
    ssg_rv_child = apr_pcalloc(p, sizeof(*ssg_rv_child));
    apr_thread_mutex_create(&ssg_rv_child->lock, APR_THREAD_MUTEX_DEFAULT, p);
    ssg_rv_child->mem = ssg_rv_memory_create(p);
    (void)s;
}

/* ------------------------------------------------------------------ */
/* the cache                                                           */

static ap_socache_instance_t *ssg_rv_instance(const ssg_srv_conf *sc)
{
    /* a child renews its instance of a networked cache in an outage (see
     * ssg_rv_renew); one server's cache is the one it renews */
    return (ssg_rv_child && ssg_rv_child->instance) ? ssg_rv_child->instance : sc->rv_instance;
}

static void ssg_rv_renew(const ssg_srv_conf *sc, server_rec *s, apr_time_t now);

/* After a restart of a networked cache a child's pooled connection is dead:
 * a failed call is tried once more on a fresh instance (<= 1/s per child). */
static int ssg_rv_retry(const ssg_srv_conf *sc, server_rec *s, apr_status_t rv)
{
    ap_socache_instance_t *before = ssg_rv_instance(sc);

    if (rv == APR_SUCCESS || rv == APR_NOTFOUND || !ssg_rv_child) {
        return 0;
    }
    ssg_rv_renew(sc, s, apr_time_now());
    return ssg_rv_instance(sc) != before;
}

static apr_status_t ssg_rv_get(const ssg_srv_conf *sc, server_rec *s, const char *key, char *out,
                               unsigned int *outlen, apr_pool_t *p)
{
    unsigned int room = *outlen;
    apr_status_t rv;
    int tries = 0;

    do {
        *outlen = room;
        if (ssg_rv_mutex) {
            apr_global_mutex_lock(ssg_rv_mutex);
        }
        rv = sc->rv_provider->retrieve(ssg_rv_instance(sc), s, (const unsigned char *)key,
                                       (unsigned int)strlen(key), (unsigned char *)out, outlen, p);
        if (ssg_rv_mutex) {
            apr_global_mutex_unlock(ssg_rv_mutex);
        }
    } while (tries++ == 0 && ssg_rv_retry(sc, s, rv));
    return rv;
}

static apr_status_t ssg_rv_put(const ssg_srv_conf *sc, server_rec *s, const char *key,
                               apr_time_t expiry, const char *val, apr_pool_t *p)
{
    apr_status_t rv;
    int tries = 0;

    do {
        if (ssg_rv_mutex) {
            apr_global_mutex_lock(ssg_rv_mutex);
        }
        rv = sc->rv_provider->store(ssg_rv_instance(sc), s, (const unsigned char *)key,
                                    (unsigned int)strlen(key), expiry, (unsigned char *)val,
                                    (unsigned int)strlen(val), p);
        if (ssg_rv_mutex) {
            apr_global_mutex_unlock(ssg_rv_mutex);
        }
    } while (tries++ == 0 && ssg_rv_retry(sc, s, rv));
    return rv;
}

/* a record's value: "V U" (see the top of the file) */
static const char *ssg_rv_value(apr_pool_t *p, apr_int64_t v, apr_time_t until)
{
    return apr_psprintf(p, "%" APR_INT64_T_FMT " %" APR_INT64_T_FMT, v, apr_time_sec(until));
}

/* The redis and memcache clients retry a server they marked dead only every
 * 5 s; in an outage a child makes itself a fresh instance at most once a
 * second, so it sees the cache come back within about a second. The old
 * instances' pools are kept in a ring and freed 16 renewals later, long
 * after any request that used them. Never for shmcb (its memory is the
 * parent's). */
static void ssg_rv_renew(const ssg_srv_conf *sc, server_rec *s, apr_time_t now)
{
    ssg_rv_child_t *c = ssg_rv_child;
    ap_socache_instance_t *inst = NULL;
    apr_pool_t *pool, *tmp;

    if (!c || !strncmp(sc->rv_provider->name, "shmcb", 5) ||
        now - c->last_reinit < apr_time_from_sec(1)) {
        return;
    }
    apr_thread_mutex_lock(c->lock);
    if (now - c->last_reinit < apr_time_from_sec(1)) {
        apr_thread_mutex_unlock(c->lock);
        return;
    }
    c->last_reinit = now;
    if (c->ring[c->ring_next % SSG_RV_REINIT_RING]) {
        apr_pool_destroy(c->ring[c->ring_next % SSG_RV_REINIT_RING]);
    }
    apr_pool_create(&pool, NULL);
    apr_pool_create(&tmp, pool);
    if (sc->rv_provider->create(&inst, sc->rv_args, tmp, pool) == NULL &&
        sc->rv_provider->init(inst, SSG_RV_NAMESPACE, &ssg_rv_hints, s, pool) == APR_SUCCESS) {
        c->instance = inst;
    }
    c->ring[c->ring_next++ % SSG_RV_REINIT_RING] = pool;
    apr_thread_mutex_unlock(c->lock);
}

static void ssg_rv_down(server_rec *s, const ssg_srv_conf *sc, apr_status_t rv)
{
    if (apr_atomic_cas32(&ssg_rv_shared->down, 1, 0) == 0) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s,
                     "SSG0070: revocation cache %s cannot be reached; sessions that "
                     "cannot be checked are %s until it answers again",
                     sc->rv_spec, sc->rv_allow == 1 ? "allowed" : "refused with 503");
    }
    ssg_rv_renew(sc, s, apr_time_now());
}

static void ssg_rv_up(server_rec *s, const ssg_srv_conf *sc)
{
    if (apr_atomic_cas32(&ssg_rv_shared->down, 0, 1) == 1) {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, "SSG0071: revocation cache %s answers again",
                     sc->rv_spec);
    }
}

/* Is the cache up and holding its marker? Writes the marker where missing. */
static apr_status_t ssg_rv_marker(server_rec *s, apr_pool_t *p, const ssg_srv_conf *sc)
{
    char buf[16];
    unsigned int len = sizeof(buf) - 1;
    apr_status_t rv = ssg_rv_get(sc, s, SSG_RV_MARKER, buf, &len, p);

    if (rv == APR_SUCCESS) {
        apr_atomic_set32(&ssg_rv_shared->marker_seen, 1);
        return APR_SUCCESS;
    }
    if (rv != APR_NOTFOUND) {
        return rv;
    }
    rv = ssg_rv_put(sc, s, SSG_RV_MARKER, apr_time_now() + apr_time_from_sec(86400 * 29),
                    ssg_rv_value(p, 1, apr_time_now() + apr_time_from_sec(86400 * 29)), p);
    if (rv == APR_SUCCESS && apr_atomic_cas32(&ssg_rv_shared->marker_seen, 1, 1) == 1) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     "SSG0072: revocation cache %s lost its records (restarted empty?); "
                     "sessions revoked before are valid again until they expire",
                     sc->rv_spec);
    }
    apr_atomic_set32(&ssg_rv_shared->marker_seen, 1);
    return rv;
}

/* ------------------------------------------------------------------ */
/* keys and the interval of the per-child memory                       */

/* SessionSignRevocationInterval; the main server's record is never merged */
static apr_interval_time_t ssg_rv_interval(const ssg_srv_conf *sc)
{
    return sc->rv_interval >= 0 ? sc->rv_interval : apr_time_from_sec(1);
}

/* the cache is known to be down (one node's children share the flag) */
static int ssg_rv_outage(void)
{
    return apr_atomic_read32(&ssg_rv_shared->down) != 0;
}

static const char *ssg_rv_user_key(apr_pool_t *p, const char *user)
{
    return apr_pstrcat(p, "ssg:u:", ssg_digest_hex(p, user, strlen(user)), NULL);
}

/* The key of a user in a child's memory: the name itself where it fits a
 * slot (no SHA-256 per request), else the cache's key. */
static const char *ssg_rv_user_mkey(apr_pool_t *p, const char *user)
{
    return strlen(user) + 2 < SSG_RV_MEMORY_KEY_MAX ? apr_pstrcat(p, "m:", user, NULL)
                                                    : ssg_rv_user_key(p, user);
}

/* ------------------------------------------------------------------ */
/* the check                                                           */

int ssg_revocation_enabled(request_rec *r)
{
    ssg_srv_conf *sc = ap_get_module_config(r->server->module_config, &session_sign_module);
    return sc->rv_instance && ssg_rv_shared && ssg_rv_child;
}

/* A user's revocation time T, or -1: from memory or the cache. */
static apr_status_t ssg_rv_user_time(server_rec *s, apr_pool_t *p, const ssg_srv_conf *sc,
                                     const char *user, apr_time_t now, int fresh_only,
                                     apr_int64_t *t)
{
    const char *mkey = ssg_rv_user_mkey(p, user), *ukey;
    char buf[32];
    unsigned int len = sizeof(buf) - 1;
    apr_status_t rv;

    if (!fresh_only && ssg_rv_recall(ssg_rv_child->mem, SSG_RV_USERS, mkey, now,
                                     ssg_rv_interval(sc), ssg_rv_outage(), t)) {
        return APR_SUCCESS;
    }
    ukey = ssg_rv_user_key(p, user);
    rv = ssg_rv_get(sc, s, ukey, buf, &len, p);
    if (rv == APR_SUCCESS) {
        buf[len < sizeof(buf) ? len : sizeof(buf) - 1] = '\0';
        *t = apr_atoi64(buf);
    }
    else if (rv == APR_NOTFOUND) {
        *t = -1;
    }
    else {
        return rv;
    }
    ssg_rv_remember(ssg_rv_child->mem, SSG_RV_USERS, mkey, now, *t);
    return APR_SUCCESS;
}

int ssg_revocation_check_server(server_rec *s, apr_pool_t *p, const char *sid, const char *user,
                                apr_int64_t iat)
{
    ssg_srv_conf *sc = ap_get_module_config(s->module_config, &session_sign_module);
    apr_time_t now = apr_time_now();
    apr_int64_t revoked = 0, t = -1;
    int have_sid, have_user = 1;
    const char *skey = apr_pstrcat(p, "ssg:s:", sid, NULL);
    char buf[32];
    unsigned int len = sizeof(buf) - 1;
    apr_status_t rv = APR_SUCCESS;

    /* both under one lock: the thread that claims a stale session claims
     * its stale user too, so one round refreshes both */
    ssg_rv_memory_lock(ssg_rv_child->mem);
    have_sid = ssg_rv_recall_locked(ssg_rv_child->mem, SSG_RV_SIDS, skey, now, ssg_rv_interval(sc),
                                    ssg_rv_outage(), &revoked);
    if (user) {
        const char *mkey = ssg_rv_user_mkey(p, user);
        have_user = ssg_rv_recall_locked(ssg_rv_child->mem, SSG_RV_USERS, mkey, now,
                                         ssg_rv_interval(sc), ssg_rv_outage(), &t);
    }
    ssg_rv_memory_unlock(ssg_rv_child->mem);
    if (have_sid && have_user) {
        return (revoked || (user && t >= iat)) ? SESSION_SIGN_REVOKED : SESSION_SIGN_VERIFIED;
    }
    /* one round trip of lookups: the marker first (a cache that has lost
     * it, or is down, cannot say "not revoked") */
    rv = ssg_rv_marker(s, p, sc);
    if (rv == APR_SUCCESS && !have_sid) {
        rv = ssg_rv_get(sc, s, skey, buf, &len, p);
        if (rv == APR_SUCCESS || rv == APR_NOTFOUND) {
            revoked = rv == APR_SUCCESS;
            ssg_rv_remember(ssg_rv_child->mem, SSG_RV_SIDS, skey, now, revoked);
            rv = APR_SUCCESS;
        }
    }
    if (rv == APR_SUCCESS && !have_user) {
        rv = ssg_rv_user_time(s, p, sc, user, now, 1, &t);
    }
    if (rv != APR_SUCCESS) {
        ssg_rv_down(s, sc, rv);
        return SESSION_SIGN_UNAVAILABLE;
    }
    ssg_rv_up(s, sc);
    return (revoked || (user && t >= iat)) ? SESSION_SIGN_REVOKED : SESSION_SIGN_VERIFIED;
}

int ssg_revocation_check(request_rec *r, const char *sid, const char *user, apr_int64_t iat)
{
    return ssg_revocation_check_server(r->server, r->pool, sid, user, iat);
}

int ssg_revocation_enabled_server(server_rec *s)
{
    ssg_srv_conf *sc = ap_get_module_config(s->module_config, &session_sign_module);
    return sc->rv_instance && ssg_rv_shared && ssg_rv_child;
}

apr_interval_time_t ssg_revocation_interval(server_rec *s)
{
    return ssg_rv_interval(ap_get_module_config(s->module_config, &session_sign_module));
}

int ssg_revocation_allows_outage(request_rec *r)
{
    ssg_srv_conf *sc = ap_get_module_config(r->server->module_config, &session_sign_module);
    return sc->rv_allow == 1;
}

/* ------------------------------------------------------------------ */
/* the writes                                                          */

apr_status_t ssg_revocation_revoke_session(request_rec *r, const char *sid, apr_time_t until)
{
    ssg_srv_conf *sc = ap_get_module_config(r->server->module_config, &session_sign_module);
    const char *skey = apr_pstrcat(r->pool, "ssg:s:", sid, NULL);
    apr_status_t rv =
        ssg_rv_put(sc, r->server, skey, until, ssg_rv_value(r->pool, 1, until), r->pool);

    if (rv == APR_SUCCESS) {
        ssg_rv_remember(ssg_rv_child->mem, SSG_RV_SIDS, skey, apr_time_now(), 1);
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "SSG0073: session %.6s... revoked", sid);
    }
    else {
        ssg_rv_down(r->server, sc, rv);
    }
    return rv;
}

apr_status_t ssg_revocation_revoke_user(request_rec *r, const char *user, apr_int64_t t,
                                        apr_time_t until)
{
    ssg_srv_conf *sc = ap_get_module_config(r->server->module_config, &session_sign_module);
    const char *ukey = ssg_rv_user_key(r->pool, user);
    apr_status_t rv =
        ssg_rv_put(sc, r->server, ukey, until, ssg_rv_value(r->pool, t, until), r->pool);

    if (rv == APR_SUCCESS) {
        ssg_rv_remember(ssg_rv_child->mem, SSG_RV_USERS, ssg_rv_user_mkey(r->pool, user),
                        apr_time_now(), t);
    }
    else {
        ssg_rv_down(r->server, sc, rv);
    }
    return rv;
}

apr_int64_t ssg_revocation_user_since(request_rec *r, const char *user)
{
    ssg_srv_conf *sc = ap_get_module_config(r->server->module_config, &session_sign_module);
    apr_int64_t t = -1;

    if (ssg_rv_user_time(r->server, r->pool, sc, user, apr_time_now(), 1, &t) != APR_SUCCESS) {
        return -1;
    }
    return t;
}
