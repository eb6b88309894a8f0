#!/usr/bin/python3
"""make bench-tunnel (also run by make bench): issue 16's figures.

1. Throughput: echo MB/s through one tunnel, 64 B and 16 KiB frames, with
   WSAuthTunnelLifetime absolute (Ta: a lifetime far away, a revocation
   cache, so every brigade is compared and every frame header followed)
   against off (To), the two instances loaded at once in every round (the
   machine's other load then moves both alike) and compared by their ratio;
   medians over the rounds. Target: Ta/To >= 0.97.
2. The timer's cost: one child holding 2,000 idle tunnels of one session
   (Ta again: deadlines compared four times a second, the revocation asked
   once a second), the CPU time of its "wsa-timer" thread from /proc over a
   window, as a share of one core. Target: <= 1%. The whole child's CPU in
   the same window is printed beside it, for Ta and for To.

Results: a Markdown table on stdout and bench/results/tunnel-<timestamp>.md
(git-ignored). Only the standard library; Debian's /usr/bin/python3.
"""
import argparse
import datetime
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gatebench import instances  # noqa: E402
from gatebench.instances import Backend, Httpd, Placement, SIGN_KEY, children_of, log  # noqa: E402

ROOT = instances.ROOT
sys.path.insert(0, str(ROOT / "tests" / "tools"))
import ssg_ref  # noqa: E402

instances.LABELS.update({
    "Ta": "mod_ws_auth, WSAuthTunnelLifetime absolute (lifetime + revocation cache)",
    "To": "mod_ws_auth, WSAuthTunnelLifetime off",
})


def body(backend_port, lifetime):
    return f"""
LoadModule socache_shmcb_module /usr/lib/apache2/modules/mod_socache_shmcb.so
Session On
SessionCookieName session path=/;HttpOnly;SameSite=Lax
SessionSignKey {SIGN_KEY}
SessionSignMaxLifetime 86400
SessionSignRevocationCache shmcb
<Location /ws/>
    WSAuth On
    WSAuthTunnelLifetime {lifetime}
    ProxyPass ws://127.0.0.1:{backend_port}/
</Location>
"""


def cookie():
    # v1 token (no sid): the shmcb cache still checks it by its MAC prefix
    tok = ssg_ref.sign([SIGN_KEY.encode()], "default", int(time.time()), b"user=bench")
    return "session=" + tok


def kv(text):
    out = {}
    for line in text.splitlines():
        k, _, v = line.partition("=")
        if v:
            out[k.strip()] = v.strip()
    return out


