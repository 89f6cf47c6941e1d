#!/bin/sh
# local.memory_mb is enforced: a test whose processes use more memory (RSS)
# than that fails with a message that says so; one under it passes.
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/ht-invoke-lib.sh"

have_real_runner || test_skip_all 'ht-runner is not built'
have bwrap && bwrap --ro-bind / / true 2>/dev/null && test_have_bwrap=1 || test_have_bwrap=

# A child that touches 400 MiB, a MiB at a time, then waits.
hog='python3 -c "
import time
b = []
for i in range(400):
    b.append(bytearray(1048576))
    time.sleep(0.002)
time.sleep(30)
"'

memory() {
  { mkrec hog "$hog" "{\"timeout_s\":20}"; mkrec small "python3 -c \"b = bytearray(20 << 20)\"" "{\"index\":1}"; } >plan.jsonl &&
  test_expect_code 1 env HT_BIN=$RUNNER_BIN ht-invoke -q -j 1 --set local.sandbox=$1 --set local.memory_mb=200 plan.jsonl >out.jsonl &&
  test_jq -s ".[] | select(.test_id == \"hog\") | .status == \"failed\" and (.attempts | length) == 1 and .signal == 9" out.jsonl &&
  test_jq -s ".[] | select(.test_id == \"hog\") | .message | test(\"^killed: its processes used [0-9]+ MiB, over the memory limit of 200 MiB \\\\(local.memory_mb\\\\)$\")" out.jsonl &&
  test_jq -s ".[] | select(.test_id == \"hog\") | .duration_ms < 15000" out.jsonl &&
  test_jq -s ".[] | select(.test_id == \"small\") | .status == \"passed\"" out.jsonl
}

if [ -n "$test_have_bwrap" ]; then
test_expect_success 'bwrap: a test over local.memory_mb fails, saying so' '
  cd proj && memory bwrap
'
else
test_skip 'bwrap: local.memory_mb' 'bwrap does not work here'
fi

test_expect_success 'sandbox none: the same' '
  cd proj && memory none
'

test_expect_success 'local.memory_mb 0 (the default): no limit' '
  cd proj && mkrec m "python3 -c \"b = bytearray(300 << 20)\"" >plan.jsonl &&
  HT_BIN=$RUNNER_BIN ht-invoke -q --set local.sandbox=none plan.jsonl >out.jsonl &&
  test_jq ".status == \"passed\"" out.jsonl
'

test_done
