/*
 * session_sign_cli.c - the session-sign tool: the command-line face of the core.
 *
 *   session-sign genkey
 *   session-sign sign   (--key SECRET ... | --key-file PATH) [--context C]
 *                       [--iat SECONDS] PAYLOAD|-
 *   session-sign verify (--key SECRET ... | --key-file PATH) [--context C]
 *                       [--max-lifetime S] [--now SECONDS] TOKEN|-
 *
 * verify exits 0 for a valid token (printing "valid", the key index, the
 * issued-at and the payload), 1 for an invalid one (printing the reason),
 * 2 for a usage error. Secrets given with --key are visible to other users
 * in the process list: prefer --key-file or the SESSION_SIGN_KEY variable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_file_io.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "ssg_token.h"

static void usage(void)
{
    fprintf(stderr, "usage: session-sign genkey\n"
                    "       session-sign sign   (--key SECRET ... | --key-file PATH) [--context C] "
                    "[--iat SECONDS] PAYLOAD|-\n"
                    "       session-sign verify (--key SECRET ... | --key-file PATH) [--context C] "
                    "[--max-lifetime S] [--now SECONDS] TOKEN|-\n"
                    "The secret may also come from the SESSION_SIGN_KEY environment variable.\n"
                    "The default context is \"default\", as in mod_session_sign.\n");
}

static char *read_stdin(apr_pool_t *p)
{
    apr_size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t n;
    char *out;

    if (!buf) {
        return NULL;
    }
    while ((n = fread(buf + len, 1, cap - len, stdin)) > 0) {
        len += n;
        if (len == cap) {
            char *nb;
            if (cap > SSG_MAX_TOKEN_LEN * 4) {
                break;
            }
            cap *= 2;
            nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                return NULL;
            }
            buf = nb;
        }
    }
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r')) {
        len--; /* one trailing line end from echo */
    }
    out = apr_pstrmemdup(p, buf, len);
    free(buf);
    return out;
}

static int load_keyfile(apr_pool_t *p, ssg_ring_t *ring, const char *path)
{
    apr_file_t *f;
    char buf[65537];
    apr_size_t got = 0;
    apr_status_t rv;
    const char *err;

    rv = apr_file_open(&f, path, APR_FOPEN_READ, APR_OS_DEFAULT, p);
    if (rv != APR_SUCCESS) {
        fprintf(stderr, "session-sign: cannot open key file %s\n", path);
        return -1;
    }
    rv = apr_file_read_full(f, buf, sizeof(buf), &got);
    apr_file_close(f);
    if (rv != APR_SUCCESS && rv != APR_EOF) {
        fprintf(stderr, "session-sign: cannot read key file %s\n", path);
        return -1;
    }
    if (got > 65536) {
        fprintf(stderr,
                "session-sign: key file %s: larger than 65536 bytes, "
                "as mod_session_sign refuses it\n",
                path);
        memset(buf, 0, sizeof(buf));
        return -1;
    }
    err = ssg_ring_parse_keyfile(p, ring, buf, got);
    memset(buf, 0, sizeof(buf));
    if (err) {
        fprintf(stderr, "session-sign: key file %s: %s\n", path, err);
        return -1;
    }
    return 0;
}

