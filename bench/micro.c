/*
 * micro - ns/op of the pure cores, beside the floor OpenSSL offers.
 *
 *   micro [-q]        (-q: fewer, shorter batches for a smoke run)
 *
 * Each figure is the median over batches of ~20 ms of this thread's CPU time
 * (ns per operation), with the fastest and slowest batch beside it. The
 * operations compared with each other run in interleaved batches, and
 * verify_N.ratio_hmac_dup_N is the median of the per-batch ratios, so a
 * burst of load elsewhere moves both sides alike. Output: key=value lines:
 *   verify_100.ns=512.3
 *   verify_100.min=505.1
 *   verify_100.ratio_hmac_dup_100=1.31
 *
 * Sizes are of the session payload (100 and 1024 bytes). The floors MAC
 * exactly the bytes ssg_sign/ssg_verify MAC for that token (label, version,
 * key id, issued-at, context and payload: checked against the token's own
 * MAC before timing):
 *   hmac_dup_N   a pre-keyed EVP_MAC_CTX, duplicated per call, update, final
 *                (the floor; ssg_token.c keys SHA-256 states once instead)
 *   hmac_once_N  one-shot HMAC(), which fetches and keys every call
 *   b64_decode_N ssg_b64url_decode of the token's payload field alone
 *                (a diagnostic: the part of verify the floor does not do)
 * Origin check (mod_ws_auth's default, same origin as Host):
 *   origin_parse            ssg_origin_parse("http://127.0.0.1:8080")
 *   origin_same_as_host     ssg_origin_same_as_host(o, "127.0.0.1:8080", "http")
 *   origin_check            the two together, as the gate runs them
 *   origin_parse_dns        ssg_origin_parse("https://app.example.com")
 *   pattern_match_exact     wsa_origin_pattern_match, https://app.example.com
 *   pattern_match_wildcard  wsa_origin_pattern_match, https://(star).example.com
 * Tunnel lifetime (issue 16): what mod_ws_auth's output filter adds per byte
 * of a busy tunnel, one MiB of the backend's frames fed to wsa_stream_feed:
 *   stream_feed_64_mib      64-byte frames (16,384 frame headers walked)
 *   stream_feed_16384_mib   16 KiB frames
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>

#include "ssg_token.h"
#include "ssg_origin.h"
#include "wsa_core.h"
#include "wsa_stream.h"

#define SECRET  "bench-secret-0123456789abcdefghijklmnopqrstuvwxyz"
#define CONTEXT "default"

static volatile unsigned long sink;

/* This thread's CPU time, not wall time: on a shared machine a batch that
 * is preempted must not count the other process's slice. */
static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* ------------------------------------------------------------------ */
/* the state every operation reads                                     */

typedef struct {
    apr_pool_t *pool;
    ssg_ring_t *ring;
    const char *payload;
    apr_size_t payload_len;
    const char *token;
    apr_size_t token_len;
    unsigned char *msg; /* the exact MAC input of token */
    apr_size_t msg_len;
    EVP_MAC_CTX *keyed; /* keyed, nothing absorbed */
} case_t;

static case_t cases[2];
static ssg_origin_t parsed_ip, parsed_dns, parsed_deep;
static wsa_origin_pattern_t pat_exact, pat_wild;
static apr_int64_t iat_now;

typedef void (*op_fn)(long n, const case_t *c);

static void op_sign(long n, const case_t *c)
{
    long i;
    for (i = 0; i < n; i++) {
        char *t = ssg_sign(c->pool, c->ring, CONTEXT, iat_now, c->payload, c->payload_len);
        sink += (unsigned long)t[3];
        if ((i & 63) == 63) {
            apr_pool_clear(c->pool);
        }
    }
    apr_pool_clear(c->pool);
}

static void op_verify(long n, const case_t *c)
{
    ssg_result_t res;
    long i;
    for (i = 0; i < n; i++) {
        ssg_status_e st = ssg_verify(c->pool, c->ring, CONTEXT, iat_now, 0, SSG_CLOCK_SKEW,
                                     c->token, c->token_len, &res);
        sink += (unsigned long)st + res.payload_len;
        if ((i & 63) == 63) {
            apr_pool_clear(c->pool);
        }
    }
    apr_pool_clear(c->pool);
}

