#!/bin/sh
# The local provider's sandboxes: read-only root, private /tmp, the Lambda
# environment, the concurrency cap, and the fallback when bwrap is missing.
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/ht-invoke-lib.sh"

have bwrap && bwrap --ro-bind / / true 2>/dev/null && test_have_bwrap=1 || test_have_bwrap=

# A PATH with the tools the tests use, but no bwrap.
mkdir -p "$TRASH/nobwrap"
for n in ht-invoke ht-runner env sh jq cat sed grep date sleep touch wc sort tr pwd; do
  p=$(command -v "$n") && case $p in /*) ln -s "$p" "$TRASH/nobwrap/$n" ;; esac
done

if [ -n "$test_have_bwrap" ]; then
test_expect_success 'bwrap: the root and /var/task are read-only, /tmp and the bucket writable' '
  cd proj &&
  { mkrec task "touch /var/task/x"; mkrec root "touch /etc/x"; mkrec usr "mkdir /usr/x";
    mkrec tmp "echo hi >/tmp/x && cat /tmp/x";
    mkrec bucket "echo hi >\${HT_BUCKET#file://}/written"; } >plan.jsonl &&
  test_expect_code 1 env HT_BIN=$RUNNER_BIN ht-invoke -q --set local.sandbox=bwrap plan.jsonl >out.jsonl &&
  test "$(jq -r "select(.ok) | .test_id" out.jsonl | sort | tr "\n" " ")" = "bucket tmp " &&
  test_jq -s "map(select(.test_id == \"task\"))[0] | .status == \"failed\" and (.output_tail | test(\"Read-only\"))" out.jsonl &&
  test ! -e x && test -e "$BUCKET/written"
'

test_expect_success 'bwrap: the Lambda environment, cwd /var/task, a private /tmp per sandbox' '
  cd proj && echo marker >marker.txt &&
  mkrec env "pwd; cat marker.txt; env; ls -A /tmp | wc -l; touch /tmp/mine" >plan.jsonl &&
  HT_BIN=$RUNNER_BIN ht-invoke -q --set local.sandbox=bwrap plan.jsonl >out.jsonl &&
  jq -r .output_tail out.jsonl >tail &&
  test_grep "^/var/task$" tail && test_grep "^marker$" tail &&
  ! grep "^AWS_LAMBDA_RUNTIME_API=" tail &&
  test_grep "^AWS_LAMBDA_FUNCTION_NAME=" tail &&
  test_grep "^AWS_LAMBDA_FUNCTION_VERSION=\$LATEST$" tail &&
  test_grep "^AWS_LAMBDA_FUNCTION_MEMORY_SIZE=[0-9]" tail &&
  test_grep "^LAMBDA_TASK_ROOT=/var/task$" tail &&
  test_grep "^HOME=/tmp$" tail &&
  test_grep "^HT_BUCKET=file:///var/bucket$" tail &&
  ! grep -q "^HT_SRC=" tail && ! test -e /tmp/mine
'
else
test_skip 'bwrap: read-only root' 'bwrap does not work here'
test_skip 'bwrap: the Lambda environment' 'bwrap does not work here'
fi

test_expect_success 'sandbox none: plain processes, a private TMPDIR, cwd the project root' '
  cd proj &&
  mkrec n "pwd; echo TMPDIR=\$TMPDIR; echo HOME=\$HOME; echo W=\$HT_WORK_DIR" >plan.jsonl &&
  HT_BIN=$RUNNER_BIN ht-invoke -q --set local.sandbox=none plan.jsonl >out.jsonl 2>err &&
  jq -r .output_tail out.jsonl >tail &&
  test_grep "^$TRASH/proj$" tail &&
  tmp=$(sed -n "s/^TMPDIR=//p" tail) && test -n "$tmp" &&
  test_grep "^W=$tmp$" tail && test_grep "^HOME=$tmp$" tail &&
  test ! -e "$tmp" && test ! -s err
'

test_expect_success 'no bwrap on PATH: one warning, the tests still run unsandboxed' '
  cd proj &&
  for i in 1 2 3; do mkrec nb$i "pwd"; done >plan.jsonl &&
  PATH=$TRASH/nobwrap HT_BIN=$RUNNER_BIN ht-invoke -j 2 plan.jsonl >out.jsonl 2>err &&
  test "$(grep -c "warning: cannot find .bwrap." err)" = 1 &&
  test "$(count_records out.jsonl)" = 3 &&
  test_jq -s "all(.[]; .status == \"passed\" and (.output_tail | test(\"$TRASH/proj\")))" out.jsonl
'

test_expect_success 'local.sandbox=bwrap without bwrap: exit 69, nothing run' '
  cd proj &&
  mkrec x "true" >plan.jsonl &&
  PATH=$TRASH/nobwrap test_expect_code 69 env HT_BIN=$RUNNER_BIN ht-invoke --set local.sandbox=bwrap plan.jsonl >out 2>err &&
  test ! -s out && test_grep "bwrap" err
'

test_expect_success 'a bwrap that does not work: one warning naming why, then the fallback' '
  cd proj && mkdir -p badbwrap &&
  printf "#!/bin/sh\necho \"bwrap: No permissions to create new namespace\" >&2\nexit 1\n" >badbwrap/bwrap &&
  chmod +x badbwrap/bwrap &&
  mkrec bb "true" >plan.jsonl &&
  PATH=$TRASH/proj/badbwrap:$PATH HT_BIN=$RUNNER_BIN ht-invoke plan.jsonl >out.jsonl 2>err &&
  test_grep "warning: bwrap does not work here (bwrap: No permissions" err &&
  test_jq ".status == \"passed\"" out.jsonl &&
  PATH=$TRASH/proj/badbwrap:$PATH test_expect_code 69 env HT_BIN=$RUNNER_BIN ht-invoke -q --set local.sandbox=bwrap plan.jsonl
'

# Each test appends "start" and "end" lines with a timestamp to the bucket.
conc_test='b=${HT_BUCKET#file://}; echo "$(date +%s%N) 1" >>$b/events; sleep 0.3; echo "$(date +%s%N) -1" >>$b/events'
max_overlap() { sort -n "$1" | awk '{ n += $2; if (n > m) m = n } END { print m }'; }

for mode in none ${test_have_bwrap:+bwrap}; do
test_expect_success "concurrency is honoured ($mode): never more than -j at once" '
  cd proj && rm -f "$BUCKET/events" &&
  for i in 1 2 3 4 5 6 7; do mkrec c$i "$conc_test"; done >plan.jsonl &&
  HT_BIN=$RUNNER_BIN ht-invoke -q -j 3 --set local.sandbox='$mode' plan.jsonl >out.jsonl &&
  test "$(count_records out.jsonl)" = 7 &&
  test "$(wc -l <"$BUCKET/events")" = 14 &&
  test "$(max_overlap "$BUCKET/events")" = 3 &&
  rm -f "$BUCKET/events" &&
  HT_BIN=$RUNNER_BIN ht-invoke -q --set concurrency=2 --set local.sandbox='$mode' plan.jsonl >out.jsonl &&
  test "$(max_overlap "$BUCKET/events")" = 2
'
done

test_done
