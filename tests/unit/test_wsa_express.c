/*
 * test_wsa_express.c - Check unit tests for core/wsa_express.c: the
 * express-session cookie parser against the cookie-signature package's own
 * output (express_vectors.h, by tests/tools/make_express_vectors.js), and a
 * table of refusals (tampered, truncated, trailing bytes, bad escapes,
 * duplicates, quotes...).
 *
 *   make build/test_wsa_express && ./build/test_wsa_express
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "wsa_express.h"
#include "express_vectors.h"

#define NELTS(a) ((int)(sizeof(a) / sizeof((a)[0])))

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

static wsa_keys_t *ring_of(const char *const *secrets, int n)
{
    char *text = "";
    wsa_keys_t *k = NULL;
    const char *err;
    int i;

    for (i = 0; i < n; i++) {
        text = apr_pstrcat(pool, text, secrets[i], "\n", NULL);
    }
    err = wsa_keys_parse(pool, text, strlen(text), &k);
    ck_assert_msg(err == NULL, "ring: %s", err ? err : "");
    return k;
}

/* ---- wsa_exp_10: the package's cookies verify, with the id it signed -- */

START_TEST(test_wsa_exp_10_01_package_vectors_verify_alone)
{
    const struct express_vector *v = &express_vectors[_i];
    wsa_keys_t *k = ring_of(&express_secrets[v->secret], 1);
    wsa_express_t c;
    wsa_express_e st = wsa_express_verify(pool, k, v->header, "connect.sid", &c);

    ck_assert_msg(st == WSA_EXPRESS_OK, "vector %d: %s", _i, wsa_express_str(st));
    ck_assert_str_eq(c.id, v->id);
    ck_assert_uint_eq(c.id_len, strlen(v->id));
    ck_assert_int_eq(c.key_index, 0);
}
END_TEST

START_TEST(test_wsa_exp_10_02_package_vectors_verify_with_every_secret_listed)
{
    const struct express_vector *v = &express_vectors[_i];
    wsa_keys_t *k = ring_of(express_secrets, NELTS(express_secrets));
    wsa_express_t c;

    ck_assert_int_eq(wsa_express_verify(pool, k, v->header, "connect.sid", &c), WSA_EXPRESS_OK);
    ck_assert_str_eq(c.id, v->id);
    ck_assert_int_eq(c.key_index, v->secret);
}
END_TEST

START_TEST(test_wsa_exp_10_03_our_signer_writes_what_the_package_writes)
{
    const struct express_vector *v = &express_vectors[_i];
    wsa_keys_t *k = ring_of(&express_secrets[v->secret], 1);
    char *mine = wsa_express_sign(pool, k, 0, v->id, strlen(v->id));

    ck_assert_ptr_nonnull(mine);
    ck_assert_str_eq(apr_pstrcat(pool, "connect.sid=", mine, NULL), v->header);
}
END_TEST

START_TEST(test_wsa_exp_10_04_another_secret_is_a_bad_signature)
{
    const struct express_vector *v = &express_vectors[_i];
    int other = (v->secret + 1) % NELTS(express_secrets);
    wsa_keys_t *k = ring_of(&express_secrets[other], 1);
    wsa_express_t c;

    ck_assert_int_eq(wsa_express_verify(pool, k, v->header, "connect.sid", &c),
                     WSA_EXPRESS_BAD_SIG);
}
END_TEST

/* every single-character change of the value after "connect.sid=" fails */
START_TEST(test_wsa_exp_10_05_every_one_byte_tamper_is_refused)
{
    const struct express_vector *v = &express_vectors[_i];
    wsa_keys_t *k = ring_of(&express_secrets[v->secret], 1);
    apr_size_t off = strlen("connect.sid="), len = strlen(v->header), j;

    for (j = off; j < len; j++) {
        char *h = apr_pstrdup(pool, v->header);
        wsa_express_t c;
        wsa_express_e st;
        h[j] = (h[j] == 'A') ? 'B' : 'A';
        st = wsa_express_verify(pool, k, h, "connect.sid", &c);
        ck_assert_msg(st != WSA_EXPRESS_OK, "vector %d, byte %d changed: accepted", _i, (int)j);
    }
}
END_TEST

