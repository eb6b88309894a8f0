"""Issue 16: open tunnels end with their session (WSAuthTunnelLifetime).

Real httpd, the real echo backend, a raw client (tunnel_client.py) that
parses every byte it receives. Deadlines are a few seconds
(SessionSignMaxLifetime 2, SessionMaxAge 2): tokens are minted with a known
issued-at, so each test knows the instant its tunnel must end, and checks
that the end came within 1 s after it (never before), idle or busy, as a
1008 close frame or a clean TCP close, never a corrupted frame."""
import time

import pytest

import support
from h2ws import _frame
from tunnel_client import Tunnel
from wsa_conf import PROXY_MODULES, gate, cookie

KINDS = ["ws", "http-upgrade", "wstunnel"]
LIFETIME = 2


def _conf(backend, lifetime="", kind="ws", extra=""):
    return gate(backend, kind=kind, ws_extra=lifetime,
                server_extra="SessionSignMaxLifetime %d\n%s" % (LIFETIME, extra))


def _token(h, payload="user=alice"):
    iat = int(time.time())
    deadline = iat + LIFETIME + 1          # refused once now - iat > LIFETIME
    return cookie(h, payload, iat=iat), deadline


def _assert_ended(end, deadline, reason="session ended", slack=1.0):
    assert end.clean, end
    assert end.close_code == 1008 and end.close_reason == reason, end
    assert deadline - 0.05 <= end.at <= deadline + slack, (end.at - deadline, end)


@pytest.mark.parametrize("kind", KINDS)
def test_tun_10_01_idle_tunnel_ends_at_the_absolute_lifetime(httpd, backend, kind):
    h = httpd(_conf(backend, kind=kind), modules=PROXY_MODULES)
    ck, deadline = _token(h)
    t = Tunnel(h.port, "/ws/", ck)
    assert t.status == 101 and t.echo()
    end = t.run(timeout=LIFETIME + 4)
    _assert_ended(end, deadline)
    t.close()
    assert h.wait_log(r"WSA0040: tunnel ended \(session ended\): user alice")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("size", [64, 16384])
def test_tun_10_02_busy_tunnel_ends_on_time_at_a_frame_boundary(httpd, backend, kind, size):
    h = httpd(_conf(backend, kind=kind), modules=PROXY_MODULES)
    ck, deadline = _token(h)
    t = Tunnel(h.port, "/ws/", ck)
    assert t.status == 101
    end = t.run(timeout=LIFETIME + 4, busy=(size, 0.002))
    assert len(end.frames) > 20, end           # it was carrying frames
    _assert_ended(end, deadline)
    t.close()


def test_tun_10_03_session_mode_ends_at_the_maxage_expiry(httpd, backend):
    h = httpd(gate(backend, ws_extra="WSAuthTunnelLifetime session",
                   server_extra="SessionMaxAge 2\n"), modules=PROXY_MODULES)
    expiry = time.time() + 2
    ck = cookie(h, "user=alice&expiry=%d" % int(expiry * 1e6))
    t = Tunnel(h.port, "/ws/", ck)
    assert t.status == 101 and t.echo()
    end = t.run(timeout=5)
    _assert_ended(end, expiry)
    t.close()


def test_tun_10_04_absolute_mode_outlives_the_maxage_expiry(httpd, backend):
    h = httpd(gate(backend, server_extra="SessionMaxAge 1\n"), modules=PROXY_MODULES)
    ck = cookie(h, "user=alice&expiry=%d" % int((time.time() + 1) * 1e6))
    t = Tunnel(h.port, "/ws/", ck)
    assert t.status == 101
    time.sleep(2.5)
    assert t.echo()                              # still open, still echoing
    t.close()


def test_tun_10_05_off_keeps_todays_behaviour(httpd, backend):
    h = httpd(_conf(backend, lifetime="WSAuthTunnelLifetime off"), modules=PROXY_MODULES)
    ck, deadline = _token(h)
    t = Tunnel(h.port, "/ws/", ck)
    assert t.status == 101
    time.sleep(max(0, deadline - time.time()) + 1.5)
    assert t.echo()
    t.close()
    assert "WSA0040" not in h.error_log()


