#!/bin/sh
# The runner layer works on a base with no glibc at all: a busybox-only root
# and a musl root. The image is unpacked with umoci and its entrypoint run
# inside bwrap with the image as the root.
. "$HT_SRC/tests/lib.sh"
test_need jq

need_busybox_sandbox
bwrap --ro-bind / / --unshare-all true 2>/dev/null || test_skip_all 'bwrap --unshare-all cannot make a sandbox here'

RUNNER=$HT_BIN/ht-runner
[ -x "$RUNNER" ] || RUNNER=$HT_BIN/ht-doctor

# make_base TAG [musl]: a base image with busybox (and the musl loader).
make_base() {
	umoci new --image "base:$1" >/dev/null &&
	umoci unpack --rootless --image "base:$1" "b-$1" >/dev/null 2>&1 &&
	mkdir -p "b-$1/rootfs/bin" "b-$1/rootfs/tmp" "b-$1/rootfs/proc" "b-$1/rootfs/dev" &&
	cp "$BUSYBOX" "b-$1/rootfs/bin/busybox" &&
	for a in sh ls cat echo; do ln -s busybox "b-$1/rootfs/bin/$a" || return 1; done &&
	if [ "${2-}" = musl ]; then
		mkdir -p "b-$1/rootfs/lib" && cp /lib/ld-musl-x86_64.so.1 "b-$1/rootfs/lib/" || return 1
	fi &&
	umoci repack --image "base:$1" "b-$1" >/dev/null
}

# run_image BUNDLE CMD...: runs CMD in the unpacked image, read-only root.
run_image() {
	_root=$1/rootfs; shift
	bwrap --ro-bind "$_root" / --proc /proc --dev /dev --tmpfs /tmp --unshare-all \
		--die-with-parent --chdir /var/task --clearenv --setenv PATH /bin "$@"
}

test_expect_success 'a busybox-only base image' '
	umoci init --layout base >/dev/null &&
	make_base busybox &&
	mkdir proj && echo "echo hello from the task" >proj/t.sh
'

test_expect_success 'ht-build on it, unpacked, has no glibc of the base' '
	ht-build --base-ref busybox -S base -C proj -t img --runner "$RUNNER" >rec &&
	test_jq ".ok and (.layers | length) == 3" rec &&
	umoci unpack --rootless --image base:img bundle >/dev/null 2>&1 &&
	test ! -e bundle/rootfs/lib64 && test ! -e bundle/rootfs/lib/x86_64-linux-gnu &&
	test -f bundle/rootfs/opt/hypertest/lib/libc.so.6 &&
	run_image bundle /bin/sh -c "cat /var/task/t.sh" >out && test_grep "hello from the task" out
'

test_expect_success 'the runner alone cannot start there (no loader in the base)' '
	test_must_fail run_image bundle /opt/hypertest/bin/ht-runner --help 2>err &&
	test_grep "No such file" err
'

test_expect_success 'the entrypoint with the bundled loader runs the runner' '
	jq -r ".process.args[]" bundle/config.json >args &&
	test "$(head -n 1 args)" = /opt/hypertest/lib/ld-linux-x86-64.so.2 &&
	run_image bundle $(cat args) --help >out 2>&1 &&
	test_grep "usage: ht-" out
'

test_expect_success 'the same on a musl base' '
	if test -e /lib/ld-musl-x86_64.so.1; then
		make_base musl musl &&
		ht-build --base-ref musl -S base -C proj -t img-musl --runner "$RUNNER" >rec2 &&
		umoci unpack --rootless --image base:img-musl bm >/dev/null 2>&1 &&
		test -e bm/rootfs/lib/ld-musl-x86_64.so.1 && test ! -e bm/rootfs/lib64 &&
		run_image bm $(jq -r ".process.args[]" bm/config.json) --help >out 2>&1 &&
		test_grep "usage: ht-" out
	fi
'

test_done
