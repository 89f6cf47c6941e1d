#!/bin/sh
# local.writable_task: the project (/var/task) writable through an overlay
# private to each sandbox: a test writes into /var/task and next to
# itself and passes, another sandbox does not see its writes, the host's
# tree is unchanged; the read-only default stays; as root and as a user.
. "$HT_SRC/tests/lib.sh"
test_need jq
need_bwrap
overlay_works || test_skip_all "overlayfs cannot be mounted here as $(id -un) (in a user namespace it needs Linux 5.11+)"

# make_project DIR: a project whose tests write where they live. Each
# test leaves a marker named after its sandbox, and fails when it sees
# another sandbox's (or finds the project changed by an earlier run).
make_project() {
	mkdir -p "$1/tests/sub" && echo original >"$1/tests/sub/data.txt" &&
	cat >"$1/tests/write.sh" <<'T' &&
set -e
here=$(dirname "$0")
test "$(pwd)" = /var/task
test "$(cat "$here/sub/data.txt")" = original
for m in /var/task/marker-*; do
	[ -e "$m" ] || continue
	[ "$m" = "/var/task/marker-$AWS_LAMBDA_LOG_STREAM_NAME" ] || { echo "sees $m"; exit 1; }
done
echo "$HT_TEST_ID" >>"/var/task/marker-$AWS_LAMBDA_LOG_STREAM_NAME"
echo changed >"$here/sub/data.txt"
echo new >"$here/new-$HT_TEST_ID.txt"
mkdir -p /var/task/made/dir
rm "$here/sub/data.txt"
echo original >"$here/sub/data.txt"
echo "wrote into /var/task"
sleep 1
T
	printf '{"runner": {"list": "printf \\"a\\\\nb\\\\n\\"", "run": "sh tests/write.sh"}, "concurrency": 2, "timeout_s": 30}\n' >"$1/hypertest.json"
}

# the tree of DIR, without its state directory
tree_of() { (cd "$1" && find . -path ./.hypertest -prune -o -print | sort && cat tests/sub/data.txt); }

make_project proj && tree_of proj >before || exit 1

test_expect_success 'without local.writable_task the project stays read-only, with the hint' '
	(cd proj && ht-plan >plan.jsonl && test_must_fail 1 ht-invoke plan.jsonl >res.jsonl 2>err) &&
	test_jq -s "length == 2 and all(.status == \"failed\")" proj/res.jsonl &&
	test_jq -s "all(.message | contains(\"Read-only file system\") and contains(\"local.writable_task\"))" proj/res.jsonl
'

test_expect_success 'with it, tests write into /var/task and next to themselves, and pass' '
	(cd proj && ht-invoke --set local.writable_task=true plan.jsonl >res.jsonl 2>err) &&
	test_jq -s "length == 2 and all(.ok)" proj/res.jsonl &&
	! grep -i "warning" proj/err
'

test_expect_success 'the artifacts still land in the bucket (inside the overlaid project)' '
	rm -rf proj/.hypertest/bucket/* &&
	(cd proj && ht-invoke --set local.writable_task=true plan.jsonl >res.jsonl 2>err) &&
	test_jq -s "all(.artifacts == [\"\(.run_id)/\(.test_id)/stdout.txt\"])" proj/res.jsonl &&
	for k in $(jq -r ".artifacts[]" proj/res.jsonl); do test -f "proj/.hypertest/bucket/$k" || exit 1; done
'

test_expect_success 'each sandbox has its own overlay: two sandboxes, neither saw the other' '
	test_jq -s "map(.worker) | unique | length == 2" proj/res.jsonl
'

test_expect_success 'the host tree is unchanged afterwards' '
	rm proj/res.jsonl proj/plan.jsonl proj/err && tree_of proj >after && test_cmp before after
'

test_expect_success 'a warm sandbox keeps what its earlier invocations wrote (as Lambda keeps /tmp)' '
	(cd proj && ht-plan >plan.jsonl &&
	 ht-invoke --set local.writable_task=true --set concurrency=1 plan.jsonl >res.jsonl 2>err) &&
	test_jq -s "length == 2 and all(.ok) and (map(.worker) | unique | length == 1)" proj/res.jsonl
'

if user_dir && overlay_works as_nobody; then
test_expect_success 'as an unprivileged user (nobody): the same, in a user namespace' '
	make_project "$USERDIR/proj" && chown -R 65534:65534 "$USERDIR" &&
	tree_of "$USERDIR/proj" >before-u &&
	(cd "$USERDIR/proj" && as_nobody env HOME="$USERDIR" sh -c "ht-plan >plan.jsonl &&
	 ht-invoke --set local.writable_task=true plan.jsonl >res.jsonl 2>err") &&
	test_jq -s "length == 2 and all(.ok) and (map(.worker) | unique | length == 2)" "$USERDIR/proj/res.jsonl" &&
	rm "$USERDIR/proj/res.jsonl" "$USERDIR/proj/plan.jsonl" "$USERDIR/proj/err" &&
	tree_of "$USERDIR/proj" >after-u && test_cmp before-u after-u
'
else
test_skip 'as an unprivileged user (nobody): the same, in a user namespace' \
	'not root (this run is the unprivileged one), no setpriv, or overlayfs refuses nobody here'
fi

test_expect_success 'the sandbox gets no capability, and cannot unmount its overlay' '
	cat >proj/tests/caps.sh <<-\T &&
	grep -q "^CapEff:	0000000000000000" /proc/self/status || [ "$(id -u)" = 0 ]
	if [ "$(id -u)" != 0 ]; then ! umount /var/task 2>/dev/null; fi
	T
	(cd proj && ht-plan --set runner.list="echo caps" --set runner.run="sh tests/caps.sh" >plan2.jsonl &&
	 ht-invoke --set local.writable_task=true plan2.jsonl >res.jsonl 2>err) &&
	test_jq ".ok" proj/res.jsonl
'

test_expect_success 'a bad value of local.writable_task is a config error (78)' '
	(cd proj && test_must_fail 78 ht-invoke --set local.writable_task=maybe plan.jsonl >res.jsonl 2>err) &&
	test_grep "local.writable_task" proj/err &&
	(cd proj && test_must_fail 78 ht-invoke --set local.writable_via=tmpfs plan.jsonl >res.jsonl 2>err) &&
	test_grep "local.writable_via: expected one of" proj/err
'

test_done
