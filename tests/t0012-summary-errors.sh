#!/bin/sh
# The run summary when it cannot be written (a file size limit, a name too
# long for its temporary): a warning, the results still on stdout, the
# temporary removed, and the summary an earlier run left in place kept.
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/ht-invoke-lib.sh"

[ -x "$HT_BIN/ht-runner" ] || test_skip_all 'ht-runner is not built'

SUMMARY=$BUCKET/run-1/hypertest.results.json

# plan N: N quick tests of run run-1.
plan() { for i in $(seq "$1"); do mkrec "t$i" true; done; }

test_expect_success 'setup: a first run leaves its summary' '
  cd proj && plan 20 >plan.jsonl &&
  ht-invoke --set local.sandbox=none plan.jsonl >out 2>err &&
  test_jq ".schema == \"ht.summary/1\" and .total == 20" "$SUMMARY" &&
  cp "$SUMMARY" "$TRASH/first.json"
'

# Under a 2 KiB file size limit (SIGXFSZ ignored, so the write fails with
# EFBIG) the summary fails in the middle: its buffer goes out at 4 KiB.
test_expect_success 'a summary that fails to write mid-run: warned, its temporary gone, the earlier one kept' '
  cd proj &&
  { sh -c "trap \"\" XFSZ; ulimit -f 4; exec ht-invoke --set local.sandbox=none plan.jsonl" 2>err;
    echo $? >rc; } | cat >out &&
  test "$(cat rc)" = 0 && test "$(wc -l <out)" = 20 &&
  test_grep "warning: cannot write the run summary" err &&
  ! ls "$BUCKET/run-1" | grep "\.tmp\." &&
  test_cmp "$TRASH/first.json" "$SUMMARY"
'

# A bucket directory so deep that the summary's name fits PATH_MAX but its
# temporary name (11 bytes longer) does not: the summary cannot be opened.
test_expect_success 'a summary that cannot be stored: warned, the earlier one kept' '
  cd proj && deep=$TRASH/d && n=$(printf %s "$TRASH/d/run-1/hypertest.results.json" | wc -c) &&
  while [ $((n + 201)) -lt 4090 ]; do deep=$deep/$(head -c 200 /dev/zero | tr "\0" x); n=$((n + 201)); done &&
  pad=$((4090 - n - 1)) && deep=$deep/$(head -c $pad /dev/zero | tr "\0" y) &&
  mkdir -p "$deep/run-1" && echo "{\"earlier\":true}" >"$deep/run-1/hypertest.results.json" &&
  test $(printf %s "$deep/run-1/hypertest.results.json" | wc -c) -ge 4085 &&
  ht-invoke --set local.sandbox=none --set local.bucket="$deep" plan.jsonl >out 2>err &&
  test "$(wc -l <out)" = 20 &&
  test_grep "warning: cannot upload the run summary" err &&
  test_jq ".earlier" "$deep/run-1/hypertest.results.json"
'

test_done
