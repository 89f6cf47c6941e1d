#!/bin/sh
# ht-invoke on the aws provider stopped by SIGINT or SIGTERM while
# invocations are in flight against a stand-in that never answers half of
# them (after 1.5 s all six slots hold one of those): the provider closes with calls on the wire (each freed once: the
# sanitizer build checks), the finished results are kept, the rest are
# interrupted, and ht-invoke dies of the signal (the shell sees 128 + N).
# The state close once freed twice (answers still
# in the multi handle) is set up in tests/unit/test-aws.c.
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/ht-awsprov-lib.sh"

mkdir proj && cd proj || exit 1
echo '{"provider":"aws","aws":{"function":"fn","region":"us-east-1"},"timeout_s":5}' >hypertest.json
export AWS_ACCESS_KEY_ID=AKIAEXAMPLE AWS_SECRET_ACCESS_KEY=example-secret

for sig in INT:130 TERM:143; do
want=${sig#*:} sig=${sig%:*}
test_expect_success "SIG$sig with calls on the wire: results kept, the rest interrupted, death by SIG$sig" '
  start_lambda_local --function fn --timeout 30 --stand-in --hang-rate 0.5 --seed 7 &&
  export AWS_ENDPOINT_URL=$LL_URL &&
  awsprov_plan 12 >plan.jsonl &&
  { ht-invoke -j 6 -o res.jsonl plan.jsonl 2>err & pid=$!; } &&
  sleep 1.5 &&
  kill -'$sig' $pid && { wait $pid; echo $? >rc; } &&
  echo '$want' >want && test_cmp want rc &&
  test "$(wc -l <res.jsonl)" = 12 &&
  test_jq -s "map(.test_id) | sort == ([range(12)] | map(\"t\(.)\") | sort)" res.jsonl &&
  test_jq -s "all(.[]; .status == \"passed\" or .status == \"interrupted\")" res.jsonl &&
  test_jq -s "any(.[]; .status == \"passed\") and any(.[]; .status == \"interrupted\")" res.jsonl &&
  test_grep "interrupted by" err &&
  ! grep -q "Sanitizer\|runtime error" err &&
  stop_lambda_local
'
done

test_done
