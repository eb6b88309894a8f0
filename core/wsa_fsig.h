/*
 * wsa_fsig.h - the forward signature: a header by which a backend checks
 * that the identity headers it received came from this Apache
 * (WSAuthForwardSignature; format in docs/forward-signature.md).
 *
 * C + APR + OpenSSL only; never an httpd header. Unit-tested in
 * tests/unit/test_wsa_fsig.c (vectors also in the docs and checked by the
 * Node verifier node/ws-auth-verify and a Python one in the tests).
 *
 *   value = "v1;t=" t ";h=" [name *("," name)] ";s=" sig
 *   t     = seconds since the Unix epoch, 1..12 digits, no leading zero
 *   name  = a forwarded header's name in lowercase, in configured order,
 *           only the headers actually forwarded
 *   sig   = base64url(HMAC-SHA256(secret, msg)), unpadded, 43 characters
 *   msg   = "mod_ws_auth forward-signature v1" LF t LF method LF path LF
 *           *(name ":" value LF)
 *   path  = the request's path as the client sent it (no query)
 *
 * Example:
 *   wsa_fsig_hdr_t h[] = {{"X-Remote-User", "alice"}};
 *   v = wsa_fsig_make(pool, keys, now, "GET", "/socket.io/", h, 1);
 *   apr_table_setn(r->headers_in, "X-WS-Auth-Signature", v);
 */
#ifndef WSA_FSIG_H
#define WSA_FSIG_H

#include <apr_pools.h>

#include "wsa_keys.h"

#define WSA_FSIG_LABEL       "mod_ws_auth forward-signature v1"
#define WSA_FSIG_WINDOW      60 /* seconds: the verifiers' default */
#define WSA_FSIG_MAX_VALUE   2048
#define WSA_FSIG_MAX_HEADERS 16

typedef struct {
    const char *name;  /* as configured; signed in lowercase */
    const char *value; /* no control byte (wsa_header_value_safe) */
} wsa_fsig_hdr_t;

typedef enum {
    WSA_FSIG_OK = 0,
    WSA_FSIG_MALFORMED, /* not the grammar above */
    WSA_FSIG_STALE,     /* t outside now +- window */
    WSA_FSIG_MISSING,   /* a header named in h is not in the request */
    WSA_FSIG_BAD_SIG    /* signed by none of the secrets */
} wsa_fsig_e;

/** @return a short, fixed, log-safe reason. */
const char *wsa_fsig_str(wsa_fsig_e st);

/**
 * The signature header's value for one request, signed with secret 0.
 * @pre method and path non-empty, without control bytes; n <=
 *      WSA_FSIG_MAX_HEADERS; names valid header tokens
 * @return the value from pool, or NULL if a precondition fails or OpenSSL
 */
char *wsa_fsig_make(apr_pool_t *pool, const wsa_keys_t *keys, apr_int64_t t, const char *method,
                    const char *path, const wsa_fsig_hdr_t *h, int n);

/** The value of request header `name` (any case), or NULL. */
typedef const char *wsa_fsig_get_fn(void *ctx, const char *name);

/**
 * Verify a signature header as a backend would (any secret of the ring).
 * @param get  reads the request's headers
 * @return WSA_FSIG_OK or why not
 */
wsa_fsig_e wsa_fsig_verify(apr_pool_t *pool, const wsa_keys_t *keys, apr_int64_t now,
                           apr_int64_t window, const char *value, const char *method,
                           const char *path, wsa_fsig_get_fn *get, void *ctx);

#endif /* WSA_FSIG_H */
