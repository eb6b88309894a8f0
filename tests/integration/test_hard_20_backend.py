"""Fault: the backend is down, hangs, or hangs up.

What must hold: a request with a valid session gets 502/503/504 from the
proxy, within a bound set by ProxyTimeout/connectiontimeout (< 10 s here: a
functional bound, not a performance figure); a request WITHOUT a valid
session still gets 401 (403 for a foreign Origin) and never reaches the
backend: the gate decides before the proxy, whatever state the backend is
in. With retry=0 the gate recovers as soon as the backend is back.
"""
import socket
import subprocess
import threading
import time

import pytest

import support
from test_hard_00_common import *  # noqa: F401,F403

BOUND = 10.0          # seconds: no answer may take longer (ProxyTimeout is 3)

# the proxy's own complaints about the backend, at [error] (seen here):
# AH00957 connect to backend refused, AH00959 worker put in error state,
# AH01114 failed to make connection to backend, AH01102 error reading the
# status line (timeout or reset), AH00898 error reading from remote server
PROXY_ERRORS = [r"AH00957", r"AH00959", r"AH01114", r"AH01102", r"AH00898"]


class Sink(threading.Thread):
    """A fake backend on 127.0.0.1: accepts and then either never answers
    (mode 'hang') or closes at once (mode 'close'). Counts connections.
    Bounded: stops on stop() or after max_seconds."""

    def __init__(self, mode, max_seconds=60):
        super().__init__(daemon=True)
        self.mode = mode
        self.max_seconds = max_seconds
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.held = []
        self.halt = threading.Event()

    def run(self):
        deadline = time.time() + self.max_seconds
        while not self.halt.is_set() and time.time() < deadline:
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            self.accepted += 1
            if self.mode == "close":
                c.close()
            else:
                self.held.append(c)

    def stop(self):
        self.halt.set()
        self.join(timeout=5)
        for c in self.held:
            c.close()
        self.sock.close()


def _location(path, port):
    return f"""
<Location {path}>
    WSAuth On
    WSAuthForwardHeader X-Remote-User user
    ProxyPass ws://127.0.0.1:{port}/ retry=0 connectiontimeout=2 timeout=3
</Location>
"""


def _server(httpd, **ports):
    body = SESSION + "ProxyTimeout 3\n" + "".join(
        _location("/%s/" % name, port) for name, port in ports.items())
    h = httpd(body, modules=PROXY_MODULES)
    h.ack("WSA0001", "SSG0001", *PROXY_ERRORS)
    return h


def timed(fn, *a, **kw):
    t = time.monotonic()
    out = fn(*a, **kw)
    return out, time.monotonic() - t


@pytest.fixture
def dead_port():
    """A loopback port bound but not listening: connect() is refused, and
    nobody else can take the port while the test runs."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    yield s
    s.close()


def _refusals_hold(h, path):
    """Without a valid session: 401 (403 cross-origin), fast, whatever the
    backend does."""
    (st, _, _), dt = timed(support.ws_handshake, h.port, path)
    assert st == 401 and dt < 2, (st, dt)
    (st, _, _), dt = timed(support.get, h.port, path + "x")
    assert st == 401 and dt < 2, (st, dt)
    bad = support.mint("user=alice")[:-2] + "AA"
    h.secret(bad)
    (st, _, _), dt = timed(support.ws_handshake, h.port, path, cookie="session=" + bad)
    assert st == 401 and dt < 2, (st, dt)
    (st, _, _), dt = timed(support.ws_handshake, h.port, path, cookie=mint_cookie(h),
                           origin="http://evil.example")
    assert st == 403 and dt < 2, (st, dt)


def test_hard_20_01_backend_down_gives_503_and_never_bypasses_the_gate(httpd, dead_port):
    port = dead_port.getsockname()[1]
    h = _server(httpd, down=port)
    _refusals_hold(h, "/down/")
    c = mint_cookie(h)
    for _ in range(3):                         # retry=0: every attempt is a real one
        (st, _, _), dt = timed(support.ws_handshake, h.port, "/down/", cookie=c)
        assert st in (502, 503) and dt < BOUND, (st, dt)
        (st, _, _), dt = timed(support.get, h.port, "/down/x", [("Cookie", c)])
        assert st in (502, 503) and dt < BOUND, (st, dt)
    # the refusals are still refusals after the worker went into error state
    _refusals_hold(h, "/down/")


def test_hard_20_02_hanging_backend_times_out_within_the_bound(httpd):
    sink = Sink("hang")
    sink.start()
    try:
        h = _server(httpd, hang=sink.port)
        _refusals_hold(h, "/hang/")
        assert sink.accepted == 0, "a refused request reached the backend"
        c = mint_cookie(h)
        (st, _, _), dt = timed(support.ws_handshake, h.port, "/hang/", cookie=c)
        assert st in (502, 504) and dt < BOUND, (st, dt)
        (st, _, _), dt = timed(support.get, h.port, "/hang/x", [("Cookie", c)])
        assert st in (502, 504) and dt < BOUND, (st, dt)
        assert sink.accepted >= 2
    finally:
        sink.stop()


def test_hard_20_03_backend_hanging_up_gives_502(httpd):
    sink = Sink("close")
    sink.start()
    try:
        h = _server(httpd, reset=sink.port)
        _refusals_hold(h, "/reset/")
        assert sink.accepted == 0, "a refused request reached the backend"
        c = mint_cookie(h)
        (st, _, _), dt = timed(support.ws_handshake, h.port, "/reset/", cookie=c)
        assert st in (502, 503) and dt < BOUND, (st, dt)
        (st, _, _), dt = timed(support.get, h.port, "/reset/x", [("Cookie", c)])
        assert st in (502, 503) and dt < BOUND, (st, dt)
    finally:
        sink.stop()


def test_hard_20_04_gate_recovers_when_the_backend_comes_back(httpd, dead_port, tmp_path):
    port = dead_port.getsockname()[1]
    h = _server(httpd, ws=port)
    c = mint_cookie(h)
    assert support.ws_handshake(h.port, "/ws/", cookie=c)[0] in (502, 503)
    dead_port.close()                          # free the port for the real backend
    log = open(tmp_path / "backend.log", "w")
    proc = subprocess.Popen([support.PY, str(support.TOOLS / "ws_backend.py"), str(port)],
                            stdin=subprocess.DEVNULL, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        support.wait_port(port, proc=proc)
        ws = RawWS(h.port, "/ws/", cookie=c)
        assert ws.status == 101, ws.head
        assert ws_echo_ok(ws, "back")
        ws.close()
        assert support.ws_handshake(h.port, "/ws/")[0] == 401
    finally:
        support.stop_process(proc)
        log.close()
