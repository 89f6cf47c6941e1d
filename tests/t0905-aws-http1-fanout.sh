#!/bin/sh
# The pull queue over an http:// Lambda endpoint (HTTP/1.1, no
# multiplexing: ht-lambda-local, loopback stand-ins): the invocations in
# flight each have their own connection at once, so a short test is
# answered while a long one still runs (libcurl's PIPEWAIT made every new
# call wait for the first connection's first answer).
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/ht-awsprov-lib.sh"

[ -x "$HT_BIN/ht-runner" ] || test_skip_all 'ht-runner is not built'

mkdir proj && cd proj || exit 1
echo '{"provider":"local","local":{"sandbox":"none"},"aws":{"function":"tests"},"timeout_s":20}' >lambda.json
echo '{"provider":"aws","aws":{"function":"tests","region":"us-east-1"},"timeout_s":20,"history":{"enabled":false}}' >hypertest.json
start_lambda_local -c "$TRASH/proj/lambda.json" -j 4 ||
  { echo "Bail out! ht-lambda-local does not start"; exit 1; }
export AWS_ENDPOINT_URL_LAMBDA=$LL_URL AWS_ACCESS_KEY_ID=AKIAEXAMPLETEST00000 AWS_SECRET_ACCESS_KEY=test
unset AWS_SESSION_TOKEN AWS_PROFILE

test_expect_success 'a long test does not hold back the short ones started with it' '
  { awsprov_plan 1 "{\"test_id\":\"slow\",\"run\":{\"shell\":\"sleep 3\"}}" &&
    awsprov_plan 3 "{\"run\":{\"shell\":\"true\"}}"; } >plan.jsonl &&
  ht-invoke -q -j 4 plan.jsonl >out.jsonl 2>err &&
  test_jq -s "length == 4 and all(.[]; .status == \"passed\")" out.jsonl &&
  jq -r "select(.test_id != \"slow\") | .attempts[0] | .answer_ms - .dispatch_ms" out.jsonl >waits &&
  awk "\$1 >= 2000 { bad = 1 } END { exit bad }" waits ||
  { echo "the short tests waited (ms):" >&2; cat waits >&2; exit 1; }
'

test_expect_success 'and they finished first' '
  jq -r .test_id out.jsonl | tail -n 1 >last && echo slow >want && test_cmp want last
'

test_done
