#!/bin/sh
# Runs that finish at the same time: each stores the history with one
# rename, so the file is always a whole ht.history/1 object (the last
# writer wins: some updates may be lost, none is half written), and no
# temporary file is left behind.
. "$HT_SRC/tests/lib.sh"
test_need jq

mkdir -p proj/tests && cd proj || exit 1
for g in a b c d; do for i in 1 2 3; do echo 'exit 0' >tests/$g$i.sh; done; done
cat >hypertest.json <<'J'
{"runner": {"tests": ["tests/*.sh"], "run": "sh {file}"}, "local": {"sandbox": "none"}, "concurrency": 3}
J
H=.hypertest/bucket/history/durations.json
for g in a b c d; do ht-plan --grep "tests/$g" -o plan-$g.jsonl; done

test_expect_success 'four runs at once, five times: a whole history every time' '
  for round in 1 2 3 4 5; do
    for g in a b c d; do ht-invoke -q plan-$g.jsonl >out-$g.jsonl & done
    wait &&
    for g in a b c d; do test_jq -s "length == 3 and all(.[]; .status == \"passed\")" out-$g.jsonl || exit 1; done &&
    test_jq ".schema == \"ht.history/1\" and (.tests | length) >= 3 and .runs >= $round" $H &&
    jq -e ".tests | all(.[]; .pass.n >= 1)" $H >/dev/null || exit 1
  done &&
  ls -a .hypertest/bucket/history >files &&
  printf "%s\n" . .. durations.json >want && test_cmp want files
'

test_expect_success 'a run after them plans from what was kept' '
  ht-invoke -q plan-a.jsonl >out.jsonl &&
  ht-plan >plan.jsonl 2>err && test ! -s err &&
  test_jq -s "map(select(.expected_from == \"history\")) | length >= 3" plan.jsonl
'

test_done
