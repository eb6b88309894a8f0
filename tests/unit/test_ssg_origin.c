/*
 * test_ssg_origin.c - Check unit tests for mod_session_sign/ssg_origin.c.
 *
 * Build and run from the top of the tree:
 *
 *   gcc -std=c99 -Wall -Wextra -Werror -I mod_session_sign -I mod_ws_auth \
 *       $(apr-1-config --cflags --cppflags --includes) \
 *       -o tests/unit/test_ssg_origin \
 *       tests/unit/test_ssg_origin.c mod_session_sign/ssg_origin.c \
 *       $(pkg-config --cflags --libs check) $(apr-1-config --link-ld --libs)
 *   ./tests/unit/test_ssg_origin
 *
 * One TCase per function group; every case in a table has a name that says
 * what it proves, and the table index runs as its own loop test.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ssg_origin.h"

#define NELTS(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define STRLEN   (-1)   /* len field: use strlen(in) */

static apr_size_t case_len(const char *in, int len)
{
    if (len != STRLEN) {
        return (apr_size_t)len;
    }
    return in ? strlen(in) : 0;
}

static int is_zeroed(const ssg_origin_t *o)
{
    static const ssg_origin_t zero;
    return memcmp(o, &zero, sizeof(zero)) == 0;
}

/* ---------------------------------------------------------------- parse ok */

typedef struct {
    const char *name;
    const char *in;
    int len;
    const char *scheme;
    const char *host;
    unsigned port;
    int port_explicit;
} parse_good_t;

static const parse_good_t parse_good[] = {
    { "plain http", "http://a.com", STRLEN, "http", "a.com", 80, 0 },
    { "plain https", "https://a.com", STRLEN, "https", "a.com", 443, 0 },
    { "uppercase normalised", "HTTPS://A.COM", STRLEN, "https", "a.com", 443, 0 },
    { "mixed case normalised", "HtTp://ExAmPlE.CoM", STRLEN, "http", "example.com", 80, 0 },
    { "explicit default http port", "http://a.com:80", STRLEN, "http", "a.com", 80, 1 },
    { "explicit default https port", "https://a.com:443", STRLEN, "https", "a.com", 443, 1 },
    { "http on 443 is not https", "http://a.com:443", STRLEN, "http", "a.com", 443, 1 },
    { "other port", "http://a.com:8080", STRLEN, "http", "a.com", 8080, 1 },
    { "port 1", "https://a.com:1", STRLEN, "https", "a.com", 1, 1 },
    { "port 65535", "https://a.com:65535", STRLEN, "https", "a.com", 65535, 1 },
    { "single label", "http://localhost", STRLEN, "http", "localhost", 80, 0 },
    { "single label with port", "http://localhost:3000", STRLEN, "http", "localhost", 3000, 1 },
    { "many labels", "https://a.b.c.d.e.f", STRLEN, "https", "a.b.c.d.e.f", 443, 0 },
    { "hyphens inside labels", "https://a-b.c--d.com", STRLEN, "https", "a-b.c--d.com", 443, 0 },
    { "punycode", "https://xn--bcher-kva.de", STRLEN, "https", "xn--bcher-kva.de", 443, 0 },
    { "label starting with digit", "https://1a.com", STRLEN, "https", "1a.com", 443, 0 },
    { "last label alphanumeric", "https://a.1com", STRLEN, "https", "a.1com", 443, 0 },
    { "ipv4 loopback", "http://127.0.0.1", STRLEN, "http", "127.0.0.1", 80, 0 },
    { "ipv4 zeros", "http://0.0.0.0", STRLEN, "http", "0.0.0.0", 80, 0 },
    { "ipv4 max", "http://255.255.255.255:81", STRLEN, "http", "255.255.255.255", 81, 1 },
    { "ipv6 loopback with port", "http://[::1]:8080", STRLEN, "http", "[::1]", 8080, 1 },
    { "ipv6 loopback", "https://[::1]", STRLEN, "https", "[::1]", 443, 0 },
    { "ipv6 unspecified", "https://[::]", STRLEN, "https", "[::]", 443, 0 },
    { "ipv6 full form compressed", "https://[0:0:0:0:0:0:0:1]", STRLEN, "https", "[::1]", 443, 0 },
    { "ipv6 uppercase lowered", "https://[2001:DB8::A]", STRLEN, "https", "[2001:db8::a]", 443, 0 },
    { "ipv6 leading zeros dropped", "https://[2001:0db8::0001]", STRLEN, "https", "[2001:db8::1]", 443, 0 },
    { "ipv6 trailing ::", "https://[1::]", STRLEN, "https", "[1::]", 443, 0 },
    { "ipv6 first longest run", "https://[2001:db8:0:0:1:0:0:1]", STRLEN, "https", "[2001:db8::1:0:0:1]", 443, 0 },
    { "ipv6 longer later run", "https://[1:0:2:0:0:0:3:4]", STRLEN, "https", "[1:0:2::3:4]", 443, 0 },
    { "ipv6 single zero kept", "https://[2001:db8:0:1:1:1:1:1]", STRLEN, "https", "[2001:db8:0:1:1:1:1:1]", 443, 0 },
    { "ipv6 embedded ipv4", "https://[::ffff:1.2.3.4]", STRLEN, "https", "[::ffff:102:304]", 443, 0 },
    { "ipv6 eight groups", "https://[1:2:3:4:5:6:7:8]:9", STRLEN, "https", "[1:2:3:4:5:6:7:8]", 9, 1 },
    { "length bounds the read", "http://a.comXYZ", 12, "http", "a.com", 80, 0 },
};

