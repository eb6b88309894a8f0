/*
 * wsa_stream.c - the backend-to-client stream of a WebSocket tunnel:
 * response head, frame boundaries (RFC 6455 5.2, from the headers only),
 * the close frame, the session's deadline. See wsa_stream.h.
 */
#include "wsa_stream.h"

#include <string.h>

void wsa_stream_init(wsa_stream_t *st, int with_head)
{
    memset(st, 0, sizeof(*st));
    st->phase = with_head ? WSA_STREAM_HEAD : WSA_STREAM_FRAMES;
    st->status = with_head ? 0 : -1;
}

int wsa_stream_at_boundary(const wsa_stream_t *st)
{
    return st->phase == WSA_STREAM_FRAMES && st->hdr_len == 0 && st->payload_left == 0;
}

/* The header is complete: its payload length, or -1 if not a stream we can
 * follow (a 64-bit length with the top bit set, RFC 6455 5.2). */
static int wsa_stream_header_done(wsa_stream_t *st)
{
    unsigned len7 = st->hdr[1] & 0x7f;
    apr_uint64_t n = len7;
    unsigned i;

    if (len7 == 126) {
        n = ((apr_uint64_t)st->hdr[2] << 8) | st->hdr[3];
    }
    else if (len7 == 127) {
        if (st->hdr[2] & 0x80) {
            return -1;
        }
        for (n = 0, i = 2; i < 10; i++) {
            n = (n << 8) | st->hdr[i];
        }
    }
    st->payload_left = n;
    st->hdr_len = 0;
    st->hdr_need = 0;
    st->frames++;
    return 0;
}

int wsa_stream_switched(const wsa_stream_t *st)
{
    return st->phase != WSA_STREAM_HEAD && (st->status == 101 || st->status == -1);
}

/* "HTTP/1.1 101 ...": exactly three digits after the first space, then a
 * space or the end of the line */
static void wsa_stream_status(wsa_stream_t *st, unsigned char ch)
{
    if (st->status_state == 0) {
        st->status_state = ch == ' ' ? 1 : 0;
    }
    else if (st->status_state <= 3) {
        if (ch < '0' || ch > '9') {
            st->status_state = 5;
            st->status = 0;
            return;
        }
        st->status = st->status * 10 + (ch - '0');
        st->status_state++;
    }
    else if (st->status_state == 4) {
        if (ch != ' ' && ch != '\r') {
            st->status = 0;
        }
        st->status_state = 5;
    }
}

static apr_size_t wsa_stream_head(wsa_stream_t *st, const unsigned char *buf, apr_size_t len)
{
    static const char crlf2[] = "\r\n\r\n";
    apr_size_t i;

    for (i = 0; i < len; i++) {
        if (st->status_state < 5) {
            wsa_stream_status(st, buf[i]);
        }
        if (buf[i] == (unsigned char)crlf2[st->head_match]) {
            if (++st->head_match == 4) {
                st->phase = WSA_STREAM_FRAMES;
                return i + 1;
            }
        }
        else {
            st->head_match = buf[i] == '\r' ? 1 : 0;
        }
    }
    return len;
}

/* A header split between two buffers, one byte of it (the slow path). */
static void wsa_stream_header_byte(wsa_stream_t *st, unsigned char ch)
{
    st->hdr[st->hdr_len++] = ch;
    if (st->hdr_len == 2) {
        unsigned len7 = st->hdr[1] & 0x7f;
        st->hdr_need = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + ((st->hdr[1] & 0x80) ? 4 : 0);
    }
    if (st->hdr_need && st->hdr_len == st->hdr_need && wsa_stream_header_done(st) < 0) {
        st->phase = WSA_STREAM_BROKEN;
    }
}

apr_size_t wsa_stream_feed(wsa_stream_t *st, const unsigned char *buf, apr_size_t len, int stop)
{
    apr_size_t i = 0;
    /* in locals: buf may alias *st as far as the compiler knows */
    apr_uint64_t left, frames;

    if (st->phase == WSA_STREAM_HEAD) {
        i = wsa_stream_head(st, buf, len);
    }
    left = st->payload_left;
    frames = st->frames;
    while (i < len && st->phase == WSA_STREAM_FRAMES) {
        if (left == 0) {
            unsigned b1, len7;
            apr_size_t need;
            if (stop && st->hdr_len == 0) {
                break; /* a boundary: the next byte starts a frame */
            }
            if (st->hdr_len || len - i < 2) {
                st->payload_left = left;
                st->frames = frames;
                wsa_stream_header_byte(st, buf[i++]);
                left = st->payload_left;
                frames = st->frames;
                continue;
            }
            /* the common case: the whole header here, read in place */
            b1 = buf[i + 1];
            len7 = b1 & 0x7f;
            need = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + ((b1 & 0x80) ? 4 : 0);
            if (len - i < need) {
                st->payload_left = left;
                st->frames = frames;
                wsa_stream_header_byte(st, buf[i++]);
                left = st->payload_left;
                frames = st->frames;
                continue;
            }
            if (len7 < 126) {
                left = len7;
            }
            else if (len7 == 126) {
                left = ((apr_uint64_t)buf[i + 2] << 8) | buf[i + 3];
            }
            else {
                unsigned k;
                if (buf[i + 2] & 0x80) {
                    st->phase = WSA_STREAM_BROKEN;
                    break;
                }
                for (left = 0, k = 2; k < 10; k++) {
                    left = (left << 8) | buf[i + k];
                }
            }
            frames++;
            i += need;
        }
        {
            apr_size_t n = len - i;
            if ((apr_uint64_t)n > left) {
                n = (apr_size_t)left;
            }
            left -= n;
            i += n;
        }
    }
    st->payload_left = left;
    st->frames = frames;
    if (st->phase == WSA_STREAM_BROKEN) {
        i = len; /* nothing more to follow: everything consumed */
    }
    st->bytes += i;
    return i;
}

apr_size_t wsa_close_frame(unsigned char *out, unsigned code, const char *reason)
{
    apr_size_t rlen = reason ? strlen(reason) : 0;

    if (rlen > WSA_CLOSE_REASON_MAX) {
        rlen = WSA_CLOSE_REASON_MAX;
    }
    out[0] = 0x88; /* FIN, opcode close */
    out[1] = (unsigned char)(2 + rlen);
    out[2] = (unsigned char)((code >> 8) & 0xff);
    out[3] = (unsigned char)(code & 0xff);
    if (rlen) {
        memcpy(out + 4, reason, rlen);
    }
    return 4 + rlen;
}

apr_time_t wsa_tunnel_deadline(int mode, apr_time_t lifetime_end, apr_time_t expiry)
{
    apr_time_t d = 0;

    if (mode == WSA_LIFETIME_OFF) {
        return 0;
    }
    if (lifetime_end > 0) {
        d = lifetime_end;
    }
    if (mode == WSA_LIFETIME_SESSION && expiry > 0 && (d == 0 || expiry < d)) {
        d = expiry;
    }
    return d;
}
