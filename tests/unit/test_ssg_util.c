/*
 * test_ssg_util.c - Check unit tests for mod_session_sign/ssg_util.c: the
 * login `return` parameter check, the form decoder, the query lookup, the
 * session-cookie finder and the simple payload decoder (both checked against
 * httpd's own algorithms, rewritten here).
 *
 * Build and run from the top of the tree (make unit does the same):
 *
 *   mkdir -p build
 *   cc -std=c99 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror \
 *       -Imod_session_sign -Imod_ws_auth \
 *       $(apr-1-config --cflags --cppflags --includes) \
 *       -o build/test_ssg_util tests/unit/test_ssg_util.c \
 *       mod_session_sign/ssg_token.c mod_session_sign/ssg_util.c \
 *       mod_session_sign/ssg_origin.c \
 *       $(pkg-config --cflags --libs check) $(apr-1-config --link-ld --libs) -lcrypto
 *   ./build/test_ssg_util
 *
 * One TCase per function; every case in a table has a name that says what
 * it proves, and each table index runs as its own loop test.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "ssg_util.h"
#include "ref_httpd.h"

#define NELTS(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define STRLEN   (-1)   /* len field: use strlen(in) */

static apr_size_t case_len(const char *in, int len)
{
    if (len != STRLEN) {
        return (apr_size_t)len;
    }
    return in ? strlen(in) : 0;
}

static apr_pool_t *pool;

static void pool_setup(void)
{
    ck_assert_int_eq(apr_initialize(), APR_SUCCESS);
    ck_assert_int_eq(apr_pool_create(&pool, NULL), APR_SUCCESS);
}

static void pool_teardown(void)
{
    apr_pool_destroy(pool);
    pool = NULL;
    apr_terminate();
}

/* ------------------------------------------------------ return path check */

typedef struct {
    const char *name;
    const char *in;
    int len;
    ssg_return_e want;
} return_case_t;

