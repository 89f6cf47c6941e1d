#!/bin/sh
# Retries of failed tests: flaky tests, attempts kept, --flaky-fails.
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/ht-invoke-lib.sh"

# A test that fails on its first run and passes afterwards: the counter
# lives in the bucket, the one directory a sandbox can write that outlives it.
flaky='c=${HT_BUCKET#file://}/count.$HT_TEST_ID_X; n=$(cat $c 2>/dev/null || echo 0); echo $((n + 1)) >$c; echo run $n; test $n -ge 1'

test_expect_success 'a test that fails then passes is flaky, with every attempt' '
  cd proj &&
  mkrec fl "$(echo "$flaky" | sed s/\$HT_TEST_ID_X/fl/)" >plan.jsonl &&
  HT_BIN=$RUNNER_BIN ht-invoke --retries 1 plan.jsonl >out.jsonl 2>err &&
  test_jq ".status == \"flaky\" and .ok == true and .attempt == 2" out.jsonl &&
  test_jq "[.attempts[] | [.attempt, .status]] == [[1,\"failed\"],[2,\"passed\"]]" out.jsonl &&
  test_jq "all(.attempts[]; has(\"infra\") | not)" out.jsonl &&
  test_grep "1 flaky" err && test_grep "flaky .*tests/fl.sh" err
'

test_expect_success '--flaky-fails: a flaky test fails the run' '
  cd proj &&
  mkrec fl2 "$(echo "$flaky" | sed s/\$HT_TEST_ID_X/fl2/)" >plan.jsonl &&
  test_expect_code 1 env HT_BIN=$RUNNER_BIN ht-invoke -q --retries 2 --flaky-fails plan.jsonl >out.jsonl &&
  test_jq ".status == \"flaky\" and .ok == false and .attempt == 2" out.jsonl
'

test_expect_success 'retries from the config; a test that always fails gets them all' '
  cd proj &&
  echo "{\"retries\":2}" >hypertest.json &&
  mkrec always "echo nope; exit 1" >plan.jsonl &&
  test_expect_code 1 env HT_BIN=$RUNNER_BIN ht-invoke -q plan.jsonl >out.jsonl &&
  echo "{}" >hypertest.json &&
  test_jq ".status == \"failed\" and .attempt == 3 and ([.attempts[].status] == [\"failed\",\"failed\",\"failed\"])" out.jsonl
'

test_expect_success 'no retries by default: failed after one attempt' '
  cd proj &&
  test_expect_code 1 env HT_BIN=$RUNNER_BIN ht-invoke -q plan.jsonl >out.jsonl &&
  test_jq ".status == \"failed\" and .attempt == 1" out.jsonl
'

test_expect_success 'the event carries the attempt number' '
  cd proj && rm -f "$BUCKET"/att.* &&
  mkrec att "exit 1" >plan.jsonl &&
  test_expect_code 1 env HT_BIN=$RUNNER_BIN ht-invoke -q --retries 1 plan.jsonl >out.jsonl &&
  test_jq "[.attempts[].attempt] == [1,2]" out.jsonl
'

test_done
