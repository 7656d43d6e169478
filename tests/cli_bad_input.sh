#!/bin/sh
# The CLI against bad input: each case must exit with status 2 within a few seconds and print
# exactly one line on stderr that names the bad value. Usage: cli_bad_input.sh path/to/contend
bin=$1
fails=0
n=0
# check EXPECTED_SUBSTRING ARGS...
check() {
  want=$1; shift
  n=$((n + 1))
  err=$(timeout 20 "$bin" "$@" 2>&1 >/dev/null)
  rc=$?
  lines=$(printf '%s\n' "$err" | wc -l)
  if [ "$rc" != 2 ] || [ "$lines" != 1 ] || ! printf '%s' "$err" | grep -qF -- "$want"; then
    echo "FAIL: contend $* -> status $rc, $lines line(s): $err (wanted status 2, one line naming '$want')"
    fails=$((fails + 1))
  fi
}
check "nosuch"   run nosuch
check "'near'"   run queue --pin compact,near
check "twice"    run queue --pin none,none
check "list"     suite --pin none,compact
check "nosuch"   stress nosuch
check "which bench" stress
check "'0'"      stress queue --seconds 0
check "'abc'"    stress counter --seconds abc
check "--seconds" run counter --seconds 1
check "--quick"  stress counter --quick
check "nosuch"   run counter --impl nosuch
check "atomic,"  run counter --impl atomic,
check "'0'"      run counter --threads 0
check "'-1'"     run counter --threads -1
check "'abc'"    run counter --threads abc
check "'4097'"   run counter --threads 4097
check "'2x'"     run counter --threads 2x
check "1,,2"     run counter --threads 1,,2
check "'0'"      run counter --duration 0
check "'-1'"     run counter --duration -1
check "'abc'"    run counter --duration abc
check "'nan'"    run counter --duration nan
check "'0'"      run counter --repeat 0
check "'x'"      run counter --cs-ns x
check "'-5'"     run counter --think-ns -5
check "'fast'"   run counter --pin fast
check "'xml'"    run counter --format xml
check "--bogus"  run counter --bogus
check "--threads" run counter --threads
check "--duration" run counter --duration
check "which bench" run
check "'frob'"   frob
check "--quick"  run counter --quick
check "--bogus"  suite --bogus
check "'0'"      suite --threads 0
check "'extra'"  list extra
check "'0'"      run queue --producers 0
check "'x'"      run queue --consumers x
check "'fast'"   run queue --mode fast
check "'0'"      run queue --capacity 0
check "'1073741825'" run queue --capacity 1073741825
check "--threads" run queue --threads 2
check "--producers" run counter --producers 2
check "equally many" run queue --producers 1,2 --consumers 1,2,3
check "spsc"     run queue --impl spsc --producers 2
check "'0'"      lab stalled-producer --stall-ms 0
check "'x'"      lab stalled-producer --producers x
check "'nan'"    lab stalled-producer --seconds nan
check "'lifo'"   lab stalled-producer --queue lifo
check "'spin'"   lab stalled-producer --mode spin
check "'0'"      lab stalled-producer --capacity 0
check "--bogus"  lab stalled-producer --bogus
check "--every-ms" lab stalled-producer --every-ms
check "'quicksort'" run pool --workload quicksort
check "'0'"      run pool --n 0
check "'x'"      run pool --n x
check "'41'"     run pool --workload fib --n 41
check "--workload" run pool --workload
check "--workload" run counter --workload fib
check "--n"      run queue --n 5
check "omp-gcc"  run pool --impl omp-gcc --workload latency
check "'lifo'"    lab backpressure --policy lifo
check "'block,'"  lab backpressure --policy block,
check "'0'"       lab backpressure --stages 0
check "'4'"       lab backpressure --stages 4
check "'0'"       lab backpressure --capacity 0
check "'x'"       lab backpressure --load 0.5,x
check "'0'"       lab backpressure --load 0
check "1,,2"      lab backpressure --load 1,,2
check "'-1'"      lab backpressure --rate -1
check "'soon'"    lab backpressure --deadline soon
check "'forever'" lab backpressure --duration forever
check "'0'"       lab backpressure --duration 0
check "'lots'"    lab backpressure --max-rss lots
check "'0'"       lab backpressure --max-rss 0
check "'50'"      lab backpressure --service-ns 50
check "'normal'"  lab backpressure --service normal
check "'bursty'"  lab backpressure --arrival bursty
check "'-3'"      lab backpressure --seed -3
check "'xml'"     lab backpressure --format xml
check "--bogus"   lab backpressure --bogus
check "--rate"    lab backpressure --rate 100 --load 1
check "--policy"  lab backpressure --policy
check "'0'"      lab aba --stress --seconds 0
check "'abc'"    lab aba --stress --seconds abc
check "'0'"      lab aba --stress --threads 0
check "'65'"     lab aba --stress --threads 65
check "'nosuch'" lab aba --stress --impl nosuch
check "--stress" lab aba --seconds 1
check "'0'"      lab aba --stress --jitter 0
check "--stress" lab aba --jitter 5
check "--bogus"  lab aba --bogus
check "--seconds" lab aba --stress --seconds
check "'naive'"  run stack --impl naive
check "--producers" run stack --producers 2
check "'1.5'"    lab pipeline-overhead --load 1.5
check "'x'"      lab pipeline-overhead --items x
check "'0'"      lab pipeline-overhead --rounds 0
check "--bogus"  lab pipeline-overhead --bogus
check "--items"  lab pipeline-overhead --items
echo "$((n - fails)) passed, $fails failed"
[ "$fails" = 0 ]
