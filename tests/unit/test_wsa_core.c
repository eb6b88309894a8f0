/*
 * test_wsa_core.c - Check unit tests for mod_ws_auth/wsa_core.c.
 *
 * Build and run from the top of the tree:
 *
 *   gcc -std=c99 -Wall -Wextra -Werror -I mod_session_sign -I mod_ws_auth \
 *       $(apr-1-config --cflags --cppflags --includes) \
 *       -o tests/unit/test_wsa_core \
 *       tests/unit/test_wsa_core.c mod_ws_auth/wsa_core.c \
 *       mod_session_sign/ssg_origin.c \
 *       $(pkg-config --cflags --libs check) $(apr-1-config --link-ld --libs)
 *   ./tests/unit/test_wsa_core
 *
 * One TCase per function group; every case in a table has a name that says
 * what it proves, and the table index runs as its own loop test.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wsa_core.h"

#define NELTS(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ------------------------------------------------------------ token lists */

typedef struct {
    const char *name;
    const char *value;
    const char *tok;
    int want;
} token_t;

static const token_t token_cases[] = {
    { "keep-alive then Upgrade", "keep-alive, Upgrade", "upgrade", 1 },
    { "Upgrade alone", "Upgrade", "upgrade", 1 },
    { "lowercase", "upgrade", "upgrade", 1 },
    { "uppercase", "UPGRADE", "upgrade", 1 },
    { "token given in caps", "upgrade", "UPGRADE", 1 },
    { "no space after comma", "keep-alive,upgrade", "upgrade", 1 },
    { "first of several", "Upgrade, keep-alive, close", "upgrade", 1 },
    { "middle of several", "keep-alive, Upgrade, close", "upgrade", 1 },
    { "empty elements", ",,upgrade,,", "upgrade", 1 },
    { "tab and trailing space", "\tUpgrade ", "upgrade", 1 },
    { "spaces and trailing comma", " upgrade ,", "upgrade", 1 },
    { "tabs around comma", "keep-alive\t,\tupgrade", "upgrade", 1 },
    { "not present", "keep-alive", "upgrade", 0 },
    { "longer token", "upgraded", "upgrade", 0 },
    { "prefixed token", "x-upgrade", "upgrade", 0 },
    { "shorter token", "upgrad", "upgrade", 0 },
    { "space inside", "up grade", "upgrade", 0 },
    { "with parameter", "upgrade;q=1", "upgrade", 0 },
    { "quoted", "\"upgrade\"", "upgrade", 0 },
    { "quoted list", "\"a, upgrade\"", "upgrade", 0 },
    { "CRLF is not OWS", "keep-alive,\r\n upgrade", "upgrade", 0 },
    { "empty value", "", "upgrade", 0 },
    { "only commas", ",,,", "upgrade", 0 },
    { "only blanks", "  ,\t, ", "upgrade", 0 },
    { "NULL value", NULL, "upgrade", 0 },
    { "NULL token", "upgrade", NULL, 0 },
    { "empty token never matches", "a,,b", "", 0 },
    { "empty token vs empty value", "", "", 0 },
};

START_TEST(test_has_token)
{
    const token_t *c = &token_cases[_i];

    ck_assert_msg(wsa_header_has_token(c->value, c->tok) == c->want, "%s", c->name);
}
END_TEST

typedef struct {
    const char *name;
    const char *connection;
    const char *upgrade;
    int want;
} upgrade_t;

static const upgrade_t upgrade_cases[] = {
    { "plain request", NULL, NULL, 0 },
    { "keep-alive only", "keep-alive", NULL, 0 },
    { "close only", "close", NULL, 0 },
    { "websocket handshake", "Upgrade", "websocket", 1 },
    { "websocket with keep-alive", "keep-alive, Upgrade", "websocket", 1 },
    { "Upgrade header without Connection", NULL, "websocket", 1 },
    { "Upgrade header, Connection without token", "keep-alive", "websocket", 1 },
    { "other protocol h2c", "Upgrade, HTTP2-Settings", "h2c", 1 },
    { "odd protocol spelling", NULL, "WebSocket/13", 1 },
    { "junk protocol", NULL, "x", 1 },
    { "blank Upgrade value still counts", NULL, " ", 1 },
    { "Connection upgrade without Upgrade header", "Upgrade", NULL, 1 },
    { "Connection upgrade, empty Upgrade", "keep-alive, upgrade", "", 1 },
    { "empty Upgrade header", NULL, "", 0 },
    { "empty both", "", "", 0 },
    { "Connection upgraded is not upgrade", "upgraded", NULL, 0 },
};

