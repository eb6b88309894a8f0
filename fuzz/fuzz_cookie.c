/*
 * fuzz_cookie.c - libFuzzer target: a Cookie header through
 * mod_session_sign's cookie reader, and the value on to ssg_verify.
 *
 * ssg_cookie_find() (core/ssg_util.c) reads a session cookie out of a
 * Cookie header in one pass, as the bench's minimal gate (M) does; httpd's
 * ap_cookie_read() is the reference, and the two must agree. The input is embedded
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    size_t blen = strlen(HEADER_BEFORE), alen = strlen(HEADER_AFTER);
    size_t hlen = blen + size + alen;
    apr_size_t vlen;
    char *header = malloc(hlen + 1);
    const char *value;
    ssg_cookie_e found;
    const char *why;

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
    why = ref_check_cookie(p, header, COOKIE_NAME);
    FUZZ_CHECK(why == NULL, "%s", why);
    found = ssg_cookie_find(header, COOKIE_NAME, &value, &vlen);

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
            why = ref_check_payload(p, res.payload);
            FUZZ_CHECK(why == NULL, "%s", why);
        }
        free(v);
    }
    free(header);
    fuzz_input_done();
    return 0;
}
