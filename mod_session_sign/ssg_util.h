/*
 * ssg_util.h - small strict parsers of the login/logout handlers.
 * Pure core: C and APR only; never an httpd header.
 */
#ifndef SSG_UTIL_H
#define SSG_UTIL_H

#include <apr_pools.h>

#define SSG_MAX_RETURN_LEN 2048

typedef enum {
    SSG_RET_OK = 0,
    SSG_RET_EMPTY, /* empty value */
    SSG_RET_TOO_LONG,
    SSG_RET_NOT_LOCAL, /* does not start with a single '/' (absolute URL, "//host", "/\\host") */
    SSG_RET_BAD_CHAR   /* backslash, control character, space or non-ASCII byte */
} ssg_return_e;

/**
 * Is this (already once URL-decoded) `return` value a safe local path?
 * It must start with exactly one '/', followed by anything but '/' or '\';
 * it may not contain a backslash, a control character, a space or a byte
 * above 0x7e. The same rules are applied again after one more round of
 * percent-decoding, so "/%2F%2Fevil.example" and "/%5Cevil" are refused.
 */
ssg_return_e ssg_return_path_check(const char *path, apr_size_t len);

/** @return a short, log-safe reason. */
const char *ssg_return_str(ssg_return_e st);

/**
 * Strictly percent-decode (application/x-www-form-urlencoded: '+' is a
 * space) len bytes of in into out (which must hold len + 1 bytes).
 * @return the decoded length, or -1 for a malformed escape or a decoded NUL.
 */
long ssg_form_decode(char *out, const char *in, apr_size_t len);

/**
 * Find the one value of key in a query string ("a=1&return=%2Fx").
 * @return 0 and *value (decoded, from pool) or NULL if absent;
 *         -1 if the key appears more than once or its value is malformed.
 */
int ssg_query_get(apr_pool_t *pool, const char *query, const char *key, const char **value);

#endif /* SSG_UTIL_H */
