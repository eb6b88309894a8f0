#!/usr/bin/python3
"""cgi_login.py - a tiny CGI standing in for an application that signs users
in itself: it answers with the SessionHeader response header
(X-Replace-Session), which mod_session decodes into the session, and
mod_session_sign then signs. Used by tests/integration/test_ssg_40_stacking.py.

    GET /cgi/cgi_login.py            -> X-Replace-Session: user=bob&role=x
    GET /cgi/cgi_login.py?as=carol   -> X-Replace-Session: user=carol&role=x
    GET /cgi/cgi_login.py?logout=1   -> X-Replace-Session: user=&role=
"""
import os
import re
import sys

query = os.environ.get("QUERY_STRING", "")
m = re.fullmatch(r"as=([a-z0-9]{1,32})", query)
if query == "logout=1":
    session = "user=&role="
else:
    session = "user=%s&role=x" % (m.group(1) if m else "bob")
sys.stdout.write("Content-Type: text/plain\r\n"
                 "X-Replace-Session: %s\r\n"
                 "\r\n"
                 "ok\n" % session)
