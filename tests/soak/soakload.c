/*
 * soakload - the load generator of `make soak` (issue 6 point 3).
 *
 *   soakload -p PORT -f SPEC [-n COUNT] [-c CONNS] [-d MAX_SECONDS]
 *            [-H HELD] [-i PING_SECONDS] [-T TIMEOUT_SECONDS]
 *
 * SPEC holds the request kinds, each as a line
 *     kind NAME MODE WEIGHT EXPECT LEN\n
 * followed by LEN raw request bytes and a newline. MODE is "get" (an
 * HTTP/1.1 request on a keep-alive connection), "ws" (an upgrade: after a
 * 101 a close frame is sent and the server's close awaited) or "hold" (the
 * handshake of the held WebSockets; weight 0). EXPECT lists the statuses
 * that count as right for the kind, e.g. 200 or 400,431.
 *
 * What it does, in one thread with epoll:
 *   1. opens HELD WebSockets with the "hold" request (at most 32 handshakes
 *      in flight) and keeps them open;
 *   2. sends COUNT requests over CONNS keep-alive connections, one request
 *      at a time per connection, the kind of request number i being slot
 *      i % S of a fixed smooth weighted round-robin schedule of S slots;
 *      a connection the server closes (Connection: close, upgrades, 400s)
 *      is replaced by a new one;
 *   3. meanwhile every PING_SECONDS each held socket sends a masked text
 *      frame and must get the same text back within TIMEOUT_SECONDS;
 *   4. after the load, one last echo round on every held socket, then a
 *      close frame on each.
 * It counts, per kind, the statuses seen, the answers outside EXPECT and
 * the transport errors (refused, reset, timeout, garbage), and prints
 * "progress ..." lines every second, "phase end-load" once the load is
 * done (the held sockets are still open then), and the results as
 * key=value lines.
 *
 * Bounded on purpose: 127.0.0.0/8 only, at most 1024 connections and 4096
 * held sockets, at most 3600 s, at most 100,000,000 requests; every request
 * and every echo has a deadline.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_KINDS     64
#define MAX_EXPECT    8
#define MAX_CONNS     1024
#define MAX_HELD      4096
#define MAX_SECONDS   3600
#define MAX_COUNT     100000000L
#define MAX_SLOTS     4096
#define IN_MAX        16384
#define HOLD_INFLIGHT 32

enum { MODE_GET, MODE_WS, MODE_HOLD };
enum { C_FREE, C_CONNECTING, C_SENDING, C_HEAD, C_BODY, C_WAIT_EOF, C_HELD };
enum { E_CONNECT, E_RESET, E_TIMEOUT, E_PROTO, E_NKINDS };

typedef struct {
    char name[64];
    int mode;
    int weight;
    int expect[MAX_EXPECT];
    int nexpect;
    char *req;
    size_t req_len;
    long sent, done, right, wrong;
    long err[E_NKINDS];
    long status[600];
} kind_t;

typedef struct {
    int fd;
    int state;
    int held; /* a held WebSocket */
    int kind;
    size_t out_off;
    const char *out;
    size_t out_len;
    char in[IN_MAX];
    size_t in_len;
    long body_left; /* bytes; -1 chunked; -2 until the server closes */
    int status;
    int close_after;
    int64_t deadline;
    /* held sockets */
    int echo_pending;
    char echo_msg[64];
    size_t echo_len;
    char frame[80];
    long echo_seq;
} conn_t;

static kind_t kinds[MAX_KINDS];
static int nkinds;
static int hold_kind = -1;
static int sched[MAX_SLOTS];
static int nslots;

static int ep;
static struct sockaddr_in sa;
static conn_t *conns; /* load connections, then held ones */
static int nconns, nheld;
static long count = 1000000, next_seq, done_total, wrong_total, err_total;
static long status5xx;
static int64_t timeout_ns = 15LL * 1000000000LL;
static volatile sig_atomic_t stop_flag;

/* held sockets */
static long held_opened, held_failed, held_lost, echo_ok, echo_bad, echo_timeout;
static long run_echo_ok, run_echo_bad;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void die(const char *msg)
{
    fprintf(stderr, "soakload: %s\n", msg);
    exit(2);
}