START_TEST(test_parse_good)
{
    const parse_good_t *c = &parse_good[_i];
    ssg_origin_t o;
    ssg_origin_status_e st;

    st = ssg_origin_parse(c->in, case_len(c->in, c->len), &o);
    ck_assert_msg(st == SSG_ORIGIN_OK, "%s: status %d (%s)", c->name, st,
                  ssg_origin_status_str(st));
    ck_assert_msg(strcmp(o.scheme, c->scheme) == 0, "%s: scheme %s", c->name, o.scheme);
    ck_assert_msg(strcmp(o.host, c->host) == 0, "%s: host %s", c->name, o.host);
    ck_assert_msg(o.port == c->port, "%s: port %u", c->name, o.port);
    ck_assert_msg(o.port_explicit == c->port_explicit, "%s: explicit", c->name);
}
END_TEST

/* --------------------------------------------------------------- parse bad */

typedef struct {
    const char *name;
    const char *in;
    int len;
    ssg_origin_status_e want;
} parse_bad_t;

static const parse_bad_t parse_bad[] = {
    { "NULL pointer", NULL, 0, SSG_ORIGIN_EMPTY },
    { "empty", "", STRLEN, SSG_ORIGIN_EMPTY },
    { "zero length of a real string", "http://a.com", 0, SSG_ORIGIN_EMPTY },
    { "literal null", "null", STRLEN, SSG_ORIGIN_NULL },
    { "NULL uppercase is not the opaque origin", "NULL", STRLEN, SSG_ORIGIN_BAD_SCHEME },
    { "null prefix", "nullx", STRLEN, SSG_ORIGIN_BAD_SCHEME },
    { "ws scheme", "ws://a.com", STRLEN, SSG_ORIGIN_BAD_SCHEME },
    { "wss scheme", "wss://a.com", STRLEN, SSG_ORIGIN_BAD_SCHEME },
    { "file scheme", "file://", STRLEN, SSG_ORIGIN_BAD_SCHEME },
    { "chrome-extension scheme", "chrome-extension://abcdef", STRLEN, SSG_ORIGIN_BAD_SCHEME },
    { "httpx scheme", "httpx://a.com", STRLEN, SSG_ORIGIN_BAD_SCHEME },
    { "htt scheme", "htt://a.com", STRLEN, SSG_ORIGIN_BAD_SCHEME },
    { "no scheme", "a.com", STRLEN, SSG_ORIGIN_BAD_SCHEME },
    { "empty scheme", "://a.com", STRLEN, SSG_ORIGIN_BAD_SCHEME },
    { "one slash", "http:/a.com", STRLEN, SSG_ORIGIN_BAD_SCHEME },
    { "no colon", "http//a.com", STRLEN, SSG_ORIGIN_BAD_SCHEME },
    { "scheme only", "http:", STRLEN, SSG_ORIGIN_BAD_SCHEME },
    { "scheme and one slash", "http:/", STRLEN, SSG_ORIGIN_BAD_SCHEME },
    { "userinfo", "http://user@a.com", STRLEN, SSG_ORIGIN_USERINFO },
    { "userinfo with password", "http://user:pw@a.com", STRLEN, SSG_ORIGIN_USERINFO },
    { "empty userinfo", "http://@a.com", STRLEN, SSG_ORIGIN_USERINFO },
    { "host confusion via @", "https://a.com@evil.net", STRLEN, SSG_ORIGIN_USERINFO },
    { "userinfo before path", "http://u@a.com/", STRLEN, SSG_ORIGIN_USERINFO },
    { "trailing slash", "http://a.com/", STRLEN, SSG_ORIGIN_PATH },
    { "path", "http://a.com/x", STRLEN, SSG_ORIGIN_PATH },
    { "query", "http://a.com?x", STRLEN, SSG_ORIGIN_PATH },
    { "fragment", "http://a.com#x", STRLEN, SSG_ORIGIN_PATH },
    { "port then slash", "http://a.com:80/", STRLEN, SSG_ORIGIN_PATH },
    { "@ in path is a path", "http://a.com/@evil.net", STRLEN, SSG_ORIGIN_PATH },
    { "empty host", "http://", STRLEN, SSG_ORIGIN_BAD_HOST },
    { "empty host with port", "http://:80", STRLEN, SSG_ORIGIN_BAD_HOST },
    { "double dot", "http://a..com", STRLEN, SSG_ORIGIN_BAD_HOST },
    { "leading hyphen", "http://-a.com", STRLEN, SSG_ORIGIN_BAD_HOST },
    { "trailing hyphen", "http://a-.com", STRLEN, SSG_ORIGIN_BAD_HOST },
    { "trailing dot", "http://a.com.", STRLEN, SSG_ORIGIN_BAD_HOST },
    { "leading dot", "http://.a.com", STRLEN, SSG_ORIGIN_BAD_HOST },
    { "lone dot", "http://.", STRLEN, SSG_ORIGIN_BAD_HOST },
    { "underscore", "http://a_b.com", STRLEN, SSG_ORIGIN_BAD_HOST },
    { "percent-encoding", "http://a%2eb.com", STRLEN, SSG_ORIGIN_BAD_HOST },
    { "backslash", "http://a.com\\x", STRLEN, SSG_ORIGIN_BAD_HOST },
    { "non-ascii utf-8", "http://b\xc3\xbc" "cher.de", STRLEN, SSG_ORIGIN_BAD_HOST },
    { "byte 0xff", "http://a\xff.com", STRLEN, SSG_ORIGIN_BAD_HOST },
    { "asterisk", "http://*.a.com", STRLEN, SSG_ORIGIN_BAD_HOST },
    { "ipv4 part over 255", "http://256.1.1.1", STRLEN, SSG_ORIGIN_BAD_HOST },
    { "ipv4 three parts", "http://1.2.3", STRLEN, SSG_ORIGIN_BAD_HOST },
    { "ipv4 five parts", "http://1.2.3.4.5", STRLEN, SSG_ORIGIN_BAD_HOST },
    { "ipv4 leading zero", "http://01.2.3.4", STRLEN, SSG_ORIGIN_BAD_HOST },
    { "ipv4 octal-looking zero part", "http://1.2.3.00", STRLEN, SSG_ORIGIN_BAD_HOST },
    { "ipv4 hex part", "http://0x7f.0.0.1", STRLEN, SSG_ORIGIN_BAD_HOST },
    { "ipv4 single number", "http://2130706433", STRLEN, SSG_ORIGIN_BAD_HOST },
    { "numeric last label", "http://a.123", STRLEN, SSG_ORIGIN_BAD_HOST },
    { "hex last label", "http://a.0x7f", STRLEN, SSG_ORIGIN_BAD_HOST },
    { "ipv6 unbracketed", "http://::1", STRLEN, SSG_ORIGIN_BAD_HOST },
    { "ipv6 unclosed", "http://[::1", STRLEN, SSG_ORIGIN_BAD_HOST },
    { "ipv6 junk after bracket", "http://[::1]x", STRLEN, SSG_ORIGIN_BAD_HOST },
    { "ipv6 empty", "http://[]", STRLEN, SSG_ORIGIN_BAD_HOST },
    { "ipv6 lone colon", "http://[:]", STRLEN, SSG_ORIGIN_BAD_HOST },
    { "ipv6 leading single colon", "http://[:1]", STRLEN, SSG_ORIGIN_BAD_HOST },
    { "ipv6 trailing single colon", "http://[1:]", STRLEN, SSG_ORIGIN_BAD_HOST },
    { "ipv6 triple colon", "http://[1:::2]", STRLEN, SSG_ORIGIN_BAD_HOST },
    { "ipv6 two ::", "http://[1::2::3]", STRLEN, SSG_ORIGIN_BAD_HOST },
    { "ipv6 five hex digits", "http://[12345::]", STRLEN, SSG_ORIGIN_BAD_HOST },
    { "ipv6 non-hex", "http://[::g]", STRLEN, SSG_ORIGIN_BAD_HOST },
    { "ipv6 zone id", "http://[fe80::1%25eth0]", STRLEN, SSG_ORIGIN_BAD_HOST },
    { "ipv6 nine groups", "http://[1:2:3:4:5:6:7:8:9]", STRLEN, SSG_ORIGIN_BAD_HOST },
    { "ipv6 seven groups", "http://[1:2:3:4:5:6:7]", STRLEN, SSG_ORIGIN_BAD_HOST },
    { "ipv6 :: standing for no group", "http://[1:2:3:4::5:6:7:8]", STRLEN, SSG_ORIGIN_BAD_HOST },
    { "ipv6 ipv4 too many parts", "http://[::1.2.3.4.5]", STRLEN, SSG_ORIGIN_BAD_HOST },
    { "ipv6 ipv4 too few parts", "http://[::1.2.3]", STRLEN, SSG_ORIGIN_BAD_HOST },
    { "ipv6 ipv4 leading zero", "http://[::01.2.3.4]", STRLEN, SSG_ORIGIN_BAD_HOST },
    { "ipv6 ipv4 over 255", "http://[::1.2.3.256]", STRLEN, SSG_ORIGIN_BAD_HOST },
    { "ipv6 ipv4 in last group of eight", "http://[1:2:3:4:5:6:7:1.2.3.4]", STRLEN, SSG_ORIGIN_BAD_HOST },
    { "ipv6 ipv4 not last", "http://[::1.2.3.4:1]", STRLEN, SSG_ORIGIN_BAD_HOST },
    { "ipv6 ipv4 after hex", "http://[::a1.2.3.4]", STRLEN, SSG_ORIGIN_BAD_HOST },
    { "ipv6 too long text", "http://[0000:0000:0000:0000:0000:0000:0000:00001]", STRLEN, SSG_ORIGIN_BAD_HOST },
    { "empty port", "http://a.com:", STRLEN, SSG_ORIGIN_BAD_PORT },
    { "port zero", "http://a.com:0", STRLEN, SSG_ORIGIN_BAD_PORT },
    { "port 65536", "http://a.com:65536", STRLEN, SSG_ORIGIN_BAD_PORT },
    { "port 99999", "http://a.com:99999", STRLEN, SSG_ORIGIN_BAD_PORT },
    { "port six digits", "http://a.com:123456", STRLEN, SSG_ORIGIN_BAD_PORT },
    { "port leading zero", "http://a.com:08080", STRLEN, SSG_ORIGIN_BAD_PORT },
    { "port 00", "http://a.com:00", STRLEN, SSG_ORIGIN_BAD_PORT },
    { "port negative", "http://a.com:-1", STRLEN, SSG_ORIGIN_BAD_PORT },
    { "port plus sign", "http://a.com:+80", STRLEN, SSG_ORIGIN_BAD_PORT },
    { "port hex", "http://a.com:8a", STRLEN, SSG_ORIGIN_BAD_PORT },
    { "two ports", "http://a.com:80:80", STRLEN, SSG_ORIGIN_BAD_PORT },
    { "ipv6 empty port", "http://[::1]:", STRLEN, SSG_ORIGIN_BAD_PORT },
    { "port overflowing unsigned", "http://a.com:4294967376", STRLEN, SSG_ORIGIN_BAD_PORT },
    { "merged headers", "http://a.com, http://b.com", STRLEN, SSG_ORIGIN_CTL },
    { "merged headers without space", "http://a.com,http://b.com", STRLEN, SSG_ORIGIN_CTL },
    { "comma in host", "http://a,b.com", STRLEN, SSG_ORIGIN_CTL },
    { "leading space", " http://a.com", STRLEN, SSG_ORIGIN_CTL },
    { "trailing space", "http://a.com ", STRLEN, SSG_ORIGIN_CTL },
    { "trailing CRLF", "http://a.com\r\n", STRLEN, SSG_ORIGIN_CTL },
    { "header injection", "http://a.com\r\nX-Evil: 1", STRLEN, SSG_ORIGIN_CTL },
    { "tab", "http://a.com\t", STRLEN, SSG_ORIGIN_CTL },
    { "DEL", "http://a.com\x7f", STRLEN, SSG_ORIGIN_CTL },
    { "embedded NUL then evil suffix", "http://a.com\0.evil.net", 22, SSG_ORIGIN_CTL },
    { "trailing NUL inside length", "http://a.com\0", 13, SSG_ORIGIN_CTL },
    { "NUL in scheme", "ht\0tp://a.com", 13, SSG_ORIGIN_CTL },
    { "control byte wins over bad scheme", "ws://a b", STRLEN, SSG_ORIGIN_CTL },
};

