/*
 * wsload - a bounded, loopback-only WebSocket handshake load generator.
 *
 *   wsload churn -p PORT [-u /ws/] [-c 50] [-d SECONDS | -n COUNT]
 *                [-C 'session=...'] [-O ORIGIN|-] [-H HOST] [-t THREADS]
 *   wsload get   -p PORT ... (keep-alive GETs with the same headers)
 *   wsload hold  -p PORT -N 2000 [-c 100] [-d MAX_SECONDS] ...
 *
 * churn: keeps exactly -c connections in flight; each one connects, sends an
 *        RFC 6455 upgrade request (Host, Upgrade, Connection, Sec-WebSocket-*,
 *        Origin, Cookie), waits for "HTTP/1.1 101", sends a masked close
 *        frame and waits for the server to close the TCP connection (so the
 *        tunnel ends cleanly, server side first), then starts the next one.
 *        The handshake latency is connect() to the end of the 101 head.
 * get:   -c keep-alive connections, each sending one GET after another and
 *        reading the response (Content-Length bodies); latency per request.
 * hold:  opens -N upgraded connections (at most -c being established at a
 *        time), prints "held=N" on stdout, then keeps them idle until stdin
 *        reaches EOF or -d seconds pass; then closes each with a close frame.
 *
 * Ends after -d seconds (only completions inside the window count for the
 * rate; connections in flight are then drained for at most 5 s) or after -n
 * operations, whichever comes first when both are given. Writes key=value lines on stdout: ok, errors by kind, rate,
 * latency percentiles (us), and its own CPU time and share of one core.
 *
 * Bounded on purpose: 127.0.0.0/8 only, at most 15,000 concurrent and
 * 18,000 held connections, at most an hour, at most 100,000,000 operations,
 * a deadline of -T seconds (default 10) on every connection.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONC    15000
#define MAX_HOLD    18000
#define MAX_SECONDS 3600
#define MAX_COUNT   100000000L
#define MAX_THREADS 16
#define MAX_SAMPLES 20000000L
#define DRAIN_NS    (5 * 1000000000LL)
#define HEAD_MAX    8192

enum { MODE_CHURN, MODE_GET, MODE_HOLD };
enum { ST_FREE, ST_CONNECTING, ST_SENDING, ST_HEAD, ST_BODY, ST_CLOSE_SEND, ST_WAIT_EOF, ST_HELD };

typedef struct {
    int fd;
    int state;
    int64_t t_start; /* connect() or request start, ns */
    int64_t deadline;
    const char *req;
    size_t req_len, req_off;
    char head[HEAD_MAX];
    size_t head_len;
    long body_left;
    int close_after;
} conn_t;

typedef struct {
    /* configuration, shared */
    int mode;
    struct sockaddr_in sa;
    const char *req;
    size_t req_len;
    int conc;
    long count;        /* 0: by duration */
    int64_t t0, t_end; /* t_end 0: no duration */
    int64_t timeout_ns;
    int hold_n;
    /* per thread */
    pthread_t tid;
    int ep;
    conn_t *conns;
    long started, ok, ok_late, err_connect, err_timeout, err_io, err_proto;
    long status[600];
    int64_t *lat;
    long nlat, cap_lat;
    int64_t t_last;
    long held, dropped, released;
} worker_t;

static volatile sig_atomic_t stop_flag = 0;

static const unsigned char close_frame[8] = {0x88, 0x82, 0x12,        0x34,
                                             0x56, 0x78, 0x03 ^ 0x12, 0xe8 ^ 0x34};

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

static void usage(void)
{
    fprintf(stderr, "usage: wsload churn|get|hold -p PORT [-a 127.0.0.1] [-u PATH] [-c CONC]\n"
                    "              [-d SECONDS] [-n COUNT] [-N HOLD] [-C COOKIE] [-O ORIGIN|-]\n"
                    "              [-H HOST] [-t THREADS] [-T TIMEOUT_S]\n");
}