START_TEST(test_is_upgrade)
{
    const upgrade_t *c = &upgrade_cases[_i];

    ck_assert_msg(wsa_is_upgrade(c->connection, c->upgrade) == c->want, "%s", c->name);
}
END_TEST

typedef struct {
    const char *name;
    const char *upgrade;
    int want;
} websocket_t;

static const websocket_t websocket_cases[] = {
    { "lowercase", "websocket", 1 },
    { "mixed case", "WebSocket", 1 },
    { "uppercase", "WEBSOCKET", 1 },
    { "in a list", "h2c, websocket", 1 },
    { "with version", "websocket/13", 1 },
    { "with blanks", " websocket\t", 1 },
    { "plural", "websockets", 0 },
    { "space inside", "web socket", 0 },
    { "prefixed", "xwebsocket", 0 },
    { "with parameter", "websocket;x", 0 },
    { "other protocol", "h2c", 0 },
    { "empty", "", 0 },
    { "NULL", NULL, 0 },
};

START_TEST(test_is_websocket)
{
    const websocket_t *c = &websocket_cases[_i];

    ck_assert_msg(wsa_upgrade_is_websocket(c->upgrade) == c->want, "%s", c->name);
}
END_TEST

/* ---------------------------------------------------------- origin patterns */

typedef struct {
    const char *name;
    const char *in;
    const char *scheme;
    const char *host;
    unsigned port;
    int wildcard;
} pattern_good_t;

static const pattern_good_t pattern_good[] = {
    { "exact https", "https://app.example.com", "https", "app.example.com", 443, 0 },
    { "exact with port", "https://app.example.com:8443", "https", "app.example.com", 8443, 0 },
    { "exact http localhost", "http://localhost:3000", "http", "localhost", 3000, 0 },
    { "exact ipv4", "http://127.0.0.1:8080", "http", "127.0.0.1", 8080, 0 },
    { "exact ipv6", "https://[::1]:8443", "https", "[::1]", 8443, 0 },
    { "exact uppercase", "HTTPS://APP.EXAMPLE.COM", "https", "app.example.com", 443, 0 },
    { "wildcard", "https://*.example.com", "https", "example.com", 443, 1 },
    { "wildcard with port", "https://*.example.com:8443", "https", "example.com", 8443, 1 },
    { "wildcard explicit default port", "https://*.example.com:443", "https", "example.com", 443, 1 },
    { "wildcard uppercase", "HTTPS://*.EXAMPLE.COM", "https", "example.com", 443, 1 },
    { "wildcard deep suffix", "http://*.a.b.example.com", "http", "a.b.example.com", 80, 1 },
    { "wildcard two-label public suffix (admin's call)", "https://*.co.uk", "https", "co.uk", 443, 1 },
};

START_TEST(test_pattern_good)
{
    const pattern_good_t *c = &pattern_good[_i];
    wsa_origin_pattern_t p;
    const char *err;

    err = wsa_origin_pattern_parse(c->in, &p);
    ck_assert_msg(err == NULL, "%s: %s", c->name, err);
    ck_assert_msg(strcmp(p.o.scheme, c->scheme) == 0, "%s: scheme %s", c->name, p.o.scheme);
    ck_assert_msg(strcmp(p.o.host, c->host) == 0, "%s: host %s", c->name, p.o.host);
    ck_assert_msg(p.o.port == c->port, "%s: port %u", c->name, p.o.port);
    ck_assert_msg(p.wildcard == c->wildcard, "%s: wildcard", c->name);
}
END_TEST

typedef struct {
    const char *name;
    const char *in;
    const char *reason;    /* a word the admin message must contain */
} pattern_bad_t;

