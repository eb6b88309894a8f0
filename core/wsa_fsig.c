/*
 * wsa_fsig.c - the forward signature header, made and verified
 * (see wsa_fsig.h, docs/forward-signature.md). Pure core: C, APR, OpenSSL.
 */
#include "wsa_fsig.h"
#include "ssg_token.h" /* ssg_b64url_encode/decode */

#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <openssl/crypto.h>

const char *wsa_fsig_str(wsa_fsig_e st)
{
    switch (st) {
    case WSA_FSIG_OK: return "ok";
    case WSA_FSIG_MALFORMED: return "malformed signature header";
    case WSA_FSIG_STALE: return "timestamp outside the window";
    case WSA_FSIG_MISSING: return "a signed header is missing";
    case WSA_FSIG_BAD_SIG: return "bad signature";
    }
    return "unknown";
}

static int no_ctl(const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f) {
            return 0;
        }
    }
    return 1;
}

static int token_char(unsigned char c)
{
    return apr_isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* msg for t, method, path and the n (name, value) pairs */
static char *fsig_msg(apr_pool_t *pool, const char *t, const char *method, const char *path,
                      const char *const *names, const char *const *values, int n)
{
    char *msg = apr_pstrcat(pool, WSA_FSIG_LABEL "\n", t, "\n", method, "\n", path, "\n", NULL);
    int i;

    for (i = 0; i < n; i++) {
        msg = apr_pstrcat(pool, msg, names[i], ":", values[i], "\n", NULL);
    }
    return msg;
}

char *wsa_fsig_make(apr_pool_t *pool, const wsa_keys_t *keys, apr_int64_t t, const char *method,
                    const char *path, const wsa_fsig_hdr_t *h, int n)
{
    const char *names[WSA_FSIG_MAX_HEADERS], *values[WSA_FSIG_MAX_HEADERS];
    unsigned char mac[WSA_KEYS_MAC_LEN];
    char sig[SSG_MAC_B64_LEN + 1], *ts, *list = "", *msg;
    int i;

    if (!method || !*method || !path || !*path || !no_ctl(method) || !no_ctl(path) || n < 0 ||
        n > WSA_FSIG_MAX_HEADERS || t <= 0) {
        return NULL;
    }
    for (i = 0; i < n; i++) {
        const char *c;
        char *lc = apr_pstrdup(pool, h[i].name);
        for (c = h[i].name; *c; c++) {
            if (!token_char((unsigned char)*c)) {
                return NULL;
            }
        }
        if (!*h[i].name || !h[i].value || !no_ctl(h[i].value)) {
            return NULL;
        }
        for (c = lc; *c; c++) {
            lc[c - lc] = (char)apr_tolower(*c);
        }
        names[i] = lc;
        values[i] = h[i].value;
        list = i ? apr_pstrcat(pool, list, ",", lc, NULL) : lc;
    }
    ts = apr_psprintf(pool, "%" APR_INT64_T_FMT, t);
    msg = fsig_msg(pool, ts, method, path, names, values, n);
    if (wsa_keys_hmac(keys, 0, msg, strlen(msg), mac) != 0) {
        return NULL;
    }
    ssg_b64url_encode(sig, mac, sizeof(mac));
    return apr_pstrcat(pool, "v1;t=", ts, ";h=", list, ";s=", sig, NULL);
}

wsa_fsig_e wsa_fsig_verify(apr_pool_t *pool, const wsa_keys_t *keys, apr_int64_t now,
                           apr_int64_t window, const char *value, const char *method,
                           const char *path, wsa_fsig_get_fn *get, void *ctx)
{
    const char *names[WSA_FSIG_MAX_HEADERS], *values[WSA_FSIG_MAX_HEADERS];
    unsigned char got[WSA_KEYS_MAC_LEN + 2], want[WSA_KEYS_MAC_LEN];
    const char *p, *ts, *te, *hs, *he, *ss;
    apr_int64_t t = 0;
    int n = 0, k, ok = 0;
    char *msg;

    if (!value || strlen(value) > WSA_FSIG_MAX_VALUE || strncmp(value, "v1;t=", 5)) {
        return WSA_FSIG_MALFORMED;
    }
    ts = p = value + 5;
    while (*p >= '0' && *p <= '9') {
        p++;
    }
    te = p;
    if (te == ts || te - ts > 12 || *ts == '0' || strncmp(p, ";h=", 3)) {
        return WSA_FSIG_MALFORMED;
    }
    for (p = ts; p < te; p++) {
        t = t * 10 + (*p - '0');
    }
    hs = p = te + 3;
    while (*p && *p != ';') {
        p++;
    }
    he = p;
    if (strncmp(p, ";s=", 3)) {
        return WSA_FSIG_MALFORMED;
    }
    ss = p + 3;
    if (strlen(ss) != SSG_MAC_B64_LEN || ssg_b64url_decode(got, ss, SSG_MAC_B64_LEN) != 32) {
        return WSA_FSIG_MALFORMED;
    }
    /* the names: lowercase tokens joined by single commas */
    p = hs;
    while (p < he) {
        const char *s = p;
        while (p < he && *p != ',') {
            if (!token_char((unsigned char)*p) || apr_isupper(*p)) {
                return WSA_FSIG_MALFORMED;
            }
            p++;
        }
        if (p == s || n == WSA_FSIG_MAX_HEADERS || (p < he && p + 1 == he)) {
            return WSA_FSIG_MALFORMED;
        }
        names[n++] = apr_pstrmemdup(pool, s, (apr_size_t)(p - s));
        if (p < he) {
            p++;
        }
    }
    if (t < now - window || t > now + window) {
        return WSA_FSIG_STALE;
    }
    for (k = 0; k < n; k++) {
        values[k] = get(ctx, names[k]);
        if (!values[k]) {
            return WSA_FSIG_MISSING;
        }
    }
    msg = fsig_msg(pool, apr_pstrmemdup(pool, ts, (apr_size_t)(te - ts)), method, path, names,
                   values, n);
    for (k = 0; k < wsa_keys_count(keys); k++) {
        if (wsa_keys_hmac(keys, k, msg, strlen(msg), want) == 0 &&
            CRYPTO_memcmp(want, got, sizeof(want)) == 0) {
            ok = 1;
        }
    }
    return ok ? WSA_FSIG_OK : WSA_FSIG_BAD_SIG;
}
