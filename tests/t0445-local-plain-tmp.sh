#!/bin/sh
# Where an unsandboxed (local.sandbox none) sandbox's private directory
# goes: under $TMPDIR when the user set it; else on /dev/shm when that is
# a tmpfs with room (in memory, as a bwrap sandbox's /tmp is: each test's
# work directory is made and removed there); else /tmp. Each sandbox has
# its own, removed when it ends, and tests of one sandbox never see each
# other's work directories.
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/ht-invoke-lib.sh"

have_real_runner || test_skip_all 'ht-runner is not built'

shm_ok=$(python3 -c 'import os; s=os.statvfs("/dev/shm"); print(1 if os.access("/dev/shm", os.W_OK) and s.f_bavail*s.f_frsize >= 1<<30 else 0)' 2>/dev/null)
[ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ] || shm_ok=0

# where ID: a record that prints its TMPDIR and work directory, and what
# the work directory's parent holds (other tests' directories would show).
where() { mkrec "$1" 'echo T=$TMPDIR; echo W=$HT_WORK_DIR; ls "$HT_WORK_DIR/run-1" | tr "\n" " "; echo'; }

test_expect_success 'TMPDIR set: the private directory is under it, and goes away' '
  cd proj && mkdir "$TRASH/mytmp" &&
  where a >plan.jsonl &&
  TMPDIR=$TRASH/mytmp HT_BIN=$RUNNER_BIN ht-invoke -q --set local.sandbox=none plan.jsonl >out.jsonl &&
  jq -r .output_tail out.jsonl >tail &&
  tmp=$(sed -n "s/^T=//p" tail) &&
  case $tmp in "$TRASH/mytmp/ht-sandbox."*) ;; *) echo "TMPDIR is $tmp" >&2; false ;; esac &&
  test_grep "^W=$tmp$" tail &&
  test ! -e "$tmp" && test -z "$(ls -A "$TRASH/mytmp")"
'

if [ "$shm_ok" = 1 ]; then
test_expect_success 'TMPDIR unset: on /dev/shm (a tmpfs with room), one per sandbox, removed after' '
  cd proj &&
  for i in 1 2 3 4 5 6; do where s$i; done >plan.jsonl &&
  (unset TMPDIR; HT_BIN=$RUNNER_BIN ht-invoke -q -j 2 --set local.sandbox=none plan.jsonl >out.jsonl) &&
  test "$(count_records out.jsonl)" = 6 &&
  jq -r .output_tail out.jsonl >tail &&
  sed -n "s/^T=//p" tail | sort -u >dirs &&
  test "$(wc -l <dirs)" -le 2 &&
  while read -r d; do
    case $d in /dev/shm/ht-sandbox.*) ;; *) echo "TMPDIR is $d" >&2; exit 1 ;; esac
    test ! -e "$d" || { echo "$d is still there" >&2; exit 1; }
  done <dirs &&
  # Each test saw only its own work directory in the sandbox it shared.
  jq -r "[.test_id, (.output_tail | split(\"\n\")[2])] | join(\" \")" out.jsonl >seen &&
  awk "{ if (NF != 2) { print \"test \" \$1 \" saw: \" \$0; bad = 1 } } END { exit bad }" seen
'
else
test_skip 'TMPDIR unset: on /dev/shm' '/dev/shm is no writable tmpfs with 1 GiB free here'
fi

test_done
