/*
 * wsa_core.h - the pure core of mod_ws_auth: upgrade detection, the Origin
 * allow-list and checks on headers forwarded to the backend.
 *
 * C + APR only; never an httpd header. Origins are parsed by the shared
 * ssg_origin.h. Unit-tested with Check (tests/unit/test_wsa_core.c).
 *
 * Example:
 *   wsa_origin_pattern_t p;
 *   const char *err = wsa_origin_pattern_parse(arg, &p);
 *   if (err) return apr_psprintf(cmd->pool, "WSAuthAllowOrigin %s: %s", arg, err);
 *   ...
 *   if (wsa_is_upgrade(conn, upg)
 *       && (ssg_origin_parse(org, strlen(org), &o) != SSG_ORIGIN_OK
 *           || !wsa_origin_pattern_match(&p, &o)))
 *       return HTTP_FORBIDDEN;
 */
#ifndef WSA_CORE_H
#define WSA_CORE_H

#include "ssg_origin.h"

#define WSA_HEADER_NAME_MAX  64   /* bytes */
#define WSA_HEADER_VALUE_MAX 4096 /* bytes */

/**
 * Does a comma-separated header list (RFC 9110 section 5.6.1: elements
 * separated by ',', optional SP/HTAB around each, empty elements allowed)
 * contain the token tok, compared case-insensitively (ASCII only)?
 * An element matches only if, with its SP/HTAB trimmed, it is exactly tok:
 * "upgraded", "x-upgrade" and "\"upgrade\"" do not match "upgrade". Quotes
 * are not special (Connection takes no quoted strings).
 * @return 1 if found, 0 if not or if value or tok is NULL or tok is empty.
 */
int wsa_header_has_token(const char *value, const char *tok);

/**
 * Are header names a and b the same once '_' and '-' are treated alike, in
 * any ASCII case? (Backends that fold '_' into '-' - wsgiref, gunicorn
 * before 22, Puma before 6.4.3 - read X_Remote_User as X-Remote-User.)
 * @return 1 if alike, 0 if not or either is NULL
 */
int wsa_header_name_alike(const char *a, const char *b);

/**
 * Filter a Connection header value as mod_proxy will read it
 * (ap_proxy_clear_connection: ',' and ';' skipped, then ap_get_token():
 * tokens end at whitespace, ';' or ',', quoted strings kept whole), leaving
 * out every token that names one of names[0..nnames) in any ASCII case
 * (mod_proxy would remove that header from the request it forwards).
 * One pass, no allocation: linear in the value whatever it holds.
 * @param out NULL to count only, else room for strlen(value) + 1 bytes: the
 *        kept tokens, in order, joined by ','
 * @return the number of tokens left out
 * Example: "close X-Remote-User;q" with names {"X-Remote-User"} gives
 *          "close,q" and 1.
 */
int wsa_connection_filter(const char *value, const char *const *names, int nnames, char *out);

/**
 * Is this request a WebSocket or other protocol upgrade attempt?
 * Detection is deliberately broad, so an attacker cannot slip an upgrade
 * past the gate with an odd spelling: an Upgrade header with any non-empty
 * value counts, whatever protocol it names and whatever Connection says;
 * so does "upgrade" among the Connection tokens, even without Upgrade.
 * @param connection  the Connection header, or NULL if absent
 * @param upgrade     the Upgrade header, or NULL if absent
 * @return 1 if an upgrade attempt, else 0.
 */
int wsa_is_upgrade(const char *connection, const char *upgrade);

/**
 * Does the Upgrade header ask for WebSocket? True if one element, trimmed,
 * is "websocket" (any case), alone or with a version ("websocket/13").
 * @return 1 or 0 (also for NULL).
 */
int wsa_upgrade_is_websocket(const char *upgrade);

/**
 * An Origin allow-list entry: an exact origin "https://app.example.com[:port]"
 * or a wildcard, whose host is "*." and a DNS name (host "*.example.com");
 * for a wildcard, o.host holds the suffix without "*." ("example.com").
 */
typedef struct {
    ssg_origin_t o;
    int wildcard;
} wsa_origin_pattern_t;

/**
 * Parse an allow-list entry from the configuration. Scheme, host, port and
 * the refusal of paths, userinfo and "null" follow ssg_origin_parse. A
 * wildcard must be the whole leftmost label of the host, over a DNS name of
 * at least two labels. Refused: the bare pattern "*", and the hosts "*",
 * "a*.b.com", "*example.com", "a.*.com", "*.com" (one label) and
 * "*.10.0.0.1" (IP literal). Public suffixes of two labels ("*.co.uk") are
 * not detected: that is the admin's responsibility.
 * @pre out != NULL
 * @return NULL on success, else a fixed admin-facing message saying why
 *         (never containing s itself; the caller names directive and value).
 */
const char *wsa_origin_pattern_parse(const char *s, wsa_origin_pattern_t *out);

/**
 * Match a parsed Origin against an allow-list entry: same scheme, same
 * effective port, and the same host or, for a wildcard, a host that ends
 * in "." + suffix with at least one more label in front ("a.example.com"
 * and "a.b.example.com" match "*.example.com"; "example.com",
 * "evilexample.com" and "example.com.evil.net" do not).
 * @param o  as filled by ssg_origin_parse
 * @return 1 on a match, else 0 (also for NULL).
 */
int wsa_origin_pattern_match(const wsa_origin_pattern_t *p, const ssg_origin_t *o);

/**
 * @return 1 if name is a header field-name token (RFC 9110 tchar: letters,
 *         digits and !#$%&'*+-.^_`|~) of 1..WSA_HEADER_NAME_MAX bytes, else 0.
 */
int wsa_header_name_valid(const char *name);

/**
 * Is v safe to forward as a header value? No byte below 0x20 (not even
 * HTAB), no DEL, at most WSA_HEADER_VALUE_MAX bytes. Bytes >= 0x80 (UTF-8)
 * and the empty string are allowed.
 * @return 1 if safe, 0 if not (also for NULL).
 */
int wsa_header_value_safe(const char *v);

#endif /* WSA_CORE_H */
