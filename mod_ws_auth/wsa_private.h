/*
 * wsa_private.h - what the glue files of mod_ws_auth share. Never installed.
 *
 *   mod_ws_auth.c   module record, startup checks, hook registration
 *   wsa_config.c    per-directory configuration and directives
 *   wsa_gate.c      the gate: session verdict, Origin check, refusals
 *   wsa_forward.c   the identity headers: client copies stripped, ours set
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

/* mod_session_sign's optional functions, retrieved at check_config */
extern APR_OPTIONAL_FN_TYPE(session_sign_status) * wsa_sign_status;
extern APR_OPTIONAL_FN_TYPE(session_sign_get) * wsa_sign_get;
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
} wsa_dir_conf;

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

#endif /* WSA_PRIVATE_H */
