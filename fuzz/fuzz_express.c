/*
 * fuzz_express.c - libFuzzer target: a Cookie header through the
 * express-session cookie parser (core/wsa_express.c).
 *
 * The input is the whole Cookie header (cut at the first NUL, as httpd's C
 * strings are), verified for the cookie "connect.sid" with a ring of two
 * secrets. Properties: no crash, no read past the header; ABSENT whenever
 * the header does not hold the name; an accepted id is 1..256 bytes of
 * printable ASCII, and what wsa_express_sign() writes for it with the
 * secret that verified it verifies again to the same id.
 *
 * Seeds: fuzz/corpus/express, made by fuzz/make_seeds.py (signed with
 * Python's hmac, not with this code).
 */
#include "fuzz_common.h"

#include <apr_strings.h>

#include "wsa_express.h"

#define SECRETS "fuzz-express-secret-current-0123456789\nfuzz-express-secret-previous-0123456789\n"

static wsa_keys_t *fuzz_keys;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    char *header = malloc(size + 1);
    wsa_express_t c;
    wsa_express_e st;

    if (!header) {
        abort();
    }
    if (!fuzz_keys) {
        const char *err = wsa_keys_parse(fuzz_global_pool, SECRETS, strlen(SECRETS), &fuzz_keys);
        FUZZ_CHECK(err == NULL, "%s", err);
    }
    if (size) {
        memcpy(header, data, size);
    }
    header[size] = '\0';

    st = wsa_express_verify(p, fuzz_keys, header, "connect.sid", &c);
    if (!strstr(header, "connect.sid")) {
        FUZZ_CHECK(st == WSA_EXPRESS_ABSENT || st == WSA_EXPRESS_TOO_LONG, "%s",
                   wsa_express_str(st));
    }
    if (st == WSA_EXPRESS_OK) {
        apr_size_t i;
        char *again;
        wsa_express_t c2;

        FUZZ_CHECK(c.id_len >= 1 && c.id_len <= WSA_EXPRESS_MAX_ID, "%d", (int)c.id_len);
        FUZZ_CHECK(strlen(c.id) == c.id_len, "id has a NUL");
        for (i = 0; i < c.id_len; i++) {
            FUZZ_CHECK(c.id[i] > 0x20 && c.id[i] < 0x7f, "byte %d", (int)i);
        }
        again = wsa_express_sign(p, fuzz_keys, c.key_index, c.id, c.id_len);
        FUZZ_CHECK(again != NULL, "sign");
        again = apr_pstrcat(p, "connect.sid=", again, NULL);
        FUZZ_CHECK(wsa_express_verify(p, fuzz_keys, again, "connect.sid", &c2) == WSA_EXPRESS_OK,
                   "re-signed cookie refused");
        FUZZ_CHECK(c2.id_len == c.id_len && !memcmp(c2.id, c.id, c.id_len), "another id");
    }
    free(header);
    return 0;
}
