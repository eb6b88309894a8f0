/*
 * ssg_rv_handover.c - shmcb revocation records across a restart: httpd
 * re-creates a shmcb cache with each configuration generation (graceful
 * restarts too, and logrotate's reload), so the parent copies its records
 * out just before the old generation's pool goes (a pre-cleanup) and back
 * into the new one at post_config: a logout survives a reload. A full stop
 * forgets them (docs/fleet.md).
 */
#include "ssg_private.h"

#include "ap_socache.h"

#include "apr_global_mutex.h"

#include <stdlib.h>
#include <unistd.h>

APLOG_USE_MODULE(session_sign);

/* one record copied out of the old generation's cache (malloc'd: the
 * process pool is never cleared, and a restart must not leak) */
typedef struct ssg_rv_rec {
    struct ssg_rv_rec *next;
    apr_time_t until;
    unsigned int idlen, datalen;
    unsigned char bytes[]; /* id, then data */
} ssg_rv_rec_t;

typedef struct {
    ssg_rv_rec_t *head;
    unsigned int n;
} ssg_rv_handover_t;

typedef struct {
    ssg_srv_conf *sc;
    apr_pool_t *process; /* where the handover waits for the next generation */
    pid_t parent;
    apr_global_mutex_t **mutex; /* the cache's mutex (shmcb is not MP-safe) */
} ssg_rv_saver_t;

static ssg_rv_handover_t *ssg_rv_handover(apr_pool_t *process, const char *spec)
{
    const char *key = apr_pstrcat(process, "mod_session_sign revocation handover ", spec, NULL);
    void *data = NULL;

    /* the key and the holder live in the process pool: our DSO (and its
     * string literals) is unloaded at a restart. One per cache, ever. */
    apr_pool_userdata_get(&data, key, process);
    if (!data) {
        data = apr_pcalloc(process, sizeof(ssg_rv_handover_t));
        apr_pool_userdata_set(data, apr_pstrdup(process, key), apr_pool_cleanup_null, process);
    }
    return data;
}

static void ssg_rv_handover_free(ssg_rv_handover_t *h)
{
    while (h->head) {
        ssg_rv_rec_t *next = h->head->next;
        free(h->head);
        h->head = next;
    }
    h->n = 0;
}

static apr_status_t ssg_rv_copy_one(ap_socache_instance_t *inst, server_rec *s, void *userctx,
                                    const unsigned char *id, unsigned int idlen,
                                    const unsigned char *data, unsigned int datalen,
                                    apr_pool_t *pool)
{
    ssg_rv_handover_t *h = userctx;
    const char *sp = memchr(data, ' ', datalen);
    ssg_rv_rec_t *rec;
    char until[24];
    apr_size_t ulen;

    (void)inst, (void)s, (void)pool;
    if (!sp || idlen > SSG_RV_MEMORY_KEY_MAX || datalen > 64) {
        return APR_SUCCESS; /* not one of ours */
    }
    ulen = datalen - (apr_size_t)(sp + 1 - (const char *)data);
    if (ulen == 0 || ulen >= sizeof(until)) {
        return APR_SUCCESS;
    }
    memcpy(until, sp + 1, ulen);
    until[ulen] = '\0';
    rec = malloc(sizeof(*rec) + idlen + datalen);
    if (!rec) {
        return APR_ENOMEM;
    }
    rec->until = apr_time_from_sec(apr_atoi64(until));
    rec->idlen = idlen;
    rec->datalen = datalen;
    memcpy(rec->bytes, id, idlen);
    memcpy(rec->bytes + idlen, data, datalen);
    rec->next = h->head;
    h->head = rec;
    h->n++;
    return APR_SUCCESS;
}

/* pre-cleanup of the old generation's pconf, in the parent only (children
 * that exit run their pools' cleanups too) */
static apr_status_t ssg_rv_save(void *data)
{
    ssg_rv_saver_t *sv = data;
    ssg_srv_conf *sc = sv->sc;
    ssg_rv_handover_t *h;
    apr_pool_t *tmp;

    if (getpid() != sv->parent || !sc->rv_inited || !sc->rv_provider->iterate) {
        return APR_SUCCESS;
    }
    h = ssg_rv_handover(sv->process, sc->rv_spec);
    ssg_rv_handover_free(h);
    apr_pool_create(&tmp, NULL);
    if (*sv->mutex) {
        apr_global_mutex_lock(*sv->mutex);
    }
    sc->rv_provider->iterate(sc->rv_instance, sc->rv_server, h, ssg_rv_copy_one, tmp);
    if (*sv->mutex) {
        apr_global_mutex_unlock(*sv->mutex);
    }
    apr_pool_destroy(tmp);
    return APR_SUCCESS;
}

void ssg_rv_handover_restore(ssg_srv_conf *sc, server_rec *s, apr_pool_t *pconf)
{
    ssg_rv_handover_t *h = ssg_rv_handover(s->process->pool, sc->rv_spec);
    apr_time_t now = apr_time_now();
    unsigned int kept = 0;
    ssg_rv_rec_t *rec;

    for (rec = h->head; rec; rec = rec->next) {
        if (rec->until > now &&
            sc->rv_provider->store(sc->rv_instance, s, rec->bytes, rec->idlen, rec->until,
                                   rec->bytes + rec->idlen, rec->datalen, pconf) == APR_SUCCESS) {
            kept++;
        }
    }
    if (h->n) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s,
                     "SSG0077: revocation cache %s: %u of %u records kept across the restart",
                     sc->rv_spec, kept, h->n);
    }
    ssg_rv_handover_free(h);
}

void ssg_rv_handover_keep(ssg_srv_conf *sc, server_rec *s, apr_pool_t *pconf,
                          apr_global_mutex_t **mutex)
{
    ssg_rv_saver_t *sv = apr_palloc(pconf, sizeof(*sv));

    sv->sc = sc;
    sv->process = s->process->pool;
    sv->parent = getpid();
    sv->mutex = mutex;
    apr_pool_pre_cleanup_register(pconf, sv, ssg_rv_save);
}