/* ---- wsa_exp_20: refusals, table-driven -------------------------------- */

#define ID  "Y29xKtTb3OZHcl58Q1b-KjwpB426aTqy"
#define MAC "I3O74vw0%2BucWx2GCNyP%2BoZ0VMDjjpzoQls3EWgZjj8Y"
#define GOOD "s%3A" ID "." MAC

typedef struct {
    const char *name;
    const char *header;
    wsa_express_e want;
} refuse_t;

static const refuse_t cases[] = {
    {"the good one, as a baseline", "connect.sid=" GOOD, WSA_EXPRESS_OK},
    {"among other cookies", "a=1; connect.sid=" GOOD "; b=2", WSA_EXPRESS_OK},
    {"blanks around the pair", "a=1;  connect.sid = " GOOD " \t", WSA_EXPRESS_OK},
    {"the same value twice counts once", "connect.sid=" GOOD "; connect.sid=" GOOD,
     WSA_EXPRESS_OK},
    {"lowercase escapes", "connect.sid=s%3a" ID ".I3O74vw0%2bucWx2GCNyP%2boZ0VMDjjpzoQls3EWgZjj8Y",
     WSA_EXPRESS_OK},
    {"an unencoded colon (the cookie package decodes either)", "connect.sid=s:" ID "." MAC,
     WSA_EXPRESS_OK},
    {"no cookie header", NULL, WSA_EXPRESS_ABSENT},
    {"empty header", "", WSA_EXPRESS_ABSENT},
    {"other cookies only", "a=1; b=2", WSA_EXPRESS_ABSENT},
    {"name in another case", "Connect.sid=" GOOD, WSA_EXPRESS_ABSENT},
    {"name as a prefix", "connect.sid2=" GOOD, WSA_EXPRESS_ABSENT},
    {"duplicate with another value", "connect.sid=" GOOD "; connect.sid=s%3Aother." MAC,
     WSA_EXPRESS_DUPLICATE},
    {"duplicate, the forged one first", "connect.sid=s%3Aother." MAC "; connect.sid=" GOOD,
     WSA_EXPRESS_DUPLICATE},
    {"trailing byte", "connect.sid=" GOOD "A", WSA_EXPRESS_MALFORMED},
    {"trailing escaped byte", "connect.sid=" GOOD "%41", WSA_EXPRESS_MALFORMED},
    {"trailing dot", "connect.sid=" GOOD ".", WSA_EXPRESS_MALFORMED},
    {"truncated mac", "connect.sid=s%3A" ID ".I3O74vw0%2BucWx2GCNyP%2BoZ0VMDjjpzoQls3EWgZjj8",
     WSA_EXPRESS_MALFORMED},
    {"padded mac", "connect.sid=" GOOD "%3D", WSA_EXPRESS_MALFORMED},
    {"non-canonical last character", "connect.sid=s%3A" ID ".I3O74vw0%2BucWx2GCNyP%2BoZ0VMDjjpzoQls3EWgZjj8Z",
     WSA_EXPRESS_MALFORMED},
    {"base64url alphabet in the mac", "connect.sid=s%3A" ID ".I3O74vw0-ucWx2GCNyP-oZ0VMDjjpzoQls3EWgZjj8Y",
     WSA_EXPRESS_MALFORMED},
    {"tampered mac", "connect.sid=s%3A" ID ".J3O74vw0%2BucWx2GCNyP%2BoZ0VMDjjpzoQls3EWgZjj8Y",
     WSA_EXPRESS_BAD_SIG},
    {"tampered id", "connect.sid=s%3AZ29xKtTb3OZHcl58Q1b-KjwpB426aTqy." MAC, WSA_EXPRESS_BAD_SIG},
    {"unsigned (no s: prefix)", "connect.sid=" ID, WSA_EXPRESS_MALFORMED},
    {"s: prefix only", "connect.sid=s%3A", WSA_EXPRESS_MALFORMED},
    {"empty id", "connect.sid=s%3A." MAC, WSA_EXPRESS_MALFORMED},
    {"no dot", "connect.sid=s%3A" ID, WSA_EXPRESS_MALFORMED},
    {"empty value", "connect.sid=", WSA_EXPRESS_MALFORMED},
    {"quoted value", "connect.sid=\"" GOOD "\"", WSA_EXPRESS_MALFORMED},
    {"a comma inside", "connect.sid=" GOOD ",x", WSA_EXPRESS_MALFORMED},
    {"a backslash inside", "connect.sid=s%3A" ID "\\." MAC, WSA_EXPRESS_MALFORMED},
    {"a blank inside", "connect.sid=s%3A" ID " ." MAC, WSA_EXPRESS_MALFORMED},
    {"a bad escape: one digit", "connect.sid=s%3" ID "." MAC, WSA_EXPRESS_BAD_ESCAPE},
    {"a bad escape: not hex", "connect.sid=s%3A" ID "%zz." MAC, WSA_EXPRESS_BAD_ESCAPE},
    {"a bad escape at the end", "connect.sid=" GOOD "%", WSA_EXPRESS_BAD_ESCAPE},
    {"a bad escape, two from the end", "connect.sid=" GOOD "%4", WSA_EXPRESS_BAD_ESCAPE},
    {"an escaped NUL", "connect.sid=s%3A" ID "%00." MAC, WSA_EXPRESS_BAD_ESCAPE},
    {"an escaped LF", "connect.sid=s%3A" ID "%0A." MAC, WSA_EXPRESS_BAD_ESCAPE},
    {"an escaped blank", "connect.sid=s%3A" ID "%20." MAC, WSA_EXPRESS_BAD_ESCAPE},
    {"an escaped UTF-8 byte", "connect.sid=s%3A" ID "%C3%A9." MAC, WSA_EXPRESS_BAD_ESCAPE},
    {"a raw byte above 0x7e", "connect.sid=s%3A" ID "\xc3\xa9." MAC, WSA_EXPRESS_MALFORMED},
    {"a raw control byte", "connect.sid=s%3A" ID "\x01." MAC, WSA_EXPRESS_MALFORMED},
};

