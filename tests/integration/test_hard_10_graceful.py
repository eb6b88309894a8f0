"""Fault: a graceful restart (`apache2 -k graceful`, i.e. SIGUSR1 to the
parent) with WebSocket tunnels open and a rotated key file (the new key
first, the old one second).

What must hold: the established tunnels keep echoing (old children finish
them: GracefulShutdownTimeout is 0, wait for ever, the default), old
cookies still pass and are re-signed with the new key (the Set-Cookie
verifies with the new key alone), sessions of the new key pass once the new
generation serves, and nothing answers 5xx while the restart happens.
"""
import time

import support
from test_hard_00_common import *  # noqa: F401,F403


def test_hard_10_01_graceful_with_rotated_key_file_keeps_tunnels_and_resigns(httpd, backend):
    h = httpd(keyfile_gate(backend), modules=PROXY_MODULES, start=False)
    write_keys(h, KEY1)
    h.start()
    # refusals of the KEY2 session before the rotation are expected
    h.ack("WSA0001", "SSG0001")
    old = mint_cookie(h, "user=alice")
    new = mint_cookie(h, "user=bob", key=KEY2)

    tunnels = [RawWS(h.port, cookie=old) for _ in range(4)]
    assert [t.status for t in tunnels] == [101] * 4
    assert all(ws_echo_ok(t, "before-%d" % i) for i, t in enumerate(tunnels))
    assert probe(h, new)[0] == 401                # KEY2 unknown so far

    traffic = Traffic(h.port, "/ws/probe", old, max_seconds=25)
    traffic.start()
    try:
        write_keys(h, KEY2, KEY1)                 # rotate: new first, old second
        gen0 = h.error_log().count("AH00489")
        h.graceful()
        assert wait_until(lambda: h.error_log().count("AH00489") > gen0, 15), \
            "no new generation after SIGUSR1:\n" + h.error_log()[-2000:]
        # the new generation takes the new key
        assert wait_until(lambda: probe(h, new)[0] == 200, 10), \
            "a KEY2 session is still refused after the graceful restart"
        time.sleep(0.3)                           # some traffic on the new generation
    finally:
        statuses = traffic.stop()
    assert not traffic.errors, traffic.errors[:5]
    print("traffic during the graceful restart:", statuses)
    assert statuses and set(statuses) == {200}, statuses

    # the tunnels opened before the restart still echo, each of them
    assert [ws_echo_ok(t, "after-%d" % i) for i, t in enumerate(tunnels)] == [True] * 4

    # the old cookie passes, and comes back re-signed with the new key
    st, hd, body = probe(h, old)
    assert st == 200
    assert b'"x-remote-user": "alice"' in body
    resigned = support.cookie_value(hd)
    assert resigned, "an old-key session must be re-signed after the rotation"
    h.secret(resigned)
    status, payload, _, idx = support.verify(resigned, keys=(KEY2,))
    assert (status, idx) == ("ok", 0) and payload == b"user=alice"
    assert support.verify(resigned, keys=(KEY1,))[0] == "unknown-key"
    assert h.wait_log(r"SSG0002: session signed with an older key")

    # a new tunnel with the old cookie opens on the new generation
    late = RawWS(h.port, cookie=old)
    assert late.status == 101
    assert ws_echo_ok(late, "late")
    for t in tunnels + [late]:
        t.close()


def test_hard_10_02_second_graceful_retiring_the_old_key_refuses_only_old_cookies(httpd, backend):
    """The rotation's last step: the old key leaves the file. The tunnels
    opened with it stay (authorization happens at the handshake), new
    handshakes with it are refused, the re-signed cookie passes."""
    h = httpd(keyfile_gate(backend), modules=PROXY_MODULES, start=False)
    write_keys(h, KEY2, KEY1)
    h.start()
    h.ack("WSA0001", "SSG0001")
    old = mint_cookie(h, "user=alice")
    st, hd, _ = probe(h, old)
    assert st == 200
    resigned = support.cookie_value(hd)
    h.secret(resigned)
    tunnel = RawWS(h.port, cookie=old)
    assert tunnel.status == 101

    write_keys(h, KEY2)
    gen0 = h.error_log().count("AH00489")
    h.graceful()
    assert wait_until(lambda: h.error_log().count("AH00489") > gen0, 15)
    assert wait_until(lambda: probe(h, old)[0] == 401, 10), \
        "a KEY1 session still passes after KEY1 left the key file"
    assert probe(h, "session=" + resigned)[0] == 200
    refused = RawWS(h.port, cookie=old)
    assert refused.status == 401
    refused.close()
    assert ws_echo_ok(tunnel, "held")
    tunnel.close()