static void record(worker_t *w, int64_t lat)
{
    if (w->nlat == w->cap_lat) {
        long cap = w->cap_lat ? w->cap_lat * 2 : 65536;
        int64_t *n;
        if (cap > MAX_SAMPLES) {
            return; /* bounded: later samples dropped */
        }
        n = realloc(w->lat, (size_t)cap * sizeof(*n));
        if (!n) {
            return;
        }
        w->lat = n;
        w->cap_lat = cap;
    }
    w->lat[w->nlat++] = lat;
}

static void conn_close(worker_t *w, conn_t *c)
{
    if (c->fd >= 0) {
        epoll_ctl(w->ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    c->fd = -1;
    c->state = ST_FREE;
}

static void set_events(worker_t *w, conn_t *c, unsigned ev)
{
    struct epoll_event e;
    e.events = ev;
    e.data.ptr = c;
    epoll_ctl(w->ep, EPOLL_CTL_MOD, c->fd, &e);
}

static int want_more(worker_t *w, int64_t now)
{
    if (stop_flag) {
        return 0;
    }
    if (w->mode == MODE_HOLD) {
        return w->started < w->hold_n;
    }
    if (w->count > 0 && w->started >= w->count) {
        return 0;
    }
    return w->t_end == 0 || now < w->t_end;
}

/* Start a connection in slot c. @return 0, or -1 if it failed at once. */
static int conn_start(worker_t *w, conn_t *c, int64_t now)
{
    struct epoll_event e;
    int one = 1, fd, rc;

    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        w->err_connect++;
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->fd = fd;
    c->t_start = now;
    c->deadline = now + w->timeout_ns;
    c->req = w->req;
    c->req_len = w->req_len;
    c->req_off = 0;
    c->head_len = 0;
    c->body_left = 0;
    c->close_after = 0;
    w->started++;
    rc = connect(fd, (struct sockaddr *)&w->sa, sizeof(w->sa));
    if (rc != 0 && errno != EINPROGRESS) {
        w->err_connect++;
        close(fd);
        c->fd = -1;
        c->state = ST_FREE;
        return -1;
    }
    c->state = rc == 0 ? ST_SENDING : ST_CONNECTING;
    e.events = EPOLLOUT;
    e.data.ptr = c;
    epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &e);
    return 0;
}

static int send_pending(conn_t *c)
{
    while (c->req_off < c->req_len) {
        ssize_t n = send(c->fd, c->req + c->req_off, c->req_len - c->req_off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN) {
                return 0;
            }
            return -1;
        }
        c->req_off += (size_t)n;
    }
    return 1;
}

static const char *find_head_end(const char *b, size_t len)
{
    size_t i;
    for (i = 3; i < len; i++) {
        if (b[i] == '\n' && b[i - 1] == '\r' && b[i - 2] == '\n' && b[i - 3] == '\r') {
            return b + i + 1;
        }
    }
    return NULL;
}

static const char *head_value(const char *head, size_t len, const char *name)
{
    size_t nl = strlen(name);
    const char *p = head, *end = head + len;

    while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        p++;
        if ((size_t)(end - p) > nl + 1 && p[nl] == ':' && strncasecmp(p, name, nl) == 0) {
            p += nl + 1;
            while (p < end && (*p == ' ' || *p == '\t')) {
                p++;
            }
            return p;
        }
    }
    return NULL;
}

/* A completed operation (101, or a full GET response). */
static void op_done(worker_t *w, conn_t *c, int64_t now)
{
    if (w->mode == MODE_HOLD || w->t_end == 0 || now <= w->t_end) {
        w->ok++;
        record(w, now - c->t_start);
    }
    else {
        w->ok_late++; /* drained after the window */
    }
    w->t_last = now;
}

static void fail(worker_t *w, conn_t *c, long *counter)
{
    (*counter)++;
    conn_close(w, c);
}

