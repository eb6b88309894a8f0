/*
 * ssg_origin.c - Web Origin parsing and matching (see ssg_origin.h).
 *
 * Pure core: C and APR types only. No locale-dependent ctype calls: every
 * byte class is spelled out for ASCII, so a byte >= 0x80 is never a letter.
 */
#include "ssg_origin.h"

#include <string.h>

#define IS_DIGIT(c) ((c) >= '0' && (c) <= '9')
#define IS_ALPHA(c) (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z'))
#define IS_HEX(c)   (IS_DIGIT(c) || ((c) >= 'a' && (c) <= 'f') || ((c) >= 'A' && (c) <= 'F'))
#define TO_LOWER(c) (((c) >= 'A' && (c) <= 'Z') ? (char)((c) + ('a' - 'A')) : (char)(c))

#define IPV6_TEXT_MAX 45 /* "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255" */

/* bytes never allowed in an Origin or Host value */
static int is_ctl(unsigned char c)
{
    return c < 0x21 || c == 0x7f || c == ',';
}

static int hex_value(unsigned char c)
{
    if (IS_DIGIT(c)) {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return c - 'A' + 10;
}

/*
 * Scheme of s[0..len): "http" or "https", any case. Copies the lowercase
 * name into out (6 bytes). @return 0 or -1.
 */
static int parse_scheme(const char *s, apr_size_t len, char *out)
{
    static const char *const names[] = {"http", "https"};
    apr_size_t i, k;

    for (k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
        if (len != strlen(names[k])) {
            continue;
        }
        for (i = 0; i < len; i++) {
            if (TO_LOWER((unsigned char)s[i]) != names[k][i]) {
                break;
            }
        }
        if (i == len) {
            memcpy(out, names[k], len + 1);
            return 0;
        }
    }
    return -1;
}

static unsigned default_port(const char *scheme)
{
    return strcmp(scheme, "https") == 0 ? 443 : 80;
}

/* dotted quad, each part 0..255 without leading zeros. @return 0 or -1. */
static int valid_ipv4(const char *s, apr_size_t len)
{
    apr_size_t i = 0;
    int parts = 0;

    while (parts < 4) {
        unsigned v = 0;
        apr_size_t start = i;

        while (i < len && IS_DIGIT(s[i]) && i - start < 3) {
            v = v * 10 + (unsigned)(s[i] - '0');
            i++;
        }
        if (i == start || v > 255 || (s[start] == '0' && i - start > 1)) {
            return -1;
        }
        parts++;
        if (parts < 4) {
            if (i >= len || s[i] != '.') {
                return -1;
            }
            i++;
        }
    }
    return i == len ? 0 : -1;
}

/*
 * IPv6 text (no brackets) to eight 16-bit pieces; the WHATWG URL standard's
 * IPv6 parser, which accepts exactly RFC 4291 text with an optional
 * trailing dotted quad (no leading zeros in it) and no zone id.
 * @return 0 or -1.
 */
static int parse_ipv6(const char *s, apr_size_t len, unsigned pieces[8])
{
    apr_size_t p = 0;
    int idx = 0, compress = -1;

    memset(pieces, 0, 8 * sizeof(pieces[0]));
    if (len < 2 || len > IPV6_TEXT_MAX) {
        return -1;
    }
    if (s[0] == ':') {
        if (s[1] != ':') {
            return -1;
        }
        p = 2;
        compress = ++idx;
    }
    while (p < len) {
        unsigned value = 0;
        apr_size_t n = 0;

        if (idx == 8) {
            return -1;
        }
        if (s[p] == ':') {
            if (compress != -1) {
                return -1; /* a second "::" */
            }
            p++;
            compress = ++idx;
            continue;
        }
        while (n < 4 && p < len && IS_HEX(s[p])) {
            value = value * 16 + (unsigned)hex_value((unsigned char)s[p]);
            p++;
            n++;
        }
        if (p < len && s[p] == '.') {
            int seen = 0;

            if (n == 0 || idx > 6) {
                return -1;
            }
            p -= n; /* reparse the piece as decimal */
            while (p < len) {
                unsigned v = 0;
                apr_size_t start;

                if (seen > 0) {
                    if (s[p] != '.' || seen >= 4) {
                        return -1;
                    }
                    p++;
                }
                if (p >= len || !IS_DIGIT(s[p])) {
                    return -1;
                }
                start = p;
                while (p < len && IS_DIGIT(s[p])) {
                    if (p > start && s[start] == '0') {
                        return -1; /* leading zero */
                    }
                    v = v * 10 + (unsigned)(s[p] - '0');
                    if (v > 255) {
                        return -1;
                    }
                    p++;
                }
                pieces[idx] = pieces[idx] * 0x100 + v;
                seen++;
                if (seen == 2 || seen == 4) {
                    idx++;
                }
            }
            if (seen != 4) {
                return -1;
            }
            break;
        }
        if (p < len && s[p] == ':') {
            p++;
            if (p >= len) {
                return -1; /* trailing single ':' */
            }
        }
        else if (p < len) {
            return -1; /* not hex, ':' or '.' */
        }
        pieces[idx++] = value;
    }
    if (compress != -1) {
        int swaps = idx - compress, i = 7;

        while (i != 0 && swaps > 0) {
            unsigned t = pieces[i];

            pieces[i] = pieces[compress + swaps - 1];
            pieces[compress + swaps - 1] = t;
            i--;
            swaps--;
        }
    }
    else if (idx != 8) {
        return -1;
    }
    return 0;
}

/*
 * Serialise eight pieces as browsers do: "[" lowercase hex, no leading
 * zeros, the first longest run of two or more zero pieces as "::" "]".
 * out must hold 42 bytes.
 */
static void ipv6_serialise(const unsigned pieces[8], char *out)
{
    static const char hex[] = "0123456789abcdef";
    int i, best = -1, best_len = 1, run = 0, skip = 0;
    char *o = out;

    for (i = 0; i < 8; i++) {
        run = pieces[i] == 0 ? run + 1 : 0;
        if (run > best_len) {
            best_len = run;
            best = i - run + 1;
        }
    }
    *o++ = '[';
    for (i = 0; i < 8; i++) {
        int shift, started = 0;

        if (skip && pieces[i] == 0) {
            continue;
        }
        skip = 0;
        if (i == best) {
            if (i == 0) {
                *o++ = ':';
            }
            *o++ = ':';
            skip = 1;
            continue;
        }
        for (shift = 12; shift >= 0; shift -= 4) {
            unsigned d = (pieces[i] >> shift) & 0xf;
            if (d || started || shift == 0) {
                *o++ = hex[d];
                started = 1;
            }
        }
        if (i != 7) {
            *o++ = ':';
        }
    }
    *o++ = ']';
    *o = '\0';
}

/*
 * Is this label numeric in the WHATWG sense (decimal digits, or "0x"
 * followed by hex digits)? A host ending in one is parsed as IPv4.
 */
static int label_is_numeric(const char *s, apr_size_t len)
{
    apr_size_t i;

    if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        for (i = 2; i < len; i++) {
            if (!IS_HEX(s[i])) {
                return 0;
            }
        }
        return 1;
    }
    for (i = 0; i < len; i++) {
        if (!IS_DIGIT(s[i])) {
            return 0;
        }
    }
    return 1;
}

