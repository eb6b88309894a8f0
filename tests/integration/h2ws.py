"""RFC 8441 WebSocket over HTTP/2 (h2c, prior knowledge) with python3-h2.

h2ws(port, path, headers) -> (status, echoed or None): sends extended CONNECT
(:protocol websocket); on 200 sends one masked text frame and returns the
echoed text.
"""
import os
import socket
import struct

import h2.config
import h2.connection
import h2.events
import h2.settings


def _frame(text):
    payload = text.encode()
    mask = os.urandom(4)
    head = bytes([0x81])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    else:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def _parse_frame(buf):
    if len(buf) < 2:
        return None
    n = buf[1] & 0x7F
    off = 2
    if n == 126:
        if len(buf) < 4:
            return None
        n = struct.unpack("!H", buf[2:4])[0]
        off = 4
    if len(buf) < off + n:
        return None
    return buf[off:off + n].decode()


def h2ws(port, path, headers=(), message="hello over h2", timeout=10):
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    conn = h2.connection.H2Connection(
        config=h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
    conn.initiate_connection()
    sock.sendall(conn.data_to_send())
    status = None
    stream = None
    got = b""
    enabled = False
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                return status, None
            for ev in conn.receive_data(data):
                if isinstance(ev, h2.events.RemoteSettingsChanged):
                    s = ev.changed_settings.get(h2.settings.SettingCodes.ENABLE_CONNECT_PROTOCOL)
                    if s is not None and s.new_value == 1:
                        enabled = True
                    elif stream is None:
                        raise AssertionError("server did not enable RFC 8441 "
                                             "(H2WebSockets on?)")
                elif isinstance(ev, h2.events.ResponseReceived):
                    status = int(dict(ev.headers)[":status"])
                    if status != 200:
                        return status, None
                    conn.send_data(stream, _frame(message))
                elif isinstance(ev, h2.events.DataReceived):
                    conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                    if status == 200:
                        got += ev.data
                        text = _parse_frame(got)
                        if text is not None:
                            return status, text
                elif isinstance(ev, h2.events.StreamEnded) and status != 200:
                    return status, None
                elif isinstance(ev, h2.events.StreamReset):
                    return status, None
            if stream is None and enabled:
                stream = conn.get_next_available_stream_id()
                hdrs = [(":method", "CONNECT"), (":protocol", "websocket"),
                        (":scheme", "http"), (":path", path),
                        (":authority", "127.0.0.1:%d" % port),
                        ("sec-websocket-version", "13")] + list(headers)
                conn.send_headers(stream, hdrs)
            sock.sendall(conn.data_to_send())
    finally:
        sock.close()
