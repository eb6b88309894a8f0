/*
 * ssg_token.c - signed session tokens, format "v1" (see ssg_token.h).
 *
 * Pure core: C, APR and OpenSSL.
 *
 * The MAC is HMAC-SHA256 (RFC 2104). Each key is keyed once, at
 * configuration time: its inner and outer SHA-256 states (the hash of
 * K^ipad and of K^opad) are computed and kept in the ring. A MAC is then
 * two copies of a 112-byte struct and the hashing of the message: no
 * allocation, no provider dispatch, nothing key-dependent per request.
 * OpenSSL 3 marks the SHA256_* functions deprecated in favour of EVP, but
 * EVP's HMAC re-initialisation (EVP_MAC_init with a NULL key) allocates
 * twice per MAC and costs 2.4 x (cache-warm) to 3.2 x (cache-cold) as much
 * on this machine. Where OpenSSL is built without its deprecated API
 * (OPENSSL_NO_DEPRECATED_3_0), or with -DSSG_MAC_EVP, the EVP_MAC path is
 * compiled instead: a per-thread copy of each key's keyed context,
 * re-initialised per MAC. `make unit` runs the token tests against both.
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1 /* SHA256_Init & co., see above */

#include "ssg_token.h"
#include "ssg_b64_tables.h"

#include <string.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include <openssl/opensslconf.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#if !defined(SSG_MAC_EVP) && defined(OPENSSL_NO_DEPRECATED_3_0)
#define SSG_MAC_EVP 1
#endif
#ifndef SSG_MAC_EVP
#include <openssl/sha.h>
#endif

typedef struct {
#ifdef SSG_MAC_EVP
    EVP_MAC_CTX *ctx; /* keyed once; never mutated after ssg_ring_add */
    apr_uint64_t id;  /* unique for the life of the process: the thread cache key */
#else
    SHA256_CTX inner;  /* SHA-256 state after K ^ ipad and the v1 prefix: never mutated */
    SHA256_CTX inner2; /* the same with the v2 prefix */
    SHA256_CTX outer;  /* SHA-256 state after K ^ opad */
#endif
    char kid[SSG_KID_LEN + 1];
} ssg_key_t;

#ifdef SSG_MAC_EVP
/* Keys are created while the configuration is read (one thread); ids are
 * never reused, so a thread's cached context can never belong to a key of
 * an older configuration that happened to live at the same address. */
static apr_uint64_t next_key_id = 1;

/* Per thread, a few contexts keyed like the ring's keys: a MAC is then a
 * re-initialisation (EVP_MAC_init with a NULL key restores the keyed state)
 * instead of a duplication (several allocations). Contexts live as long as
 * the thread (httpd's workers live as long as their child). */
#define SSG_TCACHE 4
static __thread struct {
    apr_uint64_t id;
    EVP_MAC_CTX *ctx;
} tcache[SSG_TCACHE];
static __thread unsigned tcache_next;
#endif

struct ssg_ring_t {
    apr_pool_t *pool;
    int nkeys;
    ssg_key_t keys[SSG_MAX_KEYS];
    unsigned char fp[SSG_MAX_KEYS][32]; /* SHA-256 of each secret: duplicates */
};

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* 0..63 for base64url characters, 0xff otherwise */
/* clang-format off */
static const unsigned char b64_value[256] = {
#define XX 0xff
    XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,
    XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,
    XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,62,XX,XX,
    52,53,54,55,56,57,58,59,60,61,XX,XX,XX,XX,XX,XX,
    XX, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9,10,11,12,13,14,
    15,16,17,18,19,20,21,22,23,24,25,XX,XX,XX,XX,63,
    XX,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,
    41,42,43,44,45,46,47,48,49,50,51,XX,XX,XX,XX,XX,
    XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,
    XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,
    XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,
    XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,
    XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,
    XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,
    XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,
    XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX
#undef XX
};
/* clang-format on */

apr_size_t ssg_b64url_encoded_len(apr_size_t len)
{
    return (len / 3) * 4 + ((len % 3) ? (len % 3) + 1 : 0);
}

