/*
 * wsecho - a small, fast WebSocket echo server for the benchmark (bench/).
 *
 *   wsecho -p PORT [-a 127.0.0.1] [-s]
 *
 * One thread, one epoll loop, non-blocking sockets, loopback only.
 *  - An HTTP/1.1 request with "Upgrade: websocket" and a Sec-WebSocket-Key
 *    gets "101 Switching Protocols"; from then on every data frame is echoed
 *    (unmasked), a ping gets a pong, a close frame is answered with a close
 *    frame and the server closes the TCP connection first.
 *  - Any other request gets "200 OK" with a 3-byte body, keep-alive (so
 *    mod_proxy_http can reuse its backend connections for guarded GETs).
 *
 * It is written in C (not Node's ws) so the backend costs a few microseconds
 * per handshake and never becomes what the benchmark measures; it shares a
 * core with the load generator. On SIGTERM/SIGINT it prints its counters
 * (accepted, handshakes, http) to stderr and exits 0.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/sha.h>

#define IN_MAX    (64 * 1024) /* request head or one frame, bytes */
#define HEAD_MAX  8192
#define FRAME_MAX (IN_MAX - 14)
#define WS_GUID   "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

typedef struct {
    int fd;
    int ws;      /* 1 once upgraded */
    int closing; /* close sent: close the socket once flushed */
    size_t in_len;
    unsigned char *in; /* IN_MAX bytes */
    size_t out_len, out_off, out_cap;
    unsigned char *out;
} conn_t;

static volatile sig_atomic_t stop_flag = 0;
static unsigned long n_accepted, n_handshakes, n_http;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void die(const char *what)
{
    perror(what);
    exit(2);
}

static int out_append(conn_t *c, const void *data, size_t len)
{
    if (c->out_len + len > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 4096;
        unsigned char *n;
        while (cap < c->out_len + len) {
            cap *= 2;
        }
        if (cap > 4 * 1024 * 1024) {
            return -1; /* a client that never reads */
        }
        n = realloc(c->out, cap);
        if (!n) {
            return -1;
        }
        c->out = n;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, data, len);
    c->out_len += len;
    return 0;
}

/* Write what is buffered. @return 0 (all or some written), -1 on error. */
static int out_flush(conn_t *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                return 0;
            }
            return -1;
        }
        c->out_off += (size_t)n;
    }
    c->out_off = c->out_len = 0;
    return 0;
}

static void b64(char *out, const unsigned char *in, size_t len)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i;
    char *o = out;

    for (i = 0; i + 3 <= len; i += 3) {
        unsigned long v =
            ((unsigned long)in[i] << 16) | ((unsigned long)in[i + 1] << 8) | in[i + 2];
        *o++ = a[(v >> 18) & 63];
        *o++ = a[(v >> 12) & 63];
        *o++ = a[(v >> 6) & 63];
        *o++ = a[v & 63];
    }
    if (len - i == 1) {
        unsigned long v = (unsigned long)in[i] << 16;
        *o++ = a[(v >> 18) & 63];
        *o++ = a[(v >> 12) & 63];
        *o++ = '=';
        *o++ = '=';
    }
    else if (len - i == 2) {
        unsigned long v = ((unsigned long)in[i] << 16) | ((unsigned long)in[i + 1] << 8);
        *o++ = a[(v >> 18) & 63];
        *o++ = a[(v >> 12) & 63];
        *o++ = a[(v >> 6) & 63];
        *o++ = '=';
    }
    *o = '\0';
}

/* Find header name (case-insensitive) in a request head; value trimmed. */
static int header_get(const char *head, size_t hlen, const char *name, const char **val,
                      size_t *vlen)
{
    size_t nlen = strlen(name);
    const char *p = memchr(head, '\n', hlen), *end = head + hlen;

    while (p && p + 1 < end) {
        const char *line = p + 1;
        const char *eol = memchr(line, '\n', (size_t)(end - line));
        if (!eol) {
            break;
        }
        if ((size_t)(eol - line) > nlen && line[nlen] == ':' &&
            strncasecmp(line, name, nlen) == 0) {
            const char *v = line + nlen + 1, *e = eol;
            while (v < e && (*v == ' ' || *v == '\t')) {
                v++;
            }
            while (e > v && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t')) {
                e--;
            }
            *val = v;
            *vlen = (size_t)(e - v);
            return 1;
        }
        p = eol;
    }
    return 0;
}