/* ------------------------------------------------------------------ */
/* spec and schedule                                                    */

static void load_spec(const char *path)
{
    FILE *f = fopen(path, "rb");
    char line[512];

    if (!f) {
        die("cannot open the spec file");
    }
    while (fgets(line, sizeof(line), f)) {
        kind_t *k;
        char name[64], mode[16], expect[64], *tok, *save = NULL;
        int weight;
        long len;

        if (line[0] == '\n' || line[0] == '#') {
            continue;
        }
        if (nkinds >= MAX_KINDS) {
            die("too many kinds");
        }
        if (sscanf(line, "kind %63s %15s %d %63s %ld", name, mode, &weight, expect, &len) != 5 ||
            weight < 0 || len <= 0 || len > 1 << 20) {
            die("bad kind line in the spec");
        }
        k = &kinds[nkinds];
        snprintf(k->name, sizeof(k->name), "%s", name);
        k->mode = !strcmp(mode, "get")    ? MODE_GET
                  : !strcmp(mode, "ws")   ? MODE_WS
                  : !strcmp(mode, "hold") ? MODE_HOLD
                                          : -1;
        if (k->mode < 0) {
            die("unknown mode in the spec");
        }
        k->weight = k->mode == MODE_HOLD ? 0 : weight;
        for (tok = strtok_r(expect, ",", &save); tok && k->nexpect < MAX_EXPECT;
             tok = strtok_r(NULL, ",", &save)) {
            k->expect[k->nexpect++] = atoi(tok);
        }
        k->req = malloc((size_t)len);
        if (!k->req || fread(k->req, 1, (size_t)len, f) != (size_t)len) {
            die("short request in the spec");
        }
        k->req_len = (size_t)len;
        fgetc(f); /* the newline after the bytes */
        if (k->mode == MODE_HOLD) {
            hold_kind = nkinds;
        }
        nkinds++;
    }
    fclose(f);
}

/* smooth weighted round robin: each kind spread evenly over the cycle */
static void build_schedule(void)
{
    long cur[MAX_KINDS] = {0};
    int total = 0, i, s;

    for (i = 0; i < nkinds; i++) {
        total += kinds[i].weight;
    }
    if (total <= 0 || total > MAX_SLOTS) {
        die("the weights must add up to 1..4096");
    }
    for (s = 0; s < total; s++) {
        int best = -1;
        for (i = 0; i < nkinds; i++) {
            cur[i] += kinds[i].weight;
            if (kinds[i].weight && (best < 0 || cur[i] > cur[best])) {
                best = i;
            }
        }
        cur[best] -= total;
        sched[s] = best;
    }
    nslots = total;
}

/* ------------------------------------------------------------------ */
/* connections                                                          */

static void set_events(conn_t *c, unsigned ev)
{
    struct epoll_event e;

    e.events = ev;
    e.data.ptr = c;
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
}

static void conn_close(conn_t *c)
{
    if (c->fd >= 0) {
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    c->fd = -1;
    c->state = C_FREE;
    c->in_len = 0;
}

static int conn_open(conn_t *c)
{
    struct epoll_event e;
    int one = 1, fd, rc;

    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
    if (rc != 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    c->fd = fd;
    c->state = rc == 0 ? C_SENDING : C_CONNECTING;
    e.events = EPOLLOUT;
    e.data.ptr = c;
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
    return 0;
}

static int start_request(conn_t *c, int64_t now);

/* A transport error: counted; a load connection starts its next request on
 * a new connection, a held socket is lost. */
static void count_error(conn_t *c, int e)
{
    if (c->held) {
        if (c->state == C_HELD) {
            held_lost++;
        }
        else {
            held_failed++;
        }
        conn_close(c);
        return;
    }
    kinds[c->kind].err[e]++;
    err_total++;
    conn_close(c);
    start_request(c, now_ns());
}

/* Begin the next request on load connection c (opening it if needed).
 * @return 0 if a request is under way, -1 if there is nothing left. */
static int start_request(conn_t *c, int64_t now)
{
    kind_t *k;

    for (;;) {
        if (stop_flag || next_seq >= count) {
            if (c->fd >= 0) {
                conn_close(c);
            }
            return -1;
        }
        c->kind = sched[next_seq % nslots];
        next_seq++;
        k = &kinds[c->kind];
        k->sent++;
        c->out = k->req;
        c->out_len = k->req_len;
        c->out_off = 0;
        c->in_len = 0;
        c->status = 0;
        c->close_after = 0;
        c->deadline = now + timeout_ns;
        if (c->fd >= 0) {
            c->state = C_SENDING;
            set_events(c, EPOLLOUT);
            return 0;
        }
        if (conn_open(c) == 0) {
            return 0;
        }
        k->err[E_CONNECT]++;
        err_total++;
        if (k->err[E_CONNECT] > 1000) {
            stop_flag = 1; /* the server is gone: stop */
        }
    }
}

static int send_pending(conn_t *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return errno == EAGAIN ? 0 : -1;
        }
        c->out_off += (size_t)n;
    }
    return 1;
}

