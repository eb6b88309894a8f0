/*
 * test_wsa_fsig.c - Check unit tests for core/wsa_fsig.c: the forward
 * signature header against vectors computed by Python's hmac/base64 (the
 * same as in docs/forward-signature.md), and the verifier's refusals.
 *
 *   make build/test_wsa_fsig && ./build/test_wsa_fsig
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "wsa_fsig.h"

#define NELTS(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define KEY "fsig-test-key-0123456789abcdef-0123456789"
#define T   1700000000

static apr_pool_t *pool;
static wsa_keys_t *keys;

static void setup(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    ck_assert_ptr_null(wsa_keys_parse(pool, KEY "\n", strlen(KEY) + 1, &keys));
}

static void teardown(void)
{
    apr_pool_destroy(pool);
    apr_terminate();
}

typedef struct {
    const char *name;
    const char *method, *path;
    wsa_fsig_hdr_t h[2];
    int n;
    const char *want;
} vec_t;

/* computed with Python: hmac.new(KEY, msg, sha256), urlsafe_b64encode */
static const vec_t vecs[] = {
    {"one header", "GET", "/socket.io/", {{"X-Remote-User", "alice"}}, 1,
     "v1;t=1700000000;h=x-remote-user;s=HkV05JN9UsZom4L7YtPTKZKxDdxtGgWfBqzNTSNsZRA"},
    {"two headers, in order", "GET", "/socket.io/",
     {{"X-Remote-User", "alice"}, {"X-Remote-Role", "admin"}}, 2,
     "v1;t=1700000000;h=x-remote-user,x-remote-role;s=9SU-Y8av6WkimNpPi-5lLvbMDtQBwKZRZH9EXwdHV1k"},
    {"another method", "POST", "/socket.io/", {{"X-Remote-User", "42"}}, 1,
     "v1;t=1700000000;h=x-remote-user;s=fCVam1wQFE1weI36MikXmS43Eo8z34SM8ugnoKlFfIw"},
    {"no header", "GET", "/ws/chat", {{NULL, NULL}}, 0,
     "v1;t=1700000000;h=;s=yEhsalDjPVmvmJg9vmgFkDda5i8x_k3MlCx_z6GpPe8"},
    {"UTF-8 value", "GET", "/socket.io/", {{"X-Remote-User", "j\xc3\xb6rg"}}, 1,
     "v1;t=1700000000;h=x-remote-user;s=MnrAHylSGwyO3x6uWGk9mzDlR7iJBBnwofN5zcubvDE"},
};

typedef struct {
    const wsa_fsig_hdr_t *h;
    int n;
} req_t;

static const char *get(void *ctx, const char *name)
{
    const req_t *r = ctx;
    int i;
    for (i = 0; i < r->n; i++) {
        if (!strcasecmp(r->h[i].name, name)) {
            return r->h[i].value;
        }
    }
    return NULL;
}

START_TEST(test_wsa_fsig_10_01_vectors)
{
    const vec_t *v = &vecs[_i];
    char *got = wsa_fsig_make(pool, keys, T, v->method, v->path, v->h, v->n);
    req_t r = {v->h, v->n};

    ck_assert_ptr_nonnull(got);
    ck_assert_str_eq(got, v->want);
    ck_assert_int_eq(wsa_fsig_verify(pool, keys, T + 59, 60, got, v->method, v->path, get, &r),
                     WSA_FSIG_OK);
}
END_TEST

