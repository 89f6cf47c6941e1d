#!/bin/sh
# Closing the local provider: the Runtime API server stops at once, with
# no connection of a sandbox still counted as waiting. A sandbox that died
# while its runner waited in /next used to be counted until a 2 s time-out,
# which every run of ht-invoke paid at its end.
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/ht-invoke-lib.sh"

have_real_runner || test_skip_all 'the real ht-runner waits in /next (make builds it)'

modes=none
have bwrap && bwrap --ro-bind / / true 2>/dev/null && modes="none bwrap"

for mode in $modes; do
test_expect_success "the server stops with nothing waiting ($mode)" '
  cd proj &&
  for i in 1 2 3 4; do mkrec t$i "true"; done >plan.jsonl &&
  ht-invoke -vv -j 2 --set local.sandbox='$mode' plan.jsonl >out.jsonl 2>err &&
  test "$(count_records out.jsonl)" = 4 &&
  test_grep "local: Runtime API stopped after [0-9]* ms, 0 connections still suspended" err &&
  ms=$(sed -n "s/.*Runtime API stopped after \([0-9]*\) ms.*/\1/p" err) &&
  test "$ms" -lt 1000
'
done

test_done
