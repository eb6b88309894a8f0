/*
 * wsa_private.h - what the glue files of mod_ws_auth share. Never installed.
 *
 *   mod_ws_auth.c   module record, startup checks, hook registration
 *   wsa_config.c    per-directory configuration and directives
 *   wsa_gate.c      the gate: session verdict, Origin check, refusals
 *   wsa_forward.c   the identity headers: client copies stripped, ours set
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
#include "wsa_stream.h"
#include "ssg_origin.h"
#include "mod_session_sign.h"

/* the only symbol this module exports (built with -fvisibility=hidden) */
extern module AP_MODULE_DECLARE_DATA __attribute__((visibility("default"))) ws_auth_module;

#define WSA_ENV           "WS_AUTH"
#define WSA_SCOPE_UNSET   0
#define WSA_SCOPE_ALL     1
#define WSA_SCOPE_UPGRADE 2
#define WSA_MISSING_UNSET 0
#define WSA_MISSING_ALLOW 1
#define WSA_MISSING_DENY  2
#define WSA_NOTE_END      "ws-tunnel-end" /* %{ws-tunnel-end}n */

/* mod_session_sign's optional functions, retrieved at check_config */
extern APR_OPTIONAL_FN_TYPE(session_sign_status) * wsa_sign_status;
extern APR_OPTIONAL_FN_TYPE(session_sign_get) * wsa_sign_get;
extern APR_OPTIONAL_FN_TYPE(session_sign_tunnel_info) * wsa_sign_tunnel_info;
extern APR_OPTIONAL_FN_TYPE(session_sign_tunnel_check) * wsa_sign_tunnel_check;
/* only asked whether it is there: mod_session is loaded */
extern APR_OPTIONAL_FN_TYPE(ap_session_load) * wsa_session_load;
extern int wsa_enabled_somewhere;

typedef struct {
    const char *header;
    const char *key;
} wsa_forward_t;

typedef struct {
    int enabled;                 /* -1 unset, 0 off, 1 on */
    int scope;                   /* WSA_SCOPE_* */
    apr_array_header_t *origins; /* wsa_origin_pattern_t; NULL: same origin */
    int missing;                 /* WSA_MISSING_* */
    apr_array_header_t *forward; /* wsa_forward_t */
    const char **names;          /* forward[].header, for wsa_strip */
    int nnames;
    int lifetime; /* WSA_LIFETIME_* (core/wsa_stream.h); -1 unset: absolute */
} wsa_dir_conf;

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
void wsa_forward(request_rec *r, const wsa_dir_conf *conf);

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
