/*
 * wsa_core.c - upgrade detection, Origin allow-list and forwarded-header
 * checks for mod_ws_auth (see wsa_core.h).
 *
 * Pure core: C and APR types only, no allocation, ASCII-only byte classes.
 */
#include "wsa_core.h"

#include <string.h>

#define TO_LOWER(c) (((c) >= 'A' && (c) <= 'Z') ? (char)((c) + ('a' - 'A')) : (char)(c))
#define IS_OWS(c)   ((c) == ' ' || (c) == '\t')

static int ascii_casecmp_n(const char *a, const char *b, apr_size_t n)
{
    apr_size_t i;

    for (i = 0; i < n; i++) {
        if (TO_LOWER((unsigned char)a[i]) != TO_LOWER((unsigned char)b[i])) {
            return 1;
        }
    }
    return 0;
}

/*
 * Walk the comma-separated elements of value, each trimmed of SP/HTAB.
 * An element matches if it equals tok (any case) or, with allow_version,
 * if it is tok followed by "/" and anything.
 */
static int list_has(const char *value, const char *tok, int allow_version)
{
    apr_size_t tlen;
    const char *p = value;

    if (!value || !tok || !*tok) {
        return 0;
    }
    tlen = strlen(tok);
    for (;;) {
        const char *b = p, *e = p;
        apr_size_t n;

        while (*e && *e != ',') {
            e++;
        }
        p = e; /* at ',' or NUL */
        while (b < e && IS_OWS(*b)) {
            b++;
        }
        while (e > b && IS_OWS(e[-1])) {
            e--;
        }
        n = (apr_size_t)(e - b);
        if (n >= tlen && ascii_casecmp_n(b, tok, tlen) == 0 &&
            (n == tlen || (allow_version && b[tlen] == '/'))) {
            return 1;
        }
        if (!*p) {
            return 0;
        }
        p++;
    }
}

int wsa_header_has_token(const char *value, const char *tok)
{
    return list_has(value, tok, 0);
}

int wsa_header_name_alike(const char *a, const char *b)
{
    apr_size_t i;

    if (!a || !b) {
        return 0;
    }
    for (i = 0; a[i] && b[i]; i++) {
        char x = a[i] == '_' ? '-' : TO_LOWER((unsigned char)a[i]);
        char y = b[i] == '_' ? '-' : TO_LOWER((unsigned char)b[i]);
        if (x != y) {
            return 0;
        }
    }
    return a[i] == '\0' && b[i] == '\0';
}

/* apr_isspace() in the C locale: what ap_get_token() skips and stops at */
#define IS_HTTPD_SPACE(c) ((c) == ' ' || ((c) >= '\t' && (c) <= '\r'))

static int ascii_caseeq(const char *a, apr_size_t alen, const char *b)
{
    apr_size_t i;

    for (i = 0; i < alen; i++) {
        if (!b[i] || TO_LOWER((unsigned char)a[i]) != TO_LOWER((unsigned char)b[i])) {
            return 0;
        }
    }
    return b[alen] == '\0';
}

int wsa_connection_filter(const char *value, const char *const *names, int nnames, char *out)
{
    const char *p = value;
    apr_size_t o = 0;
    int dropped = 0;

    if (!value) {
        if (out) {
            *out = '\0';
        }
        return 0;
    }
    /* mod_proxy's find_conn_headers(): skip ',' and ';', then one
     * ap_get_token(p, &p, 0) per round, until the end of the value */
    do {
        const char *tok;
        apr_size_t n;
        int i, drop = 0;

        while (*p == ',' || *p == ';') {
            p++;
        }
        while (IS_HTTPD_SPACE(*p)) {
            p++;
        }
        tok = p;
        while (*p && !IS_HTTPD_SPACE(*p) && *p != ';' && *p != ',') {
            if (*p++ == '"') {
                while (*p) {
                    if (*p++ == '"') {
                        break;
                    }
                }
            }
        }
        n = (apr_size_t)(p - tok);
        while (IS_HTTPD_SPACE(*p)) {
            p++;
        }
        if (n == 0) {
            continue;
        }
        /* apr_table_unset(headers, token) matches names in any case */
        for (i = 0; i < nnames && !drop; i++) {
            drop = ascii_caseeq(tok, n, names[i]);
        }
        if (drop) {
            dropped++;
            continue;
        }
        if (out) {
            if (o) {
                out[o++] = ',';
            }
            memcpy(out + o, tok, n);
            o += n;
        }
    } while (*p);
    if (out) {
        out[o] = '\0';
    }
    return dropped;
}

int wsa_is_upgrade(const char *connection, const char *upgrade)
{
    if (upgrade && *upgrade) {
        return 1;
    }
    return wsa_header_has_token(connection, "upgrade");
}

int wsa_upgrade_is_websocket(const char *upgrade)
{
    return list_has(upgrade, "websocket", 1);
}

#define MSG_WILDCARD "wildcard must be the whole leftmost label, as in https://*.example.com"

