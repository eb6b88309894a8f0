"""The report: the machine and the run, the main table of P, S and F, the
targets with their verdicts, P, S and M loaded at once, M beside S, the
micro-benchmarks, where S's cost goes (steps, perf, callgrind, strace) and
the error logs; written to bench/results/<timestamp>.md with the chart."""
import os
import subprocess

from .chart import chart
from .figures import med, min_gate_rel, summarize, targets
from .instances import APACHE, CONFIGS, LABELS, ROOT, MIN_GATE
from .tracers import INSTR_BASE, INSTR_GETS, PERF_CATEGORIES


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


def machine_info():
    def sh(cmd):
        try:
            return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
        except OSError:
            return "?"
    return {
        "nproc": os.cpu_count(),
        "cpu": sh("lscpu | sed -n 's/^Model name: *//p' | head -1"),
        "kernel": sh("uname -r"),
        "httpd": sh(APACHE + " -v | sed -n 's/^Server version: //p'"),
        "openssl": sh("openssl version"),
        "wrk": sh("wrk -v 2>&1 | head -1 | cut -d' ' -f1-2"),
        "mem": sh("free -g | awk '/^Mem:/ {print $2\" GiB\"}'"),
        "loadavg_start": sh("cat /proc/loadavg"),
        # read-only: which sources were measured
        "commit": sh("git -C '%s' rev-parse --short HEAD 2>/dev/null" % ROOT),
        "modified": sh("git -C '%s' status --porcelain -- mod_session_sign mod_ws_auth core 2>/dev/null "
                       "| awk '{print $2}' | tr '\\n' ' '" % ROOT),
    }


def header(res, info, args):
    L = ["## make bench: %s (%s)" % (res["started"], "quick" if args.quick else "full"), "",
         "Machine: %s CPUs (%s), %s RAM, kernel %s; %s; %s; %s."
         % (info["nproc"], info["cpu"], info["mem"], info["kernel"], info["httpd"],
            info["openssl"], info["wrk"])]
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
        L += ["", "**Warning: the machine was not quiet.** Other processes used a median %.0f%% of a core "
              "(%.0f-%.0f%%) during the measured runs (CPU busy time minus httpd, backend and client). "
              "Rates and latencies are depressed and noisy; the per-operation CPU figures are the more "
              "robust ones, and the per-round S/P ratios say how far the noise reaches."
              % (100 * med(others), 100 * min(others), 100 * max(others))]
    return L + [""]


def main_table(res, S, args):
    L = ["| figure | P: plain proxy | S: session_sign + ws_auth | F: auth_form + session_crypto | S/P | F/P | S/F |",
         "|---|---:|---:|---:|---:|---:|---:|"]

    def row(label, kind, key, nd=0, ratio=True, scale=1.0):
        cells, vals = [], {}
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
    return L + ["", "Each cell: median of the rounds, then min-max over the rounds (spread as %% of the "
                "median). Errors or unexpected statuses in measured runs: %d."
                % sum(r["errors"] for r in res["rounds"]), ""]


def targets_table(res):
    L = ["### Targets", "", "| target | measured | verdict | notes |", "|---|---|---|---|"]
    for t in res["targets"]:
        L.append("| %s | %s | **%s** | %s |" % tuple(t))
    return L + [""]


def concurrent_table(res, args):
    conc = res.get("concurrent", {})
    if not (conc.get("hs") or conc.get("get")):
        return []
    L = ["### P and S loaded at once (Apache CPU per operation, us)", "",
         "Both instances on httpd's core, each with its own load generator, %d s per run; "
         "the same seconds of the machine for both, so its drift cancels in each run's "
         "ratio. Sharing the core inflates both figures alike.%s" % (
             args.concurrent_seconds,
             " Each run loads M as well (below)." if min_gate_rel(res)[0] else ""), "",
         "| kind | run | P | S | S/P |", "|---|---:|---:|---:|---:|"]
    for kind in ("hs", "get"):
        for i, r in enumerate(conc.get(kind) or []):
            L.append("| %s | %d | %.1f | %.1f | %.3f |" % (
                "handshake" if kind == "hs" else "guarded GET", i + 1, r["P"]["us_per_op"],
                r["S"]["us_per_op"], r["S"]["us_per_op"] / r["P"]["us_per_op"]))
    return L + [""]