static const char *find_head_end(const char *b, size_t len)
{
    const char *p = memmem(b, len, "\r\n\r\n", 4);
    return p ? p + 4 : NULL;
}

/* value of header name in head (NUL-terminated copy into out), or NULL */
static const char *head_value(const char *head, size_t len, const char *name, char *out,
                              size_t outsz)
{
    size_t nlen = strlen(name);
    const char *p = head, *end = head + len;

    while (p < end) {
        const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
        if (!eol) {
            break;
        }
        if ((size_t)(eol - p) > nlen && p[nlen] == ':' && !strncasecmp(p, name, nlen)) {
            const char *v = p + nlen + 1;
            size_t n;
            while (v < eol && (*v == ' ' || *v == '\t')) {
                v++;
            }
            n = (size_t)(eol - v) < outsz - 1 ? (size_t)(eol - v) : outsz - 1;
            memcpy(out, v, n);
            out[n] = '\0';
            return out;
        }
        p = eol + 2;
    }
    return NULL;
}

static int status_expected(const kind_t *k, int status)
{
    int i;

    for (i = 0; i < k->nexpect; i++) {
        if (k->expect[i] == status) {
            return 1;
        }
    }
    return 0;
}

static void response_done(conn_t *c, int64_t now)
{
    kind_t *k = &kinds[c->kind];

    k->done++;
    done_total++;
    if (c->status >= 100 && c->status < 600) {
        k->status[c->status]++;
    }
    if (c->status >= 500) {
        status5xx++;
    }
    if (status_expected(k, c->status)) {
        k->right++;
    }
    else {
        k->wrong++;
        wrong_total++;
    }
    if (c->close_after) {
        /* let the server close first (its side keeps the TIME_WAIT) */
        c->state = C_WAIT_EOF;
        c->deadline = now + timeout_ns;
        set_events(c, EPOLLIN);
        return;
    }
    start_request(c, now);
}

/* chunked bodies: keep the last 5 bytes seen in c->in; our responses end
 * with the last chunk and no trailer. @return 1 when the body is complete. */
static int chunked_tail(conn_t *c, const char *data, size_t n)
{
    char t[10];
    size_t tl = c->in_len < 5 ? c->in_len : 5, take = n < 5 ? n : 5;

    memcpy(t, c->in + c->in_len - tl, tl);
    memcpy(t + tl, data + n - take, take);
    tl += take;
    if (tl > 5) {
        memmove(t, t + tl - 5, 5);
        tl = 5;
    }
    memcpy(c->in, t, tl);
    c->in_len = tl;
    return tl == 5 && !memcmp(t, "0\r\n\r\n", 5);
}

static const unsigned char close_frame[] = {0x88, 0x80, 0x11, 0x22, 0x33, 0x44};

