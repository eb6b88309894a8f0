#!/usr/bin/python3
"""Reproduce the httpd 2.4.71 event-MPM race that `make check-asan` ignores,
with Debian's stock modules only (none of ours is loaded).

    /usr/bin/python3 tests/tools/repro_event_stop_race.py [--cycles 300] [--asan]

Each cycle starts a private httpd (event MPM, 2 children, the stock modules
the integration tests load beside ours) on a free loopback port, waits until
the port answers, and stops it at once with SIGTERM, as the test harness
does: the stop races the children's start-up. It then counts children that
died of a signal (AH00052 "exit signal Segmentation fault" in the error log)
and, with --asan (libasan/libubsan preloaded into the uninstrumented server,
as check-asan does), the sanitizer reports and how many of them
tests/tools/asan_known_race.py recognises as the known race.
Bounded: --cycles at most 5,000; every cycle ends within 20 s.
"""
import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import asan_known_race  # noqa: E402

APACHE = "/usr/sbin/apache2"
MODDIR = "/usr/lib/apache2/modules"
STOCK = ["mpm_event", "authn_core", "authz_core", "authz_host", "mime", "alias", "env",
         "headers", "session", "session_cookie", "proxy", "proxy_http", "proxy_wstunnel"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def config(root, port):
    user = "User daemon\nGroup daemon\n" if os.geteuid() == 0 else ""
    mods = "\n".join("LoadModule %s_module %s/mod_%s.so" % (m, MODDIR, m) for m in STOCK)
    return f"""ServerRoot "{root}"
Listen 127.0.0.1:{port}
ServerName 127.0.0.1
PidFile "{root}/run/httpd.pid"
DefaultRuntimeDir "{root}/run"
Mutex file:{root}/run default
ErrorLog "{root}/logs/error_log"
LogLevel notice
{user}{mods}
StartServers 2
TypesConfig /etc/mime.types
DocumentRoot "{root}/htdocs"
<Directory "{root}/htdocs">
    Require all granted
</Directory>
"""


def wait_port(port, proc, timeout=15):
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.01)
    return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cycles", type=int, default=300)
    ap.add_argument("--asan", action="store_true")
    a = ap.parse_args()
    cycles = max(1, min(a.cycles, 5000))
    root = Path(tempfile.mkdtemp(prefix="event-race-", dir="/tmp"))
    os.chmod(root, 0o755)
    for d in ("logs", "run", "htdocs", "asan"):
        (root / d).mkdir()
    os.chmod(root / "asan", 0o1777)
    (root / "htdocs" / "index.html").write_text("hello\n")
    port = free_port()
    conf = root / "httpd.conf"
    conf.write_text(config(root, port))
    env = dict(os.environ)
    if a.asan:
        cc = subprocess.run(["apxs", "-q", "CC"], capture_output=True, text=True).stdout.strip()
        rt = [subprocess.run([cc or "gcc", "-print-file-name=" + lib], capture_output=True,
                             text=True).stdout.strip() for lib in ("libasan.so", "libubsan.so")]
        env["LD_PRELOAD"] = ":".join(rt)
        env["ASAN_OPTIONS"] = ("detect_leaks=0:abort_on_error=0:allow_user_segv_handler=0:"
                               "log_path=%s/asan/asan" % root)
    started = 0
    t0 = time.time()
    for _ in range(cycles):
        p = subprocess.Popen([APACHE, "-f", str(conf), "-DFOREGROUND"], env=env,
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
        if wait_port(port, p):
            started += 1
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    log = (root / "logs" / "error_log").read_text(errors="replace")
    segv = log.count("exit signal Segmentation fault")
    reports = sorted(f for f in (root / "asan").iterdir() if f.stat().st_size > 0)
    known = [f for f in reports if asan_known_race.why_not(f.read_text(errors="replace")) is None]
    print("cycles=%d started=%d seconds=%.0f segv_children=%d asan_reports=%d known_race=%d"
          % (cycles, started, time.time() - t0, segv, len(reports), len(known)))
    for f in reports:
        if f not in known:
            print("==== %s (not the known race)" % f)
            print(f.read_text(errors="replace")[:4000])
    shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
