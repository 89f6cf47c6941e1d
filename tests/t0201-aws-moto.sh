#!/bin/sh
# SigV4 signing by libht (through libcurl) against moto_server with
# signature checking on: S3, Lambda, ECR, STS session tokens, wrong secrets,
# and no secret in any log line.
. "$HT_SRC/tests/lib.sh"

test_need jq python3 curl moto_server
have ht-aws-probe || test_skip_all 'ht-aws-probe is not built'
# The first three actions need no signature: they create our IAM user,
# its access key and its policy (moto checks IAM permissions).
start_moto 3 || test_skip_all 'moto_server does not start'

export AWS_REGION=us-east-1 AWS_ENDPOINT_URL=$MOTO_URL
probe() { ht-aws-probe "$@"; }
# A form-encoded IAM call, signed with the environment's keys.
iam() {
  printf '%s&Version=2010-05-08' "$1" >iam.body &&
  probe -H 'Content-Type: application/x-www-form-urlencoded' call iam POST / iam.body
}
# The same while auth is off, when any key does.
iam_boot() { AWS_ACCESS_KEY_ID=AKIDBOOTSTRAP AWS_SECRET_ACCESS_KEY=bootstrap iam "$@"; }
xml() { sed -n "s/.*<$1>\([^<]*\)<\/$1>.*/\1/p" "$2"; }
# moto re-encodes a form body the way Python's urlencode does before it
# checks the signature, so the bodies here are encoded the same way.
allow_all=$(python3 -c 'import json,urllib.parse as u; print(u.quote_plus(json.dumps({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]})))')
trust=$(python3 -c 'import json,urllib.parse as u; print(u.quote_plus(json.dumps({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]})))')

test_expect_success 'an IAM user with an access key and a policy' '
  iam_boot "Action=CreateUser&UserName=ht" >out &&
  test_grep "<UserName>ht</UserName>" out &&
  iam_boot "Action=CreateAccessKey&UserName=ht" >key &&
  iam_boot "Action=PutUserPolicy&UserName=ht&PolicyName=all&PolicyDocument=$allow_all" >out &&
  xml AccessKeyId key >id && xml SecretAccessKey key >secret &&
  test -s id && test -s secret
'
AWS_ACCESS_KEY_ID=$(cat id 2>/dev/null) AWS_SECRET_ACCESS_KEY=$(cat secret 2>/dev/null)
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY

test_expect_success 'signing is checked now: a wrong secret is refused with 77' '
  AWS_SECRET_ACCESS_KEY=wrong$AWS_SECRET_ACCESS_KEY test_must_fail 77 probe s3-mb nope 2>err &&
  test_grep "403 SignatureDoesNotMatch" err &&
  test_grep "they came from the environment" err
'

test_expect_success 'an unknown access key is refused with 77' '
  AWS_ACCESS_KEY_ID=AKIAUNKNOWNKEY000000 test_must_fail 77 probe s3-mb nope 2>err &&
  test_grep "InvalidAccessKeyId\|InvalidClientTokenId\|403" err
'

test_expect_success 'S3: create a bucket, put, get, list' '
  probe s3-mb bkt &&
  printf "hello world\n" >hello.txt &&
  probe s3-put bkt runs/r1/hello.txt hello.txt &&
  probe s3-put-data bkt "logs a b" "some text" &&
  probe s3-get bkt runs/r1/hello.txt >got &&
  test_cmp hello.txt got &&
  probe s3-list bkt >list &&
  printf "logs a b\t9\nruns/r1/hello.txt\t12\n" >want &&
  test_cmp want list
'

test_expect_success 'S3: a streamed upload of 3 MiB round-trips' '
  head -c 3145728 /dev/urandom >big &&
  probe s3-put bkt big big &&
  probe s3-get bkt big >big.got &&
  cmp big big.got
'

test_expect_success 'S3: the query is sorted and encoded (prefix with a space)' '
  probe -vv s3-list bkt "logs a" >list 2>err &&
  printf "logs a b\t9\n" >want && test_cmp want list &&
  test_grep "?list-type=2&prefix=logs%20a:" err
'

test_expect_success 'S3: a missing key is 66 with NoSuchKey' '
  test_must_fail 66 probe s3-get bkt nope 2>err &&
  test_grep "404 NoSuchKey" err
'

test_expect_success 'S3: a wrong secret is refused on GET too' '
  AWS_SECRET_ACCESS_KEY=x test_must_fail 77 probe s3-get bkt runs/r1/hello.txt 2>err &&
  test_grep SignatureDoesNotMatch err
'

test_expect_success 'Lambda: create a function (zip, no docker)' '
  curl -sf -X POST "$MOTO_URL/moto-api/config" -d "{\"lambda\":{\"use_docker\":false}}" >/dev/null &&
  iam "Action=CreateRole&RoleName=fnrole&AssumeRolePolicyDocument=$trust" >role &&
  python3 -c "
