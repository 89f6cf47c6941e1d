#!/bin/sh
# ht-gc and the writers of the store: blobs a writer has written but not
# tagged yet survive an ht-gc that runs meanwhile (it waits for the writer);
# unreachable blobs nobody writes still go.
. "$HT_SRC/tests/lib.sh"

blob() { echo "st/blobs/sha256/${1#sha256:}"; }

# The blobs named in FILE (one digest a line) are in the store, whole.
whole() {
	for d in $(cat "$1"); do
		test "sha256:$(sha256sum "$(blob $d)" | cut -d" " -f1)" = "$d" || return 1
	done
}

# Puts the bytes $1 into the store as a blob nothing references; prints
# its path.
orphan() {
	hex=$(printf %s "$1" | sha256sum | cut -d" " -f1) &&
	printf %s "$1" >"st/blobs/sha256/$hex" &&
	echo "st/blobs/sha256/$hex"
}

# wait_lines FILE N: waits (5 s at most) until FILE has N lines.
wait_lines() {
	i=0
	while [ "$({ wc -l <"$1"; } 2>/dev/null || echo 0)" -lt "$2" ] && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ "$(wc -l <"$1")" -ge "$2" ]
}

test_expect_success 'setup: a store with a tagged image and two unreachable blobs' '
	mkdir -p p && echo one >p/file && echo "{}" >p/hypertest.json &&
	ht-build --scratch --no-runner -C p -S st -t app </dev/null >r1 &&
	old=$(orphan "an old blob") && touch -d "2 days ago" "$old" &&
	young=$(orphan "a young blob") &&
	echo "$old" >old && echo "$young" >young
'

test_expect_success 'a blob written but not tagged survives an ht-gc run meanwhile' '
	mkfifo go &&
	{ ht-test-tool oci-write st w <go >wrote 2>werr & echo $! >wpid; } &&
	test_cleanup_server $(cat wpid) &&
	exec 3>go &&
	wait_lines wrote 3 &&
	{ ht-gc -S st --rootfs none >gc.out 2>gc.err & echo $! >gcpid; } &&
	test_cleanup_server $(cat gcpid) &&
	sleep 1 &&
	kill -0 $(cat gcpid) &&
	for d in $(cat wrote); do test -f "$(blob $d)" || exit 1; done &&
	test_grep "waiting for the writers of .st. to finish" gc.err &&
	echo tag >&3 && exec 3>&- &&
	wait $(cat wpid) &&
	wait $(cat gcpid) &&
	whole wrote &&
	test_jq ".ok and .blobs_removed == 2" gc.out &&
	test ! -e "$(cat old)" && test ! -e "$(cat young)" &&
	test "$(jq -r ".manifests[] | select(.annotations[\"org.opencontainers.image.ref.name\"] == \"w\") | .digest" st/index.json)" = "$(head -1 wrote)" &&
	ht-unpack -S st app cache >/dev/null
'

test_expect_success 'a writer that starts while ht-gc runs waits for it, and keeps its blobs' '
	for i in $(seq 1 200); do orphan "orphan $i" >/dev/null; done &&
	{ ht-gc -S st --rootfs none >gc2.out 2>/dev/null & echo $! >gcpid; } &&
	ht-test-tool oci-write st w2 </dev/null >wrote2 &&
	wait $(cat gcpid) &&
	test_jq ".ok" gc2.out &&
	whole wrote2 &&
	test "$(jq -r ".manifests[] | select(.annotations[\"org.opencontainers.image.ref.name\"] == \"w2\") | .digest" st/index.json)" = "$(head -1 wrote2)"
'

test_expect_success 'with no writer, ht-gc does not wait, and removes what no tag reaches' '
	orphan "another" >/dev/null &&
	ht-gc -S st --rootfs none >gc3.out 2>gc3.err &&
	test_jq ".blobs_removed == 1" gc3.out &&
	! grep -q "waiting" gc3.err
'

test_done
