/*
 * wsa_keys.h - a ring of HMAC-SHA256 secrets read from a key file, for
 * mod_ws_auth's Express cookie check and its forward signature.
 *
 * C + APR + OpenSSL only; never an httpd header. The file format is
 * mod_session_sign's (ssg_keyfile_line_check): one secret a line, at least
 * WSA_KEYS_MIN_LEN bytes of printable ASCII, comments on lines of their own.
 * Each secret is keyed once (a pre-keyed EVP_MAC_CTX, duplicated per MAC)
 * and cleansed by a cleanup on the pool. Unit-tested in
 * tests/unit/test_wsa_keys.c.
 *
 * Example:
 *   wsa_keys_t *k;
 *   const char *err = wsa_keys_parse(pool, text, len, &k);
 *   if (err) return apr_psprintf(p, "WSAuthExpressSecretFile %s: %s", path, err);
 *   unsigned char mac[WSA_KEYS_MAC_LEN];
 *   if (wsa_keys_hmac(k, 0, msg, msg_len, mac) != 0) ... OpenSSL failed
 */
#ifndef WSA_KEYS_H
#define WSA_KEYS_H

#include <apr_pools.h>

#define WSA_KEYS_MIN_LEN 32   /* bytes: as SessionSignKeyFile */
#define WSA_KEYS_MAX_LEN 1024 /* bytes */
#define WSA_KEYS_MAX     16   /* secrets in one file */
#define WSA_KEYS_MAC_LEN 32   /* HMAC-SHA256 */

typedef struct wsa_keys_t wsa_keys_t;

/**
 * Parse a key file's text: LF or CRLF line ends, leading and trailing
 * SP/HTAB ignored, blank and comment lines skipped, every other line a
 * secret (ssg_keyfile_line_check) of WSA_KEYS_MIN_LEN..WSA_KEYS_MAX_LEN
 * bytes; the same secret twice, more than WSA_KEYS_MAX secrets or none at
 * all are refused. The first secret is the current one (signs).
 * @pre pool, text (len bytes, need not be NUL-terminated) and out not NULL
 * @return NULL and *out, else a message naming the line and the problem,
 *         never a secret's bytes
 */
const char *wsa_keys_parse(apr_pool_t *pool, const char *text, apr_size_t len, wsa_keys_t **out);

/** @return the number of secrets (0 for NULL). */
int wsa_keys_count(const wsa_keys_t *k);

/**
 * HMAC-SHA256 of msg[0..len) with secret i (0 = the first of the file).
 * Safe from several threads at once (the keyed context is only read).
 * @return 0 and out (WSA_KEYS_MAC_LEN bytes), -1 on a bad index or an
 *         OpenSSL failure
 */
int wsa_keys_hmac(const wsa_keys_t *k, int i, const void *msg, apr_size_t len, unsigned char *out);

#endif /* WSA_KEYS_H */
