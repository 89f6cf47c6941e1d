#!/bin/sh
# ht-plan --shard I/N and CI's shard variables: every test in exactly one
# shard, near-equal predicted time, the same split every time, each CI
# family, bad values (64), and the shards of one run splitting alike
# after a sibling shard finished and updated the history.
. "$HT_SRC/tests/lib.sh"
test_need jq

mkdir -p proj/tests && cd proj || exit 1
i=0; while [ $i -lt 23 ]; do echo 'exit 0' >tests/t$i.sh; i=$((i + 1)); done
cat >hypertest.json <<'J'
{"runner": {"tests": ["tests/*.sh"], "run": "sh {file}"}, "local": {"sandbox": "none"}}
J
mkdir -p .hypertest/bucket/history
H=.hypertest/bucket/history/durations.json
# Durations 100 * (1 + i*i mod 37) ms, for tests t0 .. t21; t22 unknown.
ht-plan --set history.enabled=false >all.jsonl
jq -s '{schema: "ht.history/1", clock: 1, runs: 1, overhead: {},
  tests: (map(select(.name != "tests/t22.sh")) | map({key: .test_id, value: {seen: 1,
    pass: {ms: (100 * (1 + ((.name | ltrimstr("tests/t") | rtrimstr(".sh") | tonumber) as $i | ($i * $i) % 37))),
    n: 1, last: []}}}) | from_entries)}' all.jsonl >$H
jq -r .test_id all.jsonl | sort >all.ids
# unset every CI variable the environment may have
unset CI_NODE_INDEX CI_NODE_TOTAL BUILDKITE_PARALLEL_JOB BUILDKITE_PARALLEL_JOB_COUNT CIRCLE_NODE_INDEX \
  CIRCLE_NODE_TOTAL JOB_COMPLETION_INDEX HT_SHARD_TOTAL CLOUD_RUN_TASK_INDEX CLOUD_RUN_TASK_COUNT

# shards N: plans every shard of N into s.I.jsonl; checks they are
# disjoint and complete and each is longest first.
shards() {
  : >ids && k=1 &&
  while [ $k -le $1 ]; do
    ht-plan --shard $k/$1 --run-id r >s.$k.jsonl 2>s.$k.err &&
    jq -r .test_id s.$k.jsonl >>ids &&
    test_jq -s "map(.expected_ms) as \$m | \$m == (\$m | sort | reverse)" s.$k.jsonl || return 1
    k=$((k + 1))
  done
  sort ids >ids.sorted && test_cmp all.ids ids.sorted
}

test_expect_success 'every test in exactly one shard, near-equal predicted time' '
  for n in 1 2 3 4 24; do
    shards $n || { echo "N = $n" >&2; exit 1; }
    # the largest shard is within the longest test (3.7 s) of the average
    for k in $(seq 1 $n); do jq -s "map(.expected_ms) | add // 0" s.$k.jsonl; done >loads &&
    total=$(jq -s add loads) && max=$(jq -s max loads) &&
    test $((max * n)) -le $((total + 3700 * n)) || { echo "N = $n: $(cat loads)" >&2; exit 1; }
  done &&
  test ! -s s.24.jsonl &&
  test_grep "shard 24/24 (--shard): 0 of 23 invocations" s.24.err
'

test_expect_success 'the same split every time, and stderr says which shard and its time' '
  ht-plan --shard 2/3 --run-id r >a.jsonl 2>err &&
  ht-plan --shard 2/3 --run-id other >b.jsonl &&
  jq -r .test_id a.jsonl >a.ids && jq -r .test_id b.jsonl >b.ids && test_cmp a.ids b.ids &&
  test_grep "^ht-plan: shard 2/3 (--shard): [0-9]* of 23 invocations, predicted [0-9.]* s of [0-9.]* s in all" err &&
  test_jq -s "map(.index) == [range(length)]" a.jsonl &&
  ht-plan --shard 2/3 -q >/dev/null 2>err && test ! -s err
'

test_expect_success '--predict with a shard: that shard only' '
  ht-plan --shard 2/3 --predict --json >p.json 2>/dev/null &&
  test_jq ".shard == {index: 2, total: 3, from: \"--shard\"} and .invocations == $(wc -l <a.jsonl)" p.json &&
  test_jq ".total_ms == $(jq -s "map(.expected_ms) | add" a.jsonl)" p.json
'

# ci VARS...: the test ids ht-plan picks with those variables set.
ci() { env "$@" ht-plan 2>ci.err | jq -r .test_id; }