void ssg_b64url_encode(char *out, const unsigned char *in, apr_size_t len)
{
    apr_size_t i = 0;
    char *o = out;

    for (; i + 3 <= len; i += 3) {
        unsigned long v =
            ((unsigned long)in[i] << 16) | ((unsigned long)in[i + 1] << 8) | in[i + 2];
        *o++ = b64_alphabet[(v >> 18) & 63];
        *o++ = b64_alphabet[(v >> 12) & 63];
        *o++ = b64_alphabet[(v >> 6) & 63];
        *o++ = b64_alphabet[v & 63];
    }
    if (len - i == 1) {
        unsigned long v = (unsigned long)in[i] << 16;
        *o++ = b64_alphabet[(v >> 18) & 63];
        *o++ = b64_alphabet[(v >> 12) & 63];
    }
    else if (len - i == 2) {
        unsigned long v = ((unsigned long)in[i] << 16) | ((unsigned long)in[i + 1] << 8);
        *o++ = b64_alphabet[(v >> 18) & 63];
        *o++ = b64_alphabet[(v >> 12) & 63];
        *o++ = b64_alphabet[(v >> 6) & 63];
    }
    *o = '\0';
}

/*
 * Branch-free inner loop: each table holds a character's value already
 * shifted into place for its position in a 4-character group, with bit 31
 * set for a character outside the alphabet; one OR-accumulated error word is
 * checked once at the end (tables: ssg_b64_tables.h, generated from
 * b64_value above).
 */
long ssg_b64url_decode(unsigned char *out, const char *in, apr_size_t len)
{
    const unsigned char *s = (const unsigned char *)in;
    apr_uint32_t err = 0;
    apr_size_t i = 0;
    long n = 0;

    if (len % 4 == 1) {
        return -1; /* no length encodes this */
    }
    for (; i + 4 <= len; i += 4) {
        apr_uint32_t x = b64_d0[s[i]] | b64_d1[s[i + 1]] | b64_d2[s[i + 2]] | b64_d3[s[i + 3]];
        err |= x;
        out[n] = (unsigned char)(x >> 16);
        out[n + 1] = (unsigned char)(x >> 8);
        out[n + 2] = (unsigned char)x;
        n += 3;
    }
    if (err & 0x80000000u) {
        return -1;
    }
    if (len - i == 2) {
        unsigned a = b64_value[s[i]], b = b64_value[s[i + 1]];
        if (((a | b) & 0xc0) || (b & 0x0f)) {
            return -1; /* invalid byte or trailing bits */
        }
        out[n++] = (unsigned char)((a << 2) | (b >> 4));
    }
    else if (len - i == 3) {
        unsigned a = b64_value[s[i]], b = b64_value[s[i + 1]];
        unsigned c = b64_value[s[i + 2]];
        if (((a | b | c) & 0xc0) || (c & 0x03)) {
            return -1;
        }
        out[n++] = (unsigned char)((a << 2) | (b >> 4));
        out[n++] = (unsigned char)((b << 4) | (c >> 2));
    }
    return n;
}

int ssg_random(unsigned char *buf, apr_size_t len)
{
    return RAND_bytes(buf, (int)len) == 1 ? 0 : -1;
}

const char *ssg_status_str(ssg_status_e st)
{
    switch (st) {
    case SSG_OK: return "valid";
    case SSG_OK_OLD_KEY: return "valid (older key)";
    case SSG_ERR_EMPTY: return "empty token";
    case SSG_ERR_TOO_LONG: return "token too long";
    case SSG_ERR_MALFORMED: return "malformed token";
    case SSG_ERR_VERSION: return "unknown token version";
    case SSG_ERR_UNKNOWN_KEY: return "unknown key id";
    case SSG_ERR_BAD_MAC: return "bad signature";
    case SSG_ERR_FUTURE: return "issued in the future";
    case SSG_ERR_EXPIRED: return "lifetime exceeded";
    case SSG_ERR_NO_KEY: return "no signing key";
    }
    return "unknown";
}

