/*
 * test_ssg_token.c - Check unit tests for the mod_session_sign token core
 * (mod_session_sign/ssg_token.c), without an httpd.
 *
 * One TCase per topic, numbered so one group runs alone:
 *   CK_RUN_CASE=ssg_50_tamper /tmp/test_ssg_token
 *   ssg_10_base64url  ssg_20_ring  ssg_30_keyfile  ssg_40_sign_verify
 *   ssg_50_tamper     ssg_60_vectors
 * The vectors of ssg_60 are made by the independent Python implementation
 * (tests/tools/make_vectors.py --c, the same as tests/unit/vectors.json), so
 * the C core is held to tokens it did not produce itself.
 *
 * Build and run (from the top of the tree):
 *   gcc -std=c99 -Wall -Wextra -Werror -I mod_session_sign \
 *       $(apr-1-config --cflags --cppflags --includes) \
 *       tests/unit/test_ssg_token.c mod_session_sign/ssg_token.c \
 *       -o /tmp/test_ssg_token $(pkg-config --cflags --libs check) \
 *       $(apr-1-config --link-ld --libs) -lcrypto
 *   /tmp/test_ssg_token
 * Under valgrind, run with CK_FORK=no so the leak check sees every test.
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include <openssl/evp.h>

#include "ssg_token.h"

#define KEY_A "secret A: 0123456789abcdefghijklmnop"
#define KEY_B "secret B: 0123456789abcdefghijklmnop"
#define KEY_C "secret C: 0123456789abcdefghijklmnop"
#define NOW   ((apr_int64_t)1700000000)

static const char b64url_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static apr_pool_t *pool;

static void setup(void)
{
    ck_assert_int_eq(apr_pool_create(&pool, NULL), APR_SUCCESS);
}

static void teardown(void)
{
    apr_pool_destroy(pool);             /* also cleanses and frees the rings' keys */
    pool = NULL;
}

/* ---- helpers ---------------------------------------------------------- */

static const char *st_name(ssg_status_e st)
{
    static const char *names[] = {
        "SSG_OK", "SSG_OK_OLD_KEY", "SSG_ERR_EMPTY", "SSG_ERR_TOO_LONG",
        "SSG_ERR_MALFORMED", "SSG_ERR_VERSION", "SSG_ERR_UNKNOWN_KEY",
        "SSG_ERR_BAD_MAC", "SSG_ERR_FUTURE", "SSG_ERR_EXPIRED",
        "SSG_ERR_NO_KEY"
    };
    if ((int)st < 0 || (size_t)st >= sizeof(names) / sizeof(names[0])) {
        return "?";
    }
    return names[st];
}

#define ck_assert_status(got, want, what)                                   \
    do {                                                                    \
        ssg_status_e got_ = (got), want_ = (want);                          \
        ck_assert_msg(got_ == want_, "%s: got %s, want %s", (what),         \
                      st_name(got_), st_name(want_));                       \
    } while (0)

static int is_b64url_char(int c)
{
    return c != '\0' && strchr(b64url_chars, c) != NULL;
}

static int b64url_value(int c)
{
    return (int)(strchr(b64url_chars, c) - b64url_chars);
}

/* A string of n copies of c, from the pool. */
static char *rep(char c, apr_size_t n)
{
    char *s = apr_palloc(pool, n + 1);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* A ring of the given secrets (NULL-terminated list), each must be accepted. */
static ssg_ring_t *ring_of(const char *first, ...)
{
    ssg_ring_t *ring;
    const char *s, *err;
    va_list ap;

    ck_assert_int_eq(ssg_ring_create(pool, &ring), APR_SUCCESS);
    va_start(ap, first);
    for (s = first; s; s = va_arg(ap, const char *)) {
        err = ssg_ring_add(ring, s, strlen(s));
        ck_assert_msg(err == NULL, "ssg_ring_add refused a good secret: %s", err);
    }
    va_end(ap);
    return ring;
}

static const char *kid_of(const char *secret)
{
    return apr_pstrdup(pool, ssg_ring_kid(ring_of(secret, NULL), 0));
}

/*
 * Verify a copy of exactly len bytes in its own heap block with no NUL after
 * it, so any read past token_len shows up under ASan or valgrind.
 */
static ssg_status_e verify_exact(const ssg_ring_t *ring, const char *context,
                                 apr_int64_t now, apr_int64_t max_lifetime,
                                 const char *tok, apr_size_t len,
                                 ssg_result_t *res)
{
    char *copy = malloc(len ? len : 1);
    ssg_status_e st;

    ck_assert_ptr_nonnull(copy);
    memcpy(copy, tok, len);
    st = ssg_verify(pool, ring, context, now, max_lifetime, SSG_CLOCK_SKEW,
                    copy, len, res);
    free(copy);
    return st;
}

static ssg_status_e verify_str(const ssg_ring_t *ring, const char *context,
                               apr_int64_t now, const char *tok)
{
    return verify_exact(ring, context, now, 0, tok, strlen(tok), NULL);
}

/* Offsets of the four dots of a well-formed token. */
static void find_dots(const char *tok, apr_size_t dots[4])
{
    apr_size_t i, n = 0;

    for (i = 0; tok[i]; i++) {
        if (tok[i] == '.') {
            ck_assert_int_lt(n, 4);
            dots[n++] = i;
        }
    }
    ck_assert_int_eq(n, 4);
}

/* tok with field f (0..4) replaced by text. */
static char *with_field(const char *tok, int f, const char *text)
{
    apr_size_t d[4], start, end;

    find_dots(tok, d);
    start = f == 0 ? 0 : d[f - 1] + 1;
    end = f == 4 ? strlen(tok) : d[f];
    return apr_psprintf(pool, "%.*s%s%s", (int)start, tok, text, tok + end);
}

/* The sample token of the tamper tests. */
static const char *sample_token(const ssg_ring_t *ring)
{
    char *tok = ssg_sign(pool, ring, "app-a", NOW, "user=alice", 10);

    ck_assert_ptr_nonnull(tok);
    ck_assert_status(verify_str(ring, "app-a", NOW, tok), SSG_OK, "sample");
    return tok;
}

/* ---- ssg_10: base64url ------------------------------------------------ */

static long decode_str(unsigned char *out, const char *in)
{
    return ssg_b64url_decode(out, in, strlen(in));
}

START_TEST(test_ssg_10_01_roundtrip_every_length_0_to_70)
{
    unsigned char in[70], out[70 + 4];
    char enc[100];
    apr_size_t len, i;
    int pattern;

    for (pattern = 0; pattern < 3; pattern++) {
        for (len = 0; len <= 70; len++) {
            for (i = 0; i < len; i++) {
                in[i] = pattern == 0 ? (unsigned char)(i * 37 + len * 11 + 5)
                      : pattern == 1 ? 0xff : 0x00;
            }
            ck_assert_uint_eq(ssg_b64url_encoded_len(len), (len * 4 + 2) / 3);
            memset(enc, '#', sizeof(enc));
            ssg_b64url_encode(enc, in, len);
            ck_assert_uint_eq(strlen(enc), ssg_b64url_encoded_len(len));
            for (i = 0; enc[i]; i++) {
                ck_assert_msg(is_b64url_char(enc[i]), "len %u: bad char %c",
                              (unsigned)len, enc[i]);
            }
            memset(out, 0xa5, sizeof(out));
            ck_assert_int_eq(ssg_b64url_decode(out, enc, strlen(enc)), (long)len);
            ck_assert_msg(memcmp(in, out, len) == 0, "len %u differs", (unsigned)len);
        }
    }
}
END_TEST

START_TEST(test_ssg_10_02_rfc4648_vectors_without_padding)
{
    static const struct { const char *raw, *enc; } v[] = {
        { "", "" }, { "f", "Zg" }, { "fo", "Zm8" }, { "foo", "Zm9v" },
        { "foob", "Zm9vYg" }, { "fooba", "Zm9vYmE" }, { "foobar", "Zm9vYmFy" },
        { "\xfb\xff", "-_8" }, { "\xff\xff\xff", "____" }, { "\xfb\xef\xbe", "----" },
    };
    unsigned char out[16];
    char enc[16];
    size_t i;

    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        ssg_b64url_encode(enc, (const unsigned char *)v[i].raw, strlen(v[i].raw));
        ck_assert_str_eq(enc, v[i].enc);
        ck_assert_int_eq(decode_str(out, v[i].enc), (long)strlen(v[i].raw));
        ck_assert_mem_eq(out, v[i].raw, strlen(v[i].raw));
    }
}
END_TEST

START_TEST(test_ssg_10_03_decode_refuses_padding)
{
    static const char *bad[] = { "Zg==", "Zg=", "Zm8=", "=", "==", "====",
                                 "Zm9v====", "Zm9vYg==", "Zm9vYmE=", "Z=g" };
    unsigned char out[16];
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(decode_str(out, bad[i]) == -1, "accepted \"%s\"", bad[i]);
    }
}
END_TEST

START_TEST(test_ssg_10_04_decode_refuses_standard_alphabet_plus_slash)
{
    static const char *bad[] = { "+w", "/w", "Zm+v", "Zm/v", "++++", "////",
                                 "Zm9vYmF+", "Zm9vYmF/", "+_8", "-/8" };
    unsigned char out[16];
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(decode_str(out, bad[i]) == -1, "accepted \"%s\"", bad[i]);
    }
}
END_TEST

START_TEST(test_ssg_10_05_decode_refuses_whitespace_and_other_bytes)
{
    static const char *bad[] = { "Zm9 ", " Zm9", "Zm\t9", "Zm9v\r\n", "Zm9vYg\n",
                                 "Zm\n9v", "Zm.v", "Zm%v", "Zm*v", "Zm\x80v",
                                 "Zm\xffv", "Z\x7fm9" };
    unsigned char out[16];
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(decode_str(out, bad[i]) == -1, "accepted \"%s\"", bad[i]);
    }
    ck_assert_int_eq(ssg_b64url_decode(out, "Zm\0v", 4), -1);   /* NUL inside */
    ck_assert_int_eq(ssg_b64url_decode(out, "Zm9v\0", 5), -1);
}
END_TEST

START_TEST(test_ssg_10_06_decode_refuses_length_4n_plus_1)
{
    static const char *bad[] = { "Z", "A", "Zm9vY", "AAAAA", "Zm9vYmFyZ" };
    unsigned char out[16];
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(decode_str(out, bad[i]) == -1, "accepted \"%s\"", bad[i]);
    }
    ck_assert_int_eq(ssg_b64url_decode(out, "", 0), 0);
}
END_TEST

