#!/bin/sh
# local.root "image": ht-build, then ht-plan | ht-invoke run the tests in
# the built image (a busybox base made offline): the image's files and not
# the host's, a read-only root and a writable /tmp, the project as it was
# built, the image's runner and environment, artifacts in the bucket; the
# second run reuses the unpacked root; host mode still runs the same project.
. "$HT_SRC/tests/lib.sh"
test_need jq

need_busybox_sandbox
[ -x "$HT_BIN/ht-runner" ] || test_skip_all 'ht-runner is not built'

# The base: busybox and a file only the image has, an Env of its own.
umoci init --layout base >/dev/null &&
umoci new --image base:bb >/dev/null &&
umoci config --image base:bb --config.env IMG_VAR=from-image --config.env OVERRIDE=image >/dev/null &&
umoci unpack --rootless --image base:bb b >/dev/null 2>&1 &&
mkdir -p b/rootfs/bin b/rootfs/etc &&
cp "$BUSYBOX" b/rootfs/bin/busybox &&
for a in sh cat echo test touch mkdir readlink pwd grep env; do ln -s busybox "b/rootfs/bin/$a"; done &&
echo "only in the image" >b/rootfs/etc/image-marker &&
umoci repack --image base:bb b >/dev/null || test_skip_all 'cannot make the busybox base'

mkdir -p proj/tests && cd proj || exit 1
cat >hypertest.json <<'J'
{"runner": {"tests": ["tests/*.sh"], "run": "sh {file}",
            "env": {"OVERRIDE": "runner", "FROM_RUNNER": "yes"}},
 "timeout_s": 30, "local": {"root": "image"}}
J
cat >tests/image.sh <<'T'
cat /etc/image-marker && test ! -e /etc/debian_version && test ! -e /usr/bin/gcc &&
test ! -e /var/runtime/ht-runner &&
# ht-runner is not dumpable: its exe link is not the test's to read; its
# command line is.
test "$(tr '\0' '\n' </proc/$PPID/cmdline | head -n 1)" = /opt/hypertest/lib/ld-linux-x86-64.so.2
T
cat >tests/files.sh <<'T'
if touch /etc/nope 2>/dev/null || touch /var/task/nope 2>/dev/null || mkdir /new 2>/dev/null; then
	echo "the root is writable"; exit 1
fi
echo scratch >/tmp/scratch && test "$(cat /tmp/scratch)" = scratch &&
echo "an artifact" >"$HT_OUTPUT_DIR/art.txt" && cat /var/task/version.txt
T
cat >tests/env.sh <<'T'
test "$(pwd)" = /var/task && test "$LAMBDA_TASK_ROOT" = /var/task &&
test "$IMG_VAR" = from-image && test "$OVERRIDE" = runner && test "$FROM_RUNNER" = yes &&
test "$HT_BUCKET" = file:///var/bucket && test "$AWS_LAMBDA_FUNCTION_NAME" = hypertest-local &&
test -n "$HT_CA_BUNDLE" && echo env ok
T
cat >tests/fail.sh <<'T'
echo "the image says no" >&2; exit 3
T
echo built >version.txt

# res_jq FILE TEST EXPR: EXPR is true of the one result of tests/TEST in FILE.
res_jq() {
	test_jq -s "map(select(.name == \"tests/$2\")) | length == 1 and (.[0] | $3)" "$1"
}

test_expect_success 'ht-build from the busybox base into the default store' '
	ht-pull oci:../base:bb | ht-build --runner "$HT_BIN/ht-runner" >img.json &&
	test_jq ".ok and .store_tag == \"latest\"" img.json &&
	echo "changed on the host after the build" >version.txt
'

test_expect_success 'ht-plan | ht-invoke run the tests in the image' '
	ht-plan >plan.jsonl &&
	test_expect_code 1 ht-invoke -v plan.jsonl >res.jsonl 2>err &&
	test_grep "root unpacked" err &&
	test "$(wc -l <res.jsonl)" = 4 &&
	res_jq res.jsonl image.sh ".status == \"passed\" and (.output_tail | test(\"only in the image\"))" &&
	res_jq res.jsonl env.sh ".status == \"passed\"" &&
	# The run summary names the image that ran the tests.
	run=$(jq -r .run_id res.jsonl | head -n 1) &&
	test_jq ".root == \"image\" and .image.digest == \"$(jq -r .digest img.json)\"" \
		".hypertest/bucket/$run/hypertest.results.json"
'

