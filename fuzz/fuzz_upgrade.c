/*
 * fuzz_upgrade.c - libFuzzer target: Connection/Upgrade token parsing and
 * the forwarded-header checks of mod_ws_auth (wsa_core.c):
 * wsa_header_has_token, wsa_is_upgrade, wsa_upgrade_is_websocket,
 * wsa_header_name_valid, wsa_header_value_safe; and wsa_connection_filter
 * (Connection read as mod_proxy reads it, issue 13.2), against a model
 * tokenizer written here from httpd's find_conn_headers + ap_get_token.
 *
 * The input is split at the first '\n' into CONNECTION and UPGRADE, each
 * cut at its first NUL as httpd's header table would hold it. Each result
 * is compared with a model written here from the header comments of
 * wsa_core.h (comma-separated list, elements trimmed of SP/HTAB, ASCII
 * case-insensitive; RFC 9110 tchar; the value byte rules), and:
 *  - wsa_is_upgrade is exactly "non-empty Upgrade or 'upgrade' among the
 *    Connection tokens", with either header absent (NULL);
 *  - an Upgrade that asks for websocket is always an upgrade attempt.
 *
 * Seeds: fuzz/corpus/upgrade, made by fuzz/make_seeds.py.
 */
#include "fuzz_common.h"

#include <stdlib.h>

#include "wsa_core.h"

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/*
 * Model: is one comma-separated element of list, trimmed of SP/HTAB, equal
 * to tok (any case), or with allow_version, tok "/" anything?
 */
static int model_has(const char *list, const char *tok, int allow_version)
{
    size_t tlen = strlen(tok);
    const char *elem = list;

    if (!list || tlen == 0) {
        return 0;
    }
    for (;;) {
        const char *comma = strchr(elem, ',');
        size_t len = comma ? (size_t)(comma - elem) : strlen(elem);
        size_t b = 0, e = len, i;

        while (b < e && (elem[b] == ' ' || elem[b] == '\t')) {
            b++;
        }
        while (e > b && (elem[e - 1] == ' ' || elem[e - 1] == '\t')) {
            e--;
        }
        if (e - b == tlen || (allow_version && e - b > tlen && elem[b + tlen] == '/')) {
            for (i = 0; i < tlen && lower(elem[b + i]) == lower(tok[i]); i++) {
            }
            if (i == tlen) {
                return 1;
            }
        }
        if (!comma) {
            return 0;
        }
        elem = comma + 1;
    }
}

/* Model: RFC 9110 field-name token of 1..WSA_HEADER_NAME_MAX bytes. */
static int model_name(const char *s)
{
    static const char tchar[] =
        "!#$%&'*+-.^_`|~0123456789"
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    size_t n = strlen(s);

    return n >= 1 && n <= WSA_HEADER_NAME_MAX && strspn(s, tchar) == n;
}

/* Model: no byte below 0x20, no DEL, at most WSA_HEADER_VALUE_MAX bytes. */
static int model_value(const char *s)
{
    size_t i, n = strlen(s);

    if (n > WSA_HEADER_VALUE_MAX) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f) {
            return 0;
        }
    }
    return 1;
}

static void check_lists(const char *conn, const char *upg)
{
    static const char *const toks[] = { "upgrade", "Upgrade", "keep-alive", "close" };
    size_t i;
    int up;

    for (i = 0; i < sizeof(toks) / sizeof(toks[0]); i++) {
        FUZZ_CHECK(wsa_header_has_token(conn, toks[i]) == model_has(conn, toks[i], 0),
                   "has_token(\"%s\")", toks[i]);
    }
    /* the other part as the token looked for, as odd as it may be */
    if (upg) {
        FUZZ_CHECK(wsa_header_has_token(conn, upg) == model_has(conn, upg, 0),
                   "has_token with a fuzzed token");
    }
    FUZZ_CHECK(wsa_header_has_token(conn, "") == 0, "empty token found");
    FUZZ_CHECK(wsa_header_has_token(NULL, "upgrade") == 0, "NULL list");
    FUZZ_CHECK(wsa_header_has_token(conn, NULL) == 0, "NULL token");

    FUZZ_CHECK(wsa_upgrade_is_websocket(upg) == model_has(upg, "websocket", 1),
               "upgrade_is_websocket");
    up = wsa_is_upgrade(conn, upg);
    FUZZ_CHECK(up == ((upg && *upg) || model_has(conn, "upgrade", 0)), "is_upgrade");
    if (wsa_upgrade_is_websocket(upg)) {
        FUZZ_CHECK(up == 1 && wsa_is_upgrade(NULL, upg) == 1,
                   "websocket request not an upgrade");
    }
}