/* The head of a response arrived in c->in. */
static void on_head(conn_t *c, const char *eoh, int64_t now)
{
    size_t head_len = (size_t)(eoh - c->in), extra = c->in_len - head_len;
    char v[128];

    if (c->in_len < 12 || strncmp(c->in, "HTTP/1.", 7) != 0) {
        count_error(c, E_PROTO);
        return;
    }
    c->status = atoi(c->in + 9);
    if (c->held) {
        if (c->status != 101) {
            held_failed++;
            conn_close(c);
            return;
        }
        held_opened++;
        c->state = C_HELD;
        c->in_len = extra;
        memmove(c->in, eoh, extra);
        set_events(c, EPOLLIN);
        return;
    }
    if (c->status == 101) {
        /* a tunnel: close it the client's way, wait for the server */
        if (send(c->fd, close_frame, sizeof(close_frame), MSG_NOSIGNAL) < 0) {
            count_error(c, E_RESET);
            return;
        }
        c->close_after = 1;
        c->in_len = 0;
        response_done(c, now);
        return;
    }
    if (head_value(c->in, head_len, "Connection", v, sizeof(v)) && strcasestr(v, "close")) {
        c->close_after = 1;
    }
    if (head_value(c->in, head_len, "Content-Length", v, sizeof(v))) {
        c->body_left = atol(v) - (long)extra;
    }
    else if (head_value(c->in, head_len, "Transfer-Encoding", v, sizeof(v)) &&
             strcasestr(v, "chunked")) {
        c->body_left = -1;
    }
    else if (c->status == 204 || c->status == 304 || c->status < 200) {
        c->body_left = 0;
    }
    else {
        c->body_left = -2;
        c->close_after = 1;
    }
    c->state = C_BODY;
    if (c->body_left == -1) {
        char tmp[IN_MAX];
        memcpy(tmp, eoh, extra);
        c->in_len = 0;
        if (chunked_tail(c, tmp, extra)) {
            response_done(c, now);
        }
        return;
    }
    c->in_len = 0;
    if (c->body_left <= 0 && c->body_left != -2) {
        c->body_left = 0;
        response_done(c, now);
    }
}

/* held socket: parse echoed frames in c->in */
static void on_held_data(conn_t *c)
{
    while (c->in_len >= 2) {
        unsigned char b0 = (unsigned char)c->in[0], b1 = (unsigned char)c->in[1];
        size_t n = b1 & 0x7f;

        if ((b1 & 0x80) || n >= 126) {
            echo_bad++; /* we only send short frames */
            held_lost++;
            conn_close(c);
            return;
        }
        if (c->in_len < 2 + n) {
            return;
        }
        if ((b0 & 0x0f) == 0x8) {
            held_lost++; /* the server closed the tunnel */
            conn_close(c);
            return;
        }
        if ((b0 & 0x0f) == 0x1 && c->echo_pending && n == c->echo_len &&
            !memcmp(c->in + 2, c->echo_msg, n)) {
            echo_ok++;
        }
        else {
            echo_bad++;
        }
        c->echo_pending = 0;
        memmove(c->in, c->in + 2 + n, c->in_len - 2 - n);
        c->in_len -= 2 + n;
    }
}

static void held_send_echo(conn_t *c, int64_t now)
{
    static const unsigned char mask[4] = {0x5a, 0xa5, 0x3c, 0xc3};
    size_t i;

    if (c->fd < 0 || c->state != C_HELD || c->echo_pending) {
        return;
    }
    c->echo_seq++;
    c->echo_len = (size_t)snprintf(c->echo_msg, sizeof(c->echo_msg), "held-%ld-%ld",
                                   (long)(c - conns), c->echo_seq);
    c->frame[0] = (char)0x81;
    c->frame[1] = (char)(0x80 | c->echo_len);
    memcpy(c->frame + 2, mask, 4);
    for (i = 0; i < c->echo_len; i++) {
        c->frame[6 + i] = (char)(c->echo_msg[i] ^ mask[i % 4]);
    }
    if (send(c->fd, c->frame, 6 + c->echo_len, MSG_NOSIGNAL) != (ssize_t)(6 + c->echo_len)) {
        held_lost++;
        conn_close(c);
        return;
    }
    c->echo_pending = 1;
    c->deadline = now + timeout_ns;
}