/* The response head is complete in c->head. */
static void on_head(worker_t *w, conn_t *c, const char *eoh, int64_t now)
{
    size_t hlen = (size_t)(eoh - c->head);
    int st = 0;

    if (c->head_len < 12 || strncmp(c->head, "HTTP/1.1 ", 9) != 0) {
        fail(w, c, &w->err_proto);
        return;
    }
    st = atoi(c->head + 9);
    if (st < 100 || st > 599) {
        fail(w, c, &w->err_proto);
        return;
    }
    if (w->mode != MODE_GET) {
        if (st != 101) {
            w->status[st]++;
            conn_close(w, c);
            return;
        }
        op_done(w, c, now);
        if (w->mode == MODE_HOLD) {
            c->state = ST_HELD;
            w->held++;
            set_events(w, c, EPOLLIN);
            return;
        }
        c->state = ST_CLOSE_SEND;
        c->req = (const char *)close_frame;
        c->req_len = sizeof(close_frame);
        c->req_off = 0;
        set_events(w, c, EPOLLOUT);
        return;
    }
    /* GET */
    {
        const char *cl = head_value(c->head, hlen, "Content-Length");
        const char *co = head_value(c->head, hlen, "Connection");
        if (!cl || head_value(c->head, hlen, "Transfer-Encoding")) {
            fail(w, c, &w->err_proto);
            return;
        }
        c->body_left = strtol(cl, NULL, 10) - (long)(c->head_len - hlen);
        c->close_after = co && strncasecmp(co, "close", 5) == 0;
        if (st < 200 || st > 299) {
            w->status[st]++;
            c->close_after = 1;
            c->state = ST_BODY;
            c->t_start = -1; /* not a success: no sample */
        }
        else {
            c->state = ST_BODY;
        }
    }
}

/* GET: the body is complete; next request or next connection. */
static void on_body_done(worker_t *w, conn_t *c, int64_t now)
{
    if (c->t_start >= 0) {
        op_done(w, c, now);
    }
    if (c->close_after || !want_more(w, now)) {
        conn_close(w, c);
        return;
    }
    w->started++;
    c->t_start = now;
    c->deadline = now + w->timeout_ns;
    c->req = w->req;
    c->req_len = w->req_len;
    c->req_off = 0;
    c->head_len = 0;
    c->state = ST_SENDING;
    set_events(w, c, EPOLLOUT);
}

static void on_event(worker_t *w, conn_t *c, unsigned ev, int64_t now)
{
    char buf[16384];

    if (c->state == ST_CONNECTING) {
        int err = 0;
        socklen_t el = sizeof(err);
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
        if (err) {
            fail(w, c, &w->err_connect);
            return;
        }
        c->state = ST_SENDING;
    }
    if (c->state == ST_SENDING || c->state == ST_CLOSE_SEND) {
        int r = send_pending(c);
        if (r < 0) {
            fail(w, c, &w->err_io);
            return;
        }
        if (r == 0) {
            return;
        }
        c->state = c->state == ST_SENDING ? ST_HEAD : ST_WAIT_EOF;
        set_events(w, c, EPOLLIN);
        return;
    }
    if (!(ev & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
        return;
    }
    for (;;) {
        ssize_t n;
        if (c->state == ST_HEAD) {
            n = recv(c->fd, c->head + c->head_len, HEAD_MAX - c->head_len, 0);
        }
        else {
            n = recv(c->fd, buf, sizeof(buf), 0);
        }
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN) {
                return;
            }
            if (c->state == ST_WAIT_EOF) {
                conn_close(w, c); /* reset after our close: done too */
                return;
            }
            fail(w, c, &w->err_io);
            return;
        }
        if (n == 0) {
            if (c->state == ST_WAIT_EOF) {
                if (w->mode == MODE_HOLD) {
                    w->released++;
                }
                conn_close(w, c); /* the server closed first: clean */
                return;
            }
            if (c->state == ST_HELD) {
                w->dropped++;
                w->held--;
                conn_close(w, c);
                return;
            }
            fail(w, c, &w->err_io);
            return;
        }
        if (c->state == ST_HEAD) {
            const char *eoh;
            c->head_len += (size_t)n;
            eoh = find_head_end(c->head, c->head_len);
            if (!eoh) {
                if (c->head_len == HEAD_MAX) {
                    fail(w, c, &w->err_proto);
                    return;
                }
                continue;
            }
            on_head(w, c, eoh, now);
            if (c->state == ST_BODY) {
                if (c->body_left <= 0) {
                    on_body_done(w, c, now);
                }
                return;
            }
            return;
        }
        if (c->state == ST_BODY) {
            c->body_left -= n;
            if (c->body_left <= 0) {
                on_body_done(w, c, now);
                return;
            }
            continue;
        }
        /* ST_WAIT_EOF / ST_HELD: discard (the server's close frame) */
    }
}

