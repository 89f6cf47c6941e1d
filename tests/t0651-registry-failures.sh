#!/bin/sh
# ht-pull and ht-push when things go wrong: a corrupted blob in the
# registry, a pull killed mid-blob, a registry killed mid-push.
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/registry-lib.sh"
have umoci || test_skip_all 'umoci is not installed'

start_registry reg

test_expect_success 'set up: an image with a 6 MB layer in the registry' '
  make_layout lay t 6 &&
  ht-pull -S store oci:lay:t >img.json &&
  ht-push -S store oci:lay:t $REG/app:v1 >p.json &&
  test_jq .ok p.json
'

test_expect_success 'a pull killed mid-blob leaves no blob under its digest; a rerun resumes' '
  layer=$(jq -r ".layers[0].digest" img.json) && size=$(jq ".layers[0].size" img.json) &&
  { ht-pull -S s1 --limit-rate 2000000 $REG/app:v1 >/dev/null 2>&1 & pid=$!; } &&
  sleep 1.5 && kill -9 $pid; wait $pid;
  test ! -e s1/blobs/sha256/${layer#sha256:} &&
  ls -a s1/blobs/sha256 | grep -q "^.partial-${layer#sha256:}" &&
  ht-pull -v -S s1 $REG/app:v1 >r.json 2>err &&
  test_jq ".ok" r.json &&
  test_grep "resuming at byte" err &&
  got=$(sed -n "s/.*blobs fetched (\([0-9]*\) bytes).*/\1/p" err) &&
  test "$got" -lt "$size" &&
  cmp s1/blobs/sha256/${layer#sha256:} store/blobs/sha256/${layer#sha256:}
'

test_expect_success 'a blob whose bytes do not match its digest is rejected' '
  layer=$(jq -r ".layers[0].digest" img.json) &&
  data=$(blob_data $layer) && test -f "$data" &&
  cp "$data" good.blob &&
  printf "XXXX" | dd of="$data" bs=1 seek=1000 conv=notrunc 2>/dev/null &&
  test_must_fail 76 ht-pull -S s2 $REG/app:v1 >r.json 2>err &&
  test_grep "digest mismatch" err &&
  test_jq ".ok == false and .error.code == \"protocol\"" r.json &&
  test ! -e s2/blobs/sha256/${layer#sha256:} &&
  cp good.blob "$data"
'

test_expect_success 'a registry killed mid-push leaves nothing corrupt; a rerun finishes' '
  make_layout lay2 t 8 &&
  ht-pull -S store oci:lay2:t >img2.json &&
  { ht-push -S store --limit-rate 2000000 oci:lay2:t $REG/big:1 >r.json 2>err & pid=$!; } &&
  sleep 1.5 && kill -9 $REG_PID && wait $pid; rc=$? &&
  test $rc -eq 75 -o $rc -eq 69 &&
  test_jq ".ok == false and .error.code == \"unavailable\"" r.json &&
  docker-registry serve "$REG_DATA/config.yml" >>"$REG_DATA/registry.log" 2>&1 &
  echo $! >reg2.pid && wait_for_port $REG_PORT &&
  ht-push -S store oci:lay2:t $REG/big:1 >r2.json &&
  test_jq ".ok and .blobs.sent >= 1" r2.json &&
  ht-pull -S s3 $REG/big:1 >r3.json && test_jq ".ok and .digest == $(jq .digest img2.json)" r3.json
'
[ -f "$TRASH/reg2.pid" ] && test_cleanup_server "$(cat "$TRASH/reg2.pid")"

test_expect_success 'a record naming an image not in the store fails with 66, no record with 65' '
  echo "{\"schema\":\"ht.image/1\",\"ok\":true,\"digest\":\"sha256:$(printf %064d 0)\"}" >bad.json &&
  test_must_fail 66 ht-push -S store $REG/x <bad.json >r.json &&
  test_must_fail 65 ht-push -S store $REG/x </dev/null
'
test_done