def test_tun_10_06_the_access_log_shows_the_end_reason(httpd, backend):
    h = httpd(_conf(backend, extra='LogFormat "%u %>s end=%{ws-tunnel-end}n" tun\n'
                    'CustomLog logs/tunnel_log tun\n'), modules=PROXY_MODULES)
    ck, deadline = _token(h)
    t = Tunnel(h.port, "/ws/", ck)
    end = t.run(timeout=LIFETIME + 4)
    _assert_ended(end, deadline)
    t.close()
    t2 = Tunnel(h.port, "/ws/", cookie(h))   # a second tunnel its client closes
    assert t2.echo()
    t2.close()
    log = h.root / "logs" / "tunnel_log"
    deadline = time.time() + 5
    while time.time() < deadline and log.read_text().count("\n") < 2:
        time.sleep(0.05)
    lines = log.read_text().splitlines()
    assert "alice 101 end=expired" in lines
    assert "alice 101 end=closed" in lines
    info = [l for l in h.error_log().splitlines() if "WSA0040" in l]
    assert len(info) == 1 and "bytes in" in info[0] and "close frame 1008 sent" in info[0]


@pytest.mark.parametrize("mpm", ["worker", "prefork"])
def test_tun_10_07_other_mpms_idle_and_busy(httpd, backend, mpm):
    h = httpd(_conf(backend), modules=PROXY_MODULES, mpm=mpm)
    ck, deadline = _token(h)
    idle, busy = Tunnel(h.port, "/ws/", ck), Tunnel(h.port, "/ws/", ck)
    assert idle.status == 101 and busy.status == 101
    _assert_ended(busy.run(timeout=LIFETIME + 4, busy=(1024, 0.005)), deadline)
    _assert_ended(idle.run(timeout=2), deadline)
    idle.close()
    busy.close()


def test_tun_10_08_graceful_restart_neither_early_nor_late(httpd, backend):
    h = httpd(gate(backend, server_extra="SessionSignMaxLifetime 4\n"), modules=PROXY_MODULES)
    iat = int(time.time())
    ck = cookie(h, "user=alice", iat=iat)
    t = Tunnel(h.port, "/ws/", ck)
    assert t.status == 101
    h.graceful()
    time.sleep(1.5)
    assert t.echo()                            # the old child still carries it
    end = t.run(timeout=6)
    _assert_ended(end, iat + 5)
    t.close()


def test_tun_10_09_bad_value_refused_at_configtest(httpd, backend):
    h = httpd(gate(backend, ws_extra="WSAuthTunnelLifetime forever"), start=False,
              modules=PROXY_MODULES)
    r = h.configtest()
    assert r.returncode != 0
    assert "WSAuthTunnelLifetime: unknown value 'forever'" in r.stderr + r.stdout


def test_tun_10_10_a_failed_upgrade_keeps_the_connection_plain(httpd, backend, tmp_path):
    # the backend path answers 200 to a non-upgrade; a refused upgrade (no
    # tunnel) leaves nothing behind on a keep-alive connection
    h = httpd(_conf(backend), modules=PROXY_MODULES)
    h.ack("WSA0001", "SSG0001")
    ck, _ = _token(h)
    st, _, body = support.get(h.port, "/ws/", [("Cookie", ck),
                                               ("Origin", "http://127.0.0.1:%d" % h.port)])
    assert st == 200 and b"path" in body
    time.sleep(LIFETIME + 1.5)
    st, _, body = support.get(h.port, "/ws/", [("Cookie", ck)])
    assert st == 401                            # the session itself has expired


H2_CONF = "Protocols h2c http/1.1\nH2WebSockets on\nH2MinWorkers 2\nH2MaxWorkers 8\n"


