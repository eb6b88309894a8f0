/*
 * fuzz_origin.c - libFuzzer target: Origin, Host and Referer parsing and
 * same-origin (core/ssg_origin.c), and the Origin allow-list
 * patterns of mod_ws_auth (wsa_origin_pattern_parse/match, core/wsa_core.c).
 *
 * The input is split at '\n' into up to three parts:
 *
 *     ORIGIN "\n" HOST [ "\n" PATTERN ]      (PATTERN defaults to HOST)
 *
 * ORIGIN goes to ssg_origin_parse and ssg_origin_from_referer, HOST to
 * ssg_host_parse and ssg_origin_same_as_host, PATTERN (cut at a NUL, as a
 * configuration string would be) to wsa_origin_pattern_parse, then to
 * wsa_origin_pattern_match against what ORIGIN parsed to. Properties:
 *  - a refused value leaves the output zeroed; an accepted one is
 *    normalised (lowercase, scheme http/https, port 1..65535) and its
 *    serialisation parses back to the same origin;
 *  - every valid Origin is a valid Referer with the same origin, and is
 *    same-origin with a Host header built from it;
 *  - same_as_host without a scheme equals same_as_host with the origin's;
 *  - every valid Origin is a valid allow-list entry that matches it; an
 *    exact pattern matches exactly the equal origins; a wildcard matches
 *    only hosts with at least one more label in front of its suffix.
 *
 * Seeds: fuzz/corpus/origin, made by fuzz/make_seeds.py.
 */
#include "fuzz_common.h"

#include "ssg_origin.h"
#include "wsa_core.h"

static int is_zero(const void *p, size_t n)
{
    const unsigned char *b = p;
    size_t i;

    for (i = 0; i < n; i++) {
        if (b[i]) {
            return 0;
        }
    }
    return 1;
}

static int same_fields(const ssg_origin_t *a, const ssg_origin_t *b)
{
    return strcmp(a->scheme, b->scheme) == 0 && strcmp(a->host, b->host) == 0
           && a->port == b->port && a->port_explicit == b->port_explicit;
}

static unsigned default_port(const char *scheme)
{
    return strcmp(scheme, "https") == 0 ? 443 : 80;
}

/* an accepted origin is normalised and re-parses to itself */
static void check_normal(const ssg_origin_t *o, const char *what)
{
    char buf[300];
    ssg_origin_t again;
    const char *c;
    int n;

    FUZZ_CHECK(strcmp(o->scheme, "http") == 0 || strcmp(o->scheme, "https") == 0,
               "%s: scheme %s", what, o->scheme);
    FUZZ_CHECK(o->host[0] != '\0', "%s: empty host", what);
    for (c = o->host; *c; c++) {
        FUZZ_CHECK(!(*c >= 'A' && *c <= 'Z'), "%s: host %s not lowercase", what, o->host);
    }
    FUZZ_CHECK(o->port >= 1 && o->port <= 65535, "%s: port %u", what, o->port);
    FUZZ_CHECK(o->port_explicit || o->port == default_port(o->scheme),
               "%s: implicit port %u", what, o->port);
    FUZZ_CHECK(ssg_origin_host_is_ip(o->host) == (o->host[0] == '['
               || (strspn(o->host, "0123456789.") == strlen(o->host))),
               "%s: host_is_ip wrong for %s", what, o->host);

    if (o->port_explicit) {
        n = snprintf(buf, sizeof(buf), "%s://%s:%u", o->scheme, o->host, o->port);
    }
    else {
        n = snprintf(buf, sizeof(buf), "%s://%s", o->scheme, o->host);
    }
    FUZZ_CHECK(n > 0 && (size_t)n < sizeof(buf), "%s: serialisation", what);
    FUZZ_CHECK(ssg_origin_parse(buf, (apr_size_t)n, &again) == SSG_ORIGIN_OK,
               "%s: serialisation %s does not parse", what, buf);
    FUZZ_CHECK(same_fields(o, &again), "%s: %s parses to a different origin", what, buf);
}