static int has_token(const char *v, size_t len, const char *tok)
{
    size_t tl = strlen(tok), i;

    for (i = 0; i + tl <= len; i++) {
        if (strncasecmp(v + i, tok, tl) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Handle complete requests in c->in. @return bytes consumed, -1 to close. */
static long handle_http(conn_t *c)
{
    const char *head = (const char *)c->in;
    const char *v;
    size_t vlen, hlen;
    unsigned char *eoh = NULL;
    size_t i;

    for (i = 3; i < c->in_len; i++) {
        if (c->in[i] == '\n' && c->in[i - 1] == '\r' && c->in[i - 2] == '\n' &&
            c->in[i - 3] == '\r') {
            eoh = c->in + i + 1;
            break;
        }
    }
    if (!eoh) {
        return c->in_len > HEAD_MAX ? -1 : 0;
    }
    hlen = (size_t)(eoh - c->in);

    if (header_get(head, hlen, "Upgrade", &v, &vlen) && has_token(v, vlen, "websocket")) {
        const char *key;
        size_t klen;
        char buf[256], acc[64];
        unsigned char sha[SHA_DIGEST_LENGTH];
        int n;

        if (!header_get(head, hlen, "Sec-WebSocket-Key", &key, &klen) || klen == 0 || klen > 64) {
            static const char bad[] = "HTTP/1.1 400 Bad Request\r\n"
                                      "Content-Length: 0\r\nConnection: close\r\n\r\n";
            out_append(c, bad, sizeof(bad) - 1);
            c->closing = 1;
            return (long)hlen;
        }
        n = snprintf(buf, sizeof(buf), "%.*s" WS_GUID, (int)klen, key);
        SHA1((const unsigned char *)buf, (size_t)n, sha);
        b64(acc, sha, sizeof(sha));
        n = snprintf(buf, sizeof(buf),
                     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
                     acc);
        if (out_append(c, buf, (size_t)n) != 0) {
            return -1;
        }
        c->ws = 1;
        n_handshakes++;
        return (long)hlen;
    }

    {
        static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                                 "Content-Length: 3\r\n\r\nok\n";
        static const char okc[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                                  "Content-Length: 3\r\nConnection: close\r\n\r\nok\n";
        int close_after =
            (header_get(head, hlen, "Connection", &v, &vlen) && has_token(v, vlen, "close")) ||
            (hlen > 8 && memmem(head, hlen, "HTTP/1.0\r\n", 10) != NULL);
        size_t body = 0;
        if (header_get(head, hlen, "Content-Length", &v, &vlen)) {
            body = (size_t)strtoul(v, NULL, 10);
            if (body > IN_MAX - HEAD_MAX) {
                return -1;
            }
        }
        if (header_get(head, hlen, "Transfer-Encoding", &v, &vlen)) {
            return -1; /* never sent by the benchmark */
        }
        if (c->in_len < hlen + body) {
            return 0; /* wait for the body */
        }
        n_http++;
        if (close_after) {
            out_append(c, okc, sizeof(okc) - 1);
            c->closing = 1;
        }
        else if (out_append(c, ok, sizeof(ok) - 1) != 0) {
            return -1;
        }
        return (long)(hlen + body);
    }
}

/* Handle complete frames in c->in. @return bytes consumed, -1 to close. */
static long handle_ws(conn_t *c)
{
    unsigned char *p = c->in;
    size_t avail = c->in_len, hdr = 2, plen, i;
    unsigned char op, mask[4] = {0, 0, 0, 0}, out_hdr[10];
    int masked;

    if (avail < 2) {
        return 0;
    }
    op = p[0] & 0x0f;
    masked = (p[1] & 0x80) != 0;
    plen = p[1] & 0x7f;
    if (plen == 126) {
        if (avail < 4) {
            return 0;
        }
        plen = ((size_t)p[2] << 8) | p[3];
        hdr = 4;
    }
    else if (plen == 127) {
        if (avail < 10) {
            return 0;
        }
        if (p[2] | p[3] | p[4] | p[5] | p[6]) {
            return -1;
        }
        plen = ((size_t)p[7] << 16) | ((size_t)p[8] << 8) | p[9];
        hdr = 10;
    }
    if (plen > FRAME_MAX) {
        return -1;
    }
    if (masked) {
        if (avail < hdr + 4) {
            return 0;
        }
        memcpy(mask, p + hdr, 4);
        hdr += 4;
    }
    if (avail < hdr + plen) {
        return 0;
    }
    for (i = 0; masked && i < plen; i++) {
        p[hdr + i] ^= mask[i & 3];
    }
    if (op == 0x8) { /* close: answer, then hang up */
        unsigned char cl[4] = {0x88, 0x00, 0, 0};
        if (plen >= 2) { /* echo the status code */
            cl[1] = 0x02;
            cl[2] = p[hdr];
            cl[3] = p[hdr + 1];
        }
        out_append(c, cl, plen >= 2 ? 4 : 2);
        c->closing = 1;
        return (long)(hdr + plen);
    }
    if (op == 0xA) { /* pong: ignore */
        return (long)(hdr + plen);
    }
    /* echo data and continuation frames as they came; ping becomes pong */
    out_hdr[0] = (unsigned char)((p[0] & 0x80) | (op == 0x9 ? 0xA : op));
    if (plen < 126) {
        out_hdr[1] = (unsigned char)plen;
        i = 2;
    }
    else {
        out_hdr[1] = 126;
        out_hdr[2] = (unsigned char)(plen >> 8);
        out_hdr[3] = (unsigned char)plen;
        i = 4;
    }
    if (out_append(c, out_hdr, i) != 0 || out_append(c, p + hdr, plen) != 0) {
        return -1;
    }
    return (long)(hdr + plen);
}

static void conn_free(int ep, conn_t *c)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c->in);
    free(c->out);
    free(c);
}

static void update_events(int ep, conn_t *c)
{
    struct epoll_event ev;

    /* closing: only finish writing (a peer that keeps sending must not
     * make a level-triggered EPOLLIN spin) */
    ev.events = (c->closing ? 0 : EPOLLIN) | (c->out_len ? EPOLLOUT : 0);
    ev.data.ptr = c;
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* @return 0 to keep, -1 to free */
static int on_readable(conn_t *c)
{
    for (;;) {
        ssize_t n;
        long used;

        if (c->in_len == IN_MAX) {
            return -1;
        }
        n = read(c->fd, c->in + c->in_len, IN_MAX - c->in_len);
        if (n == 0) {
            return -1;
        }
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                return 0;
            }
            return -1;
        }
        c->in_len += (size_t)n;
        while (c->in_len && !c->closing) {
            used = c->ws ? handle_ws(c) : handle_http(c);
            if (used < 0) {
                return -1;
            }
            if (used == 0) {
                break;
            }
            memmove(c->in, c->in + used, c->in_len - (size_t)used);
            c->in_len -= (size_t)used;
        }
        if (out_flush(c) != 0) {
            return -1;
        }
        if (c->closing) {
            return c->out_len ? 0 : -1;
        }
    }
}

int main(int argc, char **argv)
{
    const char *addr = "127.0.0.1";
    int port = 0, opt, lfd, ep, one = 1;
    struct sockaddr_in sa;
    struct epoll_event ev, evs[256];
    struct rlimit rl;

    while ((opt = getopt(argc, argv, "p:a:")) != -1) {
        switch (opt) {
        case 'p': port = atoi(optarg); break;
        case 'a': addr = optarg; break;
        default: fprintf(stderr, "usage: wsecho -p PORT [-a 127.0.0.1]\n"); return 2;
        }
    }
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    if (port < 1 || port > 65535 || inet_pton(AF_INET, addr, &sa.sin_addr) != 1 ||
        (ntohl(sa.sin_addr.s_addr) >> 24) != 127) {
        fprintf(stderr, "wsecho: need -p 1..65535 and a 127.x.x.x address\n");
        return 2;
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);

    lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (lfd < 0) {
        die("socket");
    }
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        die("bind");
    }
    if (listen(lfd, 4096) != 0) {
        die("listen");
    }
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) {
        die("epoll_create1");
    }
    ev.events = EPOLLIN;
    ev.data.ptr = NULL; /* NULL: the listener */
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);

    while (!stop_flag) {
        int n = epoll_wait(ep, evs, 256, 500), i;
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            die("epoll_wait");
        }
        for (i = 0; i < n; i++) {
            conn_t *c = evs[i].data.ptr;
            if (!c) {
                for (;;) {
                    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (fd < 0) {
                        break;
                    }
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                    c = calloc(1, sizeof(*c));
                    if (!c || !(c->in = malloc(IN_MAX))) {
                        free(c);
                        close(fd);
                        continue;
                    }
                    c->fd = fd;
                    n_accepted++;
                    ev.events = EPOLLIN;
                    ev.data.ptr = c;
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
                }
                continue;
            }
            if (evs[i].events & (EPOLLERR | EPOLLHUP)) {
                if (!(evs[i].events & EPOLLIN)) {
                    conn_free(ep, c);
                    continue;
                }
            }
            if (evs[i].events & EPOLLOUT) {
                if (out_flush(c) != 0 || (c->closing && !c->out_len)) {
                    conn_free(ep, c);
                    continue;
                }
            }
            if ((evs[i].events & EPOLLIN) && !c->closing) {
                if (on_readable(c) != 0) {
                    conn_free(ep, c);
                    continue;
                }
            }
            update_events(ep, c);
        }
    }
    fprintf(stderr, "wsecho: accepted=%lu handshakes=%lu http=%lu\n", n_accepted, n_handshakes,
            n_http);
    return 0;
}
