#!/bin/sh
# What the local provider does for each test, counted (not timed, so a
# loaded machine cannot make it flake): the Runtime API requests of a
# runner (none per test: ht-runner asks for work, answers and says a test
# started on its sandbox's channel, a socket pair; an event or a result
# too large for a message goes by HTTP, one request), and under strace what
# ht-runner does around each test: its HTTP handle is kept (libcurl's
# socket pair made once, not once per request), nothing is synced, the
# bucket gets nothing for a test that prints nothing and leaves no file
# (an empty stdout.txt or stderr.txt is not kept), and for one that prints
# one file (an unnamed file linked into place, or a temporary file renamed)
# and its directory; /proc is not scanned for a quick test, and no process
# starts but the tests themselves. bench/local-overhead.sh
# has the times.
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/ht-invoke-lib.sh"

have_real_runner || test_skip_all 'the real ht-runner is needed (make builds it)'

N=20
# noop ID: a record that runs `true` (argv, no shell); echo ID: one that
# prints its id (`echo`, argv too).
noop() {
  jq -cn --arg id "$1" '{schema:"ht.test/1",run_id:"run-1",test_id:$id,name:("tests/"+$id+".sh"),
    file:("tests/"+$id+".sh"),runner:"command",index:0,timeout_s:20,run:{argv:["true"],outcome:"exit"}}'
}
echoes() {
  jq -cn --arg id "$1" '{schema:"ht.test/1",run_id:"run-1",test_id:$id,name:("tests/"+$id+".sh"),
    file:("tests/"+$id+".sh"),runner:"command",index:0,timeout_s:20,run:{argv:["echo",$id],outcome:"exit"}}'
}
i=0; while [ $i -lt $N ]; do noop t$i; i=$((i + 1)); done >"$TRASH/proj/plan.jsonl"
i=0; while [ $i -lt $N ]; do echoes e$i; i=$((i + 1)); done >"$TRASH/proj/echo.jsonl"

modes=none
have bwrap && bwrap --ro-bind / / true 2>/dev/null && modes="none bwrap"

for mode in $modes; do
test_expect_success "no Runtime API request per test: the channel ($mode)" '
  cd proj &&
  ht-invoke -vv -j 1 --set local.sandbox='$mode' plan.jsonl >out.jsonl 2>err &&
  test "$(count_records out.jsonl)" = $N &&
  test_jq ".status == \"passed\" and .artifacts == []" out.jsonl &&
  # (the directory of the run holds the run summary only)
  test "$(ls .hypertest/bucket/run-1)" = hypertest.results.json &&
  test_grep "local: Runtime API served 0 requests on 0 connections" err &&
  # per test: N (the next, please), S (started), R (the answer); and the
  # last N, which waits until the end
  msgs=$(sed -n "s/.*channels carried \([0-9]*\) messages.*/\1/p" err) &&
  test "$msgs" -ge $((3 * N)) && test "$msgs" -le $((3 * N + 1))
'
done

# An event larger than a message (variables of 180 KB): 'H' on the
# channel, and the runner takes it with GET /next, one request. A result
# larger than a message: POSTed, one request.
awk 'BEGIN { while (n++ < 60000) printf "x"; print "" }' |
jq -cR '{schema:"ht.test/1",run_id:"run-2",test_id:"big-event",name:"tests/big.sh",
  file:"tests/big.sh",runner:"command",index:0,timeout_s:20,
  run:{shell:"test $((${#BIG1} + ${#BIG2} + ${#BIG3})) = 180000",env:{BIG1:.,BIG2:.,BIG3:.},outcome:"exit"}}' \
  >"$TRASH/proj/big-event.jsonl"
# A batch of 40 tests that print 4 KB each: its answer (40 records with
# their output's tails) is over 128 KB.
mkdir -p "$TRASH/big/tests"
i=1; while [ $i -le 40 ]; do
  echo 'awk "BEGIN { while (n++ < 80) print \"line \" n \" of the output of a test that prints a lot\" }"' \
    >"$TRASH/big/tests/t$i.sh"; i=$((i + 1))
done
cat >"$TRASH/big/hypertest.json" <<JSON
{"provider":"local","runner":{"tests":["tests/*.sh"],"run":"sh {file}"},
 "batch_target_ms":100000,"batch_max_tests":40,"concurrency":1}
