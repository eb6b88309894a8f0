/*
 * wsa_sign.c - WSAuthForwardSignature: one header that MACs the identity
 * headers just forwarded, the method, the path and the time, so a backend
 * reachable around Apache can refuse a forged X-Remote-User
 * (docs/forward-signature.md; the MAC is core/wsa_fsig.c).
 */
#include "wsa_private.h"

APLOG_USE_MODULE(ws_auth);

void wsa_sign_forwarded(request_rec *r, const wsa_dir_conf *conf)
{
    wsa_fsig_hdr_t h[WSA_FSIG_MAX_HEADERS];
    const char *path = r->parsed_uri.path;
    int i, n = 0;
    char *v;

    if (!conf->fsig_header) {
        return;
    }
    for (i = 0; conf->forward && i < conf->forward->nelts && n < WSA_FSIG_MAX_HEADERS; i++) {
        const wsa_forward_t *fw = &((const wsa_forward_t *)conf->forward->elts)[i];
        const char *val = apr_table_get(r->headers_in, fw->header);
        int j, dup = 0;
        for (j = 0; j < n; j++) {
            dup |= !strcasecmp(h[j].name, fw->header);
        }
        if (val && !dup) {
            h[n].name = fw->header;
            h[n].value = val;
            n++;
        }
    }
    v = wsa_fsig_make(r->pool, conf->fsig_keys, apr_time_sec(r->request_time), r->method,
                      path && *path ? path : "/", h, n);
    if (!v) {
        /* cannot happen for a request httpd parsed; the backend then sees no
         * signature and must refuse */
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "WSA0030: could not sign the forwarded identity of %s; %s not sent",
                      ap_escape_logitem(r->pool, r->uri), conf->fsig_header);
        return;
    }
    apr_table_setn(r->headers_in, conf->fsig_header, v);
}
