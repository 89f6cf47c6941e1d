#!/bin/sh
# Batches with the playwright plugin: one Playwright run (one --test-list,
# one worker, one browser start) for several tests, still one record per
# test with its own test_id; a failure inside a batch is its test's alone.
. "$HT_SRC/tests/lib.sh"
test_need jq
need_playwright
[ -x /usr/bin/chromium ] || test_skip_all "no /usr/bin/chromium: install Debian's chromium (scripts/install-deps)"

mkdir ex && (cd "$PW_EXAMPLE" && tar --exclude=./node_modules --exclude=./.hypertest --exclude=./test-results -cf - .) | tar -C ex -xf - &&
pw_node_modules ex || exit 1
cd ex
sel='^\[desktop\] › counter\.spec\.js'

test_expect_success 'the counter tests, alone and packed: the same test ids' '
  ht-plan --grep "$sel" --set batch_target_ms=0 >alone.jsonl &&
  n=$(wc -l <alone.jsonl) && test "$n" -ge 3 &&
  ht-plan --grep "$sel" --set batch_target_ms=600000 --set batch_max_tests=50 --set concurrency=1 >plan.jsonl &&
  test_jq -s "length == 1 and (.[0].batch | length) == $n" plan.jsonl &&
  jq -r .test_id alone.jsonl | sort >ids.alone &&
  jq -r ".batch[].test_id" plan.jsonl | sort >ids.batch && test_cmp ids.alone ids.batch
'

test_expect_success 'one Playwright run for the batch, one record per test' '
  ht-invoke --set concurrency=1 plan.jsonl >res.jsonl 2>err &&
  jq -r .test_id res.jsonl | sort >ids.res && test_cmp ids.alone ids.res &&
  test_jq -s "all(.status == \"passed\") and (map(.group_test_id) | unique | length) == 1" res.jsonl &&
  b=$(jq -r .test_id plan.jsonl) && run=$(jq -r .run_id plan.jsonl) &&
  grep -c "using 1 worker" ".hypertest/bucket/$run/$b/stdout.txt" >runs && test "$(cat runs)" = 1
'

test_expect_success 'a failure inside a batch is its own test'\''s' '
  ht-plan --grep "^\[desktop\] .*(counter\.spec\.js|fails on purpose)" --set runner.env.EXAMPLE_FAIL=1 \
    --set batch_target_ms=600000 --set batch_max_tests=50 --set concurrency=1 >plan2.jsonl &&
  test_jq -s "length == 1" plan2.jsonl &&
  test_expect_code 1 ht-invoke --set concurrency=1 --set runner.env.EXAMPLE_FAIL=1 plan2.jsonl >res2.jsonl 2>err &&
  test_jq -s "(map(select(.status == \"failed\")) | length) == 1 and
    (map(select(.status == \"failed\"))[0].name | contains(\"fails on purpose\")) and
    (map(select(.status == \"passed\")) | length) == (length - 1)" res2.jsonl
'

test_done