static apr_status_t ring_cleanup(void *data)
{
    ssg_ring_t *ring = data;
    int i;

    for (i = 0; i < ring->nkeys; i++) {
#ifdef SSG_MAC_EVP
        EVP_MAC_CTX_free(ring->keys[i].ctx);
        ring->keys[i].ctx = NULL;
#else
        OPENSSL_cleanse(&ring->keys[i].inner, sizeof(ring->keys[i].inner));
        OPENSSL_cleanse(&ring->keys[i].inner2, sizeof(ring->keys[i].inner2));
        OPENSSL_cleanse(&ring->keys[i].outer, sizeof(ring->keys[i].outer));
#endif
    }
    OPENSSL_cleanse(ring->fp, sizeof(ring->fp));
    ring->nkeys = 0;
    return APR_SUCCESS;
}

apr_status_t ssg_ring_create(apr_pool_t *pool, ssg_ring_t **ring)
{
    ssg_ring_t *r = apr_pcalloc(pool, sizeof(*r));

    r->pool = pool;
    apr_pool_cleanup_register(pool, r, ring_cleanup, apr_pool_cleanup_null);
    *ring = r;
    return APR_SUCCESS;
}

int ssg_ring_count(const ssg_ring_t *ring)
{
    return ring ? ring->nkeys : 0;
}

const char *ssg_ring_kid(const ssg_ring_t *ring, int i)
{
    if (!ring || i < 0 || i >= ring->nkeys) {
        return NULL;
    }
    return ring->keys[i].kid;
}

static const char mac_prefix[] = SSG_LABEL "\0" SSG_VERSION "\0";
static const char mac_prefix2[] = SSG_LABEL "\0" SSG_VERSION2 "\0";
#define MAC_PREFIX_LEN (sizeof(mac_prefix) - 1) /* the same for both versions */

#ifdef SSG_MAC_EVP
static int key_mac(ssg_key_t *k, const unsigned char *secret, apr_size_t len)
{
    EVP_MAC *mac;
    OSSL_PARAM params[2];
    char digest[] = "SHA256";

    mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (!mac) {
        return -1;
    }
    k->ctx = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac); /* the context holds its own reference */
    if (!k->ctx) {
        return -1;
    }
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0);
    params[1] = OSSL_PARAM_construct_end();
    if (EVP_MAC_init(k->ctx, secret, len, params) != 1) {
        EVP_MAC_CTX_free(k->ctx);
        k->ctx = NULL;
        return -1;
    }
    k->id = next_key_id++;
    return 0;
}
#else
/* RFC 2104 with SHA-256 (block 64 bytes): a key longer than the block is
 * replaced by its hash, then zero-padded to the block. */
static int key_mac(ssg_key_t *k, const unsigned char *secret, apr_size_t len)
{
    unsigned char k0[SHA256_CBLOCK], pad[SHA256_CBLOCK];
    int ok = 1;
    int i;

    memset(k0, 0, sizeof(k0));
    if (len > SHA256_CBLOCK) {
        ok = SHA256(secret, len, k0) != NULL;
    }
    else {
        memcpy(k0, secret, len);
    }
    for (i = 0; i < SHA256_CBLOCK; i++) {
        pad[i] = k0[i] ^ 0x36;
    }
    /* the inner state also absorbs the constant label and version that
     * begin every MAC input (the context keeps the partial block) */
    ok = ok && SHA256_Init(&k->inner) == 1 && SHA256_Update(&k->inner, pad, sizeof(pad)) == 1;
    k->inner2 = k->inner;
    ok = ok && SHA256_Update(&k->inner, mac_prefix, MAC_PREFIX_LEN) == 1 &&
         SHA256_Update(&k->inner2, mac_prefix2, MAC_PREFIX_LEN) == 1;
    for (i = 0; i < SHA256_CBLOCK; i++) {
        pad[i] = k0[i] ^ 0x5c;
    }
    ok = ok && SHA256_Init(&k->outer) == 1 && SHA256_Update(&k->outer, pad, sizeof(pad)) == 1;
    OPENSSL_cleanse(k0, sizeof(k0));
    OPENSSL_cleanse(pad, sizeof(pad));
    if (!ok) {
        OPENSSL_cleanse(k, sizeof(*k));
        return -1;
    }
    return 0;
}
#endif

