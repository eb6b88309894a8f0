/*
 * fuzz_fsig.c - libFuzzer target: a forward signature header value through
 * wsa_fsig_verify() (core/wsa_fsig.c), as a backend written in C would
 * check it.
 *
 * The input is the header value (cut at the first NUL). The request is
 * "GET /socket.io/" with X-Remote-User: alice and X-Remote-Role: admin;
 * the clock is the seeds' t (1700000000). Properties: no crash, no read
 * past the value; an accepted value is exactly what wsa_fsig_make() writes
 * for the headers it names (the format has one spelling per signature).
 *
 * Seeds: fuzz/corpus/fsig, made by fuzz/make_seeds.py (signed with
 * Python's hmac, not with this code).
 */
#include "fuzz_common.h"

#include <apr_strings.h>
#include <strings.h>

#include "wsa_fsig.h"

#define KEY "fuzz-fsig-key-0123456789abcdef-0123456789\n"
#define NOW 1700000000

static wsa_keys_t *fuzz_keys;

static const char *get(void *ctx, const char *name)
{
    (void)ctx;
    if (!strcasecmp(name, "x-remote-user")) {
        return "alice";
    }
    if (!strcasecmp(name, "x-remote-role")) {
        return "admin";
    }
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    char *value = malloc(size + 1);
    wsa_fsig_e st;

    if (!value) {
        abort();
    }
    if (!fuzz_keys) {
        const char *err = wsa_keys_parse(fuzz_global_pool, KEY, strlen(KEY), &fuzz_keys);
        FUZZ_CHECK(err == NULL, "%s", err);
    }
    if (size) {
        memcpy(value, data, size);
    }
    value[size] = '\0';
    st = wsa_fsig_verify(p, fuzz_keys, NOW, 60, value, "GET", "/socket.io/", get, NULL);
    FUZZ_CHECK(st >= WSA_FSIG_OK && st <= WSA_FSIG_BAD_SIG, "%d", (int)st);
    if (st == WSA_FSIG_OK) {
        const char *h = strstr(value, ";h=") + 3;
        wsa_fsig_hdr_t hd[2];
        int n = 0;
        apr_int64_t t = apr_atoi64(value + 5);
        char *again;

        if (!strncmp(h, "x-remote-user", 13)) {
            hd[n].name = "x-remote-user";
            hd[n++].value = "alice";
            h += 13 + (h[13] == ',');
        }
        if (!strncmp(h, "x-remote-role", 13)) {
            hd[n].name = "x-remote-role";
            hd[n++].value = "admin";
        }
        again = wsa_fsig_make(p, fuzz_keys, t, "GET", "/socket.io/", hd, n);
        FUZZ_CHECK(again && !strcmp(again, value), "accepted a second spelling");
    }
    free(value);
    return 0;
}
