#!/bin/sh
# The sandbox's environment (runner.env, the Runtime API token) is never on
# a command line, where any user reads it in /proc/PID/cmdline; the test
# still sees it.
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/ht-invoke-lib.sh"

have_real_runner || test_skip_all 'ht-runner is not built'
have bwrap && bwrap --ro-bind / / --unshare-pid true 2>/dev/null && modes="none bwrap" || modes=none

secret="s3cr3t-$(od -An -N8 -tx1 /dev/urandom | tr -d " \n")"
cat >proj/hypertest.json <<EOF
{"provider": "local", "runner": {"env": {"HT_TEST_SECRET": "$secret"}}}
EOF

# descendants PID: PID's children, their children, ...
descendants() {
  for _c in $(cat /proc/$1/task/*/children 2>/dev/null); do
    echo "$_c"; descendants "$_c"
  done
}

# check_cmdlines MODE: while the test runs (ht-invoke's pid in ./pid), the
# secret is in no command line, of the sandbox's processes or any other.
check_cmdlines() {
  descendants $(cat pid) >kids &&
  test -s kids &&
  for k in $(cat kids); do tr "\0" " " </proc/$k/cmdline; echo; done >cmdlines &&
  cat cmdlines &&
  if [ "$1" = bwrap ]; then grep -q "bwrap.*--unshare-pid" cmdlines; fi &&
  grep -q "ht-runner" cmdlines &&
  ! grep -F "$secret" cmdlines &&
  ! grep "/sb/[0-9]" cmdlines &&
  for f in /proc/[0-9]*/cmdline; do tr "\0" " " <"$f" 2>/dev/null; echo; done >all &&
  ! grep -F "$secret" all
}

for mode in $modes; do
test_expect_success "runner.env and the token are in no process's command line ($mode)" '
  cd proj && rm -f "$BUCKET/seen" "$BUCKET/done" &&
  mkrec env "b=\${HT_BUCKET#file://}; echo \"\$HT_TEST_SECRET\" >\$b/seen.tmp && mv \$b/seen.tmp \$b/seen;
    i=0; while [ ! -e \$b/done ] && [ \$i -lt 200 ]; do sleep 0.1; i=\$((i + 1)); done" >plan.jsonl &&
  { HT_BIN=$HT_BIN ht-invoke -q --set local.sandbox='$mode' plan.jsonl >out.jsonl 2>err & echo $! >pid; } &&
  i=0; while [ ! -e "$BUCKET/seen" ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done;
  check_cmdlines '$mode'; rc=$?;
  touch "$BUCKET/done"; wait $(cat pid) && test $rc = 0 &&
  test "$(cat "$BUCKET/seen")" = "$secret" &&
  test_jq ".status == \"passed\"" out.jsonl
'
done

test_done