static const return_case_t return_cases[] = {
    /* accepted: local paths */
    { "root", "/", STRLEN, SSG_RET_OK },
    { "directory", "/app/", STRLEN, SSG_RET_OK },
    { "query with encoded slash in a value", "/app/?x=1&y=%2F", STRLEN, SSG_RET_OK },
    { "fragment", "/a/b#frag", STRLEN, SSG_RET_OK },
    { "dot segments stay local", "/a/../b", STRLEN, SSG_RET_OK },
    { "encoded dot segments stay local", "/%2e%2e/b", STRLEN, SSG_RET_OK },
    { "encoded slash after a segment", "/a%2Fb", STRLEN, SSG_RET_OK },
    { "printable punctuation", "/a-b_c.d~e!$&'()*+,;=:@", STRLEN, SSG_RET_OK },
    { "malformed escape left as is", "/a%zz", STRLEN, SSG_RET_OK },
    { "truncated escape at end left as is", "/a%2", STRLEN, SSG_RET_OK },
    { "lone percent at end left as is", "/a%", STRLEN, SSG_RET_OK },
    { "only one more round of decoding", "/%252F%252Fevil.com", STRLEN, SSG_RET_OK },
    { "length bounds the read", "/ok\r\nSet-Cookie:x", 3, SSG_RET_OK },

    /* refused: empty */
    { "empty", "", STRLEN, SSG_RET_EMPTY },
    { "zero length of a non-empty buffer", "/app", 0, SSG_RET_EMPTY },

    /* refused: not a local path */
    { "absolute http url", "http://evil.com", STRLEN, SSG_RET_NOT_LOCAL },
    { "absolute https url", "https://evil.com", STRLEN, SSG_RET_NOT_LOCAL },
    { "scheme-relative url", "//evil.com", STRLEN, SSG_RET_NOT_LOCAL },
    { "slash backslash", "/\\evil.com", STRLEN, SSG_RET_NOT_LOCAL },
    { "two backslashes", "\\\\evil.com", STRLEN, SSG_RET_NOT_LOCAL },
    { "three slashes", "///evil.com", STRLEN, SSG_RET_NOT_LOCAL },
    { "double-encoded slashes after slash", "/%2F%2Fevil.com", STRLEN, SSG_RET_NOT_LOCAL },
    { "lowercase encoded slash then slash", "/%2f/evil.com", STRLEN, SSG_RET_NOT_LOCAL },
    { "encoded backslash after slash", "/%5Cevil.com", STRLEN, SSG_RET_NOT_LOCAL },
    { "lowercase encoded backslash after slash", "/%5cevil.com", STRLEN, SSG_RET_NOT_LOCAL },
    { "encoded slashes only", "%2F%2Fevil.com", STRLEN, SSG_RET_NOT_LOCAL },
    { "encoded leading slash", "%2Fapp", STRLEN, SSG_RET_NOT_LOCAL },
    { "javascript url", "javascript:alert(1)", STRLEN, SSG_RET_NOT_LOCAL },
    { "scheme without slashes", "https:evil.com", STRLEN, SSG_RET_NOT_LOCAL },
    { "relative path", "app/", STRLEN, SSG_RET_NOT_LOCAL },
    { "leading space", " /app", STRLEN, SSG_RET_NOT_LOCAL },

    /* refused: forbidden bytes */
    { "crlf header injection", "/path\r\nSet-Cookie:x", STRLEN, SSG_RET_BAD_CHAR },
    { "encoded crlf", "/path%0d%0aSet-Cookie:x", STRLEN, SSG_RET_BAD_CHAR },
    { "space", "/a b", STRLEN, SSG_RET_BAD_CHAR },
    { "encoded space", "/a%20b", STRLEN, SSG_RET_BAD_CHAR },
    { "tab", "/a\tb", STRLEN, SSG_RET_BAD_CHAR },
    { "del", "/\x7f", STRLEN, SSG_RET_BAD_CHAR },
    { "raw utf-8", "/caf\xc3\xa9", STRLEN, SSG_RET_BAD_CHAR },
    { "encoded utf-8", "/caf%C3%A9", STRLEN, SSG_RET_BAD_CHAR },
    { "encoded nul", "/%00", STRLEN, SSG_RET_BAD_CHAR },
    { "raw nul inside the length", "/a\0b", 4, SSG_RET_BAD_CHAR },
    { "backslash later in the path", "/a\\b", STRLEN, SSG_RET_BAD_CHAR },
    { "encoded backslash later in the path", "/a%5Cb", STRLEN, SSG_RET_BAD_CHAR },
};

START_TEST(test_return_path)
{
    const return_case_t *c = &return_cases[_i];
    ssg_return_e st = ssg_return_path_check(c->in, case_len(c->in, c->len));

    ck_assert_msg(st == c->want, "%s: got %d (%s), want %d (%s)", c->name,
                  st, ssg_return_str(st), c->want, ssg_return_str(c->want));
}
END_TEST

/* length limit: built at run time, so one table row per size */
typedef struct {
    const char *name;
    apr_size_t len;
    ssg_return_e want;
} return_len_case_t;

static const return_len_case_t return_len_cases[] = {
    { "exactly the limit is accepted", SSG_MAX_RETURN_LEN, SSG_RET_OK },
    { "one byte under the limit is accepted", SSG_MAX_RETURN_LEN - 1, SSG_RET_OK },
    { "one byte over the limit is refused", SSG_MAX_RETURN_LEN + 1, SSG_RET_TOO_LONG },
    { "far over the limit is refused", 4 * SSG_MAX_RETURN_LEN, SSG_RET_TOO_LONG },
};

START_TEST(test_return_path_length)
{
    const return_len_case_t *c = &return_len_cases[_i];
    char *buf = malloc(c->len + 1);
    ssg_return_e st;

    ck_assert_ptr_nonnull(buf);
    memset(buf, 'a', c->len);
    buf[0] = '/';
    buf[c->len] = '\0';
    st = ssg_return_path_check(buf, c->len);
    free(buf);
    ck_assert_msg(st == c->want, "%s: got %d (%s)", c->name, st,
                  ssg_return_str(st));
}
END_TEST

