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
 * and the contracts ssg_cookie_find() and ssg_payload_decode_simple() are
 * held to against them (ref_check_cookie(), ref_check_payload()).
 *
 * Used by tests/unit/test_ssg_util.c and fuzz/fuzz_cookie.c.
 */
#ifndef REF_HTTPD_H
#define REF_HTTPD_H

#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "ssg_util.h"

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

/* ssg_cookie_find() on header: FOUND and ABSENT must be httpd's answer;
 * UNSURE exactly when httpd's answer needs more than one pass (a comma), is
 * a refusal (a duplicate) or could depend on the locale (a high byte): the
 * fast path may not grow timid either.
 * @return NULL if it holds, else what broke (from p) */
static inline const char *ref_check_cookie(apr_pool_t *p, const char *header, const char *name)
{
    const char *v;
    apr_size_t vlen;
    ssg_cookie_e rc = ssg_cookie_find(header, name, &v, &vlen);
    ref_cookie_t ref = ref_cookie_read(p, header, name);

    if (strchr(header, ',') || ref.duplicated || ref_has_high_byte(header)) {
        return rc == SSG_COOKIE_UNSURE
                   ? NULL
                   : apr_psprintf(p, "[%s] %s: rc %d, want UNSURE", header, name, rc);
    }
    if (ref.value) {
        return rc == SSG_COOKIE_FOUND && vlen == strlen(ref.value) &&
                       memcmp(v, ref.value, vlen) == 0
                   ? NULL
                   : apr_psprintf(p, "[%s] %s: rc %d \"%.*s\", httpd \"%s\"", header, name,
                                  rc, (int)(rc == SSG_COOKIE_FOUND ? vlen : 0),
                                  rc == SSG_COOKIE_FOUND ? v : "", ref.value);
    }
    return rc == SSG_COOKIE_ABSENT
               ? NULL
               : apr_psprintf(p, "[%s] %s: rc %d, httpd: absent", header, name, rc);
}

/* Independent of the implementation: what "simple" means. */
static inline int ref_payload_is_simple(const char *s)
{
    const char *pair = s;

    if (!*s || strchr(s, '%')) {
        return 0;
    }
    for (;;) {
        const char *amp = strchr(pair, '&');
        size_t len = amp ? (size_t)(amp - pair) : strlen(pair);
        const char *eq = memchr(pair, '=', len);
        if (!eq || eq == pair || eq == pair + len - 1 ||
            memchr(eq + 1, '=', len - (size_t)(eq - pair) - 1)) {
            return 0;
        }
        if (!amp) {
            return 1;
        }
        pair = amp + 1;
    }
}

static inline int ref_same_entry(void *rec, const char *key, const char *val)
{
    const char *other = apr_table_get((apr_table_t *)rec, key);
    return other && !strcmp(other, val);
}

/* ssg_payload_decode_simple() on payload: decodes exactly the simple
 * payloads, as mod_session would, and leaves every other one untouched.
 * @return NULL if it holds, else what broke (from p) */
static inline const char *ref_check_payload(apr_pool_t *p, const char *payload)
{
    apr_table_t *fast = apr_table_make(p, 4), *ref = apr_table_make(p, 4);
    apr_int64_t fe = -7, re = -7;
    char *copy = apr_pstrdup(p, payload);
    int rc = ssg_payload_decode_simple(copy, fast, &fe);

    if (rc != ref_payload_is_simple(payload)) {
        return apr_psprintf(p, "[%s]: rc %d", payload, rc);
    }
    if (!rc) {
        return !strcmp(copy, payload) && apr_is_empty_table(fast) && fe == -7
                   ? NULL
                   : apr_psprintf(p, "[%s]: changed something though not simple", payload);
    }
    ref_identity_decode(p, payload, ref, &re);
    if (fe != re) {
        return apr_psprintf(p, "[%s]: expiry %lld, mod_session %lld", payload, (long long)fe,
                            (long long)re);
    }
    return apr_table_elts(fast)->nelts == apr_table_elts(ref)->nelts &&
                   apr_table_do(ref_same_entry, ref, fast, NULL) &&
                   apr_table_do(ref_same_entry, fast, ref, NULL)
               ? NULL
               : apr_psprintf(p, "[%s]: entries differ from mod_session's", payload);
}

#endif /* REF_HTTPD_H */
