#!/bin/sh
# `contend probe --format json`: one JSON document; the core-to-core matrix is square, zero on
# the diagonal and positive everywhere off it on a machine with 2 or more CPUs; the table form
# works too.
set -u
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin" probe --format json --max-cpus 8 --budget 10 >"$tmp/p.json" || { echo "FAIL: probe exited $?"; exit 1; }
python3 - "$tmp/p.json" <<'PY' || { echo "FAIL: probe json"; exit 1; }
import json, sys
doc = json.load(open(sys.argv[1]))
p = doc["probe"]
m = p["one_way_ns_matrix"]
n = p["cpus"]
assert len(m) == n and all(len(row) == n for row in m), "matrix not square"
assert len(p["cpu_os_index"]) == n
for i in range(n):
    assert m[i][i] == 0, "diagonal"
    for j in range(n):
        if i != j:
            assert m[i][j] is not None and m[i][j] > 0, f"off-diagonal {i},{j}: {m[i][j]}"
if n >= 2:
    assert p["one_way_ns"]["median"] > 0 and p["line_ceiling_ops_per_s"] > 0
assert p["atomic_rmw_ns"] > 0 and p["clock_read_ns"] > 0
assert doc["machine"]["probe"] is not None
print("probe json ok:", n, "cpus")
PY
"$bin" probe --max-cpus 4 --budget 5 >"$tmp/p.txt" || { echo "FAIL: probe table"; exit 1; }
grep -q "one-way\|fewer than 2 CPUs" "$tmp/p.txt" || { echo "FAIL: probe table content"; exit 1; }
echo "1 passed, 0 failed"