/* a limit-length path made only of escapes decodes in place without overflow */
START_TEST(test_return_path_length_all_escapes)
{
    char buf[SSG_MAX_RETURN_LEN + 1];
    apr_size_t i;

    buf[0] = '/';
    for (i = 1; i + 3 <= SSG_MAX_RETURN_LEN; i += 3) {
        memcpy(buf + i, "%41", 3);
    }
    for (; i < SSG_MAX_RETURN_LEN; i++) {
        buf[i] = 'a';
    }
    buf[SSG_MAX_RETURN_LEN] = '\0';
    ck_assert_int_eq(ssg_return_path_check(buf, SSG_MAX_RETURN_LEN), SSG_RET_OK);
}
END_TEST

typedef struct {
    const char *name;
    ssg_return_e st;
} return_str_case_t;

static const return_str_case_t return_str_cases[] = {
    { "ok", SSG_RET_OK },
    { "empty", SSG_RET_EMPTY },
    { "too long", SSG_RET_TOO_LONG },
    { "not local", SSG_RET_NOT_LOCAL },
    { "bad char", SSG_RET_BAD_CHAR },
};

START_TEST(test_return_str)
{
    const return_str_case_t *c = &return_str_cases[_i];
    const char *s = ssg_return_str(c->st);

    ck_assert_msg(s != NULL && *s != '\0' && strcmp(s, "unknown") != 0,
                  "%s: no reason string", c->name);
}
END_TEST

START_TEST(test_return_str_unknown)
{
    ck_assert_str_eq(ssg_return_str((ssg_return_e)99), "unknown");
}
END_TEST

/* ------------------------------------------------------------ form decode */

typedef struct {
    const char *name;
    const char *in;
    int len;
    long want_len;        /* -1: refused */
    const char *want;     /* decoded bytes when want_len >= 0 */
} form_case_t;

static const form_case_t form_cases[] = {
    { "empty", "", STRLEN, 0, "" },
    { "plain text unchanged", "abc", STRLEN, 3, "abc" },
    { "plus is a space", "a+b", STRLEN, 3, "a b" },
    { "only plus", "+", STRLEN, 1, " " },
    { "uppercase escape", "%41", STRLEN, 1, "A" },
    { "lowercase escape", "%6a", STRLEN, 1, "j" },
    { "encoded plus stays a plus", "a%2Bb", STRLEN, 3, "a+b" },
    { "encoded percent decoded once", "%2541", STRLEN, 3, "%41" },
    { "escape at the very end", "ab%2F", STRLEN, 3, "ab/" },
    { "high byte passes through", "%C3%A9", STRLEN, 2, "\xc3\xa9" },
    { "raw high byte passes through", "\xc3\xa9", STRLEN, 2, "\xc3\xa9" },
    { "length bounds the read", "ab%41", 2, 2, "ab" },

    { "escape one digit short", "%4", STRLEN, -1, NULL },
    { "escape cut by the length", "%41", 2, -1, NULL },
    { "non-hex escape", "%zz", STRLEN, -1, NULL },
    { "non-hex second digit", "%4g", STRLEN, -1, NULL },
    { "non-hex first digit", "%g4", STRLEN, -1, NULL },
    { "encoded nul", "%00", STRLEN, -1, NULL },
    { "encoded nul after text", "abc%00def", STRLEN, -1, NULL },
    { "raw nul inside the length", "a\0b", 3, -1, NULL },
    { "trailing percent", "abc%", STRLEN, -1, NULL },
    { "lone percent", "%", STRLEN, -1, NULL },
    { "double percent", "%%41", STRLEN, -1, NULL },
};

START_TEST(test_form_decode)
{
    const form_case_t *c = &form_cases[_i];
    apr_size_t len = case_len(c->in, c->len);
    char *out = malloc(len + 1);
    long n;

    ck_assert_ptr_nonnull(out);
    n = ssg_form_decode(out, c->in, len);
    if (c->want_len < 0) {
        free(out);
        ck_assert_msg(n == -1, "%s: accepted (%ld bytes)", c->name, n);
        return;
    }
    ck_assert_msg(n == c->want_len, "%s: got %ld bytes, want %ld", c->name,
                  n, c->want_len);
    ck_assert_msg(memcmp(out, c->want, (size_t)n) == 0, "%s: wrong bytes", c->name);
    ck_assert_msg(out[n] == '\0', "%s: not NUL-terminated", c->name);
    free(out);
}
END_TEST