static void fuzz_patterns(const char *pat, const ssg_origin_t *o, int o_ok,
                          const char *origin_text)
{
    wsa_origin_pattern_t wp;
    const char *msg = wsa_origin_pattern_parse(pat, &wp);

    if (msg) {
        FUZZ_CHECK(is_zero(&wp, sizeof(wp)), "refused pattern left data");
    }
    else {
        ssg_origin_t q;

        check_normal(&wp.o, "pattern");
        if (!wp.wildcard) {
            FUZZ_CHECK(wsa_origin_pattern_match(&wp, &wp.o) == 1, "exact pattern misses itself");
        }
        else {
            FUZZ_CHECK(!ssg_origin_host_is_ip(wp.o.host) && strchr(wp.o.host, '.'),
                       "wildcard over %s", wp.o.host);
            /* the bare suffix does not match, one more label does */
            FUZZ_CHECK(wsa_origin_pattern_match(&wp, &wp.o) == 0, "wildcard matches its suffix");
            q = wp.o;
            if (strlen(wp.o.host) + 3 <= sizeof(q.host)) {
                snprintf(q.host, sizeof(q.host), "x.%s", wp.o.host);
                FUZZ_CHECK(wsa_origin_pattern_match(&wp, &q) == 1,
                           "wildcard misses %s", q.host);
            }
        }
        if (o_ok) {
            int m = wsa_origin_pattern_match(&wp, o);

            if (!wp.wildcard) {
                FUZZ_CHECK(m == ssg_origin_equal(&wp.o, o), "exact match != equal");
            }
            else if (m) {
                size_t hl = strlen(o->host), sl = strlen(wp.o.host);
                FUZZ_CHECK(hl > sl + 1 && o->host[hl - sl - 1] == '.'
                           && strcmp(o->host + hl - sl, wp.o.host) == 0
                           && o->host[0] != '[',
                           "wildcard *.%s matched %s", wp.o.host, o->host);
                FUZZ_CHECK(strcmp(o->scheme, wp.o.scheme) == 0 && o->port == wp.o.port,
                           "wildcard matched another scheme or port");
            }
        }
    }

    /* every valid Origin is a valid allow-list entry that matches it */
    if (o_ok) {
        FUZZ_CHECK(wsa_origin_pattern_parse(origin_text, &wp) == NULL,
                   "valid origin refused as a pattern");
        FUZZ_CHECK(!wp.wildcard && wsa_origin_pattern_match(&wp, o) == 1,
                   "origin does not match its own pattern");
    }
    FUZZ_CHECK(wsa_origin_pattern_match(NULL, o) == 0, "NULL pattern matched");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t olen, rest_len, hlen = 0, plen = 0;
    const uint8_t *rest = fuzz_split(data, size, &olen, &rest_len);
    const uint8_t *pat = rest ? fuzz_split(rest, rest_len, &hlen, &plen) : NULL;
    /* exact-size copies: the parsers take a length, ASan sees an overrun */
    char *origin = fuzz_cstr(data, olen);
    char *host = fuzz_cstr(rest ? rest : data, rest ? hlen : 0);
    char *pattern = pat ? fuzz_cstr(pat, plen) : fuzz_cstr((const uint8_t *)host, strlen(host));
    ssg_origin_t o, r, h, h2;
    ssg_origin_status_e st;
    int o_ok, r_ok, h_ok;
    const char *why;

    fuzz_pool();                        /* APR once; the parsers allocate nothing */

    /* Origin */
    st = ssg_origin_parse(origin, olen, &o);
    why = ssg_origin_status_str(st);
    FUZZ_CHECK(why && strcmp(why, "unknown") != 0, "status %d", st);
    o_ok = st == SSG_ORIGIN_OK;
    if (o_ok) {
        check_normal(&o, "origin");
    }
    else {
        FUZZ_CHECK(is_zero(&o, sizeof(o)), "refused origin left data (%s)", why);
    }

    /* Referer */
    r_ok = ssg_origin_from_referer(origin, olen, &r) == 0;
    if (r_ok) {
        check_normal(&r, "referer");
    }
    else {
        FUZZ_CHECK(is_zero(&r, sizeof(r)), "refused referer left data");
    }
    if (o_ok) {
        FUZZ_CHECK(r_ok && same_fields(&o, &r), "valid origin is not a valid referer");
    }

    /* Host, and the same-origin check */
    h_ok = ssg_host_parse(host, hlen, "http", &h) == 0;
    if (h_ok) {
        check_normal(&h, "host");
        FUZZ_CHECK(ssg_host_parse(host, hlen, "HTTPS", &h2) == 0
                   && strcmp(h2.scheme, "https") == 0 && strcmp(h.host, h2.host) == 0,
                   "host parse depends on the scheme beyond the port");
    }
    else {
        FUZZ_CHECK(is_zero(&h, sizeof(h)), "refused host left data");
    }
    FUZZ_CHECK(ssg_host_parse(host, hlen, "ftp", &h2) == -1, "ftp scheme accepted");
    if (o_ok) {
        char auth[300];
        int same = ssg_origin_same_as_host(&o, host, hlen, o.scheme);
        int n;

        FUZZ_CHECK(same == ssg_origin_same_as_host(&o, host, hlen, NULL),
                   "same_as_host differs without a scheme");
        if (ssg_host_parse(host, hlen, o.scheme, &h2) == 0) {
            FUZZ_CHECK(same == ssg_origin_equal(&o, &h2), "same_as_host != equal");
        }
        else {
            FUZZ_CHECK(same == 0, "same origin as a bad Host");
        }
        FUZZ_CHECK(ssg_origin_same_as_host(&o, host, hlen, "ftp") == 0, "ftp same origin");
        n = snprintf(auth, sizeof(auth), "%s:%u", o.host, o.port);
        FUZZ_CHECK(ssg_origin_same_as_host(&o, auth, (apr_size_t)n, o.scheme) == 1,
                   "not same-origin with its own Host %s", auth);
        n = snprintf(auth, sizeof(auth), "%s", o.host);
        if (o.port == default_port(o.scheme)) {
            FUZZ_CHECK(ssg_origin_same_as_host(&o, auth, (apr_size_t)n, o.scheme) == 1,
                       "not same-origin with its own Host %s", auth);
        }
    }
    FUZZ_CHECK(ssg_origin_same_as_host(NULL, host, hlen, "http") == 0, "NULL origin");

    /* allow-list patterns */
    fuzz_patterns(pattern, &o, o_ok, origin);

    free(pattern);
    free(host);
    free(origin);
    fuzz_input_done();
    return 0;
}
