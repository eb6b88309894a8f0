/*
 * wsa_keys.c - a ring of HMAC-SHA256 secrets from a key file
 * (see wsa_keys.h). Pure core: C, APR, OpenSSL.
 */
#include "wsa_keys.h"
#include "ssg_token.h" /* ssg_keyfile_walk: the key-file rules */

#include <string.h>

#include <apr_strings.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/sha.h>

struct wsa_keys_t {
    int n;
    EVP_MAC_CTX *ctx[WSA_KEYS_MAX];
    unsigned char fp[WSA_KEYS_MAX][SHA256_DIGEST_LENGTH]; /* duplicates */
};

static apr_status_t keys_cleanup(void *data)
{
    wsa_keys_t *k = data;
    int i;

    for (i = 0; i < k->n; i++) {
        EVP_MAC_CTX_free(k->ctx[i]);
        k->ctx[i] = NULL;
    }
    OPENSSL_cleanse(k->fp, sizeof(k->fp));
    k->n = 0;
    return APR_SUCCESS;
}

static const char *keys_add(wsa_keys_t *k, const char *secret, apr_size_t len)
{
    unsigned char fp[SHA256_DIGEST_LENGTH];
    OSSL_PARAM params[2];
    char digest[] = "SHA256";
    EVP_MAC *mac;
    EVP_MAC_CTX *ctx;
    int i;

    if (len < WSA_KEYS_MIN_LEN) {
        return "secret shorter than 32 bytes; generate one with "
               "`session-sign genkey` (or openssl rand -base64 48)";
    }
    if (len > WSA_KEYS_MAX_LEN) {
        return "secret longer than 1024 bytes";
    }
    if (k->n >= WSA_KEYS_MAX) {
        return "more than 16 secrets";
    }
    if (!SHA256((const unsigned char *)secret, len, fp)) {
        return "OpenSSL could not hash the secret";
    }
    for (i = 0; i < k->n; i++) {
        if (CRYPTO_memcmp(k->fp[i], fp, sizeof(fp)) == 0) {
            OPENSSL_cleanse(fp, sizeof(fp));
            return "the same secret twice";
        }
    }
    mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    EVP_MAC_free(mac); /* the context holds its own reference */
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0);
    params[1] = OSSL_PARAM_construct_end();
    if (!ctx || EVP_MAC_init(ctx, (const unsigned char *)secret, len, params) != 1) {
        EVP_MAC_CTX_free(ctx);
        OPENSSL_cleanse(fp, sizeof(fp));
        return "OpenSSL could not key HMAC-SHA256";
    }
    memcpy(k->fp[k->n], fp, sizeof(fp));
    OPENSSL_cleanse(fp, sizeof(fp));
    k->ctx[k->n++] = ctx;
    return NULL;
}

static const char *keys_add_line(void *k, const char *secret, apr_size_t len)
{
    return keys_add(k, secret, len);
}

const char *wsa_keys_parse(apr_pool_t *pool, const char *text, apr_size_t len, wsa_keys_t **out)
{
    wsa_keys_t *k = apr_pcalloc(pool, sizeof(*k));
    const char *err;

    apr_pool_cleanup_register(pool, k, keys_cleanup, apr_pool_cleanup_null);
    err = ssg_keyfile_walk(pool, text, len, keys_add_line, k);
    if (err) {
        return err;
    }
    *out = k;
    return NULL;
}

int wsa_keys_count(const wsa_keys_t *k)
{
    return k ? k->n : 0;
}

int wsa_keys_hmac(const wsa_keys_t *k, int i, const void *msg, apr_size_t len, unsigned char *out)
{
    EVP_MAC_CTX *c;
    size_t olen = 0;
    int ok;

    if (!k || i < 0 || i >= k->n) {
        return -1;
    }
    c = EVP_MAC_CTX_dup(k->ctx[i]);
    if (!c) {
        return -1;
    }
    ok = EVP_MAC_update(c, msg, len) == 1 && EVP_MAC_final(c, out, &olen, WSA_KEYS_MAC_LEN) == 1 &&
         olen == WSA_KEYS_MAC_LEN;
    EVP_MAC_CTX_free(c);
    return ok ? 0 : -1;
}