/* ------------------------------------------------------------- query get */

typedef struct {
    const char *name;
    const char *query;    /* may be NULL */
    const char *key;
    int want_rc;
    const char *want;     /* NULL: absent (or refused) */
} query_case_t;

static const query_case_t query_cases[] = {
    { "null query", NULL, "return", 0, NULL },
    { "empty query", "", "return", 0, NULL },
    { "absent", "a=1&b=2", "return", 0, NULL },
    { "present alone", "return=%2Fapp", "return", 0, "/app" },
    { "present in the middle", "a=1&return=%2Fx&b=2", "return", 0, "/x" },
    { "present last", "a=1&return=/x", "return", 0, "/x" },
    { "empty value", "return=", "return", 0, "" },
    { "key without '='", "a=1&return&b=2", "return", 0, "" },
    { "value keeps later '='", "return=/a=b", "return", 0, "/a=b" },
    { "plus decodes to space", "return=/a+b", "return", 0, "/a b" },
    { "empty elements skipped", "&&return=/x&&", "return", 0, "/x" },
    { "key as prefix of another", "returnx=1", "return", 0, NULL },
    { "key as suffix of another", "xreturn=1", "return", 0, NULL },
    { "key case-sensitive", "Return=/x", "return", 0, NULL },
    { "encoded key is not the key", "ret%75rn=/x", "return", 0, NULL },
    { "longer key present beside", "returnx=/evil&return=/x", "return", 0, "/x" },
    { "malformed escape elsewhere ignored", "a=%zz&return=/x", "return", 0, "/x" },

    { "repeated key", "return=/a&return=/b", "return", -1, NULL },
    { "repeated key same value", "return=/a&return=/a", "return", -1, NULL },
    { "repeated key one bare", "return&return=/x", "return", -1, NULL },
    { "repeated key one empty", "return=&return=/x", "return", -1, NULL },
    { "malformed escape", "return=%zz", "return", -1, NULL },
    { "truncated escape", "return=/a%2", "return", -1, NULL },
    { "trailing percent", "return=/a%", "return", -1, NULL },
    { "encoded nul", "return=/a%00", "return", -1, NULL },
};

START_TEST(test_query_get)
{
    const query_case_t *c = &query_cases[_i];
    const char *v = "sentinel";
    int rc;

    rc = ssg_query_get(pool, c->query, c->key, &v);
    ck_assert_msg(rc == c->want_rc, "%s: rc %d, want %d", c->name, rc, c->want_rc);
    if (c->want) {
        ck_assert_msg(v != NULL, "%s: value absent", c->name);
        ck_assert_msg(strcmp(v, c->want) == 0, "%s: got \"%s\", want \"%s\"",
                      c->name, v, c->want);
    }
    else {
        ck_assert_msg(v == NULL, "%s: got \"%s\", want none", c->name, v);
    }
}
END_TEST

/* ----------------------------------------------------------- cookie_find */

typedef struct {
    const char *name;   /* what the case proves */
    const char *header;
    const char *cookie;
    ssg_cookie_e want;
    const char *value;  /* for SSG_COOKIE_FOUND */
} cookie_case_t;

