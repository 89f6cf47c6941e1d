#!/bin/sh
# ht-init --aws: the CloudFormation template deploys on moto's
# CloudFormation (signature checking on), in its two steps, and ht-doctor
# against the stack it made passes its checks.
# The one exception, named here rather than hidden: moto's CloudFormation
# does not make the Lambda function as AWS does. Without signature checking
# it makes a Zip function (ignoring PackageType); with it, none at all,
# while the stack says CREATE/UPDATE_COMPLETE. So after step 2 the test
# makes the function the template describes (its name, role, memory,
# timeout, environment) with Lambda's own API, and checks the rest of the
# stack as CloudFormation made it.
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/awsdeploy-lib.sh"
python3 -c 'import boto3' 2>/dev/null || test_skip_all 'boto3 is not installed for python3'

deploy() { python3 "$HT_SRC/tests/helpers/ht-cfn-deploy.py" "$MOTO_URL" "$@"; }
check() { jq -c "select(.check == \"$1\")" checks; }

mkdir -p proj/t && printf 'echo 1..1\necho ok 1 - fine\n' >proj/t/t0001-fine.sh

test_expect_success 'ht-init --aws writes the config and the template; the account comes from STS' '
  (cd proj && ht-init -y --aws --name demo --region us-east-1) 2>err &&
  test_jq ".provider == \"aws\" and .aws.function == \"demo\" and .aws.region == \"us-east-1\"
    and .image.repository == \"123456789012.dkr.ecr.us-east-1.amazonaws.com/demo\"" proj/hypertest.json &&
  test -s proj/hypertest.cfn.yaml &&
  test_grep "wrote ./hypertest.cfn.yaml" err &&
  test_grep "aws cloudformation deploy --stack-name demo --template-file hypertest.cfn.yaml" err &&
  test_grep "ImageUri=\$(jq -r .reference pushed.json)" err &&
  bucket=$(jq -r .aws.bucket proj/hypertest.json) && grep -q "Default: \"$bucket\"" proj/hypertest.cfn.yaml
'

test_expect_success 'files that exist are not overwritten without --force (73)' '
  (cd proj && test_must_fail 73 ht-init -y --aws --name demo --region us-east-1 2>../err) &&
  test_grep "exists: not overwritten" err
'

test_expect_success 'step 1, no image yet: the repository, the bucket, the role, the policy; no function' '
  curl -sf -X POST "$MOTO_URL/moto-api/config" -d "{\"lambda\":{\"use_docker\":false}}" >/dev/null &&
  deploy demo proj/hypertest.cfn.yaml >out1 2>err &&
  bucket=$(jq -r .aws.bucket proj/hypertest.json) &&
  test_jq ".BucketName == \"$bucket\" and .RepositoryUri == \"123456789012.dkr.ecr.us-east-1.amazonaws.com/demo\"
    and .DeployPolicyArn == \"arn:aws:iam::123456789012:policy/demo-deploy\"
    and (has(\"FunctionName\") | not)" out1
'

test_expect_success 'ht-doctor after step 1: all good but the function, which does not exist yet' '
  standin account "{\"ConcurrentExecutions\":1000,\"UnreservedConcurrentExecutions\":900}" &&
  (cd proj && test_must_fail 1 ht-doctor >../checks 2>../err) &&
  check aws_function | jq -e ".ok == false and (.message | contains(\"does not exist\"))" &&
  test_jq -s "map(select(.check != \"aws_function\")) | length >= 6 and all(.ok)" checks
'

test_expect_success 'step 2, with the image: the stack names the function' '
  deploy demo proj/hypertest.cfn.yaml ImageUri=123456789012.dkr.ecr.us-east-1.amazonaws.com/demo:latest >out2 &&
  test_jq ".FunctionName == \"demo\"" out2
'

test_expect_success 'the exception: moto made no function; make the one the template describes' '
  (cd proj && test_must_fail 1 ht-doctor >../checks 2>/dev/null) &&
  check aws_function | jq -e ".ok == false and (.message | contains(\"does not exist\"))" &&
  bucket=$(jq -r .aws.bucket proj/hypertest.json) &&
  printf "{\"FunctionName\":\"demo\",\"Role\":\"arn:aws:iam::123456789012:role/demo-runner\",\"PackageType\":\"Image\",\"Code\":{\"ImageUri\":\"123456789012.dkr.ecr.us-east-1.amazonaws.com/demo:latest\"},\"Architectures\":[\"x86_64\"],\"MemorySize\":2048,\"Timeout\":900,\"Environment\":{\"Variables\":{\"HT_BUCKET\":\"s3://%s\"}}}" "$bucket" >fn.json &&
  grep -q "MemorySize: !Ref MemorySize" proj/hypertest.cfn.yaml && grep -q "Default: 2048" proj/hypertest.cfn.yaml &&
  grep -q "PackageType: Image" proj/hypertest.cfn.yaml &&
  ht-aws-probe -H "Content-Type: application/json" call lambda POST /2015-03-31/functions fn.json >fn.out &&
  head -n 1 fn.out | grep -q 201
'

test_expect_success 'ht-doctor against the stack: every check passes' '
  (cd proj && ht-doctor >../checks 2>../err) &&
  test_jq -s "map(select(.check | startswith(\"aws_\"))) | length == 6 and all(.ok)" checks &&
  check aws_function | jq -e ".details.package_type == \"Image\"" &&
  check aws_bucket | jq -e ".ok" && check aws_repository | jq -e ".ok"
'

test_done
