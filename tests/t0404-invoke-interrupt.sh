#!/bin/sh
# SIGINT and SIGTERM in the middle of a run: no result lost, every test has
# exactly one record, the unfinished ones `interrupted`, then ht-invoke dies
# of the signal (not exit 130), and no test process is left behind.
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/ht-invoke-lib.sh"

have perl || test_skip_all 'perl is needed to see how a process ended'

# run_status NAME CMD...: CMD in the background with SIGINT at its default
# (tests/helpers/run-status.pl); NAME.pid, then "signal N" in NAME.status.
# Remove both before.
run_status() { perl "$HT_SRC/tests/helpers/run-status.pl" "$@"; }

# wait_status NAME: waits (at most 20 s) for NAME.status, prints it.
wait_status() {
  i=0
  while [ ! -e "$1.status" ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
  cat "$1.status"
}

# pid_of NAME: waits (at most 5 s) for NAME.pid, prints it.
pid_of() {
  i=0
  while [ ! -e "$1.pid" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
  cat "$1.pid"
}

# wait_lines FILE N: waits (at most 20 s) until FILE has N lines.
wait_lines() {
  i=0
  while [ "$(cat "$1" 2>/dev/null | wc -l)" -lt "$2" ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
  [ "$(wc -l <"$1")" -ge "$2" ]
}

# wait_sleeping PID: waits (at most 20 s) until a test below PID runs "sleep 37.1".
wait_sleeping() { wait_descendant "$1" "sleep 37\.1" >/dev/null; }

for sig in INT:2 TERM:15; do
num=${sig#*:} sig=${sig%:*}
for mode in none bwrap; do
test_expect_success "SIG$sig ($mode): finished results kept, the rest interrupted, then death by SIG$sig" '
  cd proj && rm -f res.jsonl iv.pid iv.status &&
  { mkrec q1 "true"; mkrec q2 "true"; mkrec l1 "sleep 37.1"; mkrec l2 "sleep 37.1"; mkrec l3 "sleep 37.1"; } >plan.jsonl || exit 1
  "$REAPER" leaks perl "$HT_SRC/tests/helpers/run-status.pl" iv env HT_BIN=$RUNNER_BIN ht-invoke -j 2 --set local.sandbox='$mode' -o res.jsonl plan.jsonl >out 2>err &
  pid=$(pid_of iv) &&
  wait_sleeping $pid && sleep 0.5 &&
  kill -'$sig' $pid &&
  test "$(wait_status iv)" = "signal '$num'" && wait &&
  test "$(count_records res.jsonl)" = 5 &&
  test_jq -s "map(.test_id) | sort == [\"l1\",\"l2\",\"l3\",\"q1\",\"q2\"]" res.jsonl &&
  test_jq -s "all(.[] | select(.test_id | startswith(\"q\")); .status == \"passed\")" res.jsonl &&
  test_jq -s "all(.[] | select(.test_id | startswith(\"l\")); .status == \"interrupted\" and .ok == false)" res.jsonl &&
  test_grep "interrupted" err &&
  test_no_leaks leaks
'
done
done

test_expect_success 'interrupted on stdout too: each result written once, at once' '
  cd proj && rm -f iv.pid iv.status &&
  { mkrec q1 "true"; mkrec l1 "sleep 37.1"; } >plan.jsonl || exit 1
  "$REAPER" leaks perl "$HT_SRC/tests/helpers/run-status.pl" iv env HT_BIN=$RUNNER_BIN ht-invoke -j 2 plan.jsonl >out.jsonl 2>err &
  pid=$(pid_of iv) &&
  wait_lines out.jsonl 1 && wait_sleeping $pid &&
  kill -INT $pid && test "$(wait_status iv)" = "signal 2" && wait &&
  test "$(count_records out.jsonl)" = 2 &&
  test "$(jq -r .status out.jsonl | tr "\n" " ")" = "passed interrupted " &&
  test_no_leaks leaks
'

test_done