const char *ssg_ring_add(ssg_ring_t *ring, const char *secret, apr_size_t len)
{
    unsigned char digest[32];
    unsigned int dlen = 0;
    EVP_MD_CTX *md;
    ssg_key_t *k;
    apr_size_t i;
    int j;

    if (len < SSG_MIN_SECRET_LEN) {
        return "secret shorter than 32 bytes";
    }
    if (len > SSG_MAX_SECRET_LEN) {
        return "secret longer than 1024 bytes";
    }
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)secret[i];
        if (c < 0x20 || c == 0x7f) {
            return "secret contains a control character";
        }
        if (c >= 0x80) {
            return "a byte outside printable ASCII (a UTF-8 character?); "
                   "secrets are printable ASCII";
        }
    }
    if (ring->nkeys >= SSG_MAX_KEYS) {
        return "too many secrets (at most 16)";
    }

    /* fingerprint, to refuse a duplicate secret */
    if (!EVP_Digest(secret, len, digest, &dlen, EVP_sha256(), NULL)) {
        return "OpenSSL failed to hash the secret";
    }
    for (j = 0; j < ring->nkeys; j++) {
        if (CRYPTO_memcmp(ring->fp[j], digest, sizeof(digest)) == 0) {
            OPENSSL_cleanse(digest, sizeof(digest));
            return "the same secret is listed twice";
        }
    }

    /* key id: first 6 bytes of SHA-256(label NUL secret) */
    md = EVP_MD_CTX_new();
    if (!md) {
        return "OpenSSL out of memory";
    }
    k = &ring->keys[ring->nkeys];
    {
        unsigned char kd[32];
        unsigned int kl = 0;
        static const char kid_label[] = SSG_KID_LABEL;
        if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
            EVP_DigestUpdate(md, kid_label, sizeof(kid_label)) != 1 /* with NUL */
            || EVP_DigestUpdate(md, secret, len) != 1 || EVP_DigestFinal_ex(md, kd, &kl) != 1) {
            EVP_MD_CTX_free(md);
            return "OpenSSL failed to derive the key id";
        }
        EVP_MD_CTX_free(md);
        ssg_b64url_encode(k->kid, kd, SSG_KID_RAW_LEN);
    }
    for (j = 0; j < ring->nkeys; j++) {
        if (strcmp(ring->keys[j].kid, k->kid) == 0) {
            return "two secrets share a key id; generate a new secret";
        }
    }
    if (key_mac(k, (const unsigned char *)secret, len) != 0) {
        return "OpenSSL could not key HMAC-SHA256";
    }
    memcpy(ring->fp[ring->nkeys], digest, sizeof(digest));
    OPENSSL_cleanse(digest, sizeof(digest));
    ring->nkeys++;
    return NULL;
}

/* Is text[0..len) NAME=value, a shell or .env assignment? NAME is a letter
 * or '_' then letters, digits, '_'; base64's '=' padding only ends a line. */
static int looks_like_assignment(const char *text, apr_size_t len)
{
    apr_size_t i = 0;

    if (!len || !(apr_isalpha(text[0]) || text[0] == '_')) {
        return 0;
    }
    while (i < len && (apr_isalnum(text[i]) || text[i] == '_')) {
        i++;
    }
    if (i + 1 >= len || text[i] != '=') {
        return 0;
    }
    for (i++; i < len; i++) {
        if (text[i] != '=') {
            return 1; /* something after the '=' that is not padding */
        }
    }
    return 0;
}

const char *ssg_keyfile_line_check(const char *line, apr_size_t len)
{
    apr_size_t i;

    if (len >= 3 && (unsigned char)line[0] == 0xef && (unsigned char)line[1] == 0xbb &&
        (unsigned char)line[2] == 0xbf) {
        return "starts with a UTF-8 byte-order mark; save the file without it";
    }
    if (line[0] == '#') {
        for (i = 1; i < len; i++) {
            unsigned char c = (unsigned char)line[i];
            if ((c < 0x20 && c != '\t') || c == 0x7f) {
                return "a control character in a comment";
            }
        }
        return NULL; /* a comment: any printable text, UTF-8 too */
    }
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)line[i];
        if (c >= 0x80) {
            return "a byte outside printable ASCII (a UTF-8 character?); "
                   "secrets are printable ASCII";
        }
        if (c < 0x20 || c == 0x7f) {
            return "secret contains a control character";
        }
    }
    if (len >= 5 && !memcmp(line, "-----", 5)) {
        return "a PEM block is not a key file";
    }
    for (i = 0; i < len; i++) {
        if (line[i] == ' ' || line[i] == '\t') {
            return "a blank inside the secret; one secret per line, "
                   "comments on lines of their own";
        }
        if (line[i] == '#') {
            return "a '#' inside the secret; comments must start their own line";
        }
    }
    if (line[0] == '"' || line[0] == '\'') {
        return "a quoted secret; write the secret without quotes";
    }
    if (looks_like_assignment(line, len)) {
        return "looks like NAME=value; put the secret alone on the line";
    }
    return NULL;
}

