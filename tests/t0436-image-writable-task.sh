#!/bin/sh
# The Lambda side of a writable project: image.writable_task makes ht-build
# put HT_WRITABLE_TASK=1 in the image's Env, and the image's ht-runner,
# seeing a read-only /var/task (local.root "image" runs it as Lambda
# would), copies it to /tmp/task and runs each test there, on a fresh copy
# when the last test changed it. local.writable_task overlays an image's
# /var/task instead, local.writable_root each directory of its root.
. "$HT_SRC/tests/lib.sh"
test_need jq

need_busybox_sandbox
[ -x "$HT_BIN/ht-runner" ] || test_skip_all 'ht-runner is not built'

umoci init --layout base >/dev/null &&
umoci new --image base:bb >/dev/null &&
umoci unpack --rootless --image base:bb b >/dev/null 2>&1 &&
mkdir -p b/rootfs/bin &&
cp "$BUSYBOX" b/rootfs/bin/busybox &&
for a in sh cat echo test touch mkdir pwd rm; do ln -s busybox "b/rootfs/bin/$a"; done &&
umoci repack --image base:bb b >/dev/null || test_skip_all 'cannot make the busybox base'

mkdir -p proj/tests && cd proj || exit 1
cat >tests/write.sh <<'T'
set -e
echo "$(pwd) $LAMBDA_TASK_ROOT"
if [ -z "${WARM_KEEPS:-}" ]; then
	test "$(cat tests/data.txt)" = built
	test ! -e tests/new.txt
fi
echo changed >tests/data.txt
echo new >tests/new.txt
T
echo built >tests/data.txt
printf '{"runner": {"list": "printf \\"a\\\\nb\\\\nc\\\\n\\"", "run": "sh tests/write.sh"}, "concurrency": 1, "timeout_s": 30, "local": {"root": "image"}}\n' >hypertest.json
ht-plan >plan.jsonl || exit 1

test_expect_success 'without image.writable_task the image'\''s /var/task is read-only' '
	ht-pull oci:../base:bb | ht-build --runner "$HT_BIN/ht-runner" >img.json &&
	test_must_fail 1 ht-invoke plan.jsonl >res.jsonl 2>err &&
	test_jq -s "all(.status == \"failed\" and (.message | contains(\"Read-only file system\")))" res.jsonl
'

test_expect_success 'image.writable_task: HT_WRITABLE_TASK=1 in the image'\''s Env' '
	ht-pull oci:../base:bb | ht-build --set image.writable_task=true --runner "$HT_BIN/ht-runner" >img.json &&
	cfg=$(jq -r .config_digest img.json 2>/dev/null) &&
	{ [ "$cfg" != null ] && [ -n "$cfg" ] || cfg=$(grep -l HT_WRITABLE_TASK .hypertest/oci/blobs/sha256/* | head -n 1); } &&
	grep -q "HT_WRITABLE_TASK=1" .hypertest/oci/blobs/sha256/${cfg#sha256:}
'

test_expect_success 'the image'\''s runner copies /var/task to /tmp/task, fresh for each test' '
	ht-invoke plan.jsonl >res.jsonl 2>err &&
	test_jq -s "length == 3 and all(.ok) and (map(.worker) | unique | length == 1)" res.jsonl &&
	test_jq -s "all(.output_tail == \"/tmp/task /tmp/task\n\")" res.jsonl
'

test_expect_success 'local.writable_task overlays the image'\''s /var/task instead' '
	if overlay_works; then
		# A warm sandbox keeps its overlay: the later tests see the change.
		ht-plan --set runner.env.WARM_KEEPS=1 >plan-w.jsonl &&
		ht-invoke --set local.writable_task=true plan-w.jsonl >res.jsonl 2>err &&
		test_jq -s "length == 3 and all(.ok) and all(.output_tail == \"/var/task /var/task\n\")" res.jsonl
	else
		say "overlayfs cannot be mounted here: the copy is used" &&
		ht-invoke --set local.writable_task=true plan.jsonl >res.jsonl 2>err &&
		test_jq -s "length == 3 and all(.ok)" res.jsonl
	fi
'

test_expect_success 'local.writable_root: the image'\''s /bin writable, the unpacked tree untouched' '
	if overlay_works; then
		ht-plan --set runner.list="echo r" --set runner.run="sh -c \"echo x >/bin/zz-t0436; cat /bin/zz-t0436\"" >plan-r.jsonl &&
		ht-invoke --set local.writable_root=true plan-r.jsonl >res.jsonl 2>err &&
		test_jq ".ok and .output_tail == \"x\n\"" res.jsonl &&
		test -z "$(find .hypertest/rootfs -name zz-t0436)"
	else
		say "overlayfs cannot be mounted here: skipped"
	fi
'

test_done
