#!/bin/sh
# ht-runner --once: one record without the Runtime API; TAP and JUnit corner
# cases, signals, no bucket, bad records.
. "$HT_SRC/tests/lib.sh"
test_need jq

export HT_WORK_DIR="$TRASH/work"
rec() { # rec SHELL-COMMAND [RUN-EXTRA]
  jq -cn --arg c "$1" --argjson x "${2:-{\}}" \
    '{schema:"ht.test/1",run_id:"r",test_id:"t",name:"n",timeout_s:20,run:({shell:$c} + $x)}'
}

test_expect_success 'from stdin, without a bucket: the result says so' '
  rec "echo hi" | ht-runner --once - >res.json &&
  test_jq ".status == \"passed\" and .artifacts == [] and (.upload_error | contains(\"HT_BUCKET\"))" res.json
'

test_expect_success 'a failed test exits 1 and still prints its record' '
  rec "exit 3" >e.json && test_expect_code 1 ht-runner --once e.json >res.json &&
  test_jq ".status == \"failed\" and .exit_code == 3 and .message == \"exit code 3\"" res.json
'

test_expect_success 'killed by a signal' '
  rec "kill -9 \$\$" | test_expect_code 1 ht-runner --once - >res.json &&
  test_jq ".status == \"failed\" and .signal == 9 and .exit_code == null and (.message | startswith(\"killed by signal 9\"))" res.json
'

test_expect_success 'TAP: bail out fails' '
  rec "echo 1..2; echo ok 1; echo Bail out! database down" "{\"outcome\":\"tap\"}" |
    test_expect_code 1 ht-runner --once - >res.json &&
  test_jq ".status == \"failed\" and .message == \"Bail out! database down\"" res.json
'

test_expect_success 'TAP: a plan mismatch fails' '
  rec "echo 1..3; echo ok 1; echo ok 2" "{\"outcome\":\"tap\"}" | test_expect_code 1 ht-runner --once - >res.json &&
  test_jq ".status == \"failed\" and .message == \"planned 3 tests but ran 2\" and .tests.passed == 2" res.json
'

test_expect_success 'TAP: a skip plan skips; TODO failures do not fail' '
  rec "echo \"1..0 # SKIP no database\"" "{\"outcome\":\"tap\"}" | ht-runner --once - >res.json &&
  test_jq ".status == \"skipped\" and .message == \"skipped: no database\"" res.json &&
  rec "echo 1..2; echo ok 1 - a; echo \"not ok 2 - b # TODO later\"" "{\"outcome\":\"tap\"}" | ht-runner --once - >res.json &&
  test_jq ".status == \"passed\" and .tests.todo == 1" res.json
'

test_expect_success 'TAP: all cases pass but the exit code is not 0' '
  rec "echo 1..1; echo ok 1; exit 2" "{\"outcome\":\"tap\"}" | test_expect_code 1 ht-runner --once - >res.json &&
  test_jq ".status == \"failed\" and .message == \"exit code 2\"" res.json
'

test_expect_success 'JUnit: a missing file is an error when the test exited 0' '
  rec "true" "{\"outcome\":\"junit\",\"junit\":\"{out}/j.xml\"}" | test_expect_code 1 ht-runner --once - >res.json &&
  test_jq ".status == \"error\" and .error.code == \"junit\" and (.message | contains(\"{out}/j.xml\") | not)" res.json &&
  rec "exit 4" "{\"outcome\":\"junit\",\"junit\":\"{out}/j.xml\"}" | test_expect_code 1 ht-runner --once - >res.json &&
  test_jq ".status == \"failed\" and (.message | startswith(\"exit code 4\"))" res.json
'

test_expect_success 'JUnit: errors, attributes in any order, text messages, CDATA' '
  cat >j.xml <<-X &&
	<testsuite><!-- a <comment> -->
	<testcase time="0.1" name="a &amp; b" classname="k"><error type="E">
	boom &lt;here&gt;
	second line</error></testcase>
	<testcase name="c"><failure><![CDATA[x < y]]></failure></testcase>
	<testcase name="d"/>
	</testsuite>
	X
  rec "cp $TRASH/j.xml \"\$HT_OUTPUT_DIR/j.xml\"" "{\"outcome\":\"junit\",\"junit\":\"{out}/j.xml\"}" |
    test_expect_code 1 ht-runner --once - >res.json &&
  test_jq ".status == \"failed\" and .tests.errors == 1 and .tests.failed == 1 and .tests.passed == 1
    and .tests.failures[0] == {\"name\":\"a & b\",\"classname\":\"k\",\"message\":\"boom <here>\",\"kind\":\"error\"}
    and .tests.failures[1].message == \"x < y\"
    and .message == \"ERROR k.a & b: boom <here> (and 1 more)\"" res.json
'

test_expect_success 'JUnit: not XML at all is an error' '
  rec "echo garbage >\"\$HT_OUTPUT_DIR/j.xml\"" "{\"outcome\":\"junit\",\"junit\":\"{out}/j.xml\"}" |
    test_expect_code 1 ht-runner --once - >res.json &&
  test_jq ".status == \"error\" and .ok == false and (.error.message | contains(\"testsuite\"))" res.json
'

test_expect_success 'a program that does not exist is an error, not a crash' '
  jq -cn "{schema:\"ht.test/1\",run_id:\"r\",test_id:\"t\",run:{argv:[\"/no/such/prog\"]}}" |
    test_expect_code 1 ht-runner --once - >res.json &&
  test_jq ".status == \"error\" and .error.code == \"spawn\"" res.json
'

test_expect_success 'output is bounded: a large output keeps a 4 KiB tail of both streams' '
  rec "seq 1 200000; echo ERR-END >&2" | ht-runner --once - >res.json &&
  test_jq "(.output_tail | length) <= 4096 and (.output_tail | contains(\"200000\\n\") and endswith(\"ERR-END\\n\"))" res.json
'

test_expect_success 'invalid UTF-8 in the output still gives a valid record' '
  rec "printf \"a\\377b\\n\"" | ht-runner --once - >res.json &&
  test_jq ".output_tail == \"a?b\\n\"" res.json
'

test_expect_success 'bad records: 65 with the reason' '
  echo "{\"schema\":\"ht.result/1\"}" | test_expect_code 65 ht-runner --once - 2>err &&
  test_grep "not an ht.test/1 record" err &&
  echo "{\"schema\":\"ht.test/1\",\"run_id\":\"r\",\"test_id\":\"t\",\"run\":{\"argv\":[1]}}" |
    test_expect_code 65 ht-runner --once - 2>err && test_grep "argv" err &&
  test_expect_code 66 ht-runner --once missing.json 2>err
'

test_expect_success 'without --once, AWS_LAMBDA_RUNTIME_API must be set' '
  test_must_fail 64 ht-runner 2>err && test_grep AWS_LAMBDA_RUNTIME_API err
'

test_expect_success 'an s3 bucket without AWS credentials fails clearly' '
  rec true >t.json && HT_BUCKET=s3://bkt test_expect_code 69 ht-runner --once t.json 2>err &&
  test_grep "no AWS credentials" err && test_grep "bucket '\''s3://bkt'\'': no AWS access" err
'

test_done