START_TEST(test_parse_bad)
{
    const parse_bad_t *c = &parse_bad[_i];
    ssg_origin_t o;
    ssg_origin_status_e st;

    memset(&o, 0xa5, sizeof(o));
    st = ssg_origin_parse(c->in, case_len(c->in, c->len), &o);
    ck_assert_msg(st == c->want, "%s: status %d (%s), want %d (%s)", c->name,
                  st, ssg_origin_status_str(st), c->want,
                  ssg_origin_status_str(c->want));
    ck_assert_msg(is_zeroed(&o), "%s: output not zeroed on failure", c->name);
}
END_TEST

/* -------------------------------------------------------------- parse edge */

static void fill(char *buf, apr_size_t n, char c)
{
    memset(buf, c, n);
    buf[n] = '\0';
}

START_TEST(test_parse_length_limit)
{
    char buf[SSG_ORIGIN_MAX_LEN + 64];
    ssg_origin_t o;
    apr_size_t n;

    /* "http://" + labels "aaa...a." up to exactly 1024 bytes: the host is
     * over 253 bytes, so BAD_HOST proves the length check let it through */
    strcpy(buf, "http://");
    fill(buf + 7, SSG_ORIGIN_MAX_LEN - 7, 'a');
    n = strlen(buf);
    ck_assert_uint_eq(n, SSG_ORIGIN_MAX_LEN);
    ck_assert_int_eq(ssg_origin_parse(buf, n, &o), SSG_ORIGIN_BAD_HOST);
    strcat(buf, "a");
    ck_assert_int_eq(ssg_origin_parse(buf, n + 1, &o), SSG_ORIGIN_TOO_LONG);
    /* too long wins over every other check, even control bytes */
    fill(buf, SSG_ORIGIN_MAX_LEN + 10, ' ');
    ck_assert_int_eq(ssg_origin_parse(buf, SSG_ORIGIN_MAX_LEN + 10, &o),
                     SSG_ORIGIN_TOO_LONG);
}
END_TEST

