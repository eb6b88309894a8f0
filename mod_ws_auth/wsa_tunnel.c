/*
 * wsa_tunnel.c - open tunnels end with their session (WSAuthTunnelLifetime):
 * at SessionSignMaxLifetime, at the SessionMaxAge expiry (mode session),
 * or when the session is revoked, idle or busy.
 *
 * After the 101 no request hook runs: the tunnel is mod_proxy's poll loop
 * (ap_proxy_tunnel_run, or mod_proxy_wstunnel's own) in the request's
 * thread. Three connection filters ride along, in that same thread:
 *
 *   WSA_TUNNEL_OUT  client connection, output: follows the backend's frame
 *                   boundaries from their headers (core/wsa_stream.c) and
 *                   compares the deadline once per brigade; ending, it
 *                   puts a 1008 close frame at the next boundary and drops
 *                   what follows.
 *   WSA_TUNNEL_IN   client connection, input: ending, answers EOF.
 *   WSA_TUNNEL_BACK backend connection, input: ending, answers EOF (after
 *                   the close frame, where one fits).
 *
 * The per-child timer (wsa_timer.c) ends idle tunnels without writing to
 * any socket: it shuts down the read side of the tunnel's own duplicate of
 * the backend socket, the tunnel's poll returns, and the tunnel's thread
 * writes the close frame here. The client socket has one writer, always.
 * Where the backend connection is met: mod_proxy's optional create_req
 * hook (mod_proxy_http, also under HTTP/2), or pre_connection in the
 * upgrade's thread (mod_proxy_wstunnel, a new connection per tunnel).
 */
#include "wsa_tunnel.h"

#include "http_connection.h"

#include <fcntl.h>

APLOG_USE_MODULE(ws_auth);

static ap_filter_rec_t *wsa_out_handle, *wsa_in_handle, *wsa_back_handle;
/* mod_proxy_wstunnel makes a new backend connection per tunnel and no
 * request of its own: the upgrade being handled by this thread */
static __thread wsa_tunnel_t *wsa_pending = NULL;

APR_OPTIONAL_FN_TYPE(session_sign_tunnel_info) *wsa_sign_tunnel_info = NULL;
APR_OPTIONAL_FN_TYPE(session_sign_tunnel_check) *wsa_sign_tunnel_check = NULL;

static const char *wsa_end_reason(apr_uint32_t e)
{
    return e == WSA_END_REVOKED ? "session revoked" : "session ended";
}

/* ------------------------------------------------------------------ */
/* the tunnel's thread                                                 */

/* Is the tunnel to end? One comparison per call, and an atomic read. */
static apr_uint32_t wsa_ending(wsa_tunnel_t *t)
{
    apr_uint32_t e = apr_atomic_read32(&t->ending);

    if (e == WSA_END_NONE && t->deadline && apr_time_now() >= t->deadline) {
        apr_atomic_cas32(&t->ending, WSA_END_EXPIRED, WSA_END_NONE);
        e = apr_atomic_read32(&t->ending);
    }
    return e;
}

static void wsa_close_buckets(wsa_tunnel_t *t, apr_bucket_alloc_t *ba, apr_bucket_brigade *bb,
                              apr_bucket *before)
{
    unsigned char *frame = apr_bucket_alloc(WSA_CLOSE_FRAME_MAX, ba);
    apr_size_t n = wsa_close_frame(frame, WSA_CLOSE_POLICY, wsa_end_reason(t->ending));
    apr_bucket *fb = apr_bucket_heap_create((const char *)frame, n, apr_bucket_free, ba);
    apr_bucket *fl = apr_bucket_flush_create(ba);

    if (before) {
        APR_BUCKET_INSERT_BEFORE(before, fb);
    }
    else {
        APR_BRIGADE_INSERT_TAIL(bb, fb);
    }
    APR_BUCKET_INSERT_AFTER(fb, fl);
}

/* The tunnel ends here: a close frame if the stream is between frames,
 * then the backend's read side shut, so the poll loop sees EOF. */
