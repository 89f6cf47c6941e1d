#!/bin/sh
# ht-runner against a Runtime API stand-in: outcomes, timeouts that take the
# whole process group down, artifacts in a file bucket, bad events.
. "$HT_SRC/tests/lib.sh"
test_need jq python3

mkdir -p proj events resp bucket
cat >proj/pass.sh <<'T'
echo all good
T
cat >proj/fail.sh <<'T'
echo "step one"
echo "assertion failed: 1 != 2" >&2
exit 1
T
printf 'echo nothing to do here\nexit 77\n' >proj/skip.sh
cat >proj/tap.sh <<'T'
echo "1..3"
echo "ok 1 - login"
echo "not ok 2 - logout works"
echo "ok 3 - profile # SKIP no profile"
T
cat >proj/junit.sh <<'T'
cat >"$HT_OUTPUT_DIR/junit.xml" <<'X'
<?xml version="1.0" encoding="UTF-8"?>
<testsuites><testsuite name="s" tests="3">
  <testcase classname="shop.Cart" name="adds &amp; removes"/>
  <testcase name="pays" classname="shop.Pay"><failure type="AssertionError" message="expected &lt;3&gt; got &quot;4&quot;">trace</failure></testcase>
  <testcase classname="shop.Pay" name="refunds"><skipped/></testcase>
</testsuite></testsuites>
X
exit 1
T
cat >proj/slow.sh <<'T'
sleep 300 &
echo $! >"$PIDFILE"
sleep 300
T
cat >proj/art.sh <<'T'
mkdir -p "$HT_OUTPUT_DIR/shots"
echo picture >"$HT_OUTPUT_DIR/shots/home.png"
echo log >"$HT_OUTPUT_DIR/trace.log"
T
cat >proj/home.sh <<'T'
test "$HOME" = /tmp && test "$(pwd)" = "$EXPECT_CWD" && test -d "$HT_OUTPUT_DIR"
T

# gone PID: the process is dead (gone, or a zombie that init has not
# reaped yet).
gone() {
  ! kill -0 "$1" 2>/dev/null && return 0
  state=$(sed 's/^[0-9]* (.*) \([A-Z]\).*/\1/' "/proc/$1/stat" 2>/dev/null)
  [ -z "$state" ] || [ "$state" = Z ] || { echo "process $1 is alive ($state)" >&2; return 1; }
}

ev() { # ev NAME FILE RUN-EXTRA [TOP-EXTRA]
  printf '{"schema":"ht.test/1.3","run_id":"run1","test_id":"t-%s","name":"%s","file":"%s","runner":"command","index":0%s,"run":{"argv":["sh","%s"]%s}}\n' \
    "$1" "$2" "$2" "${4:-}" "$2" "$3" >"events/$1.json"
}
ev 01-pass pass.sh ''
ev 02-fail fail.sh ',"outcome":"exit"'
ev 03-skip skip.sh ''
ev 04-tap tap.sh ',"outcome":"tap"'
ev 05-junit junit.sh ',"outcome":"junit","junit":"{out}/junit.xml"'
ev 06-slow slow.sh ",\"env\":{\"PIDFILE\":\"$TRASH/slow.pid\"}" ',"timeout_s":1'
ev 07-art art.sh '' ',"attempt":2'
ev 08-home home.sh ",\"env\":{\"EXPECT_CWD\":\"$TRASH/proj\"}"
printf 'this is not json' >events/09-notjson.json
echo '{"schema":"ht.test/2","run_id":"r","test_id":"t","run":{"argv":["true"]}}' >events/10-schema.json
echo '{"schema":"ht.test/1","run_id":"r","test_id":"t"}' >events/11-norun.json
echo '{"schema":"ht.test/1","run_id":"../x","test_id":"t","run":{"argv":["true"]}}' >events/12-badid.json
ev 13-deadline slow.sh ",\"env\":{\"PIDFILE\":\"$TRASH/slow2.pid\"}"
echo 2500 >events/13-deadline.deadline_ms
ev 14-after pass.sh ''

PORT=$(free_port)
python3 "$HT_SRC/tests/helpers/fake_runtime.py" --port "$PORT" --events events --out resp \
  --prefix /some/prefix >fake.log 2>&1 &
test_cleanup_server $!

test_expect_success 'the stand-in runtime starts' '
  wait_for_port "$PORT"
'

test_expect_success 'ht-runner serves every event and ends on 410' '
  AWS_LAMBDA_RUNTIME_API=127.0.0.1:$PORT/some/prefix LAMBDA_TASK_ROOT="$TRASH/proj" \
  HT_BUCKET="file://$TRASH/bucket" HT_WORK_DIR="$TRASH/work" \
    timeout 120 ht-runner 2>runner.err &&
  test -f resp/14-after.response
'