static void op_hmac_dup(long n, const case_t *c)
{
    unsigned char out[32];
    size_t outl;
    long i;
    for (i = 0; i < n; i++) {
        EVP_MAC_CTX *x = EVP_MAC_CTX_dup(c->keyed);
        EVP_MAC_update(x, c->msg, c->msg_len);
        EVP_MAC_final(x, out, &outl, sizeof(out));
        EVP_MAC_CTX_free(x);
        sink += out[0];
    }
}

/* diagnostic: the strict base64url decode of the token's payload field */
static void op_b64_decode(long n, const case_t *c)
{
    const char *f = strchr(c->token + 3, '.');
    const char *b, *e;
    unsigned char *out = malloc(c->token_len);
    long i;

    f = strchr(f + 1, '.'); /* after kid and iat */
    b = f + 1;
    e = strchr(b, '.');
    for (i = 0; i < n; i++) {
        sink += (unsigned long)ssg_b64url_decode(out, b, (apr_size_t)(e - b));
    }
    free(out);
}

static void op_hmac_once(long n, const case_t *c)
{
    unsigned char out[32];
    unsigned int outl;
    long i;
    for (i = 0; i < n; i++) {
        HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), c->msg, c->msg_len, out, &outl);
        sink += out[0];
    }
}

/* one MiB of unmasked server frames of a given payload size */
static unsigned char *stream_mib[2];
static apr_size_t stream_mib_len[2];

static void make_stream(int i, apr_size_t size)
{
    apr_size_t hl = size < 126 ? 2 : 4, n = (1u << 20) / (hl + size), k;
    unsigned char *p = malloc(n * (hl + size));

    stream_mib[i] = p;
    for (k = 0; k < n; k++) {
        *p++ = 0x82;
        if (hl == 2) {
            *p++ = (unsigned char)size;
        }
        else {
            *p++ = 126;
            *p++ = (unsigned char)(size >> 8);
            *p++ = (unsigned char)size;
        }
        memset(p, 'x', size);
        p += size;
    }
    stream_mib_len[i] = (apr_size_t)(p - stream_mib[i]);
}

static void op_stream(long n, int i)
{
    wsa_stream_t st;
    long k;

    wsa_stream_init(&st, 0);
    for (k = 0; k < n; k++) {
        /* in 8 KiB reads, as the tunnel passes them */
        apr_size_t off;
        for (off = 0; off < stream_mib_len[i]; off += 8192) {
            apr_size_t len = stream_mib_len[i] - off < 8192 ? stream_mib_len[i] - off : 8192;
            wsa_stream_feed(&st, stream_mib[i] + off, len, 0);
        }
    }
    sink += (unsigned long)st.frames;
}

static void op_stream_64(long n, const case_t *c)
{
    (void)c;
    op_stream(n, 0);
}

static void op_stream_16k(long n, const case_t *c)
{
    (void)c;
    op_stream(n, 1);
}

static const char origin_ip[] = "http://127.0.0.1:8080";
static const char host_ip[] = "127.0.0.1:8080";
static const char origin_dns[] = "https://app.example.com";
static const char origin_deep[] = "https://a.b.example.com";

static void op_origin_parse(long n, const case_t *c)
{
    ssg_origin_t o;
    long i;
    (void)c;
    for (i = 0; i < n; i++) {
        sink += ssg_origin_parse(origin_ip, sizeof(origin_ip) - 1, &o) + o.port;
    }
}

static void op_origin_parse_dns(long n, const case_t *c)
{
    ssg_origin_t o;
    long i;
    (void)c;
    for (i = 0; i < n; i++) {
        sink += ssg_origin_parse(origin_dns, sizeof(origin_dns) - 1, &o) + o.port;
    }
}