START_TEST(test_wsa_fsig_20_01_refusals)
{
    const vec_t *v = &vecs[1];
    wsa_fsig_hdr_t forged[2] = {{"X-Remote-User", "mallory"}, {"X-Remote-Role", "admin"}};
    wsa_fsig_hdr_t one[1] = {{"X-Remote-User", "alice"}};
    req_t r = {v->h, 2}, rf = {forged, 2}, r1 = {one, 1};
    const char *s = v->want;

#define V(now, val, m, p, rq) wsa_fsig_verify(pool, keys, now, 60, val, m, p, get, rq)
    ck_assert_int_eq(V(T, s, "GET", "/socket.io/", &r), WSA_FSIG_OK);
    ck_assert_int_eq(V(T - 60, s, "GET", "/socket.io/", &r), WSA_FSIG_OK);
    ck_assert_int_eq(V(T + 61, s, "GET", "/socket.io/", &r), WSA_FSIG_STALE);
    ck_assert_int_eq(V(T - 61, s, "GET", "/socket.io/", &r), WSA_FSIG_STALE);
    ck_assert_int_eq(V(T, s, "GET", "/socket.io/", &rf), WSA_FSIG_BAD_SIG);
    ck_assert_int_eq(V(T, s, "POST", "/socket.io/", &r), WSA_FSIG_BAD_SIG);
    ck_assert_int_eq(V(T, s, "GET", "/admin/socket.io/", &r), WSA_FSIG_BAD_SIG);
    ck_assert_int_eq(V(T, s, "GET", "/socket.io/", &r1), WSA_FSIG_MISSING);
    /* the list in the header is signed: dropping a name breaks it */
    ck_assert_int_eq(V(T, "v1;t=1700000000;h=x-remote-user;s=9SU-Y8av6WkimNpPi-5lLvbMDtQBwKZRZH9EXwdHV1k",
                       "GET", "/socket.io/", &r), WSA_FSIG_BAD_SIG);
    ck_assert_int_eq(V(T, "v1;t=1700000001;h=x-remote-user,x-remote-role;s=9SU-Y8av6WkimNpPi-5lLvbMDtQBwKZRZH9EXwdHV1k",
                       "GET", "/socket.io/", &r), WSA_FSIG_BAD_SIG);
    ck_assert_int_eq(V(T, NULL, "GET", "/", &r), WSA_FSIG_MALFORMED);
    ck_assert_int_eq(V(T, "", "GET", "/", &r), WSA_FSIG_MALFORMED);
    ck_assert_int_eq(V(T, "v2;t=1700000000;h=;s=yEhsalDjPVmvmJg9vmgFkDda5i8x_k3MlCx_z6GpPe8", "GET", "/ws/chat", &r),
                     WSA_FSIG_MALFORMED);
    ck_assert_int_eq(V(T, "v1;t=01700000000;h=;s=yEhsalDjPVmvmJg9vmgFkDda5i8x_k3MlCx_z6GpPe8", "GET", "/ws/chat", &r),
                     WSA_FSIG_MALFORMED);
    ck_assert_int_eq(V(T, "v1;t=1700000000;h=;s=yEhsalDjPVmvmJg9vmgFkDda5i8x_k3MlCx_z6GpPe8x", "GET", "/ws/chat", &r),
                     WSA_FSIG_MALFORMED);
    ck_assert_int_eq(V(T, "v1;t=1700000000;h=X-Remote-User;s=HkV05JN9UsZom4L7YtPTKZKxDdxtGgWfBqzNTSNsZRA", "GET", "/socket.io/", &r),
                     WSA_FSIG_MALFORMED);
    ck_assert_int_eq(V(T, "v1;t=1700000000;h=x-remote-user,;s=HkV05JN9UsZom4L7YtPTKZKxDdxtGgWfBqzNTSNsZRA", "GET", "/socket.io/", &r),
                     WSA_FSIG_MALFORMED);
    ck_assert_int_eq(V(T, "v1;t=1700000000;h=;s=yEhsalDjPVmvmJg9vmgFkDda5i8x_k3MlCx_z6GpPe8", "GET", "/ws/chat", &r),
                     WSA_FSIG_OK);
#undef V
}
END_TEST

START_TEST(test_wsa_fsig_20_02_make_refuses_bad_input)
{
    wsa_fsig_hdr_t bad[1] = {{"X-Remote-User", "a\nX-Evil: 1"}};
    wsa_fsig_hdr_t badname[1] = {{"X Remote", "a"}};

    ck_assert_ptr_null(wsa_fsig_make(pool, keys, T, "GET", "/", bad, 1));
    ck_assert_ptr_null(wsa_fsig_make(pool, keys, T, "GET", "/", badname, 1));
    ck_assert_ptr_null(wsa_fsig_make(pool, keys, T, "", "/", NULL, 0));
    ck_assert_ptr_null(wsa_fsig_make(pool, keys, T, "GET", "/a\nb", NULL, 0));
    ck_assert_ptr_null(wsa_fsig_make(pool, keys, 0, "GET", "/", NULL, 0));
    ck_assert_str_ne(wsa_fsig_str(WSA_FSIG_BAD_SIG), "unknown");
}
END_TEST

static Suite *fsig_suite(void)
{
    Suite *s = suite_create("wsa_fsig");
    TCase *tc = tcase_create("vectors");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_wsa_fsig_10_01_vectors, 0, NELTS(vecs));
    suite_add_tcase(s, tc);
    tc = tcase_create("refusals");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_wsa_fsig_20_01_refusals);
    tcase_add_test(tc, test_wsa_fsig_20_02_make_refuses_bad_input);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(fsig_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
