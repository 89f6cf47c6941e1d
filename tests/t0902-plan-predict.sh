#!/bin/sh
# ht-plan with a known history: the LPT order, unknown tests at the
# median, ht-plan --predict (--dry-run) and its ht.predict/1 record: a
# known history gives a known makespan.
. "$HT_SRC/tests/lib.sh"
test_need jq

mkdir -p proj/tests && cd proj || exit 1
for t in a b c d e f g; do echo 'exit 0' >tests/$t.sh; done
cat >hypertest.json <<'J'
{"runner": {"tests": ["tests/*.sh"], "run": "sh {file}"}, "local": {"sandbox": "none"}, "concurrency": 2}
J
mkdir -p .hypertest/bucket/history
H=.hypertest/bucket/history/durations.json

# A history of seconds by name, and 100, 300, 200 ms of overhead.
ht-plan --set history.enabled=false >ids.jsonl
jq -s '{schema: "ht.history/1", clock: 1, runs: 3, overhead: {local: [100, 300, 200], aws: [40]},
  tests: (map({key: .test_id, value: {seen: 1, pass: {ms: ({"tests/a.sh": 2000, "tests/b.sh": 2000,
    "tests/c.sh": 2000, "tests/d.sh": 3000, "tests/e.sh": 3000, "tests/f.sh": 4000, "tests/g.sh": 5000}[.name]),
    n: 1, last: []}}}) | from_entries)}' ids.jsonl >$H

test_expect_success 'the plan is longest first, ties by test id, renumbered' '
  ht-plan >plan.jsonl &&
  jq -r .name plan.jsonl | head -n 3 >names &&
  printf "tests/%s.sh\n" g f >want && jq -r .name plan.jsonl | head -n 2 >names && test_cmp want names &&
  jq -r "select(.expected_ms == 2000) | .test_id" plan.jsonl >ties && sort ties >sorted && test_cmp sorted ties &&
  jq -r "select(.expected_ms == 3000) | .test_id" plan.jsonl >ties && sort ties >sorted && test_cmp sorted ties &&
  test_jq -s "map(.index) == [range(7)] and (map(.expected_ms) == [5000,4000,3000,3000,2000,2000,2000])" plan.jsonl
'

test_expect_success '--predict --json: the LPT makespan plus the measured overhead' '
  ht-plan --predict --json >p.json &&
  test_jq ".schema == \"ht.predict/1\" and .provider == \"local\" and .invocations == 7 and .tests == 7 and .known == 7" p.json &&
  test_jq ".total_ms == 21000 and .longest_ms == 5000 and .concurrency == 2" p.json &&
  test_jq ".overhead_ms == 200 and .overhead_runs == 3 and .bound_ms == 10500" p.json &&
  test_jq ".predicted_ms == 11800 and .listing_order_ms == 12800 and .median_ms == 3000" p.json &&
  test_jq "has(\"shard\") | not" p.json
'

test_expect_success '--predict: -j, --dry-run, the provider of the config' '
  ht-plan --dry-run --json -j 7 >p.json &&
  test_jq ".concurrency == 7 and .predicted_ms == 5200 and .bound_ms == 5000" p.json &&
  ht-plan --predict --json --set concurrency=100 --set provider=aws --set aws.function=f --set aws.region=us-east-1 \
    --set history.url=.hypertest/bucket/history >p.json &&
  test_jq ".provider == \"aws\" and .overhead_ms == 40 and .predicted_ms == 5040" p.json
'

test_expect_success '--predict prints a table for people and no records; -o still writes the plan' '
  ht-plan --predict >table &&
  test_grep "^tests  *7 in 7 invocations: 7 known" table &&
  test_grep "^test time  *21.0 s in all, the longest 5.0 s" table &&
  test_grep "^overhead  *200 ms per invocation (local, the median of 3 runs)" table &&
  test_grep "^lower bound  *10.5 s" table &&
  test_grep "^predicted wall  *11.8 s  longest first (listing order: 12.8 s)" table &&
  ! grep -q schema table &&
  ht-plan --predict -o plan.jsonl >table2 && test_cmp table table2 &&
  test "$(wc -l <plan.jsonl)" = 7
'

test_expect_success 'an unknown test gets the median; the prediction says so' '
  echo "exit 0" >tests/h.sh &&
  ht-plan >plan.jsonl &&
  jq -c "select(.name == \"tests/h.sh\") | [.expected_ms, .expected_from]" plan.jsonl >got &&
  echo "[3000,\"median\"]" >want && test_cmp want got &&
  ht-plan --predict >table &&
  test_grep "^tests  *8 in 8 invocations: 7 known, 1 at the median 3000 ms" table &&
  rm tests/h.sh
'

test_expect_success 'with no history: the listing order, and an unknown prediction' '
  ht-plan --predict --json --set history.enabled=false >p.json &&
  test_jq ".known == 0 and .predicted_ms == null and .overhead_ms == null and .median_ms == null" p.json &&
  ht-plan --predict --set history.enabled=false >table &&
  test_grep "predicted wall  unknown" table
'

test_expect_success '--json without --predict is a usage error' '
  test_must_fail 64 ht-plan --json 2>err && test_grep "json goes with --predict" err &&
  test_must_fail 64 ht-plan --predict -j 0 2>err && test_grep "concurrency" err
'

test_done