/*
 * Host without port: reg-name, IPv4 or bracketed IPv6. Writes the
 * normalised host into out (256 bytes). @return 0 or -1.
 */
static int parse_host(const char *s, apr_size_t len, char *out)
{
    apr_size_t i, label_start = 0;

    if (len == 0) {
        return -1;
    }
    if (s[0] == '[') {
        unsigned pieces[8];

        if (len < 2 || s[len - 1] != ']' || parse_ipv6(s + 1, len - 2, pieces) != 0) {
            return -1;
        }
        ipv6_serialise(pieces, out);
        return 0;
    }
    if (len > SSG_ORIGIN_HOST_MAX) {
        return -1;
    }
    for (i = 0; i <= len; i++) {
        if (i == len || s[i] == '.') {
            apr_size_t n = i - label_start;

            if (n == 0 || n > SSG_ORIGIN_LABEL_MAX || s[label_start] == '-' || s[i - 1] == '-') {
                return -1;
            }
            label_start = i + 1;
        }
        else if (!IS_ALPHA(s[i]) && !IS_DIGIT(s[i]) && s[i] != '-') {
            return -1;
        }
    }
    /* WHATWG: a host whose last label is a number must be an IPv4 address */
    label_start = len;
    while (label_start > 0 && s[label_start - 1] != '.') {
        label_start--;
    }
    if (label_is_numeric(s + label_start, len - label_start) && valid_ipv4(s, len) != 0) {
        return -1;
    }
    for (i = 0; i < len; i++) {
        out[i] = TO_LOWER((unsigned char)s[i]);
    }
    out[len] = '\0';
    return 0;
}