START_TEST(test_parse_label_limit)
{
    char buf[128];
    ssg_origin_t o;

    strcpy(buf, "https://");
    fill(buf + 8, SSG_ORIGIN_LABEL_MAX, 'b');
    strcat(buf, ".com");
    ck_assert_int_eq(ssg_origin_parse(buf, strlen(buf), &o), SSG_ORIGIN_OK);
    ck_assert_uint_eq(strlen(o.host), SSG_ORIGIN_LABEL_MAX + 4);

    strcpy(buf, "https://");
    fill(buf + 8, SSG_ORIGIN_LABEL_MAX + 1, 'b');
    strcat(buf, ".com");
    ck_assert_int_eq(ssg_origin_parse(buf, strlen(buf), &o), SSG_ORIGIN_BAD_HOST);
}
END_TEST

/* "https://" + n-byte host of 50-byte labels, ending in ".com" */
static void make_host(char *buf, apr_size_t n)
{
    apr_size_t i;

    strcpy(buf, "https://");
    for (i = 0; i < n - 4; i++) {
        buf[8 + i] = (i % 51 == 50) ? '.' : 'h';
    }
    if (buf[8 + n - 5] == '.') {
        buf[8 + n - 5] = 'h';
    }
    strcpy(buf + 8 + n - 4, ".com");
}

