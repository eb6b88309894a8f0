/*
 * ssg_util.c - strict parsers of the login/logout handlers (see ssg_util.h).
 */
#include "ssg_util.h"

#include <string.h>

#include <apr_strings.h>

static int hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

long ssg_form_decode(char *out, const char *in, apr_size_t len)
{
    apr_size_t i;
    long n = 0;

    for (i = 0; i < len; i++) {
        char c = in[i];
        if (c == '%') {
            int hi, lo;
            if (i + 2 >= len) {
                return -1;
            }
            hi = hexval(in[i + 1]);
            lo = hexval(in[i + 2]);
            if (hi < 0 || lo < 0) {
                return -1;
            }
            c = (char)((hi << 4) | lo);
            i += 2;
        }
        else if (c == '+') {
            c = ' ';
        }
        if (c == '\0') {
            return -1;
        }
        out[n++] = c;
    }
    out[n] = '\0';
    return n;
}

static ssg_return_e check_once(const char *p, apr_size_t len)
{
    apr_size_t i;

    if (len == 0) {
        return SSG_RET_EMPTY;
    }
    if (p[0] != '/' || (len > 1 && (p[1] == '/' || p[1] == '\\'))) {
        return SSG_RET_NOT_LOCAL;
    }
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c <= 0x20 || c >= 0x7f || c == '\\') {
            return SSG_RET_BAD_CHAR;
        }
    }
    return SSG_RET_OK;
}

ssg_return_e ssg_return_path_check(const char *path, apr_size_t len)
{
    char buf[SSG_MAX_RETURN_LEN + 1];
    apr_size_t i, n = 0;
    ssg_return_e st;

    if (len > SSG_MAX_RETURN_LEN) {
        return SSG_RET_TOO_LONG;
    }
    st = check_once(path, len);
    if (st != SSG_RET_OK) {
        return st;
    }
    /* one more round of percent-decoding: a path that a later hop decodes
     * must still be local. Malformed escapes are left as they are. */
    for (i = 0; i < len; i++) {
        if (path[i] == '%' && i + 2 < len && hexval(path[i + 1]) >= 0 && hexval(path[i + 2]) >= 0) {
            char c = (char)((hexval(path[i + 1]) << 4) | hexval(path[i + 2]));
            if (c == '\0') {
                return SSG_RET_BAD_CHAR;
            }
            buf[n++] = c;
            i += 2;
        }
        else {
            buf[n++] = path[i];
        }
    }
    return check_once(buf, n);
}

const char *ssg_return_str(ssg_return_e st)
{
    switch (st) {
    case SSG_RET_OK: return "ok";
    case SSG_RET_EMPTY: return "empty return path";
    case SSG_RET_TOO_LONG: return "return path too long";
    case SSG_RET_NOT_LOCAL: return "return is not a local path";
    case SSG_RET_BAD_CHAR: return "return path has a forbidden character";
    }
    return "unknown";
}