START_TEST(test_ssg_10_07_decode_refuses_nonzero_trailing_bits)
{
    unsigned char out[8];
    char in[8];
    int i;

    ck_assert_int_eq(decode_str(out, "AA"), 1);
    ck_assert_int_eq(out[0], 0);
    ck_assert_int_eq(decode_str(out, "AB"), -1);
    ck_assert_int_eq(decode_str(out, "AAA"), 2);
    ck_assert_int_eq(decode_str(out, "AAB"), -1);
    ck_assert_int_eq(decode_str(out, "Zh"), -1);          /* "Zg" is "f" */
    ck_assert_int_eq(decode_str(out, "Zm9"), -1);         /* "Zm8" is "fo" */
    /* every last character: only the canonical ones are accepted */
    for (i = 0; i < 64; i++) {
        apr_snprintf(in, sizeof(in), "A%c", b64url_chars[i]);
        ck_assert_msg((decode_str(out, in) == 1) == ((i & 0x0f) == 0),
                      "\"%s\" wrongly %s", in,
                      (i & 0x0f) ? "accepted" : "refused");
        apr_snprintf(in, sizeof(in), "AAA%c", b64url_chars[i]);   /* no tail */
        ck_assert_int_eq(decode_str(out, in), 3);
        apr_snprintf(in, sizeof(in), "AA%c", b64url_chars[i]);
        ck_assert_msg((decode_str(out, in) == 2) == ((i & 0x03) == 0),
                      "\"%s\" wrongly %s", in,
                      (i & 0x03) ? "accepted" : "refused");
    }
}
END_TEST

/* ---- ssg_20: key ring --------------------------------------------------- */

START_TEST(test_ssg_20_01_secret_of_31_bytes_refused_32_accepted)
{
    ssg_ring_t *ring;
    const char *err;

    ssg_ring_create(pool, &ring);
    err = ssg_ring_add(ring, rep('s', 31), 31);
    ck_assert_ptr_nonnull(err);
    ck_assert_ptr_nonnull(strstr(err, "shorter"));
    ck_assert_ptr_null(strstr(err, "sss"));               /* never the secret */
    ck_assert_int_eq(ssg_ring_count(ring), 0);
    ck_assert_ptr_nonnull(ssg_ring_add(ring, "", 0));
    ck_assert_ptr_null(ssg_ring_add(ring, rep('s', 32), 32));
    ck_assert_int_eq(ssg_ring_count(ring), 1);
}
END_TEST

START_TEST(test_ssg_20_02_secret_over_1024_bytes_refused)
{
    ssg_ring_t *ring;
    const char *err;

    ssg_ring_create(pool, &ring);
    err = ssg_ring_add(ring, rep('L', 1025), 1025);
    ck_assert_ptr_nonnull(err);
    ck_assert_ptr_nonnull(strstr(err, "longer"));
    ck_assert_int_eq(ssg_ring_count(ring), 0);
    ck_assert_ptr_null(ssg_ring_add(ring, rep('L', 1024), 1024));
    ck_assert_int_eq(ssg_ring_count(ring), 1);
}
END_TEST

START_TEST(test_ssg_20_03_control_characters_refused)
{
    static const unsigned char ctl[] = { 0x00, 0x01, '\t', '\n', '\r', 0x1b,
                                         0x1f, 0x7f };
    static const apr_size_t at[] = { 0, 17, 39 };
    ssg_ring_t *ring;
    char *s;
    size_t i, j;

    ssg_ring_create(pool, &ring);
    for (i = 0; i < sizeof(ctl); i++) {
        for (j = 0; j < sizeof(at) / sizeof(at[0]); j++) {
            const char *err;
            s = rep('c', 40);
            s[at[j]] = (char)ctl[i];
            err = ssg_ring_add(ring, s, 40);
            ck_assert_msg(err != NULL, "accepted 0x%02x at %u", ctl[i],
                          (unsigned)at[j]);
            ck_assert_ptr_nonnull(strstr(err, "control"));
        }
    }
    ck_assert_int_eq(ssg_ring_count(ring), 0);
    /* a blank inside is an ordinary secret byte (inline secrets); bytes
     * above 0x7f are not (issue 13: a UTF-8 BOM or character) */
    ck_assert_ptr_null(ssg_ring_add(ring, "with a blank inside, 32+ bytes ...",
                                    strlen("with a blank inside, 32+ bytes ...")));
    ck_assert_ptr_nonnull(strstr(ssg_ring_add(ring, rep('\xe9', 32), 32), "ASCII"));
    ck_assert_ptr_nonnull(ssg_ring_add(ring, "\xef\xbb\xbf" "0123456789abcdef0123456789abcdef", 35));
    ck_assert_int_eq(ssg_ring_count(ring), 1);
}
END_TEST

START_TEST(test_ssg_20_04_duplicate_secret_refused)
{
    ssg_ring_t *ring = ring_of(KEY_A, KEY_B, NULL);
    const char *err = ssg_ring_add(ring, KEY_A, strlen(KEY_A));

    ck_assert_ptr_nonnull(err);
    ck_assert_ptr_nonnull(strstr(err, "twice"));
    ck_assert_int_eq(ssg_ring_count(ring), 2);
}
END_TEST

START_TEST(test_ssg_20_05_seventeenth_key_refused)
{
    ssg_ring_t *ring;
    const char *err;
    int i;

    ssg_ring_create(pool, &ring);
    for (i = 0; i < SSG_MAX_KEYS; i++) {
        const char *s = apr_psprintf(pool, "key number %02d of sixteen, padded...", i);
        ck_assert_ptr_null(ssg_ring_add(ring, s, strlen(s)));
    }
    ck_assert_int_eq(ssg_ring_count(ring), 16);
    err = ssg_ring_add(ring, KEY_A, strlen(KEY_A));
    ck_assert_ptr_nonnull(err);
    ck_assert_ptr_nonnull(strstr(err, "16"));
    ck_assert_int_eq(ssg_ring_count(ring), 16);
}
END_TEST

START_TEST(test_ssg_20_06_kid_deterministic_8_chars_matches_reference)
{
    ssg_ring_t *r1 = ring_of(KEY_A, KEY_B, NULL);
    ssg_ring_t *r2 = ring_of(KEY_B, KEY_A, NULL);
    const char *k;
    int i;

    k = ssg_ring_kid(r1, 0);
    ck_assert_ptr_nonnull(k);
    ck_assert_uint_eq(strlen(k), SSG_KID_LEN);
    for (i = 0; i < SSG_KID_LEN; i++) {
        ck_assert(is_b64url_char(k[i]));
    }
    ck_assert_str_eq(ssg_ring_kid(r1, 0), ssg_ring_kid(r2, 1));
    ck_assert_str_eq(ssg_ring_kid(r1, 1), ssg_ring_kid(r2, 0));
    ck_assert_str_ne(ssg_ring_kid(r1, 0), ssg_ring_kid(r1, 1));
    /* from tests/tools/ssg_ref.py kid --key kkkk... (32 x 'k') */
    ck_assert_str_eq(kid_of(rep('k', 32)), "AWZDqd_H");
    /* out of range */
    ck_assert_ptr_null(ssg_ring_kid(r1, 2));
    ck_assert_ptr_null(ssg_ring_kid(r1, -1));
    ck_assert_ptr_null(ssg_ring_kid(NULL, 0));
    ck_assert_int_eq(ssg_ring_count(NULL), 0);
}
END_TEST

/* The MAC is HMAC-SHA256 as OpenSSL's own HMAC computes it, for secrets
 * on both sides of SHA-256's 64-byte block (longer keys are hashed first):
 * the MAC input is rebuilt here from docs/token-format.md. */
START_TEST(test_ssg_20_09_mac_is_hmac_sha256_at_every_key_length_boundary)
{
    static const apr_size_t lens[] = {32, 63, 64, 65, 127, 128, 129, 1024};
    static const char payload[] = "user=alice&role=admin";
    static const char context[] = "ctx";
    apr_size_t li;

    for (li = 0; li < sizeof(lens) / sizeof(lens[0]); li++) {
        char *secret = apr_palloc(pool, lens[li] + 1);
        unsigned char msg[256], want[32], got[40];
        size_t outl = 0;
        apr_size_t i, n = 0, plen = strlen(payload), clen = strlen(context);
        ssg_ring_t *ring;
        const char *tok, *mac;
        char iat[32];

        for (i = 0; i < lens[li]; i++) {
            secret[i] = (char)(0x21 + (i * 7 + li) % 94); /* printable, no blanks */
        }
        secret[lens[li]] = '\0';
        ring = ring_of(secret, NULL);
        tok = ssg_sign(pool, ring, context, NOW, payload, plen);
        ck_assert_msg(tok != NULL, "secret of %lu bytes", (unsigned long)lens[li]);

        memcpy(msg + n, SSG_LABEL "\0" SSG_VERSION "\0", sizeof(SSG_LABEL SSG_VERSION) + 1);
        n += sizeof(SSG_LABEL SSG_VERSION) + 1;
        memcpy(msg + n, ssg_ring_kid(ring, 0), SSG_KID_LEN);
        n += SSG_KID_LEN;
        msg[n++] = 0;
        apr_snprintf(iat, sizeof(iat), "%" APR_INT64_T_FMT, NOW);
        memcpy(msg + n, iat, strlen(iat));
        n += strlen(iat);
        msg[n++] = 0;
        msg[n++] = 0;
        msg[n++] = 0;
        msg[n++] = 0;
        msg[n++] = (unsigned char)clen;
        memcpy(msg + n, context, clen);
        n += clen;
        memcpy(msg + n, payload, plen);
        n += plen;
        ck_assert_ptr_nonnull(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, secret, lens[li],
                                        msg, n, want, sizeof(want), &outl));
        ck_assert_uint_eq(outl, 32);

        mac = strrchr(tok, '.');
        ck_assert_ptr_nonnull(mac);
        ck_assert_int_eq(ssg_b64url_decode(got, mac + 1, strlen(mac + 1)), 32);
        ck_assert_msg(memcmp(got, want, 32) == 0, "MAC differs for a secret of %lu bytes",
                      (unsigned long)lens[li]);
    }
}
END_TEST

START_TEST(test_ssg_20_07_status_strings_fixed_and_distinct)
{
    int i, j;

    for (i = SSG_OK; i <= SSG_ERR_NO_KEY; i++) {
        const char *s = ssg_status_str((ssg_status_e)i);
        ck_assert_ptr_nonnull(s);
        ck_assert_uint_gt(strlen(s), 0);
        for (j = SSG_OK; j < i; j++) {
            ck_assert_str_ne(s, ssg_status_str((ssg_status_e)j));
        }
    }
    ck_assert_str_eq(ssg_status_str(SSG_ERR_BAD_MAC), "bad signature");
    ck_assert(ssg_status_ok(SSG_OK));
    ck_assert(ssg_status_ok(SSG_OK_OLD_KEY));
    ck_assert(!ssg_status_ok(SSG_ERR_EXPIRED));
}
END_TEST

