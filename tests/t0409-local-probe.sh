#!/bin/sh
# ht-doctor's sandbox check and ht-invoke run the same bwrap probe, with a
# real sandbox's options: a bwrap that runs `true` but not a sandbox is
# reported by both, with a fix that matches what bwrap said.
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/ht-invoke-lib.sh"

have_real_runner || test_skip_all 'ht-runner is not built'

# fake_bwrap DIR OPTION [MESSAGE]: a bwrap in DIR that fails with MESSAGE
# (default: an unknown option) when given OPTION, and otherwise runs the
# command after --, as a bwrap that builds no sandbox would.
fake_bwrap() {
  mkdir -p "$1" &&
  cat >"$1/bwrap" <<EOF &&
#!/bin/sh
for a; do
  case \$a in $2) echo "${3:-bwrap: Unknown option $2}" >&2; exit 1 ;; esac
done
while [ \$# -gt 0 ] && [ "\$1" != -- ]; do shift; done
[ \$# -gt 0 ] && shift
exec "\$@"
EOF
  chmod +x "$1/bwrap"
}

fake_bwrap "$TRASH/old" --die-with-parent
fake_bwrap "$TRASH/noremount" --remount-ro
fake_bwrap "$TRASH/nousers" --unshare-pid "bwrap: No permissions to create new namespace, likely because the kernel does not allow non-privileged user namespaces."

# old: fails where ht-invoke's probe used to (the doctor's old probe did
# not use --die-with-parent); noremount: fails only with a real sandbox's
# options (neither old probe used --remount-ro).
for fake in old:--die-with-parent noremount:--remount-ro; do
opt=${fake#*:} fake=${fake%%:*}
test_expect_success "a bwrap without $opt: ht-doctor says it cannot run, as ht-invoke does" '
  cd proj && opt='$opt' &&
  PATH="$TRASH/'$fake':$PATH" test_expect_code 1 ht-doctor >doc 2>derr &&
  test_jq -s "map(select(.check == \"sandbox\"))[0] | .ok == false and
    (.message | test(\"cannot run a sandbox .*Unknown option $opt\")) and
    (.fix | test(\"too old\")) and (.details.bwrap | endswith(\"'$fake'/bwrap\"))" doc &&
  mkrec p "pwd" >plan.jsonl &&
  PATH="$TRASH/'$fake':$PATH" HT_BIN=$HT_BIN ht-invoke plan.jsonl >out.jsonl 2>err &&
  test_grep "warning: bwrap does not work here (bwrap: Unknown option $opt): tests run as plain processes" err &&
  test_jq ".status == \"passed\" and .output_tail == \"$TRASH/proj\n\"" out.jsonl &&
  PATH="$TRASH/'$fake':$PATH" test_expect_code 1 ht-doctor --set local.sandbox=bwrap >doc 2>/dev/null &&
  test_jq -s "map(select(.check == \"sandbox\"))[0].ok == false" doc &&
  PATH="$TRASH/'$fake':$PATH" test_expect_code 69 env HT_BIN=$HT_BIN ht-invoke --set local.sandbox=bwrap plan.jsonl >out 2>err &&
  test ! -s out && test_grep "bwrap does not work here: bwrap: Unknown option $opt" err
'
done

test_expect_success 'user namespaces refused: the fix says so, not "install bubblewrap"' '
  cd proj &&
  PATH="$TRASH/nousers:$PATH" test_expect_code 1 ht-doctor >doc 2>derr &&
  test_jq -s "map(select(.check == \"sandbox\"))[0] | .ok == false and
    (.message | test(\"No permissions to create new namespace\")) and
    (.fix | test(\"user namespaces\")) and (.fix | test(\"install bubblewrap\") | not)" doc &&
  test_grep "fix: allow unprivileged user namespaces" derr
'

test_expect_success 'no ht-runner: the doctor fails as ht-invoke would' '
  cd proj && mkdir -p lonely && cp "$HT_BIN/ht-doctor" "$HT_BIN/ht-invoke" lonely/ &&
  test_expect_code 1 env -u HT_BIN lonely/ht-doctor --set local.sandbox=none >doc 2>derr &&
  test_jq -s "map(select(.check == \"sandbox\"))[0] | .ok == false and (.message | test(\"ht-runner\"))" doc &&
  mkrec p "pwd" >plan.jsonl &&
  test_expect_code 69 env -u HT_BIN lonely/ht-invoke --set local.sandbox=none plan.jsonl >out 2>err &&
  test_grep "cannot find .ht-runner." err
'

if have bwrap && bwrap --ro-bind / / --unshare-pid true 2>/dev/null; then
test_expect_success 'a working bwrap: the doctor says ok and ht-invoke uses it, no warning' '
  cd proj &&
  ht-doctor >doc 2>derr &&
  test_jq -s "map(select(.check == \"sandbox\"))[0].ok" doc &&
  mkrec p "pwd" >plan.jsonl &&
  HT_BIN=$HT_BIN ht-invoke plan.jsonl >out.jsonl 2>err &&
  ! grep warning err && test_jq ".output_tail == \"/var/task\n\"" out.jsonl
'
else
test_skip 'a working bwrap: the doctor says ok' 'bwrap cannot make a sandbox here'
fi

# The probe's answer is kept (.hypertest/local/bwrap-probe) for the same
# bwrap, kernel, user and arguments: a run after it does not probe. A
# sandbox that then does not start makes the next run probe again.
if have bwrap && bwrap --ro-bind / / true 2>/dev/null; then
test_expect_success 'the probe passed: the next run does not probe again' '
  cd proj && rm -f .hypertest/local/bwrap-probe && mkrec p "pwd" >plan.jsonl &&
  HT_BIN=$HT_BIN ht-invoke -vv --set local.sandbox=bwrap plan.jsonl >out.jsonl 2>err &&
  test_grep "bwrap: probed: exit code 0" err && test -s .hypertest/local/bwrap-probe &&
  HT_BIN=$HT_BIN ht-invoke -vv --set local.sandbox=bwrap plan.jsonl >out.jsonl 2>err &&
  test_grep "bwrap: works, as the probe found before" err && ! grep "bwrap: probed" err &&
  test_jq ".status == \"passed\"" out.jsonl &&
  # ht-doctor always probes
  HT_BIN=$HT_BIN ht-doctor -vv >doc 2>derr && test_grep "bwrap: probed: exit code 0" derr
'
fi

# probe_only DIR: a bwrap that runs `true` (the probe) and nothing else.
mkdir -p "$TRASH/probeonly"
cat >"$TRASH/probeonly/bwrap" <<'EOF'
#!/bin/sh
while [ $# -gt 0 ] && [ "$1" != -- ]; do shift; done
[ $# -gt 0 ] && shift
[ "$1" = true ] && exec true
echo "bwrap: the sandbox cannot start" >&2
exit 1
EOF
chmod +x "$TRASH/probeonly/bwrap"
test_expect_success 'a sandbox that does not start: the next run probes again' '
  cd proj && rm -f .hypertest/local/bwrap-probe && mkrec p "pwd" >plan.jsonl &&
  PATH="$TRASH/probeonly:$PATH" HT_BIN=$HT_BIN test_expect_code 1 ht-invoke -vv --set local.sandbox=bwrap \
    --infra-retries 0 plan.jsonl >out.jsonl 2>err &&
  test_grep "bwrap: probed: exit code 0" err &&
  test_jq ".status == \"error\" and (.message | test(\"exited before taking an invocation\"))" out.jsonl &&
  ! test -e .hypertest/local/bwrap-probe &&
  PATH="$TRASH/probeonly:$PATH" HT_BIN=$HT_BIN test_expect_code 1 ht-invoke -vv --set local.sandbox=bwrap \
    --infra-retries 0 plan.jsonl >out.jsonl 2>err &&
  test_grep "bwrap: probed: exit code 0" err
'

test_done
