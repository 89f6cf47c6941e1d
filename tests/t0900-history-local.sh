#!/bin/sh
# The duration history on the local provider: written at the end of a run
# into the bucket directory, read back by ht-plan (expected_ms, longest
# first), partial runs keep the rest, failed and flaky attempts kept apart,
# history.enabled and history.url, the max_tests bound.
. "$HT_SRC/tests/lib.sh"
test_need jq

mkdir -p proj/tests && cd proj || exit 1
# name seconds: a test that sleeps
mk() { printf 'sleep %s\n' "$2" >"tests/$1.sh"; }
mk a 0.05; mk b 0.6; mk c 0.15; mk d 0.35; mk e 0.01
cat >hypertest.json <<'J'
{"runner": {"tests": ["tests/*.sh"], "run": "sh {file}"}, "local": {"sandbox": "none"}, "concurrency": 2}
J
H=.hypertest/bucket/history/durations.json
id() { ht-plan --grep "^tests/$1\\.sh\$" | jq -r .test_id; }

test_expect_success 'without a history the plan keeps its listing order and expects nothing' '
  ht-plan >plan.jsonl &&
  jq -r .name plan.jsonl >names &&
  printf "tests/%s.sh\n" a b c d e >want && test_cmp want names &&
  test_jq "has(\"expected_ms\") | not" plan.jsonl
'

test_expect_success 'a run writes the history into the bucket directory' '
  ht-invoke -q plan.jsonl >r1.jsonl &&
  test -f $H &&
  test_jq ".schema == \"ht.history/1\" and .runs == 1 and .clock == 1 and (.tests | length) == 5" $H &&
  test_jq ".tests[\"$(id b)\"].pass | .n == 1 and .ms >= 600 and .ms < 1500 and .last == [.ms]" $H &&
  test_jq "(.overhead.local | length) == 1 and .overhead.local[0] >= 0" $H &&
  test_jq "(.updated_at | test(\"Z$\")) and all(.tests[]; .seen == 1 and (.by | test(\"^[0-9a-f]{8}$\")))" $H &&
  ls .hypertest/bucket/history >files && echo durations.json >want && test_cmp want files
'

test_expect_success 'ht-plan reads it back: expected_ms from the history, longest first' '
  ht-plan >plan2.jsonl &&
  jq -r .test_id plan2.jsonl >ids &&
  # the order of the durations the history holds (what the run measured)
  jq -r ".tests | to_entries | sort_by(-.value.pass.ms, .key) | .[].key" $H >want && test_cmp want ids &&
  test_jq -s "map(.index) == [0,1,2,3,4]" plan2.jsonl &&
  test_jq ".expected_from == \"history\" and .expected_ms >= 0" plan2.jsonl &&
  jq -r "select(.name == \"tests/b.sh\") | .expected_ms" plan2.jsonl >got &&
  jq -r ".tests[\"$(id b)\"].pass.ms" $H >want && test_cmp want got
'

test_expect_success 'ht-invoke starts them in that order (the pull queue of expected_ms)' '
  ht-invoke -q -j 1 plan2.jsonl >r2.jsonl &&
  jq -r .test_id r2.jsonl >got && test_cmp ids got &&
  test_jq ".runs == 2 and .clock == 2 and .tests[\"$(id b)\"].pass.n == 2" $H
'

test_expect_success 'a new test gets the median of the known ones' '
  mk f 0.01 &&
  ht-plan >plan3.jsonl &&
  jq -c "select(.name == \"tests/f.sh\") | [.expected_ms, .expected_from]" plan3.jsonl >got &&
  m=$(jq -s "map(select(.name != \"tests/f.sh\") | .expected_ms) | sort | .[2]" plan3.jsonl) &&
  echo "[$m,\"median\"]" >want && test_cmp want got
'

