#!/bin/sh
# local.writable_task's copy: forced (local.writable_via "copy"), or where
# overlayfs cannot work (a warning naming why): ht-runner copies the
# read-only /var/task into the sandbox's /tmp/task and runs there, once per
# sandbox and again after a test changed it; without a sandbox, into the
# plain process's private directory. "overlay" makes the failure an error.
. "$HT_SRC/tests/lib.sh"
test_need jq
need_bwrap

mkdir -p proj/tests/sub && cd proj || exit 1
echo original >tests/sub/data.txt
# Each test sees the project as built, and changes it.
cat >tests/write.sh <<'T'
set -e
test "$(cat tests/sub/data.txt)" = original
test ! -e tests/new.txt
test ! -e .hypertest
echo "$(pwd) $LAMBDA_TASK_ROOT" >"$HT_OUTPUT_DIR/where.txt"
echo changed >tests/sub/data.txt
echo new >tests/new.txt
T
printf '{"runner": {"list": "printf \\"a\\\\nb\\\\nc\\\\n\\"", "run": "sh tests/write.sh"}, "concurrency": 1, "timeout_s": 30}\n' >hypertest.json
ht-plan >plan.jsonl || exit 1
B=.hypertest/bucket

test_expect_success 'local.writable_via "copy": the tests run in /tmp/task, each on a fresh copy' '
	ht-invoke --set local.writable_task=true --set local.writable_via=copy plan.jsonl >res.jsonl 2>err &&
	test_jq -s "length == 3 and all(.ok) and (map(.worker) | unique | length == 1)" res.jsonl &&
	! grep -i warning err &&
	for f in $B/*/*/out/where.txt; do test "$(cat $f)" = "/tmp/task /tmp/task" || exit 1; done &&
	test "$(cat tests/sub/data.txt)" = original && test ! -e tests/new.txt
'

test_expect_success 'where overlayfs cannot work, a warning names why and the copy is used' '
	rm -rf $B && mkdir -p notmp && chmod 500 notmp &&
	TMPDIR=$PWD/notmp/gone ht-invoke --set local.writable_task=true plan.jsonl >res.jsonl 2>err &&
	test_jq -s "length == 3 and all(.ok)" res.jsonl &&
	test_grep "warning: local.writable_task: overlayfs does not work here (cannot create a directory in .*): the project is copied into each sandbox.s /tmp instead" err &&
	test $(grep -c "overlayfs does not work" err) = 1 &&
	for f in $B/*/*/out/where.txt; do test "$(cat $f)" = "/tmp/task /tmp/task" || exit 1; done
'

test_expect_success 'local.writable_via "overlay" where it cannot work: exit 69, and why' '
	TMPDIR=$PWD/notmp/gone test_must_fail 69 ht-invoke --set local.writable_task=true \
		--set local.writable_via=overlay plan.jsonl >res.jsonl 2>err &&
	test_grep "error: local.writable_task: overlayfs does not work here (cannot create a directory in .*), and local.writable_via is \"overlay\"" err
'

test_expect_success 'without a sandbox the copy keeps the project unchanged too' '
	rm -rf $B &&
	ht-invoke --set local.sandbox=none --set local.writable_task=true plan.jsonl >res.jsonl 2>err &&
	test_jq -s "length == 3 and all(.ok)" res.jsonl &&
	for f in $B/*/*/out/where.txt; do grep -q "/ht-sandbox\.[^/]*/task " $f || exit 1; done &&
	test "$(cat tests/sub/data.txt)" = original && test ! -e tests/new.txt
'

test_expect_success 'without the keys, the tests fail on the read-only project' '
	test_must_fail 1 ht-invoke plan.jsonl >res.jsonl 2>err &&
	test_jq -s "all(.status == \"failed\")" res.jsonl
'

if user_dir; then
test_expect_success 'as an unprivileged user (nobody): the forced copy' '
	cp -R tests hypertest.json plan.jsonl "$USERDIR/" && chown -R 65534:65534 "$USERDIR" &&
	(cd "$USERDIR" && as_nobody env HOME="$USERDIR" ht-invoke --set local.writable_task=true \
		--set local.writable_via=copy plan.jsonl >res.jsonl 2>err) &&
	test_jq -s "length == 3 and all(.ok)" "$USERDIR/res.jsonl" &&
	test "$(cat "$USERDIR/tests/sub/data.txt")" = original
'
else
test_skip 'as an unprivileged user (nobody): the forced copy' 'not root (this run is the unprivileged one), or no setpriv'
fi

test_done
