#!/usr/bin/python3
"""make soak: the WebSocket gate under a long mixed load (issue 6 point 3).

A private Apache (event MPM, 4 children pre-started and never recycled)
runs the freshly built modules on 127.0.0.1; the Python WebSocket echo
backend (tests/tools/ws_backend.py) sits behind /ws/. `wsload mix` (the
bench's load generator, bench/wsload/, built as build/bench/wsload) first
opens --held WebSockets through the gate and keeps them echoing, then sends
--requests requests of the kinds below, in a fixed interleaved schedule, over --conns keep-alive connections to
/gate/index.html (WSAuth On, no proxy: htdocs, so the load stays on the
gate) and, for the upgrade kinds, to /ws/ (proxied to the backend).

Verdict (exit 1 if any fails): every request answered, each kind with the
status it must get, zero 5xx, zero transport errors, every held socket
opened and still echoing at the end, no crashed child (no AH00052/"exit
signal" in the error log, the same children from start to end), the
children's RSS flat (growth from the warm-up sample to the end within
--rss-budget-mib per child). Report: Markdown on stdout and in --report.

Bounded: loopback only, at most --max-seconds of load (wsload stops by
itself), every process it started is stopped by PID at the end.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
import support  # noqa: E402

KEY1, KEY2 = support.KEY1, support.KEY2
LIMIT = 8190                 # LimitRequestFieldSize (httpd's default, set explicitly)
# 4 children x 160 threads, all started at once and never reaped: each held
# WebSocket holds a worker thread, the load needs ~50 more
WORKERS = 640

MPM = """
StartServers 4
ServerLimit 4
ThreadLimit 160
ThreadsPerChild 160
MaxRequestWorkers %d
MinSpareThreads 40
MaxSpareThreads %d
MaxConnectionsPerChild 0
ListenBacklog 1024
Timeout 60
KeepAliveTimeout 5
LimitRequestFieldSize %d
""" % (WORKERS, WORKERS, LIMIT)


def site(backend_port):
    return f"""
Session On
SessionCookieName session path=/;HttpOnly;SameSite=Lax
SessionSignKey {KEY1} {KEY2}
SessionMaxAge 3600
SessionSignMaxLifetime 7200
ProxyTimeout 120
<Location /gate/>
    WSAuth On
</Location>
<Location /ws/>
    WSAuth On
    WSAuthForwardHeader X-Remote-User user
    ProxyPass ws://127.0.0.1:{backend_port}/