test_expect_success 'the root is read-only, /tmp is writable, /var/task is the built project' '
	res_jq res.jsonl files.sh ".status == \"passed\" and .output_tail == \"built\n\""
'

test_expect_success 'a failing test reports its message' '
	res_jq res.jsonl fail.sh ".status == \"failed\" and .exit_code == 3
		and (.message | test(\"the image says no\"))"
'

test_expect_success 'artifacts land in the local bucket' '
	run=$(head -n 1 plan.jsonl | jq -r .run_id) &&
	id=$(jq -r "select(.name == \"tests/files.sh\") | .test_id" plan.jsonl) &&
	test "$(cat ".hypertest/bucket/$run/$id/out/art.txt")" = "an artifact" &&
	test_grep "the image says no" ".hypertest/bucket/$run/$(jq -r "select(.name == \"tests/fail.sh\") | .test_id" plan.jsonl)/stderr.txt"
'

test_expect_success 'a second run reuses the unpacked root' '
	root=$(ls -d .hypertest/rootfs/*/rootfs) && test "$(echo "$root" | wc -l)" = 1 &&
	touch -d 2001-01-01 "$root/etc/image-marker" &&
	start=$(date +%s%N) &&
	test_expect_code 1 ht-invoke -v plan.jsonl >res2.jsonl 2>err2 &&
	end=$(date +%s%N) &&
	test_grep "root reused" err2 &&
	test "$(stat -c %Y "$root/etc/image-marker")" = 978307200 &&
	test_jq -s "map(select(.status == \"passed\")) | length == 3" res2.jsonl &&
	say "second run: $(( (end - start) / 1000000 )) ms" &&
	test $(( (end - start) / 1000000 )) -lt 10000
'

test_expect_success 'host mode runs the same project on the host root' '
	test_expect_code 1 ht-invoke --set local.root=host plan.jsonl >host.jsonl 2>herr &&
	res_jq host.jsonl image.sh ".status == \"failed\"" && res_jq host.jsonl env.sh ".status == \"failed\"" &&
	res_jq host.jsonl files.sh ".output_tail == \"changed on the host after the build\n\""
'

test_expect_success 'a new build: a new root; the old one, unused, is removed' '
	old=$(jq -r .digest img.json | cut -c8-) &&
	ht-pull oci:../base:bb | ht-build --runner "$HT_BIN/ht-runner" >img2.json &&
	new=$(jq -r .digest img2.json | cut -c8-) && test "$old" != "$new" &&
	test_expect_code 1 ht-invoke -v plan.jsonl >res3.jsonl 2>err3 &&
	test_grep "root unpacked" err3 && test_grep "unused roots of other images removed" err3 &&
	res_jq res3.jsonl files.sh ".output_tail == \"changed on the host after the build\n\"" &&
	test ! -e ".hypertest/rootfs/$old" && test -d ".hypertest/rootfs/$new/rootfs" &&
	test -z "$(ls -A .hypertest/rootfs | grep -v "^$new")"
'

test_expect_success 'local.image picks an image by digest; a root in use is not removed' '
	old=$(jq -r .digest img.json) && new=$(jq -r .digest img2.json | cut -c8-) &&
	test_expect_code 1 ht-invoke -v --set "local.image=$old" plan.jsonl >res4.jsonl 2>err4 &&
	res_jq res4.jsonl files.sh ".output_tail == \"built\n\"" &&
	test_grep "unused roots of other images removed" err4 && test ! -e ".hypertest/rootfs/$new" &&
	exec 9>>".hypertest/rootfs/$(echo "$old" | cut -c8-).inuse" && flock -s 9 &&
	test_expect_code 1 ht-invoke -v plan.jsonl >res5.jsonl 2>err5 9>&- &&
	! grep "roots of other images removed" err5 &&
	test -d ".hypertest/rootfs/$(echo "$old" | cut -c8-)/rootfs"
'

test_expect_success 'ht-build then ht-invoke with image.repository: no flags, the same default tag' '
	jq ".image.repository = \"127.0.0.1:5000/my-tests\"" hypertest.json >h && mv h hypertest.json &&
	echo repo >version.txt &&
	ht-pull oci:../base:bb | ht-build --runner "$HT_BIN/ht-runner" >img3.json &&
	test_jq ".store_tag == \"127.0.0.1:5000/my-tests:latest\"" img3.json &&
	test_expect_code 1 ht-invoke plan.jsonl >res6.jsonl &&
	res_jq res6.jsonl files.sh ".output_tail == \"repo\n\""
'

test_done