const char *ssg_keyfile_walk(apr_pool_t *pool, const char *text, apr_size_t len,
                             ssg_keyfile_add_fn *add, void *ctx)
{
    apr_size_t pos = 0;
    int lineno = 0, added = 0;

    while (pos < len) {
        apr_size_t start = pos, end;
        const char *err;

        while (pos < len && text[pos] != '\n') {
            pos++;
        }
        end = pos;
        if (pos < len) {
            pos++; /* skip the newline */
        }
        lineno++;
        if (end > start && text[end - 1] == '\r') {
            end--; /* CRLF: only a CR right before the line end */
        }
        while (start < end && (text[start] == ' ' || text[start] == '\t')) {
            start++;
        }
        while (end > start && (text[end - 1] == ' ' || text[end - 1] == '\t')) {
            end--;
        }
        if (start == end) {
            continue;
        }
        err = ssg_keyfile_line_check(text + start, end - start);
        if (!err && text[start] == '#') {
            continue;
        }
        if (!err) {
            err = add(ctx, text + start, end - start);
        }
        if (err) {
            return apr_psprintf(pool, "line %d: %s", lineno, err);
        }
        added++;
    }
    if (!added) {
        return "no secret in the file (only blank lines or comments)";
    }
    return NULL;
}

static const char *ring_add_line(void *ring, const char *secret, apr_size_t len)
{
    return ssg_ring_add(ring, secret, len);
}

const char *ssg_ring_parse_keyfile(apr_pool_t *pool, ssg_ring_t *ring, const char *text,
                                   apr_size_t len)
{
    return ssg_keyfile_walk(pool, text, len, ring_add_line, ring);
}

/* Fill buf with: kid NUL iat NUL [sid NUL] u32be(len ctx) ctx (the sid
 * for v2 only). @return its length. */
static apr_size_t mac_header(unsigned char *buf, const char *kid, const char *iat,
                             apr_size_t iat_len, const char *sid, const char *context,
                             apr_size_t ctx_len)
{
    apr_size_t n = 0;

    memcpy(buf + n, kid, SSG_KID_LEN);
    n += SSG_KID_LEN;
    buf[n++] = 0;
    memcpy(buf + n, iat, iat_len);
    n += iat_len;
    buf[n++] = 0;
    if (sid) {
        memcpy(buf + n, sid, SSG_SID_LEN);
        n += SSG_SID_LEN;
        buf[n++] = 0;
    }
    buf[n++] = (unsigned char)((ctx_len >> 24) & 0xff);
    buf[n++] = (unsigned char)((ctx_len >> 16) & 0xff);
    buf[n++] = (unsigned char)((ctx_len >> 8) & 0xff);
    buf[n++] = (unsigned char)(ctx_len & 0xff);
    memcpy(buf + n, context, ctx_len);
    n += ctx_len;
    return n;
}

#define MAC_HEADER_MAX                                                                             \
    (SSG_KID_LEN + 1 + SSG_MAX_IAT_DIGITS + 1 + SSG_SID_LEN + 1 + 4 + SSG_MAX_CONTEXT_LEN)

