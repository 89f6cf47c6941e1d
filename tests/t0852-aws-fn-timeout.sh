#!/bin/sh
# The function's Timeout from GetFunctionConfiguration, as the aws
# provider takes it: Lambda's are whole seconds from 1 to 900; an answer
# outside them (a stand-in's, a proxy's) is not multiplied into an
# overflow: more than 900 s is 900 s, anything else that is not a
# positive number is Lambda's default of 3 s, with a warning. The client
# waits the function's timeout plus the margin (0 here).
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/ht-awsprov-lib.sh"

mkdir proj && cd proj || exit 1
echo '{"provider":"aws","aws":{"function":"fn","region":"us-east-1"},"timeout_s":1}' >hypertest.json
export AWS_ACCESS_KEY_ID=AKIAEXAMPLE AWS_SECRET_ACCESS_KEY=example-secret HT_AWS_INVOKE_MARGIN_MS=0
awsprov_plan 1 "{\"timeout_s\":1}" >plan.jsonl

# timeout_is JSON MS [WARNED]: with the function's Timeout answered as
# JSON, the run passes with a function timeout (and client timeout) of
# MS ms, and warns naming WARNED (how it reads the value) when given.
timeout_is() {
  rm -f "$TRASH/port"
  ht-fire-standin --function fn --port-file "$TRASH/port" --timeout "$1" 2>"$TRASH/fire.err" &
  _p=$!
  test_cleanup_server $_p
  _i=0
  while [ ! -s "$TRASH/port" ] && [ $_i -lt 200 ]; do sleep 0.05; _i=$((_i + 1)); done
  AWS_ENDPOINT_URL=http://127.0.0.1:$(cat "$TRASH/port") ht-invoke -vv plan.jsonl >out.jsonl 2>err
  _rc=$?
  kill $_p; wait $_p
  test $_rc = 0 && test_jq ".status == \"passed\"" out.jsonl &&
  test_grep "lambda: function fn in us-east-1 at .*, timeout $2 ms (client $2 ms)" err &&
  if [ -n "${3:-}" ]; then
    test_grep "warning: the function 'fn' has a Timeout of $3, not seconds from 1 to 900: taking $(($2 / 1000)) s" err
  else
    ! grep -q "has a Timeout of" err
  fi &&
  ! grep -q "runtime error" err
}

test_expect_success 'a Timeout from 1 to 900 s is taken as it is' '
  timeout_is 1 1000 && timeout_is 900 900000 && timeout_is 30 30000
'

test_expect_success 'a huge Timeout is 900 s: 9e15, 1e300, the largest integers' '
  timeout_is 9e15 900000 9e+15 &&
  timeout_is 1e300 900000 1e+300 &&
  timeout_is 9223372036854775807 900000 9223372036854775807 &&
  timeout_is 9223372036854776 900000 9223372036854776 &&
  timeout_is 901 900000 901
'

test_expect_success 'a Timeout of 0, -1, a string or null is the default of 3 s' '
  timeout_is -1 3000 -1 &&
  timeout_is 0 3000 0 &&
  timeout_is -9223372036854775808 3000 -9223372036854775808 &&
  timeout_is "\"60\"" 3000 "\"60\"" &&
  timeout_is null 3000 null
'

test_done