static void check_header(const char *s)
{
    FUZZ_CHECK(wsa_header_name_valid(s) == model_name(s), "header_name_valid");
    FUZZ_CHECK(wsa_header_value_safe(s) == model_value(s), "header_value_safe");
}

/* Model of mod_proxy's reading: the tokens of v, each NUL-terminated into
 * buf, their count returned. */
static int model_conn_tokens(const char *v, char *buf, const char **toks, int max)
{
    int n = 0;
    size_t b = 0;
    int sp;

    if (!v) {
        return 0;
    }
    while (*v) {
        const char *start;
        int quoted = 0;

        while (*v == ',' || *v == ';') {
            v++;
        }
        while (*v == ' ' || (*v >= '\t' && *v <= '\r')) {
            v++;
        }
        start = v;
        for (;;) {
            sp = *v == ' ' || (*v >= '\t' && *v <= '\r');
            if (!*v || (!quoted && (sp || *v == ';' || *v == ','))) {
                break;
            }
            if (*v == '"') {
                quoted = !quoted;
            }
            v++;
        }
        if (v > start && n < max) {
            toks[n++] = buf + b;
            memcpy(buf + b, start, (size_t)(v - start));
            b += (size_t)(v - start);
            buf[b++] = '\0';
        }
        while (*v == ' ' || (*v >= '\t' && *v <= '\r')) {
            v++;
        }
    }
    return n;
}

static int model_is_name(const char *t, const char *const *names, int n)
{
    int i;
    for (i = 0; i < n; i++) {
        size_t j;
        for (j = 0; t[j] && names[i][j] && lower(t[j]) == lower(names[i][j]); j++) {
        }
        if (!t[j] && !names[i][j]) {
            return 1;
        }
    }
    return 0;
}

static void check_connection_filter(const char *conn, const char *third)
{
    const char *names[3] = {"X-Remote-User", "X-Remote-Role", third ? third : "X-Role"};
    size_t len = conn ? strlen(conn) : 0;
    char *out = malloc(len + 1), *again = malloc(len + 1);
    char *b1 = malloc(2 * len + 2), *b2 = malloc(2 * len + 2);
    const char **t1 = malloc(sizeof(char *) * (len + 1));
    const char **t2 = malloc(sizeof(char *) * (len + 1));
    int dropped, n1, n2, i, k = 0, want = 0;

    if (!out || !again || !b1 || !b2 || !t1 || !t2) {
        abort();
    }
    dropped = wsa_connection_filter(conn, names, 3, out);
    FUZZ_CHECK(strlen(out) <= len, "output longer than the input");
    FUZZ_CHECK(wsa_connection_filter(conn, names, 3, NULL) == dropped, "count differs");
    FUZZ_CHECK(wsa_connection_filter(out, names, 3, again) == 0 && !strcmp(again, out),
               "filtered value not stable");
    n1 = model_conn_tokens(conn, b1, t1, (int)len + 1);
    n2 = model_conn_tokens(out, b2, t2, (int)len + 1);
    for (i = 0; i < n1; i++) {
        if (model_is_name(t1[i], names, 3)) {
            want++;
            continue;
        }
        FUZZ_CHECK(k < n2 && !strcmp(t1[i], t2[k]), "token %d not kept in order", i);
        k++;
    }
    FUZZ_CHECK(k == n2, "extra tokens in the output");
    FUZZ_CHECK(want == dropped, "dropped %d, the model %d", dropped, want);
    free(t2);
    free(t1);
    free(b2);
    free(b1);
    free(again);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t clen, ulen;
    const uint8_t *rest = fuzz_split(data, size, &clen, &ulen);
    char *conn = fuzz_cstr(data, clen);
    char *upg = rest ? fuzz_cstr(rest, ulen) : NULL;
    char *whole = fuzz_cstr(data, size);      /* '\n' included: must be refused */

    fuzz_pool();                              /* APR once; the checks allocate nothing */

    check_lists(conn, upg);                   /* both headers, or Upgrade absent */
    check_lists(NULL, upg);                   /* Connection absent */
    check_lists(upg, conn);                   /* the roles swapped */
    FUZZ_CHECK(wsa_is_upgrade(NULL, NULL) == 0, "no headers is an upgrade");

    check_connection_filter(conn, upg);
    check_connection_filter(upg, conn);
    check_connection_filter(NULL, conn);

    check_header(conn);
    if (upg) {
        check_header(upg);
    }
    check_header(whole);
    FUZZ_CHECK(wsa_header_name_valid(NULL) == 0 && wsa_header_value_safe(NULL) == 0,
               "NULL header accepted");

    free(whole);
    free(upg);
    free(conn);
    fuzz_input_done();
    return 0;
}
