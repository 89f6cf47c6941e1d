#!/bin/sh
# ht-doctor --try NAME: one test run as ht-invoke runs it, its outcome, its
# output and the environment it saw, secrets hidden.
. "$HT_SRC/tests/lib.sh"
test_need jq

mkdir -p proj/t &&
printf 'echo "hello from $HT_TEST_ID"\n' >proj/t/good.sh &&
printf 'echo "about to fail" >&2\nexit 3\n' >proj/t/bad.sh &&
cat >proj/hypertest.json <<'J'
{"local":{"sandbox":"none"},
 "runner":{"tests":["t/*.sh"],"run":"sh {file}","env":{"API_TOKEN":"s3cr3t-value","GREETING":"hi"}}}
J
cd proj

test_expect_success 'a passing test: its outcome, its output, its environment' '
  ht-doctor --try t/good.sh >out 2>err &&
  test_grep "^trying t/good.sh (t-t-good-sh-[0-9a-f]*), run try-[0-9a-f]*, as ht-invoke runs it" out &&
  test_grep "^outcome: passed in [0-9]* ms" out &&
  test_grep "^hello from t-t-good-sh-" out &&
  test_grep "^  HT_ATTEMPT=1$" out && test_grep "^  GREETING=hi$" out &&
  test_grep "^  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin$" out
'

test_expect_success 'secrets are hidden in what it shows and in the bucket' '
  test_grep "^  API_TOKEN=(hidden)$" out &&
  ! grep -r "s3cr3t-value" out err .hypertest/bucket
'

test_expect_success 'a failing test: exit 1, the message with the exit code' '
  test_must_fail 1 ht-doctor --try t/bad.sh >out 2>err &&
  test_grep "^outcome: failed in [0-9]* ms: exit code 3: about to fail" out
'

test_expect_success 'by test_id too' '
  id=$(ht-plan -q | jq -r "select(.name == \"t/good.sh\") | .test_id") &&
  ht-doctor --try "$id" >out && test_grep "^outcome: passed" out
'

test_expect_success 'an unknown name: 66, with the names that hold it' '
  test_must_fail 66 ht-doctor --try good >out 2>err &&
  test_grep "no test is named '\''good'\''" err && test_grep "^  t/good.sh$" err
'

test_expect_success 'a test of a runner that batches by default (pytest) is tried alone' '
  /usr/bin/python3 -c "import pytest" 2>/dev/null || { echo "no /usr/bin/python3 with pytest: skipped"; exit 0; }
  mkdir -p ../py/tests && cd ../py &&
  printf "def test_one():\n    print(\"one ran\")\n\ndef test_two():\n    assert False, \"two fails\"\n" >tests/test_a.py &&
  printf "{\"concurrency\":1,\"local\":{\"sandbox\":\"none\"},\"runner\":{\"name\":\"pytest\",\"python\":\"/usr/bin/python3\"}}\n" >hypertest.json &&
  ht-plan -q | jq -s -e "length == 1 and (.[0].batch | length) == 2" >/dev/null &&
  ht-doctor --try tests/test_a.py::test_one >out &&
  test_grep "^trying tests/test_a.py::test_one (" out && test_grep "^outcome: passed" out &&
  test_must_fail 1 ht-doctor --try tests/test_a.py::test_two >out &&
  test_grep "^outcome: failed" out && test_grep "two fails" out
'

test_done