#ifdef SSG_MAC_EVP
static int compute_mac(const ssg_key_t *k, int v2, const unsigned char *hdr, apr_size_t hdr_len,
                       const unsigned char *payload, apr_size_t payload_len, unsigned char *out)
{
    EVP_MAC_CTX *c = NULL;
    size_t outl = 0;
    unsigned i;
    int ok;

    for (i = 0; i < SSG_TCACHE; i++) {
        if (tcache[i].id == k->id && tcache[i].ctx) {
            c = tcache[i].ctx;
            break;
        }
    }
    if (!c) {
        i = tcache_next++ % SSG_TCACHE;
        EVP_MAC_CTX_free(tcache[i].ctx);
        tcache[i].id = 0;
        tcache[i].ctx = EVP_MAC_CTX_dup(k->ctx);
        if (!tcache[i].ctx) {
            return -1;
        }
        tcache[i].id = k->id;
        c = tcache[i].ctx;
    }
    ok = EVP_MAC_init(c, NULL, 0, NULL) == 1 &&
         EVP_MAC_update(c, (const unsigned char *)(v2 ? mac_prefix2 : mac_prefix),
                        MAC_PREFIX_LEN) == 1 &&
         EVP_MAC_update(c, hdr, hdr_len) == 1 && EVP_MAC_update(c, payload, payload_len) == 1 &&
         EVP_MAC_final(c, out, &outl, SSG_MAC_LEN) == 1 && outl == SSG_MAC_LEN;
    return ok ? 0 : -1;
}
#else
static int compute_mac(const ssg_key_t *k, int v2, const unsigned char *hdr, apr_size_t hdr_len,
                       const unsigned char *payload, apr_size_t payload_len, unsigned char *out)
{
    SHA256_CTX c = v2 ? k->inner2 : k->inner;
    unsigned char inner[SHA256_DIGEST_LENGTH];
    int ok;

    /* k->inner has absorbed the key block and mac_prefix already */
    ok = SHA256_Update(&c, hdr, hdr_len) == 1 && SHA256_Update(&c, payload, payload_len) == 1 &&
         SHA256_Final(inner, &c) == 1;
    c = k->outer;
    ok = ok && SHA256_Update(&c, inner, sizeof(inner)) == 1 && SHA256_Final(out, &c) == 1;
    /* explicit_bzero: a plain memset the compiler may not drop (cheaper
     * per request than OPENSSL_cleanse's byte-and-word loop) */
    explicit_bzero(&c, sizeof(c));
    explicit_bzero(inner, sizeof(inner));
    return ok ? 0 : -1;
}
#endif

char *ssg_sign_sid(apr_pool_t *pool, const ssg_ring_t *ring, const char *context, apr_int64_t iat,
                   const char *sid, const char *payload, apr_size_t payload_len)
{
    unsigned char hdr[MAC_HEADER_MAX];
    unsigned char mac[SSG_MAC_LEN];
    char iat_s[32];
    apr_size_t ctx_len, iat_len, hlen, plen, total;
    const ssg_key_t *k;
    char *tok, *o;

    if (!ring || ring->nkeys < 1 || !payload || payload_len < 1 ||
        payload_len > SSG_MAX_TOKEN_LEN || iat < 1) {
        return NULL;
    }
    if (memchr(payload, '\0', payload_len)) {
        return NULL; /* verify would refuse it */
    }
    if (sid && !ssg_sid_valid(sid, strlen(sid))) {
        return NULL;
    }
    context = context ? context : "";
    ctx_len = strlen(context);
    if (ctx_len > SSG_MAX_CONTEXT_LEN) {
        return NULL;
    }
    iat_len = (apr_size_t)apr_snprintf(iat_s, sizeof(iat_s), "%" APR_INT64_T_FMT, iat);
    if (iat_len > SSG_MAX_IAT_DIGITS) {
        return NULL;
    }
    plen = ssg_b64url_encoded_len(payload_len);
    total = 2 + 1 + SSG_KID_LEN + 1 + iat_len + 1 + (sid ? SSG_SID_LEN + 1 : 0) + plen + 1 +
            SSG_MAC_B64_LEN;
    if (total > SSG_MAX_TOKEN_LEN) {
        return NULL; /* verify would refuse it */
    }
    k = &ring->keys[0];
    hlen = mac_header(hdr, k->kid, iat_s, iat_len, sid, context, ctx_len);
    if (compute_mac(k, sid != NULL, hdr, hlen, (const unsigned char *)payload, payload_len, mac) !=
        0) {
        return NULL;
    }
    tok = apr_palloc(pool, total + 1);
    o = tok;
    memcpy(o, sid ? SSG_VERSION2 "." : SSG_VERSION ".", 3);
    o += 3;
    memcpy(o, k->kid, SSG_KID_LEN);
    o += SSG_KID_LEN;
    *o++ = '.';
    memcpy(o, iat_s, iat_len);
    o += iat_len;
    *o++ = '.';
    if (sid) {
        memcpy(o, sid, SSG_SID_LEN);
        o += SSG_SID_LEN;
        *o++ = '.';
    }
    ssg_b64url_encode(o, (const unsigned char *)payload, payload_len);
    o += plen;
    *o++ = '.';
    ssg_b64url_encode(o, mac, SSG_MAC_LEN);
    OPENSSL_cleanse(mac, sizeof(mac));
    return tok;
}

