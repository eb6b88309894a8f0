/*
 * fuzz_login.c - libFuzzer target: the login form and its `return`
 * parameter (core/ssg_util.c): ssg_query_get,
 * ssg_return_path_check and ssg_form_decode.
 *
 * The input is used as the request's query string (cut at a NUL, as
 * r->args is a C string), as a raw `return` value, and as a form-encoded
 * field. The login handler takes `return` from the query (ssg_query_get,
 * then ssg_return_path_check) or from the form body (httpd decodes it once,
 * then ssg_return_path_check): both paths are run here. Properties:
 *  - ssg_form_decode agrees with a model written here: refused exactly for
 *    a '%' not followed by two hex digits within the length, or a decoded
 *    or raw NUL; otherwise the same bytes;
 *  - ssg_query_get agrees with a model: -1 if "return" is given twice or
 *    its value is malformed, else the one decoded value or none;
 *  - a path accepted by ssg_return_path_check is at most SSG_MAX_RETURN_LEN
 *    bytes of printable ASCII without '\', starts with one '/' not followed
 *    by '/' or '\', and after one more percent-decoding (done here, leaving
 *    malformed escapes as they are) still never starts with "//" or "/\"
 *    and contains no '\', NUL, control byte, space or non-ASCII byte.
 *
 * Seeds: fuzz/corpus/login, made by fuzz/make_seeds.py.
 */
#include "fuzz_common.h"

#include "ssg_util.h"