START_TEST(test_wsa_exp_20_01_table)
{
    const refuse_t *t = &cases[_i];
    wsa_keys_t *k = ring_of(&express_secrets[0], 1);
    wsa_express_t c;
    wsa_express_e st = wsa_express_verify(pool, k, t->header, "connect.sid", &c);

    ck_assert_msg(st == t->want, "%s: got '%s', want '%s'", t->name, wsa_express_str(st),
                  wsa_express_str(t->want));
    if (st == WSA_EXPRESS_OK) {
        ck_assert_str_eq(c.id, ID);
    }
}
END_TEST

START_TEST(test_wsa_exp_20_02_limits)
{
    wsa_keys_t *k = ring_of(&express_secrets[0], 1);
    wsa_express_t c;
    char *id = apr_palloc(pool, WSA_EXPRESS_MAX_ID + 2);
    char *big = apr_palloc(pool, WSA_EXPRESS_MAX_HEADER + 2);
    char *v;

    memset(id, 'i', WSA_EXPRESS_MAX_ID + 1);
    id[WSA_EXPRESS_MAX_ID + 1] = '\0';
    /* the longest id verifies, one more byte is too long */
    v = wsa_express_sign(pool, k, 0, id, WSA_EXPRESS_MAX_ID);
    ck_assert_int_eq(wsa_express_verify(pool, k, apr_pstrcat(pool, "connect.sid=", v, NULL),
                                        "connect.sid", &c),
                     WSA_EXPRESS_OK);
    ck_assert_ptr_null(wsa_express_sign(pool, k, 0, id, WSA_EXPRESS_MAX_ID + 1));
    v = apr_pstrcat(pool, "connect.sid=s%3A", id, ".", "I3O74vw0%2BucWx2GCNyP%2BoZ0VMDjjpzoQls3EWgZjj8Y", NULL);
    ck_assert_int_eq(wsa_express_verify(pool, k, v, "connect.sid", &c), WSA_EXPRESS_TOO_LONG);
    /* a header over the limit is refused unread */
    memset(big, 'a', WSA_EXPRESS_MAX_HEADER + 1);
    big[WSA_EXPRESS_MAX_HEADER + 1] = '\0';
    memcpy(big, "connect.sid=" GOOD ";", strlen("connect.sid=" GOOD ";"));
    ck_assert_int_eq(wsa_express_verify(pool, k, big, "connect.sid", &c), WSA_EXPRESS_TOO_LONG);
    /* a value over the limit */
    memset(big, 'a', WSA_EXPRESS_MAX_VALUE + 40);
    big[WSA_EXPRESS_MAX_VALUE + 40] = '\0';
    memcpy(big, "connect.sid=", 12);
    ck_assert_int_eq(wsa_express_verify(pool, k, big, "connect.sid", &c), WSA_EXPRESS_TOO_LONG);
}
END_TEST

