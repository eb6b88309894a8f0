/*
 * mod_session_sign.h - what other modules may ask mod_session_sign.
 *
 * mod_session_sign registers optional functions. Retrieve them in an
 * optional_fn_retrieve hook (or post_config) and refuse to start without them:
 *
 *   static APR_OPTIONAL_FN_TYPE(session_sign_status) *sign_status;
 *   sign_status = APR_RETRIEVE_OPTIONAL_FN(session_sign_status);
 *
 *   const char *user, *reason;
 *   int st = sign_status(r, &user, &reason);
 *   if (st == SESSION_SIGN_VERIFIED || st == SESSION_SIGN_VERIFIED_OLD_KEY) ...
 */
#ifndef MOD_SESSION_SIGN_H
#define MOD_SESSION_SIGN_H

#include "apr_optional.h"
#include "httpd.h"

/* How this request's session fared. */
#define SESSION_SIGN_ABSENT           0 /* no session presented */
#define SESSION_SIGN_VERIFIED         1 /* signed with the current key */
#define SESSION_SIGN_VERIFIED_OLD_KEY 2 /* signed with an older key; re-signed on save */
#define SESSION_SIGN_INVALID          3 /* tampered, malformed, unknown key, other context, future */
#define SESSION_SIGN_EXPIRED          4 /* SessionMaxAge or SessionSignMaxLifetime exceeded */
#define SESSION_SIGN_REVOKED          5 /* logged out, or its user's sessions revoked */
#define SESSION_SIGN_UNAVAILABLE      6 /* the revocation cache cannot be asked (policy deny) */
#define SESSION_SIGN_UNCONFIGURED                                                                  \
    -1 /* no SessionSignKey/SessionSignKeyFile in this scope,
                                           * or mod_session not enabled/configured here */

/**
 * Load (if not yet loaded) and report this request's session.
 * @param r      the request
 * @param user   if not NULL, set to the identity held under SessionSignUserKey
 *               when the session verified and the value is non-empty, else NULL
 * @param reason if not NULL, set to a short, log-safe reason ("bad signature",
 *               "no session", ...)
 * @return one of the SESSION_SIGN_* values above
 */
APR_DECLARE_OPTIONAL_FN(int, session_sign_status,
                        (request_rec * r, const char **user, const char **reason));

/**
 * A value of this request's session, only if the session verified.
 * Cheaper than ap_session_load() + ap_session_get() after session_sign_status()
 * on the same request: the session it loaded is reused.
 * @param r   the request
 * @param key the session key; "session-sign:sid" asks for the session id
 *            of a v2 token (SessionSignRevocationCache), which is no
 *            session entry: mod_session and applications never see it
 * @return the value, or NULL if the session did not verify (or is not
 *         configured here) or holds no such key
 */
APR_DECLARE_OPTIONAL_FN(const char *, session_sign_get, (request_rec * r, const char *key));

/** @return a short name for a status ("verified", "absent", ...). */
APR_DECLARE_OPTIONAL_FN(const char *, session_sign_status_name, (int status));

#endif /* MOD_SESSION_SIGN_H */
