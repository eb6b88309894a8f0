/*
 * wsload - the one WebSocket/HTTP load generator of `make bench` and
 * `make soak`: command line, bounds, the four subcommands and their reports.
 *
 *   wsload churn -p PORT [-a 127.0.0.1] [-u /ws/] [-c 50] [-d SECONDS | -n COUNT]
 *                [-C 'session=...'] [-O ORIGIN|-] [-H HOST] [-T TIMEOUT_S]
 *   wsload get   -p PORT ... (keep-alive GETs with the same headers)
 *   wsload hold  -p PORT -N 2000 [-c 100] [-d MAX_SECONDS] ...
 *   wsload stream -p PORT [-s SIZE] [-c CONNS] [-d SECONDS] ... (stream.c:
 *                echo MB/s through one tunnel per connection)
 *   wsload mix   -p PORT -f SPEC [-n COUNT] [-c CONNS] [-d MAX_SECONDS]
 *                [-N HELD] [-i PING_SECONDS] [-T TIMEOUT_S]
 *
 * churn (bench: handshakes/s): keeps exactly -c connections in flight; each
 *        one connects, sends an RFC 6455 upgrade (Host, Upgrade, Connection,
 *        Sec-WebSocket-*, Origin, Cookie), waits for the 101, sends a masked
 *        close frame and waits for the server to close the TCP connection (so
 *        the tunnel ends cleanly, server side first), then starts the next
 *        one. Latency: connect() to the end of the 101 head.
 * get:   (bench: the memory run) -c keep-alive connections, each sending one
 *        GET after another; a 2xx counts; latency per request.
 * hold:  (bench: RSS with idle tunnels) opens -N upgraded connections (at
 *        most -c handshakes in flight), prints "held=N", then keeps them idle
 *        until stdin reaches EOF or -d seconds pass; then a close frame on each.
 * mix:   (soak) the request kinds of the SPEC file (kinds.c), in a fixed
 *        interleaved schedule: first -N held WebSockets opened with the
 *        "hold" kind (at most 32 handshakes in flight), then COUNT requests
 *        over -c keep-alive connections (a connection the server closes is
 *        replaced), while every -i seconds each held socket sends a masked
 *        text frame whose echo is due within -T seconds; after the load a last
 *        echo round on every held socket, then a close frame on each. Counts
 *        per kind the statuses, the answers outside its expected ones and the
 *        transport errors; prints "progress ..." every second, "phase
 *        end-load" when the load is done (held sockets still open), results.
 *
 * churn/get end after -d seconds (only completions inside the window count
 * for the rate; connections in flight are then drained for at most 5 s) or
 * after -n requests, whichever comes first; they and hold write key=value
 * lines (ok, errors by kind, rate, latency percentiles in us, own CPU time
 * and share of one core). mix ends after COUNT requests, or at -d seconds
 * ("time limit reached": the run has failed).
 *
 * Bounded on purpose: 127.0.0.0/8 only; churn/get/hold at most 15,000
 * concurrent and 18,000 held connections, mix at most 1,024 connections and
 * 4,096 held sockets; at most an hour, 100,000,000 requests, a deadline of
 * -T seconds (at most 120) on every request, handshake and echo.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include "wsload.h"

#define MAX_CONC      15000
#define MAX_HOLD      18000
#define MAX_MIX_CONNS 1024
#define MAX_MIX_HELD  4096
#define MAX_SECONDS   3600
#define MAX_COUNT     100000000L
#define MAX_TIMEOUT_S 120
#define DRAIN_NS      (5 * 1000000000LL)
#define MIX_INFLIGHT  32

enum { MODE_CHURN, MODE_GET, MODE_HOLD, MODE_MIX };

static wsl_t L;

typedef struct {
    int mode;
    const char *mode_s, *addr, *path, *cookie, *origin, *host, *spec;
    int port, conc, held, ping_s;
    double dur, timeout_s;
    long count;
} opts_t;

static void on_signal(int sig)
{
    (void)sig;
    wsl_stop = 1;
}

static void usage(void)
{
    fprintf(stderr, "usage: wsload churn|get|hold -p PORT [-a 127.0.0.1] [-u PATH] [-c CONC]\n"
                    "              [-d SECONDS] [-n COUNT] [-N HOLD] [-C COOKIE] [-O ORIGIN|-]\n"
                    "              [-H HOST] [-T TIMEOUT_S]\n"
                    "       wsload mix -p PORT -f SPEC [-n COUNT] [-c CONNS] [-d MAX_SECONDS]\n"
                    "              [-N HELD] [-i PING_SECONDS] [-T TIMEOUT_S]\n");
}

static int bad_value(const char *s)
{
    return s && strpbrk(s, "\r\n") != NULL;
}

static int check(opts_t *o);

/* @return 0, or 2 with a message (the exit status) */
static int parse(int argc, char **argv, opts_t *o)
{
    int opt;

    memset(o, 0, sizeof(*o));
    o->addr = "127.0.0.1";
    o->path = "/ws/";
    o->timeout_s = 10;
    o->ping_s = 15;
    if (argc < 2) {
        usage();
        return 2;
    }
    o->mode_s = argv[1];
    o->mode = !strcmp(o->mode_s, "churn")  ? MODE_CHURN
              : !strcmp(o->mode_s, "get")  ? MODE_GET
              : !strcmp(o->mode_s, "hold") ? MODE_HOLD
              : !strcmp(o->mode_s, "mix")  ? MODE_MIX
                                           : -1;
    if (o->mode < 0) {
        usage();
        return 2;
    }
    o->conc = o->mode == MODE_MIX ? 48 : 50;
    if (o->mode == MODE_MIX) {
        o->count = 1000000;
        o->dur = 600;
    }
    optind = 2;
    while ((opt = getopt(argc, argv, "p:a:u:c:d:n:N:C:O:H:T:f:i:")) != -1) {
        switch (opt) {
        case 'p': o->port = atoi(optarg); break;
        case 'a': o->addr = optarg; break;
        case 'u': o->path = optarg; break;
        case 'c': o->conc = atoi(optarg); break;
        case 'd': o->dur = atof(optarg); break;
        case 'n': o->count = atol(optarg); break;
        case 'N': o->held = atoi(optarg); break;
        case 'C': o->cookie = optarg; break;
        case 'O': o->origin = optarg; break;
        case 'H': o->host = optarg; break;
        case 'T': o->timeout_s = atof(optarg); break;
        case 'f': o->spec = optarg; break;
        case 'i': o->ping_s = atoi(optarg); break;
        default: usage(); return 2;
        }
    }
    return check(o);
}