static int parse_i64(const char *s, apr_int64_t *out)
{
    char *end = NULL;
    apr_int64_t v = apr_strtoi64(s, &end, 10);

    if (!*s || *end || v < 0) {
        return -1;
    }
    *out = v;
    return 0;
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p;
    ssg_ring_t *ring;
    const char *cmd, *context = "default", *arg = NULL, *env;
    apr_int64_t iat = 0, now = 0, max_lifetime = 0;
    int i, nkeys = 0, rc = 2;

    apr_app_initialize(&argc, &argv, NULL);
    atexit(apr_terminate);
    apr_pool_create(&p, NULL);
    if (argc < 2) {
        usage();
        return 2;
    }
    cmd = argv[1];
    if (!strcmp(cmd, "genkey")) {
        unsigned char raw[32];
        char out[64];
        if (argc != 2 || ssg_random(raw, sizeof(raw)) != 0) {
            usage();
            return 2;
        }
        ssg_b64url_encode(out, raw, sizeof(raw));
        printf("%s\n", out);
        memset(raw, 0, sizeof(raw));
        return 0;
    }
    if (strcmp(cmd, "sign") && strcmp(cmd, "verify")) {
        usage();
        return 2;
    }
    ssg_ring_create(p, &ring);
    for (i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *v = (i + 1 < argc) ? argv[i + 1] : NULL;
        if (!strcmp(a, "--key") && v) {
            const char *err = ssg_ring_add(ring, v, strlen(v));
            if (err) {
                fprintf(stderr, "session-sign: --key #%d: %s\n", nkeys + 1, err);
                return 2;
            }
            nkeys++;
            i++;
        }
        else if (!strcmp(a, "--key-file") && v) {
            if (load_keyfile(p, ring, v) != 0) {
                return 2;
            }
            nkeys = ssg_ring_count(ring);
            i++;
        }
        else if (!strcmp(a, "--context") && v) {
            context = v;
            i++;
        }
        else if (!strcmp(a, "--iat") && v && !strcmp(cmd, "sign")) {
            if (parse_i64(v, &iat) != 0) {
                usage();
                return 2;
            }
            i++;
        }
        else if (!strcmp(a, "--now") && v && !strcmp(cmd, "verify")) {
            if (parse_i64(v, &now) != 0) {
                usage();
                return 2;
            }
            i++;
        }
        else if (!strcmp(a, "--max-lifetime") && v && !strcmp(cmd, "verify")) {
            if (parse_i64(v, &max_lifetime) != 0) {
                usage();
                return 2;
            }
            i++;
        }
        else if (!arg && (a[0] != '-' || !strcmp(a, "-"))) {
            arg = a;
        }
        else {
            usage();
            return 2;
        }
    }
    if (!nkeys && (env = getenv("SESSION_SIGN_KEY")) != NULL) {
        const char *err = ssg_ring_add(ring, env, strlen(env));
        if (err) {
            fprintf(stderr, "session-sign: SESSION_SIGN_KEY: %s\n", err);
            return 2;
        }
        nkeys = 1;
    }
    if (!nkeys || !arg) {
        usage();
        return 2;
    }
    if (!strcmp(arg, "-")) {
        arg = read_stdin(p);
        if (!arg) {
            return 2;
        }
    }
    if (!strcmp(cmd, "sign")) {
        char *tok;
        if (!iat) {
            iat = apr_time_sec(apr_time_now());
        }
        tok = ssg_sign(p, ring, context, iat, arg, strlen(arg));
        if (!tok) {
            fprintf(stderr,
                    "session-sign: cannot sign (empty or oversized payload, or context over %d "
                    "bytes)\n",
                    SSG_MAX_CONTEXT_LEN);
            return 2;
        }
        printf("%s\n", tok);
        rc = 0;
    }
    else {
        ssg_result_t res;
        ssg_status_e st;
        if (!now) {
            now = apr_time_sec(apr_time_now());
        }
        st =
            ssg_verify(p, ring, context, now, max_lifetime, SSG_CLOCK_SKEW, arg, strlen(arg), &res);
        if (ssg_status_ok(st)) {
            /* a v2 token also names its session id (what logout revokes) */
            printf("valid key=%d kid=%s iat=%" APR_INT64_T_FMT "%s%s\n%s\n", res.key_index, res.kid,
                   res.iat, res.version == 2 ? " sid=" : "", res.version == 2 ? res.sid : "",
                   res.payload);
            rc = 0;
        }
        else {
            printf("invalid: %s\n", ssg_status_str(st));
            rc = 1;
        }
    }
    apr_pool_destroy(p);
    return rc;
}
