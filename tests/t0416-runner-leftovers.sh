#!/bin/sh
# What a test leaves behind cannot reach the next test of a warm sandbox:
# ht-runner adopts every orphan of its tests (a child subreaper) and kills
# them when the test ends, even those that left its session (setsid), and
# a test cannot read ht-runner's memory or environment (/proc/PPID/environ,
# which holds the sandbox's Runtime API token). With bwrap and without.
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/ht-invoke-lib.sh"

have_real_runner || test_skip_all 'ht-runner is not built'
have setsid || test_skip_all 'setsid (util-linux) is needed'
modes=none
have bwrap && bwrap --ro-bind / / --unshare-pid true 2>/dev/null && modes="none bwrap"

for mode in $modes; do
test_expect_success "a process a test leaves behind is gone before the next test ($mode)" '
  cd proj &&
  # The first test starts a daemon in a session of its own (its parent
  # exits at once, as a double fork does) that keeps writing; the second,
  # in the same sandbox, looks for it.
  { mkrec leaver "setsid sh -c \"echo \\\$\\\$ >\\\${TMPDIR:-/tmp}/daemon.pid; while :; do date >>\\\${TMPDIR:-/tmp}/daemon.log; sleep 0.1; done\" </dev/null >/dev/null 2>&1 & sleep 0.5; cat \${TMPDIR:-/tmp}/daemon.pid";
    mkrec looker "sleep 0.5; pid=\$(cat \${TMPDIR:-/tmp}/daemon.pid) && if kill -0 \$pid 2>/dev/null; then echo \"daemon \$pid alive\"; exit 1; else echo \"daemon \$pid gone\"; fi" "{\"index\":1}"; } >plan.jsonl &&
  env HT_BIN=$HT_BIN ht-invoke -q -j 1 --set local.sandbox='$mode' plan.jsonl >out.jsonl &&
  test_jq -s "length == 2 and all(.status == \"passed\")" out.jsonl &&
  test_jq "select(.test_id == \"looker\") | .output_tail | test(\"daemon [0-9]+ gone\")" out.jsonl &&
  test "$(jq -r "select(.test_id == \"looker\") | .attempts[0].worker" out.jsonl)" = \
       "$(jq -r "select(.test_id == \"leaver\") | .attempts[0].worker" out.jsonl)"
'

# As root without a sandbox a test has every capability: it reads what it
# likes (docs/security.md).
if [ "$mode" = none ] && [ "$(id -u)" = 0 ]; then
  test_skip "a test cannot read ht-runner's environment ($mode)" "as root without a sandbox a test can"
else
test_expect_success "a test cannot read ht-runner's environment ($mode)" '
  cd proj &&
  mkrec peek "tr \"\\\\0\" \"\\\\n\" </proc/\$PPID/environ | grep -c AWS_LAMBDA_RUNTIME_API || true; cat /proc/\$PPID/cmdline >/dev/null && echo cmdline-ok" >plan.jsonl &&
  env HT_BIN=$HT_BIN ht-invoke -q -j 1 --set local.sandbox='$mode' plan.jsonl >out.jsonl &&
  jq -r .output_tail out.jsonl >tail &&
  test_grep "Permission denied" tail &&
  ! grep -q "/sb/[0-9]*/[0-9a-f]\{32\}" tail
'
fi
done

if [ "$(id -u)" = 0 ] && echo "$modes" | grep -q bwrap; then
test_expect_success 'as root, a bwrap sandbox keeps no capability that reaches past it' '
  cd proj &&
  mkrec caps "grep ^CapEff /proc/self/status; mount -o remount,rw / 2>&1; mount -t tmpfs none /mnt 2>&1; touch /usr/ht-caps-x 2>&1; echo done" >plan.jsonl &&
  env HT_BIN=$HT_BIN ht-invoke -q -j 1 --set local.sandbox=bwrap plan.jsonl >out.jsonl &&
  jq -r .output_tail out.jsonl >tail &&
  eff=$(sed -n "s/^CapEff:[[:space:]]*//p" tail) && test -n "$eff" &&
  # CAP_SYS_PTRACE (19), CAP_SYS_ADMIN (21), CAP_SYS_MODULE (16),
  # CAP_NET_ADMIN (12), CAP_SYS_RAWIO (17), CAP_DAC_READ_SEARCH (2).
  for bit in 19 21 16 12 17 2; do
    test $(( (0x$eff >> bit) & 1 )) = 0 || { echo "capability $bit kept: $eff" >&2; exit 1; }
  done &&
  test ! -e /usr/ht-caps-x && test_grep "done" tail
'
fi

test_done
