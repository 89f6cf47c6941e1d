#!/bin/sh
# ht-gc: blobs no tag reaches and roots of untagged images go; what a tag
# names stays whole.
. "$HT_SRC/tests/lib.sh"
test_need jq python3

test_expect_success 'setup: an image built twice under one tag, both unpacked' '
	mkdir -p p && echo one >p/file && echo "{}" >p/hypertest.json &&
	ht-build --scratch --no-runner -C p -t app </dev/null >r1 &&
	old=$(jq -r .digest r1) &&
	ht-unpack -S p/.hypertest/oci "$old" p/.hypertest/rootfs >/dev/null &&
	echo two >p/file &&
	ht-build --scratch --no-runner -C p -t app </dev/null >r2 &&
	new=$(jq -r .digest r2) && test "$old" != "$new" &&
	ht-unpack -S p/.hypertest/oci "$new" p/.hypertest/rootfs >/dev/null &&
	echo "$old" >old && echo "$new" >new &&
	test -d "p/.hypertest/rootfs/${old#sha256:}" &&
	test -f "p/.hypertest/oci/blobs/sha256/${old#sha256:}"
'

test_expect_success 'ht-gc drops the old manifest, its layer and its root' '
	old=$(cat old) new=$(cat new) &&
	(cd p && ht-gc) >rec 2>err &&
	test_jq ".schema == \"ht.gc/1\" and .ok and .blobs_removed >= 2 and .bytes_freed > 0 and .roots_removed == 1" rec &&
	test ! -e "p/.hypertest/oci/blobs/sha256/${old#sha256:}" &&
	test ! -e "p/.hypertest/rootfs/${old#sha256:}" &&
	test -d "p/.hypertest/rootfs/${new#sha256:}" &&
	test_grep "removed .* blobs" err
'

test_expect_success 'what the tag names is whole: every blob verifies, skopeo reads it' '
	new=$(cat new) &&
	for b in $(jq -r ".digest, .config_digest, .layers[].digest" r2); do
		test "sha256:$(sha256sum "p/.hypertest/oci/blobs/sha256/${b#sha256:}" | cut -d" " -f1)" = "$b" || exit 1
	done &&
	if have skopeo; then skopeo inspect oci:p/.hypertest/oci:app >insp && test_jq ".Digest == \"$new\"" insp; fi
'

test_expect_success 'a root a sandbox runs on (its in-use mark held) is kept' '
	mkdir -p p2 && echo one >p2/file && echo "{}" >p2/hypertest.json &&
	ht-build --scratch --no-runner -C p2 -t app </dev/null >q1 && d1=$(jq -r .digest q1) &&
	ht-unpack -S p2/.hypertest/oci "$d1" p2/.hypertest/rootfs >/dev/null &&
	echo two >p2/file && ht-build --scratch --no-runner -C p2 -t app </dev/null >/dev/null &&
	mark="p2/.hypertest/rootfs/${d1#sha256:}.inuse" && : >"$mark" &&
	{ python3 -c "import fcntl, sys, time; f = open(sys.argv[1]); fcntl.flock(f, fcntl.LOCK_SH); open(\"held\", \"w\").close(); time.sleep(30)" "$mark" & echo $! >holder; } &&
	i=0; while [ ! -e held ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done &&
	(cd p2 && ht-gc) >rec 2>/dev/null &&
	test_jq ".roots_removed == 0" rec && test -d "p2/.hypertest/rootfs/${d1#sha256:}" &&
	kill $(cat holder) && wait $(cat holder) 2>/dev/null;
	(cd p2 && ht-gc) >rec 2>/dev/null &&
	test_jq ".roots_removed == 1" rec && test ! -e "p2/.hypertest/rootfs/${d1#sha256:}" &&
	test ! -e "$mark"
'

test_expect_success 'a second ht-gc removes nothing' '
	(cd p && ht-gc) >rec 2>/dev/null &&
	test_jq ".blobs_removed == 0 and .roots_removed == 0" rec
'

test_expect_success 'no store at all: nothing to do, exit 0' '
	mkdir empty && echo "{}" >empty/hypertest.json &&
	(cd empty && ht-gc) >rec &&
	test_jq ".blobs_removed == 0" rec
'

test_done
