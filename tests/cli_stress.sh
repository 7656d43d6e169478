#!/bin/sh
# `contend stress` end to end: a short soak of the queue and counter workloads must check some
# operations, find no failure and exit 0. In the chaos build this is also a soak that explores
# interleavings (CT_CHAOS points). Usage: cli_stress.sh path/to/contend
set -u
bin=$1
fail() { echo "FAIL: $*"; exit 1; }
out=$("$bin" stress queue --seconds 3 --producers 1,2 --mode blocking --quiet) ||
  fail "stress queue blocking exited $?: $out"
echo "$out"
echo "$out" | grep -q '^stress: .* 0 failure(s)' || fail "no clean summary line"
echo "$out" | grep -Eq '^queue +mpmc +2:2 +[1-9][0-9]* +[1-9]' || fail "mpmc 2:2 checked nothing"
out=$("$bin" stress queue --seconds 2 --producers 1,3 --consumers 3,1 --capacity 4 --quiet) ||
  fail "stress queue try exited $?: $out"
echo "$out" | grep -q '^stress: .* 0 failure(s)' || fail "no clean summary line (try)"
out=$("$bin" stress counter --seconds 1 --threads 3 --impl atomic,mcs,adaptive --quiet) ||
  fail "stress counter exited $?: $out"
echo "$out" | grep -q '^stress: .* 0 failure(s)' || fail "no clean summary line (counter)"
echo "cli_stress: ok"
