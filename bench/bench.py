#!/usr/bin/python3
"""make bench: the cost of the WebSocket gate, side by side with the
alternatives, in one run (issue #5). See docs/performance.md.

Three private Apache httpd 2.4 instances (event MPM, access log off, children
and threads pre-started, the same loaded modules) stand in front of the same
C WebSocket echo backend (bench/wsecho.c):

  P  plain proxy, no authentication (the ceiling)
  S  mod_session_sign + mod_ws_auth (WSAuth On, default Origin check,
     WSAuthForwardHeader X-Remote-User user)
  F  mod_auth_form + mod_session + mod_session_cookie + mod_session_crypto
     (AuthType form, bcrypt AuthUserFile, SessionCryptoPassphrase)

Both S and F get their session from their own login handler first. The
configurations are measured interleaved (P S F P S F ...) over several
rounds; medians, spreads and ratios to P go to a Markdown table (stdout and
bench/results/<timestamp>.md), raw figures to .json, a chart to .png.

Only the standard library; run with Debian's /usr/bin/python3. Timing-critical
work is done by C programs (bench/wsload.c, bench/micro.c) and wrk.
"""
import argparse
import datetime
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# the integration tests' helpers: a free loopback port, waiting for a server
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from support import free_port, stop_process, wait_port  # noqa: E402
APACHE = "/usr/sbin/apache2"
MODDIR = "/usr/lib/apache2/modules"
TICK = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024

USER, PASSWORD = "bench", "bench-password-1"
SIGN_KEY = "bench-" + "k" * 40                     # 46 bytes
CRYPTO_PASS = "bench-crypto-passphrase"

CONFIGS = ("P", "S", "F")
# where S's cost goes, measured on guarded GETs only: P plus mod_session's
# cookie session (Pm), plus mod_session_sign verifying it (Pk); S adds the
# gate. M, beside them: the reference minimal HMAC-cookie gate (issue 5:
# "the minimal gate cost ~5 us: beat it"), bench/mod_min_gate.c on P
BREAKDOWN = ("Pm", "Pk", "M")
# An instance that has carried WebSocket tunnels spends ~1-2% more CPU on
# each later GET than a fresh one (measured: M/P +1.9% when only P and S had
# run handshakes before, +3.2% when M had too). M is compared with P and S
# in the concurrent runs, so it gets the same history: every handshake
# measurement, sequential and concurrent, includes it.
HS_WITH = ("M",)
LABELS = {
    "Pm": "P + Session On + SessionCookieName (mod_session loads the cookie)",
    "Pk": "Pm + SessionSignKey (every request's session verified, no gate)",
    "M": "P + the minimal HMAC-cookie gate (bench/mod_min_gate.c: our token, same core, "
         "no session framework, 1 forwarded header)",
    "P": "plain proxy, no authentication (ceiling)",
    "S": "mod_session_sign + mod_ws_auth (WSAuth On, Origin check, 1 forwarded header)",
    "F": "mod_auth_form + mod_session_cookie + mod_session_crypto (bcrypt AuthUserFile)",
}

# every instance loads the same modules; only the configuration differs
MODULES = ["mpm_event", "authn_core", "authz_core", "authz_user", "authn_file",
           "auth_basic", "auth_form", "request", "session", "session_cookie",
           "session_crypto", "proxy", "proxy_http", "proxy_wstunnel"]

THREADS_PER_CHILD = 1100
INSTR_BASE, INSTR_GETS = 200, 1000                 # callgrind: GETs per run, 2 runs
SYSCALL_REPS = 3                                   # strace: the same 2 runs, P S P S P S
SERVER_LIMIT = 2                                   # 2,200 workers > 2,000 tunnels
# LD_PRELOAD shim (bench/futex_slots.c) and its slot count for every httpd
# instance; None: the kernel's default private futex hash (see --futex-slots)
FUTEX_SHIM = None
FUTEX_SLOTS = 4096

# error-log tags expected under load and at stop (see tests/integration/support.py)
LOG_ACKS = ("AH00558", "AH00098", "AH10240", "AH00045", "AH00046", "AH03092",
            "AH03093", "AH00489", "AH00094", "AH00491", "AH00493")


