/*
 * wsa_forward.c - the identity headers the backend receives: every client
 * copy removed (also spelled with '_' for '-', and from Connection as
 * mod_proxy reads it), then the verified session's values set (from
 * mod_session_sign, or from the Express app's stored session).
 */
#include "wsa_private.h"

APLOG_USE_MODULE(ws_auth);

/* Is k, the name of a client header, one of ours once '_' and '-' are
 * alike and case is ignored (X_Remote_User, x-remote-user...)? */
static int wsa_owned_header(const wsa_dir_conf *conf, const char *k)
{
    int i;

    for (i = 0; i < conf->nnames; i++) {
        if (wsa_header_name_alike(k, conf->names[i])) {
            return 1;
        }
    }
    return conf->enabled == 1 &&
           (wsa_header_name_alike(k, "Session") || wsa_header_name_alike(k, "X-Replace-Session"));
}

/* Remove every client-sent copy of the headers we own, also their spellings
 * with '_' for '-' (a backend that folds them would read a forged one), and
 * the names of our headers from Connection, read exactly as mod_proxy reads
 * it: a client that lists "X-Remote-User" there would otherwise have the
 * proxy strip our forwarded copy as a hop-by-hop header (CVE-2022-31813).
 * One pass over the request headers; no work proportional to anything but
 * their size (issue 13.3: no rebuild per token). */
void wsa_strip(request_rec *r, const wsa_dir_conf *conf)
{
    const apr_array_header_t *arr = apr_table_elts(r->headers_in);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    apr_array_header_t *drop = NULL;
    int i, conn_named = 0;

    for (i = 0; i < arr->nelts; i++) {
        const char *k = e[i].key;

        if (!k) {
            continue;
        }
        if (wsa_owned_header(conf, k)) {
            if (!drop) {
                drop = apr_array_make(r->pool, 4, sizeof(const char *));
            }
            APR_ARRAY_PUSH(drop, const char *) = k;
        }
        else if (conf->nnames && !strcasecmp(k, "Connection") &&
                 wsa_connection_filter(e[i].val, conf->names, conf->nnames, NULL) > 0) {
            conn_named = 1;
        }
    }
    if (conn_named) {
        /* rebuild every Connection line without our names, each into a
         * buffer of its own size (mod_proxy reads them all) */
        apr_array_header_t *kept = apr_array_make(r->pool, 2, sizeof(char *));
        for (i = 0; i < arr->nelts; i++) {
            if (e[i].key && e[i].val && !strcasecmp(e[i].key, "Connection")) {
                char *out = apr_palloc(r->pool, strlen(e[i].val) + 1);
                wsa_connection_filter(e[i].val, conf->names, conf->nnames, out);
                if (*out) {
                    APR_ARRAY_PUSH(kept, char *) = out;
                }
            }
        }
        apr_table_unset(r->headers_in, "Connection");
        for (i = 0; i < kept->nelts; i++) {
            apr_table_addn(r->headers_in, "Connection", APR_ARRAY_IDX(kept, i, char *));
        }
    }
    for (i = 0; drop && i < drop->nelts; i++) {
        apr_table_unset(r->headers_in, APR_ARRAY_IDX(drop, i, const char *));
    }
}

void wsa_forward(request_rec *r, const wsa_dir_conf *conf, const wsa_express_verdict_t *ev)
{
    const wsa_forward_t *fw;
    int i;

    if (!conf->forward) {
        return;
    }
    fw = (const wsa_forward_t *)conf->forward->elts;
    for (i = 0; i < conf->forward->nelts; i++) {
        /* from the session the gate just verified: mod_session_sign's, or
         * the Express app's stored one (a dotted JSON path) */
        const char *v = !ev      ? wsa_sign_get(r, fw[i].key)
                        : i == 0 ? ev->user /* read (and judged) by the gate already */
                                 : wsa_express_value(r, ev, fw[i].key);
        if (!v || !*v) {
            continue; /* stripped already: backend sees nothing */
        }
        if (!wsa_header_value_safe(v)) {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                          "WSA0005: session value of '%s' is not a safe header "
                          "value; %s not forwarded",
                          fw[i].key, fw[i].header);
            continue;
        }
        apr_table_set(r->headers_in, fw[i].header, v);
    }
}