static void on_event(conn_t *c, unsigned ev, int64_t now)
{
    char scratch[65536];

    if (c->fd < 0) {
        return;
    }
    if (c->state == C_CONNECTING) {
        int err = 0;
        socklen_t l = sizeof(err);
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
        if (err) {
            count_error(c, E_CONNECT);
            return;
        }
        c->state = C_SENDING;
    }
    if (c->state == C_SENDING && (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
        int r = send_pending(c);
        if (r < 0) {
            count_error(c, E_RESET);
            return;
        }
        if (r == 0) {
            return;
        }
        c->state = C_HEAD;
        c->in_len = 0;
        set_events(c, EPOLLIN);
        return;
    }
    if (!(ev & (EPOLLIN | EPOLLERR | EPOLLHUP))) {
        return;
    }
    for (;;) {
        ssize_t n;
        if (c->state == C_HEAD || c->state == C_HELD) {
            if (c->in_len >= IN_MAX) {
                count_error(c, E_PROTO);
                return;
            }
            n = recv(c->fd, c->in + c->in_len, IN_MAX - c->in_len, 0);
        }
        else {
            n = recv(c->fd, scratch, sizeof(scratch), 0);
        }
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN) {
                return;
            }
            if (c->state == C_WAIT_EOF) {
                conn_close(c); /* reset at the end: the answer was complete */
                if (!c->held) {
                    start_request(c, now);
                }
                return;
            }
            count_error(c, E_RESET);
            return;
        }
        if (n == 0) {
            if (c->state == C_WAIT_EOF) {
                conn_close(c);
                if (!c->held) {
                    start_request(c, now);
                }
                return;
            }
            if (c->state == C_BODY && c->body_left == -2) {
                c->close_after = 0;
                conn_close(c);
                response_done(c, now); /* opens a new connection */
                return;
            }
            count_error(c, E_RESET);
            return;
        }
        switch (c->state) {
        case C_HEAD: {
            const char *eoh;
            c->in_len += (size_t)n;
            eoh = find_head_end(c->in, c->in_len);
            if (eoh) {
                on_head(c, eoh, now);
                if (c->fd < 0 || c->state != C_BODY) {
                    return;
                }
            }
            break;
        }
        case C_BODY:
            if (c->body_left > 0) {
                c->body_left -= n;
                if (c->body_left <= 0) {
                    c->body_left = 0;
                    response_done(c, now);
                    return;
                }
            }
            else if (c->body_left == -1 && chunked_tail(c, scratch, (size_t)n)) {
                response_done(c, now);
                return;
            }
            break;
        case C_HELD:
            c->in_len += (size_t)n;
            on_held_data(c);
            if (c->fd < 0) {
                return;
            }
            break;
        case C_WAIT_EOF:
        default: break;
        }
    }
}

/* ------------------------------------------------------------------ */

static void usage(void)
{
    fprintf(stderr, "usage: soakload -p PORT -f SPEC [-n COUNT] [-c CONNS] "
                    "[-d MAX_SECONDS] [-H HELD] [-i PING_SECONDS] [-T TIMEOUT_S]\n");
    exit(2);
}

static void print_results(double secs)
{
    int i, s;

    printf("result requests=%ld seconds=%.1f rate=%.0f wrong=%ld errors=%ld status5xx=%ld\n",
           done_total, secs, secs > 0 ? done_total / secs : 0.0, wrong_total, err_total, status5xx);
    printf("result held=%d held_opened=%ld held_failed=%ld held_lost=%ld echo_ok=%ld "
           "echo_bad=%ld echo_timeout=%ld final_echo_ok=%ld final_echo_bad=%ld\n",
           nheld, held_opened, held_failed, held_lost, run_echo_ok, run_echo_bad, echo_timeout,
           echo_ok, echo_bad);
    for (i = 0; i < nkinds; i++) {
        kind_t *k = &kinds[i];
        char st[1024];
        size_t off = 0;
        if (k->mode == MODE_HOLD) {
            continue;
        }
        st[0] = '\0';
        for (s = 100; s < 600 && off < sizeof(st) - 16; s++) {
            if (k->status[s]) {
                off += (size_t)snprintf(st + off, sizeof(st) - off, "%s%d:%ld", off ? "," : "", s,
                                        k->status[s]);
            }
        }
        printf("kind name=%s mode=%s expect=", k->name, k->mode == MODE_WS ? "ws" : "get");
        for (s = 0; s < k->nexpect; s++) {
            printf("%s%d", s ? "," : "", k->expect[s]);
        }
        printf(" weight=%d sent=%ld done=%ld right=%ld wrong=%ld err_connect=%ld "
               "err_reset=%ld err_timeout=%ld err_protocol=%ld statuses=%s\n",
               k->weight, k->sent, k->done, k->right, k->wrong, k->err[E_CONNECT], k->err[E_RESET],
               k->err[E_TIMEOUT], k->err[E_PROTO], st[0] ? st : "-");
    }
    fflush(stdout);
}

