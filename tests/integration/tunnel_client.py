"""A raw RFC 6455 client that records exactly how its tunnel ends.

Tunnel(port, path, cookie) does the handshake on a plain socket; run()
then reads (and, busy, keeps sending masked frames that the echo backend
returns) until the server ends the connection, and returns an End: every
frame received, whether each was well-formed, the close frame's status
and reason if one came, and how the TCP connection ended ("eof" or
"reset"). Frames are parsed strictly: an unmasked server frame, no
reserved bits, a known opcode, nothing after a close frame, and a
connection that ends inside a frame is reported as such, so a test can
tell a clean end from a corrupted one.
"""
import base64
import os
import select
import socket
import struct
import time

OPCODES = {0, 1, 2, 8, 9, 10}


def masked(payload, opcode=1):
    if isinstance(payload, str):
        payload = payload.encode()
    n = len(payload)
    head = bytes([0x80 | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    mask = os.urandom(4)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload)) if n < 4096 else \
        _xor_fast(payload, mask)
    return head + mask + body


def _xor_fast(payload, mask):
    m = (mask * (len(payload) // 4 + 1))[:len(payload)]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(m, "big")).to_bytes(len(payload), "big")


class End:
    def __init__(self):
        self.frames = []           # (opcode, payload length)
        self.close_code = None
        self.close_reason = None
        self.tcp = None            # "eof", "reset", "timeout"
        self.malformed = None      # a description, or None
        self.trailing = 0          # bytes of an incomplete frame at the end
        self.after_close = 0       # frames after the close frame
        self.at = None             # time.time() when the close (or the EOF) came
        self.echoes = 0

    @property
    def clean(self):
        """Either a well-formed close frame then EOF, or a clean TCP close."""
        return (self.malformed is None and self.after_close == 0 and self.tcp == "eof")

    def __repr__(self):
        return ("End(close=%r %r, tcp=%s, malformed=%s, trailing=%d, frames=%d)"
                % (self.close_code, self.close_reason, self.tcp, self.malformed,
                   self.trailing, len(self.frames)))


class Tunnel:
    def __init__(self, port, path, cookie=None, origin=None, timeout=10):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        h = ["GET %s HTTP/1.1" % path, "Host: 127.0.0.1:%d" % port,
             "Upgrade: websocket", "Connection: Upgrade",
             "Sec-WebSocket-Key: " + key, "Sec-WebSocket-Version: 13",
             "Origin: " + (origin or "http://127.0.0.1:%d" % port)]
        if cookie:
            h.append("Cookie: " + cookie)
        self.s.sendall(("\r\n".join(h) + "\r\n\r\n").encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = self.s.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, self.buf = data.partition(b"\r\n\r\n")
        self.status = int(head.split(b" ")[1]) if head.startswith(b"HTTP/") else None
        self.opened = time.time()

    def echo(self, text="ping", timeout=5):
        """One message and its echo: the tunnel is open and carries data."""
        self.s.sendall(masked(text))
        end = self.run(timeout=timeout, until_frames=1)
        return end.frames and end.frames[0][0] == 1 and end.tcp is None

    def run(self, timeout=10, busy=None, until_frames=None):
        """Read until the server closes (or timeout, or until_frames data
        frames). busy: (payload size, seconds between sends) keeps the
        tunnel carrying frames both ways."""
        end = End()
        sock = self.s
        sock.setblocking(False)
        deadline = time.time() + timeout
        next_send = time.time()
        closed = False
        payload = os.urandom(busy[0]) if busy else b""
        pending = b""
        try:
            while time.time() < deadline:
                if busy and not closed and not pending and time.time() >= next_send:
                    pending = masked(payload, opcode=2)
                    next_send = time.time() + busy[1]
                wl = [sock] if pending else []
                r, w, _ = select.select([sock], wl, [], 0.05)
                if w and pending:
                    try:
                        n = sock.send(pending)
                        pending = pending[n:]
                    except BlockingIOError:
                        pass
                    except (BrokenPipeError, ConnectionResetError):
                        pending = b""
                        busy = None
                if not r:
                    continue
                try:
                    chunk = sock.recv(262144)
                except ConnectionResetError:
                    end.tcp = "reset"
                    end.at = end.at or time.time()
                    break
                except BlockingIOError:
                    continue
                if not chunk:
                    end.tcp = "eof"
                    end.at = end.at or time.time()
                    break
                self.buf += chunk
                closed = self._parse(end) or closed
                if end.malformed:
                    break
                if until_frames and len([f for f in end.frames if f[0] in (1, 2)]) >= until_frames:
                    break
            else:
                end.tcp = "timeout"
        finally:
            sock.setblocking(True)
        end.trailing = len(self.buf) if end.tcp else 0
        if end.tcp == "eof" and end.trailing:
            end.malformed = end.malformed or "connection ended inside a frame (%d bytes)" % end.trailing
        return end

    def _parse(self, end):
        closed = end.close_code is not None
        while True:
            b = self.buf
            if len(b) < 2:
                return closed
            if b[0] & 0x70:
                end.malformed = "reserved bits set"
                return closed
            op = b[0] & 0x0F
            if op not in OPCODES:
                end.malformed = "unknown opcode %d" % op
                return closed
            if b[1] & 0x80:
                end.malformed = "a masked server frame"
                return closed
            n = b[1] & 0x7F
            off = 2
            if n == 126:
                if len(b) < 4:
                    return closed
                n = struct.unpack("!H", b[2:4])[0]
                off = 4
            elif n == 127:
                if len(b) < 10:
                    return closed
                n = struct.unpack("!Q", b[2:10])[0]
                off = 10
            if len(b) < off + n:
                return closed
            payload = b[off:off + n]
            self.buf = b[off + n:]
            if closed:
                end.after_close += 1
            end.frames.append((op, n))
            if op == 8:
                if n >= 2:
                    end.close_code = struct.unpack("!H", payload[:2])[0]
                    end.close_reason = payload[2:].decode("utf-8", "replace")
                else:
                    end.close_code = 1005
                end.at = time.time()
                closed = True
                try:    # answer it, as a client does
                    self.s.sendall(masked(payload[:2], opcode=8))
                except OSError:
                    pass

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass
