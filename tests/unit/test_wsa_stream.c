/*
 * test_wsa_stream.c - Check unit tests for core/wsa_stream.c: the response
 * head, frame boundaries found from headers only (fed whole, byte by byte
 * and in every split), the close frame and the tunnel deadline.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "wsa_stream.h"

#define NELTS(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* a server frame (unmasked unless mask) with n payload bytes of 'x' */
static apr_size_t frame(unsigned char *out, unsigned opcode, apr_uint64_t n, int mask)
{
    apr_size_t i = 0, k;

    out[i++] = (unsigned char)(0x80 | opcode);
    if (n < 126) {
        out[i++] = (unsigned char)((mask ? 0x80 : 0) | n);
    }
    else if (n < 65536) {
        out[i++] = (unsigned char)((mask ? 0x80 : 0) | 126);
        out[i++] = (unsigned char)(n >> 8);
        out[i++] = (unsigned char)n;
    }
    else {
        out[i++] = (unsigned char)((mask ? 0x80 : 0) | 127);
        for (k = 0; k < 8; k++) {
            out[i++] = (unsigned char)(n >> (56 - 8 * k));
        }
    }
    if (mask) {
        memcpy(out + i, "\x01\x02\x03\x04", 4);
        i += 4;
    }
    memset(out + i, 'x', (size_t)n);
    return i + (apr_size_t)n;
}

