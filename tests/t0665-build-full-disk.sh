#!/bin/sh
# ht-build writing to a full disk (a small tmpfs in a mount namespace of
# the test's own): at each point where the space or the inodes run out
# (the layout's files, the layer, the config, the manifest, index.json,
# the layer cache), it fails with exit 74 and a message naming the path it
# could not write, the store still verifies (every blob hashes to its
# name, index.json whole, nothing tagged that is not all there), and once
# there is room again the same command completes with the same digest.
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/faults-lib.sh"
test_need jq unshare sha256sum
small_fs_works || test_skip_all 'cannot mount a tmpfs in a mount namespace here (unshare -m / -rm)'

test_expect_success 'set up: a project of 200 KB, built where there is room' '
	mkdir -p p/d && head -c 120000 /dev/urandom >p/a.bin && head -c 80000 /dev/urandom >p/d/b.bin &&
	echo small >p/c.txt &&
	ht-build --scratch --no-runner -C p -S ref -t t --no-cache >ref.json &&
	test_jq .ok ref.json && verify_store ref
'

test_expect_success 'the disk fills at every stage: exit 74 naming the path, the store verifies; then it completes' '
	store_full_disk_trials build
'

test_done