test_expect_success 'CI variables: each family, 1-based or 0-based as the CI counts' '
  ht-plan --shard 2/3 | jq -r .test_id >want &&
  ci CI_NODE_INDEX=2 CI_NODE_TOTAL=3 >got && test_cmp want got && test_grep "(CI_NODE_INDEX)" ci.err &&
  ci BUILDKITE_PARALLEL_JOB=1 BUILDKITE_PARALLEL_JOB_COUNT=3 >got && test_cmp want got &&
  ci CIRCLE_NODE_INDEX=1 CIRCLE_NODE_TOTAL=3 >got && test_cmp want got &&
  ci CLOUD_RUN_TASK_INDEX=1 CLOUD_RUN_TASK_COUNT=3 >got && test_cmp want got &&
  ci JOB_COMPLETION_INDEX=1 HT_SHARD_TOTAL=3 >got && test_cmp want got &&
  env JOB_COMPLETION_INDEX=1 ht-plan --shard-total 3 2>/dev/null | jq -r .test_id >got && test_cmp want got &&
  ci CI_NODE_INDEX=2 CI_NODE_TOTAL=3 CIRCLE_NODE_INDEX=0 CIRCLE_NODE_TOTAL=2 >got && test_cmp want got
'

test_expect_success '--shard wins over the variables; 1/1 turns them off' '
  env CI_NODE_INDEX=1 CI_NODE_TOTAL=3 ht-plan --shard 2/3 2>err | jq -r .test_id >got &&
  test_cmp want got && test_grep "(--shard)" err &&
  env CI_NODE_INDEX=1 CI_NODE_TOTAL=3 ht-plan --shard 1/1 2>/dev/null | jq -r .test_id | sort >got &&
  test_cmp all.ids got
'

test_expect_success 'bad values: exit 64 and a reason' '
  for s in 0/3 4/3 1/0 x/3 3 1/ /3 -1/3 1/3x 1/10001 ""; do
    test_must_fail 64 ht-plan --shard "$s" 2>err && test_grep "shard" err || { echo "--shard $s" >&2; exit 1; }
  done &&
  test_must_fail 64 env CI_NODE_INDEX=0 CI_NODE_TOTAL=3 ht-plan 2>err && test_grep "CI_NODE_INDEX: .0." err &&
  test_must_fail 64 env CI_NODE_INDEX=4 CI_NODE_TOTAL=3 ht-plan 2>err && test_grep "from 1 to 3" err &&
  test_must_fail 64 env CIRCLE_NODE_INDEX=3 CIRCLE_NODE_TOTAL=3 ht-plan 2>err && test_grep "from 0 to 2" err &&
  test_must_fail 64 env CI_NODE_INDEX=1 ht-plan 2>err && test_grep "CI_NODE_TOTAL is not" err &&
  test_must_fail 64 env BUILDKITE_PARALLEL_JOB=0 BUILDKITE_PARALLEL_JOB_COUNT=zero ht-plan 2>err &&
  test_grep "BUILDKITE_PARALLEL_JOB_COUNT: .zero." err &&
  test_must_fail 64 env JOB_COMPLETION_INDEX=0 ht-plan 2>err && test_grep "HT_SHARD_TOTAL.*--shard-total" err &&
  test_must_fail 64 ht-plan --shard-total 0 2>err && test_grep "shard-total" err
'

test_expect_success 'the shards of one run split alike after a sibling shard ran and updated the history' '
  ht-plan --shard 1/2 --run-id ci-42 -o s1.jsonl 2>/dev/null &&
  ht-plan --shard 2/2 --run-id ci-42 -o s2-before.jsonl 2>/dev/null &&
  ht-invoke -q s1.jsonl >r1.jsonl &&
  test_jq ".runs == 2" $H &&
  # the first shard ran in a few ms each: its tests are much shorter now
  ht-plan --shard 2/2 --run-id other-run 2>/dev/null | jq -r .test_id | sort >moved &&
  jq -r .test_id s2-before.jsonl | sort >s2.ids && ! test_cmp s2.ids moved >/dev/null &&
  ht-plan --shard 2/2 --run-id ci-42 -o s2.jsonl 2>/dev/null &&
  jq -r .test_id s2.jsonl | sort >got && test_cmp s2.ids got &&
  { jq -r .test_id s1.jsonl; cat got; } | sort >union && test_cmp all.ids union
'

test_done
