/*
 * ssg_origin.h - Web Origin parsing and matching, shared by mod_session_sign
 * (login CSRF check) and mod_ws_auth (WebSocket Origin allow-list).
 *
 * C + APR only; never an httpd header. Unit-tested with Check
 * (tests/unit/test_ssg_origin.c).
 *
 * Every input is attacker-controlled. The parsers are strict, allocate
 * nothing, never read past the given length and accept only what a browser
 * sends (RFC 6454 section 6.2 serialisation, WHATWG URL host rules):
 *
 *   origin = scheme "://" host [ ":" port ]
 *   scheme = "http" / "https"                  (case-insensitive)
 *   host   = reg-name / IPv4address / "[" IPv6address "]"
 *   port   = 1..5 digits, 1..65535, no leading zero
 *
 * reg-name   DNS labels of letters, digits and '-', each 1..63 bytes, not
 *            starting or ending with '-', 253 bytes in all, no empty label
 *            (so no leading, trailing or doubled dot). Lowercased. A name
 *            whose last label is numeric ("1.2.3", "a.1", "0x7f") is taken
 *            as an IPv4 address and must be one.
 * IPv4       dotted quad, each part 0..255 without leading zeros.
 * IPv6       RFC 4291 text, embedded IPv4 allowed, no zone id; normalised to
 *            the form browsers serialise (RFC 5952 / WHATWG: lowercase, no
 *            leading zeros, longest run of two or more zero groups as "::",
 *            no dotted quad), so "[0:0::1]" and "[::1]" are the same host.
 *
 * Percent-encoding, '_', '@' (userinfo), non-ASCII bytes, whitespace and
 * control bytes are refused; nothing is decoded or repaired.
 *
 * Example:
 *   ssg_origin_t o;
 *   ssg_origin_status_e st = ssg_origin_parse(hdr, strlen(hdr), &o);
 *   if (st != SSG_ORIGIN_OK)
 *       log("origin refused: %s", ssg_origin_status_str(st));
 *   else if (!ssg_origin_same_as_host(&o, host, strlen(host), "https"))
 *       refuse();
 */
#ifndef SSG_ORIGIN_H
#define SSG_ORIGIN_H

#include <apr.h>

#define SSG_ORIGIN_MAX_LEN   1024 /* longer Origin values are refused unread */
#define SSG_ORIGIN_HOST_MAX  253  /* reg-name, bytes */
#define SSG_ORIGIN_LABEL_MAX 63   /* one DNS label, bytes */

typedef struct {
    char scheme[6];    /* "http" or "https", lowercase */
    char host[256];    /* lowercase; IPv6 literal normalised, with brackets "[::1]" */
    unsigned port;     /* explicit or default (80/443): the effective port */
    int port_explicit; /* 1 if a port was written, even the default one */
} ssg_origin_t;

typedef enum {
    SSG_ORIGIN_OK = 0,
    SSG_ORIGIN_NULL,       /* the literal "null" (opaque origin) */
    SSG_ORIGIN_BAD_SCHEME, /* not "http://" or "https://" */
    SSG_ORIGIN_USERINFO,   /* '@' in the authority */
    SSG_ORIGIN_PATH,       /* path, query, fragment or trailing slash */
    SSG_ORIGIN_BAD_HOST,
    SSG_ORIGIN_BAD_PORT,
    SSG_ORIGIN_CTL, /* NUL, control byte, space, DEL, or ',' (merged headers) */
    SSG_ORIGIN_EMPTY,
    SSG_ORIGIN_TOO_LONG /* longer than SSG_ORIGIN_MAX_LEN */
} ssg_origin_status_e;

/**
 * Parse an Origin header value.
 * @param s    the value, not necessarily NUL-terminated; may contain NUL
 *             bytes (refused as SSG_ORIGIN_CTL); NULL counts as empty
 * @param len  bytes of s to parse
 * @param out  filled on success; zeroed first, so never left with old data
 * @pre out != NULL
 * @return SSG_ORIGIN_OK or why the value is refused. The checks run in this
 *         order: EMPTY, TOO_LONG, CTL, NULL, BAD_SCHEME, USERINFO, PATH,
 *         BAD_HOST, BAD_PORT.
 */
ssg_origin_status_e ssg_origin_parse(const char *s, apr_size_t len, ssg_origin_t *out);

/** @return a short, fixed, log-safe reason ("path in origin", ...). */
const char *ssg_origin_status_str(ssg_origin_status_e st);

/**
 * Parse a Host header value ("example.com", "example.com:8080",
 * "[::1]:8443") with the host and port rules of ssg_origin_parse.
 * Unlike httpd, a trailing dot is refused, not stripped: pass the raw header.
 * @param scheme  the request scheme, "http" or "https" (case-insensitive);
 *                it gives the default port
 * @pre out != NULL
 * @return 0 and *out filled, or -1 (also for a NULL/unknown scheme).
 */
int ssg_host_parse(const char *host, apr_size_t len, const char *scheme, ssg_origin_t *out);

/**
 * @return 1 if both origins have the same scheme, host and effective port
 *         ("http://a:80" equals "http://a"), else 0 (also for NULL).
 */
int ssg_origin_equal(const ssg_origin_t *a, const ssg_origin_t *b);

/**
 * Same-origin check of a parsed Origin header against the request.
 * @param request_scheme  "http" or "https" (case-insensitive), or NULL when
 *        the glue cannot tell. Known: scheme, host and effective port must
 *        all match, the Host header's default port coming from
 *        request_scheme. NULL: only host and effective port are compared,
 *        the Host header's default port coming from the *origin's* scheme
 *        (so Origin "https://a" matches Host "a" and "a:443", not "a:80";
 *        Origin "http://a" matches Host "a"). That cannot tell http from
 *        https on the same host and port, so pass the scheme whenever known.
 *        Any other scheme value fails.
 * @return 1 if same origin, 0 otherwise (also for a bad Host header or NULL).
 */
int ssg_origin_same_as_host(const ssg_origin_t *origin, const char *host_header,
                            apr_size_t host_len, const char *request_scheme);

/**
 * Extract the origin of a Referer URL, scheme "://" host [":" port], then
 * optionally "/", "?" or "#" and anything (no control bytes, spaces or DEL
 * anywhere; ',' is allowed after the authority). Scheme, host, port and
 * userinfo rules as in ssg_origin_parse; no length limit beyond the caller's.
 * @pre out != NULL
 * @return 0 and *out filled, or -1.
 */
int ssg_origin_from_referer(const char *referer, apr_size_t len, ssg_origin_t *out);

/**
 * @param host  a host as normalised by the parsers above
 * @return 1 if host is an IPv4 or IPv6 literal, 0 for a DNS name.
 */
int ssg_origin_host_is_ip(const char *host);

#endif /* SSG_ORIGIN_H */
