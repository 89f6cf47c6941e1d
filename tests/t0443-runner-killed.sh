#!/bin/sh
# A test that kills its runner (kill -9 $PPID) or its whole session is
# reported once as what it is, not retried as an infrastructure failure,
# and ht-invoke leaves no process of its sandboxes behind.
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/ht-invoke-lib.sh"

have_real_runner || test_skip_all 'ht-runner is not built'
have bwrap && bwrap --ro-bind / / true 2>/dev/null && test_have_bwrap=1 || test_have_bwrap=

# The session of the test's shell is the runner's: kill all of it. Each
# leaves a process that left the session first (setsid).
killers() {
  mkrec parent 'setsid sleep 300 </dev/null >/dev/null 2>&1 & sleep 0.2; kill -9 $PPID; sleep 5'
  mkrec session 'setsid sleep 301 </dev/null >/dev/null 2>&1 & sleep 0.2; set -- $(cat /proc/$$/stat); kill -9 -$6; sleep 5' '{"index":1}'
  mkrec fine 'echo fine' '{"index":2}'
}

killed() {
  killers >plan.jsonl &&
  test_expect_code 1 reaped leaks env HT_BIN=${2:-$RUNNER_BIN} ht-invoke -q -j 1 --set local.sandbox=$1 plan.jsonl >out.jsonl &&
  test_no_leaks leaks &&
  test "$(count_records out.jsonl)" = 3 &&
  test_jq -s "map(select(.test_id != \"fine\")) | all(.status == \"error\" and .error.code == \"runner_killed\" and (.attempts | length) == 1 and (.attempts[0].infra | not))" out.jsonl &&
  test_jq -s "map(select(.test_id != \"fine\")) | all(.message | test(\"^the runner died during the test \\\\(killed by signal 9 \\\\(Killed\\\\)\\\\): the test killed its runner or its session\"))" out.jsonl &&
  test_jq -s ".[] | select(.test_id == \"fine\") | .status == \"passed\"" out.jsonl
}

if [ -n "$test_have_bwrap" ]; then
test_expect_success 'bwrap: a test that kills its runner is reported once, nothing is left' '
  cd proj && killed bwrap
'
else
test_skip 'bwrap: a test that kills its runner' 'bwrap does not work here'
fi

test_expect_success 'sandbox none: the same' '
  cd proj && killed none
'

# The runner says a test started as a datagram on its sandbox's events
# socket (descriptor 3 without bwrap). Without it (closed here by a
# wrapper), it says so as a Runtime API request: the same verdicts, and
# one request more per test.
if have_real_runner; then
mkdir -p "$TRASH/no-events"
cat >"$TRASH/no-events/ht-runner" <<EOF
#!/bin/sh
exec 3>&-
exec "$HT_BIN/ht-runner" "\$@"
EOF
chmod +x "$TRASH/no-events/ht-runner"
test_expect_success 'sandbox none, no events socket: test-started goes as a request, the same verdicts' '
  cd proj && killed none "$TRASH/no-events" &&
  mkrec one "echo one" >one.jsonl &&
  HT_BIN="$TRASH/no-events" ht-invoke -vv -j 1 --set local.sandbox=none one.jsonl >out.jsonl 2>err &&
  # /next, test-started, the answer (and maybe one /next more)
  test_grep "served [34] requests" err
'
fi

test_done
