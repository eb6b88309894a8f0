/*
 * wsa_stream.h - the backend-to-client byte stream of a WebSocket tunnel,
 * as much of it as ending the tunnel cleanly needs: where the HTTP/1.1
 * response head ends, where each frame ends (from the frame headers alone;
 * payloads are skipped, never read), the close frame to inject at a
 * boundary, and the deadline a session gives its tunnel.
 *
 * C + APR only; never an httpd header. Unit-tested with Check
 * (tests/unit/test_wsa_stream.c).
 *
 * Example (an output filter, per bucket of len bytes at data):
 *   wsa_stream_t st;
 *   wsa_stream_init(&st, 1);                 // HTTP/1.1: a head first
 *   ...
 *   if (!ending) {
 *       wsa_stream_feed(&st, data, len, 0);  // track, pass everything
 *   } else {
 *       apr_size_t n = wsa_stream_feed(&st, data, len, 1);
 *       if (n < len || wsa_stream_at_boundary(&st))
 *           ... pass data[0..n), then the close frame, drop the rest
 *   }
 */
#ifndef WSA_STREAM_H
#define WSA_STREAM_H

#include "apr.h"
#include "apr_time.h"

#define WSA_STREAM_HEAD   0 /* in the HTTP/1.1 response head */
#define WSA_STREAM_FRAMES 1 /* in WebSocket frames */
#define WSA_STREAM_BROKEN 2 /* not a frame stream we can follow: never inject */

#define WSA_CLOSE_POLICY     1008 /* RFC 6455 7.4.1: policy violation */
#define WSA_CLOSE_REASON_MAX 123  /* a control frame's payload is <= 125 bytes */
#define WSA_CLOSE_FRAME_MAX  (2 + 2 + WSA_CLOSE_REASON_MAX)

#define WSA_LIFETIME_OFF      0 /* WSAuthTunnelLifetime off */
#define WSA_LIFETIME_ABSOLUTE 1 /* SessionSignMaxLifetime and revocation */
#define WSA_LIFETIME_SESSION  2 /* and the SessionMaxAge expiry */

typedef struct {
    int phase;                 /* WSA_STREAM_* */
    unsigned head_match;       /* bytes of "\r\n\r\n" matched so far */
    int status;                /* the head's status code (101), once read; else 0 */
    unsigned status_state;     /* 0 before the first space, 1..4 the digits, 5 done */
    unsigned char hdr[14];     /* the frame header being read */
    unsigned hdr_len;          /* bytes of it read (0: none) */
    unsigned hdr_need;         /* its full size once byte 2 is known (0: unknown) */
    apr_uint64_t payload_left; /* payload bytes of the current frame still to come */
    apr_uint64_t frames;       /* complete frame headers seen */
    apr_uint64_t bytes;        /* bytes fed */
} wsa_stream_t;

/** Start tracking. @param with_head non-zero: an HTTP/1.1 response head
 * comes first (the 101); zero: frames from the first byte (HTTP/2). */
void wsa_stream_init(wsa_stream_t *st, int with_head);

/**
 * Feed the next len bytes of the stream.
 * @param stop non-zero: stop at the first frame boundary, which may be
 *             where buf starts (then nothing is consumed)
 * @return the number of bytes consumed: len, or with stop the offset of
 *         the first boundary in buf. In the BROKEN phase everything is
 *         consumed and there is never a boundary.
 */
apr_size_t wsa_stream_feed(wsa_stream_t *st, const unsigned char *buf, apr_size_t len, int stop);

/** @return non-zero once the whole head was fed and its status line said
 * 101 (Switching Protocols); for a stream without head, non-zero. */
int wsa_stream_switched(const wsa_stream_t *st);

/** @return non-zero if the bytes fed so far end exactly between two frames
 * (or right after the head): a close frame can go here. */
int wsa_stream_at_boundary(const wsa_stream_t *st);

/**
 * Write an unmasked (server-to-client) close frame with status code and a
 * reason truncated to WSA_CLOSE_REASON_MAX bytes.
 * @param out at least WSA_CLOSE_FRAME_MAX bytes
 * @return its length
 */
apr_size_t wsa_close_frame(unsigned char *out, unsigned code, const char *reason);

/**
 * The instant a tunnel must end, or 0 for none.
 * @param mode         WSA_LIFETIME_*
 * @param lifetime_end first instant SessionSignMaxLifetime refuses the token (0 none)
 * @param expiry       the SessionMaxAge expiry the session carried (0 none)
 */
apr_time_t wsa_tunnel_deadline(int mode, apr_time_t lifetime_end, apr_time_t expiry);

#endif /* WSA_STREAM_H */