START_TEST(test_parse_host_limit)
{
    char buf[300];
    ssg_origin_t o;

    make_host(buf, SSG_ORIGIN_HOST_MAX);
    ck_assert_int_eq(ssg_origin_parse(buf, strlen(buf), &o), SSG_ORIGIN_OK);
    ck_assert_uint_eq(strlen(o.host), SSG_ORIGIN_HOST_MAX);

    make_host(buf, SSG_ORIGIN_HOST_MAX + 1);
    ck_assert_int_eq(ssg_origin_parse(buf, strlen(buf), &o), SSG_ORIGIN_BAD_HOST);
}
END_TEST

START_TEST(test_parse_every_byte)
{
    /* one byte in the host: only [a-zA-Z0-9] make a valid one-letter host */
    char buf[16];
    ssg_origin_t o;
    int c;

    for (c = 0; c < 256; c++) {
        ssg_origin_status_e st;
        int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                    || (c >= '0' && c <= '9');

        memcpy(buf, "http://x", 8);
        buf[7] = (char)c;
        st = ssg_origin_parse(buf, 8, &o);
        if (alnum && !(c >= '0' && c <= '9')) {
            ck_assert_msg(st == SSG_ORIGIN_OK, "byte 0x%02x: %d", c, st);
        }
        else {
            ck_assert_msg(st != SSG_ORIGIN_OK, "byte 0x%02x accepted", c);
        }
    }
}
END_TEST

START_TEST(test_status_str)
{
    int st;

    for (st = SSG_ORIGIN_OK; st <= SSG_ORIGIN_TOO_LONG; st++) {
        const char *s = ssg_origin_status_str((ssg_origin_status_e)st);
        int other;

        ck_assert_ptr_nonnull(s);
        ck_assert_msg(strcmp(s, "unknown") != 0, "status %d has no text", st);
        for (other = SSG_ORIGIN_OK; other < st; other++) {
            ck_assert_str_ne(s, ssg_origin_status_str((ssg_origin_status_e)other));
        }
    }
    ck_assert_str_eq(ssg_origin_status_str((ssg_origin_status_e)999), "unknown");
}
END_TEST

/* ------------------------------------------------------------------- equal */

typedef struct {
    const char *name;
    const char *a;
    const char *b;
    int want;
} equal_t;

static const equal_t equal_cases[] = {
    { "identical", "http://a.com", "http://a.com", 1 },
    { "explicit default http port", "http://a.com:80", "http://a.com", 1 },
    { "explicit default https port", "https://a.com", "https://a.com:443", 1 },
    { "case-insensitive", "HTTPS://A.COM", "https://a.com", 1 },
    { "ipv6 spellings", "https://[::1]", "https://[0:0:0:0:0:0:0:1]:443", 1 },
    { "scheme differs", "http://a.com", "https://a.com", 0 },
    { "scheme differs same port", "http://a.com:443", "https://a.com", 0 },
    { "port differs", "http://a.com", "http://a.com:8080", 0 },
    { "host differs", "http://a.com", "http://b.com", 0 },
    { "subdomain", "http://a.com", "http://x.a.com", 0 },
    { "ip vs name", "http://127.0.0.1", "http://localhost", 0 },
};

START_TEST(test_equal)
{
    const equal_t *c = &equal_cases[_i];
    ssg_origin_t a, b;

    ck_assert_int_eq(ssg_origin_parse(c->a, strlen(c->a), &a), SSG_ORIGIN_OK);
    ck_assert_int_eq(ssg_origin_parse(c->b, strlen(c->b), &b), SSG_ORIGIN_OK);
    ck_assert_msg(ssg_origin_equal(&a, &b) == c->want, "%s: a,b", c->name);
    ck_assert_msg(ssg_origin_equal(&b, &a) == c->want, "%s: b,a", c->name);
}
END_TEST

START_TEST(test_equal_null)
{
    ssg_origin_t a;

    ck_assert_int_eq(ssg_origin_parse("http://a.com", 12, &a), SSG_ORIGIN_OK);
    ck_assert_int_eq(ssg_origin_equal(NULL, &a), 0);
    ck_assert_int_eq(ssg_origin_equal(&a, NULL), 0);
    ck_assert_int_eq(ssg_origin_equal(NULL, NULL), 0);
}
END_TEST

