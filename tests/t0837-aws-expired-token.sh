#!/bin/sh
# A session token that expires during a run: the aws provider resolves the
# credentials again (a profile the user's tooling refreshed on disk) and
# goes on with the new ones; when they are the same, or expired too, the
# run's remaining tests end with a credentials error (not infrastructure
# retries) and ht-invoke exits 77. Lambda and S3 are moto behind the
# stand-in, which expires the tokens it is told to and plays the tooling
# that rewrites the credentials file (tests/helpers/ht-aws-standin.py).
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/awsdeploy-lib.sh"
. "$HT_SRC/tests/helpers/ht-awsprov-lib.sh"

mkdir proj && cd proj || exit 1
# drift off: the stand-in counts requests, and the stale-image check (t0743)
# would add a GetFunction before the first Invoke.
echo '{"provider":"aws","aws":{"function":"fn","bucket":"bkt"},"timeout_s":5,"drift":"ignore"}' >hypertest.json
result() { # ID: a runner's passing answer
  jq -cn --arg id "$1" '{schema:"ht.result/1",run_id:"run-aws",test_id:$id,status:"passed",ok:true,
    duration_ms:7,exit_code:0,signal:null,message:""}'
}
queue4() { awsprov_queue "$(result t0)" "$(result t1)" "$(result t2)" "$(result t3)"; }
# session NAME: temporary credentials of the role "fnrole" (moto checks their
# token), as a shared credentials file $TRASH/NAME.ini; NAME's token in
# $TRASH/NAME.token.
session() {
  AWS_ACCESS_KEY_ID=$KEY_ID AWS_SECRET_ACCESS_KEY=$SECRET AWS_SHARED_CREDENTIALS_FILE=/dev/null \
    ht-aws-probe sts-assume-role arn:aws:iam::123456789012:role/fnrole >"$TRASH/$1.env" &&
  sed -n "s/^AWS_SESSION_TOKEN=//p" "$TRASH/$1.env" >"$TRASH/$1.token" &&
  test -s "$TRASH/$1.token" &&
  sed -n "1i [default]
s/^AWS_ACCESS_KEY_ID=/aws_access_key_id = /p
s/^AWS_SECRET_ACCESS_KEY=/aws_secret_access_key = /p
s/^AWS_SESSION_TOKEN=/aws_session_token = /p" "$TRASH/$1.env" >"$TRASH/$1.ini"
}
tok() { cat "$TRASH/$1.token"; }
# use NAME: NAME's credentials are the profile's now.
use() { cp "$TRASH/$1.ini" "$TRASH/credentials"; }
# expire "A B" [AFTER [NEW]]: the stand-in expires these sessions' tokens
# (after AFTER requests), and rotates the credentials file to NEW's.
expire() {
  _t=$(for _n in $1; do tok $_n; done | jq -R . | jq -sc .)
  _r=
  [ -z "${3:-}" ] || _r=",\"rotate\":{\"file\":\"$TRASH/credentials\",\"with\":\"$TRASH/$3.ini\"}"
  standin tokens "{\"expired\":$_t,\"after\":${2:-0}$_r}"
}
# invokes NAME STATUS: the Invoke calls the stand-in answered so with
# NAME's token.
invokes() { grep -cxF "POST /2015-03-31/functions/fn/invocations - $2 $(tok $1)" "$STANDIN_LOG"; }
# sent NAME STATUS METHOD PATH: such a call was answered so with NAME's token.
sent() { grep -qxF "$3 $4 - $2 $(tok $1)" "$STANDIN_LOG"; }

KEY_ID=$AWS_ACCESS_KEY_ID SECRET=$AWS_SECRET_ACCESS_KEY
# iam QUERY: a signed IAM call with the user's keys.
iam() {
  printf "%s&Version=2010-05-08" "$1" >"$TRASH/iam.body" &&
  ht-aws-probe -H "Content-Type: application/x-www-form-urlencoded" call iam POST / "$TRASH/iam.body" >/dev/null
}
# url_json JSON: JSON, form-encoded.
url_json() { python3 -c "import sys,urllib.parse as u; print(u.quote_plus(sys.argv[1]))" "$1"; }