static const char HEAD[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade\r\n\r\n";

/* HEAD, then frames of these sizes: the boundaries are at known offsets */
typedef struct {
    const char *name;
    int with_head;
    apr_uint64_t sizes[4];
    int nsizes;
    int mask;
} stream_case_t;

static const stream_case_t stream_cases[] = {
    {"one small text frame after the 101", 1, {5}, 1, 0},
    {"empty payload frames", 1, {0, 0, 0}, 3, 0},
    {"16-bit length (126..65535)", 1, {126, 300, 65535}, 3, 0},
    {"64-bit length", 1, {70000, 1}, 2, 0},
    {"a masked frame (not expected from a server, still followed)", 1, {10, 200}, 2, 1},
    {"HTTP/2: frames from the first byte", 0, {3, 125, 126}, 3, 0},
};

static unsigned char *build(const stream_case_t *c, apr_size_t *len, apr_size_t *bounds, int *nb)
{
    unsigned char *buf = malloc(200000);
    apr_size_t n = 0;
    int i;

    *nb = 0;
    if (c->with_head) {
        memcpy(buf, HEAD, strlen(HEAD));
        n = strlen(HEAD);
    }
    bounds[(*nb)++] = n;
    for (i = 0; i < c->nsizes; i++) {
        n += frame(buf + n, 1, c->sizes[i], c->mask);
        bounds[(*nb)++] = n;
    }
    *len = n;
    return buf;
}

START_TEST(test_boundaries_whole)
{
    const stream_case_t *c = &stream_cases[_i];
    apr_size_t len, bounds[8], off = 0;
    int nb, k;
    unsigned char *buf = build(c, &len, bounds, &nb);
    wsa_stream_t st;

    wsa_stream_init(&st, c->with_head);
    /* stop=1 finds every boundary in order */
    for (k = 0; k < nb; k++) {
        off += wsa_stream_feed(&st, buf + off, len - off, 1);
        ck_assert_msg(off == bounds[k], "%s: boundary %d at %lu, want %lu", c->name, k,
                      (unsigned long)off, (unsigned long)bounds[k]);
        ck_assert_msg(wsa_stream_at_boundary(&st), "%s: at boundary %d", c->name, k);
        if (off < len) {
            /* step into the next frame: one byte, never a boundary */
            off += wsa_stream_feed(&st, buf + off, 1, 0);
            ck_assert(!wsa_stream_at_boundary(&st) || c->sizes[k] == 0);
        }
    }
    ck_assert_uint_eq(st.frames, (unsigned)c->nsizes);
    free(buf);
}
END_TEST

START_TEST(test_boundaries_bytewise)
{
    const stream_case_t *c = &stream_cases[_i];
    apr_size_t len, bounds[8], i;
    int nb, k = 0;
    unsigned char *buf = build(c, &len, bounds, &nb);
    wsa_stream_t st;

    wsa_stream_init(&st, c->with_head);
    for (i = 0; i <= len; i++) {
        int want = 0;
        for (k = 0; k < nb; k++) {
            want |= bounds[k] == i;
        }
        ck_assert_msg(wsa_stream_at_boundary(&st) == want, "%s: offset %lu", c->name,
                      (unsigned long)i);
        if (i < len) {
            ck_assert_uint_eq(wsa_stream_feed(&st, buf + i, 1, 0), 1);
        }
    }
    free(buf);
}
END_TEST

START_TEST(test_boundaries_every_split)
{
    const stream_case_t *c = &stream_cases[_i];
    apr_size_t len, bounds[8], cut;
    int nb;
    unsigned char *buf = build(c, &len, bounds, &nb);

    if (len > 2000 && bounds[1] + 20 < len) {
        len = bounds[1] + 20; /* the long frames: their first bytes suffice */
    }
    for (cut = 0; cut <= len; cut++) {
        wsa_stream_t st;
        wsa_stream_init(&st, c->with_head);
        ck_assert_uint_eq(wsa_stream_feed(&st, buf, cut, 0), cut);
        ck_assert_uint_eq(wsa_stream_feed(&st, buf + cut, len - cut, 0), len - cut);
        ck_assert_uint_eq(st.bytes, len);
    }
    free(buf);
}
END_TEST

START_TEST(test_head_split_crlf)
{
    wsa_stream_t st;
    const char *a = "HTTP/1.1 101 X\r\n\r", *b = "\nZ";

    wsa_stream_init(&st, 1);
    ck_assert_uint_eq(wsa_stream_feed(&st, (const unsigned char *)a, strlen(a), 1), strlen(a));
    ck_assert(!wsa_stream_at_boundary(&st));
    ck_assert_uint_eq(wsa_stream_feed(&st, (const unsigned char *)b, 2, 1), 1);
    ck_assert(wsa_stream_at_boundary(&st));
}
END_TEST

START_TEST(test_head_false_ends)
{
    wsa_stream_t st;
    const char *h = "HTTP/1.1 101 X\r\nA: b\r\r\n\n\r\nC: d\r\n\r\n";

    wsa_stream_init(&st, 1);
    ck_assert_uint_eq(wsa_stream_feed(&st, (const unsigned char *)h, strlen(h), 1), strlen(h));
    ck_assert(wsa_stream_at_boundary(&st));
}
END_TEST

START_TEST(test_head_status)
{
    static const struct {
        const char *head;
        int switched;
    } cases[] = {
        {"HTTP/1.1 101 Switching Protocols\r\n\r\n", 1},
        {"HTTP/1.0 101 X\r\n\r\n", 1},
        {"HTTP/1.1 200 OK\r\nA: 101\r\n\r\n", 0},
        {"HTTP/1.1 1010 X\r\n\r\n", 0},
        {"HTTP/1.1 10\r\n\r\n", 0},
        {"HTTP/1.1 502 Bad Gateway\r\n\r\n", 0},
    };
    unsigned i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        wsa_stream_t st;
        apr_size_t k, n = strlen(cases[i].head);
        wsa_stream_init(&st, 1);
        for (k = 0; k < n; k++) { /* byte by byte: split anywhere */
            ck_assert(!wsa_stream_switched(&st));
            wsa_stream_feed(&st, (const unsigned char *)cases[i].head + k, 1, 0);
        }
        ck_assert_msg(wsa_stream_switched(&st) == cases[i].switched, "%s", cases[i].head);
    }
    {
        wsa_stream_t st;
        wsa_stream_init(&st, 0);
        ck_assert(wsa_stream_switched(&st)); /* HTTP/2: no head */
    }
}
END_TEST

START_TEST(test_stop_at_start)
{
    wsa_stream_t st;
    unsigned char f[16];
    apr_size_t n = frame(f, 2, 3, 0);

    wsa_stream_init(&st, 0);
    ck_assert_uint_eq(wsa_stream_feed(&st, f, n, 1), 0); /* boundary where buf starts */
    ck_assert_uint_eq(wsa_stream_feed(&st, f, 1, 0), 1);
    ck_assert_uint_eq(wsa_stream_feed(&st, f + 1, n - 1, 1), n - 1);
    ck_assert(wsa_stream_at_boundary(&st));
}
END_TEST

