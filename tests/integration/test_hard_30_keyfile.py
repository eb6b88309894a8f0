"""Fault: the key file goes bad under a running server (replaced by a
directory, a file with a short secret, an empty file, or removed), then an
admin restarts.

We run as root, so chmod 000 does not stop the read; the four breakages
above reach the same "refused at config time" branches (the EACCES case for
a non-root starter is test_ssg_20_23).

What an admin must do, and what these tests show:
  1. `apache2 -t` (or `apachectl configtest`) refuses the new configuration
     with a message naming SessionSignKeyFile, the path and the fix;
  2. the running server is untouched by the refused test: it keeps serving
     with the keys it read at its last (re)start, held tunnels keep echoing;
  3. a restart must go through `apachectl graceful` (Debian's apache2ctl
     runs `apache2 -t` first and sends nothing if it fails) or
     `apache2 -k graceful` (which parses the configuration itself before it
     signals, and exits 1 without signalling); a RAW SIGUSR1 to the parent
     (`kill -USR1 $(cat httpd.pid)`) re-reads the configuration inside the
     running parent, and on this error the parent exits: the whole server
     goes down (test_hard_30_03 shows it).
"""
import os
import shutil
import subprocess
import time

import pytest

import support
from test_hard_00_common import *  # noqa: F401,F403

SHORT = "short-secret-0123456789"          # 23 bytes: refused


def _break(kf, how):
    if kf.is_dir():
        shutil.rmtree(kf)
    elif kf.exists():
        kf.unlink()
    if how == "directory":
        kf.mkdir()
        return "not a regular file"
    if how == "short-secret":
        kf.write_text(SHORT + "\n")
        os.chmod(kf, 0o600)
        return "line 1: secret shorter than 32 bytes"
    if how == "empty":
        kf.write_text("")
        return "the file is empty"
    if how == "removed":
        return "cannot open it (No such file or directory)"
    raise ValueError(how)


def _serving(h, cookie, tunnel, tag):
    st, _, body = probe(h, cookie)
    assert st == 200 and b'"x-remote-user": "alice"' in body
    assert ws_echo_ok(tunnel, tag)
    fresh = RawWS(h.port, cookie=cookie)
    assert fresh.status == 101
    assert ws_echo_ok(fresh, tag + "-fresh")
    fresh.close()
    assert support.ws_handshake(h.port, "/ws/")[0] == 401


@pytest.mark.parametrize("how", ["directory", "short-secret", "empty", "removed"])
def test_hard_30_01_broken_key_file_is_refused_by_configtest_and_server_keeps_serving(
        httpd, backend, how):
    h = httpd(keyfile_gate(backend), modules=PROXY_MODULES, start=False)
    h.secret(SHORT)
    kf = write_keys(h, KEY1)
    h.start()
    h.ack("WSA0001")
    c = mint_cookie(h)
    tunnel = RawWS(h.port, cookie=c)
    assert tunnel.status == 101

    msg = _break(kf, how)
    t = h.configtest()
    out = t.stdout + t.stderr
    assert t.returncode != 0 and "Syntax OK" not in out
    assert "SessionSignKeyFile %s" % kf in out, out
    assert msg in out, out
    assert "session-sign genkey" in out or "one per line" in out   # the fix
    assert SHORT not in out and KEY1 not in out                   # no secret echoed

    # the refused test changed nothing in the running server
    _serving(h, c, tunnel, how)
    time.sleep(0.2)
    assert "SessionSignKeyFile" not in h.error_log()

    # the admin fixes the file; the test passes; a graceful restart applies it
    write_keys(h, KEY2, KEY1)
    assert h.configtest().returncode == 0
    gen0 = h.error_log().count("AH00489")
    h.graceful()
    assert wait_until(lambda: h.error_log().count("AH00489") > gen0, 15)
    assert wait_until(lambda: probe(h, mint_cookie(h, key=KEY2))[0] == 200, 10)
    _serving(h, c, tunnel, how + "-after")
    tunnel.close()


def test_hard_30_02_apache2_k_graceful_refuses_a_broken_key_file_without_signalling(
        httpd, backend):
    """`apache2 -k graceful` reads the configuration before it signals: on a
    bad key file it exits 1 with the message and the server stays up."""
    h = httpd(keyfile_gate(backend), modules=PROXY_MODULES, start=False)
    h.secret(SHORT)
    kf = write_keys(h, KEY1)
    h.start()
    c = mint_cookie(h)
    _break(kf, "short-secret")
    env = h._prepare()
    t = subprocess.run([support.APACHE, "-f", str(h.conf), "-k", "graceful"],
                       capture_output=True, text=True, env=env, timeout=30)
    out = t.stdout + t.stderr
    assert t.returncode != 0
    assert "SessionSignKeyFile %s: line 1: secret shorter than 32 bytes" % kf in out
    time.sleep(0.5)
    assert h.proc.poll() is None, "the running server exited"
    assert "AH00493" not in h.error_log()        # no restart was signalled
    assert probe(h, c)[0] == 200


def test_hard_30_03_raw_sigusr1_with_a_broken_key_file_stops_the_server(httpd, backend):
    """Why step 3 matters: SIGUSR1 straight to the parent makes it re-read
    the configuration itself; the bad key file is refused there (AH00526
    naming SessionSignKeyFile, on the error log) and the parent exits 1,
    taking the server down. Never fail open: the server does not go on with
    no keys or stale keys, it stops."""
    h = httpd(keyfile_gate(backend), modules=PROXY_MODULES, start=False)
    kf = write_keys(h, KEY1)
    h.start()
    c = mint_cookie(h)
    assert probe(h, c)[0] == 200
    _break(kf, "directory")
    assert h.configtest().returncode != 0     # what the admin should have run
    h.graceful()                              # raw SIGUSR1
    try:
        h.proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        pytest.fail("the parent survived a restart with a broken key file")
    assert h.proc.returncode != 0
    log = h.error_log()
    assert "AH00493: SIGUSR1 received" in log
    assert "SessionSignKeyFile %s: not a regular file" % kf in log
    # the children follow the parent; nothing answers on the port any more
    assert wait_until(lambda: _refused(h.port), 10), "something still answers"


def _refused(port):
    try:
        support.get(port, "/ws/probe")
    except OSError:
        return True
    return False
