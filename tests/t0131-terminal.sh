#!/bin/sh
# Tools whose stdout is a terminal print for a person; piped, records.
# ht-doctor: a list of checks with ok / error and the fix, said once.
. "$HT_SRC/tests/lib.sh"
test_need jq
have script || test_skip_all 'script(1) is not installed'

# on_tty CMD: runs CMD with stdin, stdout and stderr on a terminal.
on_tty() { script -qec "$1" /dev/null </dev/null; }

mkdir -p proj/t && printf 'echo 1..1\necho ok 1\n' >proj/t/t0001-a.sh &&
echo '{"runner":{"tests":["t/*.sh"],"run":"sh {file}","outcome":"tap"}}' >proj/hypertest.json
cd proj

test_expect_success 'ht-doctor on a terminal: a list, no records, a last line' '
  on_tty "ht-doctor" >out &&
  test_grep "^  ok      config           hypertest.json is valid (provider local)" out &&
  test_grep "^all [0-9]* checks passed" out &&
  ! grep -q "\"schema\"" out
'

test_expect_success 'a failed check: error, its fix on the next line, the message once, exit 1' '
  on_tty "ht-doctor --set provider=aws --set aws.function=f --set aws.bucket=b --set aws.region=us-east-1 --set aws.endpoint=http://127.0.0.1:9; echo rc=\$?" >out &&
  test_grep "^rc=1" out &&
  test_grep "^  error   aws_credentials  " out &&
  test_grep "^                           fix: " out &&
  test_grep "checks failed" out &&
  test "$(grep -c "no AWS credentials" out)" -eq "$(grep -c "^  error " out)"
' 

test_expect_success '--json on a terminal: records; piped: records and lines on stderr, as before' '
  on_tty "ht-doctor --json" >out && test_grep "\"schema\":\"ht.check/1\"" out &&
  ht-doctor >recs 2>err && test_jq -s "length >= 2 and all(.schema == \"ht.check/1\")" recs &&
  test_grep "^ht-doctor: ok: config" err
'

test_expect_success 'ht-invoke on a terminal: results to <dir>/results.jsonl, the summary on the terminal' '
  ht-plan >plan &&
  on_tty "ht-invoke plan" >out &&
  ! grep -q "\"schema\"" out &&
  test_grep "1 test in .*: 1 passed" out &&
  test_grep "results: $PWD/.hypertest/results.jsonl" out &&
  test_jq ".schema == \"ht.result/1\" and .status == \"passed\"" .hypertest/results.jsonl
'

test_expect_success 'ht-invoke piped or with -o: as before' '
  ht-invoke plan >res 2>/dev/null && test_jq ".status == \"passed\"" res &&
  on_tty "ht-invoke -o mine.jsonl plan" >out && test_jq ".status == \"passed\"" mine.jsonl
'

test_done
