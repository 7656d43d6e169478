#!/usr/bin/env python3
"""Turn a contend results.json into charts (gnuplot, pngcairo) and a Markdown summary.

usage: tools/report.py RESULTS.json OUTDIR [--title TEXT]

For every group of results with the same bench and parameters it draws:
  <bench>-<params>-throughput.png   ops/s vs threads, one line per implementation (log y)
  <bench>-<params>-p99.png          p99 latency of a sampled op vs threads (log y)
  <bench>-<params>-cpu.png          CPU ns per op vs threads (log y): the energy proxy
and writes OUTDIR/summary.md with one table per group (median ops/s by thread count, with the
ratio to the best implementation at each thread count). Needs python3 and gnuplot (Debian:
gnuplot-nox); without gnuplot it writes the Markdown only and says so.
"""
import json
import os
import shutil
import subprocess
import sys


def fmt_ops(v):
    if v is None:
        return "-"
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if v >= scale:
            return f"{v / scale:.2f}{unit}"
    return f"{v:.0f}"


def group_key(r):
    p = r["params"]
    return (r["bench"], p.get("cs_ns", 0), p.get("think_ns", 0), p.get("mode", ""),
            p.get("capacity", 0), p.get("workload") or "")


def group_name(key):
    bench, cs, think, mode, capacity, workload = key
    if workload:  # pool runs: fixed work
        return f"{bench}-{workload}"
    if mode:  # queue runs: threads = producers + consumers
        return f"{bench}-{mode}-cap{capacity}"
    return f"{bench}-cs{cs}-think{think}"


def group_title(key):
    bench, cs, think, mode, capacity, workload = key
    if workload:
        return f"{bench} workload={workload} (threads = workers; items/s of a fixed amount of work)"
    if mode:
        return f"{bench} mode={mode} capacity={capacity} (threads = producers + consumers)"
    return f"{bench} cs={cs}ns think={think}ns"


def plot(outdir, name, title, ylabel, series, threads):
    """series: list of (label, [(threads, value)]); None when nothing has a value to plot"""
    series = [(label, [(t, v) for t, v in pts if v is not None and v > 0]) for label, pts in series]
    series = [(label, pts) for label, pts in series if pts]
    if not series:
        return None
    data = os.path.join(outdir, f"{name}.dat")
    with open(data, "w") as f:
        for label, pts in series:
            f.write(f'"{label}"\n')
            for t, v in pts:
                if v is not None and v > 0:
                    f.write(f"{t} {v}\n")
            f.write("\n\n")
    png = os.path.join(outdir, f"{name}.png")
    script = f"""
set terminal pngcairo size 960,600 font ",10"
set output "{png}"
set title "{title}"
set xlabel "threads"
set ylabel "{ylabel}"
set logscale y
set logscale x 2
set xtics ({", ".join(str(t) for t in threads)})
set xrange [{min(threads) * 0.8}:{max(threads) * 1.25}]
set key outside right top
set grid
plot for [i=0:{len(series) - 1}] "{data}" index i using 1:2 with linespoints lw 2 \
     lc (i % 8 + 1) pt (i % 13 + 1) dt i/8+1 title columnheader(1)
"""
    subprocess.run(["gnuplot"], input=script, text=True, check=True)
    os.remove(data)
    return os.path.basename(png)


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    src, outdir = argv[1], argv[2]
    title = argv[argv.index("--title") + 1] if "--title" in argv else ""
    with open(src) as f:
        doc = json.load(f)
    if doc.get("lab") == "backpressure":  # `contend lab backpressure --format json`
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import report_backpressure
        return report_backpressure.write(doc, outdir)
    os.makedirs(outdir, exist_ok=True)
    have_gnuplot = shutil.which("gnuplot") is not None
    groups = {}
    for r in doc["results"]:
        groups.setdefault(group_key(r), []).append(r)
    m = doc["machine"]
    lines = [f"# {title or 'contend results'}", ""]
    probe = m.get("probe") or {}
    ow = (probe.get("one_way_ns") or {}).get("median")
    lines.append(
        f"Machine: {m.get('cpu_model')} ({m.get('cores')} cores, {m.get('pus')} hardware threads"
        f"{', virtual machine' if m.get('hypervisor') else ''}), {m.get('os')}, {m.get('date')}."
        f" Core-to-core one-way latency (median): {ow if ow is not None else 'n/a'} ns;"
        f" hardware counters: {m.get('hw_counters')}.")
    lines.append("")
    for key, rs in groups.items():
        threads = sorted({r["threads"] for r in rs})
        impls = []
        for r in rs:
            if r["impl"] not in impls:
                impls.append(r["impl"])
        by = {(r["impl"], r["threads"]): r for r in rs}
        name = group_name(key)
        title = group_title(key)
        lines.append(f"## {title}")
        lines.append("")
        if have_gnuplot:
            charts = []
            for suffix, ylabel, getter in (
                ("throughput", "ops/s (median)", lambda r: r["ops_per_s"]),
                ("p99", "p99 latency of one op, ns", lambda r: (r["latency_ns"] or {}).get("p99")),
                ("cpu", "CPU ns per op", lambda r: r["cpu_ns_per_op"]),
            ):
                series = [(i, [(t, getter(by[(i, t)])) for t in threads if (i, t) in by]) for i in impls]
                charts.append(plot(outdir, f"{name}-{suffix}", title, ylabel, series, threads))
            for c in filter(None, charts):
                lines.append(f"![{c}]({c})")
            lines.append("")
        best = {t: max((by[(i, t)]["ops_per_s"] or 0) for i in impls if (i, t) in by) for t in threads}
        lines.append("| impl | " + " | ".join(f"{t} thr" for t in threads) + " |")
        lines.append("|---|" + "---|" * len(threads))
        for i in impls:
            cells = []
            for t in threads:
                r = by.get((i, t))
                if not r:
                    cells.append("")
                    continue
                ratio = r["ops_per_s"] / best[t] if best[t] else 0
                mark = "" if r["verified"] else " FAILED"
                cells.append(f"{fmt_ops(r['ops_per_s'])} ({ratio:.2f}){mark}")
            lines.append(f"| {i} | " + " | ".join(cells) + " |")
        lines.append("")
        lines.append("ops/s, median of repeats; in brackets the ratio to the best at that thread count.")
        lines.append("")
    if not have_gnuplot:
        print("report: gnuplot not found (apt-get install gnuplot-nox): Markdown only", file=sys.stderr)
    with open(os.path.join(outdir, "summary.md"), "w") as f:
        f.write("\n".join(lines))
    print(f"report: wrote {outdir}/summary.md")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