START_TEST(test_broken_never_boundary)
{
    wsa_stream_t st;
    unsigned char f[10] = {0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 1};
    unsigned char more[4] = {0x81, 0, 0x81, 0};

    wsa_stream_init(&st, 0);
    ck_assert_uint_eq(wsa_stream_feed(&st, f, sizeof(f), 0), sizeof(f));
    ck_assert_int_eq(st.phase, WSA_STREAM_BROKEN);
    ck_assert_uint_eq(wsa_stream_feed(&st, more, sizeof(more), 1), sizeof(more));
    ck_assert(!wsa_stream_at_boundary(&st));
}
END_TEST

START_TEST(test_close_frame)
{
    unsigned char out[WSA_CLOSE_FRAME_MAX];
    char longr[300];
    apr_size_t n = wsa_close_frame(out, WSA_CLOSE_POLICY, "session ended");
    wsa_stream_t st;

    ck_assert_uint_eq(n, 4 + 13);
    ck_assert_uint_eq(out[0], 0x88);
    ck_assert_uint_eq(out[1], 15);
    ck_assert_uint_eq(out[2], 0x03);
    ck_assert_uint_eq(out[3], 0xf0);
    ck_assert(!memcmp(out + 4, "session ended", 13));
    /* it is one whole frame for the tracker too */
    wsa_stream_init(&st, 0);
    wsa_stream_feed(&st, out, n, 0);
    ck_assert(wsa_stream_at_boundary(&st));
    ck_assert_uint_eq(st.frames, 1);

    memset(longr, 'r', sizeof(longr) - 1);
    longr[sizeof(longr) - 1] = '\0';
    n = wsa_close_frame(out, 1000, longr);
    ck_assert_uint_eq(n, WSA_CLOSE_FRAME_MAX);
    ck_assert_uint_le(out[1], 125);
    ck_assert_uint_eq(wsa_close_frame(out, 1008, NULL), 4);
}
END_TEST

typedef struct {
    const char *name;
    int mode;
    apr_time_t end, expiry, want;
} deadline_case_t;

static const deadline_case_t deadline_cases[] = {
    {"off: never", WSA_LIFETIME_OFF, 100, 50, 0},
    {"absolute: the lifetime", WSA_LIFETIME_ABSOLUTE, 100, 50, 100},
    {"absolute ignores the expiry", WSA_LIFETIME_ABSOLUTE, 0, 50, 0},
    {"session: the earlier of both", WSA_LIFETIME_SESSION, 100, 50, 50},
    {"session: lifetime earlier", WSA_LIFETIME_SESSION, 40, 50, 40},
    {"session: expiry alone", WSA_LIFETIME_SESSION, 0, 50, 50},
    {"session: neither", WSA_LIFETIME_SESSION, 0, 0, 0},
};

START_TEST(test_deadline)
{
    const deadline_case_t *c = &deadline_cases[_i];
    ck_assert_msg(wsa_tunnel_deadline(c->mode, c->end, c->expiry) == c->want, "%s", c->name);
}
END_TEST

static Suite *stream_suite(void)
{
    Suite *s = suite_create("wsa_stream");
    TCase *tc = tcase_create("boundaries");

    tcase_add_loop_test(tc, test_boundaries_whole, 0, NELTS(stream_cases));
    tcase_add_loop_test(tc, test_boundaries_bytewise, 0, NELTS(stream_cases));
    tcase_add_loop_test(tc, test_boundaries_every_split, 0, NELTS(stream_cases));
    tcase_add_test(tc, test_stop_at_start);
    tcase_add_test(tc, test_broken_never_boundary);
    suite_add_tcase(s, tc);

    tc = tcase_create("head");
    tcase_add_test(tc, test_head_split_crlf);
    tcase_add_test(tc, test_head_false_ends);
    tcase_add_test(tc, test_head_status);
    suite_add_tcase(s, tc);

    tc = tcase_create("close_frame");
    tcase_add_test(tc, test_close_frame);
    suite_add_tcase(s, tc);

    tc = tcase_create("deadline");
    tcase_add_loop_test(tc, test_deadline, 0, NELTS(deadline_cases));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(stream_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