static const pattern_bad_t pattern_bad[] = {
    { "NULL", NULL, "empty" },
    { "empty", "", "empty" },
    { "star alone", "*", "every origin" },
    { "star host", "https://*", "wildcard" },
    { "star with port", "https://*:443", "wildcard" },
    { "star dot nothing", "https://*.", "host" },
    { "star inside label", "https://a*.b.com", "wildcard" },
    { "star glued to label", "https://*example.com", "wildcard" },
    { "star in middle label", "https://a.*.com", "wildcard" },
    { "star in last label", "https://example.*", "wildcard" },
    { "two stars", "https://*.*.example.com", "wildcard" },
    { "star without scheme", "*.example.com", "wildcard" },
    { "star scheme", "*://example.com", "wildcard" },
    { "star in port", "https://a.com:*", "wildcard" },
    { "star in path", "https://*.a.com/*", "wildcard" },
    { "star over tld", "https://*.com", "single label" },
    { "star over single label", "https://*.localhost", "single label" },
    { "star over ipv4", "https://*.10.0.0.1", "IP address" },
    { "star over ipv6", "https://*.[::1]", "IP address" },
    { "star over partial ipv4", "https://*.0.0.1", "host" },
    { "null", "null", "null" },
    { "ws scheme", "ws://a.com", "http://" },
    { "no scheme", "a.com", "http://" },
    { "userinfo", "https://user@a.com", "user name" },
    { "trailing slash", "https://a.com/", "path" },
    { "wildcard with trailing slash", "https://*.a.com/", "path" },
    { "path", "https://a.com/app", "path" },
    { "underscore", "https://a_b.com", "host" },
    { "trailing dot", "https://a.com.", "host" },
    { "port zero", "https://a.com:0", "port" },
    { "empty port", "https://a.com:", "port" },
    { "two origins in one argument", "https://a.com https://b.com", "one origin per argument" },
    { "comma list", "https://a.com,https://b.com", "one origin per argument" },
    { "trailing space", "https://a.com ", "spaces" },
};

START_TEST(test_pattern_bad)
{
    const pattern_bad_t *c = &pattern_bad[_i];
    wsa_origin_pattern_t p, zero;
    const char *err;

    memset(&zero, 0, sizeof(zero));
    memset(&p, 0xa5, sizeof(p));
    err = wsa_origin_pattern_parse(c->in, &p);
    ck_assert_msg(err != NULL, "%s: accepted", c->name);
    ck_assert_msg(strstr(err, c->reason) != NULL, "%s: message \"%s\" lacks \"%s\"",
                  c->name, err, c->reason);
    ck_assert_msg(memcmp(&p, &zero, sizeof(p)) == 0, "%s: output not zeroed", c->name);
}
END_TEST

START_TEST(test_pattern_too_long)
{
    char buf[SSG_ORIGIN_MAX_LEN + 16];
    wsa_origin_pattern_t p;
    const char *err;

    strcpy(buf, "https://*.");
    memset(buf + 10, 'a', sizeof(buf) - 11);
    buf[sizeof(buf) - 1] = '\0';
    err = wsa_origin_pattern_parse(buf, &p);
    ck_assert_ptr_nonnull(err);
    ck_assert_ptr_nonnull(strstr(err, "1024"));
}
END_TEST

typedef struct {
    const char *name;
    const char *pattern;
    const char *origin;
    int want;
} match_t;

static const match_t match_cases[] = {
    { "wildcard: subdomain", "https://*.example.com", "https://a.example.com", 1 },
    { "wildcard: deeper subdomain", "https://*.example.com", "https://a.b.example.com", 1 },
    { "wildcard: uppercase origin", "https://*.example.com", "https://A.EXAMPLE.COM", 1 },
    { "wildcard: digit label", "https://*.example.com", "https://1.example.com", 1 },
    { "wildcard: explicit default port in origin", "https://*.example.com", "https://a.example.com:443", 1 },
    { "wildcard: explicit default port in pattern", "https://*.example.com:443", "https://a.example.com", 1 },
    { "wildcard: custom port", "https://*.example.com:8443", "https://a.example.com:8443", 1 },
    { "wildcard: apex not covered", "https://*.example.com", "https://example.com", 0 },
    { "wildcard: suffix attack", "https://*.example.com", "https://example.com.evil.net", 0 },
    { "wildcard: glued prefix", "https://*.example.com", "https://evilexample.com", 0 },
    { "wildcard: glued prefix deeper", "https://*.example.com", "https://a.evilexample.com", 0 },
    { "wildcard: other tld", "https://*.example.com", "https://a.example.co", 0 },
    { "wildcard: scheme http vs https", "https://*.example.com", "http://a.example.com", 0 },
    { "wildcard: scheme https vs http", "http://*.example.com", "https://a.example.com", 0 },
    { "wildcard: port differs", "https://*.example.com", "https://a.example.com:8443", 0 },
    { "wildcard: default port missing", "https://*.example.com:8443", "https://a.example.com", 0 },
    { "wildcard: http on 443", "https://*.example.com", "http://a.example.com:443", 0 },
    { "wildcard: ipv4 origin", "https://*.example.com", "https://10.0.0.1", 0 },
    { "wildcard: ipv6 origin", "https://*.example.com", "https://[::1]", 0 },
    { "exact: same", "https://app.example.com", "https://app.example.com", 1 },
    { "exact: explicit default port", "https://app.example.com", "https://app.example.com:443", 1 },
    { "exact: http default port", "http://a.com", "http://a.com:80", 1 },
    { "exact: case", "https://app.example.com", "https://APP.example.com", 1 },
    { "exact: ipv6 spellings", "https://[::1]:8443", "https://[0:0::1]:8443", 1 },
    { "exact: scheme differs", "https://app.example.com", "http://app.example.com", 0 },
    { "exact: port differs", "https://app.example.com", "https://app.example.com:444", 0 },
    { "exact: subdomain not covered", "https://app.example.com", "https://x.app.example.com", 0 },
    { "exact: parent not covered", "https://app.example.com", "https://example.com", 0 },
    { "exact: suffix attack", "https://app.example.com", "https://app.example.com.evil.net", 0 },
};

