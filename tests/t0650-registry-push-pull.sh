#!/bin/sh
# ht-push and ht-pull against a real registry (docker-registry) without
# authentication, and skopeo reading what we push.
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/registry-lib.sh"
have umoci || test_skip_all 'umoci is not installed'
have skopeo || test_skip_all 'skopeo is not installed'

start_registry reg

test_expect_success 'make a two-layer image' '
  make_layout lay t 1 2 &&
  ht-pull -S store oci:lay:t >img.json &&
  test_jq ".schema == \"ht.image/1\" and .ok and (.layers | length) == 2 and .platform.os == \"linux\"" img.json
'

test_expect_success 'push sends every blob and answers a digest-pinned reference' '
  ht-push -S store oci:lay:t $REG/app:v1 >p1.json &&
  d=$(jq -r .digest img.json) &&
  test_jq ".ok and .reference == \"$REG/app@$d\" and .tags == [\"v1\"]" p1.json &&
  want=$(jq "([.layers[].size] | add) + .config_size" img.json) &&
  test_jq ".blobs.sent == 3 and .blobs.bytes_sent == $want" p1.json
'

test_expect_success 'push again sends zero blob bytes' '
  ht-push -S store oci:lay:t $REG/app:v1 >p2.json &&
  test_jq ".ok and .blobs.bytes_sent == 0 and .blobs.sent == 0 and .blobs.existing == 3" p2.json
'

test_expect_success 'the record on stdin works as the source' '
  ht-push -S store $REG/app2 <img.json >p3.json &&
  test_jq ".ok and .blobs.sent == 3 and (has(\"tags\") | not)" p3.json
'

test_expect_success 'skopeo reads what we pushed, by digest' '
  d=$(jq -r .digest img.json) &&
  skopeo inspect --tls-verify=false docker://$REG/app@$d >insp.json &&
  test_jq ".Digest == \"$d\" and (.Layers | length) == 2" insp.json &&
  skopeo copy --src-tls-verify=false docker://$REG/app@$d oci:back:x &&
  test -s back/index.json
'

test_expect_success 'a second repository mounts the blobs it names' '
  ht-push -S store --mount-from app oci:lay:t $REG/other/app:v1 >p4.json &&
  test_jq ".ok and .blobs.mounted == 3 and .blobs.bytes_sent == 0" p4.json
'

test_expect_success 'pull from the registry into a new store, by tag and by digest' '
  ht-pull -S store2 $REG/app:v1 >img2.json &&
  d=$(jq -r .digest img.json) &&
  test_jq ".ok and .digest == \"$d\" and .registry == \"$REG\" and .repository == \"app\" and .store_tag == \"$REG/app:v1\"" img2.json &&
  for b in $(jq -r ".layers[].digest, .config_digest, .digest" img.json); do
    cmp store/blobs/sha256/${b#sha256:} store2/blobs/sha256/${b#sha256:} || exit 1
  done &&
  ht-pull -v -S store2 $REG/app@$d >img3.json 2>err &&
  test_jq ".ok and .digest == \"$d\" and (has(\"tag\") | not)" img3.json &&
  test_grep "0 blobs fetched (0 bytes), 3 already in the store" err
'

test_expect_success 'pull an image that skopeo pushed' '
  make_layout sk s 1 &&
  skopeo copy --dest-tls-verify=false oci:sk:s docker://$REG/fromskopeo:s &&
  ht-pull -S store3 $REG/fromskopeo:s >img4.json &&
  test_jq ".ok and (.layers | length) == 1" img4.json &&
  skopeo inspect oci:store3:$REG/fromskopeo:s >/dev/null
'

test_expect_success 'pushed image pulled back by ht-pull can be pushed by skopeo from the store' '
  skopeo copy --dest-tls-verify=false oci:store2:$REG/app:v1 docker://$REG/viaskopeo:1
'

test_expect_success 'an unknown tag fails with 66 and a failed record' '
  test_must_fail 66 ht-pull -S store4 $REG/app:nope >r.json 2>err &&
  test_jq ".ok == false and .error.code == \"not_found\"" r.json &&
  test_grep "answered 404" err
'

test_expect_success 'no registry listening fails with 69' '
  port=$(free_port) &&
  test_must_fail 69 ht-pull -S store4 127.0.0.1:$port/app:v1 >r.json 2>err &&
  test_jq ".ok == false" r.json
'

test_expect_success 'bad references and options are usage errors' '
  test_must_fail 64 ht-pull "Bad/Name" 2>err && test_grep "invalid image reference" err &&
  test_must_fail 64 ht-pull --platform linux 2>err && test_grep "OS/ARCH" err &&
  test_must_fail 64 ht-push -S store oci:lay:t "$REG/app@sha256:$(printf %064d 0)" &&
  test_must_fail 64 ht-push
'

test_expect_success 'an image missing from the store fails with 66' '
  test_must_fail 66 ht-push -S store nothere $REG/app:v9 >r.json 2>err &&
  test_jq ".ok == false" r.json
'

test_expect_success 'an image index is resolved to the platform asked for' '
  desc=$(jq -c ".manifests[] | select(.annotations[\"org.opencontainers.image.ref.name\"] == \"t\") | del(.annotations)" lay/index.json) &&
  jq -nc --argjson d "$desc" "{schemaVersion: 2, mediaType: \"application/vnd.oci.image.index.v1+json\",
    manifests: [\$d + {platform: {os: \"linux\", architecture: \"s390x\"}}, \$d + {platform: {os: \"linux\", architecture: \"amd64\"}}]}" >idx.json &&
  h=$(sha256sum idx.json | cut -d" " -f1) && cp idx.json lay/blobs/sha256/$h &&
  sz=$(wc -c <idx.json) &&
  jq -c ".manifests += [{mediaType: \"application/vnd.oci.image.index.v1+json\", digest: \"sha256:$h\", size: $sz,
    annotations: {\"org.opencontainers.image.ref.name\": \"multi\"}}]" lay/index.json >ix && mv ix lay/index.json &&
  ht-pull -S store5 oci:lay:multi >m.json &&
  test_jq ".ok and .index_digest == \"sha256:$h\" and .digest == $(jq .digest img.json)" m.json &&
  test_must_fail 66 ht-pull -S store5 --platform linux/arm64 oci:lay:multi >m2.json 2>err &&
  test_grep "no manifest for linux/arm64" err &&
  skopeo copy --multi-arch all --dest-tls-verify=false oci:lay:multi docker://$REG/multi:1 &&
  ht-pull -S store6 --platform linux/s390x $REG/multi:1 >m3.json &&
  test_jq ".ok and .index_digest == \"sha256:$h\"" m3.json &&
  test_must_fail 66 ht-pull -S store6 --platform linux/arm64 $REG/multi:1 >m4.json &&
  test_jq ".ok == false" m4.json
'
test_done
