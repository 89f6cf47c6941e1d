#!/bin/sh
# ht-invoke over the local provider: passing and failing suites, ordering,
# the output file, bad input.
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/ht-invoke-lib.sh"

test_expect_success 'a passing suite: one passed record per test, exit 0' '
  cd proj &&
  for i in 1 2 3; do mkrec pass$i "echo hello $i"; done >plan.jsonl &&
  HT_BIN=$RUNNER_BIN ht-invoke -j 2 plan.jsonl >out.jsonl 2>err &&
  test "$(count_records out.jsonl)" = 3 &&
  test_jq -s "all(.[]; .schema == \"ht.result/1\" and .status == \"passed\" and .ok == true and .attempt == 1 and .run_id == \"run-1\")" out.jsonl &&
  test_jq -s "map(.test_id) | sort == [\"pass1\",\"pass2\",\"pass3\"]" out.jsonl &&
  test_jq -s "all(.[]; .attempts | length == 1)" out.jsonl &&
  test_jq -s "all(.[]; .attempts[0] as \$a | \$a.attempt == 1 and \$a.status == \"passed\" and \$a.duration_ms == .duration_ms)" out.jsonl &&
  test_jq -s "all(.[]; (.invoke_ms | type) == \"number\" and (.dispatched_at | test(\"Z$\")))" out.jsonl &&
  test_grep "3 tests in .*: 3 passed" err
'

test_expect_success 'a failing test: exit 1, its message and output in the record and the summary' '
  cd proj &&
  { mkrec ok "true"; mkrec bad "echo the output of bad; exit 3"; } >plan.jsonl &&
  test_expect_code 1 env HT_BIN=$RUNNER_BIN ht-invoke plan.jsonl >out.jsonl 2>err &&
  jq -c "select(.test_id == \"bad\")" out.jsonl >bad.json &&
  test_jq ".status == \"failed\" and .ok == false and .exit_code == 3" bad.json &&
  test_jq ".message | test(\"exit code 3\")" bad.json &&
  test_jq ".output_tail | test(\"the output of bad\")" bad.json &&
  test_grep "failed.*tests/bad.sh: .*exit code 3" err &&
  test_grep "1 passed, 1 failed" err
'

test_expect_success '-q: no summary; without a terminal no progress line' '
  cd proj &&
  mkrec q "true" >plan.jsonl &&
  HT_BIN=$RUNNER_BIN ht-invoke -q plan.jsonl >out.jsonl 2>err &&
  test_must_be_empty() { test ! -s "$1"; } && test_must_be_empty err
'

test_expect_success '-o FILE: results in the file, nothing on stdout' '
  cd proj &&
  { mkrec a "true"; mkrec b "false"; } >plan.jsonl &&
  test_expect_code 1 env HT_BIN=$RUNNER_BIN ht-invoke -q -o res.jsonl plan.jsonl >out 2>err &&
  test ! -s out &&
  test "$(count_records res.jsonl)" = 2 &&
  ! ls res.jsonl.* 2>/dev/null
'

test_expect_success 'records from stdin; longest expected first, unknown durations before them' '
  cd proj &&
  { mkrec short "true" "{\"expected_ms\":10}"; mkrec long "true" "{\"expected_ms\":5000}";
    mkrec new "true"; mkrec mid "true" "{\"expected_ms\":700}"; } >plan.jsonl &&
  HT_BIN=$RUNNER_BIN ht-invoke -q -j 1 <plan.jsonl >out.jsonl &&
  test "$(jq -r .test_id out.jsonl | tr "\n" " ")" = "new long mid short "
'

test_expect_success 'a malformed record: exit 65 naming the line, nothing invoked' '
  cd proj && rm -rf .hypertest &&
  { mkrec a "touch /var/bucket/ran"; echo "{\"schema\":\"ht.test/1\",oops"; mkrec c "true"; } >plan.jsonl &&
  test_expect_code 65 env HT_BIN=$RUNNER_BIN ht-invoke plan.jsonl >out 2>err &&
  test_grep "plan.jsonl:2" err &&
  test ! -s out && test ! -e .hypertest
'

test_expect_success 'a record of another kind or without a test_id: exit 65' '
  cd proj &&
  { mkrec a "true"; echo "{\"schema\":\"ht.result/1\"}"; } >plan.jsonl &&
  test_expect_code 65 env HT_BIN=$RUNNER_BIN ht-invoke plan.jsonl 2>err &&
  test_grep "plan.jsonl:2" err &&
  mkrec "../x" "true" >bad-id.jsonl &&
  test_expect_code 65 env HT_BIN=$RUNNER_BIN ht-invoke bad-id.jsonl 2>err &&
  test_grep "bad-id.jsonl:1: test_id" err &&
  mkrec v "true" | sed "s,ht.test/1,ht.test/2," >v2.jsonl &&
  test_expect_code 65 env HT_BIN=$RUNNER_BIN ht-invoke v2.jsonl
'

test_expect_success 'an empty plan: exit 65, nothing written (t0017 has more)' '
  cd proj && : >empty.jsonl &&
  test_expect_code 65 ht-invoke -q empty.jsonl >out && test ! -s out
'

test_expect_success 'usage errors exit 64; a missing file 66; --help' '
  cd proj &&
  test_expect_code 64 ht-invoke -j 0 plan.jsonl &&
  test_expect_code 64 ht-invoke --retries x plan.jsonl &&
  test_expect_code 64 ht-invoke a b &&
  test_expect_code 66 ht-invoke no-such.jsonl &&
  ht-invoke --help >help && test_grep "concurrency" help
'

test_expect_success 'no ht-runner to be found: exit 69' '
  cd proj && mkdir -p empty-bin && mkrec a "true" >plan.jsonl &&
  cp "$(command -v ht-invoke)" empty-bin/ &&
  test_expect_code 69 env HT_BIN=$TRASH/nothing-here empty-bin/ht-invoke plan.jsonl 2>err &&
  test_grep "ht-runner" err
'

test_done
