/*
 * engine.c - wsload's epoll engine: connections carrying one request at a
 * time, their responses (Content-Length, chunked, or until the server
 * closes), upgrades closed the client's way, held WebSockets and their
 * echoes, and every connection's deadline.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "wsload.h"

volatile sig_atomic_t wsl_stop = 0;

/* a masked close frame with status 1000 */
const unsigned char wsl_close_frame[8] = {0x88, 0x82, 0x12,        0x34,
                                          0x56, 0x78, 0x03 ^ 0x12, 0xe8 ^ 0x34};

int64_t wsl_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void wsl_die(const char *msg)
{
    fprintf(stderr, "wsload: %s\n", msg);
    exit(2);
}

void wsl_init(wsl_t *L, const struct sockaddr_in *sa, int nconns, int nheld)
{
    int i;

    L->sa = *sa;
    L->ep = epoll_create1(EPOLL_CLOEXEC);
    L->nconns = nconns;
    L->nheld = nheld;
    L->conns = calloc((size_t)(nconns + nheld), sizeof(*L->conns));
    if (!L->conns || L->ep < 0) {
        wsl_die("out of memory");
    }
    for (i = 0; i < nconns + nheld; i++) {
        L->conns[i].fd = -1;
        L->conns[i].held = i >= nconns;
    }
}

/* ------------------------------------------------------------------ */
/* connections                                                          */

void wsl_set_events(wsl_t *L, wsl_conn_t *c, unsigned ev)
{
    struct epoll_event e;

    e.events = ev;
    e.data.ptr = c;
    epoll_ctl(L->ep, EPOLL_CTL_MOD, c->fd, &e);
}

