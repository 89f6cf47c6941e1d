#!/bin/sh
# Infrastructure failures in the local provider are retried and end as
# `error`, never as a test failure: a runner that crashes, reports an
# error, answers garbage, never answers, or cannot start. Uses the
# stand-in runner (tests/helpers/ht-invoke-fake-runner.sh).
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/ht-invoke-lib.sh"

# check_infra FILE ATTEMPTS PATTERN: one error record after ATTEMPTS
# infrastructure failures whose message matches PATTERN.
check_infra() {
  test_jq ".status == \"error\" and .ok == false and .error.code == \"infra\"" "$1" &&
  test_jq ".attempt == $2 and (.attempts | length) == $2" "$1" &&
  test_jq "all(.attempts[]; .infra == true and .status == \"error\")" "$1" &&
  test_jq ".message | test(\"$3\")" "$1"
}

test_expect_success 'a runner that dies mid-invocation: infra retries, then error' '
  cd proj &&
  mkrec crash "true" "{\"run\":{\"fake\":\"crash\"}}" >plan.jsonl &&
  test_expect_code 1 env HT_BIN=$FAKE_BIN ht-invoke plan.jsonl >out.jsonl 2>err &&
  check_infra out.jsonl 3 "sandbox died during the invocation" &&
  test_grep "passed, 1 error$" err && ! grep -q "failed" out.jsonl
'

test_expect_success '--infra-retries 0: one attempt only' '
  cd proj &&
  test_expect_code 1 env HT_BIN=$FAKE_BIN ht-invoke -q --infra-retries 0 plan.jsonl >out.jsonl &&
  check_infra out.jsonl 1 "sandbox died"
'

test_expect_success 'a crash then a good attempt: passed, not flaky, both attempts kept' '
  cd proj &&
  mkrec once "true" "{\"run\":{\"fake\":\"crash-once\"}}" >plan.jsonl &&
  HT_BIN=$FAKE_BIN ht-invoke -q plan.jsonl >out.jsonl &&
  test_jq ".status == \"passed\" and .ok == true and .attempt == 2" out.jsonl &&
  test_jq "[.attempts[].status] == [\"error\",\"passed\"] and .attempts[0].infra == true" out.jsonl
'

test_expect_success 'the runner reports /invocation/error: infra, with its message' '
  cd proj &&
  mkrec e "true" "{\"run\":{\"fake\":\"error\"}}" >plan.jsonl &&
  test_expect_code 1 env HT_BIN=$FAKE_BIN ht-invoke -q --infra-retries 1 plan.jsonl >out.jsonl &&
  check_infra out.jsonl 2 "Fake: boom"
'

test_expect_success 'an answer that is not a result record: infra' '
  cd proj &&
  mkrec g "true" "{\"run\":{\"fake\":\"garbage\"}}" >plan.jsonl &&
  test_expect_code 1 env HT_BIN=$FAKE_BIN ht-invoke -q --infra-retries 0 plan.jsonl >out.jsonl &&
  check_infra out.jsonl 1 "not an ht.result/1 record"
'

test_expect_success 'a runner that never answers is killed after its deadline' '
  cd proj &&
  mkrec h "true" "{\"timeout_s\":1,\"run\":{\"fake\":\"hang\"}}" >plan.jsonl &&
  start=$(date +%s) &&
  test_expect_code 1 reaped leaks env HT_BIN=$FAKE_BIN ht-invoke -q --infra-retries 0 plan.jsonl >out.jsonl &&
  test $(( $(date +%s) - start )) -lt 15 &&
  check_infra out.jsonl 1 "no answer from the runner" &&
  test_no_leaks leaks
'

test_expect_success 'a runner that fails to initialise: error with its init message' '
  cd proj &&
  mkrec i "true" >plan.jsonl &&
  echo "{\"runner\":{\"env\":{\"FAKE_INIT_ERROR\":\"no plugin\"}}}" >hypertest.json &&
  test_expect_code 1 env HT_BIN=$FAKE_BIN ht-invoke -q --infra-retries 1 plan.jsonl >out.jsonl &&
  echo "{\"provider\":\"local\"}" >hypertest.json &&
  check_infra out.jsonl 2 "failed to start: init error: Fake: no plugin"
'

test_expect_success 'other tests go on while one sandbox misbehaves' '
  cd proj &&
  { mkrec c "true" "{\"run\":{\"fake\":\"crash\"}}"; for i in 1 2 3 4; do mkrec ok$i "true"; done; } >plan.jsonl &&
  test_expect_code 1 env HT_BIN=$FAKE_BIN ht-invoke -q -j 2 plan.jsonl >out.jsonl &&
  test "$(count_records out.jsonl)" = 5 &&
  test "$(jq -r "select(.status==\"passed\") | .test_id" out.jsonl | wc -l)" = 4
'

test_done
