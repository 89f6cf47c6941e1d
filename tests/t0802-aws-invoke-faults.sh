#!/bin/sh
# The aws provider under faults, against ht-lambda-local as a stand-in
# for Lambda (answering at once, without running anything): throttling
# storms, function errors, a function that never answers, an event over
# 6 MB, a function that is not there.
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/ht-awsprov-lib.sh"

mkdir proj && cd proj || exit 1
echo '{"provider":"aws","aws":{"function":"fn","region":"us-east-1"},"timeout_s":5}' >hypertest.json
export AWS_ACCESS_KEY_ID=AKIAEXAMPLE AWS_SECRET_ACCESS_KEY=example-secret
# One stand-in per test; each test points ht-invoke at it.
ll() { start_lambda_local --function fn --timeout 10 --stand-in "$@" && export AWS_ENDPOINT_URL=$LL_URL; }
ids_once() { # FILE N: every test id t0..t(N-1) exactly once
  jq -r .test_id "$1" | sort >ids && jq -nr --argjson n "$2" "range(\$n) | \"t\(.)\"" | sort >want && test_cmp want ids
}

test_expect_success 'a throttling storm: concurrency backs off, then recovers; one result per test' '
  ll -v --delay-ms 30 --throttle-first 60 &&
  awsprov_plan 600 >plan.jsonl &&
  ht-invoke -v -j 16 plan.jsonl >out.jsonl 2>err &&
  ids_once out.jsonl 600 &&
  test_jq -s "all(.[]; .status == \"passed\" and .attempt == 1)" out.jsonl &&
  test_grep "throttled (429 TooManyRequestsException): concurrency 16 -> 8" err &&
  test_grep "concurrency 2 -> 1" err &&
  test_grep "concurrency back to 16" err &&
  test_grep "warning: Lambda throttled 60 invocations; concurrency went down to 1 (of 16)" err &&
  stop_lambda_local && test_grep "660 invocations: 60 throttled" "$TRASH/ll.log"
'

test_expect_success 'steady throttling (30%): every test passes, none is lost or doubled' '
  ll --delay-ms 5 --throttle-rate 0.3 --seed 42 &&
  awsprov_plan 150 >plan.jsonl &&
  ht-invoke -j 40 plan.jsonl >out.jsonl 2>err &&
  ids_once out.jsonl 150 &&
  test_jq -s "all(.[]; .status == \"passed\" and .ok)" out.jsonl &&
  test_grep "warning: Lambda throttled [0-9]* invocations" err &&
  stop_lambda_local
'

test_expect_success 'an Unhandled function error is an infrastructure error, retried, never failed' '
  ll --fail-function-error Unhandled &&
  awsprov_plan 2 >plan.jsonl &&
  test_expect_code 1 ht-invoke -q --retries 3 plan.jsonl >out.jsonl &&
  test_jq "all(.attempts[]; .infra == true)" out.jsonl &&
  test_jq ".status == \"error\" and .error.code == \"infra\" and .attempt == 3" out.jsonl &&
  test_jq ".message | test(\"the function failed \\\\(Unhandled\\\\): Injected: \")" out.jsonl &&
  test_jq ".log_tail | test(\"injected failure\")" out.jsonl &&
  stop_lambda_local
'

test_expect_success 'a Handled function error too' '
  ll --fail-function-error Handled &&
  awsprov_plan 1 >plan.jsonl &&
  test_expect_code 1 ht-invoke -q --infra-retries 0 plan.jsonl >out.jsonl &&
  test_jq ".status == \"error\" and .attempt == 1 and (.message | test(\"\\\\(Handled\\\\)\"))" out.jsonl &&
  stop_lambda_local
'

test_expect_success 'function errors on half the invocations: retried until each test passes' '
  ll --fail-function-error Unhandled --fail-rate 0.5 --seed 3 &&
  awsprov_plan 20 >plan.jsonl &&
  ht-invoke -q -j 1 --infra-retries 20 plan.jsonl >out.jsonl &&
  ids_once out.jsonl 20 &&
  test_jq -s "all(.[]; .status == \"passed\") and any(.[]; .attempt > 1)" out.jsonl &&
  stop_lambda_local
'

