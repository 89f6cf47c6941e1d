#!/bin/sh
# Many invocations in flight at once need many descriptors: ht-invoke and
# ht-lambda-local raise their soft limit to the hard one, and ht-invoke
# runs fewer at a time, saying so, when even the hard limit is too low.
# The aws provider against ht-lambda-local as a stand-in for Lambda.
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/ht-awsprov-lib.sh"

[ "$(ulimit -Hn)" = unlimited ] || [ "$(ulimit -Hn)" -ge 2000 ] ||
  test_skip_all "the hard limit on open files is under 2000 ($(ulimit -Hn))"

mkdir proj && cd proj || exit 1
echo '{"provider":"aws","aws":{"function":"fn","region":"us-east-1"},"timeout_s":20}' >hypertest.json
export AWS_ACCESS_KEY_ID=AKIAEXAMPLE AWS_SECRET_ACCESS_KEY=example-secret

test_expect_success '-j takes what the configuration takes, 10000 at most' '
  awsprov_plan 1 >plan.jsonl &&
  test_must_fail 64 ht-invoke -j 10001 plan.jsonl 2>err &&
  test_grep "concurrency: expected a number from 1 to 10000, got .10001." err &&
  test_must_fail 64 ht-lambda-local -j 100000 2>err &&
  test_grep "concurrency: expected a number from 1 to 10000" err
'

# Under a soft limit of 256 descriptors, 600 invocations at once (each held
# 2 s by the stand-in) need the hard limit, on both sides.
test_expect_success 'a soft limit of 256: both raise it, 600 invocations in flight at once' '
  ulimit -Sn 256 &&
  start_lambda_local --function fn --timeout 20 --stand-in --delay-ms 2000 &&
  export AWS_ENDPOINT_URL=$LL_URL &&
  awsprov_plan 600 >plan.jsonl &&
  start=$(date +%s) &&
  ht-invoke -j 600 plan.jsonl >out.jsonl 2>err &&
  test "$(wc -l <out.jsonl)" = 600 &&
  test_jq -s "all(.[]; .status == \"passed\" and .attempt == 1)" out.jsonl &&
  test $(( $(date +%s) - start )) -lt 15 &&
  ! grep "open files" err &&
  stop_lambda_local
'

# A hard limit of 300: at most (300 - 64) / 2 = 118 at a time.
test_expect_success 'a hard limit too low for -j 1000: fewer at a time, said so, all run' '
  start_lambda_local --function fn --timeout 20 --stand-in --delay-ms 200 &&
  export AWS_ENDPOINT_URL=$LL_URL &&
  awsprov_plan 400 >plan.jsonl &&
  (ulimit -n 300 && exec ht-invoke -j 1000 plan.jsonl) >out.jsonl 2>err &&
  test_grep "warning: concurrency 1000 needs about 2064 open files, over the limit of 300 (ulimit -n): running 118 at a time" err &&
  test "$(wc -l <out.jsonl)" = 400 &&
  test_jq -s "all(.[]; .status == \"passed\" and .attempt == 1)" out.jsonl &&
  stop_lambda_local
'

test_done