/* -------------------------------------------------------------- host parse */

typedef struct {
    const char *name;
    const char *in;
    int len;
    const char *scheme;
    int want;              /* 0 or -1 */
    const char *host;
    unsigned port;
    int port_explicit;
} host_t;

static const host_t host_cases[] = {
    { "name http", "example.com", STRLEN, "http", 0, "example.com", 80, 0 },
    { "name https", "example.com", STRLEN, "https", 0, "example.com", 443, 0 },
    { "scheme any case", "example.com", STRLEN, "HTTPS", 0, "example.com", 443, 0 },
    { "name with port", "example.com:8080", STRLEN, "http", 0, "example.com", 8080, 1 },
    { "uppercase lowered", "EXAMPLE.com:8443", STRLEN, "https", 0, "example.com", 8443, 1 },
    { "ipv4", "127.0.0.1:80", STRLEN, "http", 0, "127.0.0.1", 80, 1 },
    { "ipv6 with port", "[::1]:8443", STRLEN, "https", 0, "[::1]", 8443, 1 },
    { "ipv6 normalised", "[0::1]", STRLEN, "https", 0, "[::1]", 443, 0 },
    { "length bounds the read", "a.com:80junk", 8, "http", 0, "a.com", 80, 1 },
    { "NULL host", NULL, 0, "http", -1, "", 0, 0 },
    { "empty", "", STRLEN, "http", -1, "", 0, 0 },
    { "NULL scheme", "a.com", STRLEN, NULL, -1, "", 0, 0 },
    { "ws scheme", "a.com", STRLEN, "ws", -1, "", 0, 0 },
    { "empty scheme", "a.com", STRLEN, "", -1, "", 0, 0 },
    { "empty port", "a.com:", STRLEN, "http", -1, "", 0, 0 },
    { "port zero", "a.com:0", STRLEN, "http", -1, "", 0, 0 },
    { "port leading zero", "a.com:080", STRLEN, "http", -1, "", 0, 0 },
    { "port only", ":80", STRLEN, "http", -1, "", 0, 0 },
    { "trailing dot", "a.com.", STRLEN, "http", -1, "", 0, 0 },
    { "space", "a .com", STRLEN, "http", -1, "", 0, 0 },
    { "trailing space", "a.com ", STRLEN, "http", -1, "", 0, 0 },
    { "comma", "a.com,b.com", STRLEN, "http", -1, "", 0, 0 },
    { "userinfo", "user@a.com", STRLEN, "http", -1, "", 0, 0 },
    { "path", "a.com/x", STRLEN, "http", -1, "", 0, 0 },
    { "full url", "http://a.com", STRLEN, "http", -1, "", 0, 0 },
    { "underscore", "a_b.com", STRLEN, "http", -1, "", 0, 0 },
    { "ipv6 unclosed", "[::1", STRLEN, "http", -1, "", 0, 0 },
    { "ipv6 unbracketed", "::1", STRLEN, "http", -1, "", 0, 0 },
    { "embedded NUL", "a.com\0b", 7, "http", -1, "", 0, 0 },
    { "CRLF", "a.com\r\n", STRLEN, "http", -1, "", 0, 0 },
};

START_TEST(test_host_parse)
{
    const host_t *c = &host_cases[_i];
    ssg_origin_t o;
    int rv;

    memset(&o, 0xa5, sizeof(o));
    rv = ssg_host_parse(c->in, case_len(c->in, c->len), c->scheme, &o);
    ck_assert_msg(rv == c->want, "%s: rv %d", c->name, rv);
    if (rv == 0) {
        ck_assert_msg(strcmp(o.host, c->host) == 0, "%s: host %s", c->name, o.host);
        ck_assert_msg(o.port == c->port, "%s: port %u", c->name, o.port);
        ck_assert_msg(o.port_explicit == c->port_explicit, "%s: explicit", c->name);
        ck_assert_msg(o.scheme[0] == 'h', "%s: scheme %s", c->name, o.scheme);
    }
    else {
        ck_assert_msg(is_zeroed(&o), "%s: output not zeroed", c->name);
    }
}
END_TEST

/* ------------------------------------------------------------ same as host */

typedef struct {
    const char *name;
    const char *origin;
    const char *host;
    const char *scheme;
    int want;
} same_t;

