#!/usr/bin/python3
"""The WebSocket echo backend of the tests (Debian's python3-websockets).

- A WebSocket connection echoes every message; the text "__headers__" is
  answered with a JSON object of the handshake's request headers (lowercase
  names, repeated headers joined with ", "), so tests see what Apache forwarded.
- A plain HTTP request (no Upgrade), e.g. a long-polling GET, is answered
  200 with {"path": ..., "headers": {...}}.
Usage: ws_backend.py PORT
"""
import asyncio
import http
import json
import signal
import sys

import websockets


def headers_dict(request_headers):
    out = {}
    for k, v in request_headers.raw_items():
        k = k.lower()
        out[k] = out[k] + ", " + v if k in out else v
    return out


async def process_request(path, request_headers):
    if "upgrade" not in request_headers.get("Connection", "").lower():
        body = json.dumps({"path": path, "headers": headers_dict(request_headers)})
        return (http.HTTPStatus.OK, [("Content-Type", "application/json")],
                body.encode())
    return None


async def echo(ws, path):
    seen = headers_dict(ws.request_headers)
    async for msg in ws:
        if msg == "__headers__":
            await ws.send(json.dumps(seen))
        else:
            await ws.send(msg)


async def main(port):
    stop = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set_result, None)
    async with websockets.serve(echo, "127.0.0.1", port,
                                process_request=process_request,
                                max_size=2 ** 20, ping_interval=None):
        await stop


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