START_TEST(test_pattern_match)
{
    const match_t *c = &match_cases[_i];
    wsa_origin_pattern_t p;
    ssg_origin_t o;

    ck_assert_ptr_null(wsa_origin_pattern_parse(c->pattern, &p));
    ck_assert_int_eq(ssg_origin_parse(c->origin, strlen(c->origin), &o), SSG_ORIGIN_OK);
    ck_assert_msg(wsa_origin_pattern_match(&p, &o) == c->want, "%s", c->name);
}
END_TEST

START_TEST(test_pattern_match_null)
{
    wsa_origin_pattern_t p, zp;
    ssg_origin_t o, zo;

    memset(&zp, 0, sizeof(zp));
    memset(&zo, 0, sizeof(zo));
    ck_assert_ptr_null(wsa_origin_pattern_parse("https://*.example.com", &p));
    ck_assert_int_eq(ssg_origin_parse("https://a.example.com", 21, &o), SSG_ORIGIN_OK);
    ck_assert_int_eq(wsa_origin_pattern_match(NULL, &o), 0);
    ck_assert_int_eq(wsa_origin_pattern_match(&p, NULL), 0);
    /* zeroed results of failed parses never match anything */
    ck_assert_int_eq(wsa_origin_pattern_match(&zp, &o), 0);
    ck_assert_int_eq(wsa_origin_pattern_match(&p, &zo), 0);
    ck_assert_int_eq(wsa_origin_pattern_match(&zp, &zo), 0);
}
END_TEST

/* ------------------------------------------------------------ header names */

typedef struct {
    const char *name;
    const char *in;
    int want;
} str_case_t;

static const str_case_t name_cases[] = {
    { "typical", "X-Remote-User", 1 },
    { "one byte", "x", 1 },
    { "every tchar", "A!#$%&'*+-.^_`|~9z", 1 },
    { "NULL", NULL, 0 },
    { "empty", "", 0 },
    { "space", "X User", 0 },
    { "colon", "X:User", 0 },
    { "LF", "X\nUser", 0 },
    { "CR", "X\rUser", 0 },
    { "tab", "X\tUser", 0 },
    { "trailing space", "X-User ", 0 },
    { "parentheses", "X(User)", 0 },
    { "quote", "X\"User", 0 },
    { "slash", "X/User", 0 },
    { "at", "X@User", 0 },
    { "comma", "X,User", 0 },
    { "semicolon", "X;User", 0 },
    { "equals", "X=User", 0 },
    { "braces", "{X}", 0 },
    { "DEL", "X\x7f", 0 },
    { "utf-8", "X-\xc3\x9c", 0 },
};

START_TEST(test_header_name)
{
    const str_case_t *c = &name_cases[_i];

    ck_assert_msg(wsa_header_name_valid(c->in) == c->want, "%s", c->name);
}
END_TEST

START_TEST(test_header_name_length)
{
    char buf[WSA_HEADER_NAME_MAX + 2];

    memset(buf, 'h', WSA_HEADER_NAME_MAX);
    buf[WSA_HEADER_NAME_MAX] = '\0';
    ck_assert_int_eq(wsa_header_name_valid(buf), 1);
    buf[WSA_HEADER_NAME_MAX] = 'h';
    buf[WSA_HEADER_NAME_MAX + 1] = '\0';
    ck_assert_int_eq(wsa_header_name_valid(buf), 0);
}
END_TEST

