/*
 * ssg_private.h - what the glue files of mod_session_sign share: the
 * per-directory configuration, the per-request verdict, and the functions
 * one concern offers another. Never installed; other modules use
 * mod_session_sign.h.
 *
 *   mod_session_sign.c  module record, startup checks, hook registration
 *   ssg_config.c        per-directory configuration and directives
 *   ssg_session.c       session_encode/decode: sign on write, verify on read
 *   ssg_status.c        the verdict for this request; optional functions
 *   ssg_authz.c         AuthType session-sign, Require session-attr
 *   ssg_login.c         session-sign-login / -logout / -revoke handlers, login form
 *   ssg_revocation.c    revocation records in a socache, the outage policy
 *   ssg_rv_memory.c     a child's memory of recent revocation answers
 *   ssg_rv_handover.c   shmcb revocation records across a restart
 *
 * Log tags: SSG0001..SSG0099, one per call site. No log line carries a
 * secret, a token or a cookie value.
 */
#ifndef SSG_PRIVATE_H
#define SSG_PRIVATE_H

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "ap_expr.h"
#include "mod_session.h"

#include "apr_strings.h"
#include "apr_optional.h"

#include "ssg_token.h"
#include "mod_session_sign.h"

#define SSG_AUTH_TYPE          "session-sign"
#define SSG_LOGIN_HANDLER      "session-sign-login"
#define SSG_LOGOUT_HANDLER     "session-sign-logout"
#define SSG_DEFAULT_CONTEXT    "default"
#define SSG_DEFAULT_USER_KEY   "user"
#define SSG_DEFAULT_USER_FIELD "username"
#define SSG_DEFAULT_PASS_FIELD "password"
#define SSG_REVOKE_HANDLER     "session-sign-revoke"
#define SSG_SID_KEY            "session-sign:sid" /* session_sign_get: the session id */

/* the only symbol this module exports (built with -fvisibility=hidden) */
extern module AP_MODULE_DECLARE_DATA __attribute__((visibility("default"))) session_sign_module;

/* mod_session's optional functions, retrieved at check_config */
extern APR_OPTIONAL_FN_TYPE(ap_session_load) * ssg_session_load_fn;
extern APR_OPTIONAL_FN_TYPE(ap_session_get) * ssg_session_get_fn;
extern APR_OPTIONAL_FN_TYPE(ap_session_set) * ssg_session_set_fn;

typedef struct {
    const char *name;
    ap_expr_info_t *value;
    ap_expr_info_t *cond; /* NULL: always */
} ssg_login_attr_t;

typedef struct {
    ssg_ring_t *ring; /* NULL: signing not configured here */
    int ring_set;
    const char *ring_source;    /* "SessionSignKey" or the key file path */
    const void *ring_directive; /* the directive that built ring */
    apr_int64_t max_lifetime;   /* seconds from issued-at, 0 = none */
    int max_lifetime_set;
    const char *context; /* bound into every MAC */
    int context_set;
    const char *user_key; /* session key holding the identity */
    int user_key_set;
    const char *user_field; /* login form fields */
    const char *pass_field;
    int fields_set;
    apr_array_header_t *login_attrs; /* of ssg_login_attr_t */
    int login_attrs_set;
    int login_cross_site;          /* -1 unset, 0 no, 1 yes */
    apr_array_header_t *providers; /* SessionSignLoginProvider: authn_provider_list */
    const void *providers_directive;
} ssg_dir_conf;

struct ap_socache_provider_t;
struct ap_socache_instance_t;

/* per server (virtual host) */
typedef struct {
    const char *rv_spec; /* SessionSignRevocationCache as written */
    const char *rv_args;
    const struct ap_socache_provider_t *rv_provider;
    struct ap_socache_instance_t *rv_instance; /* NULL: no revocation */
    int rv_inited;
    server_rec *rv_server;
    int rv_allow; /* SessionSignRevocationUnavailable: -1 unset, 0 deny, 1 allow */
    apr_interval_time_t rv_interval; /* SessionSignRevocationInterval; -1 unset */
} ssg_srv_conf;

/* Per top-level request: the verdict on its session. Kept on the first
 * request of an internal-redirect chain, where mod_session_cookie caches
 * the session itself, so re-runs of the decode hooks (with z->encoded NULL)
 * never overwrite a verdict already reached. */
typedef struct {
    int decided;
    int verdict; /* SESSION_SIGN_* */
    const char *reason;
    apr_int64_t iat;           /* issued-at of the verified token */
    int pending;               /* verified; mod_session has not finished decoding */
    const char *verified_user; /* identity at verification time */
    int fresh;                 /* a login: the next save starts a new lifetime */
    int logged;
    /* the scope the verdict was reached in: an internal redirect into a
     * scope with other keys or another context must not inherit it */
    const ssg_ring_t *ring;
    const char *context;
    const char *token;         /* the verified token, to re-check in a new scope */
    char sid[SSG_SID_LEN + 1]; /* the verified token's session id ("" none) */
    int sid_v2;                /* it came from a v2 token (kept on re-signing) */
    apr_int64_t min_iat;       /* a login right after a revocation: issue no earlier */
    /* the last ssg_status(): for which request, and its verified session */
    const request_rec *status_req;
    session_rec *status_z;
} ssg_req_t;

