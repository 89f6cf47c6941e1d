#!/bin/sh
# A bwrap sandbox's /tmp has a size (local.tmp_mb, default 512 as Lambda's
# ephemeral storage): a test that fills it fails, saying so, and the
# machine's memory is not its to take.
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/ht-invoke-lib.sh"

have_real_runner || test_skip_all 'ht-runner is not built'
have bwrap && bwrap --ro-bind / / true 2>/dev/null || test_skip_all 'bwrap does not work here'

test_expect_success 'writing 600 MB to /tmp fails the test (512 MiB by default), the next test runs' '
  cd proj &&
  { mkrec big "df -m /tmp | tail -n 1; head -c 600000000 /dev/zero >/tmp/big";
    mkrec next "rm -f /tmp/big; echo fine" "{\"index\":1}"; } >plan.jsonl &&
  test_expect_code 1 env HT_BIN=$RUNNER_BIN ht-invoke -q -j 1 --set local.sandbox=bwrap plan.jsonl >out.jsonl &&
  test_jq -s ".[] | select(.test_id == \"big\") | .status == \"failed\" and (.attempts | length) == 1" out.jsonl &&
  test_jq -s ".[] | select(.test_id == \"big\") | .output_tail | test(\"No space left on device\")" out.jsonl &&
  test_jq -s ".[] | select(.test_id == \"big\") | .message | test(\"/tmp is full \\\\(512 MiB: local.tmp_mb on the local provider\")" out.jsonl &&
  test_jq -s ".[] | select(.test_id == \"big\") | .output_tail | test(\" 512 \")" out.jsonl &&
  test_jq -s ".[] | select(.test_id == \"next\") | .status == \"passed\"" out.jsonl
'

test_expect_success 'local.tmp_mb makes it larger' '
  cd proj &&
  mkrec big "head -c 600000000 /dev/zero >/tmp/big && df -m /tmp | tail -n 1" >plan.jsonl &&
  HT_BIN=$RUNNER_BIN ht-invoke -q --set local.sandbox=bwrap --set local.tmp_mb=700 plan.jsonl >out.jsonl &&
  test_jq ".status == \"passed\" and (.output_tail | test(\" 700 \"))" out.jsonl
'

test_expect_success 'local.tmp_mb out of range is a config error' '
  cd proj && mkrec a true >plan.jsonl &&
  test_must_fail 78 env HT_BIN=$RUNNER_BIN ht-invoke -q --set local.tmp_mb=0 plan.jsonl 2>err &&
  test_grep "local.tmp_mb" err
'

test_done