static const same_t same_cases[] = {
    { "https same host", "https://a.com", "a.com", "https", 1 },
    { "host with explicit default port", "https://a.com", "a.com:443", "https", 1 },
    { "origin with explicit default port", "https://a.com:443", "a.com", "https", 1 },
    { "host header case", "https://a.com", "A.COM", "https", 1 },
    { "request scheme case", "https://a.com", "a.com", "HTTPS", 1 },
    { "custom port both", "https://a.com:8443", "a.com:8443", "https", 1 },
    { "ipv6 spellings", "https://[::1]:8443", "[0::1]:8443", "https", 1 },
    { "http origin, https request", "http://a.com", "a.com", "https", 0 },
    { "https origin, http request", "https://a.com", "a.com", "http", 0 },
    { "http origin on 443, https request", "http://a.com:443", "a.com", "https", 0 },
    { "other host", "https://a.com", "b.com", "https", 0 },
    { "subdomain", "https://x.a.com", "a.com", "https", 0 },
    { "suffix attack", "https://a.com.evil.net", "a.com", "https", 0 },
    { "port differs", "https://a.com", "a.com:8443", "https", 0 },
    { "port differs other way", "https://a.com:8443", "a.com", "https", 0 },
    { "host trailing dot refused", "https://a.com", "a.com.", "https", 0 },
    { "host empty", "https://a.com", "", "https", 0 },
    { "host with comma", "https://a.com", "a.com,a.com", "https", 0 },
    { "unknown request scheme", "https://a.com", "a.com", "ftp", 0 },
    { "scheme unknown, https default", "https://a.com", "a.com", NULL, 1 },
    { "scheme unknown, http default", "http://a.com", "a.com", NULL, 1 },
    { "scheme unknown, host says 443", "https://a.com", "a.com:443", NULL, 1 },
    { "scheme unknown, host says 80 for https", "https://a.com", "a.com:80", NULL, 0 },
    { "scheme unknown, host says 443 for http", "http://a.com", "a.com:443", NULL, 0 },
    { "scheme unknown, custom port", "http://a.com:8080", "a.com:8080", NULL, 1 },
    { "scheme unknown, other host", "https://a.com", "b.com", NULL, 0 },
    { "scheme unknown, bad host", "https://a.com", "a.com:", NULL, 0 },
};

START_TEST(test_same_as_host)
{
    const same_t *c = &same_cases[_i];
    ssg_origin_t o;

    ck_assert_int_eq(ssg_origin_parse(c->origin, strlen(c->origin), &o), SSG_ORIGIN_OK);
    ck_assert_msg(ssg_origin_same_as_host(&o, c->host, strlen(c->host), c->scheme)
                  == c->want, "%s", c->name);
}
END_TEST

START_TEST(test_same_as_host_null)
{
    ssg_origin_t o, zero;

    memset(&zero, 0, sizeof(zero));
    ck_assert_int_eq(ssg_origin_parse("https://a.com", 13, &o), SSG_ORIGIN_OK);
    ck_assert_int_eq(ssg_origin_same_as_host(NULL, "a.com", 5, "https"), 0);
    ck_assert_int_eq(ssg_origin_same_as_host(&o, NULL, 0, "https"), 0);
    ck_assert_int_eq(ssg_origin_same_as_host(&o, NULL, 0, NULL), 0);
    /* a zeroed (failed) parse result never matches, even an empty host */
    ck_assert_int_eq(ssg_origin_same_as_host(&zero, "a.com", 5, NULL), 0);
    /* NUL inside the length is refused */
    ck_assert_int_eq(ssg_origin_same_as_host(&o, "a.com\0", 6, "https"), 0);
}
END_TEST

/* ----------------------------------------------------------------- referer */

typedef struct {
    const char *name;
    const char *in;
    int len;
    int want;
    const char *scheme;
    const char *host;
    unsigned port;
} referer_t;

static const referer_t referer_cases[] = {
    { "path and query", "https://a.com/login?next=/x", STRLEN, 0, "https", "a.com", 443 },
    { "no path", "https://a.com", STRLEN, 0, "https", "a.com", 443 },
    { "root path", "https://a.com/", STRLEN, 0, "https", "a.com", 443 },
    { "port", "https://a.com:8443/x", STRLEN, 0, "https", "a.com", 8443 },
    { "explicit default port", "http://a.com:80/x", STRLEN, 0, "http", "a.com", 80 },
    { "query right after host", "http://a.com?x=1", STRLEN, 0, "http", "a.com", 80 },
    { "fragment right after host", "http://a.com#f", STRLEN, 0, "http", "a.com", 80 },
    { "uppercase", "HTTPS://A.COM/Path", STRLEN, 0, "https", "a.com", 443 },
    { "comma in path", "https://a.com/a,b", STRLEN, 0, "https", "a.com", 443 },
    { "@ in path", "https://a.com/@evil.net", STRLEN, 0, "https", "a.com", 443 },
    { "ipv6", "https://[::1]:8443/", STRLEN, 0, "https", "[::1]", 8443 },
    { "length bounds the read", "https://a.com/x y", 15, 0, "https", "a.com", 443 },
    { "NULL", NULL, 0, -1, "", "", 0 },
    { "empty", "", STRLEN, -1, "", "", 0 },
    { "null", "null", STRLEN, -1, "", "", 0 },
    { "relative", "/login", STRLEN, -1, "", "", 0 },
    { "no scheme", "a.com/login", STRLEN, -1, "", "", 0 },
    { "ftp", "ftp://a.com/", STRLEN, -1, "", "", 0 },
    { "userinfo", "https://user@a.com/", STRLEN, -1, "", "", 0 },
    { "host confusion via @", "https://a.com@evil.net/", STRLEN, -1, "", "", 0 },
    { "port zero", "https://a.com:0/", STRLEN, -1, "", "", 0 },
    { "empty port", "https://a.com:/", STRLEN, -1, "", "", 0 },
    { "empty host", "https:///x", STRLEN, -1, "", "", 0 },
    { "space in host", "https://a com/", STRLEN, -1, "", "", 0 },
    { "space in path", "https://a.com/ x", STRLEN, -1, "", "", 0 },
    { "CRLF", "https://a.com/\r\n", STRLEN, -1, "", "", 0 },
    { "comma in host", "https://a,b.com/", STRLEN, -1, "", "", 0 },
    { "embedded NUL", "https://a.com\0.evil.net/", 24, -1, "", "", 0 },
    { "trailing dot", "https://a.com./", STRLEN, -1, "", "", 0 },
    { "underscore", "https://a_b.com/", STRLEN, -1, "", "", 0 },
    { "backslash", "https://a.com\\@evil.net/", STRLEN, -1, "", "", 0 },
};