import zipfile, io, base64, json
b = io.BytesIO(); z = zipfile.ZipFile(b, \"w\"); z.writestr(\"f.py\", \"def h(e, c): return 1\n\"); z.close()
print(json.dumps({\"FunctionName\": \"fn1\", \"Runtime\": \"python3.11\", \"Handler\": \"f.h\",
  \"Role\": \"arn:aws:iam::123456789012:role/fnrole\",
  \"Code\": {\"ZipFile\": base64.b64encode(b.getvalue()).decode()}}))" >fn.json &&
  probe -H "Content-Type: application/json" call lambda POST /2015-03-31/functions fn.json >out &&
  head -n 1 out >status && echo 201 >want && test_cmp want status
'

# moto 5 checks a GET of the Lambda API against a payload made of the
# request headers when the request has neither query nor body (boto3 fails
# the same way), so GetFunction is signed here with a "{}" JSON body, which
# moto hashes as libcurl does. ht_lambda_get_function() sends no body (as AWS
# wants); its error path is checked below.
test_expect_success 'Lambda: GetFunction signed by libht is accepted' '
  echo "{}" >empty.json &&
  probe -H "Content-Type: application/json" call lambda GET /2015-03-31/functions/fn1 empty.json >out &&
  head -n 1 out >status && echo 200 >want && test_cmp want status &&
  sed -n 2p out >fn.json && test_jq ".Configuration.FunctionName == \"fn1\"" fn.json
'

test_expect_success 'Lambda: GetFunction with a wrong secret is refused' '
  AWS_SECRET_ACCESS_KEY=bad test_must_fail 77 probe -H "Content-Type: application/json" \
    call lambda GET /2015-03-31/functions/fn1 empty.json >out 2>err &&
  test_grep SignatureDoesNotMatch err
'

test_expect_success 'Lambda: Invoke (what ht-invoke sends) is accepted' '
  printf "{\"test\":\"t/a.sh\"}" >payload.json &&
  probe -H "Content-Type: application/json" call lambda POST /2015-03-31/functions/fn1/invocations payload.json >out &&
  head -n 1 out >status && echo 200 >want && test_cmp want status
'

test_expect_success 'ECR: GetAuthorizationToken' '
  probe ecr-auth >out 2>err &&
  test_grep "^username=AWS$" out &&
  test_grep "^endpoint=https://.*dkr.ecr.us-east-1" out &&
  test_grep "^password_length=[1-9]" out
'

test_expect_success 'ECR: a wrong secret is refused' '
  AWS_SECRET_ACCESS_KEY=bad test_must_fail 77 probe ecr-auth 2>err &&
  test_grep SignatureDoesNotMatch err
'

test_expect_success 'STS: temporary credentials with a session token are accepted' '
  iam "Action=PutRolePolicy&RoleName=fnrole&PolicyName=all&PolicyDocument=$allow_all" >out &&
  probe sts-assume-role arn:aws:iam::123456789012:role/fnrole >sts.env &&
  test_grep "^AWS_SESSION_TOKEN=." sts.env &&
  (. ./sts.env && export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN &&
   probe env >env && test_grep "^session_token=yes" env &&
   probe s3-list bkt >list) &&
  test_grep hello.txt list
'

test_expect_success 'STS: a tampered session token is refused' '
  (. ./sts.env && export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY &&
   AWS_SESSION_TOKEN=${AWS_SESSION_TOKEN}x test_must_fail 77 probe s3-list bkt 2>err) &&
  test_grep "400 InvalidToken\|403" err
'

test_expect_success 'STS: temporary keys without their token are refused' '
  (. ./sts.env && export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY &&
   test_must_fail 77 probe s3-list bkt 2>err) &&
  test_grep "403" err
'

test_expect_success 'no secret or token in debug output or errors' '
  (. ./sts.env && export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN &&
   probe -vv s3-list bkt >/dev/null 2>log1 &&
   AWS_SESSION_TOKEN=${AWS_SESSION_TOKEN}x test_must_fail probe -vv s3-get bkt x 2>log2 &&
   ! grep -F "$AWS_SECRET_ACCESS_KEY" log1 log2 &&
   ! grep -F "$AWS_SESSION_TOKEN" log1 log2) &&
  probe -vv s3-get bkt runs/r1/hello.txt >/dev/null 2>log3 &&
  AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY}Z test_must_fail probe -vv ecr-auth 2>log4 &&
  test_grep "http: GET" log3 &&
  ! grep -F "$AWS_SECRET_ACCESS_KEY" log3 log4 &&
  ! grep -F "$(cat secret)" log3 log4
'

test_done