START_TEST(test_wsa_exp_20_03_other_cookie_name)
{
    wsa_keys_t *k = ring_of(&express_secrets[0], 1);
    wsa_express_t c;

    ck_assert_int_eq(wsa_express_verify(pool, k, "app.sid=" GOOD, "app.sid", &c), WSA_EXPRESS_OK);
    ck_assert_int_eq(wsa_express_verify(pool, k, "connect.sid=" GOOD, "app.sid", &c),
                     WSA_EXPRESS_ABSENT);
    ck_assert_int_eq(wsa_express_verify(pool, k, "connect.sid=" GOOD, "", &c), WSA_EXPRESS_ABSENT);
}
END_TEST

START_TEST(test_wsa_exp_20_04_reasons_are_fixed_strings)
{
    int s;
    for (s = WSA_EXPRESS_OK; s <= WSA_EXPRESS_NO_KEY; s++) {
        ck_assert_str_ne(wsa_express_str((wsa_express_e)s), "unknown");
    }
    ck_assert_str_eq(wsa_express_str((wsa_express_e)99), "unknown");
}
END_TEST

static Suite *exp_suite(void)
{
    Suite *s = suite_create("wsa_express");
    TCase *tc = tcase_create("package_vectors");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_wsa_exp_10_01_package_vectors_verify_alone, 0, NELTS(express_vectors));
    tcase_add_loop_test(tc, test_wsa_exp_10_02_package_vectors_verify_with_every_secret_listed, 0,
                        NELTS(express_vectors));
    tcase_add_loop_test(tc, test_wsa_exp_10_03_our_signer_writes_what_the_package_writes, 0,
                        NELTS(express_vectors));
    tcase_add_loop_test(tc, test_wsa_exp_10_04_another_secret_is_a_bad_signature, 0,
                        NELTS(express_vectors));
    tcase_add_loop_test(tc, test_wsa_exp_10_05_every_one_byte_tamper_is_refused, 0,
                        NELTS(express_vectors));
    suite_add_tcase(s, tc);

    tc = tcase_create("refusals");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_wsa_exp_20_01_table, 0, NELTS(cases));
    tcase_add_test(tc, test_wsa_exp_20_02_limits);
    tcase_add_test(tc, test_wsa_exp_20_03_other_cookie_name);
    tcase_add_test(tc, test_wsa_exp_20_04_reasons_are_fixed_strings);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(exp_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
