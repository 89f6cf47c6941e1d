#!/bin/sh
# ht-gc while an ht-pull is under way: the blobs the pull has already
# written (its config, before the slow layer is done) are not tagged yet;
# the gc waits for the pull instead of removing them.
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/registry-lib.sh"
have umoci || test_skip_all 'umoci is not installed'

start_registry reg

test_expect_success 'set up: an image with a 2 MB layer in the registry' '
  make_layout lay t 2 &&
  ht-pull -S store oci:lay:t >img.json &&
  ht-push -S store oci:lay:t $REG/app:v1 >p.json &&
  test_jq .ok p.json
'

test_expect_success 'an ht-gc started mid-pull waits for it and keeps what it wrote' '
  cfg=$(jq -r .config_digest img.json) &&
  { ht-pull -S s --limit-rate 500000 $REG/app:v1 >pull.json 2>pull.err & echo $! >pid; } &&
  test_cleanup_server $(cat pid) &&
  i=0 && while [ ! -e "s/blobs/sha256/${cfg#sha256:}" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done &&
  test -e "s/blobs/sha256/${cfg#sha256:}" &&
  kill -0 $(cat pid) &&
  ht-gc -S s --rootfs none >gc.json 2>gc.err &&
  test_grep "waiting for the writers of .s. to finish" gc.err &&
  # The pull released its lock when it closed the store; it may still be
  # printing its record: wait for it, do not race it with kill -0.
  wait $(cat pid) &&
  test_jq ".ok" pull.json &&
  test_jq ".ok and .blobs_removed == 0" gc.json &&
  ht-unpack -S s $REG/app:v1 cache >u.json &&
  test_jq ".ok" u.json
'

test_done
