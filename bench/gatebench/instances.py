"""Instances and configurations: what P, S, F, Pm, Pk and M are, a private
httpd instance of one of them, the C WebSocket echo backend behind all of
them, where each process runs (CPUs, nice), and what /proc says of them."""
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# the integration tests' harness: free port, wait for a port, stop a process,
# raw HTTP clients, LoadModule lines, error-log line format
sys.path.insert(0, str(ROOT / "tests" / "integration"))
import support  # noqa: E402
from support import APACHE, free_port, stop_process, wait_port  # noqa: E402,F401

TICK = os.sysconf("SC_CLK_TCK")

USER, PASSWORD = "bench", "bench-password-1"
SIGN_KEY = "bench-" + "k" * 40                     # 46 bytes
CRYPTO_PASS = "bench-crypto-passphrase"

# the three compared in every round
CONFIGS = ("P", "S", "F")
# where S's cost goes, measured on guarded GETs only: P plus mod_session's
# cookie session (Pm), plus mod_session_sign verifying it (Pk); S adds the
# gate (full runs only: --no-breakdown, off in --quick)
BREAKDOWN = ("Pm", "Pk")
# S with revocation (issue 15): Sr with a shmcb cache, Sd with a private
# Redis; loaded at once with S (drivers.revocation), never in the rounds
REVOCATION = ("Sr", "Sd")
# M, the reference minimal HMAC-cookie gate (bench/mod_min_gate.c) on P: two
# of the targets are set against it, so it runs in quick runs too
MIN_GATE = "M"
# An instance that has carried WebSocket tunnels spends ~1-2% more CPU on
# each later GET than a fresh one (measured: M/P +1.9% when only P and S had
# run handshakes before, +3.2% when M had too). M is compared with P and S
# in the concurrent runs, so it gets the same history: every handshake
# measurement, sequential and concurrent, includes it.
HS_WITH = (MIN_GATE,)
LABELS = {
    "Pm": "P + Session On + SessionCookieName (mod_session loads the cookie)",
    "Pk": "Pm + SessionSignKey (every request's session verified, no gate)",
    "M": "P + the minimal HMAC-cookie gate (bench/mod_min_gate.c: our token, same core, "
         "no session framework, 1 forwarded header)",
    "P": "plain proxy, no authentication (ceiling)",
    "S": "mod_session_sign + mod_ws_auth (WSAuth On, Origin check, 1 forwarded header)",
    "F": "mod_auth_form + mod_session_cookie + mod_session_crypto (bcrypt AuthUserFile)",
    "Sr": "S + SessionSignRevocationCache shmcb (revocation on one host)",
    "Sd": "S + SessionSignRevocationCache redis (a private redis-server on loopback)",
}

# every instance loads the same modules; only the configuration differs
MODULES = ["mpm_event", "authn_core", "authz_core", "authz_user", "authn_file",
           "auth_basic", "auth_form", "request", "session", "session_cookie",
           "session_crypto", "proxy", "proxy_http", "proxy_wstunnel", "socache_shmcb",
           "socache_redis"]

THREADS_PER_CHILD = 1100
SERVER_LIMIT = 2                                   # 2,200 workers > 2,000 tunnels
# slots of the private futex hash every httpd process gets through the
# LD_PRELOAD shim bench/futex_slots.c (--futex-slots; 0: the kernel's default)
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


