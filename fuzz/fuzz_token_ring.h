/*
 * fuzz_token_ring.h - the fixed key ring, contexts and clock of the token
 * targets (fuzz_token.c, fuzz_cookie.c), and the checks on an accepted
 * token that both make.
 *
 * fuzz/make_seeds.py hard-codes the same keys, context and times to make the
 * valid tokens of the seed corpora with the independent Python
 * implementation (tests/tools/ssg_ref.py): keep the two in step.
 */
#ifndef FUZZ_TOKEN_RING_H
#define FUZZ_TOKEN_RING_H

#include "fuzz_common.h"
#include "ssg_token.h"

#define FUZZ_KEY_CURRENT   "fuzz-key-current-0123456789abcdefghij"
#define FUZZ_KEY_PREVIOUS  "fuzz-key-previous-0123456789abcdefghij"
#define FUZZ_CONTEXT       "fuzz-ctx"
#define FUZZ_CONTEXT_OTHER ""               /* the default, empty context */
#define FUZZ_IAT           ((apr_int64_t)1700000000)
#define FUZZ_NOW           (FUZZ_IAT + 100)
#define FUZZ_MAX_LIFETIME  ((apr_int64_t)3600)

static ssg_ring_t *fuzz_ring_both;       /* current, previous: the module's ring */
static ssg_ring_t *fuzz_ring_previous;   /* previous alone: re-signs old-key tokens */

/* Key both rings once, in the global pool (keying is the costly part). */
static inline void fuzz_rings_init(void)
{
    apr_pool_t *g;

    if (fuzz_ring_both) {
        return;
    }
    g = fuzz_global();
    if (ssg_ring_create(g, &fuzz_ring_both) != APR_SUCCESS
        || ssg_ring_add(fuzz_ring_both, FUZZ_KEY_CURRENT,
                        strlen(FUZZ_KEY_CURRENT)) != NULL
        || ssg_ring_add(fuzz_ring_both, FUZZ_KEY_PREVIOUS,
                        strlen(FUZZ_KEY_PREVIOUS)) != NULL
        || ssg_ring_create(g, &fuzz_ring_previous) != APR_SUCCESS
        || ssg_ring_add(fuzz_ring_previous, FUZZ_KEY_PREVIOUS,
                        strlen(FUZZ_KEY_PREVIOUS)) != NULL) {
        fprintf(stderr, "fuzz: cannot key the ring\n");
        abort();
    }
}

/*
 * Properties of a token that ssg_verify accepted from fuzz_ring_both under
 * context ctx at FUZZ_NOW with FUZZ_MAX_LIFETIME:
 *  - the result is consistent: NUL-free payload of payload_len >= 1 bytes,
 *    iat inside the window, kid of the key that verified it;
 *  - the token is bound to its context: it fails under other_ctx;
 *  - the token is the one canonical encoding: re-signing its payload and
 *    iat with the key that verified it gives back the very same bytes (no
 *    second spelling of a valid token, so no malleability).
 */
static inline void fuzz_check_accepted(apr_pool_t *p, const char *ctx,
                                       const char *other_ctx, ssg_status_e st,
                                       const ssg_result_t *res,
                                       const uint8_t *tok, size_t tok_len)
{
    const ssg_ring_t *signer;
    const char *kid;
    char *again;

    FUZZ_CHECK(st == SSG_OK || st == SSG_OK_OLD_KEY, "status %d", st);
    FUZZ_CHECK(res->key_index == (st == SSG_OK ? 0 : 1), "key index %d for %s",
               res->key_index, ssg_status_str(st));
    FUZZ_CHECK(res->payload != NULL && res->payload_len >= 1, "empty payload");
    FUZZ_CHECK(strlen(res->payload) == res->payload_len,
               "payload of %lu bytes has a NUL or no terminator",
               (unsigned long)res->payload_len);
    FUZZ_CHECK(res->iat >= 1 && res->iat <= FUZZ_NOW + SSG_CLOCK_SKEW
               && FUZZ_NOW - res->iat <= FUZZ_MAX_LIFETIME,
               "iat %ld outside the window", (long)res->iat);
    kid = ssg_ring_kid(fuzz_ring_both, res->key_index);
    FUZZ_CHECK(kid && strcmp(kid, res->kid) == 0, "kid %s", res->kid);

    FUZZ_CHECK(ssg_verify(p, fuzz_ring_both, other_ctx, FUZZ_NOW,
                          FUZZ_MAX_LIFETIME, SSG_CLOCK_SKEW, (const char *)tok,
                          tok_len, NULL) == SSG_ERR_BAD_MAC,
               "token valid under context \"%s\" also passes under \"%s\"",
               ctx, other_ctx);

    signer = res->key_index == 0 ? fuzz_ring_both : fuzz_ring_previous;
    FUZZ_CHECK(res->version == 1 || res->version == 2, "version %d", res->version);
    FUZZ_CHECK(strlen(res->sid) == SSG_SID_LEN, "session id of %lu bytes",
               (unsigned long)strlen(res->sid));
    again = ssg_sign_sid(p, signer, ctx, res->iat, res->version == 2 ? res->sid : NULL,
                         res->payload, res->payload_len);
    FUZZ_CHECK(again != NULL, "cannot re-sign an accepted payload");
    FUZZ_CHECK(strlen(again) == tok_len && memcmp(again, tok, tok_len) == 0,
               "accepted token is not the canonical encoding of its payload");
}

#endif /* FUZZ_TOKEN_RING_H */