static const cookie_case_t cookie_cases[] = {
    { "alone", "session=abc", "session", SSG_COOKIE_FOUND, "abc" },
    { "among others", "a=1; session=abc; b=2", "session", SSG_COOKIE_FOUND, "abc" },
    { "last", "a=1; session=abc", "session", SSG_COOKIE_FOUND, "abc" },
    { "no space after ;", "a=1;session=abc;b=2", "session", SSG_COOKIE_FOUND, "abc" },
    { "leading tabs and spaces trimmed", "a=1;\t  session=abc", "session", SSG_COOKIE_FOUND, "abc" },
    { "trailing space kept", "session=abc ; b=2", "session", SSG_COOKIE_FOUND, "abc " },
    { "empty value", "session=; b=2", "session", SSG_COOKIE_FOUND, "" },
    { "value with = and quotes", "session=\"a=b\"", "session", SSG_COOKIE_FOUND, "\"a=b\"" },
    { "runs of ;", ";;session=abc;;", "session", SSG_COOKIE_FOUND, "abc" },
    { "same value twice", "session=abc; session=abc", "session", SSG_COOKIE_FOUND, "abc" },
    { "token-shaped value", "session=v1.k.1.dXNlcj1h.AAAA", "session", SSG_COOKIE_FOUND,
      "v1.k.1.dXNlcj1h.AAAA" },

    { "absent", "a=1; b=2", "session", SSG_COOKIE_ABSENT, NULL },
    { "empty header", "", "session", SSG_COOKIE_ABSENT, NULL },
    { "only separators", " ; ;\t", "session", SSG_COOKIE_ABSENT, NULL },
    { "longer name", "sessionx=abc", "session", SSG_COOKIE_ABSENT, NULL },
    { "name as suffix", "xsession=abc", "session", SSG_COOKIE_ABSENT, NULL },
    { "name without =", "session; a=1", "session", SSG_COOKIE_ABSENT, NULL },
    { "space before =", "session =abc", "session", SSG_COOKIE_ABSENT, NULL },
    { "case differs", "Session=abc", "session", SSG_COOKIE_ABSENT, NULL },
    { "name in a value", "a=session=abc", "session", SSG_COOKIE_ABSENT, NULL },

    { "different values twice", "session=abc; session=abd", "session", SSG_COOKIE_UNSURE, NULL },
    { "second one empty", "session=abc; session=", "session", SSG_COOKIE_UNSURE, NULL },
    { "comma", "a=1, session=abc", "session", SSG_COOKIE_UNSURE, NULL },
    { "comma in another value", "session=abc; a=1,2", "session", SSG_COOKIE_UNSURE, NULL },
    { "high byte", "session=abc; a=\xc3\xa9", "session", SSG_COOKIE_UNSURE, NULL },
    { "high byte before the name", "\xa0session=abc", "session", SSG_COOKIE_UNSURE, NULL },
    { "empty name", "session=abc", "", SSG_COOKIE_UNSURE, NULL },
    { "name with ;", "a;b=1", "a;b", SSG_COOKIE_UNSURE, NULL },
    { "name with ,", "a=1", "a,b", SSG_COOKIE_UNSURE, NULL },
    { "name starting with space", " a=1", " a", SSG_COOKIE_UNSURE, NULL },
};

START_TEST(test_cookie_find)
{
    const cookie_case_t *c = &cookie_cases[_i];
    const char *v = "sentinel";
    apr_size_t vlen = 99;
    ssg_cookie_e rc = ssg_cookie_find(c->header, c->cookie, &v, &vlen);

    ck_assert_msg(rc == c->want, "%s: rc %d, want %d", c->name, rc, c->want);
    if (c->value) {
        ck_assert_msg(v && vlen == strlen(c->value) && memcmp(v, c->value, vlen) == 0,
                      "%s: got \"%.*s\", want \"%s\"", c->name, (int)vlen, v ? v : "", c->value);
        ck_assert_msg(v >= c->header && v + vlen <= c->header + strlen(c->header),
                      "%s: the value must point into the header", c->name);
    }
    else {
        ck_assert_msg(v == NULL && vlen == 0, "%s: value set", c->name);
    }
}
END_TEST

static void cookie_compare(apr_pool_t *p, const char *header, const char *name)
{
    const char *why = ref_check_cookie(p, header, name);
    ck_assert_msg(why == NULL, "%s", why);
}

/* Call fn on every string of 0..maxlen characters of alphabet, each with
 * the pool cleared before; @return how many. */
static long each_string(apr_pool_t *p, const char *alphabet, int maxlen,
                        void (*fn)(apr_pool_t *, const char *))
{
    const int k = (int)strlen(alphabet);
    char buf[16];
    long total = 0;
    int len, i;

    for (len = 0; len <= maxlen && len < (int)sizeof(buf); len++) {
        long n = 1, idx;
        for (i = 0; i < len; i++) {
            n *= k;
        }
        for (idx = 0; idx < n; idx++) {
            long x = idx;
            for (i = 0; i < len; i++) {
                buf[i] = alphabet[x % k];
                x /= k;
            }
            buf[len] = '\0';
            apr_pool_clear(p);
            fn(p, buf);
            total++;
        }
    }
    return total;
}