def min_gate_section(res, S):
    """M beside S: what the least correct cookie gate costs here."""
    rels = {k: min_gate_rel(res, k) for k in ("hs", "get")}
    if not any(runs for _, runs in rels.values()):
        return []
    L = ["### The minimal gate beside S (M)", "",
         "M: %s. It does the least any correct cookie gate does (tests/integration/"
         "test_bench_12_min_gate.py holds it to that), through the same core as S, and no "
         "Origin check. P, S and M loaded at once (the runs above, Apache CPU per operation, us)."
         % LABELS[MIN_GATE], "",
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


def revocation_section(res):
    """S, Sr and Sd loaded at once (issue 15), run by run."""
    runs = res.get("revocation") or []
    if not runs:
        return []
    L = ["### Revocation: S, Sr (shmcb) and Sd (Redis) loaded at once (Apache CPU per guarded GET, us)",
         "", "Sr: %s. Sd: %s. Each with its own wrk (50 connections, one v2 cookie), the same "
         "seconds of the machine; capacity x S = S's CPU per GET over the other's. Redis "
         "commands: INFO's total_commands_processed over the run, per second and per Sd child."
         % (LABELS["Sr"], LABELS["Sd"]), "",
         "| run | S | Sr | Sd | Sr x S | Sd x S | Redis cmd/s | per child |",
         "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for i, r in enumerate(runs):
        s_, sr, sd = (r[n]["us_per_op"] for n in ("S", "Sr", "Sd"))
        rd = r["redis"]
        L.append("| %d | %.1f | %.1f | %.1f | %.3f | %.3f | %.1f | %.2f |"
                 % (i + 1, s_, sr, sd, s_ / sr, s_ / sd, rd["commands"] / rd["seconds"],
                    rd["per_s_per_child"]))
    return L + [""]


def micro_section(res):
    m = res.get("micro", {})
    if not m:
        return []
    L = ["### Micro-benchmarks (ns/op, median of %s batches of this thread's CPU time; min-max)"
         % fmt(m.get("batches")), "", "| operation | 100 B session | 1 KiB session |", "|---|---:|---:|"]

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
    L += ["", "| Origin check | ns/op |", "|---|---:|"]
    for label, key in (("ssg_origin_parse(\"http://127.0.0.1:8080\")", "origin_parse"),
                       ("ssg_origin_same_as_host(o, \"127.0.0.1:8080\", \"http\")", "origin_same_as_host"),
                       ("**default WSAuth check: parse + same_as_host**", "origin_check"),
                       ("ssg_origin_parse(\"https://app.example.com\")", "origin_parse_dns"),
                       ("wsa_origin_pattern_match, exact https://app.example.com", "pattern_match_exact"),
                       ("wsa_origin_pattern_match, wildcard https://*.example.com", "pattern_match_wildcard")):
        L.append("| %s | %s |" % (label, mc(key)))
    return L + [""]


def memory_line(res, args):
    mem = res.get("memory")
    if not mem:
        return []
    return ["Memory run (S): %s guarded keep-alive GETs with Cookie and Origin (wsload get, "
            "%d in flight) in %.0f s, %d errors; children RSS (KiB) %s at the start, %s half-way, "
            "%s at the end."
            % (fmt(mem["requests"]), args.concurrency, mem["seconds"], mem["errors"],
               fmt(mem["rss_kb"][0]), fmt(mem["rss_kb"][1]), fmt(mem["rss_kb"][2])), ""]


def steps_section(S):
    if not (S.get(("get", "Pm")) and S.get(("get", "Pk"))):
        return []
    L = ["### Where S's cost goes (Apache CPU per guarded GET, us; median, min-max over the rounds)", "",
         "| configuration | CPU/GET | step | added by the step (medians) |", "|---|---:|---|---:|"]
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
    return L + [""]


def profile_section(res):
    prof = res.get("profile", {})
    if not ("P" in prof and "S" in prof):
        return []
    L = ["### In-process attribution (perf sampling of the children during guarded GETs, us per GET)", "",
         "Samples: P %s, S %s. CPU per GET during these runs: P %.1f, S %.1f us (perf adds its own cost). "
         "Shares of samples x CPU per GET; other load disturbs shares less than it does CPU time."
         % (fmt(prof["P"]["samples"]), fmt(prof["S"]["samples"]),
            prof["P"]["cpu_per_op"], prof["S"]["cpu_per_op"]), "",
         "| where | P | S | S - P |", "|---|---:|---:|---:|"]
    for c in PERF_CATEGORIES:
        pv, sv = prof["P"]["us"].get(c, 0.0), prof["S"]["us"].get(c, 0.0)
        L.append("| %s | %.1f | %.1f | %+.1f |" % (c, pv, sv, sv - pv))
    return L + [""]


def instructions_section(res):
    ins = res.get("instructions", {})
    if not ("P" in ins and "S" in ins):
        return []
    L = ["### User-space instructions per guarded GET (callgrind, deterministic)", "",
         "Each configuration in a single-process httpd (-X) under callgrind, %d and %d "
         "keep-alive GETs with wrk's Cookie header; the difference of the two runs over %d "
         "GETs. The same binaries and requests give the same counts on a busy or a quiet "
         "machine. Kernel work is not counted, and instructions are not time: OpenSSL picks "
         "its SHA-256 code by the CPU it sees, and valgrind's is not this machine's."
         % (INSTR_BASE, INSTR_BASE + INSTR_GETS, INSTR_GETS), "",
         "| configuration | instructions/GET | step | added by the step |", "|---|---:|---|---:|"]
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
    return L + [""]


def syscalls_section(res):
    sc = res.get("syscalls", {})
    if not ("P" in sc and "S" in sc):
        return []
    P_, S_ = sc["P"]["median"], sc["S"]["median"]
    L = ["### System calls per guarded GET (strace -c)", "",
         "P and S each in a single-process httpd (-X) under strace -c -f, %d and %d "
         "keep-alive GETs as above; the difference of the two runs over %d GETs, %d times "
         "(P and S alternating): the median, then min-max. What S asks of the kernel per "
         "request beside P, not how long it takes. futex calls are the threads handing "
         "the connection to each other: their count follows each run's timing."
         % (INSTR_BASE, INSTR_BASE + INSTR_GETS, INSTR_GETS, len(sc["P"]["runs"])), "",
         "| system call | P | S | S - P |", "|---|---:|---:|---:|"]

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
    return L + [""]


def render(res, S, paired, info, args):
    L = header(res, info, args) + (main_table(res, S, args) if res.get("rounds") else [])
    L += targets_table(res)
    L += concurrent_table(res, args) + min_gate_section(res, S) + revocation_section(res)
    L += micro_section(res)
    L += memory_line(res, args) + steps_section(S) + profile_section(res)
    L += instructions_section(res) + syscalls_section(res)
    lp, cr = res.get("log_problems", {}), res.get("crashes", {})
    L.append("Unexpected [warn]+ lines in the error logs: %s. Crashed children (AH00052): %s."
             % (", ".join("%s %d" % (k, v) for k, v in lp.items()),
                ", ".join("%s %d" % (k, v) for k, v in cr.items())))
    L.append("")
    return "\n".join(L)


def publish(res, args, base, raw_name):
    """Summaries, verdicts, the Markdown and the chart of a run's raw figures
    res; <base>.md (and .png) written. @return the Markdown."""
    S, paired = summarize(res)
    res["targets"] = targets(res, S, paired)
    md = render(res, S, paired, res["machine"], args)
    md += "\nElapsed: %.0f s. Raw figures: %s.\n" % (res.get("elapsed_s", 0), raw_name)
    png = chart(res, S, base, args)
    if png:
        md += "Chart: %s.\n" % png.name
    base.with_suffix(".md").write_text(md)
    return md
