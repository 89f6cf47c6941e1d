#!/bin/sh
# SIGINT and SIGTERM in the middle of a run: no result lost, every test has
# exactly one record, the unfinished ones `interrupted`, exit 130, and no
# test process left behind.
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/ht-invoke-lib.sh"

# wait_lines FILE N: waits (at most 20 s) until FILE has N lines.
wait_lines() {
  i=0
  while [ "$(cat "$1" 2>/dev/null | wc -l)" -lt "$2" ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
  [ "$(wc -l <"$1")" -ge "$2" ]
}

# wait_sleeping: waits (at most 20 s) until a test runs "sleep 37.1$$".
wait_sleeping() {
  i=0
  while ! pgrep -f "sleep 37.1$$" >/dev/null && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
  pgrep -f "sleep 37.1$$" >/dev/null
}

for sig in INT TERM; do
for mode in none bwrap; do
test_expect_success "SIG$sig ($mode): finished results kept, the rest interrupted, exit 130" '
  cd proj && rm -f res.jsonl &&
  { mkrec q1 "true"; mkrec q2 "true"; mkrec l1 "sleep 37.1$$"; mkrec l2 "sleep 37.1$$"; mkrec l3 "sleep 37.1$$"; } >plan.jsonl || exit 1
  HT_BIN=$RUNNER_BIN ht-invoke -j 2 --set local.sandbox='$mode' -o res.jsonl plan.jsonl >out 2>err &
  pid=$!
  wait_sleeping && sleep 0.5 &&
  kill -'$sig' $pid &&
  { wait $pid; test $? = 130; } &&
  test "$(count_records res.jsonl)" = 5 &&
  test_jq -s "map(.test_id) | sort == [\"l1\",\"l2\",\"l3\",\"q1\",\"q2\"]" res.jsonl &&
  test_jq -s "all(.[] | select(.test_id | startswith(\"q\")); .status == \"passed\")" res.jsonl &&
  test_jq -s "all(.[] | select(.test_id | startswith(\"l\")); .status == \"interrupted\" and .ok == false)" res.jsonl &&
  test_grep "interrupted" err &&
  sleep 0.2 && ! pgrep -f "sleep 37.1$$"
'
done
done

test_expect_success 'interrupted on stdout too: each result written once, at once' '
  cd proj &&
  { mkrec q1 "true"; mkrec l1 "sleep 37.1$$"; } >plan.jsonl || exit 1
  HT_BIN=$RUNNER_BIN ht-invoke -j 2 plan.jsonl >out.jsonl 2>err &
  pid=$!
  wait_lines out.jsonl 1 && wait_sleeping &&
  kill -INT $pid && { wait $pid; test $? = 130; } &&
  test "$(count_records out.jsonl)" = 2 &&
  test "$(jq -r .status out.jsonl | tr "\n" " ")" = "passed interrupted "
'

test_done