test_expect_success 'a partial run updates its tests and keeps the others' '
  cp $H before.json &&
  ht-plan --grep "tests/[ef]\\.sh" >part.jsonl &&
  ht-invoke -q part.jsonl >r3.jsonl &&
  test_jq "(.tests | length) == 6 and .runs == 3" $H &&
  jq -c ".tests[\"$(id b)\"]" before.json >want && jq -c ".tests[\"$(id b)\"]" $H >got && test_cmp want got &&
  test_jq ".tests[\"$(id e)\"].pass.n == 3 and .tests[\"$(id f)\"].pass.n == 1" $H &&
  # two tests of five known: the clock moves by 2/5
  test_jq ".clock > 2.39 and .clock < 2.41" $H
'

test_expect_success 'a slow failure and a slow flaky pass do not move the passing expectation' '
  b=$(id b) c=$(id c) &&
  jq -r ".tests[\"$b\"].pass.ms" $H >b.before &&
  jq -r ".tests[\"$c\"].pass.ms" $H >c.before &&
  mk b "2; exit 1" &&
  printf "%s\n" "if [ -e $TRASH/flag ]; then sleep 0.01; else touch $TRASH/flag; sleep 1.5; exit 1; fi" >tests/c.sh &&
  ht-plan --grep "tests/[bc]\\.sh" >bc.jsonl &&
  test_expect_code 1 ht-invoke -q --retries 1 bc.jsonl >r4.jsonl &&
  test_jq -s "map(.status) | sort == [\"failed\",\"flaky\"]" r4.jsonl &&
  jq -r ".tests[\"$b\"].pass.ms" $H >b.after && test_cmp b.before b.after &&
  jq -r ".tests[\"$c\"].pass.ms" $H >c.after && test_cmp c.before c.after &&
  test_jq ".tests[\"$b\"].fail.ms >= 2000 and .tests[\"$c\"].flaky.n == 1" $H &&
  ht-plan --grep "tests/b\\.sh" >p.jsonl &&
  jq -r .expected_ms p.jsonl >got && test_cmp b.before got
'

test_expect_success 'history.enabled false: nothing written, nothing read' '
  cp $H before.json &&
  mk b 0.01 &&
  ht-plan --set history.enabled=false >p.jsonl &&
  test_jq "has(\"expected_ms\") | not" p.jsonl &&
  HT_HISTORY_ENABLED=false ht-invoke -q p.jsonl >r5.jsonl &&
  test_cmp before.json $H
'

test_expect_success 'history.url: a directory of its own, relative to the project root' '
  ht-plan --set history.url=hist >p.jsonl &&
  test_jq "has(\"expected_ms\") | not" p.jsonl &&
  ht-invoke -q --set history.url=hist p.jsonl >r6.jsonl &&
  test_jq ".runs == 1 and (.tests | length) == 6" hist/durations.json &&
  ht-plan --set history.url=hist >p2.jsonl &&
  test_jq ".expected_from == \"history\"" p2.jsonl &&
  ht-invoke -q --set history.url="file://$PWD/hist" p2.jsonl >r7.jsonl &&
  test_jq ".runs == 2" hist/durations.json
'

test_expect_success 'history.max_tests bounds it: the least recently seen go' '
  for i in 1 2 3 4 5 6 7 8 9 10 11 12; do mk "m$i" 0; done &&
  ht-plan --grep "tests/m" >m.jsonl &&
  ht-invoke -q --set history.max_tests=10 m.jsonl >r8.jsonl &&
  test_jq "(.tests | length) == 10" $H &&
  test_jq "(.tests | keys | map(select(startswith(\"t-tests-m\"))) | length) == 10" $H &&
  test_must_fail 78 ht-plan --set history.max_tests=1 2>err && test_grep "history.max_tests" err
'

test_expect_success 'durations from --durations win over the history' '
  jq -c "select(.name == \"tests/a.sh\") | .duration_ms = 99999" r1.jsonl >d.jsonl &&
  ht-plan --durations d.jsonl >p.jsonl &&
  head -n 1 p.jsonl | jq -c "[.name, .expected_ms, .expected_from]" >got &&
  echo "[\"tests/a.sh\",99999,\"durations\"]" >want && test_cmp want got
'

test_done
