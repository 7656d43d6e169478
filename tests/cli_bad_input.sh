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
echo "$((n - fails)) passed, $fails failed"
[ "$fails" = 0 ]
