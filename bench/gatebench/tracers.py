"""Runs under a tracer: perf sampling of P's and S's children during wrk's
GETs (in-process attribution), and single-process httpd instances under
callgrind (user-space instructions per GET) and strace -c (system calls per
GET), each fed a known number of keep-alive GETs."""
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import time

from .drivers import load_argv, parse_wrk, run_measured
from .instances import APACHE, TICK, Httpd, children_of, log, stop_process, wait_port

INSTR_BASE, INSTR_GETS = 200, 1000                 # callgrind: GETs per run, 2 runs
SYSCALL_REPS = 3                                   # strace: the same 2 runs, P S P S P S

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


# ------------------------------------------------------------------ perf

def perf_one(run, name, data, secs):
    """One perf record of name's children during secs of wrk's GETs.
    @return ({category: samples}, GETs, Apache CPU us per GET), or None."""
    h = run.httpd[name]
    kids = ",".join(str(k) for k in children_of(h.pid))
    argv = load_argv(run, name, "get", secs)
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
        return None
    n = parse_wrk(out).get("requests", 0)
    sc = subprocess.run(["perf", "script", "-i", str(data), "-F", "ip,sym,dso"],
                        capture_output=True, text=True).stdout
    counts = {}
    for line in sc.splitlines():
        m = re.match(r"\s*[0-9a-f]+\s+(.*?)\s+\((.*)\)\s*$", line)
        if m:
            c = perf_category(m.group(1), m.group(2))
            counts[c] = counts.get(c, 0) + 1
    return counts, n, ((a1 - a0) / TICK * 1e6 / n if n else None)


def profile(run):
    """perf samples of P's and S's children during guarded GETs (P S P S),
    attributed to OpenSSL, glibc malloc/free, mod_session*, mod_session_sign,
    mod_ws_auth and the rest. Shares of samples are less disturbed by other
    load than CPU time is; shares x CPU per GET give microseconds."""
    if not shutil.which("perf"):
        log("perf not found: no in-process attribution")
        return
    secs = 4 if run.a.quick else 8
    agg = {}
    for rnd in range(1 if run.a.quick else 2):
        for name in ("P", "S"):
            got = perf_one(run, name, run.work / ("perf-%s-%d.data" % (name, rnd)), secs)
            if got is None:
                return
            counts, n, cpu_per_op = got
            total = sum(counts.values())
            if not total or not n:
                continue
            a = agg.setdefault(name, {"samples": 0, "cpu_per_op": [], "us": {}})
            a["samples"] += total
            a["cpu_per_op"].append(cpu_per_op)
            for c, k in counts.items():
                a["us"].setdefault(c, []).append(k / total * cpu_per_op)
    res = {}
    for name, a in agg.items():
        res[name] = {"samples": a["samples"], "cpu_per_op": statistics.mean(a["cpu_per_op"]),
                     "us": {c: statistics.mean(v) for c, v in a["us"].items()}}
    run.results["profile"] = res
    if "P" in res and "S" in res:
        log("perf attribution (us/GET, S - P): " + ", ".join(
            "%s %+.1f" % (c, res["S"]["us"].get(c, 0) - res["P"]["us"].get(c, 0))
            for c in PERF_CATEGORIES))


# ------------------------------------------------------------------ single-process httpd

def keepalive_gets(run, name, port, n, tool):
    """n guarded GETs on one keep-alive connection, each answered 200, with
    the Cookie header wrk sends."""
    req = ("GET /ws/ HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nCookie: %s\r\n\r\n"
           % (port, run.cookies[name])).encode()
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


