#!/bin/sh
# local.root "image" when it cannot run: no store or no such image (66, with
# the advice to build), no bwrap or sandbox none (69), a bad
# image.repository (78), an image without a command or with a /var that
# leaves the tree (65), an entrypoint that dies at once (error records).
. "$HT_SRC/tests/lib.sh"
test_need jq

need_busybox_sandbox
[ -x "$HT_BIN/ht-runner" ] || test_skip_all 'ht-runner is not built'

# make_base TAG [umoci config options]: busybox, plus what the options say.
make_base() {
	_t=$1; shift
	umoci new --image "base:$_t" >/dev/null &&
	if [ $# -gt 0 ]; then umoci config --image "base:$_t" "$@" >/dev/null; fi &&
	umoci unpack --rootless --image "base:$_t" "b-$_t" >/dev/null 2>&1 &&
	mkdir -p "b-$_t/rootfs/bin" &&
	cp "$BUSYBOX" "b-$_t/rootfs/bin/busybox" &&
	for a in sh cat echo false; do ln -s busybox "b-$_t/rootfs/bin/$a" || return 1; done &&
	umoci repack --image "base:$_t" "b-$_t" >/dev/null
}
# bb: busybox; dies: an entrypoint that exits at once; var: /var a link out.
umoci init --layout base >/dev/null && make_base bb && make_base dies --config.entrypoint /bin/false &&
umoci new --image base:var >/dev/null &&
umoci config --image base:var --config.entrypoint /bin/sh >/dev/null &&
umoci unpack --rootless --image base:var b-var >/dev/null 2>&1 &&
ln -s /etc b-var/rootfs/var && mkdir -p b-var/rootfs/bin && cp "$BUSYBOX" b-var/rootfs/bin/sh &&
umoci repack --image base:var b-var >/dev/null || test_skip_all 'cannot make the busybox bases'

mkdir -p proj/tests && cd proj || exit 1
echo '{"runner": {"tests": ["tests/*.sh"], "run": "sh {file}"}, "local": {"root": "image"}}' >hypertest.json
echo 'echo hi' >tests/a.sh
ht-plan >plan.jsonl || exit 1

test_expect_success 'no image store: exit 66, build it first' '
	test_must_fail 66 ht-invoke plan.jsonl >out 2>err &&
	test ! -s out &&
	test_grep "no image store at .*/.hypertest/oci" err && test_grep "ht-build (or make hypertest-build)" err &&
	test "$(grep -c error: err)" = 1
'

test_expect_success 'no such image in the store: exit 66 naming it' '
	ht-pull oci:../base:bb | ht-build --runner "$HT_BIN/ht-runner" -t other >/dev/null &&
	test_must_fail 66 ht-invoke plan.jsonl >out 2>err &&
	test_grep "no image .latest. in .*oci.: build it first with ht-build (or make hypertest-build)" err &&
	test "$(grep -c error: err)" = 1 &&
	test_must_fail 66 ht-invoke --set local.image=nosuch plan.jsonl 2>err &&
	test_grep "no image .nosuch." err &&
	test_must_fail 66 ht-invoke --set local.image=sha256:$(printf %064d 0) plan.jsonl 2>err &&
	test_grep "no image .sha256:0000" err &&
	ht-invoke --set local.image=other plan.jsonl >ok.jsonl &&
	test_jq ".status == \"passed\"" ok.jsonl
'

test_expect_success 'sandbox none cannot change the root: exit 69' '
	test_must_fail 69 ht-invoke --set local.sandbox=none --set local.image=other plan.jsonl >out 2>err &&
	test ! -s out &&
	test_grep "sandbox .none. cannot change the root" err
'

test_expect_success 'no bwrap in PATH: exit 69, no silent fallback' '
	mkdir -p nobin && ln -s "$HT_BIN/ht-runner" nobin/ht-runner &&
	test_must_fail 69 env PATH="$TRASH/proj/nobin" "$HT_BIN/ht-invoke" --set local.image=other plan.jsonl 2>err &&
	test_grep "needs bwrap to change the root" err &&
	test_must_fail 69 env PATH="$TRASH/proj/nobin" "$HT_BIN/ht-invoke" --set local.sandbox=bwrap \
		--set local.image=other plan.jsonl 2>err &&
	test_grep "needs bwrap" err
'

test_expect_success 'a bad image.repository for the default image: exit 78' '
	test_must_fail 78 ht-invoke --set image.repository=UPPER/case:x: plan.jsonl 2>err &&
	test_grep "image.repository" err
'

test_expect_success 'an image with neither Entrypoint nor Cmd: exit 65' '
	ht-pull oci:../base:bb | ht-build --no-runner -t norunner >/dev/null &&
	test_must_fail 65 ht-invoke --set local.image=norunner plan.jsonl 2>err &&
	test_grep "neither an Entrypoint nor a Cmd" err
'

test_expect_success 'an image whose /var is a link out of the tree: exit 65' '
	ht-pull -t badvar oci:../base:var >/dev/null &&
	test_must_fail 65 ht-invoke --set local.image=badvar plan.jsonl 2>err &&
	test_grep "/var is not a directory" err
'

test_expect_success 'an entrypoint that exits at once: error records, not a hang' '
	ht-pull oci:../base:dies | ht-build --no-runner -t dies >/dev/null &&
	test_expect_code 1 ht-invoke --set local.image=dies plan.jsonl >bad.jsonl 2>err &&
	test_jq ".status == \"error\" and (.message | test(\"exited before taking an invocation\"))" bad.jsonl
'

test_done
