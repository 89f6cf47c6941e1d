#!/bin/sh
# ht-invoke killed outright (SIGKILL: nothing of it runs to clean up)
# leaves no test running: each ht-runner learns that its caller died
# (PR_SET_PDEATHSIG) and stops its test as a signal would, without a
# sandbox too (bwrap's --die-with-parent does it with one).
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/ht-invoke-lib.sh"

have_real_runner || test_skip_all 'ht-runner is not built'
modes=none
have bwrap && bwrap --ro-bind / / --unshare-pid true 2>/dev/null && modes="none bwrap"

for mode in $modes; do
test_expect_success "no test outlives a SIGKILLed ht-invoke ($mode)" '
  cd proj && rm -f "$BUCKET"/sleeper-*.pid &&
  # Each test writes the host pid of its sleep (the bucket is the same
  # directory inside and out), then sleeps long.
  mark=ht-t0417-$$-'$mode' &&
  { mkrec s1 "sleep 300 & echo \$! >\${HT_BUCKET#file://}/sleeper-s1.pid; wait" "{\"run\":{\"env\":{\"MARK\":\"$mark\"}}}";
    mkrec s2 "sleep 300 & echo \$! >\${HT_BUCKET#file://}/sleeper-s2.pid; wait" "{\"run\":{\"env\":{\"MARK\":\"$mark\"}}}"; } >plan.jsonl &&
  { env HT_BIN=$HT_BIN ht-invoke -q -j 2 --set local.sandbox='$mode' plan.jsonl >out.jsonl 2>err & } &&
  inv=$! &&
  i=0; while [ $i -lt 200 ] && ! { [ -s "$BUCKET/sleeper-s1.pid" ] && [ -s "$BUCKET/sleeper-s2.pid" ]; }; do
    sleep 0.1; i=$((i + 1)); done &&
  test -s "$BUCKET/sleeper-s1.pid" && test -s "$BUCKET/sleeper-s2.pid" &&
  kill -9 $inv && wait $inv 2>/dev/null; :
  # Under bwrap the pids written are the sandbox'"'"'s: look for this
  # run'"'"'s processes by the mark in their environment.
  gone() {
    for f in "$BUCKET"/sleeper-*.pid; do
      p=$(cat "$f")
      if [ '$mode' = none ] && kill -0 "$p" 2>/dev/null; then return 1; fi
    done
    ! grep -l "MARK=$mark" /proc/[0-9]*/environ 2>/dev/null | grep -q .
  }
  i=0; while [ $i -lt 100 ] && ! gone; do sleep 0.1; i=$((i + 1)); done &&
  if ! gone; then
    for f in $(grep -l "MARK=$mark" /proc/[0-9]*/environ 2>/dev/null); do
      p=${f#/proc/}; p=${p%/environ}; ps -o pid,ppid,pgid,sid,stat,args -p "$p" | tail -n 1
    done
    exit 1
  fi
'
done

test_done
