/*
 * stream.c - wsload's stream subcommand (issue 16's throughput figure):
 * echo MB/s through a WebSocket tunnel.
 *
 *   wsload stream -p PORT [-u /ws/] [-C 'session=...'] [-O ORIGIN] [-s SIZE]
 *                 [-c CONNS] [-d SECONDS] [-w WINDOW_BYTES]
 *
 * Each of -c connections (one thread each, blocking I/O) does the upgrade,
 * then until -d seconds pass: sends a window of masked binary frames of
 * -s payload bytes (about -w bytes in all), reads back their echoes (the
 * server's unmasked frames, header and payload counted exactly) and
 * starts again. Prints key=value lines: payload bytes echoed, MB/s, frames.
 * Loopback only, like every subcommand.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wsload.h"

#define STREAM_MAX_CONNS 64
#define STREAM_MAX_SIZE  (1 << 20)

typedef struct {
    int port;
    const char *path, *cookie, *origin;
    size_t size, window;
    double dur;
    /* results */
    long long bytes, frames;
    int failed;
} stream_job_t;

static int stream_write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w <= 0) {
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int stream_open(const stream_job_t *j)
{
    struct sockaddr_in sa;
    char req[2048], head[4096];
    size_t got = 0;
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)j->port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    snprintf(req, sizeof(req),
             "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
             "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
             "Sec-WebSocket-Version: 13\r\nOrigin: %s\r\n%s%s%s\r\n",
             j->path, j->port, j->origin, j->cookie ? "Cookie: " : "", j->cookie ? j->cookie : "",
             j->cookie ? "\r\n" : "");
    if (stream_write_all(fd, req, strlen(req)) != 0) {
        close(fd);
        return -1;
    }
    while (got < sizeof(head) - 1) { /* byte by byte: no frame read early */
        if (read(fd, head + got, 1) != 1) {
            break;
        }
        got++;
        if (got >= 4 && !memcmp(head + got - 4, "\r\n\r\n", 4)) {
            head[got] = '\0';
            if (strncmp(head, "HTTP/1.1 101", 12) == 0) {
                return fd;
            }
            break;
        }
    }
    close(fd);
    return -1;
}

/* n masked binary frames of size bytes each */
static char *stream_frames(size_t size, size_t n, size_t *len)
{
    size_t hl = size < 126 ? 6 : size < 65536 ? 8 : 14, i, k;
    char *buf = malloc(n * (hl + size)), *p = buf;

    for (i = 0; i < n; i++) {
        *p++ = (char)0x82;
        if (size < 126) {
            *p++ = (char)(0x80 | size);
        }
        else if (size < 65536) {
            *p++ = (char)(0x80 | 126);
            *p++ = (char)(size >> 8);
            *p++ = (char)size;
        }
        else {
            *p++ = (char)(0x80 | 127);
            for (k = 0; k < 8; k++) {
                *p++ = (char)((uint64_t)size >> (56 - 8 * k));
            }
        }
        memcpy(p, "\x11\x22\x33\x44", 4);
        p += 4;
        for (k = 0; k < size; k++) {
            *p++ = (char)(('a' + k % 26) ^ "\x11\x22\x33\x44"[k % 4]);
        }
    }
    *len = (size_t)(p - buf);
    return buf;
}

static void *stream_run(void *arg)
{
    stream_job_t *j = arg;
    size_t n = j->window / j->size ? j->window / j->size : 1, out_len;
    size_t echo_len = n * ((j->size < 126 ? 2 : j->size < 65536 ? 4 : 10) + j->size);
    char *out = stream_frames(j->size, n, &out_len), *in = malloc(65536);
    int fd = stream_open(j);
    int64_t end = wsl_now_ns() + (int64_t)(j->dur * 1e9);

    if (fd < 0) {
        j->failed = 1;
        free(out);
        free(in);
        return NULL;
    }
    while (wsl_now_ns() < end && !wsl_stop) {
        size_t left = echo_len;
        if (stream_write_all(fd, out, out_len) != 0) {
            j->failed = 1;
            break;
        }
        while (left) {
            ssize_t r = read(fd, in, left < 65536 ? left : 65536);
            if (r <= 0) {
                j->failed = 1;
                break;
            }
            left -= (size_t)r;
        }
        if (left) {
            break;
        }
        j->bytes += (long long)(n * j->size);
        j->frames += (long long)n;
    }
    /* a close frame, then wait for the server's close */
    stream_write_all(fd, "\x88\x82\x00\x00\x00\x00\x03\xe8", 8);
    shutdown(fd, SHUT_WR);
    while (read(fd, in, 65536) > 0) {
    }
    close(fd);
    free(out);
    free(in);
    return NULL;
}

int wsl_stream_main(int argc, char **argv)
{
    stream_job_t base, jobs[STREAM_MAX_CONNS];
    pthread_t th[STREAM_MAX_CONNS];
    int conns = 1, i, opt, failed = 0;
    long long bytes = 0, frames = 0;
    int64_t t0;
    double secs;

    memset(&base, 0, sizeof(base));
    base.path = "/ws/";
    base.origin = NULL;
    base.size = 64;
    base.window = 65536;
    base.dur = 5;
    optind = 1;
    while ((opt = getopt(argc, argv, "p:u:C:O:s:c:d:w:")) != -1) {
        switch (opt) {
        case 'p': base.port = atoi(optarg); break;
        case 'u': base.path = optarg; break;
        case 'C': base.cookie = optarg; break;
        case 'O': base.origin = optarg; break;
        case 's': base.size = (size_t)atol(optarg); break;
        case 'c': conns = atoi(optarg); break;
        case 'd': base.dur = atof(optarg); break;
        case 'w': base.window = (size_t)atol(optarg); break;
        default: wsl_die("stream: bad option");
        }
    }
    if (base.port <= 0 || base.port > 65535 || conns < 1 || conns > STREAM_MAX_CONNS ||
        base.size < 1 || base.size > STREAM_MAX_SIZE || base.dur <= 0 || base.dur > 3600 ||
        base.window < 1 || base.window > (64u << 20)) {
        wsl_die("stream: -p 1..65535, -c 1..64, -s 1..1048576, -d 0..3600, -w 1..64 MiB");
    }
    if (!base.origin) {
        static char o[64];
        snprintf(o, sizeof(o), "http://127.0.0.1:%d", base.port);
        base.origin = o;
    }
    t0 = wsl_now_ns();
    for (i = 0; i < conns; i++) {
        jobs[i] = base;
        pthread_create(&th[i], NULL, stream_run, &jobs[i]);
    }
    for (i = 0; i < conns; i++) {
        pthread_join(th[i], NULL);
        bytes += jobs[i].bytes;
        frames += jobs[i].frames;
        failed += jobs[i].failed;
    }
    secs = (double)(wsl_now_ns() - t0) / 1e9;
    printf("mode=stream\nconns=%d\nsize=%zu\nseconds=%.3f\nbytes=%lld\nframes=%lld\n"
           "mbps=%.3f\nfailed=%d\n",
           conns, base.size, secs, bytes, frames, (double)bytes / secs / 1e6, failed);
    return failed ? 1 : 0;
}