char *ssg_sign(apr_pool_t *pool, const ssg_ring_t *ring, const char *context, apr_int64_t iat,
               const char *payload, apr_size_t payload_len)
{
    return ssg_sign_sid(pool, ring, context, iat, NULL, payload, payload_len);
}

int ssg_sid_valid(const char *sid, apr_size_t len)
{
    unsigned char raw[SSG_SID_RAW_LEN + 3];

    return len == SSG_SID_LEN && ssg_b64url_decode(raw, sid, len) == SSG_SID_RAW_LEN;
}

int ssg_sid_new(char *out)
{
    unsigned char raw[SSG_SID_RAW_LEN];

    if (ssg_random(raw, sizeof(raw)) != 0) {
        return -1;
    }
    ssg_b64url_encode(out, raw, sizeof(raw));
    OPENSSL_cleanse(raw, sizeof(raw));
    return 0;
}

/* Constant time: every byte is read and combined whatever the contents,
 * with no early exit and no data-dependent branch (as CRYPTO_memcmp, four
 * 64-bit words instead of 32 bytes). */
static int mac_equal(const unsigned char *a, const unsigned char *b)
{
    apr_uint64_t x, y, diff = 0;
    int i;

    for (i = 0; i < SSG_MAC_LEN; i += 8) {
        memcpy(&x, a + i, 8);
        memcpy(&y, b + i, 8);
        diff |= x ^ y;
    }
    return diff == 0;
}

