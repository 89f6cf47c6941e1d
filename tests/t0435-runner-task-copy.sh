#!/bin/sh
# ht-runner's writable copy of the project (HT_WRITABLE_TASK): "1" copies a
# read-only task root into /tmp (not a writable one), "always" copies
# anyway; the test runs in the copy with LAMBDA_TASK_ROOT naming it, the
# original is untouched, the state directory is left out. (In a sandbox,
# where the task root is read-only, t0431 and t0436.)
. "$HT_SRC/tests/lib.sh"
test_need jq

mkdir -p proj/sub proj/.hypertest/bucket && cd proj || exit 1
echo original >sub/data.txt && echo secret >.hypertest/bucket/x
touch -d '2001-02-03 04:05:06' sub/data.txt && ln -s sub/data.txt link && chmod 750 sub
P=$(pwd -P)
W=$TRASH/work

# once FILE COMMAND: the ht.test/1 record of one command test
once() {
	jq -nc --arg cmd "$1" '{schema: "ht.test/1", run_id: "r1", test_id: "t1", name: "t", runner: "command",
		run: {argv: ["sh", "-c", $cmd]}}' >ev.json
}
once 'set -e
	echo "$(pwd) $LAMBDA_TASK_ROOT"
	test "$(cat sub/data.txt)" = original
	test "$(readlink link)" = sub/data.txt
	test "$(stat -c %Y sub/data.txt)" = "$(date -d "2001-02-03 04:05:06" +%s)"
	test "$(stat -c %a sub)" = 750
	test ! -e .hypertest
	echo changed >sub/data.txt'

test_expect_success 'HT_WRITABLE_TASK=1 with a writable task root: no copy' '
	HT_WORK_DIR=$W HT_WRITABLE_TASK=1 test_must_fail 1 ht-runner --once ev.json >res.json &&
	test_jq ".output_tail | startswith(\"$P \")" res.json &&
	echo original >sub/data.txt && touch -d "2001-02-03 04:05:06" sub/data.txt
'

test_expect_success 'HT_WRITABLE_TASK=always: the test runs in a copy, the original is untouched' '
	HT_WORK_DIR=$W HT_WRITABLE_TASK=always HT_WRITABLE_TASK_EXCLUDE=.hypertest ht-runner -v -v --once ev.json >res.json 2>err &&
	test_jq ".ok and (.output_tail | startswith(\"$W-task $W-task\"))" res.json &&
	test "$(cat sub/data.txt)" = original && test_grep "copied .* in [0-9]* ms" err
'

test_expect_success 'a copy that fails is an error result with the reason' '
	LAMBDA_TASK_ROOT=$TRASH/gone HT_WORK_DIR=$W HT_WRITABLE_TASK=always test_must_fail 1 ht-runner --once ev.json >res.json 2>err &&
	test_jq ".status == \"error\" and .error.code == \"io\" and (.message | contains(\"cannot copy the project\"))" res.json &&
	test_grep "cannot read .*gone" err
'

test_done
