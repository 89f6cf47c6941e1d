#!/bin/sh
# ht-invoke refuses at read time (exit 65, nothing run) a plan with a
# duplicate test_id, a run_id that is not a safe id, and an empty plan.
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/ht-invoke-lib.sh"

test_expect_success 'a test_id twice: 65, both lines named, nothing run' '
  cd proj &&
  { mkrec a "echo ran-a"; mkrec b "true"; mkrec a "echo ran-a-again"; } >dup.jsonl &&
  test_expect_code 65 env HT_BIN=$RUNNER_BIN ht-invoke dup.jsonl >out 2>err &&
  test ! -s out &&
  test_grep "^ht-invoke: error: dup.jsonl:3: test_id: .a. is already the id of line 1$" err &&
  test ! -e "$BUCKET/run-1"
'

test_expect_success 'the same plan without the duplicate runs each test once' '
  cd proj &&
  { mkrec a "echo ran-a"; mkrec b "true"; } >once.jsonl &&
  HT_BIN=$RUNNER_BIN ht-invoke once.jsonl >out 2>err &&
  test "$(count_records out)" = 2 &&
  test_jq -s "map(.test_id) | sort == [\"a\",\"b\"]" out &&
  test_jq -s "all(.[]; .status == \"passed\" and (.attempts | length) == 1)" out
'

for id in "../x" "a/b" "." ".." "" "$(printf "%0129d" 0)" "r\$(id)"; do
  test_expect_success "run_id '$id': 65 at read time, nothing run" '
    cd proj &&
    mkrec r "true" "{\"run_id\": \"$id\"}" >bad-run.jsonl &&
    test_expect_code 65 env HT_BIN=$RUNNER_BIN ht-invoke bad-run.jsonl >out 2>err &&
    test ! -s out &&
    test_grep "^ht-invoke: error: bad-run.jsonl:1: run_id: expected a string of " err
  '
done

test_expect_success 'a run_id that is not a string: 65' '
  cd proj &&
  mkrec r "true" "{\"run_id\": 7}" >num-run.jsonl &&
  test_expect_code 65 env HT_BIN=$RUNNER_BIN ht-invoke num-run.jsonl >out 2>err &&
  test ! -s out && test_grep "num-run.jsonl:1: run_id: " err
'

test_expect_success 'an empty plan: 65, named, whether a file, blank lines or stdin' '
  cd proj && : >empty.jsonl && printf "\n  \n\n" >blank.jsonl &&
  test_expect_code 65 ht-invoke empty.jsonl >out 2>err &&
  test ! -s out && test_grep "^ht-invoke: error: empty.jsonl: no tests: the plan is empty$" err &&
  test_expect_code 65 ht-invoke blank.jsonl >out 2>err && test ! -s out &&
  test_expect_code 65 ht-invoke /dev/null 2>err &&
  test_expect_code 65 ht-invoke - </dev/null 2>err &&
  test_grep "^ht-invoke: error: stdin: no tests: the plan is empty$" err
'

test_expect_success 'ht-plan | ht-invoke fails when ht-plan found nothing' '
  mkdir -p none && cd none &&
  echo "{\"runner\": {\"tests\": [\"t/*.sh\"], \"run\": \"sh {file}\"}}" >hypertest.json &&
  { ht-plan 2>plan-err; echo $? >plan-rc; } | ht-invoke >out 2>err; rc=$? &&
  test "$rc" = 65 && test "$(cat plan-rc)" = 66 && test ! -s out &&
  test_grep "no tests: the plan is empty" err
'

test_done
