#!/bin/sh
# ht-pull from an OCI layout writing to a full disk (a small tmpfs in a
# mount namespace of the test's own; t0667 pulls from a registry): at each
# point where the space or the inodes run out (the layout's files, a blob,
# index.json), it fails with exit 74 and a message naming the
# path it could not write, the store still verifies, nothing is tagged,
# and once there is room again the same command completes.
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/faults-lib.sh"
test_need jq unshare sha256sum
small_fs_works || test_skip_all 'cannot mount a tmpfs in a mount namespace here (unshare -m / -rm)'

test_expect_success 'set up: an image with a layer of 200 KB' '
	mkdir -p p/d && head -c 120000 /dev/urandom >p/a.bin && head -c 80000 /dev/urandom >p/d/b.bin &&
	echo small >p/c.txt &&
	ht-build --scratch --no-runner -C p -S ref -t t --no-cache >ref.json &&
	test_jq .ok ref.json && verify_store ref
'

test_expect_success 'from an OCI layout: exit 74 naming the path, the store verifies; then it completes' '
	store_full_disk_trials pull-oci
'

test_done
