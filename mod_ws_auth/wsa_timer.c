/*
 * wsa_timer.c - the per-child timer of open tunnels: one thread, one list,
 * a tick four times a second that compares each tunnel's deadline and,
 * once per SessionSignRevocationInterval, asks mod_session_sign about each
 * distinct session (its per-child memory answers all the tunnels of one
 * session for the cache operations of one).
 *
 * It never writes to a socket. To end a tunnel it sets its end reason and
 * shuts down the read side of the tunnel's own duplicate of the backend
 * socket: the tunnel's poll returns and the tunnel's thread, the only
 * writer of the client socket, writes the close frame (wsa_tunnel.c).
 */
#include "wsa_tunnel.h"

#include "apr_hash.h"
#include "apr_thread_cond.h"
#include "apr_thread_mutex.h"
#include "apr_thread_proc.h"

#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

APLOG_USE_MODULE(ws_auth);

#define WSA_TICK apr_time_from_msec(250)

typedef struct {
    apr_pool_t *pool;
    apr_thread_mutex_t *lock;
    apr_thread_cond_t *cond;
    apr_thread_t *thread;
    wsa_tunnel_t *head;
    int count;
    int stop;
} wsa_timer_t;

static wsa_timer_t *wsa_timer = NULL;

static void wsa_wake(wsa_tunnel_t *t)
{
    if (t->wake_fd >= 0) {
        shutdown(t->wake_fd, SHUT_RD); /* no write: the poll sees EOF */
    }
}

static void wsa_end(wsa_tunnel_t *t, apr_uint32_t why)
{
    if (apr_atomic_cas32(&t->ending, why, WSA_END_NONE) == WSA_END_NONE) {
        wsa_wake(t);
    }
}

int wsa_timer_active(void)
{
    return wsa_timer != NULL && wsa_timer->thread != NULL;
}

void wsa_timer_list(wsa_tunnel_t *t)
{
    apr_thread_mutex_lock(wsa_timer->lock);
    t->next = wsa_timer->head;
    if (t->next) {
        t->next->prev = t;
    }
    wsa_timer->head = t;
    t->listed = 1;
    wsa_timer->count++;
    apr_thread_mutex_unlock(wsa_timer->lock);
}

void wsa_timer_set_wake(wsa_tunnel_t *t, int fd)
{
    apr_thread_mutex_lock(wsa_timer->lock);
    t->wake_fd = fd;
    if (apr_atomic_read32(&t->ending) != WSA_END_NONE) {
        wsa_wake(t);
    }
    apr_thread_mutex_unlock(wsa_timer->lock);
}

void wsa_timer_wake(wsa_tunnel_t *t)
{
    if (!wsa_timer) {
        return;
    }
    apr_thread_mutex_lock(wsa_timer->lock);
    wsa_wake(t);
    apr_thread_mutex_unlock(wsa_timer->lock);
}

/* ------------------------------------------------------------------ */
/* the timer                                                           */

void wsa_timer_unlist(wsa_tunnel_t *t)
{
    if (!wsa_timer) {
        return;
    }
    apr_thread_mutex_lock(wsa_timer->lock);
    if (t->wake_fd >= 0) {
        close(t->wake_fd);
        t->wake_fd = -1;
    }
    if (!t->listed) {
        apr_thread_mutex_unlock(wsa_timer->lock);
        return;
    }
    if (t->prev) {
        t->prev->next = t->next;
    }
    else {
        wsa_timer->head = t->next;
    }
    if (t->next) {
        t->next->prev = t->prev;
    }
    t->listed = 0;
    wsa_timer->count--;
    apr_thread_mutex_unlock(wsa_timer->lock);
}

/* One tick: deadlines, then (each interval) the sessions' revocation. The
 * strings asked about are copied under the lock: a tunnel may end and be
 * freed while the cache is asked. */