static void op_same_as_host(long n, const case_t *c)
{
    long i;
    (void)c;
    for (i = 0; i < n; i++) {
        sink += ssg_origin_same_as_host(&parsed_ip, host_ip, sizeof(host_ip) - 1, "http");
    }
}

static void op_origin_check(long n, const case_t *c)
{
    ssg_origin_t o;
    long i;
    (void)c;
    for (i = 0; i < n; i++) {
        if (ssg_origin_parse(origin_ip, sizeof(origin_ip) - 1, &o) == SSG_ORIGIN_OK) {
            sink += ssg_origin_same_as_host(&o, host_ip, sizeof(host_ip) - 1, "http");
        }
    }
}

static void op_match_exact(long n, const case_t *c)
{
    long i;
    (void)c;
    for (i = 0; i < n; i++) {
        sink += wsa_origin_pattern_match(&pat_exact, &parsed_dns);
    }
}

static void op_match_wild(long n, const case_t *c)
{
    long i;
    (void)c;
    for (i = 0; i < n; i++) {
        sink += wsa_origin_pattern_match(&pat_wild, &parsed_deep);
    }
}

/* A group of operations measured in interleaved batches (A B C A B C ...),
 * so a burst of load elsewhere hits all of them alike. Prints, per operation,
 * the median, fastest and slowest batch in ns/op, and, for every operation
 * after the first `ref` one, the median of its per-batch ratio to `ref`. */
typedef struct {
    const char *name;
    op_fn fn;
    const case_t *c;
    long n;
    double *v;
} entry_t;

static long calibrate(op_fn fn, const case_t *c, double target_ns)
{
    long n = 16;
    double t = 0;

    /* the fastest of three timings, so a preempted one does not shrink
     * every batch; also warms caches and OpenSSL's lazy initialisation */
    for (;;) {
        int k;
        double best = 0;
        for (k = 0; k < 3; k++) {
            t = now_ns();
            fn(n, c);
            t = now_ns() - t;
            best = (k == 0 || t < best) ? t : best;
        }
        t = best;
        if (t > target_ns / 8 || n > (1L << 30)) {
            break;
        }
        n *= 2;
    }
    n = (long)((double)n * target_ns / (t > 1 ? t : 1));
    return n < 1 ? 1 : n;
}

static void measure_group(entry_t *e, int ne, int ref, int batches, double target_ns)
{
    double *r = calloc((size_t)batches, sizeof(double));
    int i, b;

    for (i = 0; i < ne; i++) {
        e[i].n = calibrate(e[i].fn, e[i].c, target_ns);
        e[i].v = calloc((size_t)batches, sizeof(double));
    }
    for (b = 0; b < batches; b++) {
        for (i = 0; i < ne; i++) {
            double t = now_ns();
            e[i].fn(e[i].n, e[i].c);
            e[i].v[b] = (now_ns() - t) / (double)e[i].n;
        }
    }
    for (i = 0; i < ne; i++) {
        if (ref >= 0 && i != ref) {
            for (b = 0; b < batches; b++) {
                r[b] = e[i].v[b] / e[ref].v[b];
            }
            qsort(r, (size_t)batches, sizeof(double), cmpd);
            printf("%s.ratio_%s=%.3f\n", e[i].name, e[ref].name, r[batches / 2]);
        }
    }
    for (i = 0; i < ne; i++) {
        double *v = e[i].v;
        qsort(v, (size_t)batches, sizeof(double), cmpd);
        printf("%s.ns=%.1f\n%s.min=%.1f\n%s.max=%.1f\n%s.iters=%ld\n", e[i].name, v[batches / 2],
               e[i].name, v[0], e[i].name, v[batches - 1], e[i].name, e[i].n);
        free(v);
    }
    fflush(stdout);
    free(r);
}

