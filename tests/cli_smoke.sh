#!/bin/sh
# The CLI end to end on tiny runs: list works, `run --format json` gives one JSON document with
# the contracted fields and every point verified, csv and table work, --help exits 0.
set -u
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$bin" --help >/dev/null || fail "--help"
"$bin" run --help >/dev/null || fail "run --help"
"$bin" suite --help >/dev/null || fail "suite --help"
"$bin" list >"$tmp/list" || fail "list"
grep -q '^counter:' "$tmp/list" || fail "list has no counter"
for impl in atomic sharded pthread-mutex ticket mcs futex adaptive; do
  grep -q "^  $impl " "$tmp/list" || fail "list has no counter impl $impl"
done

"$bin" run counter --impl atomic,mcs,adaptive --threads 1,3 --duration 0.05 --warmup 0.01 \
  --repeat 2 --format json --out "$tmp/r.json" --quiet || fail "run json exited $?"
python3 - "$tmp/r.json" <<'PY' || fail "json check"
import json, sys
doc = json.load(open(sys.argv[1]))
assert set(doc) == {"machine", "results"}, doc.keys()
rs = doc["results"]
assert len(rs) == 6, len(rs)
need = ["bench", "impl", "threads", "params", "ops_per_s", "ops_per_s_min", "ops_per_s_max",
        "latency_ns", "cpu_ns_per_op", "ctx_voluntary", "ctx_involuntary", "fairness", "hw",
        "verified"]
for r in rs:
    for k in need:
        assert k in r, k
    assert r["verified"] is True, r
    assert r["ops_per_s"] > 0, r
    assert r["ops_per_s_min"] <= r["ops_per_s"] <= r["ops_per_s_max"], r
    lat = r["latency_ns"]
    assert lat is not None, r  # the first op of every window is timed
    for k in ["p50", "p90", "p99", "p999", "max", "mean", "stdev"]:
        assert k in lat, k
    assert lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["p999"] <= lat["max"], lat
    assert set(r["fairness"]) >= {"jain", "min_share", "max_share"}
    assert 0 < r["fairness"]["jain"] <= 1.0000001
    assert r["hw"] is None and r["hw_reason"] or isinstance(r["hw"], dict)
print("json ok")
PY
"$bin" run counter --impl ticket --threads 2 --duration 0.05 --repeat 1 --format csv \
  --quiet >"$tmp/r.csv" || fail "csv"
[ "$(wc -l <"$tmp/r.csv")" = 2 ] || fail "csv rows"
"$bin" run counter --impl futex --threads 2 --duration 0.05 --repeat 1 --quiet >"$tmp/r.txt" ||
  fail "table"
awk 'length > 100 { exit 1 }' "$tmp/r.txt" || fail "table wider than 100 columns"
# Queue runs: items/s, params carry producers/consumers/mode/capacity, threads = p + c.
"$bin" run queue --producers 1,2 --consumers 1,2 --mode blocking --capacity 64 --duration 0.05 \
  --warmup 0.01 --repeat 1 --format json --out "$tmp/q.json" --quiet || fail "queue run exited $?"
python3 - "$tmp/q.json" <<'PY' || fail "queue json check"
import json, sys
rs = json.load(open(sys.argv[1]))["results"]
assert rs, "no queue results"
for r in rs:
    p = r["params"]
    assert r["threads"] == p["producers"] + p["consumers"], r
    assert p["mode"] == "blocking" and p["capacity"] == 64, p
    assert r["verified"] is True, r
print("queue json ok")
PY
# Pool runs: fixed work; seconds, speedup, work_overhead and a verified result per point.
for wl in fib:15 uts:30 sort:50000 imbalanced-for:5000 latency:100; do
  "$bin" run pool --workload "${wl%%:*}" --n "${wl#*:}" --impl steal,central --threads 1,2 \
    --repeat 2 --format json --out "$tmp/p.json" --quiet || fail "pool ${wl} exited $?"
  python3 - "$tmp/p.json" "${wl%%:*}" <<'PY' || fail "pool json check ${wl}"
import json, sys
rs = json.load(open(sys.argv[1]))["results"]
assert len(rs) == 4, len(rs)
for r in rs:
    assert r["verified"] is True, r
    assert r["params"]["workload"] == sys.argv[2], r["params"]
    assert r["seconds"] > 0 and r["ops_per_s"] > 0, r
    for k in ["speedup", "work_overhead", "serial_seconds", "cpu_util", "extra"]:
        assert k in r, k
    if sys.argv[2] in ("fib", "uts", "sort", "imbalanced-for"):
        assert r["speedup"] > 0 and r["work_overhead"] > 0, r
    if sys.argv[2] == "latency":
        assert r["latency_ns"] is not None, r
print("pool json ok")
PY
done
"$bin" run pool --workload fib --n 12 --threads 1 --repeat 1 --quiet >"$tmp/p.txt" || fail "pool table"
awk 'length > 100 { exit 1 }' "$tmp/p.txt" || fail "pool table wider than 100 columns"
"$bin" run pool --workload fib --n 12 --threads 2 --repeat 1 --format csv --quiet >"$tmp/p.csv" ||
  fail "pool csv"
# The backpressure lab, short: JSON with a capacity, one run per policy x load, each with a
# Little's law block and a time series; CSV with one header for series and summary rows.
"$bin" lab backpressure --help >/dev/null || fail "lab backpressure --help"
"$bin" lab backpressure --duration 0.3 --policy unbounded,drop-newest --load 0.5,2 \
  --stages 2 --format json --out "$tmp/bp.json" || fail "lab backpressure json exited $?"
python3 - "$tmp/bp.json" <<'PY' || fail "lab backpressure json check"
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["lab"] == "backpressure" and doc["capacity_per_s"] > 0, doc.keys()
runs = doc["runs"]
assert [(r["policy"], r["load"] > 1) for r in runs] == [("unbounded", False), ("unbounded", True),
        ("drop-newest", False), ("drop-newest", True)], runs
for r in runs:
    assert r["verified"] is True, r
    assert {"L", "lambda_W", "rel_err", "steady"} <= set(r["little"]), r["little"]
    assert len(r["series"]) >= 2, r
    for w in r["series"]:
        assert len(w["depth"]) == 2 and w["rss"] > 0, w
print("backpressure json ok")
PY
"$bin" lab backpressure --duration 0.2 --policy block --load 1 --format csv \
  --out "$tmp/bp.csv" || fail "lab backpressure csv exited $?"
python3 - "$tmp/bp.csv" <<'PY' || fail "lab backpressure csv check"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
kinds = [r["kind"] for r in rows]
assert kinds.count("summary") == 1 and kinds.count("series") >= 1, kinds
assert all(None not in r for r in rows), "ragged rows"
print("backpressure csv ok")
PY
# The pipeline-overhead lab, tiny: both sides verify every item.
"$bin" lab pipeline-overhead --items 200 --rounds 1 --service-ns 20000 >"$tmp/po.txt" ||
  fail "lab pipeline-overhead exited $?"
grep -q '^median' "$tmp/po.txt" || fail "lab pipeline-overhead printed no median"
echo "1 passed, 0 failed"
