"""The real Express app of tests/express-app (express-session, connect-redis,
Socket.IO) on a free loopback port, with its own Redis (stores.Redis), and
the private Apache in front of it with WSAuthSource express. Every process
is started in a session of its own and stopped by PID."""
import json
import os
import subprocess
import urllib.parse

import stores
import support

APP = support.ROOT / "tests" / "express-app"
NODE = os.environ.get("NODE", "node")

SECRET_A = "express-secret-A-" + "a" * 32        # the app signs with its first
SECRET_B = "express-secret-B-" + "b" * 32
SECRET_OTHER = "express-secret-X-" + "x" * 32    # another site's
FSIG_KEY = "forward-sig-key-" + "f" * 32
USERS = {"alice": "wonderland", "bob": "builder", "n42": "numeric"}


def have_packages():
    return (APP / "node_modules" / "express-session").is_dir()


class ExpressApp:
    def __init__(self, root, redis, secrets=(SECRET_A, SECRET_B), fsig=True, env=None):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.port = support.free_port()
        self.secret_file = root / "app-secrets"
        self.secret_file.write_text("\n".join(secrets) + "\n")
        self.fsig_file = root / "forward.keys"
        self.fsig_file.write_text("# the key Apache signs the forwarded identity with\n"
                                  + FSIG_KEY + "\n")
        e = dict(os.environ, PORT=str(self.port), SECRET_FILE=str(self.secret_file),
                 REDIS_URL="redis://127.0.0.1:%d" % redis.port)
        if fsig:
            e["FSIG_KEY_FILE"] = str(self.fsig_file)
        e.update(env or {})
        self.log = open(root / "app.log", "w")
        self.proc = subprocess.Popen([NODE, str(APP / "server.js")], stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=subprocess.STDOUT, env=e,
                                     start_new_session=True)
        support.wait_port(self.port, proc=self.proc)

    def stop(self):
        support.stop_process(self.proc)
        self.log.close()


def apache_conf(app, redis, secret_file, store=True, fsig=True, extra="", server_extra=""):
    """Apache in front of the app: the app's pages pass, its Socket.IO and
    /api/ are guarded with the app's own cookie."""
    guard = f"""
    WSAuth On
    WSAuthSource express
    WSAuthExpressSecretFile "{secret_file}"
    {"WSAuthExpressStore redis://127.0.0.1:%d/0 prefix=sess:" % redis.port if store else ""}
    WSAuthForwardHeader X-Remote-User passport.user
    WSAuthForwardHeader X-Remote-Role role
    {'WSAuthForwardSignature X-WS-Auth-Signature "%s"' % app.fsig_file if fsig else ""}
    {extra}
"""
    return f"""
{server_extra}
ProxyPass /socket.io/ http://127.0.0.1:{app.port}/socket.io/ upgrade=websocket
ProxyPass /api/ http://127.0.0.1:{app.port}/api/
ProxyPass / http://127.0.0.1:{app.port}/
<Location /socket.io/>
{guard}
</Location>
<Location /api/>
{guard}
</Location>
"""


def start_apache(httpd, app, redis, modules=(), mpm="event", **kw):
    h = httpd(apache_conf(app, redis, app.secret_file, **kw),
              modules=["proxy", "proxy_http", "proxy_wstunnel"] + list(modules), sign=False,
              mpm=mpm)
    h.ack("WSA0001")
    h.secret(SECRET_A, SECRET_B, SECRET_OTHER, FSIG_KEY)
    return h


def login(port, user="alice", password=None):
    """POST the app's login form through Apache: the connect.sid cookie."""
    body = urllib.parse.urlencode({"username": user,
                                   "password": password or USERS[user]}).encode()
    st, hd, _ = support.get(port, "/login", method="POST", body=body,
                            headers=[("Content-Type", "application/x-www-form-urlencoded")])
    assert st == 303, st
    val = support.cookie_value(hd, "connect.sid")
    assert val and val.startswith("s%3A"), hd
    return "connect.sid=" + val


def sid_of(cookie):
    v = urllib.parse.unquote(cookie.split("=", 1)[1])
    return v[2:v.rindex(".")]


def probe(port, cookie, polling=False):
    """socket.io-client through Apache: its JSON verdict."""
    argv = [NODE, str(APP / "probe.js"), "http://127.0.0.1:%d" % port, cookie or ""]
    if polling:
        argv.append("--polling")
    r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    return json.loads(r.stdout.strip().splitlines()[-1])


__all__ = ["ExpressApp", "stores", "apache_conf", "start_apache", "login", "probe", "sid_of"]
