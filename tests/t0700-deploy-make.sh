#!/bin/sh
# The deploy chain of mk/hypertest.mk with the real tools against a real
# registry (docker-registry on 127.0.0.1): make hypertest-deploy pulls the
# configured base, builds and pushes; a second make does nothing; a touched
# file rebuilds without pushing; a changed file pushes only the project
# layer and the config; a changed image.base pulls again. The evidence is
# the files' timestamps and the registry's access log, not stubs.
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/registry-lib.sh"
test_need make
have umoci || test_skip_all 'umoci is not installed'
have skopeo || test_skip_all 'skopeo is not installed'

REG_ACCESSLOG=1
start_registry reg
LOG=$REG_DATA/registry.log
FRAG=$HT_SRC/mk/hypertest.mk

# mk ARGS...: make in the project with the real tools.
mk() { make --no-print-directory -C proj HT_BIN="$HT_BIN" "$@"; }
# stamps: the deploy records and their modification times.
stamps() { find proj/.hypertest -maxdepth 1 -name '*.json' ! -name config.json -printf '%f %T@\n' | sort; }
# requests [AFTER]: the registry's access log lines after line AFTER.
requests() { grep '" [0-9][0-9][0-9] ' "$LOG" | tail -n +$((${1:-0} + 1)); }
nreq() { requests | wc -l; }
# uploaded REPO AFTER: the digests of the blobs uploaded (not mounted) to
# REPO after request AFTER, sorted.
uploaded() {
	requests "$2" | sed -n "s|.*\"PUT /v2/$1/blobs/uploads/[^ ]*digest=\(sha256[:%3A]*[0-9a-f]*\).*|\1|p" |
		sed 's/%3A/:/' | sort
}

test_expect_success 'two base images in the registry (umoci, skopeo)' '
	make_layout lay v1 1 && make_layout lay v2 1 &&
	skopeo copy -q --dest-tls-verify=false oci:lay:v1 docker://$REG/base:v1 &&
	skopeo copy -q --dest-tls-verify=false oci:lay:v2 docker://$REG/base:v2 &&
	skopeo inspect --tls-verify=false docker://$REG/base:v1 | jq -r .Digest >v1.digest &&
	skopeo inspect --tls-verify=false docker://$REG/base:v2 | jq -r .Digest >v2.digest &&
	test -s v1.digest && ! cmp -s v1.digest v2.digest
'

mkdir -p proj/tests
printf 'echo a\n' >proj/tests/a.sh
printf 'echo b\n' >proj/tests/b.sh
printf 'include %s\n' "$FRAG" >proj/Makefile
write_config() {
	cat >proj/hypertest.json <<-EOF
	{
	  "runner": { "tests": ["tests/*.sh"], "run": "sh {file}" },
	  "image": { "base": "$REG/base:$1", "repository": "$REG/proj" }
	}
	EOF
}
write_config v1

