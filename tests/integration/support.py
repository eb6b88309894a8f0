"""Private httpd instances, backends and clients for the integration tests.

Every instance runs the freshly built modules (build/*.so) next to the real
mod_session, mod_session_cookie, mod_session_crypto, mod_session_dbd, proxy
modules etc. from /usr/lib/apache2/modules, on a free loopback port, in its
own process session. At stop, its error log is checked: any [warn] or worse
that the test did not acknowledge by tag fails the test, and so does any
secret, token or cookie value the test registered as sensitive.
"""
import base64
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build"
TOOLS = ROOT / "tests" / "tools"
sys.path.insert(0, str(TOOLS))
import ssg_ref  # noqa: E402  (the independent implementation of the format)

APACHE = "/usr/sbin/apache2"
MODDIR = "/usr/lib/apache2/modules"
PY = "/usr/bin/python3"

KEY1 = "k1-" + "A" * 40          # 43 bytes: valid secrets
KEY2 = "k2-" + "B" * 40
KEY3 = "k3-" + "C" * 40

BASE_MODULES = [
    "authn_core", "authz_core", "authz_user", "authz_host", "authz_groupfile",
    "auth_basic", "authn_file", "mime", "alias", "env", "setenvif", "headers",
    "session", "session_cookie",
]

# make check-asan: load our modules from another directory (the ASan build)
# and give every httpd process extra environment (the preloaded sanitizer
# runtimes; ASAN_OPTIONS/UBSAN_OPTIONS come from the caller's environment).
# Unset, nothing changes.
MODULE_DIR = Path(os.environ.get("SSG_MODULE_DIR") or BUILD).resolve()
HTTPD_PRELOAD = os.environ.get("SSG_HTTPD_PRELOAD", "")

LEVELS_BAD = ("warn", "error", "crit", "alert", "emerg")
# a crashed child is logged at notice level (AH00051/AH00052 ... exit
# signal ...): it fails the test whatever the level, unless acknowledged
CRASH = re.compile(r"AH0005[12]|exit signal (Segmentation|Aborted|Bus|Illegal|Floating)")
LOG_LINE = re.compile(r"^\[[^\]]*\] \[(?P<mod>[\w-]*):(?P<level>\w+)\]")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=15.0, proc=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("process exited with %s" % proc.returncode)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("port %d did not open" % port)


# directories under which the harness opens a test's ancestors to the
# workers (pytest creates its temporary directories 0700)
OPENABLE = (Path("/tmp"), BUILD)

# the account the workers run as when the tests run as root (User/Group)
WORKER_USER = "daemon"
_reach_cache = {}


