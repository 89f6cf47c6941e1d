#!/bin/sh
# What ht-invoke records for a run's timeline and says for people: each
# attempt's slot, times and worker, why a retry happened, the run summary's
# totals, a line per failure as it finishes when stderr is no terminal, and
# where the results, the artifacts and the report are.
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/ht-invoke-lib.sh"

have_real_runner || test_skip_all 'the timeline comes from the real ht-runner (make builds it)'

modes=none
have bwrap && bwrap --ro-bind / / true 2>/dev/null && modes="none bwrap"

for mode in $modes; do
test_expect_success "attempts carry slot, dispatch/start/end/answer times and the worker ($mode)" '
  cd proj && rm -rf "$BUCKET" &&
  for i in 1 2 3 4 5; do mkrec t$i "sleep 0.2"; done >plan.jsonl &&
  ht-invoke -j 2 --set local.sandbox='$mode' plan.jsonl >out.jsonl 2>err &&
  test "$(count_records out.jsonl)" = 5 &&
  test_jq -s "all(.[]; .attempts | length == 1)" out.jsonl &&
  test_jq -s "[.[].attempts[0].slot] | all(. == 0 or . == 1) and (unique | length == 2)" out.jsonl &&
  test_jq -s "all(.[].attempts[0]; .dispatch_ms <= .start_ms + 5 and .start_ms <= .end_ms and .end_ms <= .answer_ms + 5)" out.jsonl &&
  test_jq -s "all(.[].attempts[0]; .end_ms - .start_ms == .duration_ms and .duration_ms >= 150)" out.jsonl &&
  test_jq -s "all(.[].attempts[0]; (.worker | test(\"^sandbox-[0-9]+$\")) and (.request_id | length > 8) and (.cold | type) == \"boolean\")" out.jsonl &&
  # Two lanes, five tests: a sandbox serves more than one, warm.
  test_jq -s "[.[].attempts[0] | select(.cold == false)] | length >= 1" out.jsonl &&
  # No two attempts on one slot overlap.
  test_jq -s "[.[].attempts[0]] | group_by(.slot) | all(sort_by(.dispatch_ms) | [range(1; length) as \$k | .[\$k].dispatch_ms >= .[\$k - 1].answer_ms] | all)" out.jsonl
'
done

test_expect_success 'a retried test: each attempt says why the next one came' '
  cd proj && rm -rf "$BUCKET" &&
  mkrec bad "echo broken >&2; exit 1" >plan.jsonl &&
  test_expect_code 1 ht-invoke --retries 2 --set local.sandbox=none plan.jsonl >out.jsonl 2>err &&
  test_jq ".attempts | length == 3" out.jsonl &&
  test_jq ".attempts[0].retry_reason == \"failed (retry 1 of 2)\" and .attempts[1].retry_reason == \"failed (retry 2 of 2)\"" out.jsonl &&
  test_jq ".attempts[2] | has(\"retry_reason\") | not" out.jsonl
'

test_expect_success 'an infrastructure retry says so' '
  cd proj && rm -rf "$BUCKET" &&
  mkrec k "true" "{\"run\":{\"fake\":\"crash\"}}" >plan.jsonl &&
  test_expect_code 1 env HT_BIN=$FAKE_BIN ht-invoke --infra-retries 1 --set local.sandbox=none plan.jsonl >out.jsonl 2>err &&
  test_jq ".attempts | length == 2 and .[0].infra == true" out.jsonl &&
  test_jq ".attempts[0].retry_reason | test(\"^infrastructure: .*\\\\(retry 1 of 1\\\\)$\")" out.jsonl
'

test_expect_success 'without a terminal: a line per failure as it finishes, with its output' '
  cd proj && rm -rf "$BUCKET" &&
  { mkrec f1 "echo one >&2; exit 2"; mkrec slow "sleep 1"; } >plan.jsonl &&
  test_expect_code 1 ht-invoke -j 2 --set local.sandbox=none plan.jsonl >out.jsonl 2>err &&
  run=run-1 &&
  test_grep "^failed: tests/f1.sh: exit code 2: one (output: $BUCKET/$run/f1/)$" err &&
  # The line comes before the summary, i.e. when the test ended.
  test "$(grep -n "^failed: tests/f1.sh" err | cut -d: -f1)" -lt "$(grep -n "^2 tests in" err | cut -d: -f1)" &&
  test_grep "^  *output: $BUCKET/$run/f1/$" err &&
  test -e "$BUCKET/$run/f1/stderr.txt"
'

test_expect_success 'the end says where the results, the artifacts and the report are' '
  cd proj && rm -rf "$BUCKET" &&
  mkrec ok "true" >plan.jsonl &&
  ht-invoke --set local.sandbox=none -o res.jsonl plan.jsonl 2>err &&
  test_grep "^results: res.jsonl$" err &&
  test_grep "^artifacts: $BUCKET/run-1/$" err &&
  test_grep "^report: ht-report --run run-1 " err &&
  ht-invoke -q --set local.sandbox=none -o res.jsonl plan.jsonl 2>err &&
  test ! -s err
'

test_expect_success 'the run summary has the totals, the speed-up and the settings' '
  cd proj && rm -rf "$BUCKET" &&
  for i in 1 2 3 4; do mkrec s$i "sleep 0.3"; done >plan.jsonl &&
  ht-invoke -j 4 --retries 1 --set local.sandbox=none plan.jsonl >out.jsonl 2>err &&
  sum=$BUCKET/run-1/hypertest.results.json &&
  test_jq ".concurrency == 4 and .retries == 1 and .infra_retries == 2 and .flaky_fails == false" "$sum" &&
  test_jq ".test_ms >= 1200 and .wall_ms > 0" "$sum" &&
  test_jq "(.speedup - (.test_ms / .wall_ms) | fabs) < 0.01" "$sum" &&
  test_jq ".results | length == 4" "$sum" &&
  test_jq ".sandbox == \"none\" and .root == \"host\" and (has(\"image\") | not)" "$sum"
'

test_done
