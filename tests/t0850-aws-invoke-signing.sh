#!/bin/sh
# The aws provider signs each Invoke itself (providers/aws/sigv4.c: a key
# kept per day, region and secret; header lines kept per invocation):
# moto_server checks every signature. Many invocations at once over
# reused connections and handles, the function named by its ARN (its
# path signed as it is sent, escapes and all), temporary credentials
# with a session token, and a second region in the same moto.
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/ht-awsprov-lib.sh"

test_need moto_server
have ht-aws-probe || test_skip_all 'ht-aws-probe is not built'
awsprov_moto || test_skip_all 'moto_server does not start'

mkdir proj && cd proj || exit 1
echo '{"provider":"aws","aws":{"function":"fn"},"timeout_s":5}' >hypertest.json
# queue N [REGION]: N passing answers for moto's docker-less Invoke.
queue() {
  jq -cn --argjson n "$1" --arg r "${2:-us-east-1}" '{region:$r,results:[range($n) |
    {schema:"ht.result/1",run_id:"run-aws",test_id:"t\(.)",status:"passed",ok:true,duration_ms:7,
     exit_code:0,signal:null,message:""} | tojson]}' >"$TRASH/queue.json" &&
  curl -sf -X POST "$MOTO_URL/moto-api/static/lambda-simple/response" -d @"$TRASH/queue.json" >/dev/null
}

test_expect_success 'setup: an Image function' '
  awsprov_function fn 30
'

test_expect_success '60 invocations, 12 at a time: every signature is accepted' '
  awsprov_plan 60 >plan.jsonl &&
  queue 60 &&
  ht-invoke -q -j 12 plan.jsonl >out.jsonl 2>err &&
  test "$(wc -l <out.jsonl)" = 60 &&
  test_jq "(.status == \"passed\") and .attempt == 1 and (.attempts | length) == 1" out.jsonl
'

test_expect_success 'the function named by its ARN: a path with escapes is signed as sent' '
  awsprov_plan 3 >plan3.jsonl &&
  queue 3 &&
  ht-invoke -q --set aws.function=arn:aws:lambda:us-east-1:123456789012:function:fn plan3.jsonl >out.jsonl 2>err &&
  test_jq ".status == \"passed\" and .attempt == 1" out.jsonl
'

test_expect_success 'temporary credentials: the session token is signed and sent' '
  awsprov_iam "Action=PutRolePolicy&RoleName=fnrole&PolicyName=all&PolicyDocument=$_allow" >/dev/null &&
  ht-aws-probe sts-assume-role arn:aws:iam::123456789012:role/fnrole >session.env &&
  grep -q "^AWS_SESSION_TOKEN=." session.env &&
  awsprov_plan 4 >plan4.jsonl &&
  queue 4 &&
  (eval "export $(sed -n "s/^\(AWS_[A-Z_]*=[^ ]*\)$/\1/p" session.env | tr "\n" " ")" &&
   ht-invoke -q -j 2 plan4.jsonl >out4.jsonl 2>err4) &&
  test "$(wc -l <out4.jsonl)" = 4 &&
  test_jq ".status == \"passed\" and .attempt == 1" out4.jsonl
'

test_expect_success 'a wrong secret: Invoke is refused, not signed as if right' '
  # GetFunctionConfiguration (libcurl signs it) is not what is checked
  # here: moto lets the first calls of a new key through unchecked only
  # at start, so both are refused; the message names the signature.
  AWS_SECRET_ACCESS_KEY=wrong test_must_fail 77 ht-invoke -q plan3.jsonl >out.jsonl 2>err &&
  test_grep "SignatureDoesNotMatch" err
'

test_expect_success 'another region in the same moto: its own key' '
  AWS_REGION=eu-west-1 awsprov_function fn 30 &&
  awsprov_plan 3 >plan3.jsonl &&
  queue 3 eu-west-1 &&
  ht-invoke -q --set aws.region=eu-west-1 plan3.jsonl >out.jsonl 2>err &&
  test_jq ".status == \"passed\" and .attempt == 1" out.jsonl
'

test_done