/* ----------------------------------------------------------- header values */

static const str_case_t value_cases[] = {
    { "empty", "", 1 },
    { "user name", "alice", 1 },
    { "email", "alice@example.com", 1 },
    { "inner space", "Alice Liddell", 1 },
    { "utf-8", "b\xc3\xbc" "cher", 1 },
    { "punctuation", "a,b;c=\"d\"", 1 },
    { "NULL", NULL, 0 },
    { "header injection", "alice\r\nX-Admin: 1", 0 },
    { "LF", "alice\n", 0 },
    { "CR", "alice\r", 0 },
    { "tab", "a\tb", 0 },
    { "control byte", "\x01", 0 },
    { "escape", "a\x1b[31m", 0 },
    { "DEL", "a\x7f", 0 },
};

START_TEST(test_header_value)
{
    const str_case_t *c = &value_cases[_i];

    ck_assert_msg(wsa_header_value_safe(c->in) == c->want, "%s", c->name);
}
END_TEST

START_TEST(test_header_value_length)
{
    static char buf[WSA_HEADER_VALUE_MAX + 2];

    memset(buf, 'v', WSA_HEADER_VALUE_MAX);
    buf[WSA_HEADER_VALUE_MAX] = '\0';
    ck_assert_int_eq(wsa_header_value_safe(buf), 1);
    buf[WSA_HEADER_VALUE_MAX] = 'v';
    buf[WSA_HEADER_VALUE_MAX + 1] = '\0';
    ck_assert_int_eq(wsa_header_value_safe(buf), 0);
}
END_TEST

/* ----------------------------------- Connection as mod_proxy reads it (13.2) */

typedef struct {
    const char *name;
    const char *value;
    const char *want; /* the kept tokens */
    int dropped;
} conn_t;

static const char *const conn_names[] = {"X-Remote-User", "X-Remote-Role"};

static const conn_t conn_cases[] = {
    {"the finding: blanks between tokens", "close X-Remote-User X-Remote-Role", "close", 2},
    {"a parameter after ';'", "X-Remote-Role;q", "q", 1},
    {"a tab between tokens", "close\tX-Remote-User", "close", 1},
    {"commas as before", "close, X-Remote-User, X-Remote-Role", "close", 2},
    {"any case", "x-remote-user, X-REMOTE-ROLE", "", 2},
    {"leading separators", ",;,X-Remote-User", "", 1},
    {"trailing separators", "X-Remote-User;,;", "", 1},
    {"CR, LF, VT, FF are spaces to ap_get_token", "a\rX-Remote-User\vb\fX-Remote-Role\nc",
     "a,b,c", 2},
    {"a quoted string is one token", "\"X-Remote-User\" keep-alive", "\"X-Remote-User\",keep-alive",
     0},
    {"quotes inside a token keep separators", "a\"b, X-Remote-User\"c X-Remote-Role",
     "a\"b, X-Remote-User\"c", 1},
    {"an open quote runs to the end", "a\"b X-Remote-User", "a\"b X-Remote-User", 0},
    {"a longer name is not ours", "X-Remote-User2, X-Remote-Use", "X-Remote-User2,X-Remote-Use", 0},
    {"underscores are another header to mod_proxy", "X_Remote_User", "X_Remote_User", 0},
    {"upgrade kept", "Upgrade X-Remote-User", "Upgrade", 1},
    {"nothing of ours", "keep-alive, Upgrade", "keep-alive,Upgrade", 0},
    {"empty", "", "", 0},
    {"only blanks", "  \t ", "", 0},
};

START_TEST(test_connection_filter)
{
    const conn_t *c = &conn_cases[_i];
    char out[256];
    int n = wsa_connection_filter(c->value, conn_names, 2, out);

    ck_assert_msg(n == c->dropped, "%s: dropped %d, want %d", c->name, n, c->dropped);
    ck_assert_msg(!strcmp(out, c->want), "%s: kept \"%s\", want \"%s\"", c->name, out, c->want);
    ck_assert_int_eq(wsa_connection_filter(c->value, conn_names, 2, NULL), c->dropped);
    /* the kept value reads back to the same tokens, none of them ours */
    {
        char again[256];
        ck_assert_int_eq(wsa_connection_filter(out, conn_names, 2, again), 0);
        ck_assert_str_eq(again, out);
    }
}
END_TEST