test_expect_success 'setup: an Image function, a bucket, a role to assume, seven sessions' '
  curl -sf -X POST "$MOTO_URL/moto-api/config" -d "{\"lambda\":{\"use_docker\":false}}" >/dev/null &&
  awsprov_function fn 30 && ht-aws-probe s3-mb bkt &&
  iam "Action=PutRolePolicy&RoleName=fnrole&PolicyName=all&PolicyDocument=$(url_json "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}")" &&
  session s1 && session s2 && session s3 && session s4 && session s5 && session s6 && session s7 &&
  test "$(tok s1)" != "$(tok s2)" &&
  awsprov_plan 4 >plan.jsonl
'
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
export AWS_SHARED_CREDENTIALS_FILE="$TRASH/credentials"

test_expect_success 'expired in the middle, renewed on disk: the run goes on with the new session' '
  use s1 && queue4 &&
  expire s1 2 s2 &&
  ht-invoke -v -j 1 plan.jsonl >out.jsonl 2>err &&
  test_jq -s "length == 4 and all(.[]; .status == \"passed\" and .attempt == 1)" out.jsonl &&
  test_grep "warning: lambda: the credentials expired (ExpiredTokenException); going on with the new ones from the credentials file" err &&
  test "$(invokes s1 200)" = 1 && test "$(invokes s1 403)" = 1 && test "$(invokes s2 200)" = 3 &&
  test_grep "run summary: s3://bkt/run-aws/hypertest.results.json" err &&
  sent s2 200 PUT /bkt/run-aws/hypertest.results.json &&
  ! grep -F "$(tok s2)" err
'

test_expect_success 'expired and still the same on disk: the rest fail as credentials, no retries, 77' '
  use s3 && queue4 && : >"$STANDIN_LOG" &&
  expire s3 2 &&
  test_must_fail 77 ht-invoke -j 1 --infra-retries 3 plan.jsonl >out.jsonl 2>err &&
  test_jq -s "length == 4 and (map(.status) | sort) == [\"error\",\"error\",\"error\",\"passed\"]" out.jsonl &&
  jq -c "select(.status == \"error\")" out.jsonl >errors.jsonl &&
  test_jq ".error.code == \"credentials\" and .attempt == 1 and (.attempts | length) == 1 and (.attempts[0].infra | not)" errors.jsonl &&
  test_jq ".message | test(\"the credentials expired \\\\(ExpiredTokenException\\\\), and the credentials file still has the same ones: renew them\")" errors.jsonl &&
  test "$(invokes s3 403)" = 1 && test "$(invokes s3 200)" = 1 &&
  test "$(grep -c "error: lambda: the credentials expired" err)" = 1 &&
  test_grep "warning: cannot upload the run summary" err
'

test_expect_success 'renewed to a session that is expired too: a clear error, 77' '
  use s4 && queue4 && : >"$STANDIN_LOG" &&
  expire "s4 s5" 2 s5 &&
  test_must_fail 77 ht-invoke -j 1 plan.jsonl >out.jsonl 2>err &&
  test_jq -s "[.[] | select(.status == \"error\") | .error.code] == [\"credentials\",\"credentials\",\"credentials\"]" out.jsonl &&
  test_jq -s "all(.[] | select(.status == \"error\"); .message | test(\"the renewed ones from the credentials file are expired too\"))" out.jsonl &&
  test "$(invokes s4 403)" = 1 && test "$(invokes s5 403)" = 1
'

test_expect_success 'expired at open: GetFunctionConfiguration is sent again with the renewed session' '
  use s6 && queue4 && : >"$STANDIN_LOG" &&
  expire s6 0 s7 &&
  ht-invoke -j 1 plan.jsonl >out.jsonl 2>err &&
  test_jq -s "length == 4 and all(.[]; .status == \"passed\")" out.jsonl &&
  sent s6 403 GET /2015-03-31/functions/fn/configuration &&
  sent s7 200 GET /2015-03-31/functions/fn/configuration &&
  test "$(invokes s7 200)" = 4 &&
  standin tokens "{}"
'

test_done