static void *run_worker(void *arg)
{
    worker_t *w = arg;
    struct epoll_event evs[512];
    int slots = w->mode == MODE_HOLD ? w->hold_n : w->conc;
    int i, active = 0;
    int64_t last_scan = 0, t_stop = 0;

    w->conns = calloc((size_t)slots, sizeof(conn_t));
    if (!w->conns) {
        return NULL;
    }
    for (i = 0; i < slots; i++) {
        w->conns[i].fd = -1;
    }
    for (;;) {
        int64_t now = now_ns();
        int n, in_progress = 0;

        active = 0;
        for (i = 0; i < slots; i++) {
            conn_t *c = &w->conns[i];
            if (c->state != ST_FREE) {
                active++;
                if (c->state != ST_HELD) {
                    in_progress++;
                }
            }
        }
        /* fill free slots */
        for (i = 0; i < slots && want_more(w, now); i++) {
            conn_t *c = &w->conns[i];
            if (c->state != ST_FREE) {
                continue;
            }
            if (w->mode == MODE_HOLD && in_progress >= w->conc) {
                break;
            }
            if (conn_start(w, c, now) == 0) {
                active++;
                in_progress++;
            }
            else if (errno == EADDRNOTAVAIL || errno == EMFILE || errno == ENFILE) {
                break; /* out of ports/fds: retry next turn */
            }
        }
        if (w->mode == MODE_HOLD && !want_more(w, now) && in_progress == 0) {
            return NULL; /* all held or failed: main takes over */
        }
        if (!want_more(w, now)) {
            if (!t_stop) {
                t_stop = now;
            }
            if (active == 0) {
                break;
            }
            if (now - t_stop > DRAIN_NS) {
                for (i = 0; i < slots; i++) {
                    if (w->conns[i].state != ST_FREE) {
                        fail(w, &w->conns[i], &w->err_timeout);
                    }
                }
                break;
            }
        }
        n = epoll_wait(w->ep, evs, 512, 20);
        now = now_ns();
        for (i = 0; i < n; i++) {
            on_event(w, evs[i].data.ptr, evs[i].events, now);
        }
        if (now - last_scan > 100000000LL) {
            last_scan = now;
            for (i = 0; i < slots; i++) {
                conn_t *c = &w->conns[i];
                if (c->state != ST_FREE && c->state != ST_HELD && now > c->deadline) {
                    fail(w, c, &w->err_timeout);
                }
            }
        }
    }
    return NULL;
}