int ssg_query_get(apr_pool_t *pool, const char *query, const char *key, const char **value)
{
    apr_size_t klen = strlen(key);
    const char *p = query;
    const char *found = NULL;
    apr_size_t found_len = 0;

    *value = NULL;
    if (!query) {
        return 0;
    }
    while (*p) {
        const char *end = strchr(p, '&');
        apr_size_t len = end ? (apr_size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        apr_size_t nlen = eq ? (apr_size_t)(eq - p) : len;

        if (nlen == klen && memcmp(p, key, klen) == 0) {
            if (found) {
                return -1; /* ambiguous: given twice */
            }
            found = eq ? eq + 1 : p + len;
            found_len = eq ? len - nlen - 1 : 0;
        }
        if (!end) {
            break;
        }
        p = end + 1;
    }
    if (found) {
        char *out = apr_palloc(pool, found_len + 1);
        if (ssg_form_decode(out, found, found_len) < 0) {
            return -1;
        }
        *value = out;
    }
    return 0;
}

/* apr_isspace() in the C locale */
static int cookie_space(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* Does the header hold a byte that makes the answer UNSURE: ',' or one
 * above 0x7e? Eight bytes at a time (a zero byte in w ^ c marks c). */
static int cookie_unsure_bytes(const unsigned char *s, apr_size_t len)
{
    const apr_uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    apr_size_t i = 0;

    for (; i + 8 <= len; i += 8) {
        apr_uint64_t w, comma, del;
        memcpy(&w, s + i, 8);
        comma = w ^ (ones * ',');
        del = w ^ (ones * 0x7f);
        if ((w | ((comma - ones) & ~comma) | ((del - ones) & ~del)) & highs) {
            return 1;
        }
    }
    for (; i < len; i++) {
        if (s[i] == ',' || s[i] > 0x7e) {
            return 1;
        }
    }
    return 0;
}

ssg_cookie_e ssg_cookie_find(const char *header, const char *name, const char **val,
                             apr_size_t *val_len)
{
    const unsigned char *h = (const unsigned char *)header;
    const unsigned char *n = (const unsigned char *)name;
    const unsigned char *end, *p, *found = NULL;
    apr_size_t nlen, len, flen = 0;

    *val = NULL;
    *val_len = 0;
    if (!n[0] || cookie_space(n[0])) {
        return SSG_COOKIE_UNSURE;
    }
    for (nlen = 0; n[nlen]; nlen++) {
        if (n[nlen] == ';' || n[nlen] == ',' || n[nlen] > 0x7e) {
            return SSG_COOKIE_UNSURE;
        }
    }
    len = strlen(header);
    if (cookie_unsure_bytes(h, len)) {
        return SSG_COOKIE_UNSURE;
    }
    end = h + len;
    /* every "name=" that starts a piece: after the header's start or a
     * ';', white space between allowed */
    for (p = h; (apr_size_t)(end - p) > nlen;) {
        /* memchr for the first byte, then compare: glibc's memmem sets up
         * a 256-byte shift table on every call, more than the search */
        const unsigned char *hit = memchr(p, n[0], (apr_size_t)(end - p) - nlen);
        const unsigned char *b, *v, *ve;

        if (!hit) {
            break;
        }
        p = hit + 1;
        if (hit[nlen] != '=' || memcmp(hit + 1, n + 1, nlen - 1) != 0) {
            continue;
        }
        for (b = hit; b > h && cookie_space(b[-1]); b--) {
        }
        if (b > h && b[-1] != ';') {
            continue; /* inside another piece */
        }
        v = hit + nlen + 1;
        ve = memchr(v, ';', (apr_size_t)(end - v));
        ve = ve ? ve : end;
        if (found && ((apr_size_t)(ve - v) != flen || memcmp(v, found, flen) != 0)) {
            return SSG_COOKIE_UNSURE;
        }
        found = v;
        flen = (apr_size_t)(ve - v);
        p = ve;
    }
    if (!found) {
        return SSG_COOKIE_ABSENT;
    }
    *val = (const char *)found;
    *val_len = flen;
    return SSG_COOKIE_FOUND;
}

int ssg_payload_decode_simple(char *payload, apr_table_t *entries, apr_int64_t *expiry)
{
    char *p, *key;
    int in_value = 0;
    apr_size_t run = 0; /* bytes of the current key or value */

    /* first pass: is it simple? nothing is changed until it is known */
    for (p = payload; *p; p++) {
        if (*p == '=') {
            if (in_value || run == 0) {
                return 0;
            }
            in_value = 1;
            run = 0;
        }
        else if (*p == '&') {
            if (!in_value || run == 0) {
                return 0;
            }
            in_value = 0;
            run = 0;
        }
        else if (*p == '%') {
            return 0;
        }
        else {
            run++;
        }
    }
    if (!in_value || run == 0) {
        return 0; /* empty, or ends in a key, in '=' or in '&' */
    }
    /* second pass: cut and store */
    key = payload;
    for (p = payload;; p++) {
        if (*p == '+') {
            *p = ' ';
        }
        else if (*p == '=') {
            *p = '\0';
        }
        else if (*p == '&' || *p == '\0') {
            int last = *p == '\0';
            const char *val = key + strlen(key) + 1;

            *p = '\0';
            if (!strcmp(key, "expiry")) {
                *expiry = apr_atoi64(val);
            }
            else {
                apr_table_setn(entries, key, val);
            }
            if (last) {
                break;
            }
            key = p + 1;
        }
    }
    return 1;
}
