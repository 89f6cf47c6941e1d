#!/bin/sh
# ht-report's summary for a person: totals of test cases, failures with
# their output, the slowest tests, the times, where things are; inputs,
# colour, exit codes.
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/ht-report-lib.sh"

have jq || test_skip_all 'jq is needed'

test_expect_success 'a real run: passed, failed, skipped, timed out, flaky' '
  test_expect_code 1 make_run p &&
  test_jq -s "map(.status) | sort == [\"failed\",\"flaky\",\"passed\",\"passed\",\"skipped\",\"timed_out\"]" p/results.jsonl
'
RUN_ID=$(jq -r .run_id p/plan.jsonl 2>/dev/null | head -n 1)

test_expect_success 'the totals, and exit code 1 when the run had failures' '
  (cd p && test_expect_code 1 ht-report results.jsonl >../out 2>../err) &&
  test_grep "^  2 passed, 1 failed, 1 flaky, 1 skipped, 1 timed out, 0 errors$" out &&
  test_grep "^hypertest: 6 tests of run $RUN_ID in [0-9.]*s$" out &&
  test_cmp /dev/null err
'

test_expect_success 'each failure with its message, the end of its output and its path' '
  test_grep "^  failed      tests/fail.sh ([0-9]*ms, 2 attempts)$" out &&
  test_grep "^              exit code 1: line 30$" out &&
  test_grep "| line 30$" out && test_grep "| line 21$" out &&
  test_must_fail grep "| line 20$" out &&
  test_grep "^  timed out   tests/slow.sh" out && test_grep "timed out after 1 s" out &&
  test_grep "^  flaky       tests/flaky.sh" out &&
  path=$(sed -n "/tests\/fail.sh/,/output:/s/^ *output: //p" out) &&
  test "$path" = "$TRASH/p/.hypertest/bucket/$RUN_ID/t-tests-fail-sh-ec5b2621/stdout.txt" &&
  test_grep "^line 30$" "$path" &&
  test_grep "^  artifacts: $TRASH/p/.hypertest/bucket/$RUN_ID/$" out
'

test_expect_success 'the slowest tests first, and the wall time against the sum' '
  sed -n "/^slowest:/,/^$/p" out >slow &&
  sed -n 2p slow >first && test_grep "tests/slow.sh (2 attempts)$" first &&
  test $(grep -c "^  *[0-9.]*m*s  tests/" slow) = 6 &&
  test_grep "^  time: [0-9.]*s wall, [0-9.]*s of tests ([0-9.]*x)$" out &&
  (cd p && ht-report --slowest 2 --lines 0 results.jsonl >../out2) || : &&
  test $(sed -n "/^slowest:/,/^$/p" out2 | grep -c "tests/") = 2 &&
  test_must_fail grep "| line" out2
'

test_expect_success 'artifact links are relative to where the HTML is written' '
  mkdir -p p/sub/dir && (cd p && test_expect_code 1 ht-report -q --html sub/dir/r.html results.jsonl) &&
  grep -o "\"a\":\[\"[^\"]*\"" p/sub/dir/r.html | head -n 1 >href &&
  test_grep "\"a\":\[\"../../.hypertest/bucket/$RUN_ID/t-[a-z0-9-]*/stdout.txt\"" href &&
  (cd p && test_expect_code 1 ht-report -q --html "$TRASH/r2.html" results.jsonl) &&
  grep -o "\"a\":\[\"[^\"]*\"" r2.html | head -n 1 >href &&
  test_grep "\"a\":\[\"p/.hypertest/bucket/$RUN_ID/" href
'

test_expect_success 'no colour without a terminal, NO_COLOR, --color' '
  test_must_fail grep "$(printf "\033")" out &&
  (cd p && ht-report --color=always results.jsonl >../c1) || : &&
  grep -q "$(printf "\033")\[31m" c1 &&
  (cd p && NO_COLOR=1 ht-report results.jsonl >../c2) || : &&
  test_must_fail grep "$(printf "\033")" c2 &&
  if have script; then
    (cd p && script -qec "ht-report results.jsonl" /dev/null >../c3) || :
    grep -q "$(printf "\033")\[" c3 &&
    (cd p && NO_COLOR=1 script -qec "ht-report results.jsonl" /dev/null >../c4) || :
    test_must_fail grep "$(printf "\033")\[3" c4
  fi &&
  test_must_fail 64 ht-report --color=sometimes p/results.jsonl 2>err &&
  test_grep "expected auto, always or never" err
'