void wsl_conn_close(wsl_t *L, wsl_conn_t *c)
{
    if (c->fd >= 0) {
        epoll_ctl(L->ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    c->fd = -1;
    c->state = C_FREE;
    c->in_len = 0;
}

int wsl_conn_open(wsl_t *L, wsl_conn_t *c)
{
    struct epoll_event e;
    int one = 1, fd, rc;

    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    rc = connect(fd, (struct sockaddr *)&L->sa, sizeof(L->sa));
    if (rc != 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    c->fd = fd;
    c->state = rc == 0 ? C_SENDING : C_CONNECTING;
    c->in_len = 0;
    e.events = EPOLLOUT;
    e.data.ptr = c;
    epoll_ctl(L->ep, EPOLL_CTL_ADD, fd, &e);
    return 0;
}

/* A transport error: counted; a load connection starts the next request on
 * a new connection, a held socket is lost. */
static void count_error(wsl_t *L, wsl_conn_t *c, int e)
{
    if (c->held) {
        if (c->state == C_HELD) {
            L->held_lost++;
        }
        else {
            L->held_failed++;
        }
        wsl_conn_close(L, c);
        return;
    }
    L->kinds[c->kind].err[e]++;
    L->err_total++;
    wsl_conn_close(L, c);
    wsl_start_request(L, c, wsl_now_ns());
}

/* more requests to start: not stopped, the count and the window not reached */
int wsl_want_more(const wsl_t *L, int64_t now)
{
    return !wsl_stop && (L->count == 0 || L->next_seq < L->count) &&
           (L->t_window_end == 0 || now < L->t_window_end);
}

/* Begin the next request on load connection c (opening it if needed).
 * @return 0 if a request is under way, -1 if there is nothing left (c is
 * then closed). */
int wsl_start_request(wsl_t *L, wsl_conn_t *c, int64_t now)
{
    wsl_kind_t *k;

    if (c->fd < 0 && L->fill_at_top && !L->filling) {
        return -1; /* the driver opens it */
    }
    for (;;) {
        if (!wsl_want_more(L, now)) {
            if (c->fd >= 0) {
                wsl_conn_close(L, c);
            }
            return -1;
        }
        c->kind = L->sched[L->next_seq % L->nslots];
        L->next_seq++;
        k = &L->kinds[c->kind];
        k->sent++;
        c->out = k->req;
        c->out_len = k->req_len;
        c->out_off = 0;
        c->in_len = 0;
        c->status = 0;
        c->close_after = 0;
        /* the latency: from connect() or the request's send (now, not the
         * time of the batch being handled) to the time the answer's last
         * byte was seen ready (that batch's time) */
        c->t_start = wsl_now_ns();
        c->deadline = now + L->timeout_ns;
        if (c->fd >= 0) {
            c->state = C_SENDING;
            wsl_set_events(L, c, EPOLLOUT);
            return 0;
        }
        if (wsl_conn_open(L, c) == 0) {
            return 0;
        }
        k->err[E_CONNECT]++;
        L->err_total++;
        if (k->err[E_CONNECT] > 1000) {
            wsl_stop = 1; /* the server is gone: stop */
        }
    }
}

static int send_pending(wsl_conn_t *c)
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

/* value of header name in head (a NUL-terminated copy in out), or NULL */
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

void wsl_record(wsl_t *L, int64_t lat)
{
    if (L->nlat == L->cap_lat) {
        long cap = L->cap_lat ? L->cap_lat * 2 : 65536;
        int64_t *n;
        if (cap > WSL_MAX_SAMPLES) {
            return; /* bounded: later samples dropped */
        }
        n = realloc(L->lat, (size_t)cap * sizeof(*n));
        if (!n) {
            return;
        }
        L->lat = n;
        L->cap_lat = cap;
    }
    L->lat[L->nlat++] = lat;
}

/* A complete answer on load connection c: counted; then the next request,
 * or (Connection: close, an upgrade) the server's close awaited first. */
static void response_done(wsl_t *L, wsl_conn_t *c, int64_t now)
{
    wsl_kind_t *k = &L->kinds[c->kind];

    k->done++;
    L->done_total++;
    if (c->status >= 100 && c->status < 600) {
        k->status[c->status]++;
    }
    if (c->status >= 500) {
        L->status5xx++;
    }
    if (wsl_kind_expected(k, c->status)) {
        k->right++;
        if (L->t_window_end == 0 || now <= L->t_window_end) {
            L->ok++;
            wsl_record(L, now - c->t_start);
        }
        else {
            L->ok_late++; /* drained after the window */
        }
        L->t_last_ok = now;
    }
    else {
        k->wrong++;
        L->wrong_total++;
    }
    if (c->close_after) {
        /* let the server close first (its side keeps the TIME_WAIT); a
         * tunnel gets a close frame first, on the next turn of the loop */
        c->deadline = now + L->timeout_ns;
        if (c->status == 101) {
            c->state = C_CLOSING;
            c->out = (const char *)wsl_close_frame;
            c->out_len = sizeof(wsl_close_frame);
            c->out_off = 0;
            wsl_set_events(L, c, EPOLLOUT);
            return;
        }
        c->state = C_WAIT_EOF;
        wsl_set_events(L, c, EPOLLIN);
        return;
    }
    wsl_start_request(L, c, now);
}

/* chunked bodies: keep the last 5 bytes seen in c->in; the responses end
 * with the last chunk and no trailer. @return 1 when the body is complete. */
static int chunked_tail(wsl_conn_t *c, const char *data, size_t n)
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

/* The head of a response arrived in c->in. */
static void on_head(wsl_t *L, wsl_conn_t *c, const char *eoh, int64_t now)
{
    size_t head_len = (size_t)(eoh - c->in), extra = c->in_len - head_len;
    char v[128];

    if (c->in_len < 12 || strncmp(c->in, "HTTP/1.", 7) != 0) {
        count_error(L, c, E_PROTO);
        return;
    }
    c->status = atoi(c->in + 9);
    if (c->held) {
        wsl_held_upgraded(L, c, eoh, extra, now);
        return;
    }
    if (c->status == 101) {
        /* a tunnel: closed the client's way (response_done) */
        c->close_after = 1;
        c->in_len = 0;
        response_done(L, c, now);
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
        char tmp[WSL_IN_MAX];
        memcpy(tmp, eoh, extra);
        c->in_len = 0;
        if (chunked_tail(c, tmp, extra)) {
            response_done(L, c, now);
        }
        return;
    }
    c->in_len = 0;
    if (c->body_left <= 0 && c->body_left != -2) {
        c->body_left = 0;
        response_done(L, c, now);
    }
}

/* ------------------------------------------------------------------ */
/* events and deadlines                                                 */

static void on_eof(wsl_t *L, wsl_conn_t *c, int64_t now)
{
    if (c->state == C_WAIT_EOF) {
        if (c->held) {
            L->held_released++;
        }
        wsl_conn_close(L, c); /* the server closed first: clean */
        if (!c->held) {
            wsl_start_request(L, c, now);
        }
        return;
    }
    if (c->state == C_BODY && c->body_left == -2) {
        c->close_after = 0;
        wsl_conn_close(L, c);
        response_done(L, c, now); /* opens a new connection */
        return;
    }
    count_error(L, c, E_RESET);
}

static void on_readable(wsl_t *L, wsl_conn_t *c, int64_t now)
{
    char scratch[65536];

    for (;;) {
        ssize_t n;
        if (c->state == C_HEAD || c->state == C_HELD) {
            if (c->in_len >= WSL_IN_MAX) {
                count_error(L, c, E_PROTO);
                return;
            }
            n = recv(c->fd, c->in + c->in_len, WSL_IN_MAX - c->in_len, 0);
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
                wsl_conn_close(L, c); /* reset at the end: the answer was complete */
                if (!c->held) {
                    wsl_start_request(L, c, now);
                }
                return;
            }
            count_error(L, c, E_RESET);
            return;
        }
        if (n == 0) {
            on_eof(L, c, now);
            return;
        }
        switch (c->state) {
        case C_HEAD: {
            const char *eoh;
            c->in_len += (size_t)n;
            eoh = find_head_end(c->in, c->in_len);
            if (eoh) {
                on_head(L, c, eoh, now);
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
                    response_done(L, c, now);
                    return;
                }
            }
            else if (c->body_left == -1 && chunked_tail(c, scratch, (size_t)n)) {
                response_done(L, c, now);
                return;
            }
            break;
        case C_HELD:
            c->in_len += (size_t)n;
            wsl_held_data(L, c);
            if (c->fd < 0) {
                return;
            }
            break;
        case C_WAIT_EOF:
        default: break; /* the server's close frame: discarded */
        }
    }
}

static void on_event(wsl_t *L, wsl_conn_t *c, unsigned ev, int64_t now)
{
    if (c->fd < 0) {
        return;
    }
    if (c->state == C_CONNECTING) {
        int err = 0;
        socklen_t l = sizeof(err);
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
        if (err) {
            count_error(L, c, E_CONNECT);
            return;
        }
        c->state = C_SENDING;
    }
    if ((c->state == C_SENDING || c->state == C_CLOSING) &&
        (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
        int r = send_pending(c);
        if (r < 0 && c->state == C_CLOSING) {
            wsl_conn_close(L, c); /* the answer was complete */
            wsl_start_request(L, c, now);
            return;
        }
        if (r < 0) {
            count_error(L, c, E_RESET);
            return;
        }
        if (r == 0) {
            return;
        }
        c->state = c->state == C_SENDING ? C_HEAD : C_WAIT_EOF;
        c->in_len = 0;
        wsl_set_events(L, c, EPOLLIN);
        return;
    }
    if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
        on_readable(L, c, now);
    }
}

static void check_deadlines(wsl_t *L, int64_t now)
{
    int i;

    for (i = 0; i < L->nconns + L->nheld; i++) {
        wsl_conn_t *c = &L->conns[i];
        if (c->fd < 0 || now < c->deadline) {
            continue;
        }
        if (c->state == C_WAIT_EOF || c->state == C_CLOSING) {
            wsl_conn_close(L, c); /* the answer was complete already */
            if (!c->held) {
                wsl_start_request(L, c, now);
            }
            continue;
        }
        if (c->held && c->state == C_HELD) {
            if (c->echo_pending) {
                L->echo_timeout++;
                c->echo_pending = 0;
                L->held_lost++;
                wsl_conn_close(L, c);
            }
            continue;
        }
        count_error(L, c, E_TIMEOUT);
    }
}

/* One turn of the loop: wait up to timeout_ms, handle the events, and
 * every 100 ms the deadlines. @return how many events were for a file the
 * caller added to L->ep with a NULL data.ptr (hold: stdin). */
int wsl_poll(wsl_t *L, int timeout_ms)
{
    struct epoll_event evs[512];
    int n = epoll_wait(L->ep, evs, 512, timeout_ms), i, other = 0;
    int64_t now = wsl_now_ns();

    for (i = 0; i < n; i++) {
        if (evs[i].data.ptr) {
            on_event(L, evs[i].data.ptr, evs[i].events, now);
        }
        else {
            other++;
        }
    }
    if (now - L->last_scan > 100000000LL) {
        check_deadlines(L, now);
        L->last_scan = now;
    }
    return other;
}

/* load connections open */
int wsl_busy(const wsl_t *L)
{
    int i, n = 0;

    for (i = 0; i < L->nconns; i++) {
        n += L->conns[i].fd >= 0;
    }
    return n;
}

/* every open load connection: an error of kind e, closed */
void wsl_fail_busy(wsl_t *L, int e)
{
    int i;

    for (i = 0; i < L->nconns; i++) {
        wsl_conn_t *c = &L->conns[i];
        if (c->fd >= 0) {
            L->kinds[c->kind].err[e]++;
            L->err_total++;
            wsl_conn_close(L, c);
        }
    }
}

void wsl_close_all(wsl_t *L)
{
    int i;

    for (i = 0; i < L->nconns + L->nheld; i++) {
        wsl_conn_close(L, &L->conns[i]);
    }
}