/* Build one case: a token of a payload_len-byte session and its MAC input. */
static int make_case(apr_pool_t *parent, ssg_ring_t *ring, case_t *c, apr_size_t payload_len)
{
    static const char filler[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    char *p = apr_palloc(parent, payload_len + 1);
    const char *kid = ssg_ring_kid(ring, 0);
    char iat_s[32];
    apr_size_t i, n = 0, ctx_len = strlen(CONTEXT), iat_len;
    static const char prefix[] = "mod_session_sign\0v1\0";
    unsigned char mac_tok[40], mac_floor[32];
    size_t outl = 0;
    const char *dot;
    OSSL_PARAM params[2];
    EVP_MAC *mac;
    char digest[] = "SHA256";
    EVP_MAC_CTX *x;

    /* "user=alice&role=admin&data=abc..." exactly payload_len bytes */
    n = (apr_size_t)apr_snprintf(p, payload_len + 1, "user=alice&role=admin&data=");
    for (i = n; i < payload_len; i++) {
        p[i] = filler[i % (sizeof(filler) - 1)];
    }
    p[payload_len] = '\0';
    apr_pool_create(&c->pool, parent);
    c->ring = ring;
    c->payload = p;
    c->payload_len = payload_len;
    c->token = ssg_sign(parent, ring, CONTEXT, iat_now, p, payload_len);
    if (!c->token) {
        return -1;
    }
    c->token_len = strlen(c->token);

    iat_len = (apr_size_t)apr_snprintf(iat_s, sizeof(iat_s), "%" APR_INT64_T_FMT, iat_now);
    c->msg = apr_palloc(parent, sizeof(prefix) + 64 + ctx_len + payload_len);
    n = 0;
    memcpy(c->msg, prefix, sizeof(prefix) - 1);
    n += sizeof(prefix) - 1;
    memcpy(c->msg + n, kid, SSG_KID_LEN);
    n += SSG_KID_LEN;
    c->msg[n++] = 0;
    memcpy(c->msg + n, iat_s, iat_len);
    n += iat_len;
    c->msg[n++] = 0;
    c->msg[n++] = (unsigned char)(ctx_len >> 24);
    c->msg[n++] = (unsigned char)(ctx_len >> 16);
    c->msg[n++] = (unsigned char)(ctx_len >> 8);
    c->msg[n++] = (unsigned char)ctx_len;
    memcpy(c->msg + n, CONTEXT, ctx_len);
    n += ctx_len;
    memcpy(c->msg + n, p, payload_len);
    n += payload_len;
    c->msg_len = n;

    mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    c->keyed = mac ? EVP_MAC_CTX_new(mac) : NULL;
    EVP_MAC_free(mac);
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0);
    params[1] = OSSL_PARAM_construct_end();
    if (!c->keyed ||
        EVP_MAC_init(c->keyed, (const unsigned char *)SECRET, strlen(SECRET), params) != 1) {
        return -1;
    }
    /* the floor must MAC the very bytes the token's MAC covers */
    x = EVP_MAC_CTX_dup(c->keyed);
    EVP_MAC_update(x, c->msg, c->msg_len);
    EVP_MAC_final(x, mac_floor, &outl, sizeof(mac_floor));
    EVP_MAC_CTX_free(x);
    dot = strrchr(c->token, '.');
    if (!dot || ssg_b64url_decode(mac_tok, dot + 1, strlen(dot + 1)) != 32 ||
        memcmp(mac_tok, mac_floor, 32) != 0) {
        fprintf(stderr, "micro: the floor's MAC input differs from the token's\n");
        return -1;
    }
    printf("case_%lu.token_len=%lu\ncase_%lu.mac_input_len=%lu\n", (unsigned long)payload_len,
           (unsigned long)c->token_len, (unsigned long)payload_len, (unsigned long)c->msg_len);
    return 0;
}

