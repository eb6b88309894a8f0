/* mod_min_gate - the benchmark's reference "minimal HMAC-cookie gate" (M).
 *
 * NOT a product module: built by `make bench-tools` only, never installed.
 * Issue 5 sets S's guarded-GET target against "the minimal gate cost ~5 us:
 * beat it". M is that minimal gate, measured in the same run as P and S so
 * the report can say what any correct cookie gate costs on this machine and
 * what S adds on top of it (mod_session's framework and our glue: sessions
 * through mod_session, SessionMaxAge, re-signing, Origin, WS_AUTH, ...).
 *
 * What it does, and nothing more: with `MinGate On` in a <Location>, every
 * request needs a "session" cookie holding a token of mod_session_sign's
 * format (context "default") that verifies with MinGateKey through the same core (ssg_cookie_find, ssg_verify:
 * precomputed HMAC states, constant-time compare, strict parsing), and its
 * payload must hold a "user" value (mod_session's "k=v&k=v" encoding, an
 * "expiry" in the past refuses it); that user, if it is a safe header value,
 * is forwarded as X-Remote-User. Anything else: 401. */
#include "httpd.h"
#include "http_config.h"
#include "http_protocol.h"
#include "http_request.h"
#include "apr_strings.h"
#include "ssg_token.h"
#include "ssg_util.h"

#include <string.h>

/* the only symbol it exports (built with -fvisibility=hidden) */
extern module AP_MODULE_DECLARE_DATA __attribute__((visibility("default"))) min_gate_module;

#define MG_COOKIE  "session"
#define MG_HEADER  "X-Remote-User"
#define MG_CONTEXT "default"
#define MG_SKEW    60

typedef struct {
    int on; /* -1 unset */
    ssg_ring_t *ring;
} mg_conf;

static void *mg_create(apr_pool_t *p, char *dir)
{
    mg_conf *c = apr_pcalloc(p, sizeof(*c));

    (void)dir;
    c->on = -1;
    return c;
}

static void *mg_merge(apr_pool_t *p, void *basev, void *addv)
{
    mg_conf *c = apr_pcalloc(p, sizeof(*c)), *base = basev, *add = addv;

    c->on = add->on != -1 ? add->on : base->on;
    c->ring = add->ring ? add->ring : base->ring;
    return c;
}

static const char *mg_set_key(cmd_parms *cmd, void *dconf, const char *key)
{
    mg_conf *c = dconf;

    if (ssg_ring_create(cmd->pool, &c->ring) != APR_SUCCESS) {
        return "MinGateKey: out of memory";
    }
    return ssg_ring_add(c->ring, key, strlen(key));
}

static const char *mg_set_on(cmd_parms *cmd, void *dconf, int flag)
{
    (void)cmd;
    ((mg_conf *)dconf)->on = flag;
    return NULL;
}

/* The value of key `want` in "k=v&k=v" (the last one wins, as in
 * mod_session), '%'/'+' decoded; NULL if absent or empty. */
static char *mg_pair(apr_pool_t *p, const char *s, const char *want)
{
    apr_size_t wl = strlen(want);
    const char *hit = NULL, *end = NULL;

    while (*s) {
        const char *amp = strchr(s, '&');
        const char *e = amp ? amp : s + strlen(s);

        if ((apr_size_t)(e - s) > wl && !strncmp(s, want, wl) && s[wl] == '=') {
            hit = s + wl + 1;
            end = e;
        }
        if (!amp) {
            break;
        }
        s = amp + 1;
    }
    if (!hit || hit == end) {
        return NULL;
    }
    {
        char *v = apr_pstrmemdup(p, hit, end - hit);

        if (strpbrk(v, "%+") && ap_unescape_urlencoded(v) != OK) {
            return NULL; /* bad escapes, %00 among them */
        }
        return v;
    }
}

static int mg_gate(request_rec *r)
{
    mg_conf *c = ap_get_module_config(r->per_dir_config, &min_gate_module);
    const char *h, *val;
    char *user, *exp;
    const unsigned char *u;
    apr_size_t vlen;
    ssg_result_t res;

    if (c->on != 1) {
        return OK;
    }
    if (!c->ring) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    h = apr_table_get(r->headers_in, "Cookie");
    if (!h || ssg_cookie_find(h, MG_COOKIE, &val, &vlen) != SSG_COOKIE_FOUND) {
        return HTTP_UNAUTHORIZED;
    }
    if (ssg_verify(r->pool, c->ring, MG_CONTEXT, apr_time_sec(r->request_time), 0, MG_SKEW, val,
                   vlen, &res) != SSG_OK) {
        return HTTP_UNAUTHORIZED;
    }
    exp = mg_pair(r->pool, res.payload, "expiry");
    if (exp && apr_atoi64(exp) < r->request_time) {
        return HTTP_UNAUTHORIZED;
    }
    user = mg_pair(r->pool, res.payload, "user");
    if (!user) {
        return HTTP_UNAUTHORIZED;
    }
    for (u = (const unsigned char *)user; *u; u++) {
        if (*u < 0x20 || *u == 0x7f) {
            return HTTP_UNAUTHORIZED; /* never a CR/LF into a header */
        }
    }
    /* replaces any X-Remote-User the client sent (a refused request never
     * reaches the backend) */
    apr_table_setn(r->headers_in, MG_HEADER, user);
    return OK;
}

static void mg_hooks(apr_pool_t *p)
{
    (void)p;
    ap_hook_post_perdir_config(mg_gate, NULL, NULL, APR_HOOK_FIRST);
}

static const command_rec mg_cmds[] = {
    AP_INIT_FLAG("MinGate", mg_set_on, NULL, ACCESS_CONF,
                 "On: refuse (401) any request without a valid signed session cookie"),
    AP_INIT_TAKE1("MinGateKey", mg_set_key, NULL, RSRC_CONF | ACCESS_CONF,
                  "the signing secret (mod_session_sign's SessionSignKey)"),
    {NULL}};

AP_DECLARE_MODULE(min_gate) = {STANDARD20_MODULE_STUFF, mg_create, mg_merge, NULL, NULL,
                               mg_cmds, mg_hooks, AP_MODULE_FLAG_NONE};