def status_field(pid, name):
    """An integer field of /proc/<pid>/status (VmRSS in kB, Threads), or 0."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(name + ":"):
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


# ------------------------------------------------------------------ placement

class Placement:
    """Where the processes of a run go: httpd on the server CPUs, clients and
    the backend on the client CPUs (None: unpinned), all at one nice value."""

    def __init__(self, server_cpus, client_cpus, nice=0):
        self.server_cpus, self.client_cpus, self.nice = server_cpus, client_cpus, nice

    def argv(self, cpus, argv):
        """argv under taskset (CPU list) and nice, both exec in place."""
        if self.nice:
            argv = ["nice", "-n", str(self.nice)] + argv
        return (["taskset", "-c", cpus] + argv) if cpus else argv

    def server(self, argv):
        return self.argv(self.server_cpus, argv)

    def client(self, argv):
        return self.argv(self.client_cpus, argv)


# ------------------------------------------------------------------ instances

class Backend:
    """bench/wsecho.c on a free loopback port."""

    def __init__(self, root, tools, place):
        self.port = free_port()
        self.log = open(root / "wsecho.log", "w")
        self.proc = subprocess.Popen(place.client([str(tools / "wsecho"), "-p", str(self.port)]),
                                     stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        wait_port(self.port, proc=self.proc)

    def cpu_ticks(self):
        st = proc_stat(self.proc.pid)
        return st[1] if st else 0

    def connections(self):
        """Open file descriptors of the backend (its connections, roughly)."""
        try:
            return len(os.listdir("/proc/%d/fd" % self.proc.pid))
        except OSError:
            return None

    def stop(self):
        stop_process(self.proc)
        self.log.close()


class Httpd:
    """A private httpd (event MPM, everything pre-started, no access log)
    running configuration `name` with `body`, on a free loopback port.
    futex: (shim path, slots) to preload bench/futex_slots.c, or None."""

    def __init__(self, name, root, body, moddir, place=None, futex=None, servers=None,
                 threads=None):
        self.servers = servers or SERVER_LIMIT
        self.threads = threads or THREADS_PER_CHILD
        self.name, self.root, self.place, self.futex_shim = name, root, place, futex
        self.port = free_port()
        for d in ("conf", "logs", "run", "htdocs"):
            (root / d).mkdir(parents=True, exist_ok=True)
        os.chmod(root, 0o755)
        self.conf = root / "conf" / "httpd.conf"
        self.conf.write_text(self.config(body, moddir))
        self.proc = None
        self.log_mark = 0
        self.futex = "default"

    def config(self, body, moddir):
        user = "User daemon\nGroup daemon\n" if os.geteuid() == 0 else ""
        mods = [support.load_line(m) for m in MODULES]
        # mod_session before anything that hooks session_encode/decode
        mods.append("LoadModule session_sign_module %s/mod_session_sign.so" % moddir)
        mods.append("LoadModule ws_auth_module %s/mod_ws_auth.so" % moddir)
        root, n, t = self.root, self.servers, self.threads
        return f"""# bench configuration {self.name}: {LABELS[self.name]}
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
# event MPM, everything pre-started: {n} children x {t}
# threads; each open tunnel holds one worker thread
StartServers {n}
ServerLimit {n}
ThreadLimit {t}
ThreadsPerChild {t}
MaxRequestWorkers {n * t}
MinSpareThreads {min(25, n * t)}
MaxSpareThreads {n * t}
MaxConnectionsPerChild 0
{body}
"""

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
        if self.futex_shim:
            # written by the children (User daemon) through the shim
            self.futex_log.write_text("")
            os.chmod(self.futex_log, 0o666)
            env = dict(os.environ, LD_PRELOAD=str(self.futex_shim[0]),
                       BENCH_FUTEX_SLOTS=str(self.futex_shim[1]),
                       BENCH_FUTEX_LOG=str(self.futex_log))
        self.proc = subprocess.Popen(
            self.place.server([APACHE, "-f", str(self.conf), "-DFOREGROUND"]),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, env=env,
            stderr=open(self.root / "logs" / "stderr", "w"), start_new_session=True)
        wait_port(self.port, proc=self.proc)
        # wait for every child and every worker thread
        deadline = time.time() + 30
        want = self.servers * self.threads
        while time.time() < deadline:
            kids = children_of(self.proc.pid)
            if len(kids) == self.servers and sum(status_field(k, "Threads") for k in kids) >= want:
                self.futex = self.futex_slots(kids)
                return
            time.sleep(0.1)
        raise RuntimeError("%s: children/threads did not all start" % self.name)

    def futex_slots(self, kids):
        """The futex hash of each child, as the shim logged it: "4096 slots",
        "unsupported" (kernel < 6.16: one global hash) or "default"."""
        if not self.futex_shim:
            return "default"
        seen = {}
        for line in self.futex_log.read_text().split("\n"):
            f = line.split()
            if len(f) == 2:
                seen[int(f[0])] = f[1]
        got = sorted(set(seen.get(k, "missing") for k in kids))
        slots = self.futex_shim[1]
        if got == [str(slots)]:
            return "%d slots" % slots
        log("%s: futex hash of the children: %s (wanted %d slots)" % (self.name, got, slots))
        return "/".join(got)

    @property
    def pid(self):
        return self.proc.pid

    def cpu_ticks(self):
        return tree_cpu_ticks(self.pid)

    def children_rss_kb(self):
        return sum(status_field(k, "VmRSS") for k in children_of(self.pid))

    def stop(self):
        stop_process(self.proc, timeout=30)

    def error_log(self, since=0):
        p = self.root / "logs" / "error_log"
        if not p.exists():
            return ""
        with open(p, "rb") as f:
            f.seek(since)
            return f.read().decode("utf-8", "replace")

    def crashes(self):
        return len(re.findall(r"AH00052: child pid \d+ exit signal", self.error_log()))

    def log_problems(self):
        """[warn]+ lines since mark_log() that no LOG_ACKS tag explains."""
        bad = []
        for line in self.error_log(self.log_mark).splitlines():
            m = support.LOG_LINE.match(line)
            if not m or m.group("level") not in support.LEVELS_BAD:
                continue
            if any(a in line for a in LOG_ACKS):
                continue
            bad.append(line)
        return bad


def config_bodies(backend_port, htpasswd, min_gate_so=None, redis_port=None):
    """The part of each configuration that differs, by name (Sr and Sd only
    with redis_port: S's body and a revocation cache)."""
    proxy = "ProxyPass ws://127.0.0.1:%d/" % backend_port
    session = "Session On\nSessionCookieName session path=/;HttpOnly;SameSite=Lax"
    bodies = _bodies(proxy, session, htpasswd, min_gate_so)
    if redis_port:
        bodies["Sr"] = "SessionSignRevocationCache shmcb\n" + bodies["S"]
        bodies["Sd"] = ("SessionSignRevocationCache redis:127.0.0.1:%d\n" % redis_port
                        + bodies["S"])
    return bodies


def _bodies(proxy, session, htpasswd, min_gate_so):
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
