/*
 * wsload.h - the one load generator of `make bench` and `make soak`: its
 * types and the functions its files share: the request kinds and their
 * schedule (kinds.c), connections and the epoll loop (engine.c), held
 * WebSockets (held.c), the subcommands and their reports (wsload.c).
 *
 * One thread, one epoll loop, non-blocking sockets, one request at a time
 * per connection. Loopback (127.0.0.0/8) only; every connection has a
 * deadline; every count and duration is bounded (wsload.c).
 */
#ifndef WSLOAD_H
#define WSLOAD_H

#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#define WSL_MAX_KINDS   64
#define WSL_MAX_EXPECT  8
#define WSL_MAX_SLOTS   4096 /* the schedule: the weights' sum */
#define WSL_IN_MAX      8192 /* a response head, or a held socket's frames */
#define WSL_MAX_SAMPLES 20000000L

/* what a kind's request is */
enum { K_GET, K_WS, K_HOLD };
/* where a connection is */
enum { C_FREE, C_CONNECTING, C_SENDING, C_HEAD, C_BODY, C_CLOSING, C_WAIT_EOF, C_HELD };
/* transport errors, per kind */
enum { E_CONNECT, E_RESET, E_TIMEOUT, E_PROTO, E_NKINDS };

typedef struct {
    char name[64];
    int mode;   /* K_GET: keep-alive request; K_WS: upgrade, close frame after
                 * the 101; K_HOLD: the held sockets' upgrade */
    int weight; /* slots per schedule cycle (0 for K_HOLD) */
    int expect_lo[WSL_MAX_EXPECT], expect_hi[WSL_MAX_EXPECT];
    int nexpect; /* statuses that are right for the kind: ranges */
    char *req;
    size_t req_len;
    long sent, done, right, wrong;
    long err[E_NKINDS];
    long status[600];
} wsl_kind_t;

typedef struct {
    int fd;
    int state;
    int held; /* a held WebSocket (else a load connection) */
    int kind;
    const char *out;
    size_t out_len, out_off;
    char in[WSL_IN_MAX];
    size_t in_len;
    long body_left; /* bytes; -1 chunked; -2 until the server closes */
    int status;
    int close_after;
    int64_t t_start; /* request start (connect() on a new connection), ns */
    int64_t deadline;
    /* held sockets: one echo in flight at most */
    int echo_pending;
    char echo_msg[64];
    size_t echo_len;
    long echo_seq;
} wsl_conn_t;

typedef struct {
    wsl_kind_t kinds[WSL_MAX_KINDS];
    int nkinds, hold_kind;
    int sched[WSL_MAX_SLOTS];
    int nslots;

    int ep;
    struct sockaddr_in sa;
    wsl_conn_t *conns; /* nconns load connections, then nheld held ones */
    int nconns, nheld;
    int64_t timeout_ns;
    int64_t last_scan; /* the deadlines, checked every 100 ms */

    /* the load: requests numbered 0..count-1 (count 0: no limit), none
     * started at or after t_window_end (0: no window) */
    long count, next_seq;
    /* churn/get: a closed connection's successor is opened by the driver at
     * the top of its loop (filling), not at once (the bench's timing) */
    int fill_at_top, filling;
    int64_t t0, t_window_end;
    /* totals of the load; ok/ok_late: right answers inside/after the window */
    long done_total, wrong_total, err_total, status5xx, ok, ok_late;
    int64_t t_last_ok;
    int64_t *lat; /* latency of each right answer inside the window, ns */
    long nlat, cap_lat;

    /* held sockets */
    long held_opened, held_failed, held_lost, held_released;
    long echo_ok, echo_bad, echo_timeout;
} wsl_t;

extern volatile sig_atomic_t wsl_stop;

int64_t wsl_now_ns(void);
int wsl_stream_main(int argc, char **argv); /* stream.c */
void wsl_die(const char *msg);

/* kinds.c */
int wsl_kind_add(wsl_t *L, const char *name, int mode, int weight, const char *req, size_t req_len);
void wsl_kind_expect(wsl_kind_t *k, int lo, int hi);
int wsl_kind_expected(const wsl_kind_t *k, int status);
void wsl_load_spec(wsl_t *L, const char *path);
void wsl_build_schedule(wsl_t *L);
char *wsl_build_request(int upgrade, const char *path, const char *host, const char *origin,
                        const char *cookie);

/* engine.c: the load connections, and what held.c shares with them */
void wsl_init(wsl_t *L, const struct sockaddr_in *sa, int nconns, int nheld);
int wsl_want_more(const wsl_t *L, int64_t now);
int wsl_start_request(wsl_t *L, wsl_conn_t *c, int64_t now);
int wsl_poll(wsl_t *L, int timeout_ms);
int wsl_busy(const wsl_t *L);
void wsl_fail_busy(wsl_t *L, int e);
void wsl_close_all(wsl_t *L);
extern const unsigned char wsl_close_frame[8];
int wsl_conn_open(wsl_t *L, wsl_conn_t *c);
void wsl_conn_close(wsl_t *L, wsl_conn_t *c);
void wsl_set_events(wsl_t *L, wsl_conn_t *c, unsigned ev);
void wsl_record(wsl_t *L, int64_t lat);

/* held.c */
void wsl_held_upgraded(wsl_t *L, wsl_conn_t *c, const char *eoh, size_t extra, int64_t now);
void wsl_held_data(wsl_t *L, wsl_conn_t *c);
int wsl_held_open(wsl_t *L, wsl_conn_t *c);
int wsl_held_in_flight(const wsl_t *L, int upto);
void wsl_held_echo(wsl_t *L, wsl_conn_t *c, int64_t now);
int wsl_echoes_pending(const wsl_t *L);
void wsl_release_held(wsl_t *L, int64_t timeout_ns);

#endif