/* hold mode, after every connection is held or failed: wait, then release */
static void hold_phase(worker_t *w, int64_t max_ns)
{
    struct epoll_event e, evs[512];
    int64_t t_wait = now_ns(), t_rel;
    int i, stdin_open = 1, active;

    printf("held=%ld\nhold_failed=%ld\n", w->held, w->started - w->held);
    fflush(stdout);
    e.events = EPOLLIN;
    e.data.ptr = NULL;
    if (epoll_ctl(w->ep, EPOLL_CTL_ADD, 0, &e) != 0) {
        stdin_open = 0; /* not pollable (a file): use -d */
    }
    while (!stop_flag && now_ns() - t_wait < max_ns) {
        int n = epoll_wait(w->ep, evs, 512, 200), stop = 0;
        for (i = 0; i < n; i++) {
            if (!evs[i].data.ptr) {
                char b[256];
                ssize_t r = read(0, b, sizeof(b));
                if (r <= 0) {
                    stop = 1;
                }
                continue;
            }
            on_event(w, evs[i].data.ptr, evs[i].events, now_ns());
        }
        if (stop || (!stdin_open && max_ns <= 0)) {
            break;
        }
    }
    if (stdin_open) {
        epoll_ctl(w->ep, EPOLL_CTL_DEL, 0, NULL);
    }
    /* release: a close frame on every held tunnel, then wait for the EOFs */
    t_rel = now_ns();
    for (i = 0; i < w->hold_n; i++) {
        conn_t *c = &w->conns[i];
        if (c->state == ST_HELD) {
            c->state = ST_CLOSE_SEND;
            c->req = (const char *)close_frame;
            c->req_len = sizeof(close_frame);
            c->req_off = 0;
            c->deadline = t_rel + w->timeout_ns;
            set_events(w, c, EPOLLOUT);
        }
    }
    for (;;) {
        int64_t now = now_ns();
        int n;
        active = 0;
        for (i = 0; i < w->hold_n; i++) {
            conn_t *c = &w->conns[i];
            if (c->state != ST_FREE) {
                if (now > c->deadline) {
                    fail(w, c, &w->err_timeout);
                }
                else {
                    active++;
                }
            }
        }
        if (!active) {
            break;
        }
        n = epoll_wait(w->ep, evs, 512, 100);
        now = now_ns();
        for (i = 0; i < n; i++) {
            on_event(w, evs[i].data.ptr, evs[i].events, now);
        }
    }
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static double pct(const int64_t *v, long n, double p)
{
    long i;
    if (n == 0) {
        return 0.0;
    }
    i = (long)(p / 100.0 * (double)(n - 1) + 0.5);
    return (double)v[i] / 1000.0;
}

static double tv_s(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
    const char *addr = "127.0.0.1", *path = "/ws/", *cookie = NULL;
    const char *origin = NULL, *host = NULL, *mode_s;
    int port = 0, conc = 50, threads = 1, hold_n = 0, opt, i;
    double dur = 0, timeout_s = 10;
    long count = 0;
    worker_t *w;
    char *req, origin_buf[300], host_buf[128];
    int mode;
    struct rlimit rl;
    struct rusage ru0, ru1;
    int64_t t0, t1;

    if (argc < 2) {
        usage();
        return 2;
    }
    mode_s = argv[1];
    if (!strcmp(mode_s, "churn")) {
        mode = MODE_CHURN;
    }
    else if (!strcmp(mode_s, "get")) {
        mode = MODE_GET;
    }
    else if (!strcmp(mode_s, "hold")) {
        mode = MODE_HOLD;
    }
    else {
        usage();
        return 2;
    }
    optind = 2;
    while ((opt = getopt(argc, argv, "p:a:u:c:d:n:N:C:O:H:t:T:")) != -1) {
        switch (opt) {
        case 'p': port = atoi(optarg); break;
        case 'a': addr = optarg; break;
        case 'u': path = optarg; break;
        case 'c': conc = atoi(optarg); break;
        case 'd': dur = atof(optarg); break;
        case 'n': count = atol(optarg); break;
        case 'N': hold_n = atoi(optarg); break;
        case 'C': cookie = optarg; break;
        case 'O': origin = optarg; break;
        case 'H': host = optarg; break;
        case 't': threads = atoi(optarg); break;
        case 'T': timeout_s = atof(optarg); break;
        default: usage(); return 2;
        }
    }

    /* bounds */
    if (port < 1 || port > 65535 || conc < 1 || conc > MAX_CONC || threads < 1 ||
        threads > MAX_THREADS || threads > conc || dur < 0 || dur > MAX_SECONDS || count < 0 ||
        count > MAX_COUNT || timeout_s <= 0 || timeout_s > 120 || path[0] != '/' ||
        strpbrk(path, " \r\n") || (cookie && strpbrk(cookie, "\r\n")) ||
        (origin && strpbrk(origin, "\r\n")) ||
        (host && (strpbrk(host, "\r\n") || strlen(host) > 255)) || strlen(addr) > 64) {
        fprintf(stderr, "wsload: argument out of bounds\n");
        usage();
        return 2;
    }
    if (mode == MODE_HOLD) {
        if (hold_n < 1 || hold_n > MAX_HOLD) {
            fprintf(stderr, "wsload: hold needs -N 1..%d\n", MAX_HOLD);
            return 2;
        }
        threads = 1;
        if (dur <= 0) {
            dur = 600;
        }
    }
    else if (dur <= 0 && count <= 0) {
        fprintf(stderr, "wsload: give -d SECONDS, -n COUNT or both (the first reached ends)\n");
        return 2;
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
        if ((long)rl.rlim_cur < (long)(mode == MODE_HOLD ? hold_n : conc) + 32) {
            fprintf(stderr, "wsload: the fd limit (%ld) is too low\n", (long)rl.rlim_cur);
            return 2;
        }
    }

    w = calloc((size_t)threads, sizeof(*w));
    if (!w) {
        return 1;
    }
    w[0].sa.sin_family = AF_INET;
    w[0].sa.sin_port = htons((unsigned short)port);
    if (inet_pton(AF_INET, addr, &w[0].sa.sin_addr) != 1 ||
        (ntohl(w[0].sa.sin_addr.s_addr) >> 24) != 127) {
        fprintf(stderr, "wsload: loopback (127.0.0.0/8) addresses only\n");
        return 2;
    }
    if (!host) {
        snprintf(host_buf, sizeof(host_buf), "%s:%d", addr, port);
        host = host_buf;
    }
    if (!origin) {
        snprintf(origin_buf, sizeof(origin_buf), "http://%s", host);
        origin = origin_buf;
    }
    if (!strcmp(origin, "-")) {
        origin = NULL; /* no Origin header */
    }
    req = malloc(strlen(path) + strlen(host) + (cookie ? strlen(cookie) : 0) +
                 (origin ? strlen(origin) : 0) + 512);
    if (!req) {
        return 1;
    }
    if (mode == MODE_GET) {
        sprintf(req, "GET %s HTTP/1.1\r\nHost: %s\r\n%s%s%s%s%s%s\r\n", path, host,
                origin ? "Origin: " : "", origin ? origin : "", origin ? "\r\n" : "",
                cookie ? "Cookie: " : "", cookie ? cookie : "", cookie ? "\r\n" : "");
    }
    else {
        sprintf(req,
                "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
                "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                "Sec-WebSocket-Version: 13\r\n%s%s%s%s%s%s\r\n",
                path, host, origin ? "Origin: " : "", origin ? origin : "", origin ? "\r\n" : "",
                cookie ? "Cookie: " : "", cookie ? cookie : "", cookie ? "\r\n" : "");
    }

    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    getrusage(RUSAGE_SELF, &ru0);
    t0 = now_ns();
    for (i = 0; i < threads; i++) {
        w[i].mode = mode;
        w[i].sa = w[0].sa;
        w[i].req = req;
        w[i].req_len = strlen(req);
        w[i].conc = conc / threads + (i < conc % threads ? 1 : 0);
        w[i].count = count > 0 ? count / threads + (i < count % threads ? 1 : 0) : 0;
        w[i].t0 = t0;
        w[i].t_end = dur > 0 && mode != MODE_HOLD ? t0 + (int64_t)(dur * 1e9) : 0;
        w[i].timeout_ns = (int64_t)(timeout_s * 1e9);
        w[i].hold_n = hold_n;
        w[i].ep = epoll_create1(EPOLL_CLOEXEC);
        if (w[i].ep < 0) {
            perror("epoll_create1");
            return 1;
        }
        if (pthread_create(&w[i].tid, NULL, run_worker, &w[i]) != 0) {
            perror("pthread_create");
            return 1;
        }
    }
    for (i = 0; i < threads; i++) {
        pthread_join(w[i].tid, NULL);
    }
    t1 = now_ns();
    if (mode == MODE_HOLD) {
        printf("establish_s=%.3f\n", (double)(t1 - t0) / 1e9);
        hold_phase(&w[0], (int64_t)(dur * 1e9));
    }
    getrusage(RUSAGE_SELF, &ru1);
    if (mode == MODE_HOLD) {
        t1 = now_ns();
    }

    /* merge and report */
    {
        long ok = 0, late = 0, ec = 0, et = 0, ei = 0, ep = 0, nl = 0, k;
        long st[600];
        int64_t *all, t_last = 0;
        double wall = (double)(t1 - t0) / 1e9, window, cpu, sum = 0;
        memset(st, 0, sizeof(st));
        for (i = 0; i < threads; i++) {
            ok += w[i].ok;
            late += w[i].ok_late;
            ec += w[i].err_connect;
            et += w[i].err_timeout;
            ei += w[i].err_io;
            ep += w[i].err_proto;
            nl += w[i].nlat;
            if (w[i].t_last > t_last) {
                t_last = w[i].t_last;
            }
            for (k = 0; k < 600; k++) {
                st[k] += w[i].status[k];
            }
        }
        all = malloc((size_t)(nl ? nl : 1) * sizeof(*all));
        nl = 0;
        for (i = 0; i < threads; i++) {
            if (all && w[i].nlat) {
                memcpy(all + nl, w[i].lat, (size_t)w[i].nlat * sizeof(*all));
                nl += w[i].nlat;
            }
        }
        if (all) {
            qsort(all, (size_t)nl, sizeof(*all), cmp64);
            for (k = 0; k < nl; k++) {
                sum += (double)all[k];
            }
        }
        /* by duration: the window; by count (or count reached first):
         * until the last completion */
        window = (double)(t_last - t0) / 1e9;
        if (dur > 0 && mode != MODE_HOLD && (count == 0 || window >= dur)) {
            window = dur;
        }
        cpu = tv_s(ru1.ru_utime) - tv_s(ru0.ru_utime) + tv_s(ru1.ru_stime) - tv_s(ru0.ru_stime);
        printf("mode=%s\nconcurrency=%d\nthreads=%d\n", mode_s, conc, threads);
        printf("ok=%ld\nok_after_window=%ld\n", ok, late);
        printf("errors=%ld\nerr_connect=%ld\nerr_timeout=%ld\nerr_io=%ld\nerr_proto=%ld\n",
               ec + et + ei + ep, ec, et, ei, ep);
        for (k = 0; k < 600; k++) {
            if (st[k]) {
                printf("status_%ld=%ld\n", k, st[k]);
            }
        }
        {
            long bad = 0;
            for (k = 0; k < 600; k++) {
                bad += st[k];
            }
            printf("unexpected_status=%ld\n", bad);
        }
        printf("window_s=%.3f\nwall_s=%.3f\nrate=%.1f\n", window, wall,
               window > 0 ? (double)ok / window : 0.0);
        printf("lat_samples=%ld\nlat_mean_us=%.1f\nlat_p50_us=%.1f\nlat_p90_us=%.1f\n"
               "lat_p99_us=%.1f\nlat_p999_us=%.1f\nlat_max_us=%.1f\n",
               nl, nl ? sum / (double)nl / 1000.0 : 0.0, pct(all, nl, 50), pct(all, nl, 90),
               pct(all, nl, 99), pct(all, nl, 99.9), nl ? (double)all[nl - 1] / 1000.0 : 0.0);
        printf("cpu_s=%.3f\ncpu_share=%.3f\n", cpu, wall > 0 ? cpu / wall : 0.0);
        if (mode == MODE_HOLD) {
            printf("dropped=%ld\nreleased=%ld\n", w[0].dropped, w[0].released);
        }
        free(all);
    }
    return 0;
}
