"""Issue 15 point 6: memcached (Debian's memcached on a free loopback port)
passes the same core cases as Redis: a cookie minted at A passes at B,
logout at A refuses it at B, revoke-user refuses bob and not alice, and a
killed memcached is a 503 (deny)."""
import time

import pytest

import stores
from test_ssg_00_common import *  # noqa: F401,F403
from test_rev_05_shmcb_core import _login, _revoke
from test_rev_20_fleet_redis import _fleet, _until


@pytest.fixture
def memcached(tmp_path):
    m = stores.Memcached(tmp_path / "memcached").start()
    yield m
    m.stop()


def test_rev_30_01_memcached_core_cases(httpd, memcached):
    a, b = _fleet(httpd, memcached, n=2)
    tok = _login(a, "alice")
    bob = _login(a, "bob")
    b.secret(tok, bob)
    assert send(b, "/app/", tok)[0] == 200
    assert send(a, "/logout", tok)[0] == 200
    assert _until(lambda: send(b, "/app/", tok)[0] == 401, 3.0) is not None
    assert _revoke(b)[0] == 200
    assert _until(lambda: send(a, "/app/", bob)[0] == 401, 3.0) is not None
    alice2 = _login(b, "alice")
    a.secret(alice2)
    assert send(a, "/app/", alice2)[0] == 200


def test_rev_30_02_memcached_down_is_503(httpd, memcached):
    a, = _fleet(httpd, memcached, n=1)
    tok = _login(a, "alice")
    memcached.kill()
    time.sleep(1.1)
    st, hd, _ = send(a, "/app/", tok)
    assert st == 503 and header(hd, "Retry-After")
    assert a.wait_log("SSG0070: revocation cache memcache:127.0.0.1:%d" % memcached.port)
