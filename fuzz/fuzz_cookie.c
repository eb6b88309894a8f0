/*
 * fuzz_cookie.c - libFuzzer target: a Cookie header through
 * mod_session_sign's cookie reader, and the value on to ssg_verify.
 *
 * In production, where a scope signs sessions and the store is plain
 * mod_session_cookie, ssg_cookie_find() reads the session cookie out of
 * the Cookie header (the fast path of mod_session_sign.c); elsewhere
 * httpd's ap_cookie_read() does. The two must agree. The input is embedded
 * in a header
 *
 *     a=b; session=<input>; c=d
 *
 * (cut at the first NUL, as httpd's C strings are), read by
 * ssg_cookie_find() and by ref_cookie_read(), the reference rewrite of
 * ap_cookie_read()'s algorithm in tests/unit/ref_httpd.h. Properties:
 * FOUND and ABSENT are the reference's answer; UNSURE exactly when the
 * header holds ',' or a byte above 0x7e, or the reference saw a duplicate.
 * A value found is verified with the ring and clock of fuzz_token.c; an
 * accepted token's payload goes through ssg_payload_decode_simple(),
 * checked against ref_identity_decode() the same way.
 *
 * Seeds: fuzz/corpus/cookie, made by fuzz/make_seeds.py.
 */
#include "fuzz_common.h"
#include "fuzz_token_ring.h"

#include "ssg_token.h"
#include "ssg_util.h"
#include "../tests/unit/ref_httpd.h"

#define COOKIE_NAME   "session"
#define HEADER_BEFORE "a=b; " COOKIE_NAME "="
#define HEADER_AFTER  "; c=d"

static int same_entry(void *rec, const char *key, const char *val)
{
    const char *other = apr_table_get((apr_table_t *)rec, key);
    return other && !strcmp(other, val);
}

/* ssg_payload_decode_simple() against mod_session's algorithm */
static void check_payload(apr_pool_t *p, const char *payload)
{
    apr_table_t *fast = apr_table_make(p, 4), *ref = apr_table_make(p, 4);
    apr_int64_t fe = -7, re = -7;
    char *copy = apr_pstrdup(p, payload);

    if (!ssg_payload_decode_simple(copy, fast, &fe)) {
        FUZZ_CHECK(strcmp(copy, payload) == 0 && apr_is_empty_table(fast) && fe == -7,
                   "a payload left to mod_session was changed");
        return;
    }
    FUZZ_CHECK(!strchr(payload, '%'), "decoded a payload with '%%'");
    ref_identity_decode(p, payload, ref, &re);
    FUZZ_CHECK(fe == re && apr_table_elts(fast)->nelts == apr_table_elts(ref)->nelts &&
                   apr_table_do(same_entry, ref, fast, NULL) &&
                   apr_table_do(same_entry, fast, ref, NULL),
               "payload decoded unlike mod_session");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    size_t blen = strlen(HEADER_BEFORE), alen = strlen(HEADER_AFTER);
    size_t hlen = blen + size + alen;
    apr_size_t vlen;
    char *header = malloc(hlen + 1);
    const char *value;
    ssg_cookie_e found;
    ref_cookie_t ref;

    if (!header) {
        abort();
    }
    fuzz_rings_init();
    memcpy(header, HEADER_BEFORE, blen);
    if (size) {
        memcpy(header + blen, data, size);
    }
    memcpy(header + blen + size, HEADER_AFTER, alen);

    header[hlen] = '\0';
    found = ssg_cookie_find(header, COOKIE_NAME, &value, &vlen);
    ref = ref_cookie_read(p, header, COOKIE_NAME);
    if (strchr(header, ',') || ref_has_high_byte(header) || ref.duplicated) {
        FUZZ_CHECK(found == SSG_COOKIE_UNSURE, "decided a header httpd reads otherwise (%d)",
                   found);
    }
    else if (ref.value) {
        FUZZ_CHECK(found == SSG_COOKIE_FOUND && vlen == strlen(ref.value) &&
                       memcmp(value, ref.value, vlen) == 0,
                   "value differs from httpd's (%d)", found);
    }
    else {
        FUZZ_CHECK(found == SSG_COOKIE_ABSENT, "found a cookie httpd does not (%d)", found);
    }

    if (found == SSG_COOKIE_FOUND) {
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
            check_payload(p, res.payload);
        }
        free(v);
    }
    free(header);
    fuzz_input_done();
    return 0;
}
