#!/bin/sh
# SIGINT and SIGTERM (lib/process.c): a tool that catches them writes what
# it knows, then dies of the signal rather than exiting 130, so the shell
# running it stops too; a second signal while it winds down ends it at once.
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/ht-invoke-lib.sh"

have perl || test_skip_all 'perl is needed to see how a process ended'
[ -x "$HT_BIN/ht-runner" ] || test_skip_all 'ht-runner is not built'

# run_status NAME CMD...: CMD in the background as a terminal's foreground
# job (tests/helpers/run-status.pl); NAME.pid, then NAME.status appear.
run_status() { perl "$HT_SRC/tests/helpers/run-status.pl" "$@"; }

# wait_file FILE [TENTHS]: waits until FILE exists (default 20 s).
wait_file() {
  _i=0
  while [ ! -e "$1" ] && [ $_i -lt "${2:-200}" ]; do sleep 0.1; _i=$((_i + 1)); done
  [ -e "$1" ] || { echo "wait_file: no $1" >&2; return 1; }
}

# A test that says it started, then sleeps.
sleeper() { mkrec "$1" "touch $TRASH/started.$1; sleep 37.3" "${2:-{\}}"; }

for sig in INT:2 TERM:15; do
name=${sig%:*} num=${sig#*:}
test_expect_success "ht-runner --once: SIG$name stops the test, the record is written, then it dies of SIG$name" '
  rm -f rn.pid rn.status "$TRASH/started.r1" && sleeper r1 >ev.json || exit 1
  HT_WORK_DIR=$TRASH/work run_status rn ht-runner --once ev.json >res.json 2>err &
  wait_file rn.pid && wait_file "$TRASH/started.r1" &&
  kill -'$name' $(cat rn.pid) &&
  wait_file rn.status && wait &&
  test "$(cat rn.status)" = "signal '$num'" &&
  test_jq ".status == \"interrupted\" and .ok == false" res.json
'
done

test_expect_success 'ht-invoke; next: Ctrl-C (SIGINT to the group) stops the shell list too' '
  have bash || { echo "no bash: skipped"; exit 0; }
  cd proj && rm -f "$TRASH/started.l1" next && { mkrec q1 true; sleeper l1; } >plan.jsonl || exit 1
  run_status "$TRASH/sh" bash -c "ht-invoke -j 2 --set local.sandbox=none plan.jsonl >out.jsonl 2>err; echo ran >next" &
  wait_file "$TRASH/sh.pid" && wait_file "$TRASH/started.l1" &&
  kill -INT -$(cat "$TRASH/sh.pid") &&
  wait_file "$TRASH/sh.status" && wait &&
  test "$(cat "$TRASH/sh.status")" = "signal 2" &&
  test ! -e next &&
  test_grep "interrupted by Interrupt: 1 test did not finish" err &&
  test "$(jq -r .status out.jsonl | sort | tr "\n" " ")" = "interrupted passed "
'

test_expect_success 'ht-invoke: SIGTERM, the results are written, then it dies of SIGTERM' '
  cd proj && rm -f "$TRASH/started.l1" "$TRASH"/iv.* && sleeper l1 >plan.jsonl || exit 1
  run_status "$TRASH/iv" ht-invoke --set local.sandbox=none -o res.jsonl plan.jsonl 2>err &
  wait_file "$TRASH/iv.pid" && wait_file "$TRASH/started.l1" &&
  kill -TERM $(cat "$TRASH/iv.pid") &&
  wait_file "$TRASH/iv.status" && wait &&
  test "$(cat "$TRASH/iv.status")" = "signal 15" &&
  test_jq ".status == \"interrupted\"" res.jsonl
'

# Records of 40 KB each (a long name) fill the pipe to a reader that never
# reads: after the first SIGINT, ht-invoke is stuck writing them.
test_expect_success 'a second SIGINT while ht-invoke winds down ends it at once' '
  cd proj && rm -f "$TRASH/started.l1" "$TRASH"/w2.* fifo && mkfifo fifo &&
  long=$(head -c 40000 /dev/zero | tr "\0" n) &&
  { sleeper l1 "{\"name\":\"$long\"}"; for i in 1 2 3 4; do
      mkrec w$i true "{\"name\":\"$long$i\"}"; done; } >plan.jsonl || exit 1
  sleep 60 <fifo & reader=$!
  test_cleanup_server $reader
  run_status "$TRASH/w2" ht-invoke -j 1 --set local.sandbox=none plan.jsonl >fifo 2>err &
  wait_file "$TRASH/w2.pid" && wait_file "$TRASH/started.l1" &&
  pid=$(cat "$TRASH/w2.pid") &&
  kill -INT $pid &&
  i=0 && while ! grep -q "interrupted by" err && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done &&
  sleep 0.5 && test ! -e "$TRASH/w2.status" &&
  kill -INT $pid &&
  wait_file "$TRASH/w2.status" 30 &&
  test "$(cat "$TRASH/w2.status")" = "signal 2"
  rc=$?; kill -9 $pid $reader 2>/dev/null; wait; test $rc = 0
'

test_done
