"""Load drivers: the load generators of one measurement (bench/wsload churn
for handshakes, wrk for guarded GETs) and what they measure, the warm-up,
the interleaved sequential rounds, P S M loaded at once, S Sr Sd loaded at
once (revocation), idle tunnels held
(wsload hold), the memory run (wsload get) and the micro-benchmarks."""
import os
import re
import subprocess
import time

from .instances import (BREAKDOWN, CONFIGS, HS_WITH, MIN_GATE, REVOCATION, TICK, children_of, log,
                        system_busy_ticks)


def run_measured(argv, stdin=None, timeout=None):
    """Run a client; return (stdout, stderr, exit status, wall seconds)."""
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
    """wsload's key=value lines, numbers as floats."""
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


def ops_and_errors(kind, out):
    """Operations completed (inside the window and drained after it) and
    errors or unexpected statuses, from a load generator's output."""
    if kind == "hs":
        k = kv(out)
        return k["ok"] + k["ok_after_window"], k["errors"] + k["unexpected_status"]
    w = parse_wrk(out)
    return w.get("requests", 0), w["non2xx"] + w["socket_errors"]


def load_argv(run, name, kind, seconds):
    """The load generator for one run against name: wsload churn for
    handshakes ('hs'), wrk for guarded GETs ('get'), on the client CPUs."""
    h = run.httpd[name]
    if kind == "hs":
        return run.place.client([
            str(run.tools / "wsload"), "churn", "-p", str(h.port), "-u", "/ws/",
            "-c", str(run.a.concurrency), "-d", str(seconds), "-C", run.cookies[name]])
    return run.place.client([
        "wrk", "-t1", "-c%d" % run.a.concurrency, "-d%ds" % seconds, "--latency",
        "--timeout", "10s",
        "-H", "Cookie: " + run.cookies[name], "http://127.0.0.1:%d/ws/" % h.port])


def measure(run, name, kind, seconds):
    """One sequential measurement of name; kind 'hs' or 'get'. Returns a dict."""
    h = run.httpd[name]
    argv = load_argv(run, name, kind, seconds)
    a0, b0, s0 = h.cpu_ticks(), run.backend.cpu_ticks(), system_busy_ticks()
    c0 = os.times()
    out, err, rc, wall = run_measured(argv, timeout=seconds + 60)
    c1 = os.times()
    a1, b1, s1 = h.cpu_ticks(), run.backend.cpu_ticks(), system_busy_ticks()
    if rc != 0:
        raise RuntimeError("%s failed (%s): %s" % (argv, rc, err))
    client_cpu = (c1.children_user - c0.children_user) + (c1.children_system - c0.children_system)
    apache_s = (a1 - a0) / TICK
    backend_s = (b1 - b0) / TICK
    busy_s = sum(s1[k] - s0.get(k, 0) for k in s1) / TICK
    r = {"config": name, "kind": kind, "wall_s": wall, "apache_cpu_s": apache_s,
         "backend_cpu_s": backend_s, "client_cpu_s": client_cpu,
         "other_cpu_s": max(0.0, busy_s - apache_s - backend_s - client_cpu)}
    ops_total, errors = ops_and_errors(kind, out)
    if kind == "hs":
        k = kv(out)
        r.update(rate=k["rate"], ops=k["ok"], p50_us=k["lat_p50_us"], p99_us=k["lat_p99_us"],
                 errors=int(errors), window_s=k["window_s"], cpu_window_s=k["wall_s"])
    else:
        w = parse_wrk(out)
        r.update(rate=w["rate"], ops=ops_total, p50_us=w["p50_us"], p99_us=w["p99_us"],
                 errors=errors, window_s=w.get("duration_s", seconds), cpu_window_s=wall)
    r["apache_us_per_op"] = apache_s * 1e6 / ops_total if ops_total else None
    cw = r["cpu_window_s"] or wall
    r["apache_share"] = apache_s / cw
    r["client_share"] = client_cpu / cw
    r["backend_share"] = backend_s / cw
    r["other_share"] = r["other_cpu_s"] / cw
    if r["errors"]:
        log("WARNING: %s %s: %d errors or unexpected statuses" % (name, kind, r["errors"]))
    quiesce(h)
    return r


def quiesce(h):
    """Wait until h's processes stop using CPU (at most 5 s): a run that ends
    with requests still queued (F's bcrypt logins take 5 ms each) must not
    eat into the next configuration's measurement."""
    deadline = time.monotonic() + 5
    last, still = h.cpu_ticks(), 0
    while time.monotonic() < deadline and still < 2:
        time.sleep(0.1)
        now = h.cpu_ticks()
        still = still + 1 if now - last <= 1 else 0
        last = now