/* the bounds of every subcommand, and its defaults that depend on others.
 * @return 0, or 2 with a message */
static int check(opts_t *o)
{
    if (o->port < 1 || o->port > 65535 || o->conc < 1 || o->dur < 0 || o->dur > MAX_SECONDS ||
        o->count < 0 || o->count > MAX_COUNT || o->timeout_s <= 0 || o->timeout_s > MAX_TIMEOUT_S ||
        o->path[0] != '/' || strpbrk(o->path, " \r\n") || bad_value(o->cookie) ||
        bad_value(o->origin) || bad_value(o->host) || (o->host && strlen(o->host) > 255) ||
        strlen(o->addr) > 64 || o->held < 0) {
        fprintf(stderr, "wsload: argument out of bounds\n");
        usage();
        return 2;
    }
    if (o->mode == MODE_MIX) {
        if (!o->spec || o->conc > MAX_MIX_CONNS || o->held > MAX_MIX_HELD || o->count < 1 ||
            o->dur < 1 || o->ping_s < 1 || o->ping_s > MAX_SECONDS) {
            fprintf(stderr, "wsload: mix needs -f SPEC, -c 1..%d, -N 0..%d, -n >= 1, -d >= 1\n",
                    MAX_MIX_CONNS, MAX_MIX_HELD);
            return 2;
        }
    }
    else if (o->conc > MAX_CONC) {
        fprintf(stderr, "wsload: -c 1..%d\n", MAX_CONC);
        return 2;
    }
    else if (o->mode == MODE_HOLD) {
        if (o->held < 1 || o->held > MAX_HOLD) {
            fprintf(stderr, "wsload: hold needs -N 1..%d\n", MAX_HOLD);
            return 2;
        }
        if (o->dur <= 0) {
            o->dur = 600;
        }
    }
    else if (o->dur <= 0 && o->count <= 0) {
        fprintf(stderr, "wsload: give -d SECONDS, -n COUNT or both (the first reached ends)\n");
        return 2;
    }
    else {
        o->held = 0; /* churn and get hold nothing */
    }
    return 0;
}

