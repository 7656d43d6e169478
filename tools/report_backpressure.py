#!/usr/bin/env python3
"""Charts and a Markdown table from `contend lab backpressure --format json` output.

usage: tools/report_backpressure.py LAB.json OUTDIR

For each offered load it draws, over time (the lab's 100 ms windows), one line per policy:
  backpressure-load<L>-p99.png       end-to-end p99 latency in the window, ms (log y)
  backpressure-load<L>-rss.png       resident memory, MiB
  backpressure-load<L>-goodput.png   items/s completed within the deadline
and writes OUTDIR/backpressure.md with the per-run summary (Little's law check included).
Needs gnuplot (gnuplot-nox) for the charts; without it, Markdown only. tools/report.py hands
a lab document to this script.
"""
import json
import os
import shutil
import subprocess
import sys


def chart(outdir, name, title, ylabel, series, logy):
    data = os.path.join(outdir, f"{name}.dat")
    with open(data, "w") as f:
        for label, pts in series:
            f.write(f'"{label}"\n')
            for t, v in pts:
                if v is not None and (v > 0 or not logy):
                    f.write(f"{t} {v}\n")
            f.write("\n\n")
    png = os.path.join(outdir, f"{name}.png")
    script = f"""
set terminal pngcairo size 960,540 font ",10"
set output "{png}"
set title "{title}"
set xlabel "time, s"
set ylabel "{ylabel}"
{"set logscale y" if logy else ""}
set key outside right top
set grid
plot for [i=0:{len(series) - 1}] "{data}" index i using 1:2 with lines lw 2 \
     lc (i % 8 + 1) title columnheader(1)
"""
    subprocess.run(["gnuplot"], input=script, text=True, check=True)
    os.remove(data)
    return os.path.basename(png)


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    with open(argv[1]) as f:
        doc = json.load(f)
    return write(doc, argv[2])


def write(doc, outdir):
    os.makedirs(outdir, exist_ok=True)
    have_gnuplot = shutil.which("gnuplot") is not None
    c = doc["config"]
    lines = ["# Backpressure lab", ""]
    lines.append(
        f"{c['stages']} stage(s), 1 worker each, capacity {c['capacity']} per stage, service "
        f"{c['service']} {c['service_ns'] / 1e3:.0f} us, {c['arrival']} arrivals, deadline "
        f"{c['deadline_ns'] / 1e6:.1f} ms, {c['duration_s']} s per run; measured capacity "
        f"{doc['capacity_per_s']:.0f} items/s. Machine: {doc['machine'].get('cpu_model')}, "
        f"{doc['machine'].get('date')}.")
    lines.append("")
    loads = []
    for r in doc["runs"]:
        if round(r["load"], 2) not in loads:
            loads.append(round(r["load"], 2))
    for load in loads:
        runs = [r for r in doc["runs"] if round(r["load"], 2) == load]
        lines.append(f"## Offered load {load:g}x")
        lines.append("")
        if have_gnuplot:
            tag = f"backpressure-load{load:g}"
            for suffix, ylabel, get, logy in (
                ("p99", "p99 latency in the window, ms", lambda w: w["p99_ns"] / 1e6, True),
                ("rss", "resident memory, MiB", lambda w: w["rss"] / 1048576, False),
                ("goodput", "goodput, items/s", lambda w: w["goodput_per_s"], False),
            ):
                series = [(r["policy"], [(w["t_s"], get(w)) for w in r["series"]]) for r in runs]
                png = chart(outdir, f"{tag}-{suffix}", f"{ylabel} at {load:g}x", ylabel, series,
                            logy)
                lines.append(f"![{png}]({png})")
            lines.append("")
        lines.append("| policy | done/s | good/s | drop % | p50 ms | p99 ms | RSS peak MiB "
                     "| L | lambda W | err % | note |")
        lines.append("|---|---|---|---|---|---|---|---|---|---|---|")
        for r in runs:
            lat, li = r["latency_ns"], r["little"]
            note = ("stopped by --max-rss" if r["guard"]["tripped"] else
                    "" if li["steady"] else "no steady state")
            if not r["verified"]:
                note = "VERIFY FAILED"
            lines.append(
                f"| {r['policy']} | {r['completed_per_s']:.0f} | {r['goodput_per_s']:.0f} | "
                f"{100 * r['drop_fraction']:.1f} | {lat['p50'] / 1e6:.2f} | "
                f"{lat['p99'] / 1e6:.2f} | {r['rss']['peak'] / 1048576:.1f} | {li['L']:.1f} | "
                f"{li['lambda_W']:.1f} | {100 * li['rel_err']:.1f} | {note} |")
        lines.append("")
    if not have_gnuplot:
        print("report: gnuplot not found (apt-get install gnuplot-nox): Markdown only",
              file=sys.stderr)
    with open(os.path.join(outdir, "backpressure.md"), "w") as f:
        f.write("\n".join(lines))
    print(f"report: wrote {outdir}/backpressure.md")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
