#!/usr/bin/python3
"""cgi_env.py - a tiny CGI that shows what an application behind
mod_session_sign is told: the session (HTTP_SESSION, from SessionEnv On),
REMOTE_USER and AUTH_TYPE, as JSON. Used by tests/integration/test_ssg_40_*.
"""
import json
import os
import sys

out = {k: os.environ.get(k) for k in ("HTTP_SESSION", "REMOTE_USER", "AUTH_TYPE")}
body = json.dumps(out, sort_keys=True) + "\n"
sys.stdout.write("Content-Type: application/json\r\n"
                 "Content-Length: %d\r\n\r\n%s" % (len(body), body))
