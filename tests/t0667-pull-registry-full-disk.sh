#!/bin/sh
# ht-pull from a registry (Debian's docker-registry) writing to a full disk
# (a small tmpfs in a mount namespace of the test's own): at each point
# where the space or the inodes run out (the layout's files, a blob, the
# .partial-HEX file kept to resume, index.json), it fails with exit 74 and a message naming the
# path it could not write, the store still verifies, nothing is tagged,
# and once there is room again the same command completes.
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/faults-lib.sh"
test_need jq unshare sha256sum
small_fs_works || test_skip_all 'cannot mount a tmpfs in a mount namespace here (unshare -m / -rm)'
. "$HT_SRC/tests/helpers/registry-lib.sh"
start_registry reg || test_skip_all 'docker-registry does not start'

test_expect_success 'set up: an image with a layer of 200 KB' '
	mkdir -p p/d && head -c 120000 /dev/urandom >p/a.bin && head -c 80000 /dev/urandom >p/d/b.bin &&
	echo small >p/c.txt &&
	ht-build --scratch --no-runner -C p -S ref -t t --no-cache >ref.json &&
	test_jq .ok ref.json && verify_store ref
'

test_expect_success 'the registry serves it' '
	ht-push -S ref t $REG/app:v1 >pushed.json && test_jq .ok pushed.json
'
export REG

test_expect_success 'exit 74 naming the path, the store verifies, a blob kept to resume never under its name; then it completes' '
	store_full_disk_trials pull-reg
'

test_done