static void run_loop_until(int64_t until, int (*done)(void));

/* conditions for run_loop_until: no echo pending, no handshake in flight,
 * every connection closed */
static int echoes_settled(void)
{
    int i;

    for (i = nconns; i < nconns + nheld; i++) {
        if (conns[i].fd >= 0 && conns[i].echo_pending) {
            return 0;
        }
    }
    return 1;
}

static int held_settled(void)
{
    int i, inflight = 0;

    for (i = nconns; i < nconns + nheld; i++) {
        if (conns[i].fd >= 0 && conns[i].state != C_HELD) {
            inflight++;
        }
    }
    return inflight == 0;
}

static int all_closed(void)
{
    int i;

    for (i = 0; i < nconns + nheld; i++) {
        if (conns[i].fd >= 0) {
            return 0;
        }
    }
    return 1;
}

static void check_deadlines(int64_t now)
{
    int i;

    for (i = 0; i < nconns + nheld; i++) {
        conn_t *c = &conns[i];
        if (c->fd < 0 || now < c->deadline) {
            continue;
        }
        if (c->held && c->state == C_WAIT_EOF) {
            conn_close(c); /* closing at the end: done waiting */
            continue;
        }
        if (c->held && c->state == C_HELD) {
            if (c->echo_pending) {
                echo_timeout++;
                c->echo_pending = 0;
                held_lost++;
                conn_close(c);
            }
            continue;
        }
        if (!c->held && c->state == C_WAIT_EOF) {
            conn_close(c); /* the answer was complete already */
            start_request(c, now);
            continue;
        }
        count_error(c, E_TIMEOUT);
    }
}

/* Run the event loop until done() or the deadline; bounded. */
static void run_loop_until(int64_t until, int (*done)(void))
{
    struct epoll_event evs[256];
    int64_t last_check = 0;

    while (!stop_flag && now_ns() < until && !done()) {
        int n = epoll_wait(ep, evs, 256, 50), i;
        int64_t now = now_ns();
        for (i = 0; i < n; i++) {
            on_event(evs[i].data.ptr, evs[i].events, now);
        }
        if (now - last_check > 100000000LL) {
            check_deadlines(now);
            last_check = now;
        }
    }
}

