#!/bin/sh
# ht-pull | ht-build | ht-push as a plain shell pipeline with no flags: the
# tools take the base, the store, the root, the tag and the destination from
# hypertest.json; flags still win; bad settings are reported at their place.
# ht-push mounts the base's blobs from the base repository of the same
# registry, and skopeo accepts the result.
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/registry-lib.sh"
have umoci || test_skip_all 'umoci is not installed'
have skopeo || test_skip_all 'skopeo is not installed'

start_registry reg

mkdir -p proj/tests proj/sub
printf 'echo a\n' >proj/tests/a.sh
cat >proj/hypertest.json <<EOF
{
  "runner": { "tests": ["tests/*.sh"], "run": "sh {file}" },
  "image": { "base": "$REG/base:v1", "repository": "$REG/tests:ci" }
}
EOF

test_expect_success 'a two-layer base image in the registry' '
	make_layout lay v1 1 1 &&
	skopeo copy -q --dest-tls-verify=false oci:lay:v1 docker://$REG/base:v1
'

test_expect_success 'ht-pull | ht-build | ht-push with no flags, in the project' '
	(cd proj && ht-pull | ht-build | ht-push) >pushed.json &&
	test_jq ".ok and .registry == \"$REG\" and .repository == \"tests\" and .tags == [\"ci\"]" pushed.json &&
	test_jq ".blobs.total == 5 and .blobs.mounted == 2 and .blobs.sent == 3 and .mounted_from == \"base\"" \
		pushed.json &&
	test -d proj/.hypertest/oci/blobs &&
	skopeo inspect --tls-verify=false docker://$REG/tests:ci >insp.json &&
	test_jq ".Digest == \"$(jq -r .digest pushed.json)\" and (.Layers | length) == 4" insp.json &&
	skopeo inspect --raw --tls-verify=false docker://$REG/tests:ci >manifest.json &&
	test_jq ".mediaType == \"application/vnd.oci.image.manifest.v1+json\"" manifest.json
'

test_expect_success 'the image is tagged image.repository in the store' '
	skopeo inspect oci:proj/.hypertest/oci:$REG/tests:ci >insp.json &&
	test_jq ".Digest == \"$(jq -r .digest pushed.json)\"" insp.json
'

test_expect_success 'from elsewhere with --config: the root and the store are the config file'"'"'s' '
	(cd proj/sub && ht-pull --config ../hypertest.json >../../base2.json) &&
	test_jq ".ok and .store == \"$TRASH/proj/.hypertest/oci\"" base2.json &&
	(cd proj/sub && ht-build --config ../hypertest.json <../../base2.json >../../img2.json) &&
	test_jq ".ok and .digest == \"$(jq -r .digest pushed.json)\"" img2.json
'

test_expect_success 'flags win over the config' '
	(cd proj && ht-pull -S ../flagstore -t mine >../b3.json) &&
	test_jq ".ok and .store == \"../flagstore\" and .store_tag == \"mine\"" b3.json &&
	(cd proj && ht-build -S ../flagstore -t built <../b3.json >../i3.json) &&
	test_jq ".ok and .store == \"../flagstore\" and .store_tag == \"built\"" i3.json &&
	(cd proj && ht-push $REG/elsewhere <../i3.json >../p3.json) &&
	test_jq ".ok and .repository == \"elsewhere\"" p3.json
'

test_expect_success 'HT_* variables and --set override the file' '
	(cd proj && HT_IMAGE_BASE=oci:../lay:v1 ht-pull >../b4.json) &&
	test_jq ".ok and .layout == \"$TRASH/proj/../lay\"" b4.json &&
	(cd proj && ht-build --set image.store=../setstore <../b4.json >../i4.json) &&
	test_jq ".ok and .store == \"$TRASH/proj/../setstore\"" i4.json
'

test_expect_success 'an oci: base in the config is relative to the project root' '
	mkdir other &&
	printf "{\"image\": {\"base\": \"oci:lay:v1\"}}\n" >other/hypertest.json &&
	cp -r lay other/lay &&
	ht-pull --config other/hypertest.json >b5.json &&
	test_jq ".ok and .layout == \"$TRASH/other/lay\" and .store == \"$TRASH/other/.hypertest/oci\"" b5.json
'

test_expect_success 'a state directory of another name stays out of the project layer' '
	(cd proj && HT_DIR=state ht-pull >../b6.json && HT_DIR=state ht-build <../b6.json >../i6.json) &&
	test_jq ".ok and .store == \"$TRASH/proj/state/oci\"" i6.json &&
	test -d proj/state/cache/layers &&
	rm -rf un && skopeo copy -q oci:proj/state/oci:$REG/tests:ci oci:un:x &&
	umoci raw unpack --rootless --image un:x root >/dev/null 2>&1 &&
	test -f root/var/task/tests/a.sh && ! test -e root/var/task/state &&
	test_jq ".digest == \"$(jq -r .digest pushed.json)\"" i6.json
'

test_expect_success 'no reference and no image.base: a usage error' '
	test_must_fail 64 ht-pull 2>err &&
	test_grep "or image.base in the configuration" err &&
	test_must_fail 64 ht-push </dev/null 2>err &&
	test_grep "or image.repository in the configuration" err
'

test_expect_success 'a repository without its registry is refused at its place' '
	printf "{\n  \"image\": {\"repository\": \"my-tests\"}\n}\n" >bad.json &&
	test_must_fail 78 ht-push --config bad.json <i3.json >out 2>err &&
	test_grep "bad.json:2:27: image.repository: expected REGISTRY/REPOSITORY" err &&
	test_must_fail 78 env HT_IMAGE_REPOSITORY=oci:lay/x ht-push <i3.json 2>err &&
	test_grep "HT_IMAGE_REPOSITORY: image.repository: the destination must be a registry reference" err &&
	test_must_fail 78 ht-build --set image.repository=$REG/r@sha256:$(printf %064d 0) --scratch --no-runner 2>err &&
	test_grep "image.repository: expected REGISTRY/REPOSITORY" err
'

test_expect_success 'a bad image.base is refused at its place' '
	printf "{\"image\": {\"base\": \"Bad/Name\"}}\n" >bad2.json &&
	test_must_fail 78 ht-pull --config bad2.json 2>err &&
	test_grep "bad2.json:1:20: image.base: not an image reference" err
'

test_done