def stream(tools, place, port, ck, size, seconds):
    return subprocess.Popen(place.client([str(tools / "wsload"), "stream", "-p", str(port),
                                          "-C", ck, "-s", str(size), "-d", str(seconds),
                                          "-w", str(max(65536, size * 8))]),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def throughput(tools, place, a, b, ck, rounds, seconds):
    """Per frame size: median MB/s of each, the median of their ratio, and
    the median ratio of httpd CPU time per MB (less moved by the machine's
    other load than a rate: it is what the filters cost)."""
    rows = []
    for size in (64, 16384):
        ratios, cpu_ratios, ma, mb = [], [], [], []
        for i in range(rounds):
            # both at once; the order of starting alternates
            first, second = (a, b) if i % 2 == 0 else (b, a)
            ka, kb = children_of(a.pid)[0], children_of(b.pid)[0]
            ca0, cb0 = task_cpu_ns(ka), task_cpu_ns(kb)
            p1 = stream(tools, place, first.port, ck, size, seconds)
            p2 = stream(tools, place, second.port, ck, size, seconds)
            r1, r2 = kv(p1.communicate()[0]), kv(p2.communicate()[0])
            ca, cb = task_cpu_ns(ka) - ca0, task_cpu_ns(kb) - cb0
            ra, rb = (r1, r2) if first is a else (r2, r1)
            if ra.get("failed") != "0" or rb.get("failed") != "0":
                raise RuntimeError("stream failed: %r %r" % (ra, rb))
            va, vb = float(ra["mbps"]), float(rb["mbps"])
            pa, pb = ca / int(ra["bytes"]), cb / int(rb["bytes"])      # ns per byte
            ma.append(va)
            mb.append(vb)
            ratios.append(va / vb)
            cpu_ratios.append(pa / pb)
            log("stream %5d B round %d: absolute %.1f MB/s, off %.1f MB/s, ratio %.3f; "
                "httpd CPU per MB %.0f vs %.0f us (x%.3f)"
                % (size, i + 1, va, vb, va / vb, pa * 1e3, pb * 1e3, pa / pb))
        rows.append((size, statistics.median(ma), statistics.median(mb),
                     statistics.median(ratios), min(ratios), max(ratios),
                     statistics.median(cpu_ratios)))
    return rows


def task_cpu_ns(pid, name=None):
    """CPU time (ns, /proc/.../schedstat) of the process's threads called
    name, or of all its threads: far finer than the clock ticks of stat."""
    total = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            if name and open("/proc/%d/task/%s/comm" % (pid, tid)).read().strip() != name:
                continue
            total += int(open("/proc/%d/task/%s/schedstat" % (pid, tid)).read().split()[0])
        except OSError:
            continue
    return total


def timer_cost(tools, place, h, ck, n, window):
    hold = subprocess.Popen(place.client([str(tools / "wsload"), "hold", "-p", str(h.port),
                                          "-N", str(n), "-c", "100", "-d", "600", "-C", ck]),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        line = ""
        deadline = time.time() + 120
        while time.time() < deadline and not line.startswith("held="):
            line = hold.stdout.readline()
            if not line:
                raise RuntimeError("wsload hold ended: " + line)
        held = int(line.split("=")[1])
        time.sleep(2)
        kid = children_of(h.pid)[0]
        t0, c0, w0 = time.time(), task_cpu_ns(kid, "wsa-timer"), task_cpu_ns(kid)
        time.sleep(window)
        t1, c1, w1 = time.time(), task_cpu_ns(kid, "wsa-timer"), task_cpu_ns(kid)
        secs = t1 - t0
        return held, (c1 - c0) / 1e9 / secs, (w1 - w0) / 1e9 / secs
    finally:
        hold.stdin.close()
        hold.wait(timeout=120)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--seconds", type=float, default=4)
    ap.add_argument("--tunnels", type=int, default=2000)
    ap.add_argument("--window", type=float, default=20)
    args = ap.parse_args()
    build = (ROOT / args.build).resolve()
    tools = build / "bench"
    run = build / "bench-tunnel" / datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    run.mkdir(parents=True, exist_ok=True)
    os.chmod(run, 0o755)
    place = Placement(None, None, 0)
    backend = Backend(run, tools, place)
    ck = cookie()
    made = []
    try:
        a = Httpd("Ta", run / "Ta", body(backend.port, "absolute"), build, place, servers=1,
                  threads=32)
        b = Httpd("To", run / "To", body(backend.port, "off"), build, place, servers=1, threads=32)
        for h in (a, b):
            made.append(h)
            h.start()
        rows = throughput(tools, place, a, b, ck, args.rounds, args.seconds)
        for h in (a, b):
            h.stop()
        made.clear()
        n = args.tunnels
        costs = {}
        for name, lifetime in (("Ta", "absolute"), ("To", "off")):
            h = Httpd(name, run / (name + "-held"), body(backend.port, lifetime), build, place,
                      servers=1, threads=n + 50)
            made.append(h)
            h.start()
            costs[name] = timer_cost(tools, place, h, ck, n, args.window)
            h.stop()
            made.clear()
            log("%s: %d idle tunnels, timer thread %.4f%% of a core, child %.3f%%"
                % (name, costs[name][0], costs[name][1] * 100, costs[name][2] * 100))
    finally:
        for h in made:
            h.stop()
        backend.stop()

    out = ["## Tunnel lifetime (issue 16)", "",
           "| frames | absolute MB/s | off MB/s | ratio (median) | min..max "
           "| httpd CPU per MB, absolute/off | target | verdict |",
           "|---|---|---|---|---|---|---|---|"]
    for size, va, vb, r, lo, hi, cr in rows:
        out.append("| %d B | %.1f | %.1f | %.3f | %.3f..%.3f | x%.3f | >= 0.97 | %s |"
                   % (size, va, vb, r, lo, hi, cr, "met" if r >= 0.97 else "NOT MET"))
    held, timer, child = costs["Ta"]
    out += ["", "| %d idle tunnels, one child | wsa-timer thread | whole child | target | verdict |"
            % held, "|---|---|---|---|---|",
            "| absolute | %.4f%% of a core | %.3f%% | <= 1%% | %s |"
            % (timer * 100, child * 100, "met" if timer <= 0.01 else "NOT MET"),
            "| off | (no timer work: %.4f%%) | %.3f%% | | |"
            % (costs["To"][1] * 100, costs["To"][2] * 100),
            "", "%d rounds x %.0f s per frame size, both instances loaded at once; "
            "timer window %.0f s." % (args.rounds, args.seconds, args.window)]
    text = "\n".join(out) + "\n"
    print(text)
    res = ROOT / "bench" / "results"
    res.mkdir(exist_ok=True)
    (res / ("tunnel-%s.md" % run.name)).write_text(text)


if __name__ == "__main__":
    main()
