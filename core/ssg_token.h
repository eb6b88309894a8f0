/*
 * ssg_token.h - the pure core of mod_session_sign: signed session tokens.
 *
 * C + APR + OpenSSL only; never an httpd header. Unit-tested with Check
 * (tests/unit/test_ssg_token.c) and cross-checked by an independent Python
 * implementation (tests/tools/ssg_ref.py).
 *
 * Token format "v1" (docs/token-format.md):
 *
 *   token   = "v1" "." kid "." iat "." payload "." mac
 *   kid     = base64url(SHA-256("mod_session_sign key-id" 0x00 secret)[0..5])
 *             (8 characters)
 *   iat     = issued-at, decimal seconds since the Unix epoch,
 *             1..12 digits, no leading zero
 *   payload = base64url(session payload), at least one byte
 *   mac     = base64url(HMAC-SHA256(secret, msg)) (43 characters)
 *   msg     = "mod_session_sign" 0x00 "v1" 0x00 kid 0x00 iat 0x00
 *             u32be(len(context)) context payload-bytes
 *
 * base64url is RFC 4648 section 5 without padding, decoded strictly
 * (no padding, no whitespace, no non-zero trailing bits).
 *
 * Example:
 *   ssg_ring_t *ring;
 *   ssg_ring_create(pool, &ring);
 *   if ((err = ssg_ring_add(ring, secret, strlen(secret))) != NULL) ...
 *   tok = ssg_sign(pool, ring, "myapp", now, payload, strlen(payload));
 *   st  = ssg_verify(pool, ring, "myapp", now, 3600, SSG_CLOCK_SKEW,
 *                    tok, strlen(tok), &res);
 *   if (ssg_status_ok(st)) use(res.payload);
 */
#ifndef SSG_TOKEN_H
#define SSG_TOKEN_H

#include <apr_pools.h>
#include <apr_tables.h>

#define SSG_VERSION         "v1"
#define SSG_VERSION2        "v2" /* with a session id (docs/token-format.md) */
#define SSG_SID_RAW_LEN     16   /* bytes of a session id */
#define SSG_SID_LEN         22   /* base64url of 16 bytes, no padding */
#define SSG_LABEL           "mod_session_sign"
#define SSG_KID_LABEL       "mod_session_sign key-id"
#define SSG_MAC_LEN         32 /* HMAC-SHA256 output, bytes */
#define SSG_MAC_B64_LEN     43 /* base64url of 32 bytes, no padding */
#define SSG_KID_RAW_LEN     6
#define SSG_KID_LEN         8  /* base64url of 6 bytes */
#define SSG_MIN_SECRET_LEN  32 /* bytes */
#define SSG_MAX_SECRET_LEN  1024
#define SSG_MAX_IAT_DIGITS  12
#define SSG_MAX_TOKEN_LEN   16384 /* longer tokens are refused unread */
#define SSG_MAX_CONTEXT_LEN 255
#define SSG_CLOCK_SKEW      60 /* seconds a token may come from the future */
#define SSG_MAX_KEYS        16

typedef enum {
    SSG_OK = 0,          /* valid, signed with the current (first) key */
    SSG_OK_OLD_KEY,      /* valid, signed with an older key of the ring */
    SSG_ERR_EMPTY,       /* empty token */
    SSG_ERR_TOO_LONG,    /* longer than SSG_MAX_TOKEN_LEN */
    SSG_ERR_MALFORMED,   /* not five well-formed fields */
    SSG_ERR_VERSION,     /* unknown version */
    SSG_ERR_UNKNOWN_KEY, /* key id not in the ring */
    SSG_ERR_BAD_MAC,     /* signature does not verify (tampered, other context) */
    SSG_ERR_FUTURE,      /* issued in the future beyond the skew */
    SSG_ERR_EXPIRED,     /* older than the maximum lifetime */
    SSG_ERR_NO_KEY       /* the ring is empty */
} ssg_status_e;

typedef struct ssg_ring_t ssg_ring_t;

typedef struct {
    const char *payload; /* NUL-terminated, allocated from the pool */
    apr_size_t payload_len;
    apr_int64_t iat; /* issued-at, seconds */
    int key_index;   /* 0 = current key */
    char kid[SSG_KID_LEN + 1];
    int version; /* 1 or 2 */
    /* v2: the session id; v1: the first SSG_SID_LEN characters of the MAC
     * field, an id of that one token */
    char sid[SSG_SID_LEN + 1];
} ssg_result_t;

/** @return non-zero for SSG_OK and SSG_OK_OLD_KEY. */
#define ssg_status_ok(st) ((st) == SSG_OK || (st) == SSG_OK_OLD_KEY)

/** @return a short, fixed, log-safe reason ("bad signature", ...). */
const char *ssg_status_str(ssg_status_e st);

/**
 * Create an empty key ring. Keys are keyed once (each key's HMAC inner and
 * outer SHA-256 states) and cleansed by a cleanup on the pool.
 * @pre pool != NULL
 */
apr_status_t ssg_ring_create(apr_pool_t *pool, ssg_ring_t **ring);

/**
 * Add a secret to the ring. The first key added signs; all verify.
 * A secret is 32..1024 bytes of printable ASCII (space allowed here, not
 * in a key file line): a control character or a byte >= 0x80 is refused.
 * @return NULL on success, else a fixed message saying why (never the secret).
 */
const char *ssg_ring_add(ssg_ring_t *ring, const char *secret, apr_size_t len);