test_expect_success 'a function that never answers: the client gives up at its timeout + margin' '
  start_lambda_local --function fn --timeout 1 --stand-in --hang-rate 1 && export AWS_ENDPOINT_URL=$LL_URL &&
  awsprov_plan 2 "{\"timeout_s\":1}" >plan.jsonl &&
  start=$(date +%s) &&
  HT_AWS_INVOKE_MARGIN_MS=500 test_expect_code 1 ht-invoke -q --infra-retries 1 plan.jsonl >out.jsonl &&
  end=$(date +%s) && test $((end - start)) -lt 10 &&
  test_jq ".status == \"error\" and .attempt == 2 and all(.attempts[]; .infra)" out.jsonl &&
  test_jq ".message | test(\"no answer from Lambda within 1.5 s \\\\(the function.s timeout of 1.0 s and a margin\\\\)\")" out.jsonl &&
  test_jq "all(.attempts[]; .duration_ms >= 1400 and .duration_ms < 4000)" out.jsonl &&
  stop_lambda_local
'

test_expect_success 'an event over 6 MB is refused before sending; the other tests run' '
  ll -v &&
  awsprov_plan 1 >plan.jsonl &&
  head -c 7000000 /dev/zero | tr "\\0" x >big.txt &&
  jq -c --rawfile b big.txt ".test_id = \"big\" | .name = \"tests/big.sh\" | .run.env = {BIG: \$b}" plan.jsonl >bigrec.jsonl &&
  cat bigrec.jsonl >>plan.jsonl &&
  test_expect_code 1 ht-invoke plan.jsonl >out.jsonl 2>err &&
  test "$(wc -l <out.jsonl)" = 2 &&
  jq -c "select(.test_id == \"big\")" out.jsonl >big.json &&
  test_jq ".status == \"error\" and .error.code == \"payload_too_large\" and .attempt == 1" big.json &&
  test_jq ".message | test(\"over the aws provider.s limit of 6291456 bytes; it was not sent\")" big.json &&
  test_grep "error: tests/big.sh: the event is 70002[0-9]* bytes" err &&
  test_jq "select(.test_id == \"t0\") | .status == \"passed\"" out.jsonl &&
  stop_lambda_local && test_grep "^ht-lambda-local: 1 invocations" "$TRASH/ll.log"
'

test_expect_success 'ht-lambda-local refuses an Invoke over 6 MB itself (413)' '
  ll &&
  head -c 6291457 /dev/zero | tr "\\0" x >big.json &&
  curl -s -D hdr -o resp -w "%{http_code}" -X POST --data-binary @big.json "$LL_URL/2015-03-31/functions/fn/invocations" >code &&
  printf 413 >want && test_cmp want code && test_grep "x-amzn-ErrorType: RequestEntityTooLargeException" hdr &&
  test_jq ".message | test(\"smaller than 6291456 bytes\")" resp &&
  stop_lambda_local
'

test_expect_success 'a function the endpoint does not have: 66, naming the function and the region' '
  ll &&
  test_must_fail 66 ht-invoke --set aws.function=other plan.jsonl >out.jsonl 2>err &&
  test_grep "function .other. does not exist in region us-east-1" err &&
  stop_lambda_local
'

test_expect_success 'Lambda unreachable at open: 69, naming the endpoint' '
  port=$(free_port) &&
  AWS_ENDPOINT_URL=http://127.0.0.1:$port test_must_fail 69 ht-invoke plan.jsonl 2>err &&
  test_grep "cannot reach Lambda at http://127.0.0.1:$port" err
'

test_expect_success 'Lambda gone in the middle of a run: infrastructure errors with the reason, no test lost' '
  ll --delay-ms 1500 &&
  awsprov_plan 4 >plan.jsonl && {
    (ht-invoke -q -j 4 --infra-retries 0 plan.jsonl >out.jsonl; echo $? >rc) &
    sleep 1 && kill -9 $LL_PID && wait
  } &&
  echo 1 >want && test_cmp want rc &&
  ids_once out.jsonl 4 &&
  test_jq -s "all(.[]; .status == \"error\" and .error.code == \"infra\" and (.message | test(\"lambda: cannot invoke: \")))" out.jsonl
'

test_done
