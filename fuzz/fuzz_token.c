/*
 * fuzz_token.c - libFuzzer target: the token parser and verifier
 * (ssg_verify, ssg_sign, strict base64url of mod_session_sign/ssg_token.c).
 *
 * The input is used three ways:
 *  1. as a token, verified against a fixed ring of two keys (current and
 *     previous) under two contexts at a fixed "now" (fuzz_token_ring.h);
 *     an accepted token must pass the checks of fuzz_check_accepted, and
 *     the status must not depend on whether a result is asked for;
 *  2. as base64url text: whatever decodes must re-encode to the same text
 *     (strict, canonical decoding), and any bytes encode and decode back;
 *  3. as a session payload: every token ssg_sign returns must verify and
 *     give back the payload, iat and key; ssg_sign may refuse only a token
 *     that would be longer than SSG_MAX_TOKEN_LEN.
 *
 * Seeds: fuzz/corpus/token, made by fuzz/make_seeds.py.
 */
#include "fuzz_common.h"
#include "fuzz_token_ring.h"

#include "ssg_token.h"

static void fuzz_as_token(apr_pool_t *p, const uint8_t *data, size_t size)
{
    static const char *const ctx[2] = { FUZZ_CONTEXT, FUZZ_CONTEXT_OTHER };
    int i;

    for (i = 0; i < 2; i++) {
        ssg_result_t res;
        ssg_status_e st, st2;
        const char *why;

        memset(&res, 0, sizeof(res));
        st = ssg_verify(p, fuzz_ring_both, ctx[i], FUZZ_NOW, FUZZ_MAX_LIFETIME,
                        SSG_CLOCK_SKEW, (const char *)data, size, &res);
        why = ssg_status_str(st);
        FUZZ_CHECK(why && strcmp(why, "unknown") != 0, "status %d", st);
        st2 = ssg_verify(p, fuzz_ring_both, ctx[i], FUZZ_NOW, FUZZ_MAX_LIFETIME,
                         SSG_CLOCK_SKEW, (const char *)data, size, NULL);
        FUZZ_CHECK(st2 == st, "status %d without a result, %d with one", st2, st);
        if (ssg_status_ok(st)) {
            fuzz_check_accepted(p, ctx[i], ctx[1 - i], st, &res, data, size);
        }
    }
}

static void fuzz_as_base64url(const uint8_t *data, size_t size)
{
    apr_size_t tlen = ssg_b64url_encoded_len(size);
    /* output buffers of exactly the size ssg_token.h asks for: len*3/4+1 */
    unsigned char *raw = malloc(size * 3 / 4 + 1);
    char *text = malloc(tlen + 1);
    unsigned char *back = malloc(tlen * 3 / 4 + 1);
    long n;

    if (!raw || !text || !back) {
        abort();
    }
    n = ssg_b64url_decode(raw, (const char *)data, size);
    if (n >= 0) {
        char *again = malloc(ssg_b64url_encoded_len((apr_size_t)n) + 1);

        if (!again) {
            abort();
        }
        ssg_b64url_encode(again, raw, (apr_size_t)n);
        FUZZ_CHECK(strlen(again) == size && (size == 0 || memcmp(again, data, size) == 0),
                   "decoding of %lu bytes is not canonical", (unsigned long)size);
        free(again);
    }

    ssg_b64url_encode(text, data, size);
    FUZZ_CHECK(strlen(text) == tlen, "encoded length");
    n = ssg_b64url_decode(back, text, tlen);
    FUZZ_CHECK(n >= 0 && (size_t)n == size && (size == 0 || memcmp(back, data, size) == 0),
               "encode/decode of %lu bytes does not round-trip", (unsigned long)size);
    free(back);
    free(text);
    free(raw);
}

static void fuzz_as_payload(apr_pool_t *p, const uint8_t *data, size_t size)
{
    apr_size_t total;
    char *tok;
    ssg_result_t res;
    ssg_status_e st;
    int has_nul;

    if (size == 0) {
        FUZZ_CHECK(ssg_sign(p, fuzz_ring_both, FUZZ_CONTEXT, FUZZ_IAT, "", 0) == NULL,
                   "signed an empty payload");
        return;
    }
    has_nul = memchr(data, '\0', size) != NULL;
    /* "v1" "." kid "." iat(10 digits) "." payload "." mac */
    total = 2 + 1 + SSG_KID_LEN + 1 + 10 + 1 + ssg_b64url_encoded_len(size)
            + 1 + SSG_MAC_B64_LEN;
    tok = ssg_sign(p, fuzz_ring_both, FUZZ_CONTEXT, FUZZ_IAT,
                   (const char *)data, size);
    if (total > SSG_MAX_TOKEN_LEN) {
        FUZZ_CHECK(tok == NULL, "signed a token of %lu bytes", (unsigned long)total);
        return;
    }
    /*
     * Known inconsistency in the core (reported, not fixed here): ssg_sign
     * signs a payload that contains a NUL byte, and ssg_verify then refuses
     * that authentic token as SSG_ERR_MALFORMED. The glue signs only C
     * strings, so it cannot happen through the module. Both today's
     * behaviour and the fix (ssg_sign returns NULL) are accepted here; any
     * other outcome fails.
     */
    if (has_nul && tok == NULL) {
        return;
    }
    FUZZ_CHECK(tok != NULL, "refused to sign %lu bytes", (unsigned long)size);
    FUZZ_CHECK(strlen(tok) == total, "token of %lu bytes, expected %lu",
               (unsigned long)strlen(tok), (unsigned long)total);

    memset(&res, 0, sizeof(res));
    st = ssg_verify(p, fuzz_ring_both, FUZZ_CONTEXT, FUZZ_NOW, FUZZ_MAX_LIFETIME,
                    SSG_CLOCK_SKEW, tok, strlen(tok), &res);
    if (has_nul) {
        FUZZ_CHECK(st == SSG_ERR_MALFORMED, "NUL payload: status %s",
                   ssg_status_str(st));
        return;
    }
    FUZZ_CHECK(st == SSG_OK, "own token refused: %s", ssg_status_str(st));
    FUZZ_CHECK(res.payload_len == size && memcmp(res.payload, data, size) == 0,
               "payload changed in the round trip");
    FUZZ_CHECK(res.iat == FUZZ_IAT && res.key_index == 0, "iat or key changed");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();

    fuzz_rings_init();
    fuzz_as_token(p, data, size);
    fuzz_as_base64url(data, size);
    fuzz_as_payload(p, data, size);
    fuzz_input_done();
    return 0;
}