static void cookie_compare_both(apr_pool_t *p, const char *header)
{
    cookie_compare(p, header, "s");
    cookie_compare(p, header, "sa");
}

/* Every header of up to 6 bytes over an alphabet holding each separator,
 * white space and the name's own letters. */
START_TEST(test_cookie_find_exhaustive)
{
    apr_pool_t *sub;

    apr_pool_create(&sub, pool);
    ck_assert_int_eq(each_string(sub, "s=; \t,a", 6, cookie_compare_both),
                     137257); /* 7^0 + ... + 7^6 */
    apr_pool_destroy(sub);
}
END_TEST

/* The header is scanned eight bytes at a time: a ',', a DEL or a high byte
 * in any lane of any word, or in the tail, makes it UNSURE. */
START_TEST(test_cookie_find_every_lane)
{
    static const unsigned char bad[] = { ',', 0x7f, 0x80, 0xa0, 0xff };
    char buf[64];
    int pos, b;

    for (b = 0; b < NELTS(bad); b++) {
        for (pos = 0; pos < 41; pos++) {
            const char *v;
            apr_size_t vlen;
            memset(buf, 'x', 41);
            memcpy(buf, "session=abc;", 12);
            buf[41] = '\0';
            buf[pos] = (char)bad[b];
            ck_assert_msg(ssg_cookie_find(buf, "session", &v, &vlen) == SSG_COOKIE_UNSURE,
                          "byte 0x%02x at %d", bad[b], pos);
        }
    }
    memset(buf, 'x', 41);
    memcpy(buf, "session=abc;", 12);
    buf[41] = '\0';
    {
        const char *v;
        apr_size_t vlen;
        ck_assert(ssg_cookie_find(buf, "session", &v, &vlen) == SSG_COOKIE_FOUND && vlen == 3);
    }
}
END_TEST

/* Longer random headers built from cookie-like parts. */
START_TEST(test_cookie_find_random)
{
    static const char *const parts[] = {
        "session=", "session", "sess=", "xsession=", "=", ";", "; ", " ", "\t", ",",
        "v1.k.1.AAA", "abc", "abd", "a=1", "\"q\"", "\v", "\r", "\xc3\xa9",
    };
    unsigned long seed = 0x5eed1234UL;
    char buf[256];
    int round, j;
    apr_pool_t *sub;

    apr_pool_create(&sub, pool);
    for (round = 0; round < 20000; round++) {
        int n;
        buf[0] = '\0';
        seed = seed * 6364136223846793005UL + 1442695040888963407UL;
        n = (int)((seed >> 33) % 12);
        for (j = 0; j < n; j++) {
            seed = seed * 6364136223846793005UL + 1442695040888963407UL;
            strcat(buf, parts[(seed >> 33) % NELTS(parts)]);
        }
        cookie_compare(sub, buf, "session");
        apr_pool_clear(sub);
    }
    apr_pool_destroy(sub);
}
END_TEST

/* ------------------------------------------------------ payload_decode */

static void payload_compare(apr_pool_t *p, const char *payload)
{
    const char *why = ref_check_payload(p, payload);
    ck_assert_msg(why == NULL, "%s", why);
}

typedef struct {
    const char *name;
    const char *payload;
    int want;
    const char *key, *value; /* one entry to look up, or NULL */
    apr_int64_t expiry;      /* -7: untouched */
} payload_case_t;