def warmup(run):
    s = run.a.warmup
    for name in run.configs:
        # every instance carries tunnels once (the history note at HS_WITH)
        measure(run, name, "hs", s)
        measure(run, name, "get", s)
    log("warm-up done (%ds per configuration and kind)" % s)


def round_names(run, kind, i):
    """The configurations of round i (from 0) of kind, in order: P S F, then
    Pm Pk (GETs only) and M. P and S always back to back, their order
    alternating from round to round (and Pm/Pk likewise), so that neither
    always runs first."""
    names = CONFIGS
    if kind == "get" and run.a.breakdown:
        names += BREAKDOWN
    if run.a.min_gate:
        names += HS_WITH if kind == "hs" else (MIN_GATE,)
    if i % 2:
        names = tuple({"P": "S", "S": "P", "Pm": "Pk", "Pk": "Pm"}.get(n, n) for n in names)
    return names


def rounds(run):
    for i in range(run.a.rounds):
        for kind in ("hs", "get"):
            for name in round_names(run, kind, i):
                r = measure(run, name, kind, run.a.seconds)
                r["round"] = i + 1
                run.results["rounds"].append(r)
                log("round %d %-3s %s: %9.1f/s  p50 %8.0f us  p99 %8.0f us  "
                    "apache %6.1f us/op (%.0f%% cpu)  client %.0f%%  backend %.0f%%  other %.0f%%"
                    % (i + 1, kind, name, r["rate"], r["p50_us"] or 0, r["p99_us"] or 0,
                       r["apache_us_per_op"] or 0, 100 * r["apache_share"],
                       100 * r["client_share"], 100 * r["backend_share"],
                       100 * r["other_share"]))


def concurrent(run):
    """P and S (and M when it runs) loaded at the same time, all on httpd's
    core, each by its own load generator: they see the same state of the
    machine in the same seconds, so their CPU per operation compares without
    the drift that separates two sequential runs (this VM's CPU time per
    request moves by 10-40% from one minute to the next). Sharing the core
    inflates every figure alike; what carries over is the ratio. With M, its
    cost and S's come from the same seconds, and M has the same history of
    tunnels as P and S (HS_WITH)."""
    n, secs = run.a.concurrent_runs, run.a.concurrent_seconds
    out = {}
    names = ("P", "S") + ((MIN_GATE,) if MIN_GATE in run.httpd else ())
    for kind in ("hs", "get"):
        runs = []
        for i in range(n + 1):  # the first is a warm-up
            procs, c0 = {}, {}
            for name in names:
                c0[name] = run.httpd[name].cpu_ticks()
                procs[name] = subprocess.Popen(load_argv(run, name, kind, secs),
                                               stdout=subprocess.PIPE,
                                               stderr=subprocess.PIPE, text=True)
            res = {}
            for name in names:
                o, e = procs[name].communicate(timeout=secs + 60)
                ticks = run.httpd[name].cpu_ticks() - c0[name]
                if procs[name].returncode != 0:
                    raise RuntimeError("concurrent %s %s failed: %s" % (kind, name, e))
                ops, errors = ops_and_errors(kind, o)
                res[name] = {"us_per_op": ticks / TICK * 1e6 / ops if ops else None,
                             "ops": ops, "errors": errors}
            for name in names:
                quiesce(run.httpd[name])
            if i == 0 or None in [res[name]["us_per_op"] for name in names]:
                continue
            runs.append(res)
            log("concurrent %-3s run %d: P %.1f us/op, %s" % (kind, i, res["P"]["us_per_op"], ", ".join(
                "%s %.1f us/op (%s/P %.3f)" % (name, res[name]["us_per_op"], name,
                                               res[name]["us_per_op"] / res["P"]["us_per_op"])
                for name in names[1:])))
        out[kind] = runs
    run.results["concurrent"] = out


