#!/bin/sh
# A whole run through the aws provider with every endpoint on loopback:
# Invoke goes to ht-lambda-local, which runs the real ht-runner in
# sandboxes of the local provider; the run summary goes to S3 on moto.
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/ht-awsprov-lib.sh"

[ -x "$HT_BIN/ht-runner" ] || test_skip_all 'ht-runner is not built'
test_need moto_server
have ht-aws-probe || test_skip_all 'ht-aws-probe is not built'
awsprov_moto || test_skip_all 'moto_server does not start'

mkdir proj && cd proj || exit 1
# The function's side: the local provider's configuration.
echo '{"provider":"local","local":{"sandbox":"none"},"aws":{"function":"tests"},"timeout_s":20}' >lambda.json
# ht-invoke's side: every endpoint on loopback.
echo '{"provider":"aws","aws":{"function":"tests","bucket":"bkt"},"timeout_s":20}' >hypertest.json

start_lambda_local -c "$TRASH/proj/lambda.json" -j 4 ||
  { echo "Bail out! ht-lambda-local does not start"; exit 1; }

test_expect_success 'setup: a bucket on moto; ht-lambda-local said where it listens' '
  ht-aws-probe s3-mb bkt &&
  test_jq ".schema == \"ht.endpoint/1\" and .url == \"$LL_URL\"" "$TRASH/ll.out"
'
# Invoke through ht-lambda-local, S3 on moto (AWS_ENDPOINT_URL).
export AWS_ENDPOINT_URL_LAMBDA=$LL_URL

test_expect_success 'a run: passed, failed, a test that writes output; results and summary' '
  { awsprov_plan 1 "{\"test_id\":\"ok\",\"run\":{\"shell\":\"echo hello; true\"}}" &&
    awsprov_plan 1 "{\"test_id\":\"bad\",\"run\":{\"shell\":\"echo oops >&2; exit 3\"}}" &&
    awsprov_plan 6 "{\"run\":{\"shell\":\"sleep 0.2\"}}"; } >plan.jsonl &&
  test_expect_code 1 ht-invoke -v -j 4 plan.jsonl >out.jsonl 2>err &&
  test "$(wc -l <out.jsonl)" = 8 &&
  test_jq -s "map(select(.status == \"passed\")) | length == 7" out.jsonl &&
  jq -c "select(.test_id == \"bad\")" out.jsonl >bad.json &&
  test_jq ".status == \"failed\" and .exit_code == 3 and (.output_tail | test(\"oops\"))" bad.json &&
  jq -c "select(.test_id == \"ok\")" out.jsonl >ok.json &&
  test_jq "(.output_tail | test(\"hello\")) and (.log_tail | test(\"^START RequestId: \"))" ok.json &&
  test_jq ".log_tail | test(\"REPORT RequestId: .*Duration: \")" ok.json &&
  ht-aws-probe s3-get bkt run-aws/hypertest.results.json >summary.json &&
  test_jq ".total == 8 and .counts.passed == 7 and .counts.failed == 1 and (.results | length) == 8" summary.json
'

test_expect_success 'the runner kept its artifacts in the local bucket (the function side)' '
  test -s .hypertest/bucket/run-aws/bad/stderr.txt &&
  test_grep oops .hypertest/bucket/run-aws/bad/stderr.txt
'

test_expect_success 'a test past its timeout is timed_out (the runner judged it), not an error' '
  awsprov_plan 1 "{\"timeout_s\":1,\"run\":{\"shell\":\"sleep 30\"}}" >slow.jsonl &&
  test_expect_code 1 ht-invoke -q slow.jsonl >out.jsonl &&
  test_jq ".status == \"timed_out\" and .attempt == 1" out.jsonl
'

test_expect_success 'a runner that dies: Lambda says Unhandled, an infrastructure error, retried, never failed' '
  awsprov_plan 1 "{\"run\":{\"shell\":\"kill -9 \$PPID; sleep 5\"}}" >die.jsonl &&
  test_expect_code 1 ht-invoke -q --infra-retries 1 die.jsonl >out.jsonl &&
  test_jq ".status == \"error\" and .error.code == \"infra\" and .attempt == 2" out.jsonl &&
  test_jq "all(.attempts[]; .infra == true)" out.jsonl &&
  test_jq ".message | test(\"the function failed \\\\(Unhandled\\\\)\")" out.jsonl &&
  test_jq ".log_tail | test(\"START RequestId\")" out.jsonl
'

test_expect_success 'ht-lambda-local stops on SIGTERM' '
  stop_lambda_local
'

test_done