static void wsa_timer_tick(apr_pool_t *p)
{
    apr_hash_t *due = apr_hash_make(p);
    apr_time_t now = apr_time_now();
    apr_hash_index_t *hi;
    wsa_tunnel_t *t;
    int revoked = 0;

    typedef struct {
        server_rec *s;
        const char *sid, *user;
        apr_int64_t iat;
        int status;
    } ask_t;

    apr_thread_mutex_lock(wsa_timer->lock);
    for (t = wsa_timer->head; t; t = t->next) {
        if (t->ending != WSA_END_NONE) {
            continue;
        }
        if (t->deadline && now >= t->deadline) {
            wsa_end(t, WSA_END_EXPIRED);
        }
        else if (t->revocable && now >= t->next_check && wsa_sign_tunnel_check) {
            t->next_check = now + t->interval;
            if (!apr_hash_get(due, t->sid, APR_HASH_KEY_STRING)) {
                ask_t *a = apr_pcalloc(p, sizeof(*a));
                a->s = t->s;
                a->sid = apr_pstrdup(p, t->sid);
                a->user = t->user ? apr_pstrdup(p, t->user) : NULL;
                a->iat = t->iat;
                apr_hash_set(due, a->sid, APR_HASH_KEY_STRING, a);
            }
        }
    }
    apr_thread_mutex_unlock(wsa_timer->lock);

    for (hi = apr_hash_first(p, due); hi; hi = apr_hash_next(hi)) {
        ask_t *a = apr_hash_this_val(hi);
        /* an outage (UNAVAILABLE) keeps tunnels open: see the docs */
        a->status = wsa_sign_tunnel_check(a->s, p, a->sid, a->user, a->iat);
        revoked |= a->status == SESSION_SIGN_REVOKED;
    }
    if (!revoked) {
        return;
    }
    apr_thread_mutex_lock(wsa_timer->lock);
    for (t = wsa_timer->head; t; t = t->next) {
        ask_t *a = t->revocable ? apr_hash_get(due, t->sid, APR_HASH_KEY_STRING) : NULL;
        if (a && a->status == SESSION_SIGN_REVOKED) {
            wsa_end(t, WSA_END_REVOKED);
        }
    }
    apr_thread_mutex_unlock(wsa_timer->lock);
}

static void *APR_THREAD_FUNC wsa_timer_main(apr_thread_t *thd, void *data)
{
    apr_pool_t *p;

    (void)data;
#ifdef __linux__
    pthread_setname_np(pthread_self(), "wsa-timer"); /* for top -H and the bench */
#endif
    apr_pool_create(&p, NULL);
    apr_thread_mutex_lock(wsa_timer->lock);
    while (!wsa_timer->stop) {
        apr_thread_cond_timedwait(wsa_timer->cond, wsa_timer->lock, WSA_TICK);
        if (wsa_timer->stop) {
            break;
        }
        if (!wsa_timer->count) {
            continue;
        }
        apr_thread_mutex_unlock(wsa_timer->lock);
        wsa_timer_tick(p);
        apr_pool_clear(p);
        apr_thread_mutex_lock(wsa_timer->lock);
    }
    apr_thread_mutex_unlock(wsa_timer->lock);
    apr_pool_destroy(p);
    /* a plain return, no apr_thread_exit(): pthread_exit's unwinding
     * leaves this stack's shadow poisoned under ASan (make check-asan
     * reported it in every child at exit); the thread is joined by
     * wsa_timer_stop and its pool goes with the child's */
    (void)thd;
    return NULL;
}

static apr_status_t wsa_timer_stop(void *data)
{
    apr_status_t rv;

    (void)data;
    if (!wsa_timer || !wsa_timer->thread) {
        return APR_SUCCESS;
    }
    apr_thread_mutex_lock(wsa_timer->lock);
    wsa_timer->stop = 1;
    apr_thread_cond_signal(wsa_timer->cond);
    apr_thread_mutex_unlock(wsa_timer->lock);
    apr_thread_join(&rv, wsa_timer->thread);
    wsa_timer->thread = NULL;
    return APR_SUCCESS;
}

void wsa_timer_child_init(apr_pool_t *p, server_rec *s)
{
    wsa_timer_t *tm;
    apr_status_t rv;

    wsa_timer = NULL;
    if (!wsa_enabled_somewhere || !wsa_sign_tunnel_info) {
        return;
    }
    tm = apr_pcalloc(p, sizeof(*tm));
    tm->pool = p;
    if ((rv = apr_thread_mutex_create(&tm->lock, APR_THREAD_MUTEX_DEFAULT, p)) != APR_SUCCESS ||
        (rv = apr_thread_cond_create(&tm->cond, p)) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                     "WSA0041: cannot create the tunnel timer; open tunnels end only "
                     "when they next carry a frame");
        return;
    }
    wsa_timer = tm;
    rv = apr_thread_create(&tm->thread, NULL, wsa_timer_main, NULL, p);
    if (rv != APR_SUCCESS) {
        tm->thread = NULL;
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                     "WSA0043: cannot start the tunnel timer thread; open tunnels end "
                     "only when they next carry a frame");
        return;
    }
    /* before the child pool's subpools (the thread's own among them) go */
    apr_pool_pre_cleanup_register(p, NULL, wsa_timer_stop);
}