/* ssg_config.c */
void *ssg_create_dir(apr_pool_t *p, char *dir);
void *ssg_merge_dir(apr_pool_t *p, void *basev, void *addv);
void *ssg_create_srv(apr_pool_t *p, server_rec *s);
void *ssg_merge_srv(apr_pool_t *p, void *basev, void *addv);
extern const command_rec ssg_cmds[];
const char *ssg_conf_user_key(const ssg_dir_conf *c);

/* ssg_session.c */
apr_status_t ssg_session_decode(request_rec *r, session_rec *z);
apr_status_t ssg_session_decode_done(request_rec *r, session_rec *z);
apr_status_t ssg_session_encode(request_rec *r, session_rec *z);
/* the context this request signs and verifies with; *own is the context of
 * the .htaccess files that configure its sessions, or NULL (ssg_session.c) */
const char *ssg_request_context(request_rec *r, const ssg_dir_conf *c, const char **own);

/* ssg_status.c */
request_rec *ssg_top(request_rec *r);
ssg_req_t *ssg_req(request_rec *r);
void ssg_log_refusal(request_rec *r, ssg_req_t *st);
int ssg_status(request_rec *r, const char **user, const char **reason);
int ssg_verified(int status);
void ssg_register_optional_fns(void);

/* ssg_authz.c */
void ssg_register_authz_hooks(apr_pool_t *p);

/* ssg_login.c */
int ssg_login_handler(request_rec *r);
int ssg_logout_handler(request_rec *r);
int ssg_revoke_handler(request_rec *r);

/* ssg_rv_memory.c: a child's fixed tables of recent answers. recall: 1
 * and *value if key was checked within interval, or if another thread is
 * refreshing it (at most 0.5 s, not in an outage); 0 when this thread must
 * ask the cache (it has claimed the refresh). */
#define SSG_RV_MEMORY_KEY_MAX 80
#define SSG_RV_SIDS           0
#define SSG_RV_USERS          1
typedef struct ssg_rv_memory ssg_rv_memory_t;
ssg_rv_memory_t *ssg_rv_memory_create(apr_pool_t *p);
void ssg_rv_memory_lock(ssg_rv_memory_t *m);
void ssg_rv_memory_unlock(ssg_rv_memory_t *m);
int ssg_rv_recall_locked(ssg_rv_memory_t *m, int table, const char *key, apr_time_t now,
                         apr_interval_time_t interval, int outage, apr_int64_t *value);
int ssg_rv_recall(ssg_rv_memory_t *m, int table, const char *key, apr_time_t now,
                  apr_interval_time_t interval, int outage, apr_int64_t *value);
void ssg_rv_remember(ssg_rv_memory_t *m, int table, const char *key, apr_time_t now,
                     apr_int64_t value);

/* ssg_rv_handover.c: for a shmcb cache, at post_config */
void ssg_rv_handover_restore(ssg_srv_conf *sc, server_rec *s, apr_pool_t *pconf);
void ssg_rv_handover_keep(ssg_srv_conf *sc, server_rec *s, apr_pool_t *pconf,
                          struct apr_global_mutex_t **mutex);

/* ssg_revocation.c */
const char *ssg_revocation_set_cache(cmd_parms *cmd, ssg_srv_conf *sc, const char *arg);
int ssg_revocation_pre_config(apr_pool_t *pconf);
int ssg_revocation_post_config(apr_pool_t *pconf, server_rec *base);
void ssg_revocation_child_init(apr_pool_t *p, server_rec *s);
int ssg_revocation_enabled(request_rec *r);
/* SESSION_SIGN_VERIFIED, _REVOKED or _UNAVAILABLE */
int ssg_revocation_check(request_rec *r, const char *sid, const char *user, apr_int64_t iat);
/* the same outside a request (open tunnels): the per-child memory and the
 * interval are shared with the requests' checks */
int ssg_revocation_check_server(server_rec *s, apr_pool_t *p, const char *sid, const char *user,
                                apr_int64_t iat);
int ssg_revocation_enabled_server(server_rec *s);
apr_interval_time_t ssg_revocation_interval(server_rec *s);
int ssg_revocation_allows_outage(request_rec *r);
apr_status_t ssg_revocation_revoke_session(request_rec *r, const char *sid, apr_time_t until);
apr_status_t ssg_revocation_revoke_user(request_rec *r, const char *user, apr_int64_t t,
                                        apr_time_t until);
apr_int64_t ssg_revocation_user_since(request_rec *r, const char *user);

#endif /* SSG_PRIVATE_H */