def _h2_until_end(port, path, headers, timeout):
    """An RFC 8441 stream held open; returns (status, close code, reason,
    how the stream ended, when)."""
    import socket
    import struct
    import h2.config
    import h2.connection
    import h2.events
    import h2.settings

    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    conn = h2.connection.H2Connection(
        config=h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
    conn.initiate_connection()
    sock.sendall(conn.data_to_send())
    status = stream = None
    got = b""
    code = reason = ended = at = None
    t0 = time.time()
    try:
        while time.time() - t0 < timeout and ended is None:
            data = sock.recv(65536)
            if not data:
                ended = "eof"
                break
            for ev in conn.receive_data(data):
                if isinstance(ev, h2.events.RemoteSettingsChanged) and stream is None:
                    stream = conn.get_next_available_stream_id()
                    conn.send_headers(stream, [
                        (":method", "CONNECT"), (":protocol", "websocket"),
                        (":scheme", "http"), (":path", path),
                        (":authority", "127.0.0.1:%d" % port),
                        ("sec-websocket-version", "13")] + list(headers))
                elif isinstance(ev, h2.events.ResponseReceived):
                    status = int(dict(ev.headers)[":status"])
                    conn.send_data(stream, _frame("hello"))
                elif isinstance(ev, h2.events.DataReceived):
                    conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                    got += ev.data
                    while len(got) >= 2:
                        n = got[1] & 0x7F
                        if len(got) < 2 + n:
                            break
                        if got[0] == 0x88:
                            code = struct.unpack("!H", got[2:4])[0]
                            reason = got[4:2 + n].decode()
                            at = time.time()
                        got = got[2 + n:]
                elif isinstance(ev, (h2.events.StreamEnded, h2.events.StreamReset)):
                    ended = type(ev).__name__
                    at = at or time.time()
            sock.sendall(conn.data_to_send())
    finally:
        sock.close()
    return status, code, reason, ended, at, got


def test_tun_10_11_h2_websocket_stream_ends_at_the_lifetime(httpd, backend):
    h = httpd(_conf(backend, extra=H2_CONF), modules=PROXY_MODULES + ["http2"])
    ck, deadline = _token(h)
    st, code, reason, ended, at, rest = _h2_until_end(
        h.port, "/ws/", [("cookie", ck), ("origin", "http://127.0.0.1:%d" % h.port)],
        timeout=LIFETIME + 5)
    assert st == 200 and code == 1008 and reason == "session ended", (st, code, ended)
    assert ended in ("StreamEnded", "StreamReset") and rest == b""
    assert deadline - 0.05 <= at <= deadline + 1.0, at - deadline


def test_tun_10_12_many_busy_tunnels_random_frames_always_end_clean(httpd, backend):
    """Eight tunnels at once, each sending frames of its own random size
    (1 B .. 70 KiB, so the echo crosses every length encoding and many
    brigade splits): every one ends with a well-formed 1008 close or a
    clean TCP close, on time, never inside a frame."""
    import random
    import threading

    h = httpd(_conf(backend), modules=PROXY_MODULES)
    ck, deadline = _token(h)
    rnd = random.Random(16)
    sizes = [rnd.choice([1, 125, 126, 4000, 65535, 65536, 70000]) for _ in range(8)]
    tunnels = [Tunnel(h.port, "/ws/", ck) for _ in sizes]
    assert all(t.status == 101 for t in tunnels)
    ends = [None] * len(tunnels)

    def run(i):
        ends[i] = tunnels[i].run(timeout=LIFETIME + 5, busy=(sizes[i], 0.003))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(tunnels))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for size, end in zip(sizes, ends):
        assert end.clean, (size, end)
        assert deadline - 0.05 <= end.at <= deadline + 1.0, (size, end.at - deadline)
        if end.close_code is not None:
            assert end.close_code == 1008 and end.close_reason == "session ended", end
    assert sum(e.close_code == 1008 for e in ends) >= len(ends) - 1, ends
    for t in tunnels:
        t.close()
