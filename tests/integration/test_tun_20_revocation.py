"""Issue 16: revocation (issue 9) closes open tunnels, on one host (shmcb)
and across a fleet (a real Redis): logout, revoke-user; the checks reuse
the per-child memory and interval, so the cache operations per second do
not grow with the number of tunnels of one session. Real logins, the real
echo backend, the strict raw client of tunnel_client.py."""
import time

import pytest

import stores
from test_ssg_00_common import *  # noqa: F401,F403
from test_rev_05_shmcb_core import _server, _login, _revoke
from test_rev_20_fleet_redis import _fleet
from tunnel_client import Tunnel

ONE_CHILD = ("StartServers 1\nServerLimit 1\nThreadsPerChild 25\nMaxRequestWorkers 25\n"
             "MinSpareThreads 1\nMaxSpareThreads 25\n")


@pytest.fixture
def redis(tmp_path):
    r = stores.Redis(tmp_path / "redis").start()
    yield r
    r.stop()


def _open(h, tok):
    t = Tunnel(h.port, "/ws/", "session=" + tok)
    assert t.status == 101 and t.echo()
    return t


def _revoked_end(t, t0, within):
    end = t.run(timeout=within + 2)
    assert end.clean, end
    assert end.close_code == 1008 and end.close_reason == "session revoked", end
    assert end.at - t0 <= within, end.at - t0
    return end


def test_tun_20_01_logout_closes_the_open_tunnel(httpd, backend):
    h = _server(httpd, backend)
    tok = _login(h, "alice")
    t = _open(h, tok)
    other = _open(h, _login(h, "alice"))       # another session of alice's
    t0 = time.time()
    assert send(h, "/logout", tok)[0] == 200
    _revoked_end(t, t0, 1.5)
    assert other.echo()                         # only the session logged out
    t.close()
    other.close()
    assert h.wait_log(r"WSA0040: tunnel ended \(session revoked\): user alice")


def test_tun_20_02_revoke_user_closes_that_users_tunnels_only(httpd, backend):
    h = _server(httpd, backend)
    bob1, bob2, alice = (_open(h, _login(h, u)) for u in ("bob", "bob", "alice"))
    t0 = time.time()
    assert _revoke(h)[0] == 200
    _revoked_end(bob1, t0, 1.5)
    _revoked_end(bob2, t0, 1.5)
    assert alice.echo()
    for t in (bob1, bob2, alice):
        t.close()


def test_tun_20_03_busy_tunnel_closed_at_a_frame_boundary(httpd, backend):
    h = _server(httpd, backend)
    tok = _login(h, "bob")
    t = _open(h, tok)
    t0 = time.time()
    assert send(h, "/logout", tok)[0] == 200
    end = t.run(timeout=4, busy=(16384, 0.002))
    assert end.clean and end.close_code == 1008, end
    assert end.close_reason == "session revoked" and end.at - t0 <= 1.5
    t.close()


def test_tun_20_04_fleet_logout_at_a_closes_bobs_tunnel_at_b_within_2s(httpd, backend, redis):
    a, b = _fleet(httpd, redis, n=2, backend=backend)
    tok = _login(a, "bob")
    b.secret(tok)
    t = _open(b, tok)
    t0 = time.time()
    assert send(a, "/logout", tok)[0] == 200
    _revoked_end(t, t0, 2.0)
    t.close()
    assert b.wait_log(r"WSA0040: tunnel ended \(session revoked\): user bob")


def test_tun_20_05_fleet_revoke_user_at_a_closes_tunnels_at_b(httpd, backend, redis):
    a, b = _fleet(httpd, redis, n=2, backend=backend)
    tok = _login(b, "bob")
    a.secret(tok)
    t = _open(b, tok)
    t0 = time.time()
    assert _revoke(a)[0] == 200
    _revoked_end(t, t0, 2.0)
    t.close()


def _ops_per_second(redis, seconds=3.0):
    c0, t0 = redis.commands(), time.time()
    time.sleep(seconds)
    return (redis.commands() - c0 - 1) / (time.time() - t0)   # -1: our own INFO


def test_tun_20_06_cache_ops_do_not_grow_with_the_tunnels_of_one_session(httpd, backend, redis):
    (h,) = _fleet(httpd, redis, n=1, backend=backend, extra=ONE_CHILD)
    tok = _login(h, "bob")
    one = [_open(h, tok)]
    time.sleep(1.2)
    ops_one = _ops_per_second(redis)
    many = one + [_open(h, tok) for _ in range(11)]
    time.sleep(1.2)
    ops_many = _ops_per_second(redis)
    print("cache ops/s: 1 tunnel %.2f, 12 tunnels %.2f" % (ops_one, ops_many))
    assert ops_one > 0.5                      # the open tunnel is being checked
    assert ops_many <= ops_one * 1.5 + 1, (ops_one, ops_many)
    for t in many:
        t.close()


def test_tun_20_07_h2_websocket_stream_ends_on_logout(httpd, backend):
    import threading
    from test_tun_10_lifetime import H2_CONF, _h2_until_end
    h = _server(httpd, backend, top="SessionSignRevocationCache shmcb\n" + H2_CONF,
                modules=("socache_shmcb", "http2"))
    tok = _login(h, "alice")
    out = {}

    def hold():
        out["r"] = _h2_until_end(h.port, "/ws/", [("cookie", "session=" + tok),
                                                  ("origin", "http://127.0.0.1:%d" % h.port)],
                                 timeout=8)

    th = threading.Thread(target=hold)
    th.start()
    time.sleep(1.0)                              # the stream is open and echoing
    t0 = time.time()
    assert send(h, "/logout", tok)[0] == 200
    th.join()
    st, code, reason, ended, at, rest = out["r"]
    assert st == 200 and code == 1008 and reason == "session revoked", out["r"]
    assert ended in ("StreamEnded", "StreamReset") and rest == b""
    assert at - t0 <= 1.5, at - t0