def log(msg):
    print("[bench %s] %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


# ------------------------------------------------------------------ /proc

def proc_stat(pid):
    """(ppid, utime+stime ticks) of a process, or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
    except OSError:
        return None
    rest = s[s.rindex(")") + 2:].split()
    return int(rest[1]), int(rest[11]) + int(rest[12])


def children_of(pid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = proc_stat(int(d))
            if st and st[0] == pid:
                out.append(int(d))
    return sorted(out)


def tree_cpu_ticks(pid):
    """utime+stime of the parent and all its children (live ones)."""
    total = 0
    for p in [pid] + children_of(pid):
        st = proc_stat(p)
        if st:
            total += st[1]
    return total


def rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def threads_of(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("Threads:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def system_busy_ticks():
    """Busy ticks per CPU (user+nice+system+irq+softirq+steal)."""
    out = {}
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu") and line[3].isdigit():
                v = [int(x) for x in line.split()[1:]]
                out[line.split()[0]] = v[0] + v[1] + v[2] + v[5] + v[6] + v[7]
    return out


# ------------------------------------------------------------------ helpers

def raw_http(port, raw, timeout=10.0):
    """Send raw bytes; return (status, [(name, value)]). Closes after the head
    (a 101 is ended with a close frame first)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(raw.encode("latin-1"))
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
        if not head or not head[0].startswith("HTTP/"):
            return None, []
        status = int(head[0].split()[1])
        hdrs = [(k.strip().lower(), v.strip()) for k, _, v in
                (line.partition(":") for line in head[1:])]
        if status == 101:
            try:
                s.sendall(b"\x88\x82\x00\x00\x00\x00\x03\xe8")
                s.settimeout(3)
                while s.recv(65536):
                    pass
            except OSError:
                pass
        return status, hdrs


def handshake(port, cookie=None, origin="same", path="/ws/"):
    host = "127.0.0.1:%d" % port
    h = ("GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
         % (path, host))
    if origin == "same":
        h += "Origin: http://%s\r\n" % host
    elif origin:
        h += "Origin: %s\r\n" % origin
    if cookie:
        h += "Cookie: %s\r\n" % cookie
    return raw_http(port, h + "\r\n")[0]


def plain_get(port, cookie=None, path="/ws/"):
    h = "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n" % (path, port)
    if cookie:
        h += "Cookie: %s\r\n" % cookie
    return raw_http(port, h + "\r\n")[0]


def post_form(port, path, body):
    h = ("POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n"
         "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s"
         % (path, port, len(body), body))
    return raw_http(port, h)


def session_cookie(hdrs, name="session"):
    for k, v in hdrs:
        if k == "set-cookie":
            first = v.split(";", 1)[0]
            n, _, val = first.partition("=")
            if n.strip() == name and val.strip():
                return "%s=%s" % (name, val.strip())
    return None


NICE = 0


def pinned(cpus, argv):
    """argv under taskset (CPU list) and nice (NICE), both exec in place."""
    if NICE:
        argv = ["nice", "-n", str(NICE)] + argv
    return (["taskset", "-c", cpus] + argv) if cpus else argv


def run_measured(argv, stdin=None, timeout=None):
    """Run a client; return (stdout text, rusage cpu seconds, wall seconds)."""
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL if stdin is None else stdin,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        raise RuntimeError("%s timed out" % argv[0])
    return out, err, p.returncode, time.monotonic() - t0


def kv(text):
    out = {}
    for line in text.splitlines():
        k, sep, v = line.partition("=")
        if sep:
            try:
                out[k.strip()] = float(v)
            except ValueError:
                out[k.strip()] = v.strip()
    return out


def to_us(s):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", s)
    if not m:
        return None
    v = float(m.group(1))
    return v * {"us": 1, "ms": 1e3, "s": 1e6, "m": 6e7}[m.group(2)]


def parse_wrk(text):
    r = {}
    m = re.search(r"(\d+) requests in ([\d.]+)(\w+),", text)
    if m:
        r["requests"] = int(m.group(1))
        r["duration_s"] = to_us(m.group(2) + m.group(3)) / 1e6
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    r["rate"] = float(m.group(1)) if m else 0.0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    r["non2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    r["socket_errors"] = sum(int(x) for x in m.groups()) if m else 0
    for pct in ("50", "99"):
        m = re.search(r"^\s+%s%%\s+([\d.]+\w+)" % pct, text, re.M)
        r["p%s_us" % pct] = to_us(m.group(1)) if m else None
    return r


PERF_CATEGORIES = ("OpenSSL (libcrypto)", "glibc malloc/free", "mod_session + mod_session_cookie",
                   "mod_session_sign", "mod_ws_auth", "everything else")
MALLOC_SYMS = {"malloc", "free", "cfree", "calloc", "realloc", "_int_malloc", "_int_free",
               "malloc_consolidate", "__libc_malloc", "__libc_free", "__libc_calloc",
               "_int_free_merge_chunk", "_int_free_create_chunk", "_int_free_maybe_consolidate",
               "unlink_chunk", "tcache_get", "tcache_put", "__malloc_arena_thread_freeres",
               "cfree@GLIBC_2.2.5"}


def parse_strace_counts(text):
    """{syscall: calls} from the table of `strace -c` (the total row left out)."""
    out = {}
    for line in text.splitlines():
        # % time, seconds, usecs/call, calls, [errors], syscall
        m = re.match(r"\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?([a-z_][a-z0-9_]*)\s*$", line)
        if m and m.group(2) != "total":
            out[m.group(2)] = out.get(m.group(2), 0) + int(m.group(1))
    return out


def perf_category(sym, dso):
    base = os.path.basename(dso)
    sym = sym.split("+")[0]
    if base.startswith("libcrypto"):
        return PERF_CATEGORIES[0]
    if base.startswith("libc.so") and sym in MALLOC_SYMS:
        return PERF_CATEGORIES[1]
    if base in ("mod_session.so", "mod_session_cookie.so", "mod_session_crypto.so"):
        return PERF_CATEGORIES[2]
    if base == "mod_session_sign.so":
        return PERF_CATEGORIES[3]
    if base == "mod_ws_auth.so":
        return PERF_CATEGORIES[4]
    return PERF_CATEGORIES[5]


# ------------------------------------------------------------------ instances

class Backend:
    def __init__(self, root, tools, cpus):
        self.port = free_port()
        self.log = open(root / "wsecho.log", "w")
        self.proc = subprocess.Popen(pinned(cpus, [str(tools / "wsecho"), "-p", str(self.port)]),
                                     stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        wait_port(self.port, proc=self.proc)

    def cpu_ticks(self):
        st = proc_stat(self.proc.pid)
        return st[1] if st else 0

    def stop(self):
        stop_process(self.proc)
        self.log.close()


class Httpd:
    def __init__(self, name, root, body, cpus, moddir, servers=None, threads=None):
        servers = servers or SERVER_LIMIT
        threads = threads or THREADS_PER_CHILD
        self.name = name
        self.root = root
        self.port = free_port()
        self.cpus = cpus
        for d in ("conf", "logs", "run", "htdocs"):
            (root / d).mkdir(parents=True, exist_ok=True)
        os.chmod(root, 0o755)
        user = "User daemon\nGroup daemon\n" if os.geteuid() == 0 else ""
        mods = ["LoadModule %s_module %s/mod_%s.so" % (m, MODDIR, m) for m in MODULES]
        # mod_session before anything that hooks session_encode/decode
        mods.append("LoadModule session_sign_module %s/mod_session_sign.so" % moddir)
        mods.append("LoadModule ws_auth_module %s/mod_ws_auth.so" % moddir)
        self.conf = root / "conf" / "httpd.conf"
        self.conf.write_text(f"""# bench configuration {name}: {LABELS[name]}
ServerRoot "{root}"
Listen 127.0.0.1:{self.port}
ServerName 127.0.0.1
PidFile "{root}/run/httpd.pid"
DefaultRuntimeDir "{root}/run"
Mutex file:{root}/run default
ErrorLog "{root}/logs/error_log"
LogLevel warn
{user}
{chr(10).join(mods)}
DocumentRoot "{root}/htdocs"
# no CustomLog: the access log is off
ListenBacklog 4096
Timeout 60
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 15
# event MPM, everything pre-started: {servers} children x {threads}
# threads; each open tunnel holds one worker thread
StartServers {servers}
ServerLimit {servers}
ThreadLimit {threads}
ThreadsPerChild {threads}
MaxRequestWorkers {servers * threads}
MinSpareThreads {min(25, servers * threads)}
MaxSpareThreads {servers * threads}
MaxConnectionsPerChild 0
{body}
""")
        self.proc = None
        self.log_mark = 0

    def mark_log(self):
        """Lines logged so far (the sanity checks' refusals) are not problems."""
        p = self.root / "logs" / "error_log"
        self.log_mark = p.stat().st_size if p.exists() else 0

    def start(self):
        t = subprocess.run([APACHE, "-f", str(self.conf), "-t"], capture_output=True, text=True)
        if t.returncode != 0:
            raise RuntimeError("%s: config refused:\n%s%s" % (self.name, t.stderr, t.stdout))
        env = None
        self.futex_log = self.root / "run" / "futex_slots"
        if FUTEX_SHIM:
            # written by the children (User daemon) through the shim
            self.futex_log.write_text("")
            os.chmod(self.futex_log, 0o666)
            env = dict(os.environ, LD_PRELOAD=str(FUTEX_SHIM), BENCH_FUTEX_SLOTS=str(FUTEX_SLOTS),
                       BENCH_FUTEX_LOG=str(self.futex_log))
        self.proc = subprocess.Popen(
            pinned(self.cpus, [APACHE, "-f", str(self.conf), "-DFOREGROUND"]),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, env=env,
            stderr=open(self.root / "logs" / "stderr", "w"), start_new_session=True)
        wait_port(self.port, proc=self.proc)
        # wait for every child and every worker thread
        deadline = time.time() + 30
        want = SERVER_LIMIT * THREADS_PER_CHILD
        while time.time() < deadline:
            kids = children_of(self.proc.pid)
            if len(kids) == SERVER_LIMIT and sum(threads_of(k) for k in kids) >= want:
                self.futex = self.futex_slots(kids)
                return
            time.sleep(0.1)
        raise RuntimeError("%s: children/threads did not all start" % self.name)

    def futex_slots(self, kids):
        """The futex hash of each child, as the shim logged it: "4096 slots",
        "unsupported" (kernel < 6.16: one global hash) or "default"."""
        if not FUTEX_SHIM:
            return "default"
        seen = {}
        for line in self.futex_log.read_text().split("\n"):
            f = line.split()
            if len(f) == 2:
                seen[int(f[0])] = f[1]
        got = sorted(set(seen.get(k, "missing") for k in kids))
        if got == [str(FUTEX_SLOTS)]:
            return "%d slots" % FUTEX_SLOTS
        log("%s: futex hash of the children: %s (wanted %d slots)" % (self.name, got, FUTEX_SLOTS))
        return "/".join(got)

    @property
    def pid(self):
        return self.proc.pid

    def cpu_ticks(self):
        return tree_cpu_ticks(self.pid)

    def children_rss_kb(self):
        return sum(rss_kb(k) for k in children_of(self.pid))

    def stop(self):
        stop_process(self.proc, timeout=30)

    def crashes(self):
        p = self.root / "logs" / "error_log"
        text = p.read_text(errors="replace") if p.exists() else ""
        return len(re.findall(r"AH00052: child pid \d+ exit signal", text))

    def log_problems(self):
        p = self.root / "logs" / "error_log"
        text = ""
        if p.exists():
            with open(p, "rb") as f:
                f.seek(self.log_mark)
                text = f.read().decode("utf-8", "replace")
        bad = []
        for line in text.splitlines():
            m = re.match(r"^\[[^\]]*\] \[([\w-]*):(\w+)\]", line)
            if not m or m.group(2) not in ("warn", "error", "crit", "alert", "emerg"):
                continue
            if any(a in line for a in LOG_ACKS):
                continue
            bad.append(line)
        return bad


def config_bodies(backend_port, htpasswd, min_gate_so=None):
    proxy = "ProxyPass ws://127.0.0.1:%d/" % backend_port
    session = "Session On\nSessionCookieName session path=/;HttpOnly;SameSite=Lax"
    return {
        "P": f"""
<Location /ws/>
    {proxy}
</Location>
""",
        "S": f"""
{session}
SessionSignKey {SIGN_KEY}
<Location /login>
    SetHandler session-sign-login
    AuthBasicProvider file
    AuthUserFile "{htpasswd}"
</Location>
<Location /ws/>
    WSAuth On
    WSAuthForwardHeader X-Remote-User user
    {proxy}
</Location>
""",
        "Pm": f"""
{session}
<Location /ws/>
    {proxy}
</Location>
""",
        "Pk": f"""
{session}
SessionSignKey {SIGN_KEY}
<Location /ws/>
    {proxy}
</Location>
""",
        "M": f"""
LoadModule min_gate_module {min_gate_so}
MinGateKey {SIGN_KEY}
<Location /ws/>
    MinGate On
    {proxy}
</Location>
""",
        "F": f"""
{session}
SessionCryptoPassphrase {CRYPTO_PASS}
<Location /login>
    SetHandler form-login-handler
    AuthType form
    AuthName bench
    AuthFormProvider file
    AuthUserFile "{htpasswd}"
    AuthFormLoginSuccessLocation /welcome
    Require all granted
</Location>
<Location /ws/>
    AuthType form
    AuthName bench
    AuthFormProvider file
    AuthUserFile "{htpasswd}"
    Require valid-user
    {proxy}
</Location>
""",
    }


# ------------------------------------------------------------------ the run

class Bench:
    def __init__(self, args):
        self.a = args
        self.build = (ROOT / args.build).resolve()
        self.tools = self.build / "bench"
        ncpu = os.cpu_count() or 1
        if args.no_pin or ncpu < 2:
            self.server_cpus = self.client_cpus = None
        else:
            self.server_cpus, self.client_cpus = args.server_cpus, args.client_cpus
        self.results = {"rounds": [], "hold": {}, "memory": {}, "micro": {}, "checks": {}}
        global FUTEX_SHIM, FUTEX_SLOTS
        FUTEX_SLOTS = getattr(args, "futex_slots", FUTEX_SLOTS)
        FUTEX_SHIM = self.tools / "futex_slots.so" if FUTEX_SLOTS > 0 else None
        if FUTEX_SHIM and not FUTEX_SHIM.exists():
            raise RuntimeError("%s missing: make bench-tools" % FUTEX_SHIM)
        self.httpd = {}
        self.backend = None
        self.cookies = {}

    # ---------------------------------------------------------- setup
    def setup(self):
        self.work = Path(tempfile.mkdtemp(prefix="bench-"))
        os.chmod(self.work, 0o755)
        htpasswd = self.work / "htpasswd"
        r = subprocess.run(["htpasswd", "-cbB", str(htpasswd), USER, PASSWORD],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("htpasswd -cbB failed: " + r.stderr)
        os.chmod(htpasswd, 0o644)
        # a private snapshot of the modules: one build for the whole run, and
        # no crash if a concurrent `make` rewrites build/*.so in place (seen:
        # children that had them mapped died with SIGSEGV at a small ip)
        self.modules = self.work / "modules"
        self.modules.mkdir()
        for so in ("mod_session_sign.so", "mod_ws_auth.so"):
            shutil.copy2(self.build / so, self.modules / so)
            os.chmod(self.modules / so, 0o755)
        self.backend = Backend(self.work, self.tools, self.client_cpus)
        if self.a.breakdown:
            if not (self.tools / "mod_min_gate.so").exists():
                raise RuntimeError("%s missing: make bench-tools" % (self.tools / "mod_min_gate.so"))
            shutil.copy2(self.tools / "mod_min_gate.so", self.modules / "mod_min_gate.so")
            os.chmod(self.modules / "mod_min_gate.so", 0o755)
        bodies = self.bodies = config_bodies(self.backend.port, htpasswd,
                                             self.modules / "mod_min_gate.so")
        self.configs = CONFIGS + (BREAKDOWN if self.a.breakdown else ())
        for name in self.configs:
            h = Httpd(name, self.work / name, bodies[name], self.server_cpus, self.modules)
            self.httpd[name] = h
        for name in self.configs:
            log("starting %s on port %d" % (name, self.httpd[name].port))
            self.httpd[name].start()
        self.results["futex"] = {n: h.futex for n, h in self.httpd.items()}
        log("futex hash of the httpd children: %s" % ", ".join(
            "%s %s" % (n, h.futex) for n, h in self.httpd.items()))

    def login_and_check(self):
        hs, hf = self.httpd["S"], self.httpd["F"]
        st, hd = post_form(hs.port, "/login", "username=%s&password=%s" % (USER, PASSWORD))
        cs = session_cookie(hd)
        st2, hd2 = post_form(hf.port, "/login",
                             "httpd_username=%s&httpd_password=%s" % (USER, PASSWORD))
        cf = session_cookie(hd2)
        if not cs or not cf:
            raise RuntimeError("login failed: S %s %s, F %s %s" % (st, bool(cs), st2, bool(cf)))
        # P ignores the cookie; it gets S's so its request has the same size.
        # Pm is an unsigned mod_session deployment: its cookie is the plain
        # session, so Pk - Pm is all that signing adds (the token's extra
        # bytes through httpd's cookie parser, and the verification)
        self.cookies = {"P": cs, "S": cs, "F": cf, "Pm": "session=user=%s" % USER, "Pk": cs,
                        "M": cs}
        checks = {
            "S login handler": (st, 303),
            "F login handler": (st2, 302),
            "P handshake": (handshake(self.httpd["P"].port, cs), 101),
            "P GET": (plain_get(self.httpd["P"].port, cs), 200),
            "S handshake with session": (handshake(hs.port, cs), 101),
            "S handshake without session": (handshake(hs.port, None), 401),
            "S cross-origin handshake": (handshake(hs.port, cs, origin="http://evil.example"), 403),
            "S GET with session": (plain_get(hs.port, cs), 200),
            "S GET without session": (plain_get(hs.port, None), 401),
            "F handshake with session": (handshake(hf.port, cf), 101),
            "F handshake without session": (handshake(hf.port, None), 401),
            "F GET with session": (plain_get(hf.port, cf), 200),
            "F GET without session": (plain_get(hf.port, None), 401),
        }
        for name in BREAKDOWN:
            if name in self.httpd:
                checks["%s GET" % name] = (plain_get(self.httpd[name].port, self.cookies[name]), 200)
        if "M" in self.httpd:
            # a gate, not a pass-through: no session, no request
            checks["M GET without session"] = (plain_get(self.httpd["M"].port, None), 401)
        bad = {k: v for k, v in checks.items() if v[0] != v[1]}
        self.results["checks"] = {k: v[0] for k, v in checks.items()}
        self.results["cookie_bytes"] = {k: len(v) for k, v in self.cookies.items()}
        if bad:
            raise RuntimeError("sanity checks failed: %s" % bad)
        for h in self.httpd.values():
            h.mark_log()
        log("sanity checks passed (cookie sizes: S %d, F %d bytes)" % (len(cs), len(cf)))

    # ---------------------------------------------------------- one run
    def load_argv(self, name, kind, seconds):
        """The load generator for one run against name: wsload churn for
        handshakes ('hs'), wrk for guarded GETs ('get'), on the client CPUs."""
        h = self.httpd[name]
        if kind == "hs":
            return pinned(self.client_cpus, [
                str(self.tools / "wsload"), "churn", "-p", str(h.port), "-u", "/ws/",
                "-c", str(self.a.concurrency), "-d", str(seconds), "-C", self.cookies[name]])
        return pinned(self.client_cpus, [
            "wrk", "-t1", "-c%d" % self.a.concurrency, "-d%ds" % seconds, "--latency",
            "--timeout", "10s",
            "-H", "Cookie: " + self.cookies[name], "http://127.0.0.1:%d/ws/" % h.port])

    def measure(self, name, kind, seconds):
        """kind: 'hs' (wsload churn) or 'get' (wrk). Returns a dict."""
        h = self.httpd[name]
        argv = self.load_argv(name, kind, seconds)
        a0, b0, s0 = h.cpu_ticks(), self.backend.cpu_ticks(), system_busy_ticks()
        c0 = os.times()
        out, err, rc, wall = run_measured(argv, timeout=seconds + 60)
        c1 = os.times()
        a1, b1, s1 = h.cpu_ticks(), self.backend.cpu_ticks(), system_busy_ticks()
        if rc != 0:
            raise RuntimeError("%s failed (%s): %s" % (argv, rc, err))
        client_cpu = (c1.children_user - c0.children_user) + (c1.children_system - c0.children_system)
        apache_s = (a1 - a0) / TICK
        backend_s = (b1 - b0) / TICK
        busy_s = sum(s1[k] - s0.get(k, 0) for k in s1) / TICK
        r = {"config": name, "kind": kind, "wall_s": wall, "apache_cpu_s": apache_s,
             "backend_cpu_s": backend_s, "client_cpu_s": client_cpu,
             "other_cpu_s": max(0.0, busy_s - apache_s - backend_s - client_cpu)}
        if kind == "hs":
            k = kv(out)
            ops_total = k["ok"] + k["ok_after_window"]
            r.update(rate=k["rate"], ops=k["ok"], p50_us=k["lat_p50_us"], p99_us=k["lat_p99_us"],
                     errors=int(k["errors"] + k["unexpected_status"]), window_s=k["window_s"],
                     cpu_window_s=k["wall_s"])
            r["apache_us_per_op"] = apache_s * 1e6 / ops_total if ops_total else None
        else:
            w = parse_wrk(out)
            r.update(rate=w["rate"], ops=w.get("requests", 0), p50_us=w["p50_us"],
                     p99_us=w["p99_us"], errors=w["non2xx"] + w["socket_errors"],
                     window_s=w.get("duration_s", seconds), cpu_window_s=wall)
            r["apache_us_per_op"] = apache_s * 1e6 / r["ops"] if r["ops"] else None
        cw = r["cpu_window_s"] or wall
        r["apache_share"] = apache_s / cw
        r["client_share"] = client_cpu / cw
        r["backend_share"] = backend_s / cw
        r["other_share"] = r["other_cpu_s"] / cw
        if r["errors"]:
            log("WARNING: %s %s: %d errors or unexpected statuses" % (name, kind, r["errors"]))
        self.quiesce(h)
        return r

    def profile(self):
        """perf samples of P's and S's children during guarded GETs (P S P S),
        attributed to OpenSSL, glibc malloc/free, mod_session*, mod_session_sign,
        mod_ws_auth and the rest. Shares of samples are less disturbed by other
        load than CPU time is; shares x CPU per GET give microseconds."""
        if not shutil.which("perf"):
            log("perf not found: no in-process attribution")
            return
        secs = 4 if self.a.quick else 8
        agg = {}
        for rnd in range(1 if self.a.quick else 2):
            for name in ("P", "S"):
                h = self.httpd[name]
                data = self.work / ("perf-%s-%d.data" % (name, rnd))
                kids = ",".join(str(k) for k in children_of(h.pid))
                argv = self.load_argv(name, "get", secs)
                # attaching to 2,200 threads takes a while: perf first, then the load
                pr = subprocess.Popen(["perf", "record", "-q", "-F", "4000", "-o", str(data), "-p", kids,
                                       "--", "sleep", str(secs + 3)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                time.sleep(2.0)
                a0 = h.cpu_ticks()
                out, _, _, _ = run_measured(argv, timeout=secs + 60)
                a1 = h.cpu_ticks()
                _, perr = pr.communicate(timeout=60)
                if pr.returncode != 0:
                    log("perf record failed (%s): no in-process attribution" % perr.strip()[:200])
                    return
                n = parse_wrk(out).get("requests", 0)
                sc = subprocess.run(["perf", "script", "-i", str(data), "-F", "ip,sym,dso"],
                                    capture_output=True, text=True).stdout
                counts = {}
                for line in sc.splitlines():
                    m = re.match(r"\s*[0-9a-f]+\s+(.*?)\s+\((.*)\)\s*$", line)
                    if m:
                        c = perf_category(m.group(1), m.group(2))
                        counts[c] = counts.get(c, 0) + 1
                total = sum(counts.values())
                if not total or not n:
                    continue
                cpu_per_op = (a1 - a0) / TICK * 1e6 / n
                a = agg.setdefault(name, {"samples": 0, "cpu_per_op": [], "us": {}})
                a["samples"] += total
                a["cpu_per_op"].append(cpu_per_op)
                for c, k in counts.items():
                    a["us"].setdefault(c, []).append(k / total * cpu_per_op)
        res = {}
        for name, a in agg.items():
            res[name] = {"samples": a["samples"], "cpu_per_op": statistics.mean(a["cpu_per_op"]),
                         "us": {c: statistics.mean(v) for c, v in a["us"].items()}}
        self.results["profile"] = res
        if "P" in res and "S" in res:
            log("perf attribution (us/GET, S - P): " + ", ".join(
                "%s %+.1f" % (c, res["S"]["us"].get(c, 0) - res["P"]["us"].get(c, 0))
                for c in PERF_CATEGORIES))

    def instructions(self):
        """User-space instructions per guarded GET, counted by callgrind in a
        separate single-process httpd (-X, 4 threads) per configuration:
        deterministic for the same binaries and requests, so S - P and its
        steps (Pm, Pk) are not lost in the machine's noise. Two runs per
        configuration (INSTR_BASE and INSTR_BASE + INSTR_GETS keep-alive GETs
        with the same Cookie as wrk's); their difference over INSTR_GETS
        leaves out start-up and shutdown. Kernel work is not counted."""
        if not shutil.which("valgrind"):
            log("valgrind not found: no instruction counts")
            return
        res = {}
        for name in [n for n in ("P", "Pm", "Pk", "S", "M") if n in self.httpd]:
            counts = [self.callgrind_gets(name, n) for n in (INSTR_BASE, INSTR_BASE + INSTR_GETS)]
            if None in counts:
                return
            res[name] = (counts[1] - counts[0]) / INSTR_GETS
            log("instructions per GET (callgrind) %s: %.0f" % (name, res[name]))
        self.results["instructions"] = res

    def keepalive_gets(self, name, port, n, tool):
        """n guarded GETs on one keep-alive connection, each answered 200,
        with the Cookie header wrk sends."""
        req = ("GET /ws/ HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nCookie: %s\r\n\r\n"
               % (port, self.cookies[name])).encode()
        with socket.create_connection(("127.0.0.1", port), timeout=60) as sk:
            f = sk.makefile("rb")
            for _ in range(n):
                sk.sendall(req)
                status = f.readline()
                if b" 200 " not in status:
                    raise RuntimeError("%s under %s: %r" % (name, tool, status))
                length = 0
                while True:
                    line = f.readline()
                    if line in (b"\r\n", b""):
                        break
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                f.read(length)

    def syscalls(self):
        """System calls per guarded GET, counted by strace -c -f in a separate
        single-process httpd (-X, 4 threads) per configuration; the difference
        of INSTR_BASE and INSTR_BASE + INSTR_GETS keep-alive GETs over
        INSTR_GETS leaves out start-up and shutdown; SYSCALL_REPS times, P and
        S alternating, the median per call. Whether a configuration asks the
        kernel for anything more per request: the counts, not their time
        (strace slows every call). futex calls are the threads handing work
        to each other, and their count follows the timing of each run."""
        if not shutil.which("strace"):
            log("strace not found: no system call counts")
            return
        runs = {}
        for rep in range(SYSCALL_REPS):
            for name in [n for n in ("P", "S") if n in self.httpd]:
                counts = [self.strace_gets(name, n, rep) for n in (INSTR_BASE, INSTR_BASE + INSTR_GETS)]
                if None in counts:
                    return
                runs.setdefault(name, []).append(
                    {c: (counts[1].get(c, 0) - counts[0].get(c, 0)) / INSTR_GETS
                     for c in set(counts[0]) | set(counts[1])})
        res = {}
        for name, rr in runs.items():
            res[name] = {"median": {c: statistics.median(r.get(c, 0.0) for r in rr)
                                    for c in set().union(*rr)},
                         "runs": rr}
            log("system calls per GET (strace) %s: %s" % (name, " ".join(
                "%.2f" % sum(r.values()) for r in rr)))
        self.results["syscalls"] = res

    def gets_under(self, tag, name, n, tool, wait_s):
        """A single-process httpd (-X, 4 threads) of configuration `name` run
        by the tool argv `tool` (which gets the instance's root), n keep-alive
        GETs, then httpd stopped with SIGTERM: the tool's child (strace) or
        the tool's own process (valgrind). Either tool writes its output once
        httpd has exited. @return the instance's root."""
        h = Httpd(name, self.work / ("%s-%s-%d" % (tag, name, n)), self.bodies[name], None,
                  self.modules, servers=1, threads=4)
        proc = subprocess.Popen(tool(h.root) + [APACHE, "-f", str(h.conf), "-X"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=open(h.root / "logs" / tag, "w"), start_new_session=True)
        try:
            wait_port(h.port, timeout=wait_s, proc=proc)
            self.keepalive_gets(name, h.port, n, tag)
        finally:
            for pid in children_of(proc.pid) or [proc.pid]:
                os.kill(pid, signal.SIGTERM)
            try:
                proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                stop_process(proc, timeout=10)
        return h.root

    def strace_gets(self, name, n, rep):
        root = self.gets_under("strace%d" % rep, name, n,
                               lambda r: ["strace", "-c", "-f", "-o", str(r / "strace.out")], 60)
        out = root / "strace.out"
        counts = parse_strace_counts(out.read_text(errors="replace") if out.exists() else "")
        if not counts:
            log("strace counted nothing for %s (%s): no system call counts"
                % (name, (root / "logs" / ("strace%d" % rep)).read_text(errors="replace").strip()[:200]))
            return None
        return counts

    def callgrind_gets(self, name, n):
        def tool(root):
            out = root / "callgrind.out"
            # created here, 0666: the workers (User daemon) write it at exit
            out.write_text("")
            os.chmod(out, 0o666)
            return ["valgrind", "--tool=callgrind", "--vgdb=no", "--callgrind-out-file=%s" % out]

        root = self.gets_under("callgrind", name, n, tool, 180)
        m = re.search(r"^(?:summary|totals): (\d+)", (root / "callgrind.out").read_text(), re.M)
        if not m:
            log("callgrind wrote no totals for %s: no instruction counts" % name)
            return None
        return int(m.group(1))

    def warmup(self):
        s = self.a.warmup
        for name in self.configs:
            # every instance carries tunnels once (the history note at HS_WITH)
            self.measure(name, "hs", s)
            self.measure(name, "get", s)
        log("warm-up done (%ds per configuration and kind)" % s)

    def quiesce(self, h):
        """Wait until h's processes stop using CPU (at most 5 s): a run that
        ends with requests still queued (F's bcrypt logins take 5 ms each)
        must not eat into the next configuration's measurement."""
        deadline = time.monotonic() + 5
        last, still = h.cpu_ticks(), 0
        while time.monotonic() < deadline and still < 2:
            time.sleep(0.1)
            now = h.cpu_ticks()
            still = still + 1 if now - last <= 1 else 0
            last = now

    def rounds(self):
        for i in range(self.a.rounds):
            for kind in ("hs", "get"):
                names = CONFIGS + (() if not self.a.breakdown else BREAKDOWN if kind == "get"
                                   else HS_WITH)
                if i % 2:
                    # P and S always back to back, their order alternating
                    # from round to round (and Pm/Pk likewise), so that
                    # neither always runs first
                    names = tuple({"P": "S", "S": "P", "Pm": "Pk", "Pk": "Pm"}.get(n, n)
                                  for n in names)
                for name in names:
                    r = self.measure(name, kind, self.a.seconds)
                    r["round"] = i + 1
                    self.results["rounds"].append(r)
                    log("round %d %-3s %s: %9.1f/s  p50 %8.0f us  p99 %8.0f us  "
                        "apache %6.1f us/op (%.0f%% cpu)  client %.0f%%  backend %.0f%%  other %.0f%%"
                        % (i + 1, kind, name, r["rate"], r["p50_us"] or 0, r["p99_us"] or 0,
                           r["apache_us_per_op"] or 0, 100 * r["apache_share"],
                           100 * r["client_share"], 100 * r["backend_share"],
                           100 * r["other_share"]))

    def concurrent(self):
        """P and S loaded at the same time, both on httpd's core, each by its
        own load generator: both see the same state of the machine in the
        same seconds, so their CPU per operation compares without the drift
        that separates two sequential runs (this VM's CPU time per request
        moves by 10-40% from one minute to the next). Sharing the core
        inflates both figures alike; what carries over is the ratio.
        With M (the reference minimal gate) running, each run loads P, S and
        M at once: M's cost and S's in the same seconds, and M with the same
        history of tunnels as P and S (HS_WITH)."""
        n, secs = self.a.concurrent_runs, self.a.concurrent_seconds
        out = {}
        names = ("P", "S", "M") if "M" in self.httpd else ("P", "S")
        for kind in ("hs", "get"):
            runs = []
            for i in range(n + 1):  # the first is a warm-up
                procs, c0 = {}, {}
                for name in names:
                    c0[name] = self.httpd[name].cpu_ticks()
                    procs[name] = subprocess.Popen(self.load_argv(name, kind, secs),
                                                   stdout=subprocess.PIPE,
                                                   stderr=subprocess.PIPE, text=True)
                res = {}
                for name in names:
                    o, e = procs[name].communicate(timeout=secs + 60)
                    ticks = self.httpd[name].cpu_ticks() - c0[name]
                    if procs[name].returncode != 0:
                        raise RuntimeError("concurrent %s %s failed: %s" % (kind, name, e))
                    if kind == "hs":
                        k = kv(o)
                        ops, errors = k["ok"] + k["ok_after_window"], k["errors"] + k["unexpected_status"]
                    else:
                        w = parse_wrk(o)
                        ops, errors = w.get("requests", 0), w["non2xx"] + w["socket_errors"]
                    res[name] = {"us_per_op": ticks / TICK * 1e6 / ops if ops else None,
                                 "ops": ops, "errors": errors}
                for name in names:
                    self.quiesce(self.httpd[name])
                if i == 0 or None in [res[name]["us_per_op"] for name in names]:
                    continue
                runs.append(res)
                log("concurrent %-3s run %d: P %.1f us/op, %s" % (kind, i, res["P"]["us_per_op"], ", ".join(
                    "%s %.1f us/op (%s/P %.3f)" % (name, res[name]["us_per_op"], name,
                                                   res[name]["us_per_op"] / res["P"]["us_per_op"])
                    for name in names[1:])))
            out[kind] = runs
        self.results["concurrent"] = out

    # ---------------------------------------------------------- memory
    def hold(self):
        n = self.a.hold
        for name in CONFIGS:
            h = self.httpd[name]
            time.sleep(1)
            idle = h.children_rss_kb()
            argv = pinned(self.client_cpus, [
                str(self.tools / "wsload"), "hold", "-p", str(h.port), "-u", "/ws/",
                "-N", str(n), "-c", "100", "-d", "120", "-T", "30", "-C", self.cookies[name]])
            p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
            got = {}
            t0 = time.monotonic()
            while "hold_failed" not in got and time.monotonic() - t0 < 150:
                line = p.stdout.readline()
                if not line:
                    break
                got.update(kv(line))
            time.sleep(1.0)                     # let the children settle
            held_rss = h.children_rss_kb()
            busy = self.backend_conns()
            rest, err = p.communicate(timeout=60)     # closes stdin: release
            got.update(kv(rest))
            r = {"held": int(got.get("held", 0)), "failed": int(got.get("hold_failed", 0)),
                 "establish_s": got.get("establish_s"), "idle_rss_kb": idle,
                 "held_rss_kb": held_rss, "released": int(got.get("released", 0)),
                 "dropped": int(got.get("dropped", 0)), "backend_conns": busy}
            r["per_tunnel_kb"] = (held_rss - idle) / r["held"] if r["held"] else None
            self.results["hold"][name] = r
            log("hold %s: %d tunnels held (%d failed) in %.1f s; children RSS %.1f -> %.1f MiB"
                % (name, r["held"], r["failed"], r["establish_s"] or 0, idle / 1024, held_rss / 1024))
            time.sleep(2)

    def backend_conns(self):
        try:
            return len(os.listdir("/proc/%d/fd" % self.backend.proc.pid))
        except OSError:
            return None

    def memory(self):
        """Children RSS of S before/after 1,000,000 guarded requests (two halves)."""
        h = self.httpd["S"]
        total, bound = self.a.mem_requests, self.a.mem_seconds
        half = total // 2

        def run(n, seconds):
            argv = pinned(self.client_cpus, [
                str(self.tools / "wsload"), "get", "-p", str(h.port), "-u", "/ws/",
                "-c", str(self.a.concurrency), "-n", str(n), "-d", str(seconds),
                "-C", self.cookies["S"]])
            out, err, rc, wall = run_measured(argv, timeout=seconds + 60)
            if rc != 0:
                raise RuntimeError("wsload get failed: " + err)
            return kv(out)

        run(max(10000, total // 10), bound / 4)             # warm every worker thread
        time.sleep(1)
        rss = [h.children_rss_kb()]
        done, errors = 0, 0
        t0 = time.monotonic()
        for _ in range(2):
            k = run(half, bound / 2)
            done += int(k["ok"])
            errors += int(k["errors"] + k["unexpected_status"])
            time.sleep(1)
            rss.append(h.children_rss_kb())
        r = {"requests": done, "target": total, "errors": errors,
             "seconds": time.monotonic() - t0, "rss_kb": rss,
             "growth_kb": rss[2] - rss[0], "growth_second_half_kb": rss[2] - rss[1]}
        self.results["memory"] = r
        log("memory S: %d guarded GETs in %.0f s; children RSS %s KiB"
            % (done, r["seconds"], rss))

    def micro(self):
        argv = pinned(self.client_cpus, [str(self.tools / "micro")] + (["-q"] if self.a.quick else []))
        out, err, rc, wall = run_measured(argv, timeout=600)
        if rc != 0:
            raise RuntimeError("micro failed: " + err)
        self.results["micro"] = kv(out)
        log("micro-benchmarks done in %.0f s" % wall)

    def stop(self):
        problems = {}
        crashes = {}
        for name, h in self.httpd.items():
            h.stop()
            problems[name] = h.log_problems()
            crashes[name] = h.crashes()
        self.results["crashes"] = crashes
        if self.backend:
            self.backend.stop()
        self.results["log_problems"] = {k: len(v) for k, v in problems.items()}
        self.results["log_samples"] = {k: v[:5] for k, v in problems.items() if v}


# ------------------------------------------------------------------ report

def med(v):
    v = [x for x in v if x is not None]
    return statistics.median(v) if v else None


def machine_info():
    def sh(cmd):
        try:
            return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
        except OSError:
            return "?"
    model = sh("lscpu | sed -n 's/^Model name: *//p' | head -1")
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "kernel": sh("uname -r"),
        "httpd": sh(APACHE + " -v | sed -n 's/^Server version: //p'"),
        "openssl": sh("openssl version"),
        "wrk": sh("wrk -v 2>&1 | head -1 | cut -d' ' -f1-2"),
        "mem": sh("free -g | awk '/^Mem:/ {print $2\" GiB\"}'"),
        "loadavg_start": sh("cat /proc/loadavg"),
        # read-only: which sources were measured
        "commit": sh("git -C '%s' rev-parse --short HEAD 2>/dev/null" % ROOT),
        "modified": sh("git -C '%s' status --porcelain -- mod_session_sign mod_ws_auth 2>/dev/null "
                       "| awk '{print $2}' | tr '\\n' ' '" % ROOT),
    }


def summarize(res):
    rounds = res["rounds"]
    S = {}
    for kind in ("hs", "get"):
        for name in CONFIGS + BREAKDOWN:
            rs = [r for r in rounds if r["config"] == name and r["kind"] == kind]
            if not rs:
                continue
            d = {}
            for key in ("rate", "p50_us", "p99_us", "apache_us_per_op", "apache_share",
                        "client_share", "backend_share", "other_share", "errors"):
                vals = [r[key] for r in rs if r.get(key) is not None]
                d[key] = {"median": med(vals), "min": min(vals) if vals else None,
                          "max": max(vals) if vals else None, "values": vals}
            S[(kind, name)] = d
    # paired per-round ratios (rounds are interleaved, so drift cancels)
    paired = {}
    for kind in ("hs", "get"):
        for a, b in (("S", "P"), ("S", "F"), ("F", "P")):
            ra = {r["round"]: r for r in rounds if r["config"] == a and r["kind"] == kind}
            rb = {r["round"]: r for r in rounds if r["config"] == b and r["kind"] == kind}
            vals = [ra[i]["rate"] / rb[i]["rate"] for i in ra if i in rb and rb[i]["rate"]]
            dcpu = [ra[i]["apache_us_per_op"] - rb[i]["apache_us_per_op"] for i in ra
                    if i in rb and ra[i]["apache_us_per_op"] is not None
                    and rb[i]["apache_us_per_op"] is not None]
            paired[(kind, a, b)] = {"ratio": vals, "cpu_delta": dcpu}
    return S, paired


def fmt(v, nd=0, unit=""):
    if v is None:
        return "n/a"
    if nd == 0:
        return "{:,.0f}{}".format(v, unit)
    return "{:,.{}f}{}".format(v, nd, unit)


def spread(d, nd=0):
    if d["min"] is None:
        return "n/a"
    m = d["median"]
    rel = (d["max"] - d["min"]) / m * 100 if m else 0
    return "%s-%s (%.0f%%)" % (fmt(d["min"], nd), fmt(d["max"], nd), rel)


def min_gate_rel(res, kind="get"):
    """M's CPU per operation over P's, median of the concurrent runs of kind
    that loaded M (with P and S), and those runs (None, [] without them)."""
    runs = [r for r in res.get("concurrent", {}).get(kind) or [] if "M" in r]
    rel = [r["M"]["us_per_op"] / r["P"]["us_per_op"] for r in runs]
    return (med(rel), runs) if rel else (None, [])


def min_gate_section(res, S):
    """M beside S: what the least correct cookie gate costs here."""
    rels = {k: min_gate_rel(res, k) for k in ("hs", "get")}
    L = ["### The minimal gate beside S (M)", "",
         "M: %s. It does the least any correct cookie gate does (tests/integration/"
         "test_bench_12_min_gate.py holds it to that), through the same core as S, and no "
         "Origin check. P, S and M loaded at once (the runs above, Apache CPU per operation, us)."
         % LABELS["M"], "",
         "| kind | run | P | S | M | S/P | M/P | S/M |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for kind in ("hs", "get"):
        for i, r in enumerate(rels[kind][1]):
            p, s_, m = (r[n]["us_per_op"] for n in ("P", "S", "M"))
            L.append("| %s | %d | %.1f | %.1f | %.1f | %.3f | %.3f | %.3f |"
                     % ("handshake" if kind == "hs" else "guarded GET", i + 1, p, s_, m, s_ / p,
                        m / p, s_ / m))
    L.append("")
    for kind, what in (("get", "guarded GET"), ("hs", "handshake")):
        m_rel, runs = rels[kind]
        p_cpu = S.get((kind, "P"), {}).get("apache_us_per_op", {}).get("median")
        if not runs or not p_cpu:
            continue
        s_rel = med([r["S"]["us_per_op"] / r["P"]["us_per_op"] for r in runs])
        dm, ds = (m_rel - 1) * p_cpu, (s_rel - 1) * p_cpu
        L.append("Per %s, at P's %.1f us (sequential median): M costs %+.1f us (%+.1f%% of P, "
                 "capacity %.3f x P), S %+.1f us (%+.1f%%, %.3f x P). S - M %+.1f us%s."
                 % (what, p_cpu, dm, (m_rel - 1) * 100, 1 / m_rel, ds, (s_rel - 1) * 100, 1 / s_rel,
                    ds - dm,
                    ": mod_session's framework and what S does beyond the minimum (SessionMaxAge, "
                    "re-signing with the current key, the Origin check, WS_AUTH, its own refusal "
                    "bodies, Cache-Control)" if kind == "get" else ", the Origin check among it"))
        L.append("")
    ins = res.get("instructions", {})
    if all(k in ins for k in ("P", "M", "S")):
        L.append("User-space instructions per GET (callgrind): M - P %+.0f, S - P %+.0f, S - M %+.0f."
                 % (ins["M"] - ins["P"], ins["S"] - ins["P"], ins["S"] - ins["M"]))
        L.append("")
    return L


def targets(res, S, paired):
    """[(target, measured, verdict, note)]"""
    out = []
    m_rel, _ = min_gate_rel(res)

    def g(kind, name, key):
        d = S.get((kind, name))
        return d[key]["median"] if d else None

    def verdict(ok):
        return "PASS" if ok else "MISS"

    def noise_note(kind, a, b, want=None):
        pr = paired[(kind, a, b)]["ratio"]
        if not pr:
            return ""
        note = "per-round S/P %.3f-%.3f" % (min(pr), max(pr))
        if want is not None and min(pr) < want <= max(pr):
            note += " (the rounds straddle %.2f: not separable from the noise)" % want
        return note

    def breakdown_note():
        note = ""
        if S.get(("get", "Pm")) and S.get(("get", "Pk")):
            c = {n: S[("get", n)]["apache_us_per_op"]["median"] for n in ("P", "Pm", "Pk", "S")}
            note += ("; medians of the steps: mod_session cookie load %+.1f, signature verify %+.1f, "
                     "gate %+.1f us" % (c["Pm"] - c["P"], c["Pk"] - c["Pm"], c["S"] - c["Pk"]))
        prof = res.get("profile", {})
        if "P" in prof and "S" in prof:
            d = {c: prof["S"]["us"].get(c, 0) - prof["P"]["us"].get(c, 0) for c in PERF_CATEGORIES}
            note += ("; perf attribution S - P: OpenSSL %+.1f, malloc/free %+.1f, mod_session* %+.1f, "
                     "mod_session_sign %+.1f, mod_ws_auth %+.1f us"
                     % tuple(d[c] for c in PERF_CATEGORIES[:5]))
        sc = res.get("syscalls", {})
        if "P" in sc and "S" in sc:
            nf = {n: sum(v for c, v in sc[n]["median"].items() if c != "futex") for n in ("P", "S")}
            note += ("; system calls per GET (strace, futex aside) S - P %+.2f (%.2f vs %.2f)"
                     % (nf["S"] - nf["P"], nf["S"], nf["P"]))
        ins = res.get("instructions", {})
        if "P" in ins and "S" in ins:
            note += ("; user-space instructions per GET (callgrind) S - P %+.0f (%+.1f%%)"
                     % (ins["S"] - ins["P"], 100.0 * (ins["S"] - ins["P"]) / ins["P"]))
            if "Pm" in ins and "Pk" in ins:
                note += (": mod_session load %+.0f, signing %+.0f, gate %+.0f"
                         % (ins["Pm"] - ins["P"], ins["Pk"] - ins["Pm"], ins["S"] - ins["Pk"]))
            if "M" in ins:
                note += "; the minimal gate M - P %+.0f" % (ins["M"] - ins["P"])
        return note

    # 1.-4. S against P. Two estimates, both paired:
    #  - sequential: P and S back to back in every round (their order
    #    alternating); the median of the per-round ratios / differences;
    #  - concurrent: P and S loaded at once on the same core (concurrent());
    #    the median of the per-run ratios of CPU per operation. Both see the
    #    same seconds of the machine, so its drift cancels; sharing the core
    #    inflates both CPU figures alike, so the ratio is what carries over:
    #    capacity S/P = CPU_P / CPU_S, and the cost in us is (CPU_S / CPU_P - 1)
    #    times P's sequential CPU per operation.
    # The verdict is the concurrent estimate when there is one (it is the
    # one the noise of this VM does not flip); the other is in the note.
    conc = res.get("concurrent", {})
    for kind, want, label in (("hs", 0.98, "handshakes/s"), ("get", 0.95, "guarded GETs/s")):
        budget = 5 if kind == "hs" else 3
        what = "handshake" if kind == "hs" else "GET"
        s_rate, p_rate = g(kind, "S", "rate"), g(kind, "P", "rate")
        s_cpu, p_cpu = g(kind, "S", "apache_us_per_op"), g(kind, "P", "apache_us_per_op")
        pr = paired[(kind, "S", "P")]["ratio"]
        pd = paired[(kind, "S", "P")]["cpu_delta"]
        runs = conc.get(kind) or []
        rel = [r["S"]["us_per_op"] / r["P"]["us_per_op"] for r in runs]
        seq_note = ""
        if pr and s_rate and p_rate:
            seq_note = ("sequential rounds: paired median %.3f, %s; ratio of the medians %.3f"
                        % (med(pr), noise_note(kind, "S", "P", want), s_rate / p_rate))
        if rel:
            cap = [1.0 / x for x in rel]
            ratio = med(cap)
            measured = "%.3f x P (capacity, median of %d concurrent runs %.3f-%.3f)" % (
                ratio, len(cap), min(cap), max(cap))
            note = seq_note
        elif pr:
            ratio = med(pr)
            measured = "%.3f x P (median of %d paired rounds)" % (ratio, len(pr))
            note = seq_note
        else:
            ratio = None
        if ratio is not None:
            if ratio < want:
                note += "; short by %.1f%% of P" % ((want - ratio) * 100)
            if kind == "get" and m_rel:
                note += ("; the minimal HMAC-cookie gate M reaches %.3f x P (concurrent runs)"
                         % (1.0 / m_rel))
            out.append(("S >= %.2f x P %s" % (want, label), measured, verdict(ratio >= want), note))
        if p_cpu is None or s_cpu is None:
            continue
        seq_note = ""
        if pd:
            seq_note = ("sequential rounds: paired median %+.1f us (per round %+.1f..%+.1f); "
                        "difference of the medians %+.1f us (%.1f vs %.1f)"
                        % (med(pd), min(pd), max(pd), s_cpu - p_cpu, s_cpu, p_cpu))
        if rel:
            d = (med(rel) - 1.0) * p_cpu
            measured = ("%+.1f us (%+.1f%% of P's %.1f us, median of %d concurrent runs %+.1f..%+.1f%%)"
                        % (d, (med(rel) - 1) * 100, p_cpu, len(rel),
                           (min(rel) - 1) * 100, (max(rel) - 1) * 100))
        elif pd:
            d = med(pd)
            measured = "%+.1f us (median of %d paired rounds)" % (d, len(pd))
        else:
            continue
        note = seq_note
        if kind == "get" and m_rel and rel:
            dm = (m_rel - 1.0) * p_cpu
            note += ("; the minimal HMAC-cookie gate M costs %+.1f us itself (%+.1f%% of P, "
                     "concurrent runs): %s the %d us ceiling; S - M %+.1f us"
                     % (dm, (m_rel - 1) * 100, "within" if dm <= budget else "over", budget, d - dm))
        if d > budget:
            note += "; over by %.1f us" % (d - budget)
            if kind == "get":
                note += breakdown_note()
            elif "P" in res.get("profile", {}) and "S" in res.get("profile", {}):
                note += " (see the GET attribution: the same per-request work runs in a handshake)"
        out.append(("S Apache CPU/%s <= P + %d us" % (what, budget), measured,
                    verdict(d <= budget), note))
    # 5./6. S vs F
    for kind, k, label in (("hs", 4, "handshakes/s"), ("get", 20, "guarded GETs/s")):
        s, f = g(kind, "S", "rate"), g(kind, "F", "rate")
        if s and f:
            ratio = s / f
            note = "" if ratio >= k else "short by %.1f x" % (k - ratio)
            out.append(("S >= %d x F %s" % (k, label), "%.1f x F" % ratio, verdict(ratio >= k), note))
    # 7. verify vs floor
    m = res.get("micro", {})
    for size in ("100", "1024"):
        v, fl = m.get("verify_%s.ns" % size), m.get("hmac_dup_%s.ns" % size)
        ratio = m.get("verify_%s.ratio_hmac_dup_%s" % (size, size))
        if v and fl and ratio:
            note = ""
            if ratio > 1.5:
                b64 = m.get("b64_decode_%s.ns" % size)
                note = ("over by %.0f ns (%.2f x); verify - floor = %.0f ns, of which the "
                        "strict base64url decode of the payload alone is %.0f ns"
                        % (v - 1.5 * fl, ratio - 1.5, v - fl, b64 or 0))
            out.append(("verify %s B <= 1.5 x bare HMAC (EVP_MAC_CTX dup)" % size,
                        "%.2f x (%.0f vs %.0f ns)" % (ratio, v, fl), verdict(ratio <= 1.5),
                        "median of per-batch ratios" + ("; " + note if note else "")))
    # 8. memory
    mem = res.get("memory")
    if mem and mem.get("rss_kb"):
        base = mem["rss_kb"][0]
        tol = max(1024, base * 0.01)
        g_kb = mem["growth_kb"]
        ok = g_kb <= tol and mem["requests"] >= mem["target"]
        note = ("RSS %s KiB at 0 / half / all; tolerance %.0f KiB (1%% or 1 MiB)"
                % (" / ".join(str(x) for x in mem["rss_kb"]), tol))
        if mem["requests"] < mem["target"]:
            note += "; only %d of %d requests within the time bound" % (mem["requests"], mem["target"])
        out.append(("S children RSS flat over %s guarded GETs" % fmt(mem["target"]),
                    "%+d KiB over %s" % (g_kb, fmt(mem["requests"])), verdict(ok), note))
    return out


def render(res, S, paired, info, args):
    L = []
    L.append("## make bench: %s (%s)" % (res["started"], "quick" if args.quick else "full"))
    L.append("")
    L.append("Machine: %s CPUs (%s), %s RAM, kernel %s; %s; %s; %s."
             % (info["nproc"], info["cpu"], info["mem"], info["kernel"], info["httpd"],
                info["openssl"], info["wrk"]))
    if info.get("commit"):
        L.append("Sources: commit %s%s." % (info["commit"], (" with local changes to " + info["modified"].strip())
                                            if info.get("modified", "").strip() else ""))
    pin = ("httpd pinned to CPU %s; load generator, wrk, backend and micro-benchmarks on CPU %s"
           % (args.server_cpus, args.client_cpus)) if not args.no_pin else "no CPU pinning"
    if args.nice:
        pin += ", nice %d" % args.nice
    fx = sorted(set(res.get("futex", {}).values()))
    fx = ("private futex hash of every httpd process: %s (bench/futex_slots.c)" % "/".join(fx)
          if fx and fx != ["default"] else "the kernel's default futex hash")
    L.append("Run: %d interleaved rounds (P S F) x %d s per figure, %d connections in flight, "
             "%s; %s; load average at start %s."
             % (args.rounds, args.seconds, args.concurrency, pin, fx, info["loadavg_start"]))
    others = [r["other_share"] for r in res["rounds"]]
    if others and med(others) > 0.2:
        L.append("")
        L.append("**Warning: the machine was not quiet.** Other processes used a median %.0f%% of a core "
                 "(%.0f-%.0f%%) during the measured runs (CPU busy time minus httpd, backend and client). "
                 "Rates and latencies are depressed and noisy; the per-operation CPU figures are the more "
                 "robust ones, and the per-round S/P ratios say how far the noise reaches."
                 % (100 * med(others), 100 * min(others), 100 * max(others)))
    L.append("")
    L.append("| figure | P: plain proxy | S: session_sign + ws_auth | F: auth_form + session_crypto | S/P | F/P | S/F |")
    L.append("|---|---:|---:|---:|---:|---:|---:|")

    def row(label, kind, key, nd=0, ratio=True, scale=1.0):
        cells = []
        vals = {}
        for name in CONFIGS:
            d = S.get((kind, name))
            if not d or d[key]["median"] is None:
                cells.append("n/a")
                continue
            sd = {k: d[key][k] * scale for k in ("median", "min", "max")}
            vals[name] = sd["median"]
            cells.append("%s<br>%s" % (fmt(sd["median"], nd), spread(sd, nd)))
        rs = []
        for a, b in (("S", "P"), ("F", "P"), ("S", "F")):
            if ratio and vals.get(a) is not None and vals.get(b):
                rs.append("%.3f" % (vals[a] / vals[b]) if vals[a] / vals[b] < 10 else "%.1f" % (vals[a] / vals[b]))
            else:
                rs.append("")
        L.append("| %s | %s | %s |" % (label, " | ".join(cells), " | ".join(rs)))

    row("upgrade handshakes/s (open, 101, close)", "hs", "rate")
    row("handshake latency p50 (us)", "hs", "p50_us")
    row("handshake latency p99 (us)", "hs", "p99_us")
    row("Apache CPU per handshake (us)", "hs", "apache_us_per_op", 1)
    row("guarded GETs/s (wrk, keep-alive)", "get", "rate")
    row("GET latency p50 (us)", "get", "p50_us")
    row("GET latency p99 (us)", "get", "p99_us")
    row("Apache CPU per guarded GET (us)", "get", "apache_us_per_op", 1)
    row("Apache CPU share during handshakes (% of a core)", "hs", "apache_share", 0, False, 100)
    row("load generator (wsload) CPU share (% of a core)", "hs", "client_share", 0, False, 100)
    row("backend (wsecho) CPU share, handshakes (% of a core)", "hs", "backend_share", 0, False, 100)
    row("Apache CPU share during GETs (% of a core)", "get", "apache_share", 0, False, 100)
    row("wrk CPU share (% of a core)", "get", "client_share", 0, False, 100)
    row("other processes' CPU, handshakes (% of a core)", "hs", "other_share", 0, False, 100)
    row("other processes' CPU, GETs (% of a core)", "get", "other_share", 0, False, 100)
    hold = res.get("hold", {})
    if hold:
        cells = []
        for name in CONFIGS:
            h = hold.get(name)
            if not h:
                cells.append("n/a")
                continue
            cells.append("%.1f MiB (idle %.1f; %+.1f KiB/tunnel; %d held%s)"
                         % (h["held_rss_kb"] / 1024, h["idle_rss_kb"] / 1024, h["per_tunnel_kb"] or 0,
                            h["held"], ", %d failed" % h["failed"] if h["failed"] else ""))
        vals = {n: hold[n]["held_rss_kb"] for n in CONFIGS if n in hold}
        rs = ["%.3f" % (vals[a] / vals[b]) if a in vals and b in vals and vals[b] else ""
              for a, b in (("S", "P"), ("F", "P"), ("S", "F"))]
        L.append("| children RSS with %s idle tunnels | %s | %s |"
                 % (fmt(args.hold), " | ".join(cells), " | ".join(rs)))
    L.append("")
    L.append("Each cell: median of the rounds, then min-max over the rounds (spread as %% of the median). "
             "Errors or unexpected statuses in measured runs: %d."
             % sum(r["errors"] for r in res["rounds"]))
    L.append("")

    # targets
    L.append("### Targets")
    L.append("")
    L.append("| target | measured | verdict | notes |")
    L.append("|---|---|---|---|")
    for t in res["targets"]:
        L.append("| %s | %s | **%s** | %s |" % t)
    L.append("")
    conc = res.get("concurrent", {})
    if conc.get("hs") or conc.get("get"):
        L.append("### P and S loaded at once (Apache CPU per operation, us)")
        L.append("")
        L.append("Both instances on httpd's core, each with its own load generator, %d s per run; "
                 "the same seconds of the machine for both, so its drift cancels in each run's "
                 "ratio. Sharing the core inflates both figures alike.%s" % (
                     args.concurrent_seconds,
                     " Each run loads M as well (below)." if min_gate_rel(res)[0] else ""))
        L.append("")
        L.append("| kind | run | P | S | S/P |")
        L.append("|---|---:|---:|---:|---:|")
        for kind in ("hs", "get"):
            for i, r in enumerate(conc.get(kind) or []):
                L.append("| %s | %d | %.1f | %.1f | %.3f |" % (
                    "handshake" if kind == "hs" else "guarded GET", i + 1, r["P"]["us_per_op"],
                    r["S"]["us_per_op"], r["S"]["us_per_op"] / r["P"]["us_per_op"]))
        L.append("")
    if any(min_gate_rel(res, k)[1] for k in ("hs", "get")):
        L.extend(min_gate_section(res, S))

    # micro
    m = res.get("micro", {})
    if m:
        L.append("### Micro-benchmarks (ns/op, median of %s batches of this thread's CPU time; min-max)"
                 % fmt(m.get("batches")))
        L.append("")
        L.append("| operation | 100 B session | 1 KiB session |")
        L.append("|---|---:|---:|")

        def mc(key):
            if ("%s.ns" % key) not in m:
                return "n/a"
            return "%s (%s-%s)" % (fmt(m["%s.ns" % key]), fmt(m["%s.min" % key]), fmt(m["%s.max" % key]))
        for label, key in (("ssg_sign", "sign"), ("ssg_verify", "verify"),
                           ("floor: pre-keyed EVP_MAC_CTX dup + update + final", "hmac_dup"),
                           ("reference: one-shot HMAC()", "hmac_once"),
                           ("diagnostic: ssg_b64url_decode of the payload field", "b64_decode")):
            L.append("| %s | %s | %s |" % (label, mc(key + "_100"), mc(key + "_1024")))
        for label, key in (("verify / floor (median of per-batch ratios)", "verify"),
                           ("sign / floor", "sign")):
            L.append("| %s | %s |" % (label, " | ".join(
                ("%.2f x" % m["%s_%s.ratio_hmac_dup_%s" % (key, z, z)])
                if ("%s_%s.ratio_hmac_dup_%s" % (key, z, z)) in m else "n/a"
                for z in ("100", "1024"))))
        L.append("| token / MAC input bytes | %s / %s | %s / %s |" % (
            fmt(m.get("case_100.token_len")), fmt(m.get("case_100.mac_input_len")),
            fmt(m.get("case_1024.token_len")), fmt(m.get("case_1024.mac_input_len"))))
        L.append("")
        L.append("| Origin check | ns/op |")
        L.append("|---|---:|")
        for label, key in (("ssg_origin_parse(\"http://127.0.0.1:8080\")", "origin_parse"),
                           ("ssg_origin_same_as_host(o, \"127.0.0.1:8080\", \"http\")", "origin_same_as_host"),
                           ("**default WSAuth check: parse + same_as_host**", "origin_check"),
                           ("ssg_origin_parse(\"https://app.example.com\")", "origin_parse_dns"),
                           ("wsa_origin_pattern_match, exact https://app.example.com", "pattern_match_exact"),
                           ("wsa_origin_pattern_match, wildcard https://*.example.com", "pattern_match_wildcard")):
            L.append("| %s | %s |" % (label, mc(key)))
        L.append("")

    mem = res.get("memory")
    if mem:
        L.append("Memory run (S): %s guarded keep-alive GETs with Cookie and Origin (wsload get, "
                 "%d in flight) in %.0f s, %d errors; children RSS (KiB) %s at the start, %s half-way, "
                 "%s at the end."
                 % (fmt(mem["requests"]), args.concurrency, mem["seconds"], mem["errors"],
                    fmt(mem["rss_kb"][0]), fmt(mem["rss_kb"][1]), fmt(mem["rss_kb"][2])))
        L.append("")
    if S.get(("get", "Pm")) and S.get(("get", "Pk")):
        L.append("### Where S's cost goes (Apache CPU per guarded GET, us; median, min-max over the rounds)")
        L.append("")
        L.append("| configuration | CPU/GET | step | added by the step (medians) |")
        L.append("|---|---:|---|---:|")
        prev = None
        for name, step in (("P", "plain proxy"),
                           ("Pm", "+ Session On, SessionCookieName: mod_session loads and parses the cookie"),
                           ("Pk", "+ SessionSignKey: mod_session_sign verifies the token (HMAC-SHA256)"),
                           ("S", "+ WSAuth On, WSAuthForwardHeader: mod_ws_auth's gate (Origin, identity, header)")):
            d = S[("get", name)]["apache_us_per_op"]
            delta = "" if prev is None else "%+.1f" % (d["median"] - prev)
            L.append("| %s | %s<br>%s | %s | %s |" % (name, fmt(d["median"], 1), spread(d, 1), step, delta))
            prev = d["median"]
        if S.get(("get", "M")):
            d = S[("get", "M")]["apache_us_per_op"]
            L.append("| M | %s<br>%s | reference, on P: the minimal HMAC-cookie gate | %+.1f (M - P) |"
                     % (fmt(d["median"], 1), spread(d, 1),
                        d["median"] - S[("get", "P")]["apache_us_per_op"]["median"]))
        L.append("")
    prof = res.get("profile", {})
    if "P" in prof and "S" in prof:
        L.append("### In-process attribution (perf sampling of the children during guarded GETs, us per GET)")
        L.append("")
        L.append("Samples: P %s, S %s. CPU per GET during these runs: P %.1f, S %.1f us (perf adds its own cost). "
                 "Shares of samples x CPU per GET; other load disturbs shares less than it does CPU time."
                 % (fmt(prof["P"]["samples"]), fmt(prof["S"]["samples"]),
                    prof["P"]["cpu_per_op"], prof["S"]["cpu_per_op"]))
        L.append("")
        L.append("| where | P | S | S - P |")
        L.append("|---|---:|---:|---:|")
        for c in PERF_CATEGORIES:
            pv, sv = prof["P"]["us"].get(c, 0.0), prof["S"]["us"].get(c, 0.0)
            L.append("| %s | %.1f | %.1f | %+.1f |" % (c, pv, sv, sv - pv))
        L.append("")
    ins = res.get("instructions", {})
    if "P" in ins and "S" in ins:
        L.append("### User-space instructions per guarded GET (callgrind, deterministic)")
        L.append("")
        L.append("Each configuration in a single-process httpd (-X) under callgrind, %d and %d "
                 "keep-alive GETs with wrk's Cookie header; the difference of the two runs over %d "
                 "GETs. The same binaries and requests give the same counts on a busy or a quiet "
                 "machine. Kernel work is not counted, and instructions are not time: OpenSSL picks "
                 "its SHA-256 code by the CPU it sees, and valgrind's is not this machine's."
                 % (INSTR_BASE, INSTR_BASE + INSTR_GETS, INSTR_GETS))
        L.append("")
        L.append("| configuration | instructions/GET | step | added by the step |")
        L.append("|---|---:|---|---:|")
        prev = None
        for name, step in (("P", "plain proxy"),
                           ("Pm", "+ mod_session loads the cookie (mod_session_cookie)"),
                           ("Pk", "+ signing: the token's bytes and its verification"),
                           ("S", "+ mod_ws_auth's gate" if "Pk" in ins
                            else "+ mod_session, mod_session_sign and mod_ws_auth")):
            if name not in ins:
                continue
            v = ins[name]
            L.append("| %s | %s | %s | %s |" % (name, fmt(v), step,
                                               "" if prev is None else "%+.0f" % (v - prev)))
            prev = v
        L.append("| S - P | %+.0f (%+.1f%%) | | |" % (ins["S"] - ins["P"],
                                                   100.0 * (ins["S"] - ins["P"]) / ins["P"]))
        if "M" in ins:
            L.append("| M | %s | reference, on P: the minimal HMAC-cookie gate | %+.0f (M - P) |"
                     % (fmt(ins["M"]), ins["M"] - ins["P"]))
        L.append("")
    sc = res.get("syscalls", {})
    if "P" in sc and "S" in sc:
        P_, S_ = sc["P"]["median"], sc["S"]["median"]
        L.append("### System calls per guarded GET (strace -c)")
        L.append("")
        L.append("P and S each in a single-process httpd (-X) under strace -c -f, %d and %d "
                 "keep-alive GETs as above; the difference of the two runs over %d GETs, %d times "
                 "(P and S alternating): the median, then min-max. What S asks of the kernel per "
                 "request beside P, not how long it takes. futex calls are the threads handing "
                 "the connection to each other: their count follows each run's timing."
                 % (INSTR_BASE, INSTR_BASE + INSTR_GETS, INSTR_GETS, len(sc["P"]["runs"])))
        L.append("")
        L.append("| system call | P | S | S - P |")
        L.append("|---|---:|---:|---:|")

        def cell(name, c):
            v = [r.get(c, 0.0) for r in sc[name]["runs"]]
            if max(v) - min(v) < 0.005:
                return "%.2f" % sc[name]["median"].get(c, 0.0)
            return "%.2f (%.2f-%.2f)" % (sc[name]["median"].get(c, 0.0), min(v), max(v))

        shown = [c for c in sorted(set(P_) | set(S_))
                 if any(abs(r.get(c, 0.0)) >= 0.005 for n in ("P", "S") for r in sc[n]["runs"])]
        for c in shown:
            L.append("| %s | %s | %s | %+.2f |" % (c, cell("P", c), cell("S", c),
                                                  S_.get(c, 0.0) - P_.get(c, 0.0)))
        pt = sum(P_.get(c, 0.0) for c in shown if c != "futex")
        st = sum(S_.get(c, 0.0) for c in shown if c != "futex")
        L.append("| all but futex | %.2f | %.2f | %+.2f |" % (pt, st, st - pt))
        L.append("")
    lp = res.get("log_problems", {})
    cr = res.get("crashes", {})
    L.append("Unexpected [warn]+ lines in the error logs: %s. Crashed children (AH00052): %s."
             % (", ".join("%s %d" % (k, v) for k, v in lp.items()),
                ", ".join("%s %d" % (k, v) for k, v in cr.items())))
    L.append("")
    return "\n".join(L)


def chart(res, S, base, args):
    dat = base.with_suffix(".dat")
    lines = ["# idx cfg hs_med hs_min hs_max p50_med p50_min p50_max p99_med p99_min p99_max get_med get_min get_max"]
    for i, name in enumerate(CONFIGS):
        hs, get = S.get(("hs", name)), S.get(("get", name))
        if not hs or not get:
            return None
        vals = [hs["rate"], hs["p50_us"], hs["p99_us"], get["rate"]]
        cells = []
        for v in vals:
            cells += [v["median"], v["min"], v["max"]]
        lines.append("%d %s %s" % (i, name, " ".join("%.3f" % (c or 0) for c in cells)))
    dat.write_text("\n".join(lines) + "\n")
    png = base.with_suffix(".png")
    gp = base.with_suffix(".gp")
    gp.write_text(f"""set terminal pngcairo size 1500,560 font "sans,10"
set bmargin 4
set output '{png}'
set multiplot layout 1,3 title "make bench {res['started']} ({'quick' if args.quick else 'full'}): median of {args.rounds} interleaved rounds, bars min-max; {args.concurrency} in flight"
set style fill solid 0.55 border -1
set xtics ("P: proxy" 0, "S: sign+gate" 1, "F: form+crypto" 2)
set xrange [-0.6:2.6]
set grid ytics
unset key
set boxwidth 0.6
set title "WebSocket upgrade handshakes/s"
set yrange [0:*]
plot '{dat}' using 1:3 with boxes lc rgb "#4878a8", '' using 1:3:4:5 with yerrorbars lc rgb "black" pt 0
set title "Handshake latency (ms, log scale)"
set logscale y
set yrange [*:*]
set key top left
set boxwidth 0.35
plot '{dat}' using ($1-0.18):($6/1000) with boxes lc rgb "#6aa84f" title "p50", '' using ($1-0.18):($6/1000):($7/1000):($8/1000) with yerrorbars lc rgb "black" pt 0 notitle, \\
     '' using ($1+0.18):($9/1000) with boxes lc rgb "#cc4125" title "p99", '' using ($1+0.18):($9/1000):($10/1000):($11/1000) with yerrorbars lc rgb "black" pt 0 notitle
unset key
set boxwidth 0.6
set title "Guarded GETs/s (wrk, log scale)"
plot '{dat}' using 1:12 with boxes lc rgb "#8e7cc3", '' using 1:12:13:14 with yerrorbars lc rgb "black" pt 0
unset multiplot
""")
    r = subprocess.run(["gnuplot", str(gp)], capture_output=True, text=True)
    if r.returncode != 0:
        log("gnuplot failed: " + r.stderr.strip())
        return None
    return png


def render_only(path):
    """Table, targets and chart again from a run's raw figures."""
    res = json.loads(path.read_text())
    args = argparse.Namespace(**res["args"])
    base = path.with_suffix("")
    S, paired = summarize(res)
    res["targets"] = targets(res, S, paired)
    md = render(res, S, paired, res["machine"], args)
    md += "\nElapsed: %.0f s. Raw figures: %s.\n" % (res.get("elapsed_s", 0), path.name)
    png = chart(res, S, base, args)
    if png:
        md += "Chart: %s.\n" % png.name
    base.with_suffix(".md").write_text(md)
    print(md)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--quick", action="store_true", help="smoke run (~2 min)")
    ap.add_argument("--rounds", type=int)
    ap.add_argument("--seconds", type=int)
    ap.add_argument("--warmup", type=int)
    ap.add_argument("--concurrency", type=int, default=50)
    ap.add_argument("--hold", type=int, help="idle tunnels for the RSS figure (2000; quick 500)")
    ap.add_argument("--mem-requests", type=int)
    ap.add_argument("--mem-seconds", type=int)
    ap.add_argument("--server-cpus", default="0")
    ap.add_argument("--client-cpus", default="1")
    ap.add_argument("--no-pin", action="store_true")
    ap.add_argument("--nice", type=int,
                    help="run httpd, backend and clients at this nice value (default 0; "
                         "negative values take CPU from other users of the machine)")
    ap.add_argument("--skip-micro", action="store_true")
    ap.add_argument("--no-breakdown", dest="breakdown", action="store_false", default=None,
                    help="skip the Pm/Pk/M configurations (where S's cost goes, and the "
                         "minimal gate beside it; off in --quick)")
    ap.add_argument("--no-instructions", dest="instructions", action="store_false",
                    help="skip the callgrind instruction counts per guarded GET")
    ap.add_argument("--no-syscalls", dest="syscalls", action="store_false", default=True,
                    help="no system call counts per GET (strace)")
    ap.add_argument("--no-profile", dest="profile", action="store_false",
                    help="skip the perf attribution of P's and S's CPU per GET")
    ap.add_argument("--concurrent-runs", type=int,
                    help="runs of P and S loaded at once, per kind (default 8; quick 2; 0 skips)")
    ap.add_argument("--concurrent-seconds", type=int, default=5)
    ap.add_argument("--futex-slots", type=int, default=FUTEX_SLOTS,
                    help="private futex hash slots for every httpd process (Linux 6.16+; "
                         "default %(default)s; 0 leaves the kernel's default: 16 slots on 2 CPUs, "
                         "a per-start lottery, see docs/performance.md)")
    ap.add_argument("--skip-hold", action="store_true")
    ap.add_argument("--skip-memory", action="store_true")
    ap.add_argument("--pause", type=float, default=0,
                    help="seconds to wait (servers up, logged in) before measuring, "
                         "e.g. to attach a profiler")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    ap.add_argument("--keep", action="store_true", help="keep the server roots in /tmp")
    ap.add_argument("--render", metavar="RESULTS.json",
                    help="only re-render the table and chart of an earlier run")
    a = ap.parse_args()
    if a.render:
        return render_only(Path(a.render))
    env = os.environ
    if a.rounds is None:
        a.rounds = int(env.get("BENCH_ROUNDS") or (2 if a.quick else 5))
    if a.seconds is None:
        a.seconds = int(env.get("BENCH_SECONDS") or (3 if a.quick else 8))
    if a.warmup is None:
        a.warmup = 1 if a.quick else 3
    if a.breakdown is None:
        a.breakdown = not a.quick
    if a.hold is None:
        a.hold = 500 if a.quick else 2000
    if a.concurrent_runs is None:
        a.concurrent_runs = 2 if a.quick else 8
    if a.mem_requests is None:
        a.mem_requests = 50000 if a.quick else 1000000
    if a.mem_seconds is None:
        a.mem_seconds = 30 if a.quick else 300
    if a.nice is None:
        a.nice = int(env.get("BENCH_NICE") or 0)
    if not (1 <= a.rounds <= 50 and 1 <= a.seconds <= 300 and 1 <= a.concurrency <= 1000
            and 1 <= a.hold <= 5000 and -20 <= a.nice <= 19):
        ap.error("rounds 1..50, seconds 1..300, concurrency 1..1000, hold 1..5000, nice -20..19")
    for tool in ("wrk", "gnuplot", "htpasswd", "taskset"):
        if not shutil.which(tool):
            sys.exit("bench: %s is missing (Debian packages wrk, gnuplot-nox, apache2-utils, util-linux)" % tool)

    global NICE
    NICE = a.nice
    started = datetime.datetime.now()
    out_dir = Path(a.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    base = out_dir / started.strftime("%Y%m%d-%H%M%S")
    info = machine_info()
    b = Bench(a)
    b.results["started"] = started.strftime("%Y-%m-%d %H:%M:%S")
    b.results["machine"] = info
    b.results["args"] = vars(a)

    def on_term(sig, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_term)
    t0 = time.monotonic()
    ok = False
    try:
        b.setup()
        b.login_and_check()
        if a.pause:
            log("pausing %.0f s: %s" % (a.pause, ", ".join(
                "%s port %d pid %d" % (n, h.port, h.pid) for n, h in b.httpd.items())))
            for n in CONFIGS:
                log("cookie %s: %s" % (n, b.cookies[n]))
            time.sleep(a.pause)
        b.warmup()
        b.rounds()
        if a.concurrent_runs:
            b.concurrent()
        if a.profile:
            b.profile()
        if a.instructions:
            b.instructions()
        if a.syscalls:
            b.syscalls()
        # memory before the tunnels: 2,000 tunnels grow every thread's
        # allocator, which would hide a small per-request leak
        if not a.skip_memory:
            b.memory()
        if not a.skip_hold:
            b.hold()
        ok = True
    finally:
        b.stop()
        if not a.keep and getattr(b, "work", None):
            shutil.rmtree(b.work, ignore_errors=True)
        elif getattr(b, "work", None):
            log("server roots kept in %s" % b.work)
    if not a.skip_micro:
        b.micro()
    res = b.results
    res["elapsed_s"] = time.monotonic() - t0
    S, paired = summarize(res)
    res["targets"] = targets(res, S, paired)
    md = render(res, S, paired, info, a)
    md += "\nElapsed: %.0f s. Raw figures: %s.\n" % (res["elapsed_s"], base.with_suffix(".json").name)
    png = chart(res, S, base, a)
    if png:
        md += "Chart: %s.\n" % png.name
    base.with_suffix(".md").write_text(md)
    base.with_suffix(".json").write_text(json.dumps(res, indent=1, default=str))
    print(md)
    log("results: %s.{md,json,png}" % base)
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
