#!/bin/sh
# Runaway output: a test that floods stdout (yes) keeps only the tail of
# its output (max_output_mb, ht-runner's cap, the same on every provider)
# with a note of what was cut; a test that reached its deadline is
# timed_out once, not an infrastructure error retried; and no temporary
# file is left in the bucket.
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/ht-invoke-lib.sh"

have_real_runner || test_skip_all 'ht-runner is not built'
have bwrap && bwrap --ro-bind / / true 2>/dev/null && test_have_bwrap=1 || test_have_bwrap=

MIB=1048576

# flood MODE: a yes flood with a 3 s timeout and a 1 MiB cap, and a 3 s one
# with the default cap on stderr, in local.sandbox MODE.
flood() {
  rm -rf "$BUCKET" &&
  { mkrec y 'yes' '{"timeout_s":3,"max_output_mb":1}';
    mkrec e 'yes >&2' '{"timeout_s":3}'; } >plan.jsonl &&
  test_expect_code 1 env HT_BIN=$RUNNER_BIN ht-invoke -q -j 2 --set local.sandbox=$1 plan.jsonl >out.jsonl &&
  test_jq -s 'length == 2 and all(.status == "timed_out") and all(.attempts | length == 1)' out.jsonl &&
  test_jq -s 'all(.message | test("^timed out after 3 s"))' out.jsonl &&
  # The tail is kept, after one line that says what was cut.
  out=$BUCKET/run-1/y/stdout.txt && err=$BUCKET/run-1/e/stderr.txt &&
  size=$(stat -c %s "$out") &&
  test "$size" -gt $MIB && test "$size" -lt $((MIB + 300)) &&
  head -n 1 "$out" >note && test_grep "^\[ht-runner: output cut: the first [0-9]* bytes of stdout are not kept; the last 1048576 follow (max_output_mb 1)\]$" note &&
  test "$(sed 1d "$out" | sort -u)" = y &&
  test "$(sed 1d "$out" | wc -c)" = $MIB &&
  size=$(stat -c %s "$err") &&
  test "$size" -gt $((10 * MIB)) && test "$size" -lt $((10 * MIB + 300)) &&
  test_jq -s '.[] | select(.test_id == "y") | .output_cut.stdout > 1048576 and (.output_cut | has("stderr") | not)' out.jsonl &&
  test_jq -s '.[] | select(.test_id == "e") | .output_cut.stderr > 10485760' out.jsonl &&
  test_jq -s '.[] | select(.test_id == "y") | .message | test("stdout cut to its last 1 MiB")' out.jsonl &&
  # Nothing half-written stays in the bucket.
  find "$BUCKET" -name "*.tmp*" >tmps && test ! -s tmps
}

if [ -n "$test_have_bwrap" ]; then
test_expect_success 'bwrap: a yes flood is timed_out once, its output capped to the tail' '
  cd proj && flood bwrap
'
else
test_skip 'bwrap: a yes flood' 'bwrap does not work here'
fi

test_expect_success 'sandbox none: the same' '
  cd proj && flood none
'

test_expect_success 'ht-runner --once: under the cap nothing is cut, over it the exact tail' '
  mkrec small "seq 1000" >small.json &&
  HT_BUCKET=file://$TRASH/b ht-runner --once small.json >r.json &&
  test_jq "has(\"output_cut\") | not" r.json &&
  seq 1000 >expect && test_cmp expect "$TRASH/b/run-1/small/stdout.txt" &&
  mkrec big "seq 1000000; seq 3 >&2" "{\"max_output_mb\":1}" >big.json &&
  HT_BUCKET=file://$TRASH/b ht-runner --once big.json >r.json &&
  test_jq ".status == \"passed\" and .output_cut.stdout == $(seq 1000000 | wc -c) - $MIB" r.json &&
  test_jq ".message == \"exit code 0; stdout cut to its last 1 MiB of 6.6 MiB\"" r.json &&
  seq 1000000 | tail -c $MIB >expect && sed 1d "$TRASH/b/run-1/big/stdout.txt" >got && test_cmp expect got &&
  seq 3 >expect && test_cmp expect "$TRASH/b/run-1/big/stderr.txt"
'

test_expect_success 'ht-runner --once: a bad max_output_mb is refused' '
  mkrec bad "true" "{\"max_output_mb\":0}" >bad.json &&
  test_must_fail 65 ht-runner --once bad.json 2>err &&
  test_grep "max_output_mb must be an integer from 1 to 10240" err
'

test_expect_success 'ht-plan writes runner.max_output_mb into each record when it is not the default' '
  mkdir plan && cd plan &&
  echo "{\"runner\":{\"name\":\"command\",\"tests\":[\"a.sh\"],\"run\":\"sh {file}\",\"max_output_mb\":3}}" >hypertest.json &&
  : >a.sh && ht-plan >p.jsonl &&
  test_jq ".max_output_mb == 3" p.jsonl &&
  echo "{\"runner\":{\"name\":\"command\",\"tests\":[\"a.sh\"],\"run\":\"sh {file}\"}}" >hypertest.json &&
  ht-plan >p.jsonl && test_jq "has(\"max_output_mb\") | not" p.jsonl
'

test_done
