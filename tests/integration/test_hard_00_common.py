"""Shared helpers of the fault tests (test_hard_*.py, issue 6 point 4), plus
a smoke test of the raw WebSocket client they use.

The helpers live in a test_hard_* file because the other files of
tests/integration belong to other people; import them with
`from test_hard_00_common import *`.

RawWS is a minimal RFC 6455 client on a plain socket, synchronous and with a
deadline on every read, so a test can hold a few tunnels open across a
graceful restart or a key rotation and check that each one still echoes.
"""
import base64
import os
import shutil
import socket
import struct
import threading
import time
from pathlib import Path

import support
from support import KEY1, KEY2, KEY3
from wsa_conf import PROXY_MODULES, SESSION, proxy_lines

__all__ = [
    "KEY1", "KEY2", "KEY3", "PROXY_MODULES", "SESSION", "proxy_lines",
    "RawWS", "Traffic", "keyfile_gate", "write_keys", "mint_cookie",
    "probe", "wait_until", "FAKETIME_LIB", "ws_echo_ok",
]

FAKETIME_LIB = next((p for p in ("/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1",
                                 "/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1")
                     if os.path.exists(p)), None)


class RawWS:
    """One WebSocket through the gate: handshake at construction (status in
    .status), then send_text/recv_text with masked/unmasked frames."""

    def __init__(self, port, path="/ws/", cookie=None, origin="same",
                 timeout=5.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.settimeout(timeout)
        host = "127.0.0.1:%d" % port
        lines = ["GET %s HTTP/1.1" % path, "Host: " + host,
                 "Upgrade: websocket", "Connection: Upgrade",
                 "Sec-WebSocket-Key: " + base64.b64encode(os.urandom(16)).decode(),
                 "Sec-WebSocket-Version: 13"]
        if origin == "same":
            lines.append("Origin: http://" + host)
        elif origin:
            lines.append("Origin: " + origin)
        if cookie:
            lines.append("Cookie: " + cookie)
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            self.buf += chunk
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        first = head.split(b"\r\n", 1)[0].split()
        self.status = int(first[1]) if len(first) > 1 else None
        self.head = head.decode("latin-1")

    def send_text(self, text):
        data = text.encode()
        mask = os.urandom(4)
        n = len(data)
        if n < 126:
            hdr = bytes([0x81, 0x80 | n])
        elif n < 65536:
            hdr = bytes([0x81, 0x80 | 126]) + struct.pack(">H", n)
        else:
            hdr = bytes([0x81, 0x80 | 127]) + struct.pack(">Q", n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.sock.sendall(hdr + mask + masked)

    def _need(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("tunnel closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv_text(self):
        b0, b1 = self._need(2)
        n = b1 & 0x7f
        if n == 126:
            n = struct.unpack(">H", self._need(2))[0]
        elif n == 127:
            n = struct.unpack(">Q", self._need(8))[0]
        if b1 & 0x80:
            raise ConnectionError("server frames must not be masked")
        payload = self._need(n)
        if b0 & 0x0f == 0x8:
            raise ConnectionError("close frame received")
        return payload.decode()

    def echo(self, text):
        self.send_text(text)
        return self.recv_text()

    def close(self):
        try:
            self.sock.sendall(b"\x88\x82" + b"\x00\x00\x00\x00" + b"\x03\xe8")
            self.sock.settimeout(3)
            while self.sock.recv(65536):
                pass
        except OSError:
            pass
        self.sock.close()


def ws_echo_ok(ws, tag):
    """True if ws echoes a message naming tag."""
    msg = "echo-%s-%s" % (tag, os.urandom(4).hex())
    try:
        return ws.echo(msg) == msg
    except (OSError, ConnectionError):
        return False


class Traffic(threading.Thread):
    """Plain GETs in a loop (bounded: at most max_requests, at most
    max_seconds) until stop(); statuses counted, exceptions kept."""

    def __init__(self, port, path, cookie, max_requests=5000, max_seconds=30):
        super().__init__(daemon=True)
        self.port, self.path, self.cookie = port, path, cookie
        self.max_requests, self.max_seconds = max_requests, max_seconds
        self.statuses = {}
        self.errors = []
        self._halt = threading.Event()

    def run(self):
        deadline = time.time() + self.max_seconds
        for _ in range(self.max_requests):
            if self._halt.is_set() or time.time() > deadline:
                break
            try:
                st, _, _ = support.get(self.port, self.path, [("Cookie", self.cookie)])
                self.statuses[st] = self.statuses.get(st, 0) + 1
            except OSError as e:
                self.errors.append(repr(e))
            time.sleep(0.005)

    def stop(self):
        self._halt.set()
        self.join(timeout=15)
        return self.statuses


def keyfile_gate(backend, keyfile="conf/keys", extra="", location_extra=""):
    """The /ws/ gate (WSAuth On, proxied to the echo backend) with its keys
    in a file instead of SessionSignKey."""
    return f"""
Session On
SessionCookieName session path=/;HttpOnly;SameSite=Lax
SessionSignKeyFile {keyfile}
{extra}
<Location /ws/>
    WSAuth On
    WSAuthForwardHeader X-Remote-User user
    {location_extra}
    {proxy_lines(backend, "/")}
</Location>
"""


def write_keys(h, *keys, name="keys"):
    """(Re)write the key file under h's conf/: one secret per line, first
    signs. Written to a temp file and renamed, as an admin's tool would."""
    p = h.root / "conf" / name
    if p.is_dir():
        shutil.rmtree(p)
    tmp = p.with_suffix(".tmp")
    tmp.write_text("".join(k + "\n" for k in keys))
    os.chmod(tmp, 0o600)
    os.replace(tmp, p)
    return p


def mint_cookie(h, payload="user=alice", **kw):
    tok = support.mint(payload, **kw)
    h.secret(tok)
    return "session=" + tok


def probe(h, cookie=None, path="/ws/probe", headers=()):
    """A plain GET through the gate (the backend answers 200 with JSON)."""
    hd = list(headers)
    if cookie:
        hd.append(("Cookie", cookie))
    return support.get(h.port, path, hd)


def wait_until(fn, timeout=10.0, step=0.1):
    """Poll fn() until it returns a true value (returned) or timeout (None)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(step)
    return None


# ------------------------------------------------------------------ smoke

def test_hard_00_01_raw_websocket_client_echoes_through_the_gate(httpd, backend):
    h = httpd(keyfile_gate(backend), modules=PROXY_MODULES, start=False)
    write_keys(h, KEY1)
    h.start()
    h.ack("WSA0001")
    ws = RawWS(h.port, cookie=mint_cookie(h))
    assert ws.status == 101, ws.head
    assert ws_echo_ok(ws, "smoke")
    big = "x" * 70000
    assert ws.echo(big) == big
    ws.close()
    refused = RawWS(h.port)
    assert refused.status == 401
    refused.close()


def _children(ppid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                stat = Path("/proc/%s/stat" % d).read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == ppid:
                out.append(int(d))
    return sorted(out)


def test_hard_00_02_harness_fails_a_test_on_a_crashed_child(httpd):
    """The harness's crash check: a child that dies of SIGSEGV is logged by
    the parent at notice level (AH00052 ... exit signal Segmentation fault);
    support.Httpd.unexpected_log_lines() reports it whatever its level.
    (ASan's own SEGV handler is switched off for this server only, so
    `make check-asan` does not count the deliberate signal as a finding.)"""
    import signal
    opts = os.environ.get("ASAN_OPTIONS")
    env = {"ASAN_OPTIONS": opts + ":handle_segv=0"} if opts else {}
    h = httpd(SESSION, env=env)
    kids = wait_until(lambda: _children(h.proc.pid), 10)
    assert kids, "no child process"
    os.kill(kids[0], signal.SIGSEGV)               # a child of our own httpd
    assert h.wait_log(r"AH00052: child pid %d exit signal Segmentation fault" % kids[0], 10)
    bad = h.unexpected_log_lines()
    assert any("AH00052" in line for line in bad), bad
    h.ack(r"AH00052: child pid %d exit signal Segmentation fault" % kids[0])
    assert h.unexpected_log_lines() == []