START_TEST(test_referer)
{
    const referer_t *c = &referer_cases[_i];
    ssg_origin_t o;
    int rv;

    memset(&o, 0xa5, sizeof(o));
    rv = ssg_origin_from_referer(c->in, case_len(c->in, c->len), &o);
    ck_assert_msg(rv == c->want, "%s: rv %d", c->name, rv);
    if (rv == 0) {
        ck_assert_msg(strcmp(o.scheme, c->scheme) == 0, "%s: scheme %s", c->name, o.scheme);
        ck_assert_msg(strcmp(o.host, c->host) == 0, "%s: host %s", c->name, o.host);
        ck_assert_msg(o.port == c->port, "%s: port %u", c->name, o.port);
    }
    else {
        ck_assert_msg(is_zeroed(&o), "%s: output not zeroed", c->name);
    }
}
END_TEST

START_TEST(test_referer_long_path)
{
    /* the path has no length limit of its own */
    static char buf[20000];
    ssg_origin_t o, want;

    strcpy(buf, "https://a.com/");
    fill(buf + 14, sizeof(buf) - 15, 'p');
    ck_assert_int_eq(ssg_origin_from_referer(buf, strlen(buf), &o), 0);
    ck_assert_int_eq(ssg_origin_parse("https://a.com", 13, &want), SSG_ORIGIN_OK);
    ck_assert(ssg_origin_equal(&o, &want));
}
END_TEST

/* ------------------------------------------------------------------- is_ip */

typedef struct {
    const char *name;
    const char *origin;
    int want;
} is_ip_t;

static const is_ip_t is_ip_cases[] = {
    { "ipv4", "http://10.0.0.1", 1 },
    { "ipv6", "http://[::1]", 1 },
    { "name", "http://a.com", 0 },
    { "name ending in a digit", "http://a.b2", 0 },
    { "single label", "http://localhost", 0 },
};

START_TEST(test_is_ip)
{
    const is_ip_t *c = &is_ip_cases[_i];
    ssg_origin_t o;

    ck_assert_int_eq(ssg_origin_parse(c->origin, strlen(c->origin), &o), SSG_ORIGIN_OK);
    ck_assert_msg(ssg_origin_host_is_ip(o.host) == c->want, "%s", c->name);
}
END_TEST

START_TEST(test_is_ip_null)
{
    ck_assert_int_eq(ssg_origin_host_is_ip(NULL), 0);
    ck_assert_int_eq(ssg_origin_host_is_ip(""), 0);
}
END_TEST

/* -------------------------------------------------------------------- main */

static Suite *origin_suite(void)
{
    Suite *s = suite_create("ssg_origin");
    TCase *tc;

    tc = tcase_create("parse_good");
    tcase_add_loop_test(tc, test_parse_good, 0, NELTS(parse_good));
    suite_add_tcase(s, tc);

    tc = tcase_create("parse_bad");
    tcase_add_loop_test(tc, test_parse_bad, 0, NELTS(parse_bad));
    suite_add_tcase(s, tc);

    tc = tcase_create("parse_edge");
    tcase_add_test(tc, test_parse_length_limit);
    tcase_add_test(tc, test_parse_label_limit);
    tcase_add_test(tc, test_parse_host_limit);
    tcase_add_test(tc, test_parse_every_byte);
    tcase_add_test(tc, test_status_str);
    suite_add_tcase(s, tc);

    tc = tcase_create("equal");
    tcase_add_loop_test(tc, test_equal, 0, NELTS(equal_cases));
    tcase_add_test(tc, test_equal_null);
    suite_add_tcase(s, tc);

    tc = tcase_create("host_parse");
    tcase_add_loop_test(tc, test_host_parse, 0, NELTS(host_cases));
    suite_add_tcase(s, tc);

    tc = tcase_create("same_as_host");
    tcase_add_loop_test(tc, test_same_as_host, 0, NELTS(same_cases));
    tcase_add_test(tc, test_same_as_host_null);
    suite_add_tcase(s, tc);

    tc = tcase_create("from_referer");
    tcase_add_loop_test(tc, test_referer, 0, NELTS(referer_cases));
    tcase_add_test(tc, test_referer_long_path);
    suite_add_tcase(s, tc);

    tc = tcase_create("host_is_ip");
    tcase_add_loop_test(tc, test_is_ip, 0, NELTS(is_ip_cases));
    tcase_add_test(tc, test_is_ip_null);
    suite_add_tcase(s, tc);

    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(origin_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
