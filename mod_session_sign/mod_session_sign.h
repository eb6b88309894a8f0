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

/** What an open tunnel needs to know about the session it was opened with
 * (session_sign_tunnel_info); strings live in the request's pool. */
typedef struct {
    const char *sid;              /* the session id (v2 tokens), or NULL */
    const char *user;             /* the identity (SessionSignUserKey), or NULL */
    apr_int64_t iat;              /* issued-at of the token, seconds */
    apr_time_t lifetime_end;      /* first instant SessionSignMaxLifetime refuses it; 0 none */
    apr_time_t expiry;            /* the SessionMaxAge expiry it carried; 0 none */
    int revocable;                /* SessionSignRevocationCache applies to it */
    apr_interval_time_t interval; /* SessionSignRevocationInterval */
} session_sign_tunnel_t;

/**
 * The session of this request, for a connection that outlives it (a
 * WebSocket tunnel): its id, identity, issued-at and deadlines.
 * @pre  session_sign_status(r, ...) returned SESSION_SIGN_VERIFIED or
 *       SESSION_SIGN_VERIFIED_OLD_KEY
 * @param r   the request (the upgrade)
 * @param out filled in
 * @return the status of session_sign_status(); out is filled only when verified
 */
APR_DECLARE_OPTIONAL_FN(int, session_sign_tunnel_info,
                        (request_rec * r, session_sign_tunnel_t *out));

/**
 * Is the session (sid, user, iat) revoked now? Outside any request: uses the
 * same per-child memory and SessionSignRevocationInterval as the requests, so
 * N callers asking about one session within an interval cost the cache
 * operations of one. Thread-safe.
 * @param s   the server (virtual host) the session was verified in
 * @param p   a pool for temporary allocations
 * @return SESSION_SIGN_VERIFIED (not revoked), SESSION_SIGN_REVOKED or
 *         SESSION_SIGN_UNAVAILABLE (the cache cannot be asked)
 */
APR_DECLARE_OPTIONAL_FN(int, session_sign_tunnel_check,
                        (server_rec * s, apr_pool_t *p, const char *sid, const char *user,
                         apr_int64_t iat));

/** @return a short name for a status ("verified", "absent", ...). */
APR_DECLARE_OPTIONAL_FN(const char *, session_sign_status_name, (int status));

#endif /* MOD_SESSION_SIGN_H */