test_expect_success 'a run that passed exits 0; stdin is read' '
  { result a passed; result b skipped "{\"message\":\"no db\"}"; } >ok.jsonl &&
  ht-report <ok.jsonl >out &&
  test_grep "^  1 passed, 0 failed, 0 flaky, 1 skipped, 0 timed out, 0 errors$" out &&
  test_must_fail grep "did not pass" out &&
  ht-report - <ok.jsonl >out2 && test_cmp out out2
'

test_expect_success 'counts are of test cases: a file that ran many counts them all' '
  { result many passed "{\"tests\":{\"passed\":1991,\"failed\":0,\"skipped\":25,\"failures\":[]}}" &&
    result tap failed "{\"tests\":{\"passed\":3,\"failed\":2,\"skipped\":0,\"failures\":[{\"name\":\"adds\",\"message\":\"got 3\"},{\"name\":\"subs\",\"message\":\"\"}]}}" &&
    result crash failed "{\"tests\":{\"passed\":4,\"failed\":0,\"skipped\":0,\"failures\":[]}}" &&
    result junit error "{\"tests\":{\"passed\":1,\"failed\":0,\"errors\":2,\"skipped\":0}}" &&
    result slow timed_out "{\"tests\":{\"passed\":2,\"failed\":0,\"skipped\":0}}" &&
    result one passed; } >cases.jsonl &&
  test_expect_code 1 ht-report cases.jsonl >out &&
  test_grep "^hypertest: 6 tests (2033 cases)" out &&
  test_grep "^  2002 passed, 3 failed, 0 flaky, 25 skipped, 1 timed out, 2 errors$" out &&
  test_grep "^              - adds: got 3$" out && test_grep "^              - subs$" out
'

test_expect_success 'a run summary (hypertest.results.json) reads as its results do' '
  (cd p && test_expect_code 1 ht-report results.jsonl >../a &&
   test_expect_code 1 ht-report .hypertest/bucket/$RUN_ID/hypertest.results.json >../b) &&
  grep -v -e "^hypertest:" -e "^  time:" a >a1 && grep -v -e "^hypertest:" -e "^  time:" b >b1 &&
  test_cmp a1 b1 &&
  test_grep "^hypertest: 6 tests of run $RUN_ID on local in " b
'

test_expect_success 'a later record of a test replaces the earlier one' '
  { result a failed; result a passed; } >dup.jsonl &&
  ht-report dup.jsonl >out &&
  test_grep "^hypertest: 1 test" out && test_grep "^  1 passed, 0 failed" out
'

test_expect_success 'bad input: every bad line named, exit 65, nothing written' '
  { result a passed; echo "not json"; echo "{\"schema\":\"ht.test/1\",\"test_id\":\"x\"}";
    echo "{\"schema\":\"ht.result/2\",\"test_id\":\"y\"}"; echo "{\"schema\":\"ht.result/1\"}"; } >bad.jsonl &&
  test_must_fail 65 ht-report --html bad.html --junit bad.xml bad.jsonl >out 2>err &&
  test_grep "^ht-report: error: bad.jsonl:2:.*not valid JSON" err &&
  test_grep "^ht-report: error: bad.jsonl:3: expected a ht.result/1 record" err &&
  test_grep "^ht-report: error: bad.jsonl:4: " err &&
  test_grep "^ht-report: error: bad.jsonl:5: expected a test_id or a name" err &&
  test_cmp /dev/null out && ! test -e bad.html && ! test -e bad.xml &&
  : >empty && test_must_fail 65 ht-report empty 2>err && test_grep "no results in empty" err &&
  test_must_fail 66 ht-report missing.jsonl 2>err &&
  test_grep "^ht-report: error: cannot open .missing.jsonl.: No such file" err
'

test_expect_success 'bad command lines exit 64' '
  test_must_fail 64 ht-report --lines x ok.jsonl 2>err && test_grep "expected a number" err &&
  test_must_fail 64 ht-report --run r1 ok.jsonl 2>err && test_grep "give no FILE" err &&
  test_must_fail 64 ht-report --no-such-option 2>err &&
  ht-report --help >help && test_grep "^usage: ht-report" help && test_grep "junit FILE" help
'

test_expect_success 'a summary that cannot be written exits 74; a file in no directory too' '
  test_must_fail 74 ht-report ok.jsonl >/dev/full &&
  test_must_fail 74 ht-report --junit nodir/x.xml ok.jsonl >out 2>err &&
  ! test -e nodir
'

test_done