static void wsa_finish(wsa_tunnel_t *t, int send_close)
{
    if (t->finished) {
        return;
    }
    t->finished = 1;
    t->ended_at = apr_time_now();
    if (send_close && t->out_f && wsa_stream_at_boundary(&t->out)) {
        conn_rec *c = t->out_f->c;
        apr_bucket_brigade *bb = apr_brigade_create(c->pool, c->bucket_alloc);
        wsa_close_buckets(t, c->bucket_alloc, bb, NULL);
        t->close_sent = ap_pass_brigade(t->out_f->next, bb) == APR_SUCCESS;
        apr_brigade_destroy(bb);
    }
    wsa_timer_wake(t);
}

/* Backend to client. Tracks the frames; ending, the close frame goes at
 * the next boundary and the backend's later bytes are dropped (metadata
 * buckets, EOR among them, always pass). */
static apr_status_t wsa_tunnel_out(ap_filter_t *f, apr_bucket_brigade *bb)
{
    wsa_tunnel_t *t = f->ctx;
    apr_bucket *b, *next;
    apr_uint32_t ending;

    if (!t) {
        ap_remove_output_filter(f);
        return ap_pass_brigade(f->next, bb);
    }
    ending = t->started ? wsa_ending(t) : WSA_END_NONE;
    for (b = APR_BRIGADE_FIRST(bb); b != APR_BRIGADE_SENTINEL(bb); b = next) {
        const char *data;
        apr_size_t len, n;

        next = APR_BUCKET_NEXT(b);
        if (APR_BUCKET_IS_METADATA(b)) {
            continue;
        }
        if (t->finished) {
            apr_bucket_delete(b);
            continue;
        }
        if (apr_bucket_read(b, &data, &len, APR_BLOCK_READ) != APR_SUCCESS) {
            break; /* the next filter reports it */
        }
        if (!t->started) {
            n = wsa_stream_feed(&t->out, (const unsigned char *)data, len, 1);
            if (t->out.phase == WSA_STREAM_HEAD) {
                continue;
            }
            /* the status line said 101 (mod_proxy_wstunnel copies the
             * backend's head as bytes; mod_proxy_http writes its own) */
            if (!wsa_stream_switched(&t->out)) {
                /* no tunnel: a response like any other; the timer lets go
                 * of it at once (never a wake-up on a backend connection
                 * mod_proxy may reuse) */
                f->ctx = NULL;
                wsa_timer_unlist(t);
                return ap_pass_brigade(f->next, bb);
            }
            t->started = 1;
            t->start = apr_time_now();
            ending = wsa_ending(t);
            data += n;
            len -= n;
            if (n) {
                apr_bucket_split(b, n);
                next = APR_BUCKET_NEXT(b);
                continue; /* the frames start in the next bucket */
            }
        }
        t->bytes_out += len;
        if (!ending) {
            wsa_stream_feed(&t->out, (const unsigned char *)data, len, 0);
            continue;
        }
        n = wsa_stream_feed(&t->out, (const unsigned char *)data, len, 1);
        if (!wsa_stream_at_boundary(&t->out)) {
            continue; /* inside one of the backend's frames: let it end */
        }
        if (n == 0) {
            wsa_close_buckets(t, f->c->bucket_alloc, bb, b);
            apr_bucket_delete(b);
        }
        else {
            if (n < len) {
                apr_bucket_split(b, n);
            }
            wsa_close_buckets(t, f->c->bucket_alloc, bb, APR_BUCKET_NEXT(b));
            next = APR_BUCKET_NEXT(APR_BUCKET_NEXT(APR_BUCKET_NEXT(b))); /* after the flush */
        }
        t->close_sent = 1;
        wsa_finish(t, 0);
    }
    return ap_pass_brigade(f->next, bb);
}

/* Client to backend: ending, the client's side is over (EOF). */
static apr_status_t wsa_tunnel_in(ap_filter_t *f, apr_bucket_brigade *bb, ap_input_mode_t mode,
                                  apr_read_type_e block, apr_off_t readbytes)
{
    wsa_tunnel_t *t = f->ctx;
    apr_status_t rv;
    apr_off_t len = 0;

    if (!t) {
        ap_remove_input_filter(f);
        return ap_get_brigade(f->next, bb, mode, block, readbytes);
    }
    if (!t->started) {
        return ap_get_brigade(f->next, bb, mode, block, readbytes);
    }
    if (t->finished || wsa_ending(t)) {
        wsa_finish(t, 1);
        return APR_EOF;
    }
    rv = ap_get_brigade(f->next, bb, mode, block, readbytes);
    if (rv == APR_SUCCESS && apr_brigade_length(bb, 0, &len) == APR_SUCCESS && len > 0) {
        t->bytes_in += len;
    }
    return rv;
}

