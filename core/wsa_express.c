/*
 * wsa_express.c - express-session's signed cookie, parsed and verified
 * strictly (see wsa_express.h). Pure core: C, APR, OpenSSL.
 */
#include "wsa_express.h"

#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <openssl/crypto.h>

static const char b64std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

const char *wsa_express_str(wsa_express_e st)
{
    switch (st) {
    case WSA_EXPRESS_OK: return "ok";
    case WSA_EXPRESS_ABSENT: return "no cookie";
    case WSA_EXPRESS_DUPLICATE: return "the cookie twice with different values";
    case WSA_EXPRESS_TOO_LONG: return "cookie too long";
    case WSA_EXPRESS_BAD_ESCAPE: return "bad percent-escape";
    case WSA_EXPRESS_MALFORMED: return "malformed signed cookie";
    case WSA_EXPRESS_BAD_SIG: return "bad signature";
    case WSA_EXPRESS_NO_KEY: return "no secret";
    }
    return "unknown";
}

static int b64_val(unsigned char c)
{
    const char *p = c ? strchr(b64std, c) : NULL;
    return p ? (int)(p - b64std) : -1;
}

/* 43 characters of the standard alphabet, canonical (the last one carries
 * 4 bits: its low 2 bits must be zero) -> 32 bytes */
