#!/usr/bin/python3
"""make bench: the cost of the WebSocket gate, side by side with the
alternatives, in one run. See docs/performance.md.

Private Apache httpd 2.4 instances (event MPM, access log off, children and
threads pre-started, the same loaded modules) stand in front of the same C
WebSocket echo backend (bench/wsecho.c): P (plain proxy, the ceiling), S
(mod_session_sign + mod_ws_auth), F (mod_auth_form + mod_session_crypto),
M (the minimal HMAC-cookie gate, bench/mod_min_gate.c) and, in full runs,
Pm and Pk (S's cost step by step). They are measured interleaved over
several rounds and loaded at once; medians, spreads, ratios and the
verdicts on the targets go to a Markdown table (stdout and
bench/results/<timestamp>.md), raw figures to .json, a chart to .png.

This file is the command line and the order of a run; the work is in the
package bench/gatebench/ (see its __init__). Only the standard library;
run with Debian's /usr/bin/python3. Timing-critical work is done by C
programs (bench/wsload/, bench/micro.c) and wrk.
"""
import argparse
import datetime
import json
import os
import shutil
import signal
import sys
import time
from pathlib import Path

from gatebench import drivers, tracers
from gatebench.instances import CONFIGS, FUTEX_SLOTS, ROOT, log
from gatebench.report import machine_info, publish
from gatebench.run import Run


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--quick", action="store_true", help="smoke run (~3 min)")
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
                    help="skip the Pm/Pk configurations (where S's cost goes; off in --quick)")
    ap.add_argument("--no-min-gate", dest="min_gate", action="store_false", default=True,
                    help="skip M, the minimal HMAC-cookie gate (the S - M target is then n/a)")
    ap.add_argument("--no-instructions", dest="instructions", action="store_false",
                    help="skip the callgrind instruction counts per guarded GET")
    ap.add_argument("--no-syscalls", dest="syscalls", action="store_false", default=True,
                    help="no system call counts per GET (strace)")
    ap.add_argument("--no-profile", dest="profile", action="store_false",
                    help="skip the perf attribution of P's and S's CPU per GET")
    ap.add_argument("--concurrent-runs", type=int,
                    help="runs of P, S and M loaded at once, per kind (default 8; quick 2; 0 skips)")
    ap.add_argument("--concurrent-seconds", type=int, default=5)
    ap.add_argument("--futex-slots", type=int, default=FUTEX_SLOTS,
                    help="private futex hash slots for every httpd process (Linux 6.16+; "
                         "default %(default)s; 0 leaves the kernel's default: 16 slots on 2 CPUs, "
                         "a per-start lottery, see docs/performance.md)")
    ap.add_argument("--no-revocation", dest="revocation", action="store_false", default=True,
                    help="skip Sr and Sd (S with a shmcb / Redis revocation cache, loaded at "
                         "once with S; needs redis-server)")
    ap.add_argument("--only-revocation", action="store_true",
                    help="measure only S, Sr and Sd at once (with the warm-up and sanity checks)")
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
        return a
    env = os.environ
    quick = a.quick
    defaults = {"rounds": int(env.get("BENCH_ROUNDS") or (2 if quick else 5)),
                "seconds": int(env.get("BENCH_SECONDS") or (3 if quick else 8)),
                "warmup": 1 if quick else 3, "breakdown": not quick,
                "hold": 500 if quick else 2000, "concurrent_runs": 2 if quick else 8,
                "mem_requests": 50000 if quick else 1000000, "mem_seconds": 30 if quick else 300,
                "nice": int(env.get("BENCH_NICE") or 0)}
    for k, v in defaults.items():
        if getattr(a, k) is None:
            setattr(a, k, v)
    if not (1 <= a.rounds <= 50 and 1 <= a.seconds <= 300 and 1 <= a.concurrency <= 1000
            and 1 <= a.hold <= 5000 and -20 <= a.nice <= 19):
        ap.error("rounds 1..50, seconds 1..300, concurrency 1..1000, hold 1..5000, nice -20..19")
    if a.only_revocation:
        a.revocation, a.skip_micro, a.skip_hold, a.skip_memory = True, True, True, True
        a.profile = a.instructions = a.syscalls = False
    tools = ("wrk", "gnuplot", "htpasswd", "taskset") + (("redis-server",) if a.revocation else ())
    for tool in tools:
        if not shutil.which(tool):
            sys.exit("bench: %s is missing (Debian packages wrk, gnuplot-nox, apache2-utils, "
                     "util-linux, redis-server)" % tool)
    return a


def render_only(path):
    """Table, targets and chart again from a run's raw figures."""
    res = json.loads(path.read_text())
    args = argparse.Namespace(**res["args"])
    print(publish(res, args, path.with_suffix(""), path.name))
    return 0


def measure(run, a):
    """The measurements, in their order."""
    run.setup()
    run.login_and_check()
    if a.pause:
        log("pausing %.0f s: %s" % (a.pause, ", ".join(
            "%s port %d pid %d" % (n, h.port, h.pid) for n, h in run.httpd.items())))
        for n in CONFIGS:
            log("cookie %s: %s" % (n, run.cookies[n]))
        time.sleep(a.pause)
    drivers.warmup(run)
    if a.only_revocation:
        drivers.revocation(run)
        return
    drivers.rounds(run)
    if a.concurrent_runs:
        drivers.concurrent(run)
    if a.revocation:
        drivers.revocation(run)
    if a.profile:
        tracers.profile(run)
    if a.instructions:
        tracers.instructions(run)
    if a.syscalls:
        tracers.syscalls(run)
    # memory before the tunnels: 2,000 tunnels grow every thread's
    # allocator, which would hide a small per-request leak
    if not a.skip_memory:
        drivers.memory(run)
    if not a.skip_hold:
        drivers.hold(run)


def main():
    a = parse_args()
    if a.render:
        return render_only(Path(a.render))
    started = datetime.datetime.now()
    out_dir = Path(a.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    base = out_dir / started.strftime("%Y%m%d-%H%M%S")
    run = Run(a)
    run.results["started"] = started.strftime("%Y-%m-%d %H:%M:%S")
    run.results["machine"] = machine_info()
    run.results["args"] = vars(a)

    def on_term(sig, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_term)
    t0 = time.monotonic()
    ok = False
    try:
        measure(run, a)
        ok = True
    finally:
        run.stop()
        if run.work and not a.keep:
            shutil.rmtree(run.work, ignore_errors=True)
        elif run.work:
            log("server roots kept in %s" % run.work)
    if not a.skip_micro:
        drivers.micro(run)
    res = run.results
    res["elapsed_s"] = time.monotonic() - t0
    md = publish(res, a, base, base.with_suffix(".json").name)
    base.with_suffix(".json").write_text(json.dumps(res, indent=1, default=str))
    print(md)
    log("results: %s.{md,json,png}" % base)
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