test_expect_success 'a passing test' '
  test_jq ".schema == \"ht.result/1\" and .status == \"passed\" and .ok == true and .exit_code == 0
    and .signal == null and .run_id == \"run1\" and .test_id == \"t-01-pass\" and .name == \"pass.sh\"
    and .file == \"pass.sh\" and .attempt == 1 and (.duration_ms | type) == \"number\"
    and (.started_at | test(\"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$\"))
    and .output_tail == \"all good\n\"" resp/01-pass.response
'

test_expect_success 'a failing test: exit code, message, output tail' '
  test_jq ".status == \"failed\" and .ok == false and .exit_code == 1 and .message == \"exit code 1: assertion failed: 1 != 2\"
    and (.output_tail | contains(\"step one\") and contains(\"assertion failed: 1 != 2\"))" resp/02-fail.response
'

test_expect_success 'exit code 77 is skipped' '
  test_jq ".status == \"skipped\" and .ok == true and .exit_code == 77" resp/03-skip.response
'

test_expect_success 'TAP: the failing case fails the test and is named' '
  test_jq ".status == \"failed\" and .message == \"not ok 2 - logout works\"
    and .tests.passed == 1 and .tests.failed == 1 and .tests.skipped == 1
    and .tests.failures[0].name == \"logout works\"" resp/04-tap.response
'

test_expect_success 'JUnit: counts, failing case, entities decoded' '
  test_jq ".status == \"failed\" and .tests.passed == 1 and .tests.failed == 1 and .tests.skipped == 1
    and .tests.failures[0].name == \"pays\" and .tests.failures[0].classname == \"shop.Pay\"
    and .tests.failures[0].message == \"expected <3> got \\\"4\\\"\"
    and (.message | startswith(\"FAILED shop.Pay.pays: expected <3>\"))
    and (.artifacts | index(\"run1/t-05-junit/out/junit.xml\"))" resp/05-junit.response
'

test_expect_success 'timeout: timed_out, and the whole process group is gone' '
  test_jq ".status == \"timed_out\" and .ok == false and .message == \"timed out after 1 s\"
    and .duration_ms < 5000" resp/06-slow.response &&
  pid=$(cat slow.pid) && test -n "$pid" &&
  gone "$pid"
'

test_expect_success 'the function deadline, less a margin, also stops a test' '
  test_jq ".status == \"timed_out\" and (.message | test(\"^timed out after 2\\\\.[0-9] s$\"))" resp/13-deadline.response &&
  pid=$(cat slow2.pid) && test -n "$pid" && gone "$pid"
'

test_expect_success 'artifacts land in the file bucket under their keys; empty streams are not kept' '
  test_jq ".attempt == 2 and .artifacts == [\"run1/t-07-art/out/shots/home.png\", \"run1/t-07-art/out/trace.log\"]
    and (has(\"upload_error\") | not)" resp/07-art.response &&
  ! test -e bucket/run1/t-07-art/stdout.txt && ! test -e bucket/run1/t-07-art/stderr.txt &&
  test_jq ".artifacts | index(\"run1/t-02-fail/stdout.txt\")" resp/02-fail.response &&
  echo picture >expect && test_cmp expect bucket/run1/t-07-art/out/shots/home.png &&
  echo log >expect && test_cmp expect bucket/run1/t-07-art/out/trace.log &&
  echo "step one" >expect && test_cmp expect bucket/run1/t-02-fail/stdout.txt
'

test_expect_success 'HOME=/tmp, the task root as working directory, HT_OUTPUT_DIR' '
  test_jq ".status == \"passed\"" resp/08-home.response
'

test_expect_success 'bad events are answered through /error, and the loop goes on' '
  for e in 09-notjson 10-schema 11-norun 12-badid; do
    test -f resp/$e.error && test ! -f resp/$e.response &&
    test_jq ".errorType == \"ht.BadEvent\" and (.errorMessage | length > 0)" resp/$e.error &&
    grep -qx ht.BadEvent resp/$e.error-type || return 1
  done &&
  test_jq ".errorMessage | contains(\"not JSON\")" resp/09-notjson.error &&
  test_jq ".errorMessage | contains(\"ht.test/2\")" resp/10-schema.error &&
  test_jq ".status == \"passed\"" resp/14-after.response
'

test_expect_success 'work directories under HT_WORK_DIR are removed' '
  test ! -e work/run1
'

test_expect_success 'a refused connection for good ends the runner with 0' '
  DEAD=$(free_port) &&
  AWS_LAMBDA_RUNTIME_API=127.0.0.1:$DEAD timeout 60 ht-runner 2>err
'

test_expect_success 'an unusable bucket is reported through /init/error' '
  mkdir ev2 resp2 &&
  P2=$(free_port) &&
  { python3 "$HT_SRC/tests/helpers/fake_runtime.py" --port "$P2" --events ev2 --out resp2 & echo $! >p2.pid; } &&
  wait_for_port "$P2" &&
  AWS_LAMBDA_RUNTIME_API=127.0.0.1:$P2 HT_BUCKET=s3://my-bucket test_expect_code 69 ht-runner 2>err;
  rc=$?; kill $(cat p2.pid); test $rc -eq 0 &&
  test_jq ".errorType == \"ht.BadBucket\" and (.errorMessage | contains(\"s3://my-bucket\"))" resp2/init.error &&
  test_grep "s3://my-bucket.*no AWS access" err
'

test_done