static int mac_decode(const char *in, apr_size_t len, unsigned char *out)
{
    apr_uint32_t acc = 0;
    apr_size_t i, o = 0;
    int bits = 0;

    if (len != WSA_EXPRESS_MAC_B64) {
        return -1;
    }
    for (i = 0; i < len; i++) {
        int v = b64_val((unsigned char)in[i]);
        if (v < 0) {
            return -1;
        }
        acc = (acc << 6) | (apr_uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    return (o == WSA_KEYS_MAC_LEN && acc == 0) ? 0 : -1;
}

static void mac_encode(char *out, const unsigned char *in)
{
    apr_size_t i, o = 0;
    apr_uint32_t acc = 0;
    int bits = 0;

    for (i = 0; i < WSA_KEYS_MAC_LEN; i++) {
        acc = (acc << 8) | in[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out[o++] = b64std[(acc >> bits) & 0x3f];
        }
        acc &= (1u << bits) - 1;
    }
    if (bits) {
        out[o++] = b64std[(acc << (6 - bits)) & 0x3f];
    }
    out[o] = '\0';
}

/* RFC 6265 cookie-octet: what a cookie value may hold as sent */
static int cookie_octet(unsigned char c)
{
    return c == 0x21 || (c >= 0x23 && c <= 0x2b) || (c >= 0x2d && c <= 0x3a) ||
           (c >= 0x3c && c <= 0x5b) || (c >= 0x5d && c <= 0x7e);
}

static int hexval(unsigned char c)
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

/* Find the one value of name in header: OK with v and vlen, or a status. */
static wsa_express_e find_value(const char *header, const char *name, const char **v,
                                apr_size_t *vlen)
{
    apr_size_t nlen = strlen(name);
    const char *p = header;
    const char *found = NULL;
    apr_size_t flen = 0;

    while (*p) {
        const char *s = p, *e, *eq;
        while (*p && *p != ';') {
            p++;
        }
        e = p;
        if (*p) {
            p++;
        }
        while (s < e && (*s == ' ' || *s == '\t')) {
            s++;
        }
        eq = memchr(s, '=', (apr_size_t)(e - s));
        if (!eq) {
            continue; /* the cookie package skips a piece without '=' */
        }
        {
            const char *ke = eq;
            while (ke > s && (ke[-1] == ' ' || ke[-1] == '\t')) {
                ke--;
            }
            if ((apr_size_t)(ke - s) != nlen || memcmp(s, name, nlen)) {
                continue;
            }
        }
        s = eq + 1;
        while (s < e && (*s == ' ' || *s == '\t')) {
            s++;
        }
        while (e > s && (e[-1] == ' ' || e[-1] == '\t')) {
            e--;
        }
        if (found && (flen != (apr_size_t)(e - s) || memcmp(found, s, flen))) {
            return WSA_EXPRESS_DUPLICATE;
        }
        found = s;
        flen = (apr_size_t)(e - s);
    }
    if (!found) {
        return WSA_EXPRESS_ABSENT;
    }
    *v = found;
    *vlen = flen;
    return WSA_EXPRESS_OK;
}

wsa_express_e wsa_express_verify(apr_pool_t *pool, const wsa_keys_t *keys, const char *header,
                                 const char *name, wsa_express_t *out)
{
    const char *raw = NULL, *dot, *id;
    char dec[WSA_EXPRESS_MAX_VALUE + 1];
    unsigned char want[WSA_KEYS_MAC_LEN], got[WSA_KEYS_MAC_LEN];
    apr_size_t rlen = 0, dlen = 0, i, id_len;
    wsa_express_e st;
    int k, match = -1;

    if (!header || !name || !*name) {
        return WSA_EXPRESS_ABSENT;
    }
    if (strnlen(header, WSA_EXPRESS_MAX_HEADER + 1) > WSA_EXPRESS_MAX_HEADER) {
        return WSA_EXPRESS_TOO_LONG;
    }
    st = find_value(header, name, &raw, &rlen);
    if (st != WSA_EXPRESS_OK) {
        return st;
    }
    if (rlen > WSA_EXPRESS_MAX_VALUE) {
        return WSA_EXPRESS_TOO_LONG;
    }
    for (i = 0; i < rlen; i++) {
        unsigned char c = (unsigned char)raw[i];
        if (c == '%') {
            int h, l;
            if (i + 2 >= rlen) {
                return WSA_EXPRESS_BAD_ESCAPE;
            }
            h = hexval((unsigned char)raw[i + 1]);
            l = hexval((unsigned char)raw[i + 2]);
            if (h < 0 || l < 0) {
                return WSA_EXPRESS_BAD_ESCAPE;
            }
            c = (unsigned char)(h * 16 + l);
            if (c < 0x21 || c > 0x7e) {
                return WSA_EXPRESS_BAD_ESCAPE;
            }
            i += 2;
        }
        else if (!cookie_octet(c)) {
            return WSA_EXPRESS_MALFORMED;
        }
        dec[dlen++] = (char)c;
    }
    dec[dlen] = '\0';
    if (dlen < 2 || dec[0] != 's' || dec[1] != ':') {
        return WSA_EXPRESS_MALFORMED;
    }
    dot = NULL;
    for (i = dlen; i > 2; i--) {
        if (dec[i - 1] == '.') {
            dot = dec + i - 1;
            break;
        }
    }
    if (!dot) {
        return WSA_EXPRESS_MALFORMED;
    }
    id = dec + 2;
    id_len = (apr_size_t)(dot - id);
    if (id_len == 0) {
        return WSA_EXPRESS_MALFORMED;
    }
    if (id_len > WSA_EXPRESS_MAX_ID) {
        return WSA_EXPRESS_TOO_LONG;
    }
    if (mac_decode(dot + 1, (apr_size_t)(dec + dlen - (dot + 1)), got) != 0) {
        return WSA_EXPRESS_MALFORMED;
    }
    if (wsa_keys_count(keys) == 0) {
        return WSA_EXPRESS_NO_KEY;
    }
    for (k = 0; k < wsa_keys_count(keys); k++) {
        if (wsa_keys_hmac(keys, k, id, id_len, want) != 0) {
            continue;
        }
        if (CRYPTO_memcmp(want, got, sizeof(want)) == 0 && match < 0) {
            match = k;
        }
    }
    OPENSSL_cleanse(want, sizeof(want));
    if (match < 0) {
        return WSA_EXPRESS_BAD_SIG;
    }
    out->id = apr_pstrmemdup(pool, id, id_len);
    out->id_len = id_len;
    out->key_index = match;
    return WSA_EXPRESS_OK;
}

/* encodeURIComponent leaves these unescaped */
static int uri_unreserved(unsigned char c)
{
    return apr_isalnum(c) || strchr("-_.!~*'()", c) != NULL;
}

char *wsa_express_sign(apr_pool_t *pool, const wsa_keys_t *keys, int i, const char *id,
                       apr_size_t id_len)
{
    unsigned char mac[WSA_KEYS_MAC_LEN];
    char b64[WSA_EXPRESS_MAC_B64 + 1];
    char *plain, *out, *o;
    apr_size_t j, plen;

    if (!id || id_len == 0 || id_len > WSA_EXPRESS_MAX_ID ||
        wsa_keys_hmac(keys, i, id, id_len, mac) != 0) {
        return NULL;
    }
    mac_encode(b64, mac);
    plain = apr_psprintf(pool, "s:%.*s.%s", (int)id_len, id, b64);
    plen = strlen(plain);
    out = o = apr_palloc(pool, plen * 3 + 1);
    for (j = 0; j < plen; j++) {
        unsigned char c = (unsigned char)plain[j];
        if (c && uri_unreserved(c)) {
            *o++ = (char)c;
        }
        else {
            *o++ = '%';
            *o++ = "0123456789ABCDEF"[c >> 4];
            *o++ = "0123456789ABCDEF"[c & 15];
        }
    }
    *o = '\0';
    return out;
}
