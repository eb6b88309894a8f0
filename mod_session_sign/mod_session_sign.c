/*
 * mod_session_sign.c - the module record, its startup checks and the hook
 * registrations: signed sessions for Apache httpd 2.4's mod_session.
 *
 * Every session mod_session writes is signed, every session read back is
 * verified (ssg_session.c); AuthType session-sign and Require session-attr
 * (ssg_authz.c); login and logout handlers (ssg_login.c); the verdict for
 * other modules (ssg_status.c); directives (ssg_config.c). The token, key
 * ring, cookie reader and Origin rules are the pure core in core/.
 * Other modules are reached only through their optional functions and
 * documented hooks.
 */
#include "ssg_private.h"

APR_OPTIONAL_FN_TYPE(ap_session_load) *ssg_session_load_fn = NULL;
APR_OPTIONAL_FN_TYPE(ap_session_get) *ssg_session_get_fn = NULL;
APR_OPTIONAL_FN_TYPE(ap_session_set) *ssg_session_set_fn = NULL;

/* check_config runs for `apache2 -t` too */
static int ssg_check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    (void)pconf;
    (void)plog;
    (void)ptemp;
    ssg_session_load_fn = APR_RETRIEVE_OPTIONAL_FN(ap_session_load);
    ssg_session_get_fn = APR_RETRIEVE_OPTIONAL_FN(ap_session_get);
    ssg_session_set_fn = APR_RETRIEVE_OPTIONAL_FN(ap_session_set);
    if (!ssg_session_load_fn || !ssg_session_get_fn || !ssg_session_set_fn) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
                     "SSG0050: mod_session_sign needs mod_session: add "
                     "LoadModule session_module before mod_session_sign");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

static int ssg_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    (void)plog;
    (void)ptemp;
    return ssg_revocation_pre_config(pconf);
}

static int ssg_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    (void)plog;
    (void)ptemp;
    return ssg_revocation_post_config(pconf, s);
}

static void ssg_child_init(apr_pool_t *p, server_rec *s)
{
    ssg_revocation_child_init(p, s);
}

static void ssg_register_hooks(apr_pool_t *p)
{
    static const char *const after_session[] = {"mod_session.c", NULL};

    /* outermost layer: signs whatever mod_session(_crypto) produced */
    ap_hook_session_encode(ssg_session_encode, NULL, NULL, APR_HOOK_REALLY_LAST);
    /* innermost on the way in: nothing reads a payload we did not verify */
    ap_hook_session_decode(ssg_session_decode, NULL, NULL, APR_HOOK_REALLY_FIRST);
    /* after mod_session's own decoder: judge SessionMaxAge, note the identity */
    ap_hook_session_decode(ssg_session_decode_done, after_session, NULL, APR_HOOK_REALLY_LAST);

    /* AuthType session-sign, Require session-attr, the 403 for refused users */
    ssg_register_authz_hooks(p);

    ap_hook_handler(ssg_login_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(ssg_logout_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(ssg_revoke_handler, NULL, NULL, APR_HOOK_MIDDLE);
    /* the revocation cache: its mutex type, its instances, each child's memory */
    ap_hook_pre_config(ssg_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(ssg_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(ssg_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    /* mod_session's optional functions must exist: refuse to start without */
    ap_hook_check_config(ssg_check_config, NULL, NULL, APR_HOOK_MIDDLE);

    ssg_register_optional_fns();
}

AP_DECLARE_MODULE(session_sign) = {STANDARD20_MODULE_STUFF, ssg_create_dir,     ssg_merge_dir,
                                   ssg_create_srv,          ssg_merge_srv,      ssg_cmds,
                                   ssg_register_hooks,      AP_MODULE_FLAG_NONE};