START_TEST(test_ssg_20_08_random_fills_distinct_buffers)
{
    unsigned char a[32], b[32];

    memset(a, 0, sizeof(a));
    memset(b, 0, sizeof(b));
    ck_assert_int_eq(ssg_random(a, sizeof(a)), 0);
    ck_assert_int_eq(ssg_random(b, sizeof(b)), 0);
    ck_assert(memcmp(a, b, sizeof(a)) != 0);
}
END_TEST

/* ---- ssg_30: key files -------------------------------------------------- */

/* key file lines hold no blank: the file's own secrets */
#define KF_A "secret-A-0123456789abcdefghijklmnop"
#define KF_B "secret-B-0123456789abcdefghijklmnop"
#define KF_C "secret-C-0123456789abcdefghijklmnop"

static const char *parse(ssg_ring_t **ring, const char *text, apr_size_t len)
{
    ssg_ring_create(pool, ring);
    return ssg_ring_parse_keyfile(pool, *ring, text, len);
}

START_TEST(test_ssg_30_01_comments_and_blank_lines_skipped)
{
    const char *text = "# current key first\n\n" KF_A "\n"
                       "   # an indented comment\n\t\n\n" KF_B "\n# end\n";
    ssg_ring_t *ring;

    ck_assert_ptr_null(parse(&ring, text, strlen(text)));
    ck_assert_int_eq(ssg_ring_count(ring), 2);
    ck_assert_str_eq(ssg_ring_kid(ring, 0), kid_of(KF_A));
    ck_assert_str_eq(ssg_ring_kid(ring, 1), kid_of(KF_B));
}
END_TEST

START_TEST(test_ssg_30_02_crlf_line_ends)
{
    const char *text = "# keys\r\n" KF_A "\r\n\r\n" KF_B "\r\n";
    ssg_ring_t *ring;

    ck_assert_ptr_null(parse(&ring, text, strlen(text)));
    ck_assert_int_eq(ssg_ring_count(ring), 2);
    ck_assert_str_eq(ssg_ring_kid(ring, 0), kid_of(KF_A));
    ck_assert_str_eq(ssg_ring_kid(ring, 1), kid_of(KF_B));
}
END_TEST

START_TEST(test_ssg_30_03_leading_and_trailing_blanks_trimmed)
{
    const char *text = "  \t" KF_A " \t \n\t" KF_B "   \r\n    " KF_C;
    ssg_ring_t *ring;

    ck_assert_ptr_null(parse(&ring, text, strlen(text)));
    ck_assert_int_eq(ssg_ring_count(ring), 3);
    ck_assert_str_eq(ssg_ring_kid(ring, 0), kid_of(KF_A));
    ck_assert_str_eq(ssg_ring_kid(ring, 1), kid_of(KF_B));
    ck_assert_str_eq(ssg_ring_kid(ring, 2), kid_of(KF_C));   /* no final \n */
}
END_TEST

START_TEST(test_ssg_30_04_empty_or_comment_only_file_refused)
{
    static const char *texts[] = { "", "\n", "\n\n  \n\t\r\n",
                                   "# only\n# comments\n", "#" KF_A "\n" };
    ssg_ring_t *ring;
    size_t i;

    for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        const char *err = parse(&ring, texts[i], strlen(texts[i]));
        ck_assert_msg(err != NULL, "accepted file %u", (unsigned)i);
        ck_assert_ptr_nonnull(strstr(err, "no secret"));
        ck_assert_int_eq(ssg_ring_count(ring), 0);
    }
}
END_TEST

START_TEST(test_ssg_30_05_short_secret_on_line_3_named)
{
    const char *text = "# keys\n" KF_A "\ntoo-short-secret\n" KF_B "\n";
    ssg_ring_t *ring;
    const char *err = parse(&ring, text, strlen(text));

    ck_assert_ptr_nonnull(err);
    ck_assert_msg(strstr(err, "line 3") != NULL, "message: %s", err);
    ck_assert_ptr_nonnull(strstr(err, "shorter than 32 bytes"));
    ck_assert_ptr_null(strstr(err, "too-short"));         /* never the secret */
}
END_TEST

START_TEST(test_ssg_30_06_other_bad_lines_named)
{
    const char *dup = KF_A "\n\n" KF_A "\n";
    const char *ctl = "#\n#\n#\nsecret-with-a\x01-control-inside-it-long-enough\n";
    const char *crlf_ok = "# a\r\n" KF_A "\r\n";
    ssg_ring_t *ring;
    const char *err;
    char *many = "";
    int i;

    err = parse(&ring, dup, strlen(dup));
    ck_assert_msg(err && strstr(err, "line 3") && strstr(err, "twice"), "%s", err);
    err = parse(&ring, ctl, strlen(ctl));
    ck_assert_msg(err && strstr(err, "line 4") && strstr(err, "control"), "%s", err);
    for (i = 0; i < 17; i++) {
        many = apr_psprintf(pool, "%skey-number-%02d-of-the-file-long-enough\n",
                            many, i);
    }
    err = parse(&ring, many, strlen(many));
    ck_assert_msg(err && strstr(err, "line 17"), "%s", err);
    ck_assert_int_eq(ssg_ring_count(ring), 16);
    /* a CR inside a line (not at its end) is a control character */
    err = parse(&ring, "x\ry-abcdefghijklmnopqrstuvwxyz-0123456789",
                strlen("x\ry-abcdefghijklmnopqrstuvwxyz-0123456789"));
    ck_assert_msg(err && strstr(err, "line 1"), "%s", err);
    ck_assert_ptr_null(parse(&ring, crlf_ok, strlen(crlf_ok)));
}
END_TEST

/* Issue 13.1: a key file's lines are what `session-sign genkey` writes or
 * a documented secret; anything else is refused with its line named and
 * none of its bytes. KF_A is a valid secret. */
