#!/bin/sh
# ht-push and ht-pull with ECR credentials: GetAuthorizationToken from moto
# (signature checking on) gives Basic auth "AWS:<password>" for Debian's
# docker-registry standing in for ECR's registry (htpasswd user AWS with
# the password moto hands out), the token cached in memory and on disk,
# and the ECR repository checked (DescribeRepositories) or created.
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/registry-lib.sh"
have umoci || test_skip_all 'umoci is not installed'
test_need htpasswd
. "$HT_SRC/tests/helpers/awsdeploy-lib.sh"

# moto's GetAuthorizationToken password is "<account>-auth-token".
htpasswd -Bbn AWS 123456789012-auth-token >"$TRASH/htpasswd"
start_registry ecr "  htpasswd:
    realm: ecr
    path: $TRASH/htpasswd"
mkdir -p proj && cd proj
# The loopback registry stands in for ECR: ask for ECR credentials always.
printf '{"aws":{"ecr":"always"}}\n' >hypertest.json

test_expect_success 'an image in the store' '
  make_layout "$TRASH/lay" v1 1 &&
  ht-pull "oci:$TRASH/lay:v1" --tag app >pulled &&
  test_jq ".ok == true" pulled
'

test_expect_success 'a missing ECR repository is an error naming it (66)' '
  test_must_fail 66 ht-push app $REG/my-tests:v1 >out 2>err &&
  test_grep "ECR repository '\''my-tests'\'' does not exist in region us-east-1" err &&
  test_grep "create-repository" err &&
  test_jq ".ok == false" out &&
  test "$(calls DescribeRepositories)" = 1 && test "$(calls CreateRepository)" = 0
'

test_expect_success '--create-repository creates it, and the push logs in as AWS' '
  ht-push -v --create-repository app $REG/my-tests:v1 >out 2>err &&
  test_jq ".ok == true and .repository == \"my-tests\" and .platform.architecture == \"amd64\"" out &&
  test "$(calls CreateRepository)" = 1 &&
  test_grep "logged in to $REG with ECR credentials" err &&
  echo "{}" >empty.json &&
  AWS_ENDPOINT_URL=$MOTO_URL ht-aws-probe -H "Content-Type: application/x-amz-json-1.1" \
    -H "X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.DescribeRepositories" call ecr POST / empty.json >repos &&
  test_grep "\"repositoryName\": \"my-tests\"" repos &&
  skopeo inspect --tls-verify=false --creds AWS:123456789012-auth-token docker://$REG/my-tests:v1 >insp &&
  test_jq ".Digest == \"$(jq -r .digest out)\"" insp
'

test_expect_success 'the token is cached on disk, 0600, and reused by the next process' '
  n=$(calls GetAuthorizationToken) && test "$n" -ge 1 &&
  test -f .hypertest/ecr/ecr-127.0.0.1_$REG_PORT.json &&
  test "$(stat -c %a .hypertest/ecr/ecr-127.0.0.1_$REG_PORT.json)" = 600 &&
  ht-push -v app $REG/my-tests:v2 >out 2>err &&
  test_jq ".ok == true" out &&
  test "$(calls GetAuthorizationToken)" = "$n" &&
  test_grep "token from disk" err &&
  ht-pull $REG/my-tests:v2 >pulled 2>err &&
  test_jq ".ok == true" pulled &&
  test "$(calls GetAuthorizationToken)" = "$n"
'

test_expect_success 'the password never shows, even with -vv' '
  rm -rf .hypertest/ecr &&
  ht-push -vv app $REG/my-tests:v3 >out 2>err &&
  test_jq ".ok == true" out &&
  ! grep -F 123456789012-auth-token err out &&
  ! grep -F "$(printf AWS:123456789012-auth-token | base64)" err
'

test_expect_success 'the disk cache is not used for another access key' '
  n=$(calls GetAuthorizationToken) &&
  sed "s/\"access_key_id\":\"[^\"]*\"/\"access_key_id\":\"AKIAOTHER\"/" .hypertest/ecr/ecr-*.json >c &&
  cat c >.hypertest/ecr/ecr-127.0.0.1_$REG_PORT.json &&
  ht-push app $REG/my-tests:v4 >out 2>err &&
  test "$(calls GetAuthorizationToken)" = $((n + 1))
'

test_expect_success 'without ECR credentials the registry refuses (77)' '
  test_must_fail 77 ht-push --set aws.ecr=never app $REG/my-tests:v5 >out 2>err &&
  test_jq ".ok == false and .error.code == \"unauthorized\"" out
'

test_expect_success 'a wrong secret key: GetAuthorizationToken refused, 77, nothing pushed' '
  rm -rf .hypertest/ecr &&
  AWS_SECRET_ACCESS_KEY=wrong test_must_fail 77 ht-push app $REG/my-tests:v6 >out 2>err &&
  test_grep "SignatureDoesNotMatch" err &&
  test_grep "no ECR credentials for '\''$REG'\''" err &&
  test_jq ".ok == false" out
'

test_expect_success 'aws.ecr auto: a loopback registry gets no ECR login' '
  n=$(calls GetAuthorizationToken) &&
  test_must_fail 77 ht-push --set aws.ecr=auto app $REG/my-tests:v7 >out 2>err &&
  test "$(calls GetAuthorizationToken)" = "$n" &&
  ht-push --ecr --set aws.ecr=auto app $REG/my-tests:v7 >out 2>err &&
  test "$(calls GetAuthorizationToken)" = $((n + 1))
'

test_done
