#!/bin/sh
# ht-doctor's checks of the aws provider against moto (signature checking
# on), GetAccountSettings from the stand-in (moto lacks it).
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/awsdeploy-lib.sh"

check() { jq -c "select(.check == \"$1\")" checks; }
cat >hypertest.json <<-J
	{"provider":"aws","concurrency":100,
	 "image":{"repository":"127.0.0.1:5000/my-tests"},
	 "aws":{"function":"fn","bucket":"artifacts","ecr":"always"}}
J

test_expect_success 'the function, the bucket, the repository, the account settings' '
  curl -sf -X POST "$MOTO_URL/moto-api/config" -d "{\"lambda\":{\"use_docker\":false}}" >/dev/null &&
  make_role && create_image_function fn x86_64 123456789012.dkr.ecr.us-east-1.amazonaws.com/my-tests:latest &&
  ht-aws-probe s3-mb artifacts &&
  echo "{\"repositoryName\":\"my-tests\"}" >repo.json &&
  ht-aws-probe -H "Content-Type: application/x-amz-json-1.1" \
    -H "X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.CreateRepository" call ecr POST / repo.json >/dev/null &&
  standin account "{\"ConcurrentExecutions\":1000,\"UnreservedConcurrentExecutions\":900}"
'

test_expect_success 'all aws checks pass' '
  ht-doctor >checks 2>err &&
  test_jq -s "map(select(.check | startswith(\"aws_\"))) | length == 6 and all(.ok)" checks &&
  check aws_credentials | jq -e ".details.account == \"123456789012\" and (.details.arn | endswith(\"user/ht\"))" &&
  check aws_region | jq -e ".details.region == \"us-east-1\"" &&
  check aws_function | jq -e ".details.package_type == \"Image\"" &&
  check aws_concurrency | jq -e ".details.unreserved_concurrent_executions == 900"
'

test_expect_success 'a missing bucket fails its check with a fix, exit 1' '
  test_must_fail 1 ht-doctor --set aws.bucket=nope >checks 2>err &&
  check aws_bucket | jq -e ".ok == false and .message == \"bucket '\''nope'\'' does not exist\" and (.fix | contains(\"aws s3 mb\"))" &&
  test_grep "aws_bucket: bucket '\''nope'\'' does not exist" err &&
  check aws_function | jq -e ".ok"
'

test_expect_success 'concurrency above the account'\''s unreserved executions is flagged' '
  test_must_fail 1 ht-doctor --set concurrency=1000 >checks &&
  check aws_concurrency | jq -e ".ok == false and (.message | contains(\"900 unreserved\")) and (.fix | contains(\"quota\"))"
'

test_expect_success 'a missing function names the region; a Zip function is refused' '
  test_must_fail 1 ht-doctor --set aws.function=nofn >checks &&
  check aws_function | jq -e ".ok == false and .message == \"function '\''nofn'\'' does not exist in region us-east-1\"" &&
  test_must_fail 1 ht-doctor --set aws.region=eu-west-1 >checks &&
  check aws_function | jq -e ".ok == false and (.message | contains(\"region eu-west-1\"))"
'

test_expect_success 'a missing ECR repository fails its check' '
  test_must_fail 1 ht-doctor --set image.repository=127.0.0.1:5000/other >checks &&
  check aws_repository | jq -e ".ok == false and (.message | contains(\"'\''other'\'' does not exist\")) and (.fix | contains(\"create-repository\"))"
'

test_expect_success 'refused credentials and no region' '
  AWS_SECRET_ACCESS_KEY=bad test_must_fail 1 ht-doctor >checks &&
  check aws_credentials | jq -e ".ok == false and (.message | contains(\"SignatureDoesNotMatch\")) and (.fix | contains(\"renew\"))" &&
  (unset AWS_REGION; test_must_fail 1 ht-doctor >checks) &&
  check aws_region | jq -e ".ok == false and (.message | contains(\"no AWS region\"))"
'

test_expect_success 'on provider local there are no aws checks' '
  ht-doctor --set provider=local --set local.sandbox=none >checks &&
  test_jq -s "map(.check) == [\"config\", \"sandbox\", \"task_path\"]" checks
'

test_done