/* From the backend: ending between frames, or finished, it is over (EOF);
 * inside a frame its rest still passes, so the close frame can follow. */
static apr_status_t wsa_tunnel_back(ap_filter_t *f, apr_bucket_brigade *bb, ap_input_mode_t mode,
                                    apr_read_type_e block, apr_off_t readbytes)
{
    wsa_tunnel_t *t = f->ctx;

    if (!t) {
        ap_remove_input_filter(f);
        return ap_get_brigade(f->next, bb, mode, block, readbytes);
    }
    if (t->started && (t->finished || (wsa_ending(t) && wsa_stream_at_boundary(&t->out)))) {
        wsa_finish(t, 1);
        return APR_EOF;
    }
    return ap_get_brigade(f->next, bb, mode, block, readbytes);
}

/* ------------------------------------------------------------------ */
/* the backend connection                                              */

static void wsa_attach_backend(wsa_tunnel_t *t, conn_rec *bc, apr_socket_t *sock)
{
    apr_os_sock_t fd;
    int dup_fd = -1;

    if (t->backend) {
        return;
    }
    t->backend = bc;
    t->back_f = ap_add_input_filter_handle(wsa_back_handle, t, NULL, bc);
    if (sock && apr_os_sock_get(&fd, sock) == APR_SUCCESS) {
        /* ours, closed when the tunnel is unlisted: never a descriptor
         * number that meanwhile belongs to another connection */
        dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    }
    if (dup_fd < 0) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, t->r,
                      "WSA0042: no backend socket to wake this tunnel with; it ends "
                      "when it next carries a frame");
        return;
    }
    wsa_timer_set_wake(t, dup_fd);
}

static wsa_tunnel_t *wsa_tunnel_of(request_rec *r)
{
    wsa_verdict_t *v;

    while (r->main) {
        r = r->main;
    }
    v = ap_get_module_config(r->request_config, &ws_auth_module);
    return v ? v->tunnel : NULL;
}

/* mod_proxy_http (and its tunnel for HTTP/2 WebSockets): rp is the
 * request that reads the backend's response, on the backend connection,
 * reused or new. An optional hook of mod_proxy: no link to it. */
static int wsa_proxy_create_req(request_rec *r, request_rec *rp)
{
    wsa_tunnel_t *t = wsa_tunnel_of(r);

    if (t && rp && rp->connection) {
        wsa_attach_backend(t, rp->connection, ap_get_conn_socket(rp->connection));
    }
    return OK;
}

/* mod_proxy_wstunnel: a new backend connection in the upgrade's thread. */
static int wsa_pre_connection(conn_rec *c, void *csd)
{
    wsa_tunnel_t *t = wsa_pending;

    if (t && !c->master && !c->sbh && c != t->r->connection) {
        wsa_pending = NULL;
        wsa_attach_backend(t, c, csd);
    }
    return OK;
}
/* ------------------------------------------------------------------ */
/* the upgrade                                                         */

static apr_status_t wsa_tunnel_cleanup(void *data)
{
    wsa_tunnel_t *t = data;

    if (wsa_pending == t) {
        wsa_pending = NULL;
    }
    wsa_timer_unlist(t);
    /* the filters outlive the request on their connections: pass-through */
    if (t->out_f) {
        t->out_f->ctx = NULL;
    }
    if (t->in_f) {
        t->in_f->ctx = NULL;
    }
    if (t->back_f) {
        t->back_f->ctx = NULL;
    }
    return APR_SUCCESS;
}

/* In fixups, for an upgrade the gate let through: what ends its tunnel,
 * and the filters that watch it. */
