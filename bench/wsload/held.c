/*
 * held.c - wsload's held WebSockets: opened through the gate and kept open
 * (bench: the RSS of idle tunnels; soak: echoing while the load runs), their
 * echo frames, and their release with a close frame each.
 */
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "wsload.h"

/* The answer to held socket c's handshake arrived (status in c->status, the
 * head ends at eoh, extra bytes follow it). */
void wsl_held_upgraded(wsl_t *L, wsl_conn_t *c, const char *eoh, size_t extra, int64_t now)
{
    wsl_kind_t *k = &L->kinds[c->kind];

    k->done++;
    if (c->status >= 100 && c->status < 600) {
        k->status[c->status]++;
    }
    if (c->status != 101) {
        k->wrong++;
        L->held_failed++;
        wsl_conn_close(L, c);
        return;
    }
    k->right++;
    L->ok++;
    L->t_last_ok = now;
    wsl_record(L, now - c->t_start);
    L->held_opened++;
    c->state = C_HELD;
    c->in_len = extra;
    memmove(c->in, eoh, extra);
    wsl_set_events(L, c, EPOLLIN);
}

/* held socket: parse the echoed frames in c->in */
void wsl_held_data(wsl_t *L, wsl_conn_t *c)
{
    while (c->in_len >= 2) {
        unsigned char b0 = (unsigned char)c->in[0], b1 = (unsigned char)c->in[1];
        size_t n = b1 & 0x7f;

        if ((b1 & 0x80) || n >= 126) {
            L->echo_bad++; /* we only send short frames */
            L->held_lost++;
            wsl_conn_close(L, c);
            return;
        }
        if (c->in_len < 2 + n) {
            return;
        }
        if ((b0 & 0x0f) == 0x8) {
            L->held_lost++; /* the server closed the tunnel */
            wsl_conn_close(L, c);
            return;
        }
        if ((b0 & 0x0f) == 0x1 && c->echo_pending && n == c->echo_len &&
            !memcmp(c->in + 2, c->echo_msg, n)) {
            L->echo_ok++;
        }
        else {
            L->echo_bad++;
        }
        c->echo_pending = 0;
        memmove(c->in, c->in + 2 + n, c->in_len - 2 - n);
        c->in_len -= 2 + n;
    }
}

/* One masked text frame on held socket c; its echo is due within the
 * timeout. */
void wsl_held_echo(wsl_t *L, wsl_conn_t *c, int64_t now)
{
    static const unsigned char mask[4] = {0x5a, 0xa5, 0x3c, 0xc3};
    char frame[80];
    size_t i;

    if (c->fd < 0 || c->state != C_HELD || c->echo_pending) {
        return;
    }
    c->echo_seq++;
    c->echo_len = (size_t)snprintf(c->echo_msg, sizeof(c->echo_msg), "held-%ld-%ld",
                                   (long)(c - L->conns), c->echo_seq);
    frame[0] = (char)0x81;
    frame[1] = (char)(0x80 | c->echo_len);
    memcpy(frame + 2, mask, 4);
    for (i = 0; i < c->echo_len; i++) {
        frame[6 + i] = (char)(c->echo_msg[i] ^ mask[i % 4]);
    }
    if (send(c->fd, frame, 6 + c->echo_len, MSG_NOSIGNAL) != (ssize_t)(6 + c->echo_len)) {
        L->held_lost++;
        wsl_conn_close(L, c);
        return;
    }
    c->echo_pending = 1;
    c->deadline = now + L->timeout_ns;
}

/* Start the handshake of held socket c. @return 0, or -1 (counted). */
int wsl_held_open(wsl_t *L, wsl_conn_t *c)
{
    wsl_kind_t *k = &L->kinds[L->hold_kind];
    int64_t now = wsl_now_ns();

    c->kind = L->hold_kind;
    c->out = k->req;
    c->out_len = k->req_len;
    c->out_off = 0;
    c->t_start = now;
    c->deadline = now + L->timeout_ns;
    k->sent++;
    if (wsl_conn_open(L, c) != 0) {
        L->held_failed++;
        return -1;
    }
    return 0;
}

/* held sockets before index upto whose handshake is under way */
int wsl_held_in_flight(const wsl_t *L, int upto)
{
    int i, n = 0;

    for (i = L->nconns; i < upto; i++) {
        n += L->conns[i].fd >= 0 && L->conns[i].state != C_HELD;
    }
    return n;
}

int wsl_echoes_pending(const wsl_t *L)
{
    int i;

    for (i = L->nconns; i < L->nconns + L->nheld; i++) {
        if (L->conns[i].fd >= 0 && L->conns[i].echo_pending) {
            return 1;
        }
    }
    return 0;
}

/* A close frame on every held socket, then their closes awaited (at most
 * timeout_ns); a clean close by the server counts as released. */
void wsl_release_held(wsl_t *L, int64_t timeout_ns)
{
    int64_t t = wsl_now_ns();
    int i, open;

    for (i = L->nconns; i < L->nconns + L->nheld; i++) {
        wsl_conn_t *c = &L->conns[i];
        if (c->fd < 0) {
            continue;
        }
        if (send(c->fd, wsl_close_frame, sizeof(wsl_close_frame), MSG_NOSIGNAL) < 0) {
            wsl_conn_close(L, c);
            continue;
        }
        c->state = C_WAIT_EOF;
        c->deadline = t + timeout_ns;
        c->in_len = 0;
        wsl_set_events(L, c, EPOLLIN);
    }
    do {
        wsl_poll(L, 50);
        for (open = 0, i = L->nconns; i < L->nconns + L->nheld; i++) {
            open += L->conns[i].fd >= 0;
        }
    } while (open && wsl_now_ns() < t + timeout_ns + 200000000LL);
}
