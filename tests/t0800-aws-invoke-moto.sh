#!/bin/sh
# ht-invoke with the aws provider against moto_server with signature
# checking on: GetFunctionConfiguration, Invoke (moto's docker-less Lambda
# answers queued results), the run summary uploaded to S3, and the errors
# at open: a missing function, a wrong region, refused credentials, a
# missing bucket.
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/ht-awsprov-lib.sh"

test_need moto_server
have ht-aws-probe || test_skip_all 'ht-aws-probe is not built'
awsprov_moto || test_skip_all 'moto_server does not start'

# What every run here uses; the endpoint comes from AWS_ENDPOINT_URL.
mkdir proj && cd proj || exit 1
echo '{"provider":"aws","aws":{"function":"fn","bucket":"bkt"},"timeout_s":5}' >hypertest.json
result() { # ID STATUS: a runner's answer
  jq -cn --arg id "$1" --arg st "$2" '{schema:"ht.result/1",run_id:"run-aws",test_id:$id,
    status:$st,ok:($st=="passed"),duration_ms:7,exit_code:(if $st=="passed" then 0 else 1 end),
    signal:null,message:(if $st=="passed" then "" else "exit code 1" end)}'
}

test_expect_success 'setup: an Image function with a 30 s timeout, a bucket' '
  awsprov_function fn 30 &&
  ht-aws-probe s3-mb bkt
'

test_expect_success 'a run through Lambda (moto): results, and the summary in the bucket' '
  awsprov_plan 3 >plan.jsonl &&
  awsprov_queue "$(result t0 passed)" "$(result t1 failed)" "$(result t2 passed)" &&
  test_expect_code 1 ht-invoke -v -j 1 plan.jsonl >out.jsonl 2>err &&
  test "$(wc -l <out.jsonl)" = 3 &&
  test_jq -s "map(.status) == [\"passed\",\"failed\",\"passed\"]" out.jsonl &&
  test_jq -s "all(.[]; .attempt == 1 and (.invoke_ms | type) == \"number\" and .name != null)" out.jsonl &&
  test_grep "run summary: s3://bkt/run-aws/hypertest.results.json" err &&
  ht-aws-probe s3-get bkt run-aws/hypertest.results.json >summary.json &&
  test_jq ".schema == \"ht.summary/1\" and .run_id == \"run-aws\" and .provider == \"aws\"" summary.json &&
  test_jq ".total == 3 and .counts.passed == 2 and .counts.failed == 1 and .ok == false" summary.json &&
  test_jq "(.results | map(.test_id)) == [\"t0\",\"t1\",\"t2\"]" summary.json &&
  test_jq ".duration_ms >= 0 and (.started_at | test(\"Z$\")) and (.finished_at | test(\"Z$\"))" summary.json &&
  # What ran the tests: the function, its region, and (an Image function)
  # the image digest Lambda reports as its CodeSha256.
  test_jq ".function == \"fn\" and .region == \"us-east-1\" and (.image.digest | test(\"^sha256:[0-9a-f]{64}$\"))" summary.json &&
  jq -c ".results[]" summary.json >from-bucket.jsonl && test_cmp out.jsonl from-bucket.jsonl
'

test_expect_success 'an answer that is not a result record is an infrastructure error, retried' '
  awsprov_plan 1 >plan1.jsonl &&
  awsprov_queue "not json" "{\"also\":\"not a result\"}" "$(result t0 passed)" &&
  ht-invoke -q plan1.jsonl >out.jsonl &&
  test_jq ".status == \"passed\" and .attempt == 3" out.jsonl &&
  test_jq "[.attempts[] | .infra] == [true, true, null]" out.jsonl
'

test_expect_success 'a function that does not exist: 66, named with its region' '
  test_must_fail 66 ht-invoke --set aws.function=nope plan.jsonl >out.jsonl 2>err &&
  test_grep "function .nope. does not exist in region us-east-1" err &&
  test_grep "ResourceNotFoundException" err &&
  test ! -s out.jsonl
'

test_expect_success 'a wrong region: the function is not found there, and the message says which region' '
  test_must_fail 66 ht-invoke --set aws.region=eu-west-1 plan.jsonl >out.jsonl 2>err &&
  test_grep "function .fn. does not exist in region eu-west-1" err &&
  test_grep "aws.region" err
'

test_expect_success 'a wrong secret is refused: 77, nothing invoked' '
  AWS_SECRET_ACCESS_KEY=wrong test_must_fail 77 ht-invoke plan.jsonl >out.jsonl 2>err &&
  test_grep "SignatureDoesNotMatch" err &&
  test_grep "check the credentials" err &&
  ! grep -F "$AWS_SECRET_ACCESS_KEY" err &&
  test ! -s out.jsonl
'

test_expect_success 'expired (revoked) keys are refused: 77 with a clear message' '
  awsprov_iam "Action=CreateAccessKey&UserName=ht" >old.xml &&
  old_id=$(awsprov_xml AccessKeyId old.xml) && old_secret=$(awsprov_xml SecretAccessKey old.xml) &&
  awsprov_iam "Action=DeleteAccessKey&UserName=ht&AccessKeyId=$old_id" >/dev/null &&
  AWS_ACCESS_KEY_ID=$old_id AWS_SECRET_ACCESS_KEY=$old_secret test_must_fail 77 ht-invoke plan.jsonl >out.jsonl 2>err &&
  test_grep "InvalidClientTokenId\|UnrecognizedClient" err &&
  test_grep "they came from the environment" err
'

test_expect_success 'no credentials at all: 77' '
  (unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY && test_must_fail 77 ht-invoke plan.jsonl 2>err) &&
  test_grep "no AWS credentials\|credentials" err
'

test_expect_success 'a missing bucket: the upload fails with a warning, the results and exit code stand' '
  awsprov_queue "$(result t0 passed)" "$(result t1 passed)" "$(result t2 passed)" &&
  ht-invoke -j 1 --set aws.bucket=no-such-bucket plan.jsonl >out.jsonl 2>err &&
  test "$(wc -l <out.jsonl)" = 3 && test_jq ".ok" out.jsonl &&
  test_grep "warning: cannot upload the run summary to s3://no-such-bucket/run-aws/hypertest.results.json" err &&
  test_grep "NoSuchBucket" err
'

test_expect_success 'aws.function unset: a configuration error naming the key' '
  echo "{\"provider\":\"aws\",\"aws\":{\"bucket\":\"bkt\"}}" >nofn.json &&
  test_must_fail 78 ht-invoke -c nofn.json plan.jsonl 2>err &&
  test_grep "aws.function" err
'

test_done