static const struct {
    const char *name;
    const char *text;
    apr_size_t len; /* 0: strlen */
    int line;       /* the refused line, 0: accepted */
    const char *why;
    int keys;       /* keys read when accepted */
} keyfile_cases[] = {
    /* the finding: a BOM before the first comment made that comment a key */
    {"bom-then-comment", "\xef\xbb\xbf# /etc/apache2/session-sign.keys\r\n" KF_A "\r\n", 0, 1,
     "byte-order mark", 0},
    {"bom-then-key", "\xef\xbb\xbf" KF_A "\n", 0, 1, "byte-order mark", 0},
    {"bom-after-blanks", "  \xef\xbb\xbf# c\n" KF_A "\n", 0, 1, "byte-order mark", 0},
    {"bom-on-line-3", "# a\n" KF_A "\n\xef\xbb\xbf# b\n", 0, 3, "byte-order mark", 0},
    {"utf8-secret", "cl\xc3\xa9-secr\xc3\xa8te-0123456789abcdefghijklmnop\n", 0, 1, "ASCII", 0},
    {"latin1-byte", KF_A "\xe9\n", 0, 1, "ASCII", 0},
    {"nul-byte", "fuzz-key\0-0123456789abcdefghijklmnopq\n", 39, 1, "control", 0},
    {"escape-in-secret", "fuzz-key\x1b-0123456789abcdefghijklmnopq\n", 0, 1, "control", 0},
    {"control-in-comment", "# bad \x1b[31m\n" KF_A "\n", 0, 1, "control", 0},
    {"lone-cr-inside", "x\ry-abcdefghijklmnopqrstuvwxyz-0123456789\n", 0, 1, "control", 0},
    {"cr-then-blank", KF_A "\r \n", 0, 1, "control", 0},
    {"pem-block", "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIB\n"
                  "-----END PRIVATE KEY-----\n", 0, 1, "PEM", 0},
    {"pem-without-blank", "-----BEGIN-KEY-----abcdefghijklmnopqrstuvwxyz\n", 0, 1, "PEM", 0},
    {"assignment", "SESSION_SIGN_KEY=" KF_A "\n", 0, 1, "NAME=value", 0},
    {"export-assignment", "export KEY=" KF_A "\n", 0, 1, "blank", 0},
    {"quoted-double", "\"" KF_A "\"\n", 0, 1, "quoted", 0},
    {"quoted-single", "'" KF_A "'\n", 0, 1, "quoted", 0},
    {"hash-inside", KF_A "#note\n", 0, 1, "'#'", 0},
    {"comment-after-secret", KF_A " # current\n", 0, 1, "blank", 0},
    {"blank-inside", "two words that together are long enough\n", 0, 1, "blank", 0},
    {"tab-inside", "two\twords-that-together-are-long-enough\n", 0, 1, "control", 0},
    /* read as documented */
    {"genkey-line", "Zq3c7nFQ0cO2yqv0mN4kzM9rJ3s1uY8eW5tA6bC2dE0\n", 0, 0, NULL, 1},
    {"trailing-space", KF_A "   \n", 0, 0, NULL, 1},
    {"trailing-tab-crlf", KF_A "\t\r\n", 0, 0, NULL, 1},
    {"indented", "\t  " KF_A "\n", 0, 0, NULL, 1},
    {"utf8-comment", "# cl\xc3\xa9 de production\n" KF_A "\n", 0, 0, NULL, 1},
    {"base64-padded", "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=\n", 0, 0, NULL, 1},
    {"base64-double-padding", "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWe==\n", 0, 0, NULL, 1},
    {"hex", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n", 0, 0, NULL, 1},
    {"equals-not-assignment", "1abc=def-0123456789abcdefghijklmnopqrstuv\n", 0, 0, NULL, 1},
    {"no-final-newline", KF_A, 0, 0, NULL, 1},
};

START_TEST(test_ssg_30_07_key_file_lines_table)
{
    const char *text = keyfile_cases[_i].text;
    apr_size_t len = keyfile_cases[_i].len ? keyfile_cases[_i].len : strlen(text);
    ssg_ring_t *ring;
    const char *err = parse(&ring, text, len);
    const char *c;

    if (!keyfile_cases[_i].line) {
        ck_assert_msg(err == NULL, "%s: refused: %s", keyfile_cases[_i].name, err);
        ck_assert_int_eq(ssg_ring_count(ring), keyfile_cases[_i].keys);
        return;
    }
    ck_assert_msg(err != NULL, "%s: accepted", keyfile_cases[_i].name);
    ck_assert_msg(strncmp(err, apr_psprintf(pool, "line %d: ", keyfile_cases[_i].line),
                          strlen(apr_psprintf(pool, "line %d: ", keyfile_cases[_i].line))) == 0,
                  "%s: %s", keyfile_cases[_i].name, err);
    ck_assert_msg(strstr(err, keyfile_cases[_i].why) != NULL, "%s: %s", keyfile_cases[_i].name,
                  err);
    ck_assert_msg(strstr(err, "secret-A") == NULL && strstr(err, "etc/apache2") == NULL,
                  "%s: bytes of the file in the message: %s", keyfile_cases[_i].name, err);
    for (c = err; *c; c++) {
        ck_assert_msg(*c >= 0x20 && *c < 0x7f, "%s: unprintable byte", keyfile_cases[_i].name);
    }
}
END_TEST

/* The finding's exploit: the BOM+comment line as a secret must not verify
 * anything, since the file is refused outright. ssg_keyfile_line_check
 * alone: a comment line passes, the same line behind a BOM does not. */
START_TEST(test_ssg_30_08_bom_comment_is_never_a_secret)
{
    const char *cmt = "# /etc/apache2/session-sign.keys";
    char bom[64];

    ck_assert_ptr_null(ssg_keyfile_line_check(cmt, strlen(cmt)));
    memcpy(bom, "\xef\xbb\xbf", 3);
    memcpy(bom + 3, cmt, strlen(cmt));
    ck_assert_ptr_nonnull(ssg_keyfile_line_check(bom, strlen(cmt) + 3));
    /* and as an inline secret (SessionSignKey, --key): non-ASCII refused */
    {
        ssg_ring_t *ring;
        ssg_ring_create(pool, &ring);
        ck_assert_ptr_nonnull(ssg_ring_add(ring, bom, strlen(cmt) + 3));
        ck_assert_int_eq(ssg_ring_count(ring), 0);
    }
}
END_TEST

/* ---- ssg_40: sign and verify ------------------------------------------- */

START_TEST(test_ssg_40_01_roundtrip_fills_result)
{
    ssg_ring_t *ring = ring_of(KEY_A, NULL);
    ssg_result_t res;
    char *tok = ssg_sign(pool, ring, "app-a", NOW, "user=alice", 10);

    ck_assert_ptr_nonnull(tok);
    ck_assert(strncmp(tok, "v1.", 3) == 0);
    memset(&res, 0x5a, sizeof(res));
    ck_assert_status(verify_exact(ring, "app-a", NOW + 5, 0, tok, strlen(tok), &res),
                     SSG_OK, "round trip");
    ck_assert_uint_eq(res.payload_len, 10);
    ck_assert_str_eq(res.payload, "user=alice");           /* NUL-terminated */
    ck_assert(res.iat == NOW);
    ck_assert_int_eq(res.key_index, 0);
    ck_assert_str_eq(res.kid, ssg_ring_kid(ring, 0));
    /* res may be NULL */
    ck_assert_status(ssg_verify(pool, ring, "app-a", NOW, 0, 60, tok, strlen(tok),
                                NULL), SSG_OK, "res NULL");
}
END_TEST

START_TEST(test_ssg_40_02_old_key_verifies_with_its_index)
{
    ssg_ring_t *old = ring_of(KEY_A, NULL);
    ssg_ring_t *rotated = ring_of(KEY_B, KEY_C, KEY_A, NULL);
    ssg_ring_t *same = ring_of(KEY_A, KEY_B, NULL);
    ssg_result_t res;
    char *tok = ssg_sign(pool, old, "", NOW, "user=bob", 8);

    ck_assert_status(verify_exact(rotated, "", NOW, 0, tok, strlen(tok), &res),
                     SSG_OK_OLD_KEY, "old key");
    ck_assert_int_eq(res.key_index, 2);
    ck_assert_str_eq(res.payload, "user=bob");
    ck_assert_status(verify_exact(same, "", NOW, 0, tok, strlen(tok), &res),
                     SSG_OK, "current key");
    ck_assert_int_eq(res.key_index, 0);
    /* the new ring signs with its first key */
    tok = ssg_sign(pool, rotated, "", NOW, "user=bob", 8);
    ck_assert_status(verify_str(old, "", NOW, tok), SSG_ERR_UNKNOWN_KEY, "new key");
}
END_TEST

START_TEST(test_ssg_40_03_removed_key_unknown)
{
    ssg_ring_t *a = ring_of(KEY_A, NULL);
    ssg_ring_t *b = ring_of(KEY_B, KEY_C, NULL);
    char *tok = ssg_sign(pool, a, "default", NOW, "x=1", 3);

    ck_assert_status(verify_str(b, "default", NOW, tok), SSG_ERR_UNKNOWN_KEY,
                     "removed key");
}
END_TEST

START_TEST(test_ssg_40_04_wrong_key_under_a_known_kid_bad_mac)
{
    ssg_ring_t *a = ring_of(KEY_A, NULL);
    ssg_ring_t *b = ring_of(KEY_B, NULL);
    ssg_ring_t *ab = ring_of(KEY_A, KEY_B, NULL);
    char *tok = ssg_sign(pool, b, "default", NOW, "user=mallory", 12);
    char *forged = with_field(tok, 1, ssg_ring_kid(a, 0));

    ck_assert_status(verify_str(a, "default", NOW, forged), SSG_ERR_BAD_MAC,
                     "B's mac under A's kid");
    ck_assert_status(verify_str(ab, "default", NOW, forged), SSG_ERR_BAD_MAC,
                     "B's mac under A's kid, ring A,B");
    ck_assert_status(verify_str(ab, "default", NOW, tok), SSG_OK_OLD_KEY, "honest");
}
END_TEST

START_TEST(test_ssg_40_05_context_mismatch_bad_mac)
{
    ssg_ring_t *ring = ring_of(KEY_A, NULL);
    char *tok = ssg_sign(pool, ring, "app-a", NOW, "user=alice", 10);
    char *t2;

    ck_assert_status(verify_str(ring, "app-b", NOW, tok), SSG_ERR_BAD_MAC, "app-b");
    ck_assert_status(verify_str(ring, "", NOW, tok), SSG_ERR_BAD_MAC, "empty");
    ck_assert_status(verify_str(ring, "app-a ", NOW, tok), SSG_ERR_BAD_MAC, "blank");
    ck_assert_status(verify_str(ring, NULL, NOW, tok), SSG_ERR_BAD_MAC, "NULL");
    /* NULL context is the empty context */
    tok = ssg_sign(pool, ring, NULL, NOW, "user=alice", 10);
    ck_assert_status(verify_str(ring, "", NOW, tok), SSG_OK, "NULL signs as \"\"");
    /* the length prefix keeps context and payload apart:
     * (context "a", payload "bc") must not verify as (context "ab", payload "c") */
    tok = ssg_sign(pool, ring, "a", NOW, "bc", 2);
    t2 = with_field(tok, 3, "Yw");                          /* "c" */
    ck_assert_status(verify_str(ring, "ab", NOW, t2), SSG_ERR_BAD_MAC, "shifted");
    ck_assert_status(verify_str(ring, "a", NOW, tok), SSG_OK, "unshifted");
}
END_TEST

START_TEST(test_ssg_40_06_context_length_limit)
{
    ssg_ring_t *ring = ring_of(KEY_A, NULL);
    char *c255 = rep('c', SSG_MAX_CONTEXT_LEN);
    char *c256 = rep('c', SSG_MAX_CONTEXT_LEN + 1);
    char *tok = ssg_sign(pool, ring, c255, NOW, "p", 1);

    ck_assert_ptr_nonnull(tok);
    ck_assert_status(verify_str(ring, c255, NOW, tok), SSG_OK, "255");
    ck_assert_ptr_null(ssg_sign(pool, ring, c256, NOW, "p", 1));
    ck_assert_status(verify_str(ring, c256, NOW, tok), SSG_ERR_BAD_MAC, "256");
}
END_TEST

START_TEST(test_ssg_40_07_future_within_skew_ok_beyond_refused)
{
    ssg_ring_t *ring = ring_of(KEY_A, NULL);
    char *at_skew = ssg_sign(pool, ring, "", NOW + SSG_CLOCK_SKEW, "p=1", 3);
    char *beyond = ssg_sign(pool, ring, "", NOW + SSG_CLOCK_SKEW + 1, "p=1", 3);

    ck_assert_status(verify_str(ring, "", NOW, at_skew), SSG_OK, "iat = now + skew");
    ck_assert_status(verify_str(ring, "", NOW, beyond), SSG_ERR_FUTURE,
                     "iat = now + skew + 1");
    ck_assert_status(ssg_verify(pool, ring, "", NOW, 0, 0, at_skew, strlen(at_skew),
                                NULL), SSG_ERR_FUTURE, "skew 0");
    /* the signature is checked before the time */
    ck_assert_status(verify_str(ring, "x", NOW, beyond), SSG_ERR_BAD_MAC,
                     "future and other context");
}
END_TEST

START_TEST(test_ssg_40_08_lifetime_equal_ok_exceeded_expired)
{
    ssg_ring_t *ring = ring_of(KEY_A, NULL);
    char *tok = ssg_sign(pool, ring, "", NOW, "p=1", 3);
    apr_size_t n = strlen(tok);

    ck_assert_status(verify_exact(ring, "", NOW + 3600, 3600, tok, n, NULL), SSG_OK,
                     "age = lifetime");
    ck_assert_status(verify_exact(ring, "", NOW + 3601, 3600, tok, n, NULL),
                     SSG_ERR_EXPIRED, "age = lifetime + 1");
    ck_assert_status(verify_exact(ring, "", NOW + 999999999, 0, tok, n, NULL),
                     SSG_OK, "lifetime 0 is none");
    ck_assert_status(verify_exact(ring, "y", NOW + 3601, 3600, tok, n, NULL),
                     SSG_ERR_BAD_MAC, "expired and other context");
}
END_TEST

START_TEST(test_ssg_40_09_payload_with_nul_signed_but_refused)
{
    ssg_ring_t *ring = ring_of(KEY_A, NULL);
    /* minted by the independent reference (tests/tools/ssg_ref.py), which
     * signs any bytes: the C core refuses to sign them, and to accept them */
    const char *tok = "v1.ewNlB-30.1700000000.YQBi.QrsdLo4DdcfT787WSx8MQ5feaxIN-k34Uik867mufak";
    const char *only_nul = "v1.ewNlB-30.1700000000.AA.NCAAR_Og-oaR46em0XRAjvtJfg3ykOe2G9RWpnbC6FM";

    ck_assert_ptr_null(ssg_sign(pool, ring, "", NOW, "a\0b", 3));
    ck_assert_ptr_null(ssg_sign(pool, ring, "", NOW, "\0", 1));
    ck_assert_status(verify_str(ring, "", NOW, tok), SSG_ERR_MALFORMED, "a NUL b");
    ck_assert_status(verify_str(ring, "", NOW, only_nul), SSG_ERR_MALFORMED, "NUL");
}
END_TEST

START_TEST(test_ssg_40_10_iat_digits_and_leading_zero)
{
    ssg_ring_t *ring = ring_of(KEY_A, NULL);
    char *tok = ssg_sign(pool, ring, "", NOW, "p=1", 3);
    char *max = ssg_sign(pool, ring, "", 999999999999LL, "p=1", 3);
    char *one = ssg_sign(pool, ring, "", 1, "p=1", 3);

    ck_assert_status(verify_str(ring, "", NOW, with_field(tok, 2, "01700000000")),
                     SSG_ERR_MALFORMED, "leading zero");
    ck_assert_status(verify_str(ring, "", NOW, with_field(tok, 2, "0")),
                     SSG_ERR_MALFORMED, "zero");
    ck_assert_status(verify_str(ring, "", NOW, with_field(tok, 2, "")),
                     SSG_ERR_MALFORMED, "empty");
    ck_assert_status(verify_str(ring, "", NOW, with_field(tok, 2, "1000000000000")),
                     SSG_ERR_MALFORMED, "13 digits");
    ck_assert_status(verify_str(ring, "", NOW, with_field(tok, 2, "-1700000000")),
                     SSG_ERR_MALFORMED, "sign");
    ck_assert_status(verify_str(ring, "", NOW, with_field(tok, 2, "+1700000000")),
                     SSG_ERR_MALFORMED, "plus");
    ck_assert_status(verify_str(ring, "", NOW, with_field(tok, 2, " 1700000000")),
                     SSG_ERR_MALFORMED, "blank");
    ck_assert_status(verify_str(ring, "", NOW, with_field(tok, 2, "1700000001")),
                     SSG_ERR_BAD_MAC, "other iat");
    ck_assert_ptr_nonnull(max);
    ck_assert_status(verify_str(ring, "", 999999999999LL, max), SSG_OK, "12 digits");
    ck_assert_ptr_nonnull(one);
    ck_assert_status(verify_str(ring, "", NOW, one), SSG_OK, "iat 1");
    ck_assert_ptr_null(ssg_sign(pool, ring, "", 1000000000000LL, "p=1", 3));
    ck_assert_ptr_null(ssg_sign(pool, ring, "", 0, "p=1", 3));
    ck_assert_ptr_null(ssg_sign(pool, ring, "", -1, "p=1", 3));
}
END_TEST

START_TEST(test_ssg_40_11_sign_and_verify_preconditions)
{
    ssg_ring_t *empty, *ring = ring_of(KEY_A, NULL);
    char *tok = ssg_sign(pool, ring, "", NOW, "p=1", 3);

    ssg_ring_create(pool, &empty);
    ck_assert_ptr_null(ssg_sign(pool, empty, "", NOW, "p=1", 3));
    ck_assert_ptr_null(ssg_sign(pool, NULL, "", NOW, "p=1", 3));
    ck_assert_ptr_null(ssg_sign(pool, ring, "", NOW, "", 0));
    ck_assert_ptr_null(ssg_sign(pool, ring, "", NOW, NULL, 3));
    ck_assert_status(verify_str(empty, "", NOW, tok), SSG_ERR_NO_KEY, "empty ring");
    ck_assert_status(ssg_verify(pool, NULL, "", NOW, 0, 60, tok, strlen(tok), NULL),
                     SSG_ERR_NO_KEY, "NULL ring");
    ck_assert_status(ssg_verify(pool, ring, "", NOW, 0, 60, NULL, 5, NULL),
                     SSG_ERR_EMPTY, "NULL token");
    ck_assert_status(ssg_verify(pool, ring, "", NOW, 0, 60, tok, 0, NULL),
                     SSG_ERR_EMPTY, "length 0");
}
END_TEST

START_TEST(test_ssg_40_12_token_of_exactly_max_length_verifies)
{
    /* 57 + 11 iat digits + 16316 payload characters (12237 bytes) = 16384 */
    ssg_ring_t *ring = ring_of(KEY_A, NULL);
    apr_int64_t iat = 17000000000LL;
    char *payload = rep('x', 12237);
    char *tok = ssg_sign(pool, ring, "", iat, payload, 12237);
    ssg_result_t res;

    ck_assert_ptr_nonnull(tok);
    ck_assert_uint_eq(strlen(tok), SSG_MAX_TOKEN_LEN);
    ck_assert_status(verify_exact(ring, "", iat, 0, tok, strlen(tok), &res), SSG_OK,
                     "16384 bytes");
    ck_assert_uint_eq(res.payload_len, 12237);
}
END_TEST

/*
 * Every token ssg_sign returns must be one ssg_verify can accept: ssg_sign
 * bounds the whole token by SSG_MAX_TOKEN_LEN, not just the payload.
 */
START_TEST(test_ssg_90_01_sign_never_returns_a_token_verify_refuses)
{
    ssg_ring_t *ring = ring_of(KEY_A, NULL);
    apr_int64_t iat = 17000000000LL;
    apr_size_t len;

    for (len = 12237; len <= 12300; len += 1) {
        char *tok = ssg_sign(pool, ring, "", iat, rep('x', len), len);
        if (tok) {
            ck_assert_status(verify_str(ring, "", iat, tok), SSG_OK,
                             apr_psprintf(pool, "payload of %u bytes, token of %u",
                                          (unsigned)len, (unsigned)strlen(tok)));
        }
    }
}
END_TEST

/* ---- ssg_50: tampering -------------------------------------------------- */

/*
 * What verify must say about tok with byte pos changed to c, from the format
 * alone: a new or lost dot changes the field count; otherwise it depends on
 * the field and on whether c is still a valid character there.
 */
static ssg_status_e expect_changed(const char *tok, apr_size_t pos, char c)
{
    apr_size_t d[4], start, end;
    int f = 0;

    find_dots(tok, d);
    if (tok[pos] == '.' || c == '.') {
        return SSG_ERR_MALFORMED;
    }
    while (f < 4 && pos > d[f]) {
        f++;
    }
    start = f == 0 ? 0 : d[f - 1] + 1;
    end = f == 4 ? strlen(tok) : d[f];
    switch (f) {
    case 0:
        return SSG_ERR_VERSION;
    case 1:
        return is_b64url_char(c) ? SSG_ERR_UNKNOWN_KEY : SSG_ERR_MALFORMED;
    case 2:
        if (c < '0' || c > '9' || (pos == start && c == '0')) {
            return SSG_ERR_MALFORMED;
        }
        return SSG_ERR_BAD_MAC;
    default:
        if (!is_b64url_char(c)) {
            return SSG_ERR_MALFORMED;
        }
        if (pos == end - 1) {                       /* unused low bits */
            int v = b64url_value(c);
            if (((end - start) % 4 == 2 && (v & 0x0f))
                || ((end - start) % 4 == 3 && (v & 0x03))) {
                return SSG_ERR_MALFORMED;
            }
        }
        return SSG_ERR_BAD_MAC;
    }
}

START_TEST(test_ssg_50_01_every_bit_flip_at_every_position_refused)
{
    ssg_ring_t *ring = ring_of(KEY_A, NULL);
    const char *tok = sample_token(ring);
    apr_size_t len = strlen(tok), pos;
    char *t = apr_pstrdup(pool, tok);
    int bit, seen[SSG_ERR_NO_KEY + 1] = { 0 };

    for (pos = 0; pos < len; pos++) {
        for (bit = 0; bit < 8; bit++) {
            ssg_status_e want, got;
            t[pos] = (char)(tok[pos] ^ (1 << bit));
            want = expect_changed(tok, pos, t[pos]);
            got = verify_exact(ring, "app-a", NOW, 0, t, len, NULL);
            ck_assert_msg(got == want, "byte %u bit %d (%c -> 0x%02x): got %s, want %s",
                          (unsigned)pos, bit, tok[pos], (unsigned char)t[pos],
                          st_name(got), st_name(want));
            seen[got]++;
        }
        t[pos] = tok[pos];
    }
    /* the table really reached each kind of refusal */
    ck_assert_int_gt(seen[SSG_ERR_VERSION], 0);
    ck_assert_int_gt(seen[SSG_ERR_UNKNOWN_KEY], 0);
    ck_assert_int_gt(seen[SSG_ERR_BAD_MAC], 0);
    ck_assert_int_gt(seen[SSG_ERR_MALFORMED], 0);
    ck_assert_int_eq(seen[SSG_OK] + seen[SSG_OK_OLD_KEY], 0);
}
END_TEST

START_TEST(test_ssg_50_02_every_truncation_refused)
{
    ssg_ring_t *ring = ring_of(KEY_A, NULL);
    const char *tok = sample_token(ring);
    apr_size_t len = strlen(tok), n;

    for (n = 0; n < len; n++) {
        ck_assert_status(verify_exact(ring, "app-a", NOW, 0, tok, n, NULL),
                         n == 0 ? SSG_ERR_EMPTY : SSG_ERR_MALFORMED,
                         apr_psprintf(pool, "truncated to %u", (unsigned)n));
    }
}
END_TEST

START_TEST(test_ssg_50_03_trailing_bytes_refused)
{
    static const struct { const char *s; apr_size_t n; } tail[] = {
        { ".", 1 }, { "x", 1 }, { "A", 1 }, { "=", 1 }, { "==", 2 }, { "\n", 1 },
        { "\r\n", 2 }, { " ", 1 }, { "\0", 1 }, { "\0x", 2 }, { ".x", 2 },
        { ";", 1 }, { "AA", 2 }, { "AAAA", 4 },
    };
    ssg_ring_t *ring = ring_of(KEY_A, NULL);
    const char *tok = sample_token(ring);
    apr_size_t len = strlen(tok);
    size_t i;

    for (i = 0; i < sizeof(tail) / sizeof(tail[0]); i++) {
        char *t = apr_palloc(pool, len + tail[i].n);
        memcpy(t, tok, len);
        memcpy(t + len, tail[i].s, tail[i].n);
        ck_assert_status(verify_exact(ring, "app-a", NOW, 0, t, len + tail[i].n, NULL),
                         SSG_ERR_MALFORMED, apr_psprintf(pool, "tail %u", (unsigned)i));
    }
}
END_TEST

START_TEST(test_ssg_50_04_leading_bytes_refused)
{
    static const struct { const char *s; apr_size_t n; ssg_status_e want; } head[] = {
        { " ", 1, SSG_ERR_VERSION }, { "x", 1, SSG_ERR_VERSION },
        { "\n", 1, SSG_ERR_VERSION }, { "\0", 1, SSG_ERR_VERSION },
        { "\xef\xbb\xbf", 3, SSG_ERR_VERSION }, { "=", 1, SSG_ERR_VERSION },
        { ".", 1, SSG_ERR_MALFORMED }, { "v1.", 3, SSG_ERR_MALFORMED },
    };
    ssg_ring_t *ring = ring_of(KEY_A, NULL);
    const char *tok = sample_token(ring);
    apr_size_t len = strlen(tok);
    size_t i;

    for (i = 0; i < sizeof(head) / sizeof(head[0]); i++) {
        char *t = apr_palloc(pool, len + head[i].n);
        memcpy(t, head[i].s, head[i].n);
        memcpy(t + head[i].n, tok, len);
        ck_assert_status(verify_exact(ring, "app-a", NOW, 0, t, len + head[i].n, NULL),
                         head[i].want, apr_psprintf(pool, "head %u", (unsigned)i));
    }
}
END_TEST

START_TEST(test_ssg_50_05_non_base64url_characters_refused)
{
    static const char bad[] = "+/=% \t*~!\"\\\x80\xff\x7f";
    ssg_ring_t *ring = ring_of(KEY_A, NULL);
    const char *tok = sample_token(ring);
    apr_size_t d[4], len = strlen(tok);
    int f;
    size_t i;

    find_dots(tok, d);
    for (f = 1; f <= 4; f++) {
        apr_size_t pos = d[f - 1] + 1;                /* first char of the field */
        char *t = apr_pstrdup(pool, tok);
        if (f == 2) {
            continue;                                 /* iat: digits, see 40_10 */
        }
        for (i = 0; i < sizeof(bad) - 1; i++) {
            t[pos] = bad[i];
            ck_assert_status(verify_exact(ring, "app-a", NOW, 0, t, len, NULL),
                             SSG_ERR_MALFORMED,
                             apr_psprintf(pool, "field %d char 0x%02x", f,
                                          (unsigned char)bad[i]));
        }
        t[pos] = '\0';                                /* a NUL inside the field */
        ck_assert_status(verify_exact(ring, "app-a", NOW, 0, t, len, NULL),
                         SSG_ERR_MALFORMED, apr_psprintf(pool, "field %d NUL", f));
    }
}
END_TEST

START_TEST(test_ssg_50_06_field_count_and_lengths)
{
    ssg_ring_t *ring = ring_of(KEY_A, NULL);
    const char *tok = sample_token(ring);
    apr_size_t d[4];
    const char *kid = ssg_ring_kid(ring, 0);
    const char *mac, *payload;
    const char *cases[16];
    int n = 0, i;

    find_dots(tok, d);
    payload = apr_pstrndup(pool, tok + d[2] + 1, d[3] - d[2] - 1);
    mac = tok + d[3] + 1;
    cases[n++] = apr_psprintf(pool, "v1.%s.1700000000.%s", kid, mac);       /* 4 */
    cases[n++] = apr_psprintf(pool, "v1.%s.1700000000.%s.%s.%s", kid, payload,
                              payload, mac);                                 /* 6 */
    cases[n++] = apr_psprintf(pool, "%s.", tok);                             /* 6 */
    cases[n++] = "v1....";                                  /* 5 empty-ish */
    cases[n++] = apr_psprintf(pool, "v1.%.7s.1700000000.%s.%s", kid, payload, mac);
    cases[n++] = apr_psprintf(pool, "v1.%sA.1700000000.%s.%s", kid, payload, mac);
    cases[n++] = apr_psprintf(pool, "v1.%s.1700000000.%s.%.42s", kid, payload, mac);
    cases[n++] = apr_psprintf(pool, "v1.%s.1700000000.%s.%sA", kid, payload, mac);
    cases[n++] = apr_psprintf(pool, "v1.%s.1700000000..%s", kid, mac);  /* no payload */
    cases[n++] = apr_psprintf(pool, "v1.%s.1700000000.A.%s", kid, mac);      /* 4n+1 */
    cases[n++] = apr_psprintf(pool, "v1.%s.1700000000.%s=.%s", kid, payload, mac);
    for (i = 0; i < n; i++) {
        ck_assert_status(verify_str(ring, "app-a", NOW, cases[i]), SSG_ERR_MALFORMED,
                         apr_psprintf(pool, "case %d: %s", i, cases[i]));
    }
    /* version: only "v1" */
    ck_assert_status(verify_str(ring, "app-a", NOW, with_field(tok, 0, "v2")),
                     SSG_ERR_VERSION, "v2");
    ck_assert_status(verify_str(ring, "app-a", NOW, with_field(tok, 0, "V1")),
                     SSG_ERR_VERSION, "V1");
    ck_assert_status(verify_str(ring, "app-a", NOW, with_field(tok, 0, "v10")),
                     SSG_ERR_VERSION, "v10");
    ck_assert_status(verify_str(ring, "app-a", NOW, with_field(tok, 0, "")),
                     SSG_ERR_VERSION, "no version");
    ck_assert_status(verify_str(ring, "app-a", NOW, "...."), SSG_ERR_VERSION, "....");
    /* another well-formed key id */
    ck_assert_status(verify_str(ring, "app-a", NOW, with_field(tok, 1, "AAAAAAAA")),
                     SSG_ERR_UNKNOWN_KEY, "kid AAAAAAAA");
    /* payload "AA" decodes to one NUL byte: well-formed, so the MAC decides */
    ck_assert_status(verify_str(ring, "app-a", NOW, with_field(tok, 3, "AA")),
                     SSG_ERR_BAD_MAC, "payload AA");
    /* a mac of all zero bytes */
    ck_assert_status(verify_str(ring, "app-a", NOW, with_field(tok, 4, rep('A', 43))),
                     SSG_ERR_BAD_MAC, "zero mac");
}
END_TEST

START_TEST(test_ssg_50_07_overlong_refused_unread)
{
    ssg_ring_t *ring = ring_of(KEY_A, NULL);
    const char *tok = sample_token(ring);
    char *big = rep('A', SSG_MAX_TOKEN_LEN + 1);

    ck_assert_status(verify_exact(ring, "", NOW, 0, big, SSG_MAX_TOKEN_LEN + 1, NULL),
                     SSG_ERR_TOO_LONG, "16385 bytes");
    ck_assert_status(verify_exact(ring, "", NOW, 0, big, SSG_MAX_TOKEN_LEN, NULL),
                     SSG_ERR_MALFORMED, "16384 bytes of A");
    /* a valid token followed by enough padding */
    memcpy(big, tok, strlen(tok));
    ck_assert_status(verify_exact(ring, "app-a", NOW, 0, big, SSG_MAX_TOKEN_LEN + 1,
                                  NULL), SSG_ERR_TOO_LONG, "token + padding");
    /* the length is checked before anything is read: a huge length with a
     * short buffer must not be read at all */
    ck_assert_status(ssg_verify(pool, ring, "app-a", NOW, 0, 60, tok,
                                (apr_size_t)1 << 40, NULL), SSG_ERR_TOO_LONG, "2^40");
}
END_TEST

/* ---- ssg_70: token v2, with a session id (issue 15) ---------------------- */

START_TEST(test_ssg_70_01_v2_round_trip_carries_the_session_id)
{
    ssg_ring_t *ring = ring_of(KEY_A, NULL);
    char sid[SSG_SID_LEN + 1], other[SSG_SID_LEN + 1];
    ssg_result_t res;
    char *tok;

    ck_assert_int_eq(ssg_sid_new(sid), 0);
    ck_assert_int_eq(ssg_sid_new(other), 0);
    ck_assert_uint_eq(strlen(sid), SSG_SID_LEN);
    ck_assert(strcmp(sid, other) != 0);
    ck_assert(ssg_sid_valid(sid, strlen(sid)));
    tok = ssg_sign_sid(pool, ring, "app-a", NOW, sid, "user=alice", 10);
    ck_assert_ptr_nonnull(tok);
    ck_assert(strncmp(tok, "v2.", 3) == 0);
    ck_assert_ptr_nonnull(strstr(tok, sid));
    memset(&res, 0x5a, sizeof(res));
    ck_assert_status(verify_exact(ring, "app-a", NOW, 0, tok, strlen(tok), &res), SSG_OK, "v2");
    ck_assert_int_eq(res.version, 2);
    ck_assert_str_eq(res.sid, sid);
    ck_assert_str_eq(res.payload, "user=alice");
    /* the same payload and iat under another sid: another MAC */
    ck_assert_str_ne(tok, ssg_sign_sid(pool, ring, "app-a", NOW, other, "user=alice", 10));
    /* context binding as v1 */
    ck_assert_status(verify_exact(ring, "app-b", NOW, 0, tok, strlen(tok), NULL), SSG_ERR_BAD_MAC,
                     "context");
}
END_TEST

START_TEST(test_ssg_70_02_v2_tampering_refused)
{
    ssg_ring_t *ring = ring_of(KEY_A, NULL);
    char sid[SSG_SID_LEN + 1];
    char *tok, *t;
    const char *p;

    ck_assert_int_eq(ssg_sid_new(sid), 0);
    tok = ssg_sign_sid(pool, ring, "", NOW, sid, "user=alice", 10);
    /* a sid character changed: bad MAC (or malformed if non-canonical) */
    t = apr_pstrdup(pool, tok);
    p = strstr(t, sid);
    t[p - t] = t[p - t] == 'A' ? 'B' : 'A';
    ck_assert(verify_exact(ring, "", NOW, 0, t, strlen(t), NULL) != SSG_OK);
    /* relabelled as v1 with six fields, or the sid cut out as a v1 token */
    t = apr_pstrdup(pool, tok);
    t[1] = '1';
    ck_assert_status(verify_exact(ring, "", NOW, 0, t, strlen(t), NULL), SSG_ERR_MALFORMED,
                     "v1 label on six fields");
    t = apr_pstrcat(pool, "v1", strchr(tok, '.'), NULL);
    {
        char *q = strstr(t, sid);
        memmove(q, q + SSG_SID_LEN + 1, strlen(q + SSG_SID_LEN + 1) + 1);
    }
    ck_assert_status(verify_exact(ring, "", NOW, 0, t, strlen(t), NULL), SSG_ERR_BAD_MAC,
                     "sid removed");
    /* a sid of the wrong length or with a non-canonical last character */
    ck_assert(!ssg_sid_valid("AAAAAAAAAAAAAAAAAAAAA", 21));
    ck_assert(!ssg_sid_valid("AAAAAAAAAAAAAAAAAAAAAAA", 23));
    ck_assert(!ssg_sid_valid("AAAAAAAAAAAAAAAAAAAAAB", 22));
    ck_assert(ssg_sid_valid("AAAAAAAAAAAAAAAAAAAAAA", 22));
    ck_assert_ptr_null(ssg_sign_sid(pool, ring, "", NOW, "AAAAAAAAAAAAAAAAAAAAAB", "u=1", 3));
    /* a seventh field */
    t = apr_pstrcat(pool, tok, ".x", NULL);
    ck_assert_status(verify_exact(ring, "", NOW, 0, t, strlen(t), NULL), SSG_ERR_MALFORMED,
                     "seventh field");
}
END_TEST

START_TEST(test_ssg_70_03_v1_tokens_still_verify_with_their_own_id)
{
    ssg_ring_t *ring = ring_of(KEY_A, NULL);
    ssg_result_t res;
    char *tok = ssg_sign(pool, ring, "", NOW, "user=alice", 10);

    ck_assert(strncmp(tok, "v1.", 3) == 0);
    ck_assert_status(verify_exact(ring, "", NOW, 0, tok, strlen(tok), &res), SSG_OK, "v1");
    ck_assert_int_eq(res.version, 1);
    /* a v1 token's id: the first 22 characters of its MAC field */
    ck_assert_str_eq(res.sid, apr_pstrndup(pool, strrchr(tok, '.') + 1, SSG_SID_LEN));
}
END_TEST

/* ---- ssg_60: vectors from the Python reference -------------------------- */

struct vector {
    const char *secret, *context;
    apr_int64_t iat;
    const char *payload, *kid, *token;
};

/* generated by tests/tools/make_vectors.py --c; do not edit */
static const struct vector vectors[] = {
    {   /* 0: secret, context, iat, payload, kid, token */
        "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk",
        "", 1700000000,
        "user=alice",
        "AWZDqd_H",
        "v1.AWZDqd_H.1700000000.dXNlcj1hbGljZQ.Nd-wxYt7uvTQGOlBUs7Qpe4ceP"
        "dCAhG_r7WnDT4O-9M" },
    {   /* 1: secret, context, iat, payload, kid, token */
        "0123456789abcdef0123456789abcdef",
        "", 1700000000,
        "user=alice&role=admin",
        "ic1L_tj6",
        "v1.ic1L_tj6.1700000000.dXNlcj1hbGljZSZyb2xlPWFkbWlu.zDGz6hnGQ_ap"
        "_5wnRHT7oV_a5AkvqK6D7s4iaIdCTHo" },
    {   /* 2: secret, context, iat, payload, kid, token */
        "correct horse battery staple, 32+ bytes",
        "default", 1700000000,
        "blob=0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a",
        "kTx-XaEG",
        "v1.kTx-XaEG.1700000000.YmxvYj0wMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4O"
        "WFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4O"
        "WFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4O"
        "WFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4O"
        "WFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4O"
        "WFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4O"
        "WFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4O"
        "WFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4O"
        "WFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4O"
        "WFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4O"
        "WFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4O"
        "WFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4O"
        "WFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4O"
        "WFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4O"
        "WFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4O"
        "WFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4O"
        "WFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4O"
        "WFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4O"
        "WFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4O"
        "WFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4O"
        "WFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4O"
        "WFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YQ.8yokNK-bKUHcCbG-Ur"
        "IAP-i5QB9AwXKxDQiPl-N5sfw" },
    {   /* 3: secret, context, iat, payload, kid, token */
        "s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t-e"
        "nd",
        "default", 1,
        "user=j%C3%B6rg&next=%2Fapp%3Fa%3D1%26b%3D2&note=a%20b%2Bc%00",
        "2lX5Rkcj",
        "v1.2lX5Rkcj.1.dXNlcj1qJUMzJUI2cmcmbmV4dD0lMkZhcHAlM0ZhJTNEMSUyNm"
        "IlM0QyJm5vdGU9YSUyMGIlMkJjJTAw.S4K9VXGHBy-lst7LnfKofc_5-0m67sXRN"
        "m0Dv_ba_RA" },
    {   /* 4: secret, context, iat, payload, kid, token */
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345",
        "app-a", 1,
        "a",
        "y3FKdzcV",
        "v1.y3FKdzcV.1.YQ.04vLG_KdOENcXGvUjgQ8X43NnNsN9MSeYEZroSagvfw" },
    {   /* 5: secret, context, iat, payload, kid, token */
        "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk",
        "app-a", 1,
        "ab",
        "AWZDqd_H",
        "v1.AWZDqd_H.1.YWI.BDjwFAHMvNu-9hSjQMV_GcHnsuok-DrzPGPtR48Crwo" },
    {   /* 6: secret, context, iat, payload, kid, token */
        "0123456789abcdef0123456789abcdef",
        "", 999999999999,
        "abc",
        "ic1L_tj6",
        "v1.ic1L_tj6.999999999999.YWJj.96dDmMPVMxqT8zyt9hxMlC__8lmhTFw6l0"
        "p38nvaJAY" },
    {   /* 7: secret, context, iat, payload, kid, token */
        "correct horse battery staple, 32+ bytes",
        "", 999999999999,
        "user=alice",
        "kTx-XaEG",
        "v1.kTx-XaEG.999999999999.dXNlcj1hbGljZQ.V6DJHoXz5QsKN7gwn9VLy-wf"
        "XiE_j2zQOCHhertbn_A" },
    {   /* 8: secret, context, iat, payload, kid, token */
        "s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t-e"
        "nd",
        "default", 999999999999,
        "user=alice&role=admin",
        "2lX5Rkcj",
        "v1.2lX5Rkcj.999999999999.dXNlcj1hbGljZSZyb2xlPWFkbWlu.lgyP9kcluj"
        "QC8xPpCO3d1pYygaIvWvdiqeuayZWWYAg" },
    {   /* 9: secret, context, iat, payload, kid, token */
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345",
        "default", 1234567890,
        "blob=0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a",
        "y3FKdzcV",
        "v1.y3FKdzcV.1234567890.YmxvYj0wMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4O"
        "WFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4O"
        "WFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4O"
        "WFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4O"
        "WFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4O"
        "WFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4O"
        "WFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4O"
        "WFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4O"
        "WFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4O"
        "WFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4O"
        "WFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4O"
        "WFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4O"
        "WFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4O"
        "WFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4O"
        "WFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4O"
        "WFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4O"
        "WFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4O"
        "WFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4O"
        "WFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4O"
        "WFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4O"
        "WFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4O"
        "WFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YQ.H6yQhx0Ja6d9wKfuwH"
        "GzU1voF5CIGkaxfmD-CN6pGYA" },
    {   /* 10: secret, context, iat, payload, kid, token */
        "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk",
        "app-a", 1234567890,
        "user=j%C3%B6rg&next=%2Fapp%3Fa%3D1%26b%3D2&note=a%20b%2Bc%00",
        "AWZDqd_H",
        "v1.AWZDqd_H.1234567890.dXNlcj1qJUMzJUI2cmcmbmV4dD0lMkZhcHAlM0ZhJ"
        "TNEMSUyNmIlM0QyJm5vdGU9YSUyMGIlMkJjJTAw.zzq-Gf-Z0Wro1CGEGY50xLmA"
        "X09pZphhwqvlCsE_EM4" },
    {   /* 11: secret, context, iat, payload, kid, token */
        "0123456789abcdef0123456789abcdef",
        "app-a", 1234567890,
        "a",
        "ic1L_tj6",
        "v1.ic1L_tj6.1234567890.YQ.ylJPL28WWe2Gm0afn9FRgN-3vYmB1c_GMtqCuW"
        "BJxJA" },
    {   /* 12: secret, context, iat, payload, kid, token */
        "correct horse battery staple, 32+ bytes",
        "", 1700000000,
        "ab",
        "kTx-XaEG",
        "v1.kTx-XaEG.1700000000.YWI.YxsY_qMvvJ2J4WiXl0scdCarXn9STQH3YLzcu"
        "CV5RAY" },
    {   /* 13: secret, context, iat, payload, kid, token */
        "s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t-e"
        "nd",
        "", 1700000000,
        "abc",
        "2lX5Rkcj",
        "v1.2lX5Rkcj.1700000000.YWJj.FnQI_XOUhuuNbAgpbgFcWvr1Gj752Y27JfZE"
        "aWod2jw" },
};

#define NVECTORS ((int)(sizeof(vectors) / sizeof(vectors[0])))

/* generated by tests/tools/make_vectors.py --c2; do not edit */
struct vector_v2 {
    const char *secret, *context;
    apr_int64_t iat;
    const char *sid, *payload, *kid, *token;
};

static const struct vector_v2 vectors_v2[] = {
    {   /* 0: secret, context, iat, sid, payload, kid, token */
        "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk",
        "", 1700000000,
        "AAECAwQFBgcICQoLDA0ODw",
        "user=alice",
        "AWZDqd_H",
        "v2.AWZDqd_H.1700000000.AAECAwQFBgcICQoLDA0ODw.dXNlcj1hbGljZQ.YU5"
        "8jRF40VOMm3MiElMA6yLPVS1zVrRupnoI4Whg0h8" },
    {   /* 1: secret, context, iat, sid, payload, kid, token */
        "0123456789abcdef0123456789abcdef",
        "", 1700000000,
        "AAAAAAAAAAAAAAAAAAAAAA",
        "user=alice&role=admin",
        "ic1L_tj6",
        "v2.ic1L_tj6.1700000000.AAAAAAAAAAAAAAAAAAAAAA.dXNlcj1hbGljZSZyb2"
        "xlPWFkbWlu.y-ad4z3wfcY-CEPoOMqa1lUtpncp9uLeFxwqdEce-mc" },
    {   /* 2: secret, context, iat, sid, payload, kid, token */
        "correct horse battery staple, 32+ bytes",
        "default", 1700000000,
        "_____________________w",
        "blob=0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a",
        "kTx-XaEG",
        "v2.kTx-XaEG.1700000000._____________________w.YmxvYj0wMTIzNDU2Nz"
        "g5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nz"
        "g5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nz"
        "g5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nz"
        "g5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nz"
        "g5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nz"
        "g5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nz"
        "g5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nz"
        "g5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nz"
        "g5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nz"
        "g5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nz"
        "g5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nz"
        "g5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nz"
        "g5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nz"
        "g5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nz"
        "g5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nz"
        "g5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nz"
        "g5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nz"
        "g5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nz"
        "g5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nz"
        "g5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nz"
        "g5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nz"
        "g5YQ.r8wl16XtFTnWCFyc-c6tNNvf0M-LrGo27iJFUbWRSJU" },
    {   /* 3: secret, context, iat, sid, payload, kid, token */
        "s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t-e"
        "nd",
        "default", 1,
        "--------------------8A",
        "user=j%C3%B6rg&next=%2Fapp%3Fa%3D1%26b%3D2&note=a%20b%2Bc%00",
        "2lX5Rkcj",
        "v2.2lX5Rkcj.1.--------------------8A.dXNlcj1qJUMzJUI2cmcmbmV4dD0"
        "lMkZhcHAlM0ZhJTNEMSUyNmIlM0QyJm5vdGU9YSUyMGIlMkJjJTAw._roQdYWMGh"
        "4U6h6L0ENcjBl0rMeukNv3uaqyhZgEKDI" },
    {   /* 4: secret, context, iat, sid, payload, kid, token */
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345",
        "app-a", 1,
        "8PHy8_T19vf4-fr7_P3-_w",
        "a",
        "y3FKdzcV",
        "v2.y3FKdzcV.1.8PHy8_T19vf4-fr7_P3-_w.YQ.xWlZrbAf6g8Z6lYPwJqsAtRS"
        "_HmPJot5gmcmHrrzq4A" },
    {   /* 5: secret, context, iat, sid, payload, kid, token */
        "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk",
        "app-a", 1,
        "AAECAwQFBgcICQoLDA0ODw",
        "ab",
        "AWZDqd_H",
        "v2.AWZDqd_H.1.AAECAwQFBgcICQoLDA0ODw.YWI.sp-Vjd3I6o0sTWiI33N6yhq"
        "ORBDP9QkCmuDaSnOPzlo" },
    {   /* 6: secret, context, iat, sid, payload, kid, token */
        "0123456789abcdef0123456789abcdef",
        "", 999999999999,
        "AAAAAAAAAAAAAAAAAAAAAA",
        "abc",
        "ic1L_tj6",
        "v2.ic1L_tj6.999999999999.AAAAAAAAAAAAAAAAAAAAAA.YWJj.XlUFRL0Iksm"
        "oYI-oC1Nx8qaW4ZkgplTbLfUr3JSQ6ms" },
    {   /* 7: secret, context, iat, sid, payload, kid, token */
        "correct horse battery staple, 32+ bytes",
        "", 999999999999,
        "_____________________w",
        "user=alice",
        "kTx-XaEG",
        "v2.kTx-XaEG.999999999999._____________________w.dXNlcj1hbGljZQ.p"
        "4t1v5wOkL4FEaa6jwCv4yt_qM6vVOt-5j5UdKJlwXM" },
    {   /* 8: secret, context, iat, sid, payload, kid, token */
        "s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t-e"
        "nd",
        "default", 999999999999,
        "--------------------8A",
        "user=alice&role=admin",
        "2lX5Rkcj",
        "v2.2lX5Rkcj.999999999999.--------------------8A.dXNlcj1hbGljZSZy"
        "b2xlPWFkbWlu.f2iiMoReFe_T7O0rJSSYoCTfvLFnr7PShoyxA-rd14M" },
    {   /* 9: secret, context, iat, sid, payload, kid, token */
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345"
        "abcdefghijklmnopqrstuvwxyz012345abcdefghijklmnopqrstuvwxyz012345",
        "default", 1234567890,
        "8PHy8_T19vf4-fr7_P3-_w",
        "blob=0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
        "bcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789a",
        "y3FKdzcV",
        "v2.y3FKdzcV.1234567890.8PHy8_T19vf4-fr7_P3-_w.YmxvYj0wMTIzNDU2Nz"
        "g5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nz"
        "g5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nz"
        "g5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nz"
        "g5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nz"
        "g5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nz"
        "g5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nz"
        "g5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nz"
        "g5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nz"
        "g5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nz"
        "g5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nz"
        "g5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nz"
        "g5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nz"
        "g5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nz"
        "g5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nz"
        "g5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nz"
        "g5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nz"
        "g5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nz"
        "g5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nz"
        "g5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nz"
        "g5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nz"
        "g5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nz"
        "g5YQ.mVGJXe0ztV3aZu9xx7sKAMqsTzJ0XIDgKs_0HLDtdx4" },
};

#define NVECTORS_V2 ((int)(sizeof(vectors_v2) / sizeof(vectors_v2[0])))

START_TEST(test_ssg_60_01_vector_signs_and_verifies_exactly)
{
    const struct vector *v = &vectors[_i];
    ssg_ring_t *ring = ring_of(v->secret, NULL);
    ssg_result_t res;
    char *tok;

    ck_assert_str_eq(ssg_ring_kid(ring, 0), v->kid);
    tok = ssg_sign(pool, ring, v->context, v->iat, v->payload, strlen(v->payload));
    ck_assert_ptr_nonnull(tok);
    ck_assert_str_eq(tok, v->token);
    ck_assert_status(verify_exact(ring, v->context, v->iat, 0, v->token,
                                  strlen(v->token), &res), SSG_OK, "vector");
    ck_assert_uint_eq(res.payload_len, strlen(v->payload));
    ck_assert_str_eq(res.payload, v->payload);
    ck_assert(res.iat == v->iat);
    ck_assert_status(verify_str(ring, strcmp(v->context, "app-a") ? "app-a" : "",
                                v->iat, v->token), SSG_ERR_BAD_MAC, "other context");
}
END_TEST

/* The v2 vectors of ssg_ref.py: the C core signs each byte for byte, and
 * its verifier hands back the session id the token carries. */
START_TEST(test_ssg_60_02_v2_vector_signs_and_verifies_exactly)
{
    const struct vector_v2 *v = &vectors_v2[_i];
    ssg_ring_t *ring = ring_of(v->secret, NULL);
    ssg_result_t res;
    char *tok;

    ck_assert_str_eq(ssg_ring_kid(ring, 0), v->kid);
    tok = ssg_sign_sid(pool, ring, v->context, v->iat, v->sid, v->payload, strlen(v->payload));
    ck_assert_ptr_nonnull(tok);
    ck_assert_str_eq(tok, v->token);
    ck_assert_status(verify_exact(ring, v->context, v->iat, 0, v->token,
                                  strlen(v->token), &res), SSG_OK, "v2 vector");
    ck_assert_str_eq(res.payload, v->payload);
    ck_assert(res.iat == v->iat);
    ck_assert_str_eq(res.sid, v->sid);
    ck_assert_status(verify_str(ring, strcmp(v->context, "app-a") ? "app-a" : "",
                                v->iat, v->token), SSG_ERR_BAD_MAC, "other context");
}
END_TEST

/* ---- runner ------------------------------------------------------------- */

static TCase *tcase(Suite *s, const char *name)
{
    TCase *tc = tcase_create(name);

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);                 /* valgrind is slow */
    suite_add_tcase(s, tc);
    return tc;
}

