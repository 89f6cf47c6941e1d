#!/bin/sh
# make hypertest-report (mk/hypertest.mk) with the real tools: the
# summary, and report.html, junit.xml and trace.json under HT_DIR.
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/ht-report-lib.sh"

have make || test_skip_all 'GNU make is not installed'
have jq || test_skip_all 'jq is needed'

test_expect_success 'a project that includes the fragment; its run fails' '
  make_run p >/dev/null; rm -rf p/results.jsonl p/plan.jsonl p/.hypertest &&
  printf "all:\n\t@echo default\ninclude %s\n" "$HT_SRC/mk/hypertest.mk" >p/Makefile &&
  test_must_fail make -s -C p HT_BIN="$HT_BIN" hypertest-run 2>err &&
  test -s p/.hypertest/results.jsonl
'

test_expect_success 'make -n hypertest-report shows the command and writes nothing' '
  make -n -C p HT_BIN=/opt/ht hypertest-report >out &&
  test_grep "^/opt/ht/ht-report  *--set dir=$TRASH/p/.hypertest --html .hypertest/report.html --junit .hypertest/junit.xml --trace .hypertest/trace.json *.hypertest/results.jsonl$" out &&
  ! test -e p/.hypertest/report.html
'

test_expect_success 'hypertest-report writes all three and fails as the run did' '
  test_must_fail make -s -C p HT_BIN="$HT_BIN" hypertest-report >out 2>err &&
  test_grep "Error 1" err &&
  test_grep "^  2 passed, 1 failed, 1 flaky, 1 skipped, 1 timed out, 0 errors$" out &&
  test_grep "^  report: .hypertest/report.html$" out &&
  test_grep "^  artifacts: $TRASH/p/.hypertest/bucket/" out &&
  test_grep "<testsuite name=\"hypertest\" tests=\"6\"" p/.hypertest/junit.xml &&
  jq -e ".traceEvents | length > 6" p/.hypertest/trace.json >/dev/null &&
  test_grep "<script id=\"ht-data\"" p/.hypertest/report.html &&
  ! ls p/.hypertest/*.tmp* 2>/dev/null
'

test_expect_success 'HT_REPORT_FLAGS reach ht-report; without results it says so' '
  test_must_fail make -s -C p HT_BIN="$HT_BIN" HT_REPORT_FLAGS="--slowest 0 --artifacts https://ci.example/a" \
    hypertest-report >out 2>err &&
  test_must_fail grep "^slowest:" out && test_grep "^  artifacts: https://ci.example/a/" out &&
  test_grep "https://ci.example/a/" p/.hypertest/report.html &&
  rm p/.hypertest/results.jsonl &&
  test_must_fail make -s -C p HT_BIN="$HT_BIN" hypertest-report 2>err &&
  test_grep "ht-report: error: cannot open .\.hypertest/results.jsonl." err
'

test_done
