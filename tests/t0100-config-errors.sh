#!/bin/sh
# hypertest.json errors, through ht-doctor --print-config: each names the
# key path and FILE:LINE:COL, and exits 78 (66 for a missing named file).
. "$HT_SRC/tests/lib.sh"
test_need jq

# expect_error CODE MESSAGE [ARGS...]: ht-doctor --print-config fails with
# CODE, prints nothing on stdout, and says MESSAGE (a fixed string) on stderr.
expect_error() {
  _code=$1 _msg=$2; shift 2
  test_expect_code "$_code" ht-doctor --print-config "$@" >out 2>err &&
  test_must_be_empty out &&
  grep -F -x -e "ht-doctor: error: $_msg" err >/dev/null || { sed 's/^/| /' err >&2; return 1; }
}
test_must_be_empty() { [ ! -s "$1" ] || { echo "$1 is not empty:" >&2; cat "$1" >&2; return 1; }; }

test_expect_success 'a valid file loads' '
  printf "{\"runner\": {\"tests\": [\"t/*.sh\"], \"run\": \"sh {file}\"}}\n" >hypertest.json &&
  ht-doctor --print-config >out &&
  test_jq ".schema == \"ht.config/1\" and .file == \"hypertest.json\" and .runner.run == \"sh {file}\"" out
'

test_expect_success 'unknown key, with the position of the key and a suggestion' '
  cat >hypertest.json <<-\EOF &&
	{
	  "provider": "local",
	  "runner": {
	    "run": "sh {file}",
	    "concurency": 4
	  }
	}
	EOF
  expect_error 78 "hypertest.json:5:5: runner.concurency: unknown key (did you mean '\''concurrency'\''?)"
'

test_expect_success 'unknown key without a close match: no suggestion' '
  printf "{\n\t\"zzzzzzzz\": 1\n}\n" >hypertest.json &&
  expect_error 78 "hypertest.json:2:2: zzzzzzzz: unknown key"
'

test_expect_success 'wrong type names the value position' '
  printf "{\n  \"timeout_s\": \"300\"\n}\n" >hypertest.json &&
  expect_error 78 "hypertest.json:2:16: timeout_s: expected an integer, got '\''300'\''"
'

test_expect_success 'wrong type inside an array names the element' '
  printf "{\"runner\": {\"tests\": [\"a\",\n  true]}}\n" >hypertest.json &&
  expect_error 78 "hypertest.json:2:3: runner.tests[1]: expected a string, got true"
'

test_expect_success 'out of range' '
  printf "{\"local\": {}, \"retries\": 11}\n" >hypertest.json &&
  expect_error 78 "hypertest.json:1:26: retries: expected an integer from 0 to 10, got 11"
'

test_expect_success 'bad enum lists the choices' '
  printf "{\"provider\": \"gcp\"}\n" >hypertest.json &&
  expect_error 78 "hypertest.json:1:14: provider: expected one of '\''local'\'', '\''aws'\'', got '\''gcp'\''"
'

test_expect_success 'a section that is not an object' '
  printf "{\"aws\": [\"x\"]}\n" >hypertest.json &&
  expect_error 78 "hypertest.json:1:9: aws: expected an object, got an array"
'

test_expect_success 'every error is reported, not only the first' '
  printf "{\"retries\": -1,\n \"flaky_fails\": \"yes\",\n \"local\": {\"sandbox\": \"nsjail\"}}\n" >hypertest.json &&
  test_expect_code 78 ht-doctor --print-config 2>err &&
  test_grep "hypertest.json:1:13: retries: " err &&
  test_grep "hypertest.json:2:17: flaky_fails: expected true or false, got '\''yes'\''" err &&
  test_grep "hypertest.json:3:23: local.sandbox: expected one of" err
'

test_expect_success 'invalid JSON: jansson'\''s line and column' '
  printf "{\n  \"retries\": 1,\n  \"dir\": \n}\n" >hypertest.json &&
  expect_error 78 "hypertest.json:4:1: invalid JSON: unexpected token near '\''}'\''"
'

test_expect_success 'invalid JSON: a duplicate key' '
  printf "{\"dir\": \"a\",\n \"dir\": \"b\"}\n" >hypertest.json &&
  test_expect_code 78 ht-doctor --print-config 2>err &&
  test_grep "hypertest.json:2:.*invalid JSON: duplicate object key" err
'

test_expect_success 'a missing named config file exits 66' '
  expect_error 66 "cannot open '\''nope.json'\'': No such file or directory" --config nope.json &&
  HT_CONFIG=gone.json test_expect_code 66 ht-doctor --print-config 2>err &&
  test_grep "cannot open '\''gone.json'\''" err
'

test_expect_success 'a missing ./hypertest.json is fine: defaults' '
  mkdir -p empty && (cd empty && ht-doctor --print-config) >out &&
  test_jq ".file == null and .provider == \"local\" and .timeout_s == 300 and .runner.run == null" out
'

test_expect_success 'the file is found through --config, positions name it as given' '
  mkdir -p conf && printf "{\n\"dir\": 3}\n" >conf/ht.json &&
  expect_error 78 "conf/ht.json:2:8: dir: expected a string, got 3" -c conf/ht.json
'

test_expect_success 'credentials in the file are refused, without repeating them' '
  printf "{\n  \"aws\": {\n    \"region\": \"eu-west-1\",\n    \"secret_access_key\": \"SeCrEt\"\n  }\n}\n" >hypertest.json &&
  test_expect_code 78 ht-doctor --print-config >out 2>err &&
  test_grep "^ht-doctor: error: hypertest.json:4:5: aws.secret_access_key: credentials do not belong in the configuration; remove it and use the AWS environment" err &&
  test_grep "~/.aws/credentials" err &&
  ! grep SeCrEt err out
'

test_expect_success 'credentials under another name or place are refused too' '
  printf "{\"aws_access_key_id\": \"A\", \"runner\": {\"env\": {\"AWS_SESSION_TOKEN\": \"T\"}}}\n" >hypertest.json &&
  test_expect_code 78 ht-doctor --print-config 2>err &&
  test_grep "hypertest.json:1:2: aws_access_key_id: credentials do not belong" err &&
  test_grep "hypertest.json:1:47: runner.env.AWS_SESSION_TOKEN: credentials do not belong" err
'

test_expect_success 'a dotted key is explained' '
  printf "{\"runner.run\": \"x\"}\n" >hypertest.json &&
  test_expect_code 78 ht-doctor --print-config 2>err &&
  test_grep "hypertest.json:1:2: runner.run: unknown key (a key path: write it as nested objects" err
'

test_expect_success 'a config error in plain ht-doctor: a failed check record and 78' '
  printf "{\"retries\": 99}\n" >hypertest.json &&
  test_expect_code 78 ht-doctor >out 2>err &&
  test_jq ".schema == \"ht.check/1\" and .check == \"config\" and .ok == false and (.message | test(\"retries: expected an integer from 0 to 10\")) and (.fix | length > 0)" out
'

test_done
