#!/bin/sh
# ht-doctor's task_path check: a warning (exit 0) naming the fix when the
# project lies under a path the sandbox replaces (/tmp), none with
# local.task_path "same" or elsewhere; the sandbox check says how the
# writable keys are done, and warns about the copy fallback.
. "$HT_SRC/tests/lib.sh"
test_need jq

mkdir -p proj && cd proj || exit 1
echo '{}' >hypertest.json
P=$(pwd -P)

case $P in
/tmp/*)
test_expect_success 'a project in /tmp: a warning with the fix, exit 0' '
	ht-doctor >out 2>err &&
	test_jq -s ".[2] | .check == \"task_path\" and .ok and .warning and (.fix | contains(\"local.task_path\"))" out &&
	test_grep "^ht-doctor: warning: task_path: the project .$P. lies in /tmp, which the sandbox replaces" err &&
	test_grep "fix: set local.task_path to \"same\" (the project is bound at its own path too), or move the project out of it" err
'
;;
*)
test_skip 'a project in /tmp: a warning with the fix, exit 0' "the scratch directory is not in /tmp ($P)"
;;
esac

test_expect_success 'with local.task_path "same": no warning' '
	ht-doctor --set local.task_path=same >out 2>err &&
	test_jq -s ".[2] | .ok and (has(\"warning\") | not)" out &&
	! grep "warning: task_path" err
'

test_expect_success 'a project elsewhere (/var/tmp): no warning' '
	V=$(mktemp -d /var/tmp/ht-t0434.XXXXXX) && test_at_end "rm -rf $V" &&
	echo "{}" >"$V/hypertest.json" &&
	(cd "$V" && ht-doctor >"$TRASH/out" 2>"$TRASH/err") &&
	test_jq -s ".[2] | .ok and (has(\"warning\") | not) and (.message | contains(\"is at /var/task\"))" "$TRASH/out"
'

test_expect_success 'image mode and no sandbox: nothing to warn about' '
	ht-doctor --set local.sandbox=none >out 2>err &&
	test_jq -s ".[2] | .ok and (has(\"warning\") | not)" out
'

if have bwrap && bwrap --ro-bind / / --unshare-pid true 2>/dev/null && overlay_works; then
test_expect_success 'the sandbox check says how local.writable_task is done' '
	ht-doctor --set local.writable_task=true >out 2>err &&
	test_jq -s ".[1] | .ok and (.message | contains(\"local.writable_task: overlayfs works here\"))" out
'
test_expect_success 'and warns when it falls back to the copy' '
	mkdir -p .hypertest/bucket && TMPDIR=$PWD/gone ht-doctor --set local.writable_task=true >out 2>err &&
	test_jq -s ".[1] | .ok and .warning and (.message | contains(\"the project is copied\"))" out &&
	test_grep "warning: sandbox: .* local.writable_task: overlayfs does not work here" err
'
else
test_skip 'the sandbox check says how local.writable_task is done' 'bwrap or overlayfs does not work here'
test_skip 'and warns when it falls back to the copy' 'bwrap or overlayfs does not work here'
fi

test_done