ssg_status_e ssg_verify(apr_pool_t *pool, const ssg_ring_t *ring, const char *context,
                        apr_int64_t now, apr_int64_t max_lifetime, apr_int64_t skew,
                        const char *token, apr_size_t token_len, ssg_result_t *res)
{
    const char *field[6];
    apr_size_t flen[6];
    const char *sid = NULL;
    unsigned char hdr[MAC_HEADER_MAX];
    unsigned char mac_given[SSG_MAC_LEN + 3];
    unsigned char mac_calc[SSG_MAC_LEN];
    unsigned char *payload;
    apr_size_t i, start, ctx_len, hlen;
    apr_int64_t iat = 0;
    long plen;
    int nf = 0, ki = -1, j;

    if (!ring || ring->nkeys < 1) {
        return SSG_ERR_NO_KEY;
    }
    if (!token || token_len == 0) {
        return SSG_ERR_EMPTY;
    }
    if (token_len > SSG_MAX_TOKEN_LEN) {
        return SSG_ERR_TOO_LONG;
    }

    /* five (v1) or six (v2) dot-separated fields; every byte accounted for */
    start = 0;
    while (nf < 6) {
        const char *dot = memchr(token + start, '.', token_len - start);
        apr_size_t end = dot ? (apr_size_t)(dot - token) : token_len;
        field[nf] = token + start;
        flen[nf] = end - start;
        nf++;
        if (!dot) {
            break;
        }
        start = end + 1;
        if (nf == 6) {
            return SSG_ERR_MALFORMED; /* a seventh field */
        }
    }
    if (nf == 6 && (flen[0] != 2 || memcmp(field[0], SSG_VERSION2, 2) != 0)) {
        return SSG_ERR_MALFORMED; /* six fields are v2 only */
    }
    if (nf < 5) {
        return SSG_ERR_MALFORMED;
    }
    if (nf == 5 && (flen[0] != 2 || memcmp(field[0], SSG_VERSION, 2) != 0)) {
        return SSG_ERR_VERSION;
    }
    if (nf == 6) {
        /* v2: the session id, then the payload and mac where v1 has them */
        if (!ssg_sid_valid(field[3], flen[3])) {
            return SSG_ERR_MALFORMED;
        }
        sid = field[3];
        field[3] = field[4];
        flen[3] = flen[4];
        field[4] = field[5];
        flen[4] = flen[5];
    }
    /* key id: 8 base64url characters of 6 bytes */
    if (flen[1] != SSG_KID_LEN) {
        return SSG_ERR_MALFORMED;
    }
    {
        unsigned char kraw[SSG_KID_RAW_LEN + 1];
        if (ssg_b64url_decode(kraw, field[1], SSG_KID_LEN) != SSG_KID_RAW_LEN) {
            return SSG_ERR_MALFORMED;
        }
    }
    /* issued-at: 1..12 digits, no leading zero */
    if (flen[2] < 1 || flen[2] > SSG_MAX_IAT_DIGITS || field[2][0] == '0') {
        return SSG_ERR_MALFORMED;
    }
    for (i = 0; i < flen[2]; i++) {
        char c = field[2][i];
        if (c < '0' || c > '9') {
            return SSG_ERR_MALFORMED;
        }
        iat = iat * 10 + (c - '0');
    }
    /* mac: 43 characters of 32 bytes */
    if (flen[4] != SSG_MAC_B64_LEN ||
        ssg_b64url_decode(mac_given, field[4], flen[4]) != SSG_MAC_LEN) {
        return SSG_ERR_MALFORMED;
    }
    /* payload: at least one byte */
    if (flen[3] < 2) {
        return SSG_ERR_MALFORMED;
    }
    payload = apr_palloc(pool, flen[3] / 4 * 3 + 4);
    plen = ssg_b64url_decode(payload, field[3], flen[3]);
    if (plen < 1) {
        return SSG_ERR_MALFORMED;
    }
    payload[plen] = '\0';

    /* find the key */
    for (j = 0; j < ring->nkeys; j++) {
        /* the key id is public (it is in every token): a plain compare */
        if (memcmp(ring->keys[j].kid, field[1], SSG_KID_LEN) == 0) {
            ki = j;
            break;
        }
    }
    if (ki < 0) {
        return SSG_ERR_UNKNOWN_KEY;
    }

    context = context ? context : "";
    ctx_len = strlen(context);
    if (ctx_len > SSG_MAX_CONTEXT_LEN) {
        return SSG_ERR_BAD_MAC;
    }
    hlen = mac_header(hdr, field[1], field[2], flen[2], sid, context, ctx_len);
    if (compute_mac(&ring->keys[ki], sid != NULL, hdr, hlen, payload, (apr_size_t)plen, mac_calc) !=
        0) {
        return SSG_ERR_BAD_MAC;
    }
    if (!mac_equal(mac_calc, mac_given)) {
        return SSG_ERR_BAD_MAC;
    }
    /* authentic from here on */
    if (memchr(payload, '\0', (apr_size_t)plen)) {
        return SSG_ERR_MALFORMED;
    }
    if (iat > now + skew) {
        return SSG_ERR_FUTURE;
    }
    if (max_lifetime > 0 && now - iat > max_lifetime) {
        return SSG_ERR_EXPIRED;
    }
    if (res) {
        res->payload = (const char *)payload;
        res->payload_len = (apr_size_t)plen;
        res->iat = iat;
        res->key_index = ki;
        memcpy(res->kid, field[1], SSG_KID_LEN);
        res->kid[SSG_KID_LEN] = '\0';
        res->version = sid ? 2 : 1;
        if (sid) {
            memcpy(res->sid, sid, SSG_SID_LEN);
        }
        else {
            /* a v1 token's own id: the start of its MAC (unique per token) */
            memcpy(res->sid, field[4], SSG_SID_LEN);
        }
        res->sid[SSG_SID_LEN] = '\0';
    }
    return ki == 0 ? SSG_OK : SSG_OK_OLD_KEY;
}

char *ssg_digest_hex(apr_pool_t *pool, const char *data, apr_size_t len)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0, i;
    char *out;

    if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32) {
        return NULL;
    }
    out = apr_palloc(pool, 2 * mdlen + 1);
    for (i = 0; i < mdlen; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 0xf];
    }
    out[2 * mdlen] = '\0';
    return out;
}