JSON
for mode in $modes; do
test_expect_success "an event or a result too large for the channel goes by HTTP ($mode)" '
  cd proj &&
  ht-invoke -vv -j 1 --set local.sandbox='$mode' big-event.jsonl >out.jsonl 2>err &&
  test_jq ".status == \"passed\"" out.jsonl &&
  test_grep "local: Runtime API served 1 requests" err &&
  cd ../big && ht-plan >plan.jsonl && test "$(wc -l <plan.jsonl)" = 1 &&
  ht-invoke -vv --set local.sandbox='$mode' plan.jsonl >out.jsonl 2>err &&
  test "$(count_records out.jsonl)" = 40 &&
  test_jq ".status == \"passed\" and (.output_tail | length) > 3000" out.jsonl &&
  test_grep "local: Runtime API served 1 requests" err
'
done

# ht-runner is not dumpable (docs/security.md): as a user, strace sees its
# calls but cannot read their arguments; as root it can.
if [ "$(id -u)" != 0 ]; then
test_skip 'what ht-runner does per test (strace)' 'ht-runner is not dumpable: only root can read its calls'"'"' arguments'
elif have strace && strace -f -o /dev/null true 2>/dev/null; then
test_expect_success 'what ht-runner does per test (strace, local.sandbox none)' '
  cd proj && rm -rf .hypertest/bucket/run-1 && mkdir st st2 &&
  # LeakSanitizer cannot work under ptrace (SANITIZE=1 builds).
  ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
  strace -ff -qq -o st/t -e trace=socketpair,connect,fsync,fdatasync,sync_file_range,mkdir,openat,rename,linkat,execve \
    ht-invoke -q -j 1 --set local.sandbox=none plan.jsonl >out.jsonl &&
  test "$(count_records out.jsonl)" = $N &&
  # The runner: the process whose first program is ht-runner (its tests
  # and their vfork children have files of their own).
  runner=$(grep -l "^execve(\"[^\"]*/ht-runner\"" st/t.* | head -n 1) &&
  test -n "$runner" && cat "$runner" >r &&
  b=$(cd .hypertest/bucket && pwd)/run-1 &&
  count() { grep -c "$@" r || true; } &&
  test "$(count "^socketpair(")" -le 2 &&
  test "$(count "^connect(")" -le 2 &&
  test "$(count -E "^(fsync|fdatasync|sync_file_range)\(")" = 0 &&
  # /proc is not scanned for a quick test (neither for its memory, first
  # read after 100 ms, nor for what it left running: the runner has no
  # child left); a test slowed past 100 ms on a loaded machine may be.
  test "$(count -E "^openat\(AT_FDCWD, \"/proc\", .*O_DIRECTORY")" -lt $((N / 2)) &&
  # Tests that print nothing: nothing in the bucket, not even a directory.
  test "$(count "$b")" = 0 &&
  # And no process but the tests: no shell around them, nothing per test
  # in ht-invoke (programs run: ht-invoke, one ht-runner, N tests).
  test "$(count "^execve(")" = 1 &&
  test "$(cat st/t.* | grep -c "^execve(.* = 0$")" = $((N + 2)) &&
  test "$(cat st/t.* | grep -c "^execve(\"[^\"]*/true\".* = 0$")" = $N &&
  # Tests that print: one file each in the bucket (stdout.txt), an
  # unnamed file (O_TMPFILE) linked into place, or a temporary file
  # renamed, and one directory per test (and the run'"'"'s), made once.
  rm -rf .hypertest/bucket/run-1 &&
  ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
  strace -ff -qq -o st2/t -e trace=socketpair,connect,fsync,fdatasync,sync_file_range,mkdir,openat,rename,linkat,execve \
    ht-invoke -q -j 1 --set local.sandbox=none echo.jsonl >out.jsonl &&
  test "$(count_records out.jsonl)" = $N &&
  test_jq ".artifacts == [\"run-1/\(.test_id)/stdout.txt\"]" out.jsonl &&
  runner=$(grep -l "^execve(\"[^\"]*/ht-runner\"" st2/t.* | head -n 1) &&
  test -n "$runner" && cat "$runner" >r &&
  test "$(count -E "^openat\(AT_FDCWD, \"$b/.*(O_CREAT|O_TMPFILE)")" = $N &&
  test "$(count -E "^(rename\(\"$b/|linkat\(AT_FDCWD, \"/proc/self/fd/[0-9]+\", AT_FDCWD, \"$b/)")" = $N &&
  test "$(count -E "^mkdir\(\"$b(/[^\"]*)?\", 0755\) = 0")" = $((N + 1)) &&
  test "$(count "^mkdir(\"$b")" -le $((2 * N + 2))
'
else
test_skip 'what ht-runner does per test (strace)' 'strace is not here or cannot trace'
fi

test_done
