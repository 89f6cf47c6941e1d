#!/bin/sh
# One in-use mark protocol for the unpacked roots: while an image-mode
# ht-invoke runs on a root, ht-gc, ht-unpack --prune and another provider's
# clean-up keep it; once it is done, the unused root goes, mark and all.
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/ht-invoke-lib.sh"

need_busybox_sandbox
have_real_runner || test_skip_all 'ht-runner is not built'

umoci init --layout base >/dev/null &&
umoci new --image base:bb >/dev/null &&
umoci unpack --rootless --image base:bb b >/dev/null 2>&1 &&
mkdir -p b/rootfs/bin &&
cp "$BUSYBOX" b/rootfs/bin/busybox &&
for a in sh cat echo test touch sleep; do ln -s busybox "b/rootfs/bin/$a"; done &&
umoci repack --image base:bb b >/dev/null || test_skip_all 'cannot make the busybox base'

cd proj || exit 1
mkdir -p tests
echo '{"provider": "local", "timeout_s": 60, "local": {"root": "image"}}' >hypertest.json
# hold.sh: says it started, then runs until the file go appears.
cat >tests/hold.sh <<'T'
b=${HT_BUCKET#file://}
touch "$b/started"
i=0; while [ ! -e "$b/go" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
T
mkrec hold "sh tests/hold.sh" >hold.jsonl
mkrec quick "echo quick" >quick.jsonl
ROOTS=.hypertest/rootfs

test_expect_success 'setup: an image, an ht-invoke running on its root, then a rebuild' '
  echo one >version.txt &&
  ht-pull oci:../base:bb | ht-build --runner "$HT_BIN/ht-runner" >img1.json &&
  d1=$(jq -r ".digest[7:]" img1.json) && echo "$d1" >d1 &&
  { ht-invoke hold.jsonl >hold.out 2>hold.err & echo $! >pid; } &&
  i=0; while [ ! -e "$BUCKET/started" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done;
  test -e "$BUCKET/started" &&
  test -d "$ROOTS/$d1/rootfs" && test -e "$ROOTS/$d1.inuse" &&
  echo two >version.txt &&
  ht-pull oci:../base:bb | ht-build --runner "$HT_BIN/ht-runner" >img2.json &&
  d2=$(jq -r ".digest[7:]" img2.json) && test "$d1" != "$d2" && echo "$d2" >d2
'

test_expect_success 'ht-gc while the root is in use: the root is kept' '
  d1=$(cat d1) &&
  ht-gc >gc.json 2>gc.err &&
  test_jq ".ok and .roots_removed == 0" gc.json &&
  test -d "$ROOTS/$d1/rootfs" && test -e "$ROOTS/$d1.inuse"
'

test_expect_success 'ht-unpack --prune and another run on the new image: the root in use is kept' '
  d1=$(cat d1) d2=$(cat d2) &&
  ht-unpack -S .hypertest/oci --prune latest "$ROOTS" >unpack.json &&
  test_jq ".ok and .digest == \"sha256:$d2\"" unpack.json &&
  ht-invoke -v quick.jsonl >quick.out 2>quick.err &&
  test_jq ".status == \"passed\" and .output_tail == \"quick\n\"" quick.out &&
  ! grep "unused roots of other images removed" quick.err &&
  test -d "$ROOTS/$d1/rootfs" && test -d "$ROOTS/$d2/rootfs"
'

test_expect_success 'once the run ends, its mark is gone and ht-gc removes the unused root' '
  d1=$(cat d1) d2=$(cat d2) &&
  touch "$BUCKET/go" && pid=$(cat pid) &&
  i=0; while kill -0 $pid 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done;
  process_gone $pid &&
  test_jq ".status == \"passed\"" hold.out &&
  test ! -e "$ROOTS/$d1.inuse" &&
  ht-gc >gc.json 2>gc.err &&
  test_jq ".ok and .roots_removed == 1" gc.json &&
  test ! -e "$ROOTS/$d1" && test ! -e "$ROOTS/$d1.lock" &&
  test -d "$ROOTS/$d2/rootfs" &&
  ls -A "$ROOTS" >left && printf "%s\n%s.lock\n" "$d2" "$d2" >want && test_cmp want left
'

test_done
