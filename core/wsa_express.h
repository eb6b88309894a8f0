/*
 * wsa_express.h - express-session's signed session cookie, parsed and
 * verified strictly: the pure core of WSAuthSource express.
 *
 * C + APR + OpenSSL only; never an httpd header. Unit-tested in
 * tests/unit/test_wsa_express.c against vectors that the real
 * `cookie-signature` npm package wrote (tests/unit/express_vectors.json,
 * tests/tools/make_express_vectors.js); fuzzed by fuzz/fuzz_express.c.
 *
 * Format (express-session 1.x with cookie-signature 1.x):
 *
 *   cookie  = name "=" encodeURIComponent("s:" id "." mac)
 *   mac     = base64(HMAC-SHA256(secret, id)) without its "=" padding
 *             (RFC 4648 section 4 alphabet, 43 characters)
 *
 * express-session signs with its first secret and accepts any of them:
 * so does wsa_express_verify, over every key of the ring.
 *
 * Example:
 *   wsa_express_t c;
 *   st = wsa_express_verify(pool, keys, cookie_header, "connect.sid", &c);
 *   if (st == WSA_EXPRESS_OK) lookup(c.id, c.id_len);
 */
#ifndef WSA_EXPRESS_H
#define WSA_EXPRESS_H

#include <apr_pools.h>

#include "wsa_keys.h"

#define WSA_EXPRESS_MAX_HEADER 8192 /* longer Cookie headers are refused unread */
#define WSA_EXPRESS_MAX_VALUE  1024 /* bytes of the cookie value as sent */
#define WSA_EXPRESS_MAX_ID     256  /* bytes of a session id */
#define WSA_EXPRESS_MAC_B64    43   /* base64 of 32 bytes, unpadded */

typedef enum {
    WSA_EXPRESS_OK = 0,     /* signed by one of the ring's secrets */
    WSA_EXPRESS_ABSENT,     /* no cookie of that name */
    WSA_EXPRESS_DUPLICATE,  /* the name twice, with different values */
    WSA_EXPRESS_TOO_LONG,   /* header, value or id over its limit */
    WSA_EXPRESS_BAD_ESCAPE, /* a '%' not followed by two hex digits, or a
                               decoded byte outside printable ASCII */
    WSA_EXPRESS_MALFORMED,  /* not "s:" id "." mac, a byte a cookie value
                               cannot hold, quotes, a mac that is not 43
                               canonical base64 characters (trailing bytes) */
    WSA_EXPRESS_BAD_SIG,    /* well formed, signed by none of the secrets */
    WSA_EXPRESS_NO_KEY      /* empty ring */
} wsa_express_e;

typedef struct {
    const char *id;    /* NUL-terminated, from the pool; only set on OK */
    apr_size_t id_len; /* 1..WSA_EXPRESS_MAX_ID printable ASCII bytes */
    int key_index;     /* which secret verified it (0: the first) */
} wsa_express_t;

/** @return a short, fixed, log-safe reason ("bad signature", ...). */
const char *wsa_express_str(wsa_express_e st);

/**
 * Find cookie `name` in a Cookie header and verify it. The header is cut at
 * ';'; each piece loses its SP/HTAB on both sides and is name=value with the
 * name compared exactly (as the `cookie` npm package does). The name in two
 * pieces with different values is WSA_EXPRESS_DUPLICATE; the same value
 * twice counts once. The value is percent-decoded strictly (any '%' must
 * start two hex digits; each decoded byte must be printable ASCII), must
 * not be quoted and may hold only cookie-octets as sent. The decoded value
 * is "s:" id "." mac, split at the LAST '.' (as cookie-signature's unsign),
 * with an id of 1..WSA_EXPRESS_MAX_ID bytes and a mac of exactly 43
 * characters whose last one has no stray bits. Every secret of the ring is
 * tried, each compare constant-time (CRYPTO_memcmp over the 32 bytes).
 * @param header the Cookie header, NUL-terminated, or NULL (ABSENT)
 * @param out    filled on WSA_EXPRESS_OK (id from pool)
 * @return WSA_EXPRESS_OK or why not; never reads past the header
 */
wsa_express_e wsa_express_verify(apr_pool_t *pool, const wsa_keys_t *keys, const char *header,
                                 const char *name, wsa_express_t *out);

/**
 * The cookie value express-session would set for session id `id` with the
 * ring's secret i: encodeURIComponent("s:" id "." mac). For tests and the
 * tools.
 * @return the value from pool, or NULL (bad index, OpenSSL failure, empty
 *         or over-long id)
 */
char *wsa_express_sign(apr_pool_t *pool, const wsa_keys_t *keys, int i, const char *id,
                       apr_size_t id_len);

#endif /* WSA_EXPRESS_H */