/* port digits after ':'. @return the port 1..65535, or 0 if bad. */
static unsigned parse_port(const char *s, apr_size_t len)
{
    unsigned v = 0;
    apr_size_t i;

    if (len == 0 || len > 5 || s[0] == '0') {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if (!IS_DIGIT(s[i])) {
            return 0;
        }
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    return v <= 65535 ? v : 0;
}

/*
 * authority = host [ ":" port ], no userinfo. Fills out->host, out->port
 * (0 if none given) and out->port_explicit.
 */
static ssg_origin_status_e parse_authority(const char *s, apr_size_t len, ssg_origin_t *out)
{
    apr_size_t host_len;
    const char *colon;

    if (len == 0) {
        return SSG_ORIGIN_BAD_HOST;
    }
    if (memchr(s, '@', len)) {
        return SSG_ORIGIN_USERINFO;
    }
    if (s[0] == '[') {
        const char *close = memchr(s, ']', len);

        if (!close) {
            return SSG_ORIGIN_BAD_HOST;
        }
        host_len = (apr_size_t)(close - s) + 1;
        if (host_len < len && s[host_len] != ':') {
            return SSG_ORIGIN_BAD_HOST; /* junk after ']' */
        }
    }
    else {
        colon = memchr(s, ':', len);
        host_len = colon ? (apr_size_t)(colon - s) : len;
    }
    if (parse_host(s, host_len, out->host) != 0) {
        return SSG_ORIGIN_BAD_HOST;
    }
    out->port = 0;
    out->port_explicit = 0;
    if (host_len < len) { /* s[host_len] == ':' */
        out->port = parse_port(s + host_len + 1, len - host_len - 1);
        if (out->port == 0) {
            return SSG_ORIGIN_BAD_PORT;
        }
        out->port_explicit = 1;
    }
    return SSG_ORIGIN_OK;
}

/*
 * Split "scheme://rest": fills out->scheme and returns the offset of rest.
 * @return the offset, or 0 if the scheme is missing or not http(s).
 */
static apr_size_t split_scheme(const char *s, apr_size_t len, ssg_origin_t *out)
{
    const char *colon = memchr(s, ':', len);
    apr_size_t n;

    if (!colon) {
        return 0;
    }
    n = (apr_size_t)(colon - s);
    if (n + 3 > len || s[n + 1] != '/' || s[n + 2] != '/' || parse_scheme(s, n, out->scheme) != 0) {
        return 0;
    }
    return n + 3;
}

/* length of the authority starting at s: up to the first '/', '?' or '#' */
static apr_size_t authority_len(const char *s, apr_size_t len)
{
    apr_size_t i;

    for (i = 0; i < len; i++) {
        if (s[i] == '/' || s[i] == '?' || s[i] == '#') {
            break;
        }
    }
    return i;
}

ssg_origin_status_e ssg_origin_parse(const char *s, apr_size_t len, ssg_origin_t *out)
{
    ssg_origin_status_e st;
    apr_size_t i, start, alen;

    memset(out, 0, sizeof(*out));
    if (!s || len == 0) {
        return SSG_ORIGIN_EMPTY;
    }
    if (len > SSG_ORIGIN_MAX_LEN) {
        return SSG_ORIGIN_TOO_LONG;
    }
    for (i = 0; i < len; i++) {
        if (is_ctl((unsigned char)s[i])) {
            return SSG_ORIGIN_CTL;
        }
    }
    if (len == 4 && memcmp(s, "null", 4) == 0) {
        return SSG_ORIGIN_NULL;
    }
    start = split_scheme(s, len, out);
    if (start == 0) {
        memset(out, 0, sizeof(*out));
        return SSG_ORIGIN_BAD_SCHEME;
    }
    alen = authority_len(s + start, len - start);
    if (memchr(s + start, '@', alen)) {
        st = SSG_ORIGIN_USERINFO;
    }
    else if (start + alen < len) {
        st = SSG_ORIGIN_PATH;
    }
    else {
        st = parse_authority(s + start, alen, out);
    }
    if (st != SSG_ORIGIN_OK) {
        memset(out, 0, sizeof(*out));
        return st;
    }
    if (!out->port_explicit) {
        out->port = default_port(out->scheme);
    }
    return SSG_ORIGIN_OK;
}

const char *ssg_origin_status_str(ssg_origin_status_e st)
{
    switch (st) {
    case SSG_ORIGIN_OK: return "valid origin";
    case SSG_ORIGIN_NULL: return "opaque origin \"null\"";
    case SSG_ORIGIN_BAD_SCHEME: return "scheme not http or https";
    case SSG_ORIGIN_USERINFO: return "userinfo in origin";
    case SSG_ORIGIN_PATH: return "path, query or fragment in origin";
    case SSG_ORIGIN_BAD_HOST: return "invalid host";
    case SSG_ORIGIN_BAD_PORT: return "invalid port";
    case SSG_ORIGIN_CTL: return "control byte, space or comma in origin";
    case SSG_ORIGIN_EMPTY: return "empty origin";
    case SSG_ORIGIN_TOO_LONG: return "origin too long";
    }
    return "unknown";
}

/* Host header into host/port, port 0 when not given. @return 0 or -1. */
static int parse_host_header(const char *host, apr_size_t len, ssg_origin_t *out)
{
    apr_size_t i;

    if (!host || len == 0 || len > SSG_ORIGIN_MAX_LEN) {
        return -1;
    }
    for (i = 0; i < len; i++) {
        if (is_ctl((unsigned char)host[i])) {
            return -1;
        }
    }
    return parse_authority(host, len, out) == SSG_ORIGIN_OK ? 0 : -1;
}

int ssg_host_parse(const char *host, apr_size_t len, const char *scheme, ssg_origin_t *out)
{
    memset(out, 0, sizeof(*out));
    if (!scheme || parse_scheme(scheme, strlen(scheme), out->scheme) != 0 ||
        parse_host_header(host, len, out) != 0) {
        memset(out, 0, sizeof(*out));
        return -1;
    }
    if (!out->port_explicit) {
        out->port = default_port(out->scheme);
    }
    return 0;
}

int ssg_origin_equal(const ssg_origin_t *a, const ssg_origin_t *b)
{
    if (!a || !b) {
        return 0;
    }
    return strcmp(a->scheme, b->scheme) == 0 && strcmp(a->host, b->host) == 0 && a->port == b->port;
}

int ssg_origin_same_as_host(const ssg_origin_t *origin, const char *host_header,
                            apr_size_t host_len, const char *request_scheme)
{
    ssg_origin_t req;

    if (!origin || origin->scheme[0] == '\0') {
        return 0;
    }
    if (request_scheme) {
        if (ssg_host_parse(host_header, host_len, request_scheme, &req) != 0) {
            return 0;
        }
        return ssg_origin_equal(origin, &req);
    }
    /* scheme unknown: the Host header's default port is the origin's */
    memset(&req, 0, sizeof(req));
    if (parse_host_header(host_header, host_len, &req) != 0) {
        return 0;
    }
    if (!req.port_explicit) {
        req.port = default_port(origin->scheme);
    }
    return strcmp(origin->host, req.host) == 0 && origin->port == req.port;
}

int ssg_origin_from_referer(const char *referer, apr_size_t len, ssg_origin_t *out)
{
    apr_size_t i, start, alen;
    const char *auth;

    memset(out, 0, sizeof(*out));
    if (!referer || len == 0) {
        return -1;
    }
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)referer[i];
        if (c < 0x21 || c == 0x7f) {
            return -1;
        }
    }
    start = split_scheme(referer, len, out);
    if (start == 0) {
        memset(out, 0, sizeof(*out));
        return -1;
    }
    auth = referer + start;
    alen = authority_len(auth, len - start);
    if (alen > SSG_ORIGIN_MAX_LEN || memchr(auth, ',', alen) ||
        parse_authority(auth, alen, out) != SSG_ORIGIN_OK) {
        memset(out, 0, sizeof(*out));
        return -1;
    }
    if (!out->port_explicit) {
        out->port = default_port(out->scheme);
    }
    return 0;
}

int ssg_origin_host_is_ip(const char *host)
{
    apr_size_t len;

    if (!host || !*host) {
        return 0;
    }
    if (host[0] == '[') {
        return 1;
    }
    /* parse_host lets a numeric last label through only as a dotted quad */
    len = strlen(host);
    while (len > 0 && host[len - 1] != '.') {
        if (!IS_DIGIT(host[len - 1])) {
            return 0;
        }
        len--;
    }
    return 1;
}