static const payload_case_t payload_cases[] = {
    { "one pair", "user=alice", 1, "user", "alice", -7 },
    { "plus is a space", "user=al+ice", 1, "user", "al ice", -7 },
    { "later key replaces", "user=a&user=b", 1, "user", "b", -7 },
    { "keys case-insensitive like mod_session", "User=a&user=b", 1, "USER", "b", -7 },
    { "expiry is not an entry", "user=a&expiry=1700000000000000", 1, "expiry", NULL,
      1700000000000000LL },
    { "expiry as apr_atoi64 reads it", "expiry=12abc&user=a", 1, "user", "a", 12 },
    { "percent escapes go to mod_session", "user=a%40b", 0, NULL, NULL, -7 },
    { "empty value goes to mod_session", "user=&role=x", 0, NULL, NULL, -7 },
    { "empty key goes to mod_session", "=a", 0, NULL, NULL, -7 },
    { "bare key goes to mod_session", "user", 0, NULL, NULL, -7 },
    { "second = goes to mod_session", "user=a=b", 0, NULL, NULL, -7 },
    { "&& goes to mod_session", "a=1&&b=2", 0, NULL, NULL, -7 },
    { "trailing & goes to mod_session", "a=1&", 0, NULL, NULL, -7 },
    { "empty payload goes to mod_session", "", 0, NULL, NULL, -7 },
};

START_TEST(test_payload_decode)
{
    const payload_case_t *c = &payload_cases[_i];
    apr_table_t *t = apr_table_make(pool, 4);
    apr_int64_t e = -7;
    char *copy = apr_pstrdup(pool, c->payload);
    int rc = ssg_payload_decode_simple(copy, t, &e);

    ck_assert_msg(rc == c->want, "%s: rc %d", c->name, rc);
    ck_assert_msg(e == c->expiry, "%s: expiry %lld", c->name, (long long)e);
    if (c->key) {
        const char *v = apr_table_get(t, c->key);
        ck_assert_msg(c->value ? (v && !strcmp(v, c->value)) : v == NULL, "%s: %s=%s", c->name,
                      c->key, v ? v : "(none)");
    }
    payload_compare(pool, c->payload);
}
END_TEST

/* Every payload of up to 6 bytes over an alphabet of the separators, '+',
 * '%' and two letters; and two with "expiry" spelled out. */
START_TEST(test_payload_decode_exhaustive)
{
    apr_pool_t *sub;

    apr_pool_create(&sub, pool);
    ck_assert_int_eq(each_string(sub, "ab=&+%", 6, payload_compare),
                     55987); /* 6^0 + ... + 6^6 */
    payload_compare(sub, "expiry=5&a=b&expiry=6");
    payload_compare(sub, "a=b&expiry=-3&b=expiry");
    apr_pool_destroy(sub);
}
END_TEST

/* -------------------------------------------------------------------- main */

static Suite *util_suite(void)
{
    Suite *s = suite_create("ssg_util");
    TCase *tc;

    tc = tcase_create("return_path");
    tcase_add_loop_test(tc, test_return_path, 0, NELTS(return_cases));
    tcase_add_loop_test(tc, test_return_path_length, 0, NELTS(return_len_cases));
    tcase_add_test(tc, test_return_path_length_all_escapes);
    tcase_add_loop_test(tc, test_return_str, 0, NELTS(return_str_cases));
    tcase_add_test(tc, test_return_str_unknown);
    suite_add_tcase(s, tc);

    tc = tcase_create("form_decode");
    tcase_add_loop_test(tc, test_form_decode, 0, NELTS(form_cases));
    suite_add_tcase(s, tc);

    tc = tcase_create("query_get");
    tcase_add_checked_fixture(tc, pool_setup, pool_teardown);
    tcase_add_loop_test(tc, test_query_get, 0, NELTS(query_cases));
    suite_add_tcase(s, tc);

    tc = tcase_create("cookie_find");
    tcase_add_checked_fixture(tc, pool_setup, pool_teardown);
    tcase_set_timeout(tc, 300); /* the exhaustive test, under valgrind */
    tcase_add_loop_test(tc, test_cookie_find, 0, NELTS(cookie_cases));
    tcase_add_test(tc, test_cookie_find_exhaustive);
    tcase_add_test(tc, test_cookie_find_every_lane);
    tcase_add_test(tc, test_cookie_find_random);
    suite_add_tcase(s, tc);

    tc = tcase_create("payload_decode");
    tcase_add_checked_fixture(tc, pool_setup, pool_teardown);
    tcase_set_timeout(tc, 300); /* the exhaustive test, under valgrind */
    tcase_add_loop_test(tc, test_payload_decode, 0, NELTS(payload_cases));
    tcase_add_test(tc, test_payload_decode_exhaustive);
    suite_add_tcase(s, tc);

    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(util_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