/* the target: 127.0.0.0/8 only; enough file descriptors for every socket */
static int target(const opts_t *o, struct sockaddr_in *sa)
{
    struct rlimit rl;
    long need = (o->mode == MODE_HOLD ? 0 : o->conc) + o->held + 32;

    memset(sa, 0, sizeof(*sa));
    sa->sin_family = AF_INET;
    sa->sin_port = htons((unsigned short)o->port);
    if (inet_pton(AF_INET, o->addr, &sa->sin_addr) != 1 ||
        (ntohl(sa->sin_addr.s_addr) >> 24) != 127) {
        fprintf(stderr, "wsload: loopback (127.0.0.0/8) addresses only\n");
        return 2;
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
        if ((long)rl.rlim_cur < need) {
            fprintf(stderr, "wsload: the fd limit (%ld) is too low\n", (long)rl.rlim_cur);
            return 2;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* churn, get, hold: key=value reports                                  */

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

static void report_kv(const opts_t *o, const wsl_kind_t *k, int64_t t1, double cpu)
{
    double wall = (double)(t1 - L.t0) / 1e9, window, sum = 0;
    long i, s;

    qsort(L.lat, (size_t)L.nlat, sizeof(*L.lat), cmp64);
    for (i = 0; i < L.nlat; i++) {
        sum += (double)L.lat[i];
    }
    /* by duration: the window; by count (or count reached first): until the
     * last completion */
    window = (double)(L.t_last_ok - L.t0) / 1e9;
    if (o->dur > 0 && o->mode != MODE_HOLD && (o->count == 0 || window >= o->dur)) {
        window = o->dur;
    }
    printf("mode=%s\nconcurrency=%d\nthreads=1\n", o->mode_s, o->conc);
    printf("ok=%ld\nok_after_window=%ld\n", L.ok, L.ok_late);
    if (o->mode == MODE_HOLD) {
        printf("errors=%ld\n", L.held_failed + L.held_lost); /* hold_failed: above */
    }
    else {
        printf("errors=%ld\nerr_connect=%ld\nerr_timeout=%ld\nerr_io=%ld\nerr_proto=%ld\n",
               L.err_total, k->err[E_CONNECT], k->err[E_TIMEOUT], k->err[E_RESET], k->err[E_PROTO]);
    }
    for (s = 100; s < 600; s++) {
        if (k->status[s] && !wsl_kind_expected(k, (int)s)) {
            printf("status_%ld=%ld\n", s, k->status[s]);
        }
    }
    printf("unexpected_status=%ld\n", k->wrong);
    printf("window_s=%.3f\nwall_s=%.3f\nrate=%.1f\n", window, wall,
           window > 0 ? (double)L.ok / window : 0.0);
    printf("lat_samples=%ld\nlat_mean_us=%.1f\nlat_p50_us=%.1f\nlat_p90_us=%.1f\n"
           "lat_p99_us=%.1f\nlat_p999_us=%.1f\nlat_max_us=%.1f\n",
           L.nlat, L.nlat ? sum / (double)L.nlat / 1000.0 : 0.0, pct(L.lat, L.nlat, 50),
           pct(L.lat, L.nlat, 90), pct(L.lat, L.nlat, 99), pct(L.lat, L.nlat, 99.9),
           L.nlat ? (double)L.lat[L.nlat - 1] / 1000.0 : 0.0);
    printf("cpu_s=%.3f\ncpu_share=%.3f\n", cpu, wall > 0 ? cpu / wall : 0.0);
    if (o->mode == MODE_HOLD) {
        printf("dropped=%ld\nreleased=%ld\n", L.held_lost, L.held_released);
    }
}

/* churn and get: -c connections busy until the window or the count ends,
 * then those in flight drained for at most DRAIN_NS; closed connections
 * are replaced at the top of the loop, after a batch of events */
static void run_rate(const opts_t *o)
{
    int64_t t_stop = 0;
    int i;

    L.count = o->count;
    L.t_window_end = o->dur > 0 ? L.t0 + (int64_t)(o->dur * 1e9) : 0;
    L.fill_at_top = 1;
    for (;;) {
        int64_t now = wsl_now_ns();
        if (wsl_want_more(&L, now)) {
            L.filling = 1;
            for (i = 0; i < L.nconns; i++) {
                if (L.conns[i].fd < 0) {
                    wsl_start_request(&L, &L.conns[i], now);
                }
            }
            L.filling = 0;
        }
        else {
            if (!wsl_busy(&L)) {
                break;
            }
            if (!t_stop) {
                t_stop = now;
            }
            if (now - t_stop > DRAIN_NS) {
                wsl_fail_busy(&L, E_TIMEOUT);
                break;
            }
        }
        wsl_poll(&L, 20);
    }
}

/* Open every held socket, at most inflight handshakes at a time, and wait
 * for the last ones (each has its deadline). */
static void open_held(int inflight)
{
    int i, end = L.nconns + L.nheld;

    for (i = L.nconns; i < end && !wsl_stop; i++) {
        while (!wsl_stop && wsl_held_in_flight(&L, i) >= inflight) {
            wsl_poll(&L, 20);
        }
        wsl_held_open(&L, &L.conns[i]);
    }
    while (!wsl_stop && wsl_held_in_flight(&L, end)) {
        wsl_poll(&L, 20);
    }
}

/* hold: open, report, wait for stdin's EOF (or -d), release */
static void run_hold(const opts_t *o)
{
    struct epoll_event e;
    int64_t t_wait, max_ns = (int64_t)(o->dur * 1e9);
    int stdin_open = 1;

    open_held(o->conc);
    printf("establish_s=%.3f\n", (double)(wsl_now_ns() - L.t0) / 1e9);
    printf("held=%ld\nhold_failed=%ld\n", L.held_opened, (long)L.nheld - L.held_opened);
    fflush(stdout);
    e.events = EPOLLIN;
    e.data.ptr = NULL;
    if (epoll_ctl(L.ep, EPOLL_CTL_ADD, 0, &e) != 0) {
        stdin_open = 0; /* not pollable (a file): -d only */
    }
    t_wait = wsl_now_ns();
    while (!wsl_stop && wsl_now_ns() - t_wait < max_ns) {
        if (wsl_poll(&L, 200) > 0) {
            char b[256];
            if (read(0, b, sizeof(b)) <= 0) {
                break;
            }
        }
    }
    if (stdin_open) {
        epoll_ctl(L.ep, EPOLL_CTL_DEL, 0, NULL);
    }
    wsl_release_held(&L, L.timeout_ns);
}

/* ------------------------------------------------------------------ */
/* mix: the soak                                                        */

static void print_mix_results(double secs, long run_echo_ok, long run_echo_bad)
{
    int i, s;

    printf("result requests=%ld seconds=%.1f rate=%.0f wrong=%ld errors=%ld status5xx=%ld\n",
           L.done_total, secs, secs > 0 ? L.done_total / secs : 0.0, L.wrong_total, L.err_total,
           L.status5xx);
    printf("result held=%d held_opened=%ld held_failed=%ld held_lost=%ld echo_ok=%ld "
           "echo_bad=%ld echo_timeout=%ld final_echo_ok=%ld final_echo_bad=%ld\n",
           L.nheld, L.held_opened, L.held_failed, L.held_lost, run_echo_ok, run_echo_bad,
           L.echo_timeout, L.echo_ok, L.echo_bad);
    for (i = 0; i < L.nkinds; i++) {
        wsl_kind_t *k = &L.kinds[i];
        char st[1024];
        size_t off = 0;
        if (k->mode == K_HOLD) {
            continue;
        }
        st[0] = '\0';
        for (s = 100; s < 600 && off < sizeof(st) - 16; s++) {
            if (k->status[s]) {
                off += (size_t)snprintf(st + off, sizeof(st) - off, "%s%d:%ld", off ? "," : "", s,
                                        k->status[s]);
            }
        }
        printf("kind name=%s mode=%s expect=", k->name, k->mode == K_WS ? "ws" : "get");
        for (s = 0; s < k->nexpect; s++) {
            printf("%s%d", s ? "," : "", k->expect_lo[s]);
        }
        printf(" weight=%d sent=%ld done=%ld right=%ld wrong=%ld err_connect=%ld "
               "err_reset=%ld err_timeout=%ld err_protocol=%ld statuses=%s\n",
               k->weight, k->sent, k->done, k->right, k->wrong, k->err[E_CONNECT], k->err[E_RESET],
               k->err[E_TIMEOUT], k->err[E_PROTO], st[0] ? st : "-");
    }
    fflush(stdout);
}

/* wait (at most until) for the echoes in flight */
static void settle_echoes(int64_t until)
{
    while (!wsl_stop && wsl_now_ns() < until && wsl_echoes_pending(&L)) {
        wsl_poll(&L, 50);
    }
}

/* the load, with each echo round spread over the ping interval */
static void mix_load(const opts_t *o)
{
    int64_t t_end = L.t0 + (int64_t)(o->dur * 1e9), period = (int64_t)o->ping_s * 1000000000LL;
    int64_t now = wsl_now_ns(), last_progress = now, last_round = now;
    long pinged = 0;
    int i;

    L.count = o->count;
    for (i = 0; i < L.nconns; i++) {
        wsl_start_request(&L, &L.conns[i], now);
    }
    while (!wsl_stop) {
        wsl_poll(&L, 50);
        now = wsl_now_ns();
        if (now >= t_end) {
            fprintf(stderr, "wsload: time limit reached\n");
            break;
        }
        if (now - last_progress >= 1000000000LL) {
            printf("progress done=%ld elapsed=%.1f\n", L.done_total, (now - L.t0) / 1e9);
            fflush(stdout);
            last_progress = now;
        }
        if (L.nheld) {
            long due = (long)((now - last_round) * L.nheld / period);
            while (pinged < due && pinged < L.nheld) {
                wsl_held_echo(&L, &L.conns[L.nconns + pinged], now);
                pinged++;
            }
            if (now - last_round >= period) {
                last_round = now;
                pinged = 0;
            }
        }
        if (!wsl_busy(&L) && L.next_seq >= L.count) {
            break;
        }
    }
}

static void run_mix(const opts_t *o)
{
    long run_echo_ok, run_echo_bad, lost_before, alive = 0;
    double secs;
    int i;

    open_held(MIX_INFLIGHT);
    printf("held opened=%ld failed=%ld\n", L.held_opened, L.held_failed);
    fflush(stdout);
    mix_load(o);
    printf("phase end-load done=%ld elapsed=%.1f\n", L.done_total, (wsl_now_ns() - L.t0) / 1e9);
    fflush(stdout);
    secs = (wsl_now_ns() - L.t0) / 1e9;
    /* a last echo round on every held socket, counted alone */
    settle_echoes(wsl_now_ns() + L.timeout_ns);
    run_echo_ok = L.echo_ok;
    run_echo_bad = L.echo_bad;
    L.echo_ok = L.echo_bad = 0;
    lost_before = L.held_lost;
    for (i = L.nconns; i < L.nconns + L.nheld; i++) {
        if (L.conns[i].fd >= 0 && L.conns[i].state == C_HELD) {
            wsl_held_echo(&L, &L.conns[i], wsl_now_ns());
            alive++;
        }
    }
    settle_echoes(wsl_now_ns() + L.timeout_ns);
    printf("final-echo alive=%ld ok=%ld bad=%ld lost_during=%ld\n", alive, L.echo_ok, L.echo_bad,
           L.held_lost - lost_before);
    fflush(stdout);
    wsl_release_held(&L, 5000000000LL);
    wsl_close_all(&L);
    print_mix_results(secs, run_echo_ok, run_echo_bad);
}

/* ------------------------------------------------------------------ */

static int wsl_main(int argc, char **argv)
{
    opts_t o;
    struct sockaddr_in sa;
    struct rusage ru0, ru1;
    char origin_buf[300], host_buf[128];
    int rc;

    if ((rc = parse(argc, argv, &o)) != 0 || (rc = target(&o, &sa)) != 0) {
        return rc;
    }
    L.hold_kind = -1;
    L.timeout_ns = (int64_t)(o.timeout_s * 1e9);
    if (o.mode == MODE_MIX) {
        wsl_load_spec(&L, o.spec);
        wsl_build_schedule(&L);
        if (o.held && L.hold_kind < 0) {
            wsl_die("held sockets need a kind of mode hold in the spec");
        }
    }
    else {
        char *req;
        int k;
        if (!o.host) {
            snprintf(host_buf, sizeof(host_buf), "%s:%d", o.addr, o.port);
            o.host = host_buf;
        }
        if (!o.origin) {
            snprintf(origin_buf, sizeof(origin_buf), "http://%s", o.host);
            o.origin = origin_buf;
        }
        if (!strcmp(o.origin, "-")) {
            o.origin = NULL; /* no Origin header */
        }
        req = wsl_build_request(o.mode != MODE_GET, o.path, o.host, o.origin, o.cookie);
        k = wsl_kind_add(&L, o.mode_s,
                         o.mode == MODE_GET    ? K_GET
                         : o.mode == MODE_HOLD ? K_HOLD
                                               : K_WS,
                         1, req, strlen(req));
        free(req);
        if (o.mode == MODE_GET) {
            wsl_kind_expect(&L.kinds[k], 200, 299);
        }
        else {
            wsl_kind_expect(&L.kinds[k], 101, 101);
        }
        if (o.mode != MODE_HOLD) {
            wsl_build_schedule(&L);
        }
    }
    wsl_init(&L, &sa, o.mode == MODE_HOLD ? 0 : o.conc, o.held);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    getrusage(RUSAGE_SELF, &ru0);
    L.t0 = wsl_now_ns();
    if (o.mode == MODE_MIX) {
        run_mix(&o);
        return 0;
    }
    if (o.mode == MODE_HOLD) {
        run_hold(&o);
    }
    else {
        run_rate(&o);
    }
    getrusage(RUSAGE_SELF, &ru1);
    report_kv(&o, &L.kinds[0], wsl_now_ns(),
              tv_s(ru1.ru_utime) - tv_s(ru0.ru_utime) + tv_s(ru1.ru_stime) - tv_s(ru0.ru_stime));
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "stream")) {
        return wsl_stream_main(argc - 1, argv + 1); /* stream.c */
    }
    return wsl_main(argc, argv);
}
