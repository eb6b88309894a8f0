/*
 * test_wsa_keys.c - Check unit tests for core/wsa_keys.c: the key file of
 * WSAuthExpressSecretFile and WSAuthForwardSignature (weak, malformed and
 * duplicate secrets refused with the line number), and its HMAC against
 * RFC 4231 test case 2's construction checked by OpenSSL's one-shot HMAC.
 *
 *   make build/test_wsa_keys && ./build/test_wsa_keys
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "wsa_keys.h"

#define NELTS(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define S32 "0123456789abcdef0123456789abcdef"

static apr_pool_t *pool;

static void setup(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
    apr_terminate();
}

typedef struct {
    const char *name;
    const char *text;
    int nkeys;          /* 0: refused */
    const char *reason; /* a substring of the refusal */
} file_t;

static const file_t files[] = {
    {"one secret", S32 "\n", 1, NULL},
    {"no final newline", S32, 1, NULL},
    {"CRLF, comments and blank lines", "# keys\r\n\r\n" S32 "\r\n  \n#old\n" S32 "x\n", 2, NULL},
    {"blanks around a secret", " \t" S32 " \t\n", 1, NULL},
    {"empty file", "", 0, "no secret"},
    {"comments only", "# a\n\n# b\n", 0, "no secret"},
    {"short secret", "keyboard cat\n", 0, "line 1"},
    {"31 bytes", "0123456789abcdef0123456789abcde\n", 0, "shorter than 32"},
    {"short second line", S32 "\nshort\n", 0, "line 2"},
    {"same secret twice", S32 "\n" S32 "\n", 0, "twice"},
    {"a blank inside", "0123456789abcdef 0123456789abcdef\n", 0, "blank"},
    {"an assignment", "SECRET=" S32 "\n", 0, "NAME=value"},
    {"quoted", "\"" S32 "\"\n", 0, "quoted"},
    {"a NUL", S32 "\0" S32 "\n", 0, "control"},
    {"UTF-8", S32 "\xc3\xa9\n", 0, "printable ASCII"},
    {"a BOM", "\xef\xbb\xbf" S32 "\n", 0, "byte-order mark"},
};

START_TEST(test_wsa_keys_10_01_files)
{
    const file_t *f = &files[_i];
    apr_size_t len = strlen(f->text);
    wsa_keys_t *k = NULL;
    const char *err;

    if (!strcmp(f->name, "a NUL")) {
        len = 32 + 1 + 32 + 1;
    }
    err = wsa_keys_parse(pool, f->text, len, &k);
    if (f->nkeys) {
        ck_assert_msg(err == NULL, "%s: %s", f->name, err ? err : "");
        ck_assert_int_eq(wsa_keys_count(k), f->nkeys);
    }
    else {
        ck_assert_msg(err != NULL, "%s: accepted", f->name);
        ck_assert_msg(strstr(err, f->reason) != NULL, "%s: '%s' lacks '%s'", f->name, err,
                      f->reason);
        ck_assert_msg(strstr(err, S32) == NULL, "%s: the refusal shows the secret", f->name);
    }
}
END_TEST

START_TEST(test_wsa_keys_10_02_too_many)
{
    char *text = "";
    wsa_keys_t *k = NULL;
    int i;

    for (i = 0; i < WSA_KEYS_MAX + 1; i++) {
        text = apr_psprintf(pool, "%s" S32 "%02d\n", text, i);
    }
    ck_assert_ptr_nonnull(strstr(wsa_keys_parse(pool, text, strlen(text), &k), "more than 16"));
    ck_assert_int_eq(wsa_keys_count(NULL), 0);
}
END_TEST

START_TEST(test_wsa_keys_20_01_hmac_matches_openssl_one_shot)
{
    const char *text = "# c\n" S32 "\nanother-secret-of-thirty-two-bytes-or-more\n";
    const char *secrets[] = {S32, "another-secret-of-thirty-two-bytes-or-more"};
    unsigned char a[WSA_KEYS_MAC_LEN], b[EVP_MAX_MD_SIZE];
    unsigned int blen = 0;
    wsa_keys_t *k = NULL;
    int i;

    ck_assert_ptr_null(wsa_keys_parse(pool, text, strlen(text), &k));
    for (i = 0; i < 2; i++) {
        ck_assert_int_eq(wsa_keys_hmac(k, i, "what do ya want for nothing?", 28, a), 0);
        HMAC(EVP_sha256(), secrets[i], (int)strlen(secrets[i]),
             (const unsigned char *)"what do ya want for nothing?", 28, b, &blen);
        ck_assert_uint_eq(blen, WSA_KEYS_MAC_LEN);
        ck_assert_mem_eq(a, b, WSA_KEYS_MAC_LEN);
    }
    ck_assert_int_eq(wsa_keys_hmac(k, 2, "x", 1, a), -1);
    ck_assert_int_eq(wsa_keys_hmac(k, -1, "x", 1, a), -1);
    ck_assert_int_eq(wsa_keys_hmac(NULL, 0, "x", 1, a), -1);
}
END_TEST

static Suite *keys_suite(void)
{
    Suite *s = suite_create("wsa_keys");
    TCase *tc = tcase_create("parse");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_wsa_keys_10_01_files, 0, NELTS(files));
    tcase_add_test(tc, test_wsa_keys_10_02_too_many);
    suite_add_tcase(s, tc);
    tc = tcase_create("hmac");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_wsa_keys_20_01_hmac_matches_openssl_one_shot);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(keys_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