def workers_reach(path):
    """True if the workers of a private httpd can reach the directory `path`.

    Run as root, the workers switch to WORKER_USER and must traverse every
    ancestor of the files they serve, run (CGI) or write (DBD, logs of
    their own). A checkout under a 0700 directory (root's home, a CI
    workspace) cannot be reached: the callers then move their run
    directories under /tmp. Not root: the workers are this user."""
    if os.geteuid() != 0:
        return True
    key = str(path)
    if key not in _reach_cache:
        r = subprocess.run(["runuser", "-u", WORKER_USER, "--", "test", "-x", key],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        _reach_cache[key] = r.returncode == 0
    return _reach_cache[key]


def stop_process(proc, timeout=10):
    """SIGTERM a process we started, wait up to `timeout` s, then SIGKILL.
    Nothing happens if it has already exited."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def open_to_workers(path):
    """Let the workers (User daemon) reach the directory `path`: they read
    htdocs, run CGI scripts and write data files under pytest's temporary
    directories, which pytest makes 0700 (in /tmp, or in build/ with make's
    --basetemp). Those ancestors get the search bit for all; nothing outside
    OPENABLE is touched, and a path still out of reach is an error."""
    p = Path(path)
    while p != p.parent and any(a in p.parents for a in OPENABLE):
        os.chmod(p, os.stat(p).st_mode | 0o711)
        p = p.parent
    if not workers_reach(path):
        raise RuntimeError(
            "%s: the workers (User %s) cannot reach this directory; run the "
            "tests from a checkout %s can traverse, or let pytest use its "
            "default temporary directory (no --basetemp)" % (path, WORKER_USER, WORKER_USER))


def load_line(name):
    return "LoadModule %s_module %s/mod_%s.so" % (name, MODDIR, name)


class Httpd:
    """A private Apache on 127.0.0.1:<free port>."""

    def __init__(self, root, body, mpm="event", modules=(), sign=True,
                 wsauth=True, loglevel=None,
                 listen_extra=(), preamble="", without=(), env=None):
        self.root = Path(root)
        # extra environment of the httpd process; SSG_HTTPD_PRELOAD's
        # runtimes are put in front of an LD_PRELOAD here, unless it
        # already lists them (in the order the test needs)
        self.env = dict(env or {})
        self.port = free_port()
        self.mpm = mpm
        # AH10240: mod_proxy_http logs it when a client hangs up right after
        # the 101 (our raw handshake helper does exactly that)
        # AH00045/AH00046: at stop, a child still serving a tunnel is killed
        # AH03092/AH03093: an httpd 2.4.71 event-MPM race when a client hangs
        # up right after its response (reproduced without our modules)
        self.acks = [r"AH00558", r"AH00098", r"AH10240", r"AH00045", r"AH00046",
                     r"AH03092", r"AH03093"]
        self.sensitive = set()
        self.proc = None
        # error-log ranges written while stop() shut the server down
        self.stop_windows = []
        for d in ("conf", "logs", "run", "htdocs", "data"):
            (self.root / d).mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o755)
        open_to_workers(self.root)
        os.chmod(self.root / "data", 0o777)
        (self.root / "htdocs" / "index.html").write_text("hello\n")
        mods = [load_line("mpm_" + mpm)] + [load_line(m) for m in BASE_MODULES
                                            if m not in without]
        for m in modules:
            if m not in BASE_MODULES:
                mods.append(load_line(m))
        if sign:
            mods.append("LoadModule session_sign_module %s/mod_session_sign.so" % BUILD)
        if wsauth:
            mods.append("LoadModule ws_auth_module %s/mod_ws_auth.so" % BUILD)
        if loglevel is None:
            loglevel = "warn" + (" session_sign:info" if sign else "") \
                + (" ws_auth:info" if wsauth else "")
        user = "User daemon\nGroup daemon\n" if os.geteuid() == 0 else ""
        listens = "\n".join("Listen 127.0.0.1:%d" % p for p in (self.port,) + tuple(listen_extra))
        self.conf = self.root / "conf" / "httpd.conf"
        self.conf.write_text(f"""
ServerRoot "{self.root}"
{listens}
ServerName 127.0.0.1
PidFile "{self.root}/run/httpd.pid"
DefaultRuntimeDir "{self.root}/run"
Mutex file:{self.root}/run default
ErrorLog "{self.root}/logs/error_log"
LogLevel {loglevel}
{user}
{chr(10).join(mods)}
TypesConfig /etc/mime.types
DocumentRoot "{self.root}/htdocs"
<Directory "{self.root}/htdocs">
    Require all granted
</Directory>
LogFormat "%h %u %>s \\"%r\\" ws_auth=%{{WS_AUTH}}e" wsa
CustomLog "{self.root}/logs/access_log" wsa
{preamble}
{body}
""")

    # ------------------------------------------------------------ lifecycle
    def _prepare(self):
        """Apply SSG_MODULE_DIR to the config as it is now (tests may have
        rewritten it, or loaded our modules from build/ in a preamble);
        return the environment for an httpd process."""
        if MODULE_DIR != BUILD.resolve():
            text = self.conf.read_text()
            for so in ("mod_session_sign.so", "mod_ws_auth.so"):
                text = text.replace("%s/%s" % (BUILD, so), "%s/%s" % (MODULE_DIR, so))
            self.conf.write_text(text)
        env = dict(os.environ)
        env.update(self.env)
        # the sanitizer runtimes first, unless the test placed them itself
        preload = [p for p in self.env.get("LD_PRELOAD", "").split(":") if p]
        for p in reversed([p for p in HTTPD_PRELOAD.split(":") if p]):
            if p not in preload:
                preload.insert(0, p)
        if preload:
            env["LD_PRELOAD"] = ":".join(preload)
        return env

    def configtest(self):
        return subprocess.run([APACHE, "-f", str(self.conf), "-t"],
                              capture_output=True, text=True, env=self._prepare())

    def start(self):
        t = self.configtest()
        if t.returncode != 0:
            raise RuntimeError("config refused:\n" + t.stderr + t.stdout)
        for attempt in range(3):
            self.proc = subprocess.Popen(
                [APACHE, "-f", str(self.conf), "-DFOREGROUND"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=open(self.root / "logs" / "stderr", "w"),
                start_new_session=True, env=self._prepare())
            # ours is up when our own process logged AH00489 and still runs
            # (a port taken by someone else makes httpd exit with AH00072)
            deadline = time.time() + 15
            while time.time() < deadline and self.proc.poll() is None:
                log = self.error_log()
                if "AH00489" in log and "pid %d:" % self.proc.pid in log:
                    break
                time.sleep(0.05)
            if self.proc.poll() is None:
                wait_port(self.port, proc=self.proc)
                return self
            old = self.port
            self.port = free_port()
            text = self.conf.read_text().replace("Listen 127.0.0.1:%d\n" % old,
                                                 "Listen 127.0.0.1:%d\n" % self.port)
            self.conf.write_text(text)
        raise RuntimeError("httpd did not start:\n" + self.error_log()[-2000:])

    def stop(self):
        if self.proc and self.proc.poll() is None:
            mark = len(self.error_log())
            stop_process(self.proc, timeout=20)
            self.stop_windows.append((mark, len(self.error_log())))
        self.proc = None

    def graceful(self):
        self._prepare()
        pid = int((self.root / "run" / "httpd.pid").read_text())
        os.kill(pid, signal.SIGUSR1)

    # ------------------------------------------------------------ logs
    def ack(self, *patterns):
        """Acknowledge expected [warn]/[error] lines by tag or regex."""
        self.acks.extend(patterns)

    def secret(self, *values):
        """Register values that must never appear in a log."""
        for v in values:
            if v and len(v) >= 8:
                self.sensitive.add(v)

    def error_log(self):
        p = self.root / "logs" / "error_log"
        return p.read_text(errors="replace") if p.exists() else ""

    def access_log(self):
        p = self.root / "logs" / "access_log"
        return p.read_text(errors="replace") if p.exists() else ""

    def unexpected_log_lines(self):
        bad = []
        pos = 0
        for line in self.error_log().splitlines(keepends=True):
            start, pos = pos, pos + len(line)
            line = line.rstrip("\r\n")
            m = LOG_LINE.match(line)
            if not m:
                continue
            if m.group("level") not in LEVELS_BAD:
                # a crashed child counts, except while stop() shuts the
                # server down: stock httpd 2.4.71 (event MPM, without our
                # modules) segfaults a child in ~1 of 300 SIGTERM stops
                if not CRASH.search(line) or any(a <= start < b for a, b in self.stop_windows):
                    continue
            if any(re.search(a, line) for a in self.acks):
                continue
            # AH00468 "error closing socket": the event MPM closing a
            # connection a client already reset, seen while stop() shut the
            # server down (test_ssg_50, once in ~900 tests); only there
            if "AH00468" in line and any(a <= start < b for a, b in self.stop_windows):
                continue
            bad.append(line)
        return bad

    def leaked(self):
        text = self.error_log() + self.access_log()
        return [s for s in self.sensitive if s in text]

    def wait_log(self, pattern, timeout=5.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if re.search(pattern, self.error_log()):
                return True
            time.sleep(0.05)
        return False

    @property
    def base(self):
        return "http://127.0.0.1:%d" % self.port


# ---------------------------------------------------------------- tokens

def mint(payload, key=KEY1, context="default", iat=None, keys=None, version=1, sid=None):
    """Mint a token with the independent Python implementation: v1, or v2
    (version=2) carrying sid, a new random session id unless given."""
    if iat is None:
        iat = int(time.time())
    if isinstance(payload, str):
        payload = payload.encode()
    ks = [k.encode() for k in (keys or [key])]
    if version == 2:
        return ssg_ref.sign(ks, context, iat, payload, sid=sid or ssg_ref.new_sid())
    if version != 1 or sid is not None:
        raise ValueError("a v1 token has no session id")
    return ssg_ref.sign(ks, context, iat, payload)


def verify(token, keys=(KEY1,), context="default", now=None, max_lifetime=0):
    return ssg_ref.verify([k.encode() for k in keys], context, token,
                          int(time.time()) if now is None else now, max_lifetime)


# ---------------------------------------------------------------- raw HTTP

def raw_request(port, raw, timeout=10.0, read_body=True):
    """Send raw bytes; return (status, headers list, body bytes)."""
    if isinstance(raw, str):
        raw = raw.encode("latin-1")
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(raw)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        if not lines or not lines[0].startswith("HTTP/"):
            return None, [], data
        status = int(lines[0].split()[1])
        headers = []
        for l in lines[1:]:
            k, _, v = l.partition(":")
            headers.append((k.strip().lower(), v.strip()))
        body = rest
        if status == 101:
            # close the tunnel the way a client does: a masked close frame,
            # then wait for the server to close, so no child is left behind
            try:
                s.sendall(b"\x88\x82" + b"\x00\x00\x00\x00" + b"\x03\xe8")
                s.settimeout(3)
                while s.recv(65536):
                    pass
            except OSError:
                pass
        if read_body and status != 101:
            hd = dict(headers)
            if "content-length" in hd:
                n = int(hd["content-length"])
                while len(body) < n:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    body += chunk
            elif hd.get("transfer-encoding", "").lower() == "chunked":
                while not body.endswith(b"0\r\n\r\n"):
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    body += chunk
        return status, headers, body


def get(port, path, headers=(), method="GET", body=b"", host=None):
    host = host or "127.0.0.1:%d" % port
    h = "".join("%s: %s\r\n" % (k, v) for k, v in headers)
    if body:
        h += "Content-Length: %d\r\n" % len(body)
    raw = ("%s %s HTTP/1.1\r\nHost: %s\r\n%sConnection: close\r\n\r\n"
           % (method, path, host, h)).encode("latin-1") + body
    return raw_request(port, raw)


def ws_handshake(port, path, cookie=None, origin="same", headers=(), host=None,
                 connection="Upgrade", upgrade="websocket"):
    """A raw RFC 6455 handshake; returns (status, headers, body)."""
    host = host or "127.0.0.1:%d" % port
    h = [("Host", host)]
    if upgrade is not None:
        h.append(("Upgrade", upgrade))
    if connection is not None:
        h.append(("Connection", connection))
    h += [("Sec-WebSocket-Key", base64.b64encode(os.urandom(16)).decode()),
          ("Sec-WebSocket-Version", "13")]
    if origin == "same":
        h.append(("Origin", "http://" + host))
    elif origin is not None:
        h.append(("Origin", origin))
    if cookie is not None:
        h.append(("Cookie", cookie))
    h += list(headers)
    raw = "GET %s HTTP/1.1\r\n%s\r\n" % (path, "".join("%s: %s\r\n" % kv for kv in h))
    return raw_request(port, raw)


def header(headers, name):
    name = name.lower()
    for k, v in headers:
        if k == name:
            return v
    return None


def set_cookies(headers):
    return [v for k, v in headers if k == "set-cookie"]


def cookie_value(headers, name="session"):
    """The value of the last Set-Cookie for name ('' when removed)."""
    val = None
    for sc in set_cookies(headers):
        first = sc.split(";", 1)[0]
        k, _, v = first.partition("=")
        if k.strip() == name:
            val = v.strip()
    return val


# ---------------------------------------------------------------- backends

class Backend:
    """The real WebSocket echo backend (Debian's python3-websockets)."""

    def __init__(self, root):
        self.port = free_port()
        self.log = open(Path(root) / "backend.log", "w")
        self.proc = subprocess.Popen(
            [PY, str(TOOLS / "ws_backend.py"), str(self.port)],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_port(self.port, proc=self.proc)

    def stop(self):
        stop_process(self.proc)
        self.log.close()


def ws_session(port, path, cookie=None, origin=None, messages=("hello",),
               extra_headers=(), want_headers=False, timeout=10):
    """A complete WebSocket session through the tunnel with the websockets
    library: returns the echoed messages (and the headers the backend saw)."""
    import asyncio
    import websockets

    async def run():
        hdrs = list(extra_headers)
        if cookie:
            hdrs.append(("Cookie", cookie))
        async with websockets.connect(
                "ws://127.0.0.1:%d%s" % (port, path), extra_headers=hdrs,
                origin=origin or "http://127.0.0.1:%d" % port,
                open_timeout=timeout, close_timeout=2) as ws:
            out = []
            for m in messages:
                await ws.send(m)
                out.append(await asyncio.wait_for(ws.recv(), timeout))
            seen = None
            if want_headers:
                await ws.send("__headers__")
                seen = json.loads(await asyncio.wait_for(ws.recv(), timeout))
            return out, seen

    return asyncio.run(run())
