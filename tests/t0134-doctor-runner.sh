#!/bin/sh
# ht-doctor's runner checks: the listing runs as ht-plan runs it, and the
# program of the tests' command is on the tests' PATH (not the caller's).
. "$HT_SRC/tests/lib.sh"
test_need jq

mkdir -p proj/t proj/bin && printf 'exit 0\n' >proj/t/a.sh && printf 'exit 0\n' >proj/t/b.sh &&
printf '#!/bin/sh\nexit 0\n' >proj/bin/mytool && chmod +x proj/bin/mytool &&
echo '{"local":{"sandbox":"none"},"runner":{"tests":["t/*.sh"],"run":"sh {file}"}}' >proj/hypertest.json
cd proj
check() { jq -c "select(.check == \"$1\")" out; }

test_expect_success 'a working runner: both checks pass, with what they found' '
  ht-doctor >out 2>err &&
  check runner_list | jq -e ".ok and .message == \"the command runner lists 2 tests (the first: t/a.sh)\"" &&
  check runner_program | jq -e ".ok and .details.program == \"sh\" and (.details.found | endswith(\"/sh\"))"
'

test_expect_success 'a program only on the caller'\''s PATH fails, with the fix (exit 1)' '
  PATH="$PWD/bin:$PATH" test_must_fail 1 ht-doctor --set "runner.run=mytool {file}" >out 2>err &&
  check runner_program | jq -e ".ok == false and (.message | contains(\"'\''mytool'\'', which is not on the tests'\'' PATH\"))
    and (.fix | contains(\"runner.env.PATH\"))" &&
  test_grep "error: runner_program:" err
'

test_expect_success 'runner.env.PATH is the PATH looked in; a project file by its path' '
  ht-doctor --set "runner.run=mytool {file}" --set "runner.env.PATH=$PWD/bin:/usr/bin:/bin" >out &&
  check runner_program | jq -e ".ok" &&
  ht-doctor --set "runner.run=bin/mytool {file}" >out && check runner_program | jq -e ".ok"
'

test_expect_success 'a listing that fails: its own message, and no program check' '
  test_must_fail 1 ht-doctor --set "runner.tests=nomatch/*.sh" >out 2>err &&
  check runner_list | jq -e ".ok == false and (.message | contains(\"matches no file\"))" &&
  test -z "$(check runner_program)" &&
  test_must_fail 1 ht-doctor --set runner.tests= --set "runner.list=sh -c \"exit 3\"" >out 2>err &&
  check runner_list | jq -e ".ok == false"
'

test_expect_success 'with the image root the program is not looked up here' '
  ht-doctor --set "runner.run=mytool {file}" --set local.root=image >out 2>/dev/null;
  check runner_program | jq -e ".ok and (.message | contains(\"in the image\"))"
'

test_expect_success 'no runner in the config: no runner checks' '
  echo "{\"local\":{\"sandbox\":\"none\"}}" >hypertest.json &&
  ht-doctor >out && test -z "$(check runner_list)"
'

test_done
