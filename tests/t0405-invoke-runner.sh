#!/bin/sh
# With the real ht-runner: a test that times out (its processes really
# gone), and a test that kills its runner (reported once, not retried).
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/ht-invoke-lib.sh"

have_real_runner || test_skip_all 'ht-runner is not built'
have bwrap && bwrap --ro-bind / / true 2>/dev/null && modes="none bwrap" || modes=none

for mode in $modes; do
test_expect_success "a test past its timeout is timed_out and its processes are gone ($mode)" '
  cd proj && rm -f "$BUCKET"/pids &&
  mkrec slow "b=\${HT_BUCKET#file://}; sleep 41.3 & echo \$! >>\$b/pids; echo \$\$ >>\$b/pids; sleep 41.4" "{\"timeout_s\":1}" >plan.jsonl &&
  test_expect_code 1 reaped leaks env HT_BIN=$HT_BIN ht-invoke -q --set local.sandbox='$mode' plan.jsonl >out.jsonl &&
  test_jq ".status == \"timed_out\" and .ok == false and .attempt == 1" out.jsonl &&
  test_no_leaks leaks
'

test_expect_success "a test that kills its runner at once: error runner_killed, once, never failed ($mode)" '
  cd proj &&
  mkrec killer "kill -9 \$PPID; sleep 42.5" >plan.jsonl &&
  test_expect_code 1 reaped leaks env HT_BIN=$HT_BIN ht-invoke -q --set local.sandbox='$mode' plan.jsonl >out.jsonl &&
  test_jq ".status == \"error\" and .error.code == \"runner_killed\" and .attempt == 1" out.jsonl &&
  test_jq "all(.attempts[]; .infra != true)" out.jsonl &&
  test_jq ".message | test(\"runner died during the test\")" out.jsonl &&
  test_no_leaks leaks
'
done

test_done