test_expect_success 'make hypertest-deploy pulls the base, builds and pushes' '
	mk hypertest-deploy >out 2>err &&
	test_grep "^$HT_BIN/ht-pull .* >\.hypertest/base\.json$" out &&
	test_grep "^$HT_BIN/ht-build .*--base \.hypertest/base\.json >\.hypertest/image\.json$" out &&
	test_grep "^$HT_BIN/ht-push .*<\.hypertest/image\.json >\.hypertest/pushed\.json$" out &&
	test_jq ".ok and .digest == \"$(cat v1.digest)\" and .repository == \"base\"" proj/.hypertest/base.json &&
	test_jq ".ok and .base.repository == \"base\" and (.layers | length) == 3" proj/.hypertest/image.json &&
	d=$(jq -r .digest proj/.hypertest/image.json) &&
	test_jq ".ok and .digest == \"$d\" and .reference == \"$REG/proj@$d\" and .mounted_from == \"base\"" \
		proj/.hypertest/pushed.json &&
	test_jq ".blobs.total == 4 and .blobs.mounted == 1 and .blobs.sent == 3" proj/.hypertest/pushed.json &&
	skopeo inspect --no-tags --tls-verify=false docker://$REG/proj@$d >insp.json &&
	test_jq ".Digest == \"$d\" and (.Layers | length) == 3" insp.json &&
	! ls proj/.hypertest/*.tmp 2>/dev/null
'

test_expect_success 'the image is tagged image.repository in the store, at :latest' '
	skopeo inspect oci:proj/.hypertest/oci:$REG/proj:latest >insp.json &&
	test_jq ".Digest == \"$(jq -r .digest proj/.hypertest/image.json)\"" insp.json
'

test_expect_success 'a second make hypertest-deploy runs no tool and sends no request' '
	stamps >before && n=$(nreq) &&
	mk hypertest-deploy >out 2>err &&
	test_must_fail grep -e ht-pull -e ht-build -e ht-push out err &&
	stamps >after && test_cmp before after &&
	test "$(nreq)" -eq "$n"
'

test_expect_success 'a touched file builds again, the same digest is not pushed' '
	stamps >before && n=$(nreq) &&
	touch proj/tests/a.sh &&
	mk hypertest-deploy >out 2>err &&
	test_grep "ht-build " out && test_must_fail grep -e ht-push -e ht-pull out &&
	stamps >after && test_cmp before after &&
	test "$(nreq)" -eq "$n" &&
	mk hypertest-deploy >out 2>err && test_must_fail grep ht-build out
'

test_expect_success 'a changed file pushes only the project layer and the config' '
	cp proj/.hypertest/base.json base.before && n=$(nreq) &&
	printf "echo a2\n" >proj/tests/a.sh &&
	mk hypertest-deploy >out 2>err &&
	test_must_fail grep ht-pull out &&
	test_cmp base.before proj/.hypertest/base.json &&
	img=proj/.hypertest/image.json &&
	test_jq ".layers[2].reused == false and .layers[1].reused == true" $img &&
	test_jq ".ok and .blobs.sent == 2 and .blobs.existing == 2 and .blobs.mounted == 0" proj/.hypertest/pushed.json &&
	jq -r ".layers[2].digest, .config_digest" $img | sort >expect &&
	uploaded proj "$n" >actual && test_cmp expect actual &&
	test_jq ".digest == \"$(jq -r .digest $img)\"" proj/.hypertest/pushed.json
'

test_expect_success 'a new file in the project is in the next image' '
	printf "echo c\n" >proj/tests/c.sh &&
	mk -s hypertest-deploy &&
	d=$(jq -r .digest proj/.hypertest/image.json) &&
	rm -rf back && skopeo copy -q --src-tls-verify=false docker://$REG/proj@$d oci:back:x &&
	umoci raw unpack --rootless --image back:x root >/dev/null 2>&1 &&
	test -f root/var/task/tests/c.sh && test -x root/opt/hypertest/bin/ht-runner &&
	! test -e root/var/task/.hypertest
'

# hypertest.json is part of the project (under /var/task): a change to it
# changes the project layer too.
test_expect_success 'a changed image.base pulls again, builds and pushes' '
	write_config v2 &&
	mk hypertest-deploy >out 2>err &&
	test_grep "ht-pull " out && test_grep "ht-build " out && test_grep "ht-push " out &&
	test_jq ".digest == \"$(cat v2.digest)\"" proj/.hypertest/base.json &&
	test_jq ".base.digest == \"$(cat v2.digest)\"" proj/.hypertest/image.json &&
	test_jq ".ok and .blobs.mounted == 1 and .blobs.sent == 2 and .blobs.existing == 1" \
		proj/.hypertest/pushed.json
'

test_expect_success 'the same base under another name (HT_IMAGE_BASE) pulls, but pushes nothing' '
	stamps | grep -v base.json >before && n=$(nreq) &&
	HT_IMAGE_BASE="$REG/base@$(cat v2.digest)" mk hypertest-deploy >out 2>err &&
	test_jq ".reference == \"$REG/base@$(cat v2.digest)\"" proj/.hypertest/base.json &&
	test_grep "ht-pull " out && test_grep "ht-build " out && test_must_fail grep "ht-push " out &&
	stamps | grep -v base.json >after && test_cmp before after &&
	requests "$n" >reqs && test_must_fail grep -e "PUT " -e "POST " reqs
'

test_expect_success 'a changed image.repository (HT_IMAGE_REPOSITORY) pushes again' '
	HT_IMAGE_BASE="$REG/base@$(cat v2.digest)" HT_IMAGE_REPOSITORY=$REG/other:v9 \
		mk hypertest-deploy >out 2>err &&
	test_must_fail grep "ht-pull " out && test_grep "ht-push " out &&
	test_jq ".ok and .repository == \"other\" and .tags == [\"v9\"]" proj/.hypertest/pushed.json &&
	skopeo inspect --tls-verify=false docker://$REG/other:v9 >insp.json &&
	test_jq ".Digest == \"$(jq -r .digest proj/.hypertest/image.json)\"" insp.json
'

test_expect_success 'a failed pull fails make with its code and keeps the earlier base' '
	cp proj/.hypertest/base.json base.before &&
	write_config nope &&
	test_must_fail mk hypertest-deploy >out 2>err &&
	test_grep "base\.stamp\] Error 66" err &&
	test_must_fail grep "ht-build " out &&
	test_cmp base.before proj/.hypertest/base.json &&
	! ls proj/.hypertest/*.tmp 2>/dev/null &&
	write_config v2 && mk -s hypertest-deploy
'

test_expect_success 'a bad config stops the chain with 78 before any tool' '
	cp proj/hypertest.json good.json &&
	printf "{\"image\": {\"bsae\": 1}}\n" >proj/hypertest.json &&
	test_must_fail mk hypertest-deploy >out 2>err &&
	test_grep "image.bsae: unknown key" err && test_grep "Error 78" err &&
	test_must_fail grep -e "ht-pull" -e "ht-build" out &&
	cp good.json proj/hypertest.json
'

test_expect_success 'HT_DEPLOY=build: the run waits for the image only' '
	printf "echo d\n" >proj/tests/d.sh &&
	mk HT_DEPLOY=build hypertest-run >out 2>err &&
	test_grep "ht-build " out && test_must_fail grep "ht-push " out &&
	test_jq -s "length == 4 and all(.ok)" proj/.hypertest/results.jsonl
'

test_done
