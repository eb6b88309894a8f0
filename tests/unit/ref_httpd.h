/*
 * ref_httpd.h - reference versions of two httpd 2.4 algorithms that
 * mod_session_sign's fast paths must match exactly, rewritten here (test
 * code, not httpd's) with the same APR calls httpd uses:
 *
 *   ref_cookie_read()     ap_cookie_read() (server/util_cookies.c) on one
 *                         Cookie header: ssg_cookie_find()'s reference;
 *   ref_identity_decode() session_identity_decode() (modules/session/
 *                         mod_session.c) on a payload without '%':
 *                         ssg_payload_decode_simple()'s reference.
 *
 * Used by tests/unit/test_ssg_util.c and fuzz/fuzz_cookie.c.
 */
#ifndef REF_HTTPD_H
#define REF_HTTPD_H

#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_tables.h>

/* The reference: httpd 2.4's ap_cookie_read() algorithm on one Cookie
 * header (util_cookies.c), rewritten here with apr_strtok: cut at ',', then
 * at ';'; skip leading white space; a piece starting with "name=" gives the
 * value; a second one with another value marks a duplicate (no session). */
typedef struct {
    const char *value;
    int duplicated;
} ref_cookie_t;

static inline ref_cookie_t ref_cookie_read(apr_pool_t *p, const char *header, const char *name)
{
    ref_cookie_t out = { NULL, 0 };
    char *copy = apr_pstrdup(p, header), *l1, *l2, *part, *piece;
    const char *prefix = apr_pstrcat(p, name, "=", NULL);
    apr_size_t plen = strlen(prefix);

    for (part = apr_strtok(copy, ",", &l1); part; part = apr_strtok(NULL, ",", &l1)) {
        for (piece = apr_strtok(part, ";", &l2); piece; piece = apr_strtok(NULL, ";", &l2)) {
            while (apr_isspace(*piece)) {
                piece++;
            }
            if (strncmp(piece, prefix, plen) == 0) {
                if (out.value && strcmp(out.value, piece + plen) != 0) {
                    out.duplicated = 1;
                }
                out.value = piece + plen;
            }
        }
    }
    return out;
}


/* The reference: mod_session's session_identity_decode() (mod_session.c),
 * rewritten here with apr_strtok, for payloads without '%' (where its
 * ap_unescape_urlencoded() only turns '+' into a space). */
static inline void ref_identity_decode(apr_pool_t *p, const char *payload, apr_table_t *entries,
                                apr_int64_t *expiry)
{
    char *copy = apr_pstrdup(p, payload), *last = NULL, *pair;

    for (pair = apr_strtok(copy, "&", &last); pair && pair[0];
         pair = apr_strtok(NULL, "&", &last)) {
        char *plast = NULL, *key = apr_strtok(pair, "=", &plast), *c;
        if (!key || !*key) {
            continue;
        }
        {
            char *val = apr_strtok(NULL, "=", &plast);
            if (!val || !*val) {
                apr_table_unset(entries, key);
                continue;
            }
            for (c = key; *c; c++) {
                *c = *c == '+' ? ' ' : *c;
            }
            for (c = val; *c; c++) {
                *c = *c == '+' ? ' ' : *c;
            }
            if (!strcmp(key, "expiry")) {
                *expiry = apr_atoi64(val);
            }
            else {
                apr_table_set(entries, key, val);
            }
        }
    }
}

static inline int ref_has_high_byte(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s > 0x7e) {
            return 1;
        }
    }
    return 0;
}

#endif /* REF_HTTPD_H */