static const char *pattern_status_msg(ssg_origin_status_e st)
{
    switch (st) {
    case SSG_ORIGIN_OK: return NULL;
    case SSG_ORIGIN_NULL:
        return "\"null\" (the opaque origin of sandboxed frames, files and "
               "redirects) cannot be allowed";
    case SSG_ORIGIN_BAD_SCHEME:
        return "origin must start with http:// or https://, "
               "as in https://app.example.com";
    case SSG_ORIGIN_USERINFO: return "origin must not contain a user name or password ('@')";
    case SSG_ORIGIN_PATH:
        return "origin must not have a path, query, fragment or trailing "
               "slash: write https://app.example.com, not "
               "https://app.example.com/";
    case SSG_ORIGIN_BAD_HOST:
        return "host must be a DNS name, an IPv4 address or a bracketed "
               "IPv6 address (no '_', '%', empty label or trailing dot)";
    case SSG_ORIGIN_BAD_PORT: return "port must be a number from 1 to 65535 without leading zeros";
    case SSG_ORIGIN_CTL:
        return "origin must not contain spaces, commas or control "
               "characters: give one origin per argument";
    case SSG_ORIGIN_EMPTY: return "empty origin: give an origin such as https://app.example.com";
    case SSG_ORIGIN_TOO_LONG: return "origin longer than 1024 bytes";
    }
    return "invalid origin";
}

const char *wsa_origin_pattern_parse(const char *s, wsa_origin_pattern_t *out)
{
    char buf[SSG_ORIGIN_MAX_LEN + 1];
    const char *star, *sep;
    apr_size_t len;
    const char *msg;

    memset(out, 0, sizeof(*out));
    if (!s || !*s) {
        return pattern_status_msg(SSG_ORIGIN_EMPTY);
    }
    len = strlen(s);
    if (len > SSG_ORIGIN_MAX_LEN) {
        return pattern_status_msg(SSG_ORIGIN_TOO_LONG);
    }
    if (strcmp(s, "*") == 0) {
        return "\"*\" alone would allow every origin: list the origins, or "
               "use a wildcard such as https://*.example.com";
    }
    star = strchr(s, '*');
    if (star) {
        apr_size_t n;

        /* the '*' must directly follow "://", then a '.'; one '*' only */
        sep = strstr(s, "://");
        if (!sep || star != sep + 3 || star[1] != '.' || strchr(star + 1, '*')) {
            return MSG_WILDCARD;
        }
        n = (apr_size_t)(star - s);
        memcpy(buf, s, n); /* "scheme://" */
        memcpy(buf + n, star + 2, len - n - 2);
        len -= 2;
        buf[len] = '\0';
        s = buf;
        out->wildcard = 1;
    }
    msg = pattern_status_msg(ssg_origin_parse(s, len, &out->o));
    if (!msg && out->wildcard) {
        if (ssg_origin_host_is_ip(out->o.host)) {
            msg = "a wildcard cannot cover an IP address: list the addresses";
        }
        else if (!strchr(out->o.host, '.')) {
            msg = "wildcard over a single label: put at least two labels "
                  "after \"*.\", as in https://*.example.com, not "
                  "https://*.com";
        }
    }
    if (msg) {
        memset(out, 0, sizeof(*out));
    }
    return msg;
}

int wsa_origin_pattern_match(const wsa_origin_pattern_t *p, const ssg_origin_t *o)
{
    apr_size_t hl, sl;

    if (!p || !o || p->o.scheme[0] == '\0' || o->scheme[0] == '\0' ||
        strcmp(p->o.scheme, o->scheme) != 0 || p->o.port != o->port) {
        return 0;
    }
    if (!p->wildcard) {
        return strcmp(p->o.host, o->host) == 0;
    }
    hl = strlen(o->host);
    sl = strlen(p->o.host);
    /* at least one byte of label, the '.', then the suffix */
    if (sl == 0 || hl < sl + 2 || o->host[hl - sl - 1] != '.' || o->host[0] == '.' ||
        o->host[hl - sl - 2] == '.' || o->host[0] == '[') {
        return 0;
    }
    return memcmp(o->host + hl - sl, p->o.host, sl) == 0;
}

/* RFC 9110 tchar */
static int is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
        return 1;
    }
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

int wsa_header_name_valid(const char *name)
{
    apr_size_t i;

    if (!name) {
        return 0;
    }
    for (i = 0; name[i]; i++) {
        if (i >= WSA_HEADER_NAME_MAX || !is_tchar((unsigned char)name[i])) {
            return 0;
        }
    }
    return i > 0;
}

int wsa_header_value_safe(const char *v)
{
    apr_size_t i;

    if (!v) {
        return 0;
    }
    for (i = 0; v[i]; i++) {
        unsigned char c = (unsigned char)v[i];

        if (i >= WSA_HEADER_VALUE_MAX || c < 0x20 || c == 0x7f) {
            return 0;
        }
    }
    return 1;
}
