/*
 * wsa_tunnel.h - what wsa_tunnel.c (the filters, the upgrade) and
 * wsa_timer.c (the per-child timer) share about an open tunnel.
 */
#ifndef WSA_TUNNEL_H
#define WSA_TUNNEL_H

#include "wsa_private.h"

#include "apr_atomic.h"

#define WSA_END_NONE    0
#define WSA_END_EXPIRED 1
#define WSA_END_REVOKED 2

struct wsa_tunnel_t {
    wsa_tunnel_t *prev, *next; /* the timer's list (under its lock) */
    request_rec *r;
    server_rec *s;
    const char *sid, *user;
    apr_int64_t iat;
    apr_time_t deadline; /* 0: none */
    int revocable;
    apr_interval_time_t interval;
    apr_time_t next_check;
    apr_uint32_t ending; /* WSA_END_*, set once by the timer or the filters */
    int wake_fd;         /* our duplicate of the backend socket; -1 none */
    int listed;
    /* the tunnel's own thread only */
    wsa_stream_t out;
    ap_filter_t *out_f, *in_f, *back_f;
    conn_rec *backend;
    int started; /* the 101 went out */
    int finished, close_sent;
    apr_time_t start, ended_at;
    apr_off_t bytes_in, bytes_out;
};

/* wsa_timer.c: the list of open tunnels of this child and its thread.
 * Every function but wsa_timer_active takes the timer's lock itself. */
int wsa_timer_active(void);
void wsa_timer_list(wsa_tunnel_t *t);
void wsa_timer_unlist(wsa_tunnel_t *t); /* and closes t->wake_fd */
void wsa_timer_set_wake(wsa_tunnel_t *t, int fd);
void wsa_timer_wake(wsa_tunnel_t *t);

#endif /* WSA_TUNNEL_H */
