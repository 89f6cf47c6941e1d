#!/bin/sh
# One rule for run and test ids (1 to 128 of [A-Za-z0-9._-], lib/id.c) and
# one for timeout_s (an integer from 1 to 86400), the same in ht-plan,
# ht-invoke and ht-runner: what one accepts the others run, what one
# refuses the others refuse before anything runs.
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/ht-invoke-lib.sh"

[ -x "$HT_BIN/ht-runner" ] || test_skip_all 'ht-runner is not built'
export HT_WORK_DIR=$TRASH/work

id128=$(head -c 128 /dev/zero | tr "\0" a)
id129=$(head -c 129 /dev/zero | tr "\0" b)
id150=$(head -c 150 /dev/zero | tr "\0" c)

# with_timeout ID TIMEOUT: a record that runs `true` with that timeout_s,
# as written (jq would turn a large integer into a real).
with_timeout() { mkrec "$1" true "{\"timeout_s\":\"@T@\"}" | sed "s/\"@T@\"/$2/"; }

for to in 9223372036854775807 1e300 9e15 86401 0 -5 '"10"' 2.5; do
test_expect_success "ht-runner refuses timeout_s $to (not overflowed)" '
  with_timeout t "$to" >ev.json &&
  test_must_fail 65 ht-runner --once ev.json >out 2>err &&
  test_grep "error: ev.json: the event.s timeout_s must be an integer from 1 to 86400" err &&
  test ! -s out
'
done

test_expect_success 'ht-runner takes timeout_s 86400, and none at all' '
  with_timeout t 86400 >ev.json && ht-runner --once ev.json >out &&
  test_jq ".status == \"passed\"" out &&
  mkrec t true | jq -c "del(.timeout_s)" >ev.json && ht-runner --once ev.json >out &&
  test_jq ".status == \"passed\"" out
'

test_expect_success 'ht-invoke refuses the same timeouts before it invokes anything' '
  cd proj && for to in 9223372036854775807 1e300 86401 0; do
    with_timeout "t$(echo $to | tr -d .)" "$to"; done >plan.jsonl &&
  test_must_fail 65 ht-invoke plan.jsonl >out 2>err &&
  test "$(grep -c "timeout_s: expected an integer from 1 to 86400" err)" = 4 &&
  test ! -s out
'

test_expect_success 'a 128-character test_id and run_id run everywhere' '
  cd proj && mkrec "$id128" "echo long" "{\"run_id\":\"$id128\"}" >plan.jsonl &&
  ht-invoke --set local.sandbox=none plan.jsonl >out 2>err &&
  test_jq ".status == \"passed\" and .test_id == \"$id128\"" out &&
  test -e "$BUCKET/$id128/$id128/stdout.txt" &&
  ht-runner --once plan.jsonl >once && test_jq ".status == \"passed\"" once &&
  mkdir -p t && echo true >t/a.sh && echo "{\"runner\":{\"tests\":[\"t/*.sh\"],\"run\":\"sh {file}\"}}" >plan.json &&
  ht-plan -c plan.json --run-id "$id128" >planned &&
  test_jq ".run_id == \"$id128\"" planned
'

# Refused at plan time: a longer id would pass ht-invoke and then fail every
# attempt in the function as an infrastructure error.
for id in id129 id150; do
test_expect_success "a test_id of ${id#id} characters is refused when the plan is read" '
  cd proj && eval "long=\$'$id'" && mkrec "$long" true >plan.jsonl &&
  test_must_fail 65 ht-invoke --set local.sandbox=none plan.jsonl >out 2>err &&
  test_grep "error: plan.jsonl:1: test_id: expected a string of 1 to 128 of \[A-Za-z0-9._-\]" err &&
  test ! -s out &&
  test_must_fail 65 ht-runner --once plan.jsonl 2>err &&
  test_grep "run_id and test_id must be 1 to 128 of" err
'
done

test_expect_success 'a run_id of 150 characters, or one with a slash, is refused too' '
  cd proj && { mkrec a true "{\"run_id\":\"$id150\"}"; mkrec b true "{\"run_id\":\"r/1\"}"; } >plan.jsonl &&
  test_must_fail 65 ht-invoke plan.jsonl >out 2>err &&
  test_grep "plan.jsonl:1: run_id: expected a string of 1 to 128" err &&
  test_grep "plan.jsonl:2: run_id: expected a string of 1 to 128" err &&
  test_must_fail 64 ht-plan --run-id "$id150" 2>err &&
  test_grep "run-id: .* must be 1 to 128 of" err
'

test_done
