/*
 * ssg_util.h - small strict parsers of the login/logout handlers.
 * Pure core: C and APR only; never an httpd header.
 */
#ifndef SSG_UTIL_H
#define SSG_UTIL_H

#include <apr_pools.h>
#include <apr_tables.h>

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

typedef enum {
    SSG_COOKIE_ABSENT = 0, /* no cookie of that name */
    SSG_COOKIE_FOUND,      /* *val, *val_len: its value */
    SSG_COOKIE_UNSURE      /* not decided here: leave it to httpd's ap_cookie_read() */
} ssg_cookie_e;

/**
 * The value of cookie `name` in one Cookie header, exactly as httpd 2.4's
 * ap_cookie_read() finds it, in the cases that are simple to decide:
 * the header is cut into pieces at ';', each piece loses its leading
 * white space (' ', HT, LF, VT, FF, CR), and the first piece that starts
 * with "name=" gives the value: the rest of that piece, trailing white
 * space included (*val points into header; it is not NUL-terminated).
 *
 * SSG_COOKIE_UNSURE, never a guess, when httpd's answer is not that simple:
 * a ',' in the header (httpd also cuts there), a byte above 0x7e (white
 * space could depend on the locale), "name=" in two pieces with different
 * values (httpd logs AH00011 and reads no session), or a name that is empty,
 * starts with white space, or holds ';', ',' or a byte above 0x7e.
 */
ssg_cookie_e ssg_cookie_find(const char *header, const char *name, const char **val,
                             apr_size_t *val_len);

/**
 * mod_session's own session decoder (session_identity_decode in
 * mod_session.c), for the payloads on which it is simple: pairs "key=value"
 * joined by single '&', every key and value non-empty and free of '=', '&'
 * and '%' ('+' stands for a space). On those it gives exactly what
 * mod_session would: each pair in order into entries (a later key replaces
 * an earlier one), except "expiry", whose value goes to *expiry as
 * apr_atoi64() reads it.
 * @param payload decoded in place ('=' and '&' become NUL, '+' a space);
 *                entries keeps pointers into it, so it must live as long
 * @return 1 if decoded; 0 if the payload is not that simple, with payload,
 *         entries and *expiry untouched (leave it to mod_session then)
 */
int ssg_payload_decode_simple(char *payload, apr_table_t *entries, apr_int64_t *expiry);

#endif /* SSG_UTIL_H */