/* The attack of issue 13.3: "X-Remote-User," then "a," 4,000 times. One
 * pass: the output is never longer than the input. */
START_TEST(test_connection_filter_long_list)
{
    static char in[8200], out[8200];
    apr_size_t i, n = 0;

    n += (apr_size_t)snprintf(in, sizeof(in), "X-Remote-User,");
    for (i = 0; i < 4000; i++) {
        in[n++] = 'a';
        in[n++] = ',';
    }
    in[n] = '\0';
    ck_assert_int_eq(wsa_connection_filter(in, conn_names, 2, out), 1);
    ck_assert_uint_eq(strlen(out), 4000 * 2 - 1);
    ck_assert_int_eq(wsa_connection_filter(NULL, conn_names, 2, out), 0);
    ck_assert_str_eq(out, "");
}
END_TEST

typedef struct {
    const char *a, *b;
    int want;
} alike_t;

static const alike_t alike_cases[] = {
    {"X-Remote-User", "X-Remote-User", 1}, {"X_Remote_User", "X-Remote-User", 1},
    {"x_remote_user", "X-Remote-User", 1}, {"x-REMOTE_user", "X-Remote-User", 1},
    {"X-Remote-User", "X_Remote_User", 1}, {"X-Remote-Users", "X-Remote-User", 0},
    {"X-Remote-Use", "X-Remote-User", 0},  {"X.Remote.User", "X-Remote-User", 0},
    {"XRemoteUser", "X-Remote-User", 0},   {"", "", 1},
    {"Session", "session", 1},             {"X_Replace_Session", "X-Replace-Session", 1},
};

START_TEST(test_header_name_alike)
{
    ck_assert_msg(wsa_header_name_alike(alike_cases[_i].a, alike_cases[_i].b) ==
                      alike_cases[_i].want,
                  "%s ~ %s", alike_cases[_i].a, alike_cases[_i].b);
    ck_assert_int_eq(wsa_header_name_alike(NULL, "x"), 0);
    ck_assert_int_eq(wsa_header_name_alike("x", NULL), 0);
}
END_TEST

/* -------------------------------------------------------------------- main */

static Suite *wsa_suite(void)
{
    Suite *s = suite_create("wsa_core");
    TCase *tc;

    tc = tcase_create("header_has_token");
    tcase_add_loop_test(tc, test_has_token, 0, NELTS(token_cases));
    suite_add_tcase(s, tc);

    tc = tcase_create("connection_filter");
    tcase_add_loop_test(tc, test_connection_filter, 0, NELTS(conn_cases));
    tcase_add_test(tc, test_connection_filter_long_list);
    tcase_add_loop_test(tc, test_header_name_alike, 0, NELTS(alike_cases));
    suite_add_tcase(s, tc);

    tc = tcase_create("is_upgrade");
    tcase_add_loop_test(tc, test_is_upgrade, 0, NELTS(upgrade_cases));
    suite_add_tcase(s, tc);

    tc = tcase_create("upgrade_is_websocket");
    tcase_add_loop_test(tc, test_is_websocket, 0, NELTS(websocket_cases));
    suite_add_tcase(s, tc);

    tc = tcase_create("pattern_parse");
    tcase_add_loop_test(tc, test_pattern_good, 0, NELTS(pattern_good));
    tcase_add_loop_test(tc, test_pattern_bad, 0, NELTS(pattern_bad));
    tcase_add_test(tc, test_pattern_too_long);
    suite_add_tcase(s, tc);

    tc = tcase_create("pattern_match");
    tcase_add_loop_test(tc, test_pattern_match, 0, NELTS(match_cases));
    tcase_add_test(tc, test_pattern_match_null);
    suite_add_tcase(s, tc);

    tc = tcase_create("header_name_valid");
    tcase_add_loop_test(tc, test_header_name, 0, NELTS(name_cases));
    tcase_add_test(tc, test_header_name_length);
    suite_add_tcase(s, tc);

    tc = tcase_create("header_value_safe");
    tcase_add_loop_test(tc, test_header_value, 0, NELTS(value_cases));
    tcase_add_test(tc, test_header_value_length);
    suite_add_tcase(s, tc);

    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(wsa_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