static Suite *ssg_suite(void)
{
    Suite *s = suite_create("ssg_token");
    TCase *tc;

    tc = tcase(s, "ssg_10_base64url");
    tcase_add_test(tc, test_ssg_10_01_roundtrip_every_length_0_to_70);
    tcase_add_test(tc, test_ssg_10_02_rfc4648_vectors_without_padding);
    tcase_add_test(tc, test_ssg_10_03_decode_refuses_padding);
    tcase_add_test(tc, test_ssg_10_04_decode_refuses_standard_alphabet_plus_slash);
    tcase_add_test(tc, test_ssg_10_05_decode_refuses_whitespace_and_other_bytes);
    tcase_add_test(tc, test_ssg_10_06_decode_refuses_length_4n_plus_1);
    tcase_add_test(tc, test_ssg_10_07_decode_refuses_nonzero_trailing_bits);

    tc = tcase(s, "ssg_20_ring");
    tcase_add_test(tc, test_ssg_20_01_secret_of_31_bytes_refused_32_accepted);
    tcase_add_test(tc, test_ssg_20_02_secret_over_1024_bytes_refused);
    tcase_add_test(tc, test_ssg_20_03_control_characters_refused);
    tcase_add_test(tc, test_ssg_20_04_duplicate_secret_refused);
    tcase_add_test(tc, test_ssg_20_05_seventeenth_key_refused);
    tcase_add_test(tc, test_ssg_20_06_kid_deterministic_8_chars_matches_reference);
    tcase_add_test(tc, test_ssg_20_07_status_strings_fixed_and_distinct);
    tcase_add_test(tc, test_ssg_20_08_random_fills_distinct_buffers);
    tcase_add_test(tc, test_ssg_20_09_mac_is_hmac_sha256_at_every_key_length_boundary);

    tc = tcase(s, "ssg_30_keyfile");
    tcase_add_test(tc, test_ssg_30_01_comments_and_blank_lines_skipped);
    tcase_add_test(tc, test_ssg_30_02_crlf_line_ends);
    tcase_add_test(tc, test_ssg_30_03_leading_and_trailing_blanks_trimmed);
    tcase_add_test(tc, test_ssg_30_04_empty_or_comment_only_file_refused);
    tcase_add_test(tc, test_ssg_30_05_short_secret_on_line_3_named);
    tcase_add_test(tc, test_ssg_30_06_other_bad_lines_named);
    tcase_add_loop_test(tc, test_ssg_30_07_key_file_lines_table, 0,
                        (int)(sizeof(keyfile_cases) / sizeof(keyfile_cases[0])));
    tcase_add_test(tc, test_ssg_30_08_bom_comment_is_never_a_secret);

    tc = tcase(s, "ssg_40_sign_verify");
    tcase_add_test(tc, test_ssg_40_01_roundtrip_fills_result);
    tcase_add_test(tc, test_ssg_40_02_old_key_verifies_with_its_index);
    tcase_add_test(tc, test_ssg_40_03_removed_key_unknown);
    tcase_add_test(tc, test_ssg_40_04_wrong_key_under_a_known_kid_bad_mac);
    tcase_add_test(tc, test_ssg_40_05_context_mismatch_bad_mac);
    tcase_add_test(tc, test_ssg_40_06_context_length_limit);
    tcase_add_test(tc, test_ssg_40_07_future_within_skew_ok_beyond_refused);
    tcase_add_test(tc, test_ssg_40_08_lifetime_equal_ok_exceeded_expired);
    tcase_add_test(tc, test_ssg_40_09_payload_with_nul_signed_but_refused);
    tcase_add_test(tc, test_ssg_40_10_iat_digits_and_leading_zero);
    tcase_add_test(tc, test_ssg_40_11_sign_and_verify_preconditions);
    tcase_add_test(tc, test_ssg_40_12_token_of_exactly_max_length_verifies);

    tc = tcase(s, "ssg_50_tamper");
    tcase_add_test(tc, test_ssg_50_01_every_bit_flip_at_every_position_refused);
    tcase_add_test(tc, test_ssg_50_02_every_truncation_refused);
    tcase_add_test(tc, test_ssg_50_03_trailing_bytes_refused);
    tcase_add_test(tc, test_ssg_50_04_leading_bytes_refused);
    tcase_add_test(tc, test_ssg_50_05_non_base64url_characters_refused);
    tcase_add_test(tc, test_ssg_50_06_field_count_and_lengths);
    tcase_add_test(tc, test_ssg_50_07_overlong_refused_unread);

    tc = tcase(s, "ssg_60_vectors");
    tcase_add_loop_test(tc, test_ssg_60_01_vector_signs_and_verifies_exactly,
                        0, NVECTORS);
    tcase_add_loop_test(tc, test_ssg_60_02_v2_vector_signs_and_verifies_exactly,
                        0, NVECTORS_V2);

    tc = tcase(s, "ssg_70_token_v2");
    tcase_add_test(tc, test_ssg_70_01_v2_round_trip_carries_the_session_id);
    tcase_add_test(tc, test_ssg_70_02_v2_tampering_refused);
    tcase_add_test(tc, test_ssg_70_03_v1_tokens_still_verify_with_their_own_id);

    tc = tcase(s, "ssg_90_sign_bounds");
    tcase_add_test(tc, test_ssg_90_01_sign_never_returns_a_token_verify_refuses);
    return s;
}

int main(void)
{
    SRunner *sr;
    int failed;

    if (apr_initialize() != APR_SUCCESS) {
        fprintf(stderr, "apr_initialize failed\n");
        return 2;
    }
    sr = srunner_create(ssg_suite());
    srunner_run_all(sr, CK_ENV);                /* CK_VERBOSITY=verbose for names */
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    apr_terminate();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
