#!/bin/sh
# Descriptors: a sandbox inherits none of ht-invoke's (nor of its caller's),
# and many tests in a row do not make the provider hold more of them.
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/ht-invoke-lib.sh"

have_real_runner || test_skip_all 'ht-runner is not built'
have bwrap && bwrap --ro-bind / / --unshare-pid true 2>/dev/null && modes="none bwrap" || modes=none

# The test lists its descriptors and where they lead.
fds='for f in /proc/self/fd/*; do echo "${f##*/} $(readlink "$f")"; done'

for mode in $modes; do
test_expect_success "a descriptor ht-invoke inherits does not reach the sandbox ($mode)" '
  cd proj &&
  mkrec fds "$fds; ls -l /proc/self/fd /proc/\$\$/fd" >plan.jsonl &&
  HT_BIN=$HT_BIN ht-invoke -q --set local.sandbox='$mode' plan.jsonl >out.jsonl 9>"$TRASH/inherited" 8<"$TRASH/proj/hypertest.json" &&
  jq -r .output_tail out.jsonl >tail && cat tail &&
  test_jq ".status == \"passed\"" out.jsonl &&
  ! grep -e "inherited" -e "hypertest.json" tail &&
  # nor ht-runner'"'"'s own: its HTTP socket and the events socket
  ! grep "socket:" tail
'
done

test_expect_success 'many sandboxes, one after the other: the provider does not keep descriptors' '
  cd proj &&
  for i in $(seq 1 40); do mkrec d$i "sleep 0.2"; done >plan.jsonl &&
  { HT_BIN=$HT_BIN ht-invoke -q -j 4 --set local.sandbox=none plan.jsonl >out.jsonl & echo $! >pid; } &&
  i=0; while [ $(count_records out.jsonl) -lt 5 ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done;
  early=$(ls /proc/$(cat pid)/fd 2>/dev/null | wc -l);
  i=0; while [ $(count_records out.jsonl) -lt 30 ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done;
  late=$(ls /proc/$(cat pid)/fd 2>/dev/null | wc -l);
  wait $(cat pid) && test "$(count_records out.jsonl)" = 40 &&
  say "descriptors of ht-invoke: $early after 5 tests, $late after 30" &&
  test "$late" -gt 0 && test "$late" -lt $((early + 10))
'

test_done