static int hex(uint8_t c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Model of application/x-www-form-urlencoded decoding. @return length or -1. */
static long model_decode(uint8_t *out, const uint8_t *in, size_t len)
{
    size_t i, n = 0;

    for (i = 0; i < len; i++) {
        uint8_t c = in[i];

        if (c == '%') {
            if (len - i < 3 || hex(in[i + 1]) < 0 || hex(in[i + 2]) < 0) {
                return -1;
            }
            c = (uint8_t)(hex(in[i + 1]) * 16 + hex(in[i + 2]));
            i += 2;
        }
        else if (c == '+') {
            c = ' ';
        }
        if (c == 0) {
            return -1;
        }
        out[n++] = c;
    }
    return (long)n;
}

/* One more round of percent-decoding, malformed escapes left as they are. */
static size_t decode_again(uint8_t *out, const uint8_t *in, size_t len)
{
    size_t i, n = 0;

    for (i = 0; i < len; i++) {
        if (in[i] == '%' && len - i >= 3 && hex(in[i + 1]) >= 0 && hex(in[i + 2]) >= 0) {
            out[n++] = (uint8_t)(hex(in[i + 1]) * 16 + hex(in[i + 2]));
            i += 2;
        }
        else {
            out[n++] = in[i];
        }
    }
    return n;
}

static int is_safe_byte(uint8_t c)
{
    return c > 0x20 && c < 0x7f && c != '\\';
}

/* the return-path property, for a path the core accepted */
static void check_accepted_path(const uint8_t *path, size_t len)
{
    uint8_t *once;
    size_t i, n;

    FUZZ_CHECK(len >= 1 && len <= SSG_MAX_RETURN_LEN, "accepted %lu bytes",
               (unsigned long)len);
    FUZZ_CHECK(path[0] == '/' && (len == 1 || (path[1] != '/' && path[1] != '\\')),
               "accepted a path that is not local");
    for (i = 0; i < len; i++) {
        FUZZ_CHECK(is_safe_byte(path[i]), "accepted byte 0x%02x", path[i]);
    }
    once = malloc(len);
    if (!once) {
        abort();
    }
    n = decode_again(once, path, len);
    FUZZ_CHECK(n >= 1 && once[0] == '/', "decodes to a path not starting with '/'");
    FUZZ_CHECK(!(n >= 2 && (once[1] == '/' || once[1] == '\\')),
               "decodes to \"%c%c...\": not local after one more decoding",
               once[0], once[1]);
    for (i = 0; i < n; i++) {
        FUZZ_CHECK(is_safe_byte(once[i]), "decodes to byte 0x%02x", once[i]);
    }
    free(once);
}

static void check_return(const uint8_t *path, size_t len)
{
    ssg_return_e st = ssg_return_path_check((const char *)path, len);
    const char *why = ssg_return_str(st);

    FUZZ_CHECK(why && strcmp(why, "unknown") != 0, "status %d", st);
    if (st == SSG_RET_OK) {
        check_accepted_path(path, len);
    }
    else if (len > SSG_MAX_RETURN_LEN) {
        FUZZ_CHECK(st == SSG_RET_TOO_LONG, "long path: %s", why);
    }
    else if (len == 0) {
        FUZZ_CHECK(st == SSG_RET_EMPTY, "empty path: %s", why);
    }
}

/* the form path: a field decoded once by the form parser, then checked */
static void fuzz_form(const uint8_t *data, size_t size)
{
    char *out = malloc(size + 1);
    uint8_t *want = malloc(size + 1);
    long n, m;

    if (!out || !want) {
        abort();
    }
    n = ssg_form_decode(out, (const char *)data, size);
    m = model_decode(want, data, size);
    FUZZ_CHECK(n == m, "form_decode gave %ld, the model %ld", n, m);
    if (n >= 0) {
        FUZZ_CHECK(out[n] == '\0', "not NUL-terminated");
        FUZZ_CHECK(n == 0 || memcmp(out, want, (size_t)n) == 0, "decoded bytes differ");
        check_return((const uint8_t *)out, (size_t)n);
    }
    free(want);
    free(out);
}

/* Model of ssg_query_get(query, "return"). @return 0 or -1; sets *val and *vlen. */
static int model_query(const char *q, const uint8_t **val, size_t *vlen)
{
    const char *p = q;
    int found = 0;

    *val = NULL;
    *vlen = 0;
    while (*p) {
        size_t len = strcspn(p, "&");
        const char *eq = memchr(p, '=', len);
        size_t nlen = eq ? (size_t)(eq - p) : len;

        if (nlen == 6 && memcmp(p, "return", 6) == 0) {
            if (found++) {
                return -1;
            }
            *val = (const uint8_t *)(eq ? eq + 1 : p + len);
            *vlen = eq ? len - nlen - 1 : 0;
        }
        p += len;
        if (*p == '&') {
            p++;
        }
    }
    return 0;
}

static void fuzz_query(apr_pool_t *pool, const uint8_t *data, size_t size)
{
    char *q = fuzz_cstr(data, size);
    const char *v = "unset";
    const uint8_t *raw;
    size_t rlen;
    int rc = ssg_query_get(pool, q, "return", &v);
    int want = model_query(q, &raw, &rlen);

    FUZZ_CHECK(rc == 0 || rc == -1, "rc %d", rc);
    if (want == 0 && raw) {
        uint8_t *dec = malloc(rlen + 1);
        long m;

        if (!dec) {
            abort();
        }
        m = model_decode(dec, raw, rlen);
        if (m < 0) {
            FUZZ_CHECK(rc == -1, "malformed return value accepted");
        }
        else {
            FUZZ_CHECK(rc == 0 && v != NULL && strlen(v) == (size_t)m
                       && (m == 0 || memcmp(v, dec, (size_t)m) == 0),
                       "return value differs from the model");
            /* the query path of the login handler */
            check_return((const uint8_t *)v, strlen(v));
        }
        free(dec);
    }
    else if (want == 0) {
        FUZZ_CHECK(rc == 0 && v == NULL, "found a return that is not there");
    }
    else {
        FUZZ_CHECK(rc == -1, "repeated return accepted");
    }
    FUZZ_CHECK(ssg_query_get(pool, NULL, "return", &v) == 0 && v == NULL, "NULL query");
    free(q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();

    fuzz_query(p, data, size);
    check_return(data, size);          /* data is exact-size: ASan sees overruns */
    fuzz_form(data, size);
    fuzz_input_done();
    return 0;
}