def gets_under(run, tag, name, n, tool, wait_s):
    """A single-process httpd (-X, 4 threads) of configuration `name` run by
    the tool argv `tool` (which gets the instance's root), n keep-alive GETs,
    then httpd stopped with SIGTERM: the tool's child (strace) or the tool's
    own process (valgrind). Either tool writes its output once httpd has
    exited. @return the instance's root."""
    h = Httpd(name, run.work / ("%s-%s-%d" % (tag, name, n)), run.bodies[name], run.modules,
              servers=1, threads=4)
    proc = subprocess.Popen(tool(h.root) + [APACHE, "-f", str(h.conf), "-X"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=open(h.root / "logs" / tag, "w"), start_new_session=True)
    try:
        wait_port(h.port, timeout=wait_s, proc=proc)
        keepalive_gets(run, name, h.port, n, tag)
    finally:
        for pid in children_of(proc.pid) or [proc.pid]:
            os.kill(pid, signal.SIGTERM)
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            stop_process(proc, timeout=10)
    return h.root


def callgrind_gets(run, name, n):
    def tool(root):
        out = root / "callgrind.out"
        # created here, 0666: the workers (User daemon) write it at exit
        out.write_text("")
        os.chmod(out, 0o666)
        return ["valgrind", "--tool=callgrind", "--vgdb=no", "--callgrind-out-file=%s" % out]

    root = gets_under(run, "callgrind", name, n, tool, 180)
    m = re.search(r"^(?:summary|totals): (\d+)", (root / "callgrind.out").read_text(), re.M)
    if not m:
        log("callgrind wrote no totals for %s: no instruction counts" % name)
        return None
    return int(m.group(1))


def instructions(run):
    """User-space instructions per guarded GET, counted by callgrind in a
    separate single-process httpd (-X, 4 threads) per configuration:
    deterministic for the same binaries and requests, so S - P and its steps
    (Pm, Pk) are not lost in the machine's noise. Two runs per configuration
    (INSTR_BASE and INSTR_BASE + INSTR_GETS keep-alive GETs with the same
    Cookie as wrk's); their difference over INSTR_GETS leaves out start-up and
    shutdown. Kernel work is not counted."""
    if not shutil.which("valgrind"):
        log("valgrind not found: no instruction counts")
        return
    res = {}
    for name in [n for n in ("P", "Pm", "Pk", "S", "M") if n in run.httpd]:
        counts = [callgrind_gets(run, name, n) for n in (INSTR_BASE, INSTR_BASE + INSTR_GETS)]
        if None in counts:
            return
        res[name] = (counts[1] - counts[0]) / INSTR_GETS
        log("instructions per GET (callgrind) %s: %.0f" % (name, res[name]))
    run.results["instructions"] = res


def strace_gets(run, name, n, rep):
    root = gets_under(run, "strace%d" % rep, name, n,
                      lambda r: ["strace", "-c", "-f", "-o", str(r / "strace.out")], 60)
    out = root / "strace.out"
    counts = parse_strace_counts(out.read_text(errors="replace") if out.exists() else "")
    if not counts:
        log("strace counted nothing for %s (%s): no system call counts"
            % (name, (root / "logs" / ("strace%d" % rep)).read_text(errors="replace").strip()[:200]))
        return None
    return counts


def syscalls(run):
    """System calls per guarded GET, counted by strace -c -f in a separate
    single-process httpd (-X, 4 threads) per configuration; the difference of
    INSTR_BASE and INSTR_BASE + INSTR_GETS keep-alive GETs over INSTR_GETS
    leaves out start-up and shutdown; SYSCALL_REPS times, P and S
    alternating, the median per call. Whether a configuration asks the kernel
    for anything more per request: the counts, not their time (strace slows
    every call). futex calls are the threads handing work to each other, and
    their count follows the timing of each run."""
    if not shutil.which("strace"):
        log("strace not found: no system call counts")
        return
    runs = {}
    for rep in range(SYSCALL_REPS):
        for name in [n for n in ("P", "S") if n in run.httpd]:
            counts = [strace_gets(run, name, n, rep) for n in (INSTR_BASE, INSTR_BASE + INSTR_GETS)]
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
    run.results["syscalls"] = res