/** @return the number of keys in the ring. */
int ssg_ring_count(const ssg_ring_t *ring);

/** @return the key id of key i (0 = current), or NULL. */
const char *ssg_ring_kid(const ssg_ring_t *ring, int i);

/**
 * Check one line of a key file, already stripped of its line end (LF, or a
 * CR right before it) and of leading and trailing SP/HTAB; len >= 1.
 * A line starting with '#' is a comment: printable text (UTF-8 allowed),
 * no control character but HTAB. Any other line is a secret as
 * `session-sign genkey` writes it or as documented: printable ASCII
 * (0x21..0x7e), no blank and no '#' inside, no UTF-8 byte-order mark, not
 * a PEM boundary ("-----..."), not quoted, not NAME=value.
 * @return NULL if the line is a comment or a well-formed secret line (its
 *         length is ssg_ring_add's to judge), else a fixed message saying
 *         why, never the line's bytes.
 */
const char *ssg_keyfile_line_check(const char *line, apr_size_t len);

/** Takes one secret line of a key file; @return NULL, or why it is refused. */
typedef const char *ssg_keyfile_add_fn(void *ctx, const char *secret, apr_size_t len);

/**
 * Walk a key file's text: one secret per line; LF or CRLF line ends;
 * leading and trailing SP/HTAB ignored; blank lines and comment lines
 * (first byte '#') skipped; every other line must pass
 * ssg_keyfile_line_check, then is handed to add(ctx, ...). The one reader
 * of key files: SessionSignKeyFile's ring and mod_ws_auth's secrets.
 * @return NULL when at least one secret was added, else a message naming
 *         the line number and the problem, never the bytes.
 */
const char *ssg_keyfile_walk(apr_pool_t *pool, const char *text, apr_size_t len,
                             ssg_keyfile_add_fn *add, void *ctx);

/**
 * Parse a key file's text into the ring: ssg_keyfile_walk with
 * ssg_ring_add for each secret line.
 * @return NULL on success, else a message naming the line number and the
 *         problem ("line 3: secret shorter than 32 bytes"), never the bytes.
 */
const char *ssg_ring_parse_keyfile(apr_pool_t *pool, ssg_ring_t *ring, const char *text,
                                   apr_size_t len);

/**
 * Sign a payload with the ring's first key.
 * @pre ring has at least one key, 1 <= payload_len, no NUL in the payload,
 *      context length <= SSG_MAX_CONTEXT_LEN, the token fits SSG_MAX_TOKEN_LEN
 * @return a NUL-terminated token from pool, or NULL if a precondition fails.
 */
char *ssg_sign(apr_pool_t *pool, const ssg_ring_t *ring, const char *context, apr_int64_t iat,
               const char *payload, apr_size_t payload_len);

/**
 * Sign a payload as a v2 token carrying the session id sid (22 base64url
 * characters, ssg_sid_valid), or as v1 when sid is NULL.
 * @pre as ssg_sign; sid NULL or valid
 * @return a NUL-terminated token from pool, or NULL if a precondition fails.
 * Example: ssg_sid_new(sid); tok = ssg_sign_sid(p, ring, "app", now, sid, "user=a", 6);
 */
char *ssg_sign_sid(apr_pool_t *pool, const ssg_ring_t *ring, const char *context, apr_int64_t iat,
                   const char *sid, const char *payload, apr_size_t payload_len);

/** @return 1 if sid[0..len) is a canonical session id (22 base64url of 16 bytes). */
int ssg_sid_valid(const char *sid, apr_size_t len);

/** Write a new random session id and its NUL to out (SSG_SID_LEN + 1 bytes).
 * @return 0, or -1 if the random generator fails */
int ssg_sid_new(char *out);

/**
 * Verify a token strictly (v1, or v2 with a session id).
 * @param now           seconds since the epoch
 * @param max_lifetime  seconds from iat, 0 for none
 * @param skew          seconds a token may come from the future
 * @param res           filled on success (payload allocated from pool)
 * @return SSG_OK, SSG_OK_OLD_KEY or the reason it is refused.
 */
ssg_status_e ssg_verify(apr_pool_t *pool, const ssg_ring_t *ring, const char *context,
                        apr_int64_t now, apr_int64_t max_lifetime, apr_int64_t skew,
                        const char *token, apr_size_t token_len, ssg_result_t *res);

/* base64url without padding, exposed for the CLI and the tests. */
apr_size_t ssg_b64url_encoded_len(apr_size_t len);
/** Encode; out must hold ssg_b64url_encoded_len(len) + 1 bytes. */
void ssg_b64url_encode(char *out, const unsigned char *in, apr_size_t len);
/**
 * Strict decode. @return the decoded length, or -1 on any invalid byte,
 * impossible length or non-zero trailing bits. out must hold len*3/4+1.
 */
long ssg_b64url_decode(unsigned char *out, const char *in, apr_size_t len);

/** Fill buf with len cryptographically random bytes. @return 0 on success. */
int ssg_random(unsigned char *buf, apr_size_t len);

/**
 * SHA-256 of len bytes of data, as 64 lowercase hex digits from pool.
 * @return the digest, or NULL if OpenSSL fails
 * Example: ssg_digest_hex(p, "abc", 3) gives "ba7816bf...15ad".
 */
char *ssg_digest_hex(apr_pool_t *pool, const char *data, apr_size_t len);

#endif /* SSG_TOKEN_H */