def revocation(run):
    """Issue 15's cost: S, Sr (S + shmcb revocation) and Sd (S + Redis)
    loaded at once with guarded GETs, each by its own wrk (50 connections,
    one cookie each), --concurrent-runs times; per run each one's Apache CPU
    per GET, and the Redis commands Sd caused per second and per child
    (INFO's total_commands_processed before and after, minus the two INFOs)."""
    n, secs = max(run.a.concurrent_runs, 1), run.a.concurrent_seconds
    names = ("S",) + REVOCATION
    runs = []
    for i in range(n + 1):  # the first is a warm-up
        procs, c0 = {}, {}
        cmd0 = run.redis.commands()
        t0 = time.monotonic()
        for name in names:
            c0[name] = run.httpd[name].cpu_ticks()
            procs[name] = subprocess.Popen(load_argv(run, name, "get", secs),
                                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                           text=True)
        res = {}
        for name in names:
            o, e = procs[name].communicate(timeout=secs + 60)
            ticks = run.httpd[name].cpu_ticks() - c0[name]
            if procs[name].returncode != 0:
                raise RuntimeError("revocation %s failed: %s" % (name, e))
            ops, errors = ops_and_errors("get", o)
            res[name] = {"us_per_op": ticks / TICK * 1e6 / ops if ops else None,
                         "ops": ops, "errors": errors, "rate": parse_wrk(o)["rate"]}
        wall = time.monotonic() - t0
        cmds = max(0, run.redis.commands() - cmd0 - 2)
        kids = len(children_of(run.httpd["Sd"].pid))
        res["redis"] = {"commands": cmds, "seconds": wall, "children": kids,
                        "per_s_per_child": cmds / wall / max(kids, 1)}
        for name in names:
            quiesce(run.httpd[name])
        if i == 0 or None in [res[name]["us_per_op"] for name in names]:
            continue
        runs.append(res)
        log("revocation run %d: S %.1f us/GET, Sr %.1f (S/Sr %.3f), Sd %.1f (S/Sd %.3f); "
            "Redis %.2f commands/s per child (%d children)"
            % (i, res["S"]["us_per_op"], res["Sr"]["us_per_op"],
               res["S"]["us_per_op"] / res["Sr"]["us_per_op"], res["Sd"]["us_per_op"],
               res["S"]["us_per_op"] / res["Sd"]["us_per_op"], res["redis"]["per_s_per_child"],
               kids))
    run.results["revocation"] = runs


def hold(run):
    """Children RSS of P, S and F, idle and with --hold tunnels held open."""
    n = run.a.hold
    for name in CONFIGS:
        h = run.httpd[name]
        time.sleep(1)
        idle = h.children_rss_kb()
        argv = run.place.client([
            str(run.tools / "wsload"), "hold", "-p", str(h.port), "-u", "/ws/",
            "-N", str(n), "-c", "100", "-d", "120", "-T", "30", "-C", run.cookies[name]])
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
        busy = run.backend.connections()
        rest, err = p.communicate(timeout=60)     # closes stdin: release
        got.update(kv(rest))
        r = {"held": int(got.get("held", 0)), "failed": int(got.get("hold_failed", 0)),
             "establish_s": got.get("establish_s"), "idle_rss_kb": idle,
             "held_rss_kb": held_rss, "released": int(got.get("released", 0)),
             "dropped": int(got.get("dropped", 0)), "backend_conns": busy}
        r["per_tunnel_kb"] = (held_rss - idle) / r["held"] if r["held"] else None
        run.results["hold"][name] = r
        log("hold %s: %d tunnels held (%d failed) in %.1f s; children RSS %.1f -> %.1f MiB"
            % (name, r["held"], r["failed"], r["establish_s"] or 0, idle / 1024, held_rss / 1024))
        time.sleep(2)


def memory(run):
    """Children RSS of S before/after --mem-requests guarded GETs (two halves)."""
    h = run.httpd["S"]
    total, bound = run.a.mem_requests, run.a.mem_seconds
    half = total // 2

    def gets(n, seconds):
        argv = run.place.client([
            str(run.tools / "wsload"), "get", "-p", str(h.port), "-u", "/ws/",
            "-c", str(run.a.concurrency), "-n", str(n), "-d", str(seconds),
            "-C", run.cookies["S"]])
        out, err, rc, wall = run_measured(argv, timeout=seconds + 60)
        if rc != 0:
            raise RuntimeError("wsload get failed: " + err)
        return kv(out)

    gets(max(10000, total // 10), bound / 4)             # warm every worker thread
    time.sleep(1)
    rss = [h.children_rss_kb()]
    done, errors = 0, 0
    t0 = time.monotonic()
    for _ in range(2):
        k = gets(half, bound / 2)
        done += int(k["ok"])
        errors += int(k["errors"] + k["unexpected_status"])
        time.sleep(1)
        rss.append(h.children_rss_kb())
    r = {"requests": done, "target": total, "errors": errors,
         "seconds": time.monotonic() - t0, "rss_kb": rss,
         "growth_kb": rss[2] - rss[0], "growth_second_half_kb": rss[2] - rss[1]}
    run.results["memory"] = r
    log("memory S: %d guarded GETs in %.0f s; children RSS %s KiB"
        % (done, r["seconds"], rss))


def micro(run):
    argv = run.place.client([str(run.tools / "micro")] + (["-q"] if run.a.quick else []))
    out, err, rc, wall = run_measured(argv, timeout=600)
    if rc != 0:
        raise RuntimeError("micro failed: " + err)
    run.results["micro"] = kv(out)
    log("micro-benchmarks done in %.0f s" % wall)