</Location>
"""


# ------------------------------------------------------------------ kinds

class Spec:
    def __init__(self, port):
        self.host = "127.0.0.1:%d" % port
        self.origin = "http://" + self.host
        self.kinds = []

    def raw(self, path, headers, upgrade=False):
        h = [("Host", self.host)]
        if upgrade:
            h += [("Upgrade", "websocket"), ("Connection", "Upgrade"),
                  ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
                  ("Sec-WebSocket-Version", "13")]
        h += headers
        text = "GET %s HTTP/1.1\r\n%s\r\n" % (path, "".join("%s: %s\r\n" % kv for kv in h))
        return text.encode("latin-1")

    def add(self, name, mode, weight, expect, raw):
        self.kinds.append((name, mode, weight, expect, raw))

    def write(self, path):
        with open(path, "wb") as f:
            for name, mode, weight, expect, raw in self.kinds:
                f.write(("kind %s %s %d %s %d\n" % (name, mode, weight,
                                                   ",".join(map(str, expect)),
                                                   len(raw))).encode())
                f.write(raw + b"\n")


def expiry(seconds):
    return int((time.time() + seconds) * 1_000_000)


def build_spec(port):
    s = Spec(port)
    now = int(time.time())
    valid = support.mint("user=alice&expiry=%d" % expiry(3600))
    valid_bob = support.mint("user=bob&expiry=%d" % expiry(3600))
    old_key = support.mint("user=carol&expiry=%d" % expiry(3600), key=KEY2)
    tampered = valid[:-2] + ("AA" if not valid.endswith("AA") else "BB")
    parts = valid.split(".")
    payload_swap = ".".join(parts[:3] + [support.mint("user=admin").split(".")[3], parts[4]])
    expired_age = support.mint("user=alice&expiry=%d" % expiry(-60), iat=now - 120)
    expired_life = support.mint("user=alice&expiry=%d" % expiry(3600), iat=now - 7300)
    future = support.mint("user=alice&expiry=%d" % expiry(7200), iat=now + 3600)
    no_identity = support.mint("role=admin&expiry=%d" % expiry(3600))
    gate = "/gate/index.html"
    ck = lambda tok: [("Cookie", "session=" + tok)]          # noqa: E731
    same = [("Origin", s.origin)]

    # many cookies: one Cookie line of exactly LimitRequestFieldSize bytes,
    # the session among ~100 others
    others = ["c%03d=%s" % (i, "v" * 60) for i in range(100)]
    line = "; ".join(others[:50] + ["session=" + valid] + others[50:])
    while len("Cookie: " + line) > LIMIT:
        others.pop()
        line = "; ".join(others[:50] + ["session=" + valid] + others[50:])
    line = line + "; z=" + "z" * (LIMIT - len("Cookie: " + line) - len("; z="))
    assert len("Cookie: " + line) == LIMIT
    pad_ok = "p" * (LIMIT - len("X-Pad: "))
    pad_over = "p" * (LIMIT + 100 - len("X-Pad: "))

    # kind, mode, weight (per 100 requests), expected statuses, request
    s.add("valid", "get", 33, [200], s.raw(gate, ck(valid)))
    s.add("valid-same-origin", "get", 5, [200], s.raw(gate, ck(valid) + same))
    s.add("valid-old-key", "get", 3, [200], s.raw(gate, ck(old_key)))
    s.add("many-cookies-at-limit", "get", 4, [200], s.raw(gate, [("Cookie", line)]))
    s.add("header-at-limit", "get", 2, [200], s.raw(gate, ck(valid) + [("X-Pad", pad_ok)]))
    s.add("cookie-split-over-lines", "get", 2, [200],
          s.raw(gate, [("Cookie", "a=1"), ("Cookie", "b=2; session=" + valid), ("Cookie", "c=3")]))
    s.add("no-cookie", "get", 8, [401], s.raw(gate, []))
    s.add("tampered-mac", "get", 7, [401], s.raw(gate, ck(tampered)))
    s.add("tampered-payload", "get", 3, [401], s.raw(gate, ck(payload_swap)))
    s.add("expired-max-age", "get", 5, [401], s.raw(gate, ck(expired_age)))
    s.add("expired-lifetime", "get", 3, [401], s.raw(gate, ck(expired_life)))
    s.add("future-issued-at", "get", 2, [401], s.raw(gate, ck(future)))
    s.add("no-identity", "get", 1, [401], s.raw(gate, ck(no_identity)))
    s.add("malformed-garbage", "get", 2, [401], s.raw(gate, ck("%%garbage%%$$")))
    s.add("malformed-truncated", "get", 2, [401], s.raw(gate, ck(valid[:len(valid) // 2])))
    s.add("malformed-version", "get", 1, [401], s.raw(gate, ck("v9" + valid[2:])))
    s.add("malformed-empty", "get", 1, [401], s.raw(gate, [("Cookie", "session=")]))
    s.add("malformed-long", "get", 1, [401], s.raw(gate, ck("v1." + "A" * 6000)))
    s.add("unsigned", "get", 2, [401], s.raw(gate, [("Cookie", "session=user=alice")]))
    s.add("duplicate-cookie", "get", 3, [401],
          s.raw(gate, [("Cookie", "session=%s; session=%s" % (valid, valid_bob))]))
    s.add("cross-origin", "get", 4, [403], s.raw(gate, ck(valid) + [("Origin", "http://evil.example")]))
    s.add("origin-null", "get", 1, [403], s.raw(gate, ck(valid) + [("Origin", "null")]))
    s.add("header-over-limit", "get", 1, [400, 431],
          s.raw(gate, ck(valid) + [("X-Pad", pad_over)]))
    s.add("ws-valid", "ws", 1, [101], s.raw("/ws/", ck(valid) + same, upgrade=True))
    s.add("ws-no-cookie", "ws", 1, [401], s.raw("/ws/", same, upgrade=True))
    s.add("ws-tampered", "ws", 1, [401], s.raw("/ws/", ck(tampered) + same, upgrade=True))
    s.add("ws-cross-origin", "ws", 1, [403],
          s.raw("/ws/", ck(valid) + [("Origin", "http://evil.example")], upgrade=True))
    s.add("hold", "hold", 0, [101], s.raw("/ws/", ck(valid) + same, upgrade=True))
    assert sum(k[2] for k in s.kinds) == 100, sum(k[2] for k in s.kinds)
    return s


def probe_kinds(spec, port):
    """Each kind once, with Python, before the load: a wrong expectation
    fails here in a second, not after minutes."""
    bad = []
    for name, mode, _, expect, raw in spec.kinds:
        st, _, _ = support.raw_request(port, raw)
        if st not in expect:
            bad.append("%s: got %s, expected %s" % (name, st, expect))
    return bad


# ------------------------------------------------------------------ processes

def children(ppid):
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            stat = Path("/proc/%s/stat" % d).read_text()
            if int(stat.rsplit(")", 1)[1].split()[1]) != ppid:
                continue
            for line in Path("/proc/%s/status" % d).read_text().splitlines():
                if line.startswith("VmRSS:"):
                    out[int(d)] = int(line.split()[1])          # kB
        except (OSError, ValueError, IndexError):
            continue
    return out


def scan_error_log(text):
    tags, crashes, bad = {}, [], []
    allowed_error = ("AH00011",)        # duplicate cookie, httpd's cookie reader
    for line in text.splitlines():
        m = support.LOG_LINE.match(line)
        if support.CRASH.search(line):
            crashes.append(line)
        if not m:
            continue
        level = m.group("level")
        tag = re.search(r"\b(AH\d{5}|SSG\d{4}|WSA\d{4})\b", line)
        key = "%s:%s %s" % (m.group("mod"), level, tag.group(1) if tag else "-")
        tags[key] = tags.get(key, 0) + 1
        if level in ("crit", "alert", "emerg"):
            bad.append(line)
        elif level == "error" and not (tag and tag.group(1) in allowed_error):
            bad.append(line)
    return tags, crashes, bad


def parse_kv(line):
    return dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)


# ------------------------------------------------------------------ main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=str(ROOT / "build"))
    ap.add_argument("--requests", type=int, default=1_000_000)
    ap.add_argument("--held", type=int, default=300)
    ap.add_argument("--conns", type=int, default=48)
    ap.add_argument("--max-seconds", type=int, default=420)
    ap.add_argument("--ping", type=int, default=10, help="seconds between echo rounds")
    ap.add_argument("--rss-budget-mib", type=float, default=8.0,
                    help="allowed RSS growth per child, warm-up sample to end")
    ap.add_argument("--report", default=None)
    ap.add_argument("--keep-logs", action="store_true",
                    help="keep the full error log (about 140 bytes per refused request)")
    a = ap.parse_args()
    build = Path(a.build).resolve()
    load = build / "bench" / "wsload"
    run = build / "soak" / "run"
    report_path = Path(a.report) if a.report else build / "soak-report.md"
    shutil.rmtree(run, ignore_errors=True)
    run.mkdir(parents=True)
    os.chmod(run, 0o755)
    if not support.workers_reach(run):
        # run as root from a checkout User daemon cannot traverse
        shutil.rmtree(run)
        run = Path(tempfile.mkdtemp(prefix="ws-auth-soak-"))
        os.chmod(run, 0o755)
        print("soak: %s is out of the workers' reach; running in %s" % (build, run))

    backend = support.Backend(run)
    h = support.Httpd(run / "httpd", site(backend.port),
                      modules=["proxy", "proxy_http", "proxy_wstunnel"],
                      preamble=MPM, loglevel="warn")
    (h.root / "htdocs" / "gate").mkdir()
    (h.root / "htdocs" / "gate" / "index.html").write_text("gate ok\n")
    # no access log: 1M lines of it would measure the disk, not the gate
    h.conf.write_text(re.sub(r"(?m)^CustomLog .*$", "", h.conf.read_text()))
    proc = None
    samples = []
    lines = []
    t_start = time.time()
    try:
        h.start()
        spec = build_spec(h.port)
        spec.write(run / "spec")
        bad = probe_kinds(spec, h.port)
        if bad:
            print("soak: a request kind does not get its expected status:\n  "
                  + "\n  ".join(bad))
            return 1
        ppid = h.proc.pid
        cmd = [str(load), "mix", "-p", str(h.port), "-f", str(run / "spec"),
               "-n", str(a.requests), "-c", str(a.conns), "-d", str(a.max_seconds),
               "-N", str(a.held), "-i", str(a.ping), "-T", "15"]
        print("soak: %s" % " ".join(cmd), flush=True)
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        marks = [("warm", 0.10), ("middle", 0.50)]
        last_print = 0
        for line in proc.stdout:
            line = line.strip()
            lines.append(line)
            if line.startswith("held "):
                samples.append(("start", 0, children(ppid)))
                print("soak: " + line, flush=True)
            elif line.startswith("progress "):
                kv = parse_kv(line)
                done = int(kv["done"])
                while marks and done >= marks[0][1] * a.requests:
                    samples.append((marks[0][0], done, children(ppid)))
                    marks.pop(0)
                if time.time() - last_print >= 15:
                    print("soak: %s requests, %s s" % (done, kv["elapsed"]), flush=True)
                    last_print = time.time()
            elif line.startswith("phase end-load"):
                samples.append(("end", int(parse_kv(line)["done"]), children(ppid)))
            elif line.startswith(("final-echo", "result")):
                print("soak: " + line, flush=True)
        proc.wait(timeout=120)
    finally:
        support.stop_process(proc, timeout=20)
        h.stop()
        backend.stop()
    wall = time.time() - t_start
    rc = report(a, h, lines, samples, wall, report_path)
    log = h.root / "logs" / "error_log"
    if rc == 0 and not a.keep_logs and log.exists():
        log.unlink()                      # ~140 MB for 1M requests; kept on failure
    if rc == 0 and not a.keep_logs and run != build / "soak" / "run":
        shutil.rmtree(run, ignore_errors=True)   # the /tmp fallback: nothing left behind
    return rc


def report(a, h, lines, samples, wall, report_path):
    res, held, final, kinds = {}, {}, {}, []
    for line in lines:
        if line.startswith("result requests="):
            res = parse_kv(line)
        elif line.startswith("result held="):
            held = parse_kv(line)
        elif line.startswith("final-echo"):
            final = parse_kv(line)
        elif line.startswith("kind "):
            kinds.append(parse_kv(line))
    tags, crashes, bad_lines = scan_error_log(h.error_log())

    fails = []
    n = int(res.get("requests", 0))
    if n < a.requests:
        fails.append("only %d of %d requests answered" % (n, a.requests))
    if int(res.get("status5xx", 1)):
        fails.append("%s answers were 5xx" % res.get("status5xx"))
    if int(res.get("wrong", 1)):
        fails.append("%s answers had a status their kind must not get" % res.get("wrong"))
    if int(res.get("errors", 1)):
        fails.append("%s transport errors" % res.get("errors"))
    if int(held.get("held_opened", 0)) != a.held:
        fails.append("%s of %d held sockets opened" % (held.get("held_opened"), a.held))
    if int(held.get("held_lost", 1)) or int(held.get("echo_bad", 1)) \
            or int(held.get("echo_timeout", 1)):
        fails.append("held sockets lost/bad/late echoes: %s/%s/%s" % (
            held.get("held_lost"), held.get("echo_bad"), held.get("echo_timeout")))
    if int(final.get("ok", 0)) != a.held:
        fails.append("%s of %d held sockets echoed at the end" % (final.get("ok"), a.held))
    if crashes:
        fails.append("%d crashed children in the error log" % len(crashes))
    if bad_lines:
        fails.append("%d unexpected [error]+ lines in the error log" % len(bad_lines))

    by = {name: s for name, _, s in samples}
    pids = [set(s) for _, _, s in samples]
    if pids and any(p != pids[0] for p in pids):
        fails.append("the set of children changed during the run (crash or recycle): %s"
                     % [sorted(p) for p in pids])
    rss_rows = []
    if "warm" in by and "end" in by:
        for pid in sorted(by["warm"]):
            row = [by.get(k, {}).get(pid) for k in ("start", "warm", "middle", "end")]
            growth = (row[3] - row[1]) / 1024.0 if row[3] is not None else None
            rss_rows.append((pid, row, growth))
            if growth is None or growth > a.rss_budget_mib:
                fails.append("child %d grew %.1f MiB from warm-up to end (budget %.1f)"
                             % (pid, growth or -1, a.rss_budget_mib))
    else:
        fails.append("RSS samples missing: %s" % list(by))

    def mib(kb):
        return "%.1f" % (kb / 1024.0) if kb is not None else "-"

    out = ["# Soak report (make soak)", "",
           "Gate: mod_ws_auth + mod_session_sign in a private Apache 2.4 (event MPM, "
           "4 children x 160 threads), loopback; load by bench/wsload (mix); "
           "WebSocket echo backend tests/tools/ws_backend.py.", "",
           "| figure | value |", "| --- | --- |",
           "| requests answered | %s of %d |" % (res.get("requests"), a.requests),
           "| load duration | %s s (%s req/s, %d keep-alive connections) |"
           % (res.get("seconds"), res.get("rate"), a.conns),
           "| wall time of the soak | %.0f s |" % wall,
           "| 5xx answers | %s |" % res.get("status5xx"),
           "| answers with a wrong status for their kind | %s |" % res.get("wrong"),
           "| transport errors (refused/reset/timeout/garbage) | %s |" % res.get("errors"),
           "| held WebSockets opened | %s of %d |" % (held.get("held_opened"), a.held),
           "| echo rounds on held sockets during the load | %s ok, %s bad, %s late |"
           % (held.get("echo_ok"), held.get("echo_bad"), held.get("echo_timeout")),
           "| held sockets echoing at the end | %s of %d |" % (final.get("ok"), a.held),
           "| held sockets lost | %s |" % held.get("held_lost"),
           "| crashed children (AH00052 / exit signal) | %d |" % len(crashes),
           "", "## Requests by kind", "",
           "| kind | mode | expected | sent | answered | right | wrong | errors | statuses |",
           "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    for k in kinds:
        errs = sum(int(k[e]) for e in ("err_connect", "err_reset", "err_timeout", "err_protocol"))
        out.append("| %s | %s | %s | %s | %s | %s | %s | %d | %s |" % (
            k["name"], k["mode"], k["expect"], k["sent"], k["done"], k["right"],
            k["wrong"], errs, k["statuses"].replace(",", ", ")))
    out += ["", "## Children's memory (RSS, MiB)", "",
            "Samples: start = held sockets open, before the load; warm-up = 10 %% of the "
            "requests; middle = 50 %%; end = load done, held sockets still open. "
            "Budget: at most %.1f MiB growth per child from warm-up to end." % a.rss_budget_mib, "",
            "The second half (middle to end) is where a leak shows: the warm-up to "
            "middle growth is the thread pools of the %d worker threads reaching "
            "their high-water marks as more of them serve." % WORKERS, "",
            "| child pid | start | warm-up | middle | end | growth warm-up to end "
            "| growth middle to end |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]

    def delta(a_, b_):
        return ("%+.1f" % ((b_ - a_) / 1024.0)) if a_ is not None and b_ is not None else "-"
    for pid, row, growth in rss_rows:
        out.append("| %d | %s | %s | %s | %s | %s | %s |" % (
            pid, *(mib(v) for v in row), delta(row[1], row[3]), delta(row[2], row[3])))
    if rss_rows:
        tot = [sum((by.get(k, {}) or {}).values()) for k in ("start", "warm", "middle", "end")]
        out.append("| all | %s | %s | %s | %s | %s | %s |" % (
            *(mib(v) for v in tot), delta(tot[1], tot[3]), delta(tot[2], tot[3])))
        done_at = {name: done for name, done, _ in samples}
        half = done_at.get("end", 0) - done_at.get("middle", 0)
        if "middle" in by and half > 0:
            out += ["", "Second half: %+.1f bytes of RSS per request over all children "
                    "(%d requests)." % ((tot[3] - tot[2]) * 1024.0 / half, half)]
    out += ["", "## Error log (lines by module:level tag)", "",
            "| module:level tag | lines |", "| --- | ---: |"]
    for key in sorted(tags, key=lambda k: -tags[k]):
        out.append("| %s | %d |" % (key, tags[key]))
    if crashes or bad_lines:
        out += ["", "Unexpected lines (first 10):", "", "```"] + (crashes + bad_lines)[:10] + ["```"]
    out += ["", "## Verdict", ""]
    out += (["FAILED:"] + ["- " + f for f in fails]) if fails else \
        ["PASSED: every request answered with its kind's status, no 5xx, no transport "
         "error, every held socket echoing at the end, no crashed child, RSS flat."]
    text = "\n".join(out) + "\n"
    report_path.parent.mkdir(parents=True, exist_ok=True)
    report_path.write_text(text)
    print()
    print(text)
    print("soak: report written to %s" % report_path)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