int main(int argc, char **argv)
{
    apr_pool_t *pool;
    ssg_ring_t *ring;
    const char *err;
    int quick = argc > 1 && !strcmp(argv[1], "-q");
    int batches = quick ? 7 : 25;
    double target = quick ? 10e6 : 20e6;
    static const apr_size_t sizes[2] = {100, 1024};
    int i;

    apr_initialize();
    apr_pool_create(&pool, NULL);
    iat_now = (apr_int64_t)time(NULL);
    ssg_ring_create(pool, &ring);
    if ((err = ssg_ring_add(ring, SECRET, strlen(SECRET))) != NULL) {
        fprintf(stderr, "micro: %s\n", err);
        return 1;
    }
    for (i = 0; i < 2; i++) {
        if (make_case(pool, ring, &cases[i], sizes[i]) != 0) {
            return 1;
        }
        {
            ssg_result_t res;
            if (ssg_verify(cases[i].pool, ring, CONTEXT, iat_now, 0, SSG_CLOCK_SKEW, cases[i].token,
                           cases[i].token_len, &res) != SSG_OK) {
                fprintf(stderr, "micro: the token does not verify\n");
                return 1;
            }
        }
    }
    if (ssg_origin_parse(origin_ip, sizeof(origin_ip) - 1, &parsed_ip) != SSG_ORIGIN_OK ||
        ssg_origin_parse(origin_dns, sizeof(origin_dns) - 1, &parsed_dns) != SSG_ORIGIN_OK ||
        ssg_origin_parse(origin_deep, sizeof(origin_deep) - 1, &parsed_deep) != SSG_ORIGIN_OK ||
        !ssg_origin_same_as_host(&parsed_ip, host_ip, sizeof(host_ip) - 1, "http") ||
        wsa_origin_pattern_parse("https://app.example.com", &pat_exact) != NULL ||
        wsa_origin_pattern_parse("https://*.example.com", &pat_wild) != NULL ||
        !wsa_origin_pattern_match(&pat_exact, &parsed_dns) ||
        !wsa_origin_pattern_match(&pat_wild, &parsed_deep)) {
        fprintf(stderr, "micro: origin fixtures do not behave as expected\n");
        return 1;
    }
    printf("batches=%d\nbatch_ms=%.0f\nopenssl=%s\n", batches, target / 1e6,
           OpenSSL_version(OPENSSL_VERSION));

    for (i = 0; i < 2; i++) {
        static char names[2][5][32];
        unsigned long sz = (unsigned long)sizes[i];
        entry_t e[5];
        snprintf(names[i][0], 32, "hmac_dup_%lu", sz);
        snprintf(names[i][1], 32, "verify_%lu", sz);
        snprintf(names[i][2], 32, "sign_%lu", sz);
        snprintf(names[i][3], 32, "hmac_once_%lu", sz);
        snprintf(names[i][4], 32, "b64_decode_%lu", sz);
        e[0] = (entry_t){names[i][0], op_hmac_dup, &cases[i], 0, NULL};
        e[1] = (entry_t){names[i][1], op_verify, &cases[i], 0, NULL};
        e[2] = (entry_t){names[i][2], op_sign, &cases[i], 0, NULL};
        e[3] = (entry_t){names[i][3], op_hmac_once, &cases[i], 0, NULL};
        e[4] = (entry_t){names[i][4], op_b64_decode, &cases[i], 0, NULL};
        measure_group(e, 5, 0, batches, target);
    }
    {
        entry_t e[6] = {
            {"origin_check", op_origin_check, NULL, 0, NULL},
            {"origin_parse", op_origin_parse, NULL, 0, NULL},
            {"origin_same_as_host", op_same_as_host, NULL, 0, NULL},
            {"origin_parse_dns", op_origin_parse_dns, NULL, 0, NULL},
            {"pattern_match_exact", op_match_exact, NULL, 0, NULL},
            {"pattern_match_wildcard", op_match_wild, NULL, 0, NULL},
        };
        measure_group(e, 6, -1, batches, target);
    }
    {
        entry_t e[2] = {
            {"stream_feed_64_mib", op_stream_64, NULL, 0, NULL},
            {"stream_feed_16384_mib", op_stream_16k, NULL, 0, NULL},
        };
        make_stream(0, 64);
        make_stream(1, 16384);
        measure_group(e, 2, -1, batches, target);
    }
    printf("sink=%lu\n", (unsigned long)(sink & 1));
    apr_pool_destroy(pool);
    apr_terminate();
    return 0;
}
