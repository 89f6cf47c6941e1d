#!/bin/sh
# HT_* variables and --set over hypertest.json: precedence, parsing by
# type, and errors that name the variable or the flag.
. "$HT_SRC/tests/lib.sh"
test_need jq

test_expect_success 'setup' '
  cat >hypertest.json <<-\EOF
	{
	  "concurrency": 8,
	  "timeout_s": 120,
	  "retries": 1,
	  "runner": { "tests": ["t/*.sh"], "run": "sh {file}", "env": { "LANG": "C" } },
	  "aws": { "region": "eu-central-1" }
	}
	EOF
'

test_expect_success 'the file over the defaults' '
  ht-doctor --print-config >out &&
  test_jq ".concurrency == 8 and .timeout_s == 120 and .infra_retries == 2 and .origin.concurrency == \"file\" and (.origin | has(\"infra_retries\") | not)" out
'

test_expect_success 'HT_* over the file' '
  HT_CONCURRENCY=3 HT_AWS_REGION=us-east-1 HT_RUNNER_RUN="bash {file}" HT_LOCAL_SANDBOX=none \
    ht-doctor --print-config >out &&
  test_jq ".concurrency == 3 and .aws.region == \"us-east-1\" and .runner.run == \"bash {file}\" and .local.sandbox == \"none\"" out &&
  test_jq ".origin.concurrency == \"HT_CONCURRENCY\" and .origin[\"aws.region\"] == \"HT_AWS_REGION\"" out
'

test_expect_success '--set over HT_* over the file' '
  HT_TIMEOUT_S=60 ht-doctor --print-config --set timeout_s=30 -s retries=2 >out &&
  test_jq ".timeout_s == 30 and .retries == 2 and .origin.timeout_s == \"--set\"" out &&
  HT_TIMEOUT_S=60 ht-doctor --print-config >out &&
  test_jq ".timeout_s == 60" out
'

test_expect_success 'the last --set wins' '
  ht-doctor --print-config --set retries=2 --set retries=3 >out &&
  test_jq ".retries == 3" out
'

test_expect_success 'an empty HT_* variable is ignored' '
  HT_CONCURRENCY= ht-doctor --print-config >out &&
  test_jq ".concurrency == 8" out
'

test_expect_success 'values parsed by type: booleans, lists, maps' '
  HT_FLAKY_FAILS=1 HT_RUNNER_SHELL=true HT_RUNNER_TESTS="a/*.sh, b/*.sh" \
    ht-doctor --print-config --set "runner.env=A=1,B=x y" --set runner.env.C=3 >out &&
  test_jq ".flaky_fails == true and .runner.shell == true and .runner.tests == [\"a/*.sh\",\"b/*.sh\"]" out &&
  test_jq ".runner.env == {\"A\":\"1\",\"B\":\"x y\",\"C\":\"3\"}" out &&
  HT_RUNNER_TESTS="[\"x,y\"]" HT_RUNNER_ENV="{\"K\":\"v,w\"}" ht-doctor --print-config >out &&
  test_jq ".runner.tests == [\"x,y\"] and .runner.env == {\"K\":\"v,w\"}" out &&
  HT_FLAKY_FAILS=false ht-doctor --print-config --set runner.shell=0 >out &&
  test_jq ".flaky_fails == false and .runner.shell == false" out
'

test_expect_success 'a bad HT_* value names the variable' '
  HT_CONCURRENCY=x test_expect_code 78 ht-doctor --print-config >out 2>err &&
  test_grep "^ht-doctor: error: HT_CONCURRENCY: expected an integer, got '\''x'\''$" err &&
  test_must_fail test -s out
'

test_expect_success 'HT_* values are range- and enum-checked' '
  HT_CONCURRENCY=0 HT_PROVIDER=gcp HT_FLAKY_FAILS=yes test_expect_code 78 ht-doctor --print-config 2>err &&
  test_grep "^ht-doctor: error: HT_CONCURRENCY: expected an integer from 1 to 10000, got 0$" err &&
  test_grep "^ht-doctor: error: HT_PROVIDER: expected one of '\''local'\'', '\''aws'\'', got '\''gcp'\''$" err &&
  test_grep "^ht-doctor: error: HT_FLAKY_FAILS: expected true, false, 1 or 0, got '\''yes'\''$" err
'

test_expect_success 'a bad HT_* list names the element' '
  HT_RUNNER_TESTS="[\"a\", 2]" test_expect_code 78 ht-doctor --print-config 2>err &&
  test_grep "^ht-doctor: error: HT_RUNNER_TESTS: runner.tests\[1\]: expected a string, got 2$" err &&
  HT_RUNNER_ENV="A" test_expect_code 78 ht-doctor --print-config 2>err &&
  test_grep "^ht-doctor: error: HT_RUNNER_ENV: expected NAME=VALUE items, got '\''A'\''$" err
'

test_expect_success 'a bad --set value names the flag' '
  test_expect_code 78 ht-doctor --print-config --set timeout_s=901 --set runner.run= 2>err &&
  test_grep "^ht-doctor: error: --set timeout_s: expected an integer from 1 to 900, got 901$" err &&
  test_grep "^ht-doctor: error: --set runner.run: expected a string that is not empty, got '\'''\''$" err
'

test_expect_success 'an unknown --set key, with a suggestion' '
  test_expect_code 78 ht-doctor --print-config --set runner.outcom=tap --set qqqqqq=1 2>err &&
  test_grep "^ht-doctor: error: --set runner.outcom: unknown key (did you mean '\''runner.outcome'\''?)$" err &&
  test_grep "^ht-doctor: error: --set qqqqqq: unknown key$" err
'

test_expect_success 'a section cannot be --set whole' '
  test_expect_code 78 ht-doctor --print-config --set aws=x 2>err &&
  test_grep "^ht-doctor: error: --set aws: a section; set its keys one by one (aws.KEY=VALUE)$" err
'

test_expect_success 'credentials through --set are refused' '
  test_expect_code 78 ht-doctor --print-config --set aws.secret_access_key=SeCrEt 2>err &&
  test_grep "^ht-doctor: error: --set aws.secret_access_key: credentials do not belong in the configuration" err &&
  ! grep SeCrEt err
'

test_expect_success '--set without = is a usage error' '
  test_expect_code 64 ht-doctor --print-config --set retries 2>err &&
  test_grep "KEY=VALUE" err
'

test_expect_success 'computed defaults follow provider and dir' '
  HT_PROVIDER=aws ht-doctor --print-config --set dir=st >out &&
  test_jq ".concurrency == 8" out &&
  printf "{\"provider\": \"aws\"}\n" >other.json &&
  ht-doctor --print-config -c other.json --set dir=st >out &&
  test_jq ".concurrency == 50 and .image.store == \"st/oci\" and .local.bucket == \"st/bucket\"" out &&
  ht-doctor --print-config -c other.json --set provider=local >out &&
  test_jq ".concurrency == $(getconf _NPROCESSORS_ONLN)" out
'

test_expect_success 'the root is the directory of the config file' '
  mkdir -p sub && printf "{}\n" >sub/hypertest.json &&
  ht-doctor --print-config -c sub/hypertest.json >out &&
  test_jq ".root == \"$(cd sub && pwd -P)\" and .file == \"sub/hypertest.json\"" out
'

test_done
