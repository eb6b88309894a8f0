/*
 * wsa_private.h - what the glue files of mod_ws_auth share. Never installed.
 *
 *   mod_ws_auth.c   module record, startup checks, hook registration
 *   wsa_config.c    per-directory configuration and directives
 *   wsa_gate.c      the gate: session verdict, Origin check, refusals
 *   wsa_forward.c   the identity headers: client copies stripped, ours set
 *   wsa_express.c   WSAuthSource express: the app's express-session cookie
 *   wsa_store.c     the session store connect-redis writes (hiredis, per child)
 *   wsa_sign.c      WSAuthForwardSignature: the header the backend verifies
 *   wsa_tunnel.c    open tunnels end with their session (WSAuthTunnelLifetime)
 *   wsa_timer.c     the per-child timer that ends idle tunnels
 *
 * Log tags: WSA0001..WSA0099, one per call site. No log line carries a
 * cookie value or a secret.
 */
#ifndef WSA_PRIVATE_H
#define WSA_PRIVATE_H

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "mod_session.h"

#include "apr_strings.h"
#include "apr_optional.h"

#include "wsa_core.h"
#include "wsa_express.h"
#include "wsa_fsig.h"
#include "wsa_stream.h"
#include "ssg_origin.h"
#include "mod_session_sign.h"

/* the only symbol this module exports (built with -fvisibility=hidden) */
extern module AP_MODULE_DECLARE_DATA __attribute__((visibility("default"))) ws_auth_module;

#define WSA_ENV              "WS_AUTH"
#define WSA_SCOPE_UNSET      0
#define WSA_SCOPE_ALL        1
#define WSA_SCOPE_UPGRADE    2
#define WSA_MISSING_UNSET    0
#define WSA_MISSING_ALLOW    1
#define WSA_MISSING_DENY     2
#define WSA_SOURCE_UNSET     0
#define WSA_SOURCE_SSG       1 /* mod_session_sign (default) */
#define WSA_SOURCE_EXPRESS   2
#define WSA_EXPRESS_COOKIE   "connect.sid"
#define WSA_STORE_TIMEOUT_MS 500
#define WSA_FSIG_HEADER_MAX  16
#define WSA_NOTE_END         "ws-tunnel-end" /* %{ws-tunnel-end}n */

/* mod_session_sign's optional functions, retrieved at check_config */
extern APR_OPTIONAL_FN_TYPE(session_sign_status) * wsa_sign_status;
extern APR_OPTIONAL_FN_TYPE(session_sign_get) * wsa_sign_get;
extern APR_OPTIONAL_FN_TYPE(session_sign_tunnel_info) * wsa_sign_tunnel_info;
extern APR_OPTIONAL_FN_TYPE(session_sign_tunnel_check) * wsa_sign_tunnel_check;
/* only asked whether it is there: mod_session is loaded */
extern APR_OPTIONAL_FN_TYPE(ap_session_load) * wsa_session_load;
extern int wsa_enabled_somewhere;
extern int wsa_express_somewhere;
extern int wsa_express_keys_somewhere;

typedef struct {
    const char *header;
    const char *key;
} wsa_forward_t;

/* WSAuthExpressStore: one Redis server and the keys connect-redis writes */
typedef struct wsa_store_t {
    const char *url; /* as configured, for the log (no password is accepted) */
    const char *host;
    int port;
    int db;
    const char *prefix;
    int timeout_ms;
    struct apr_reslist_t *conns; /* per child (child_init) */
    struct wsa_store_t *next;    /* every store of the configuration */
} wsa_store_t;
extern wsa_store_t *wsa_stores; /* every WSAuthExpressStore (wsa_store.c) */

typedef struct {
    int enabled;                 /* -1 unset, 0 off, 1 on */
    int scope;                   /* WSA_SCOPE_* */
    apr_array_header_t *origins; /* wsa_origin_pattern_t; NULL: same origin */
    int missing;                 /* WSA_MISSING_* */
    apr_array_header_t *forward; /* wsa_forward_t */
    const char **names;          /* forward[].header (+ fsig_header), for wsa_strip */
    int nnames;
    int source;              /* WSA_SOURCE_* */
    const char *exp_cookie;  /* NULL: WSA_EXPRESS_COOKIE */
    wsa_keys_t *exp_keys;    /* WSAuthExpressSecretFile */
    wsa_store_t *store;      /* WSAuthExpressStore, or NULL */
    const char *fsig_header; /* WSAuthForwardSignature */
    wsa_keys_t *fsig_keys;
    int lifetime; /* WSA_LIFETIME_* (core/wsa_stream.h); -1 unset: absolute */
} wsa_dir_conf;

/* the express source's verdict, shared by the gate and the forwarding */
typedef struct {
    int st;             /* SESSION_SIGN_* */
    const char *reason; /* the WS_AUTH value when refused */
    const char *detail; /* log-safe, never the cookie or the id */
    const char *user;   /* %u: the first forwarded value, or NULL */
    void *session;      /* the stored session (json_t *), or NULL */
} wsa_express_verdict_t;

typedef struct wsa_tunnel_t wsa_tunnel_t;

/* What the gate decided for one request */
typedef struct {
    int guarded;
    int status;         /* OK or the refusal status */
    const char *reason; /* the WS_AUTH value */
    const char *user;
    wsa_tunnel_t *tunnel; /* an upgrade whose tunnel ends with its session */
} wsa_verdict_t;

/* wsa_config.c */
void *wsa_create_dir(apr_pool_t *p, char *dir);
void *wsa_merge_dir(apr_pool_t *p, void *basev, void *addv);
extern const command_rec wsa_cmds[];

/* wsa_forward.c */
void wsa_strip(request_rec *r, const wsa_dir_conf *conf);
void wsa_forward(request_rec *r, const wsa_dir_conf *conf, const wsa_express_verdict_t *ev);

/* wsa_express.c */
void wsa_express_check(request_rec *r, const wsa_dir_conf *conf, wsa_express_verdict_t *v);
/** the value at a dotted path of the verified stored session, or NULL */
const char *wsa_express_value(request_rec *r, const wsa_express_verdict_t *v, const char *path);

/* wsa_store.c */
#define WSA_STORE_FOUND   0
#define WSA_STORE_MISSING 1 /* no such key: no live session */
#define WSA_STORE_DOWN    2 /* cannot connect, time-out, error reply */
const char *wsa_store_parse(apr_pool_t *p, const char *const *argv, int argc, wsa_store_t **out);
int wsa_store_get(request_rec *r, wsa_store_t *s, const char *id, apr_size_t id_len,
                  const char **val, apr_size_t *len);
apr_status_t wsa_store_child_init(apr_pool_t *p, server_rec *s);

/* wsa_sign.c */
void wsa_sign_forwarded(request_rec *r, const wsa_dir_conf *conf);

/* wsa_gate.c */
int wsa_gate(request_rec *r);
int wsa_fixups(request_rec *r);
int wsa_log_transaction(request_rec *r);

/* wsa_tunnel.c */
void wsa_tunnel_register_hooks(void);
void wsa_tunnel_prepare(request_rec *r, const wsa_dir_conf *conf, wsa_verdict_t *v);
void wsa_tunnel_log(request_rec *r, wsa_verdict_t *v);

/* wsa_timer.c */
void wsa_timer_child_init(apr_pool_t *p, server_rec *s);

#endif /* WSA_PRIVATE_H */