int main(int argc, char **argv)
{
    const char *spec = NULL;
    int port = 0, conc = 48, max_seconds = 600, ping_s = 15, opt, i;
    int64_t t0, t_end, last_progress, last_ping_round, now;
    struct epoll_event evs[256];
    long pinged = 0;

    while ((opt = getopt(argc, argv, "p:f:n:c:d:H:i:T:")) != -1) {
        switch (opt) {
        case 'p': port = atoi(optarg); break;
        case 'f': spec = optarg; break;
        case 'n': count = atol(optarg); break;
        case 'c': conc = atoi(optarg); break;
        case 'd': max_seconds = atoi(optarg); break;
        case 'H': nheld = atoi(optarg); break;
        case 'i': ping_s = atoi(optarg); break;
        case 'T': timeout_ns = (int64_t)atoi(optarg) * 1000000000LL; break;
        default: usage();
        }
    }
    if (!spec || port <= 0 || port > 65535 || conc < 1 || conc > MAX_CONNS || count < 1 ||
        count > MAX_COUNT || max_seconds < 1 || max_seconds > MAX_SECONDS || nheld < 0 ||
        nheld > MAX_HELD || ping_s < 1 || timeout_ns <= 0) {
        usage();
    }
    load_spec(spec);
    build_schedule();
    if (nheld && hold_kind < 0) {
        die("held sockets need a kind of mode hold in the spec");
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* loopback only, always */
    ep = epoll_create1(EPOLL_CLOEXEC);
    nconns = conc;
    conns = calloc((size_t)(nconns + nheld), sizeof(*conns));
    if (!conns || ep < 0) {
        die("out of memory");
    }
    for (i = 0; i < nconns + nheld; i++) {
        conns[i].fd = -1;
        conns[i].held = i >= nconns;
    }
    t0 = now_ns();
    t_end = t0 + (int64_t)max_seconds * 1000000000LL;

    /* 1. the held WebSockets, at most HOLD_INFLIGHT handshakes at a time */
    for (i = nconns; i < nconns + nheld; i++) {
        conn_t *c = &conns[i];
        while (!stop_flag) {
            int j, inflight = 0;
            for (j = nconns; j < i; j++) {
                inflight += conns[j].fd >= 0 && conns[j].state != C_HELD;
            }
            if (inflight < HOLD_INFLIGHT) {
                break;
            }
            run_loop_until(now_ns() + 20000000LL, held_settled);
        }
        c->kind = hold_kind;
        c->out = kinds[hold_kind].req;
        c->out_len = kinds[hold_kind].req_len;
        c->out_off = 0;
        c->deadline = now_ns() + timeout_ns;
        if (conn_open(c) != 0) {
            held_failed++;
        }
    }
    run_loop_until(now_ns() + timeout_ns + 1000000000LL, held_settled);
    printf("held opened=%ld failed=%ld\n", held_opened, held_failed);
    fflush(stdout);

    /* 2. the load, with 3. the echo rounds on the held sockets */
    now = now_ns();
    for (i = 0; i < nconns; i++) {
        start_request(&conns[i], now);
    }
    last_progress = last_ping_round = now;
    while (!stop_flag) {
        int n = epoll_wait(ep, evs, 256, 50), busy = 0;
        now = now_ns();
        for (i = 0; i < n; i++) {
            on_event(evs[i].data.ptr, evs[i].events, now);
        }
        if (now >= t_end) {
            fprintf(stderr, "soakload: time limit reached\n");
            break;
        }
        if (now - last_progress >= 1000000000LL) {
            check_deadlines(now);
            printf("progress done=%ld elapsed=%.1f\n", done_total, (now - t0) / 1e9);
            fflush(stdout);
            last_progress = now;
        }
        /* spread each echo round over the ping interval */
        if (nheld) {
            int64_t period = (int64_t)ping_s * 1000000000LL;
            long due = (long)((now - last_ping_round) * nheld / period);
            while (pinged < due && pinged < nheld) {
                held_send_echo(&conns[nconns + pinged], now);
                pinged++;
            }
            if (now - last_ping_round >= period) {
                last_ping_round = now;
                pinged = 0;
            }
        }
        for (i = 0; i < nconns; i++) {
            busy += conns[i].fd >= 0;
        }
        if (!busy && next_seq >= count) {
            break;
        }
    }
    printf("phase end-load done=%ld elapsed=%.1f\n", done_total, (now_ns() - t0) / 1e9);
    fflush(stdout);
    {
        double secs = (now_ns() - t0) / 1e9;

        /* 4. a last echo round on every held socket, then close them */
        run_loop_until(now_ns() + timeout_ns, echoes_settled);
        run_echo_ok = echo_ok;
        run_echo_bad = echo_bad;
        echo_ok = echo_bad = 0; /* the final round, counted alone */
        {
            long lost_before = held_lost, alive = 0;
            for (i = nconns; i < nconns + nheld; i++) {
                if (conns[i].fd >= 0 && conns[i].state == C_HELD) {
                    held_send_echo(&conns[i], now_ns());
                    alive++;
                }
            }
            run_loop_until(now_ns() + timeout_ns, echoes_settled);
            printf("final-echo alive=%ld ok=%ld bad=%ld lost_during=%ld\n", alive, echo_ok,
                   echo_bad, held_lost - lost_before);
            fflush(stdout);
        }
        for (i = nconns; i < nconns + nheld; i++) {
            conn_t *c = &conns[i];
            if (c->fd >= 0) {
                if (send(c->fd, close_frame, sizeof(close_frame), MSG_NOSIGNAL) < 0) {
                    conn_close(c);
                    continue;
                }
                c->state = C_WAIT_EOF;
                c->deadline = now_ns() + 5000000000LL;
                c->in_len = 0;
            }
        }
        run_loop_until(now_ns() + 6000000000LL, all_closed);
        for (i = 0; i < nconns + nheld; i++) {
            conn_close(&conns[i]);
        }
        print_results(secs);
    }
    return 0;
}
