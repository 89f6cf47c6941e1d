#!/bin/sh
# ht-report --junit: Surefire-shaped JUnit XML, valid against the schema
# the project keeps (tests/data/junit.xsd), counts matching the records.
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/ht-report-lib.sh"

have jq || test_skip_all 'jq is needed'
have xmllint || test_skip_all 'xmllint is needed (Debian libxml2-utils)'
XSD=$HT_SRC/tests/data/junit.xsd

# valid FILE: FILE is valid against the project's schema.
valid() { xmllint --noout --schema "$XSD" "$1"; }
# xp EXPR FILE: the XPath value.
xp() { xmllint --xpath "$1" "$2"; }

test_expect_success 'a real run with every outcome: valid, one testcase per test' '
  test_expect_code 1 make_run p &&
  (cd p && test_expect_code 1 ht-report -q --junit junit.xml results.jsonl) &&
  valid p/junit.xml &&
  test "$(xp "count(/testsuite/testcase)" p/junit.xml)" = 6 &&
  test "$(xp "count(//testcase[@name=\"tests/fail.sh\"])" p/junit.xml)" = 1
'

test_expect_success 'the counts match the records' '
  r=p/results.jsonl j=p/junit.xml &&
  test "$(xp "string(/testsuite/@tests)" $j)" = "$(wc -l <$r | tr -d " ")" &&
  test "$(xp "string(/testsuite/@failures)" $j)" = "$(jq -s "map(select(.status == \"failed\" or .status == \"timed_out\")) | length" $r)" &&
  test "$(xp "string(/testsuite/@errors)" $j)" = "$(jq -s "map(select(.status == \"error\" or .status == \"interrupted\")) | length" $r)" &&
  test "$(xp "string(/testsuite/@skipped)" $j)" = "$(jq -s "map(select(.status == \"skipped\")) | length" $r)" &&
  test "$(xp "count(//testcase[failure])" $j)" = "$(xp "string(/testsuite/@failures)" $j)" &&
  test "$(xp "count(//testcase[skipped])" $j)" = 1 &&
  test "$(xp "string(//property[@name=\"hypertest.run_id\"]/@value)" $j)" = "$(jq -r .run_id p/plan.jsonl | head -n 1)"
'

test_expect_success 'failures, timeouts, skips and flaky tests as Surefire records them' '
  j=p/junit.xml &&
  test "$(xp "string(//testcase[@name=\"tests/fail.sh\"]/failure/@type)" $j)" = failed &&
  test "$(xp "string(//testcase[@name=\"tests/fail.sh\"]/failure/@message)" $j)" = "exit code 1: line 30" &&
  test "$(xp "count(//testcase[@name=\"tests/fail.sh\"]/rerunFailure)" $j)" = 1 &&
  xp "string(//testcase[@name=\"tests/fail.sh\"]/system-out)" $j >out &&
  test_grep "</script><b>x</b>" out && test_grep "^line 30$" out &&
  test_grep "all of it: $TRASH/p/.hypertest/bucket/.*/stdout.txt" out &&
  test "$(xp "string(//testcase[@name=\"tests/slow.sh\"]/failure/@type)" $j)" = timed_out &&
  test "$(xp "string(//testcase[@name=\"tests/skip.sh\"]/skipped/@message)" $j)" = \
       "$(jq -r "select(.status == \"skipped\") | .message" p/results.jsonl)" &&
  test "$(xp "count(//testcase[@name=\"tests/flaky.sh\"]/*[self::failure or self::error])" $j)" = 0 &&
  test "$(xp "count(//testcase[@name=\"tests/flaky.sh\"]/flakyFailure/stackTrace)" $j)" = 1 &&
  test "$(xp "count(//testcase[@name=\"tests/pass-a.sh\"]/*)" $j)" = 0 &&
  test "$(xp "string(//testcase[@name=\"tests/pass-a.sh\"]/@classname)" $j)" = tests.pass-a
'

test_expect_success 'classname and name are stable across runs' '
  test_expect_code 1 make_run p2 &&
  (cd p2 && test_expect_code 1 ht-report -q --junit junit.xml results.jsonl) &&
  for j in p p2; do
    xp "//testcase/@classname | //testcase/@name" $j/junit.xml | tr " " "\n" | sort >$j.names || return 1
  done &&
  test_cmp p.names p2.names &&
  ! cmp -s p/plan.jsonl p2/plan.jsonl
'

test_expect_success 'errors, with infrastructure retries and failed attempts before them' '
  result infra error "{\"error\":{\"code\":\"infra\",\"message\":\"the sandbox died\"},\"message\":\"the sandbox died\",
    \"attempts\":[{\"attempt\":1,\"status\":\"failed\",\"duration_ms\":5,\"message\":\"exit code 1\"},
                {\"attempt\":2,\"status\":\"error\",\"duration_ms\":0,\"message\":\"the sandbox died\",\"infra\":true,\"retry_reason\":\"infra\"},
                {\"attempt\":3,\"status\":\"error\",\"duration_ms\":0,\"message\":\"the sandbox died\",\"infra\":true}]}" >e.jsonl &&
  result stop interrupted >>e.jsonl &&
  result mixed failed "{\"attempts\":[{\"attempt\":1,\"status\":\"error\",\"infra\":true,\"duration_ms\":0,\"message\":\"no answer\"},
    {\"attempt\":2,\"status\":\"timed_out\",\"duration_ms\":9,\"message\":\"timed out\"},{\"attempt\":3,\"status\":\"failed\",\"duration_ms\":5,\"message\":\"it failed\"}]}" >>e.jsonl &&
  test_expect_code 1 ht-report -q --junit e.xml e.jsonl && valid e.xml &&
  test "$(xp "string(//testcase[@name=\"tests/infra.sh\"]/error/@type)" e.xml)" = infra &&
  test "$(xp "count(//testcase[@name=\"tests/infra.sh\"]/rerunFailure)" e.xml)" = 1 &&
  test "$(xp "count(//testcase[@name=\"tests/infra.sh\"]/rerunError)" e.xml)" = 1 &&
  test "$(xp "string(//testcase[@name=\"tests/stop.sh\"]/error/@type)" e.xml)" = interrupted &&
  test "$(xp "string(/testsuite/@errors)" e.xml)" = 2 &&
  test "$(xp "string(//testcase[@name=\"tests/mixed.sh\"]/rerunFailure/@type)" e.xml)" = timed_out &&
  test "$(xp "string(//testcase[@name=\"tests/mixed.sh\"]/rerunError/@message)" e.xml)" = "attempt 1: no answer"
'

test_expect_success 'characters XML cannot hold are escaped, long output is capped with a note' '
  big=$(head -c 100000 /dev/zero | tr "\0" "y") &&
  result ctl failed "{\"message\":\"bell \u0007 esc \u001b[31m red\",\"output_tail\":\"a\u0001b \uffff \u00e9 ]]> & <x>\"}" >c.jsonl &&
  result big failed "{\"output_tail\":\"start $big end\",\"log_tail\":\"START_REQUEST\"}" >>c.jsonl &&
  test_expect_code 1 ht-report -q --junit c.xml c.jsonl && valid c.xml &&
  test "$(xp "string(//testcase[@name=\"tests/ctl.sh\"]/failure/@message)" c.xml)" = "bell \\u0007 esc \\u001b[31m red" &&
  xp "string(//testcase[@name=\"tests/ctl.sh\"]/system-out)" c.xml >out &&
  test_grep "a\\\\u0001b \\\\uffff é \]\]> & <x>" out &&
  xp "string(//testcase[@name=\"tests/big.sh\"]/system-out)" c.xml >out &&
  test_grep "^\[\.\.\. [0-9]* bytes cut\]$" out && test_grep "y end$" out &&
  test_must_fail grep "start" out &&
  test $(wc -c <out) -lt 70000 &&
  test "$(xp "string(//testcase[@name=\"tests/big.sh\"]/system-err)" c.xml)" = START_REQUEST
'

test_expect_success 'the schema is not empty: it refuses what CI would not read' '
  printf "<testsuite name=\"x\" tests=\"1\" failures=\"0\" errors=\"0\" skipped=\"0\"><testcase name=\"a\" classname=\"a\"/></testsuite>\n" >no-time.xml &&
  test_must_fail valid no-time.xml 2>err && test_grep "time" err &&
  printf "<testsuite name=\"x\" tests=\"1\" failures=\"1\" errors=\"0\" skipped=\"0\"><testcase name=\"a\" classname=\"a\" time=\"1\"><skipped/><failure type=\"f\"/></testcase></testsuite>\n" >two.xml &&
  test_must_fail valid two.xml &&
  printf "<testsuite name=\"x\" tests=\"1\" failures=\"0\" errors=\"0\" skipped=\"0\" timestamp=\"now\"></testsuite>\n" >ts.xml &&
  test_must_fail valid ts.xml &&
  printf "<testsuite name=\"x\" tests=\"1\" failures=\"0\" errors=\"0\" skipped=\"0\"><testcase name=\"a\" classname=\"a\" time=\"1\"><flakyFailure type=\"f\"/></testcase></testsuite>\n" >nost.xml &&
  test_must_fail valid nost.xml
'

test_done
