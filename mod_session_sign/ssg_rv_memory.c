/*
 * ssg_rv_memory.c - a child's memory of recent revocation answers: two
 * fixed tables (sessions, users), so a flood of distinct ids cannot grow
 * it, and one refresh per stale answer, so many threads on one session
 * make one lookup round per interval, not one each.
 */
#include "ssg_private.h"

#include "apr_thread_mutex.h"

#define SSG_RV_SLOTS      4096
#define SSG_RV_USER_SLOTS 1024
#define SSG_RV_CLAIM      apr_time_from_msec(500)

typedef struct {
    apr_uint64_t hash;
    char key[SSG_RV_MEMORY_KEY_MAX];
    apr_time_t checked;
    apr_time_t claimed; /* a thread is asking the cache since then */
    apr_int64_t value;  /* sid: 1 revoked, 0 not; user: T, or -1 none */
} ssg_rv_slot_t;

struct ssg_rv_memory {
    apr_thread_mutex_t *lock;
    ssg_rv_slot_t sids[SSG_RV_SLOTS];
    ssg_rv_slot_t users[SSG_RV_USER_SLOTS];
};

ssg_rv_memory_t *ssg_rv_memory_create(apr_pool_t *p)
{
    ssg_rv_memory_t *m = apr_pcalloc(p, sizeof(*m));

    apr_thread_mutex_create(&m->lock, APR_THREAD_MUTEX_DEFAULT, p);
    return m;
}

void ssg_rv_memory_lock(ssg_rv_memory_t *m)
{
    apr_thread_mutex_lock(m->lock);
}

void ssg_rv_memory_unlock(ssg_rv_memory_t *m)
{
    apr_thread_mutex_unlock(m->lock);
}

static ssg_rv_slot_t *ssg_rv_table(ssg_rv_memory_t *m, int table, unsigned *n)
{
    *n = table == SSG_RV_SIDS ? SSG_RV_SLOTS : SSG_RV_USER_SLOTS;
    return table == SSG_RV_SIDS ? m->sids : m->users;
}

static apr_uint64_t ssg_rv_hash(const char *s)
{
    apr_uint64_t h = 1469598103934665603ULL;

    while (*s) {
        h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
    }
    return h;
}

int ssg_rv_recall_locked(ssg_rv_memory_t *m, int table, const char *key, apr_time_t now,
                         apr_interval_time_t interval, int outage, apr_int64_t *value)
{
    unsigned n;
    ssg_rv_slot_t *tab = ssg_rv_table(m, table, &n);
    apr_uint64_t h = ssg_rv_hash(key);
    ssg_rv_slot_t *e = &tab[h % n];
    int hit;

    hit = e->hash == h && e->checked && !strcmp(e->key, key);
    if (hit && now - e->checked >= interval) {
        /* stale: one thread asks the cache; while it does (at most
         * SSG_RV_CLAIM), the others keep the last answer, so 50 threads
         * on one session make one lookup round, not 50. Not in an outage:
         * then every request that cannot be checked must learn it. */
        if (e->claimed > e->checked && now - e->claimed < SSG_RV_CLAIM && !outage) {
            hit = 1;
        }
        else {
            e->claimed = now;
            hit = 0;
        }
    }
    if (hit) {
        *value = e->value;
    }
    return hit;
}

int ssg_rv_recall(ssg_rv_memory_t *m, int table, const char *key, apr_time_t now,
                  apr_interval_time_t interval, int outage, apr_int64_t *value)
{
    int hit;

    apr_thread_mutex_lock(m->lock);
    hit = ssg_rv_recall_locked(m, table, key, now, interval, outage, value);
    apr_thread_mutex_unlock(m->lock);
    return hit;
}

void ssg_rv_remember(ssg_rv_memory_t *m, int table, const char *key, apr_time_t now,
                     apr_int64_t value)
{
    unsigned n;
    ssg_rv_slot_t *tab = ssg_rv_table(m, table, &n);
    apr_uint64_t h = ssg_rv_hash(key);
    ssg_rv_slot_t *e = &tab[h % n];

    apr_thread_mutex_lock(m->lock);
    if (e->hash != h || strcmp(e->key, key)) {
        e->claimed = 0;
    }
    e->hash = h;
    apr_cpystrn(e->key, key, sizeof(e->key));
    e->checked = now;
    e->value = value;
    apr_thread_mutex_unlock(m->lock);
}