void wsa_tunnel_prepare(request_rec *r, const wsa_dir_conf *conf, wsa_verdict_t *v)
{
    int mode = conf->lifetime >= 0 ? conf->lifetime : WSA_LIFETIME_ABSOLUTE;
    session_sign_tunnel_t info;
    wsa_tunnel_t *t;
    apr_time_t deadline;
    int st;

    /* the lifetime and revocation of a session-sign session; an express
     * session's end is the app's (docs/mod_ws_auth.md) */
    if (mode == WSA_LIFETIME_OFF || conf->source == WSA_SOURCE_EXPRESS || !wsa_sign_tunnel_info ||
        !wsa_timer_active() || r->main ||
        !wsa_is_upgrade(apr_table_get(r->headers_in, "Connection"),
                        apr_table_get(r->headers_in, "Upgrade"))) {
        return;
    }
    st = wsa_sign_tunnel_info(r, &info);
    if (st != SESSION_SIGN_VERIFIED && st != SESSION_SIGN_VERIFIED_OLD_KEY) {
        return;
    }
    deadline = wsa_tunnel_deadline(mode, info.lifetime_end, info.expiry);
    if (!deadline && !info.revocable) {
        return; /* nothing can end it */
    }
    t = apr_pcalloc(r->pool, sizeof(*t));
    t->r = r;
    t->s = r->server;
    t->sid = info.sid;
    t->user = info.user;
    t->iat = info.iat;
    t->deadline = deadline;
    t->revocable = info.revocable;
    t->interval = info.interval > 0 ? info.interval : apr_time_from_sec(1);
    t->next_check = apr_time_now() + t->interval;
    t->wake_fd = -1;
    /* httpd 2.4 writes the 101 head as bytes also on an HTTP/2 stream's
     * connection (mod_http2 parses it below us, H2_C2_NET_CATCH_H1) */
    wsa_stream_init(&t->out, 1);
    t->out_f = ap_add_output_filter_handle(wsa_out_handle, t, NULL, r->connection);
    t->in_f = ap_add_input_filter_handle(wsa_in_handle, t, NULL, r->connection);
    v->tunnel = t;
    /* a tunnel of ours: when one side is over, the whole tunnel is */
    apr_table_setn(r->subprocess_env, "proxy-nohalfclose", "1");
    wsa_timer_list(t);
    apr_pool_cleanup_register(r->pool, t, wsa_tunnel_cleanup, apr_pool_cleanup_null);
    wsa_pending = t;
}

/* In log_transaction: the end reason for the access log (note
 * ws-tunnel-end) and one info line per tunnel we ended. */
void wsa_tunnel_log(request_rec *r, wsa_verdict_t *v)
{
    wsa_tunnel_t *t = v->tunnel;
    apr_uint32_t e;
    apr_time_t end;

    if (!t || !t->started) {
        return;
    }
    e = apr_atomic_read32(&t->ending);
    if (e == WSA_END_NONE) {
        apr_table_setn(r->notes, WSA_NOTE_END, "closed");
        return;
    }
    apr_table_setn(r->notes, WSA_NOTE_END, e == WSA_END_REVOKED ? "revoked" : "expired");
    end = t->ended_at ? t->ended_at : apr_time_now();
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  "WSA0040: tunnel ended (%s): user %s, %" APR_TIME_T_FMT ".%03d s, %" APR_OFF_T_FMT
                  " bytes in, %" APR_OFF_T_FMT " bytes out, %s",
                  wsa_end_reason(e), t->user ? ap_escape_logitem(r->pool, t->user) : "-",
                  apr_time_sec(end - t->start), (int)(apr_time_msec(end - t->start) % 1000),
                  t->bytes_in, t->bytes_out,
                  t->close_sent ? "close frame 1008 sent" : "connection closed (mid-frame)");
}

void wsa_tunnel_register_hooks(void)
{
    wsa_out_handle =
        ap_register_output_filter("WSA_TUNNEL_OUT", wsa_tunnel_out, NULL, AP_FTYPE_CONNECTION);
    wsa_in_handle =
        ap_register_input_filter("WSA_TUNNEL_IN", wsa_tunnel_in, NULL, AP_FTYPE_CONNECTION);
    wsa_back_handle =
        ap_register_input_filter("WSA_TUNNEL_BACK", wsa_tunnel_back, NULL, AP_FTYPE_CONNECTION);
    /* mod_proxy's optional hook (by name: no link to mod_proxy) */
    apr_optional_hook_add("create_req", (void (*)(void))wsa_proxy_create_req, NULL, NULL,
                          APR_HOOK_MIDDLE);
    ap_hook_pre_connection(wsa_pre_connection, NULL, NULL, APR_HOOK_LAST);
}
