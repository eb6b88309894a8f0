/*
 * ssg_util.c - strict parsers of the login/logout handlers (see ssg_util.h).
 */
#include "ssg_util.h"

#include <string.h>

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
