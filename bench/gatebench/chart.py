"""The chart of a run (gnuplot, PNG): handshakes/s, handshake latency and
guarded GETs/s of P, S and F, medians of the rounds with min-max bars."""
import subprocess

from .instances import CONFIGS, log


def chart(res, S, base, args):
    """<base>.png (through <base>.dat and <base>.gp). @return its path, or
    None when a figure is missing or gnuplot failed."""
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
