/*
 * fuzz_cookie.c - libFuzzer target: a cookie value on its way to ssg_verify.
 *
 * Honest scope: our core has no cookie parser. In production httpd's
 * ap_cookie_read (called by mod_session_cookie) splits the Cookie header
 * and mod_session hands the session cookie's value, unchanged, to our
 * decode hook, which passes it to ssg_verify. httpd's code is not linked
 * here. This target stands in for that path with a tiny splitter written
 * below (test code, not httpd's): the input is embedded in a Cookie header
 *
 *     a=b; session=<input>; c=d
 *
 * the header is split at ';', each pair trimmed of SP/HTAB and split at its
 * first '='; a session cookie given more than once is no session (as httpd
 * refuses it, AH00011); the one value found is verified with the ring and
 * clock of fuzz_token.c. So this fuzzes ssg_verify with values shaped by
 * cookie syntax (cut at ';', spaces, '=', quotes, a second session=...),
 * and checks the splitter against its own contract; it says nothing about
 * httpd's cookie code.
 *
 * Seeds: fuzz/corpus/cookie, made by fuzz/make_seeds.py.
 */
#include "fuzz_common.h"
#include "fuzz_token_ring.h"

#include "ssg_token.h"

#define COOKIE_NAME   "session"
#define HEADER_BEFORE "a=b; " COOKIE_NAME "="
#define HEADER_AFTER  "; c=d"

#define IS_OWS(c) ((c) == ' ' || (c) == '\t')

/*
 * Find the value of the cookie called name in header[0..len).
 * @return the number of cookies called name; *value and *value_len hold the
 *         last one's value.
 */
static int cookie_find(const char *header, size_t len, const char *name,
                       const char **value, size_t *value_len)
{
    size_t pos = 0, nlen = strlen(name);
    int found = 0;

    *value = NULL;
    *value_len = 0;
    while (pos <= len) {
        size_t b = pos, e = pos;
        const char *eq;

        while (e < len && header[e] != ';') {
            e++;
        }
        pos = e + 1;
        while (b < e && IS_OWS(header[b])) {
            b++;
        }
        while (e > b && IS_OWS(header[e - 1])) {
            e--;
        }
        eq = memchr(header + b, '=', e - b);
        if (eq && (size_t)(eq - (header + b)) == nlen
            && memcmp(header + b, name, nlen) == 0) {
            found++;
            *value = eq + 1;
            *value_len = (size_t)((header + e) - (eq + 1));
        }
    }
    return found;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    size_t blen = strlen(HEADER_BEFORE), alen = strlen(HEADER_AFTER);
    size_t hlen = blen + size + alen, vlen, i;
    char *header = malloc(hlen);
    const char *value;
    int n, plain = 1;

    if (!header) {
        abort();
    }
    fuzz_rings_init();
    memcpy(header, HEADER_BEFORE, blen);
    if (size) {
        memcpy(header + blen, data, size);
    }
    memcpy(header + blen + size, HEADER_AFTER, alen);

    n = cookie_find(header, hlen, COOKIE_NAME, &value, &vlen);

    /* the splitter's own contract: an input with no ';' and no outer
     * blanks comes out exactly as it went in */
    for (i = 0; i < size; i++) {
        if (data[i] == ';') {
            plain = 0;
        }
    }
    if (size && (IS_OWS(data[0]) || IS_OWS(data[size - 1]))) {
        plain = 0;
    }
    if (plain) {
        FUZZ_CHECK(n == 1 && vlen == size && (size == 0 || memcmp(value, data, size) == 0),
                   "splitter changed a plain value (%d cookies)", n);
    }

    if (n == 1) {
        ssg_result_t res;
        ssg_status_e st;
        /* an exact-size copy, so ASan sees a read past the value */
        char *v = fuzz_cstr((const uint8_t *)value, vlen);

        memset(&res, 0, sizeof(res));
        st = ssg_verify(p, fuzz_ring_both, FUZZ_CONTEXT, FUZZ_NOW,
                        FUZZ_MAX_LIFETIME, SSG_CLOCK_SKEW, v, vlen, &res);
        if (ssg_status_ok(st)) {
            fuzz_check_accepted(p, FUZZ_CONTEXT, FUZZ_CONTEXT_OTHER, st, &res,
                                (const uint8_t *)v, vlen);
        }
        free(v);
    }
    /* n > 1: a duplicated session cookie is no session; nothing is verified */
    free(header);
    fuzz_input_done();
    return 0;
}
