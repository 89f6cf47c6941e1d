#!/bin/sh
# Stale images on the local provider with local.root "image": ht-build
# records the project's tree (a manifest in the image, a label, HT_TREE);
# ht-invoke compares it with the working tree before invoking: nothing to
# say when they match; drift "warn" names the files that differ and runs
# the image's files; "error" exits 79 and invokes nothing; "ignore" is
# silent; host mode runs the working tree and says nothing.
. "$HT_SRC/tests/lib.sh"
test_need jq

need_busybox_sandbox
[ -x "$HT_BIN/ht-runner" ] || test_skip_all 'ht-runner is not built'

umoci init --layout base >/dev/null &&
umoci new --image base:bb >/dev/null &&
umoci unpack --rootless --image base:bb b >/dev/null 2>&1 &&
mkdir -p b/rootfs/bin &&
cp "$BUSYBOX" b/rootfs/bin/busybox &&
for a in sh cat echo test; do ln -s busybox "b/rootfs/bin/$a"; done &&
umoci repack --image base:bb b >/dev/null || test_skip_all 'cannot make the busybox base'

mkdir -p proj/tests proj/lib && cd proj || exit 1
cat >hypertest.json <<'J'
{"runner": {"tests": ["tests/*.sh"], "run": "sh {file}"}, "timeout_s": 30, "local": {"root": "image"}}
J
echo 'cat /var/task/lib/version.txt' >tests/a.sh
echo 'echo b' >tests/b.sh
echo v1 >lib/version.txt
echo 'ignored.txt' >.hypertestignore
echo 'not packed' >ignored.txt

test_expect_success 'ht-build records the tree: label, HT_TREE, the manifest in the image, the record' '
	ht-pull oci:../base:bb | ht-build --runner "$HT_BIN/ht-runner" >../img.json &&
	tree=$(jq -r .tree ../img.json) &&
	case "$tree" in sha256:????????????????????????????????????????????????????????????????) ;; *) false ;; esac &&
	skopeo inspect --config oci:.hypertest/oci:latest >../cfg.json &&
	test_jq ".config.Labels[\"dev.hypertest.tree\"] == \"$tree\"" ../cfg.json &&
	test_jq "any(.config.Env[]; . == \"HT_TREE=$tree\")" ../cfg.json &&
	ht-unpack -S .hypertest/oci latest ../un >../un.json &&
	m=$(jq -r .path ../un.json)/opt/hypertest/tree.json &&
	test_jq ".schema == \"ht.tree/1\" and .tree == \"$tree\"" "$m" &&
	test_jq ".files | keys == [\".hypertestignore\", \"hypertest.json\", \"lib/version.txt\", \"tests/a.sh\", \"tests/b.sh\"]" "$m" &&
	rm -rf ../un
'

test_expect_success 'the working tree in the image: no warning, the summary says both trees' '
	ht-plan >../plan.jsonl &&
	ht-invoke ../plan.jsonl >../res.jsonl 2>../err &&
	test_jq -s "length == 2 and all(.status == \"passed\" and .tree == \"$(jq -r .tree ../img.json)\")" ../res.jsonl &&
	! grep -i "warning" ../err &&
	run=$(jq -r .run_id ../plan.jsonl | head -n1) &&
	test_jq ".tree.image == .tree.working" .hypertest/bucket/$run/hypertest.results.json
'

test_expect_success 'a changed test file: a warning naming it and the fix, the image still runs' '
	echo v2 >lib/version.txt &&
	echo "echo c" >tests/c.sh &&
	echo "changed but ignored" >ignored.txt &&
	ht-plan >../plan.jsonl &&
	test_expect_code 1 ht-invoke ../plan.jsonl >../res.jsonl 2>../err &&
	test "$(grep -c warning: ../err)" = 1 &&
	test_grep "warning: image .latest. (sha256:[0-9a-f]*) does not hold the working tree: 2 files differ: lib/version.txt (changed), tests/c.sh (not in the image): run ht-build (or make hypertest-build)" ../err &&
	! grep ignored.txt ../err &&
	test_jq -s "length == 3" ../res.jsonl &&
	test_jq -s "map(select(.name == \"tests/c.sh\")) | .[0].status == \"failed\"" ../res.jsonl &&
	test_jq -s "map(select(.name == \"tests/a.sh\")) | .[0].status == \"passed\"" ../res.jsonl &&
	run=$(jq -r .run_id ../plan.jsonl | head -n1) &&
	grep -rx v1 .hypertest/bucket/$run
'

test_expect_success 'drift error: exit 79 before anything is invoked, no result' '
	rm -f .hypertest/local/sandboxes.log &&
	test_must_fail 79 ht-invoke --set drift=error ../plan.jsonl >../res.jsonl 2>../err &&
	test ! -s ../res.jsonl &&
	test_grep "error: image .latest. .* does not hold the working tree: 2 files differ: lib/version.txt (changed), tests/c.sh (not in the image)" ../err &&
	test_grep "nothing was invoked" ../err &&
	test ! -s .hypertest/local/sandboxes.log &&
	HT_DRIFT=error test_must_fail 79 ht-invoke ../plan.jsonl >/dev/null 2>&1
'

test_expect_success 'drift ignore: silent' '
	test_expect_code 1 ht-invoke --set drift=ignore ../plan.jsonl >../res.jsonl 2>../err &&
	! grep -i "working tree" ../err
'

test_expect_success 'a removed file, many changes: named up to five, the rest counted' '
	rm tests/b.sh &&
	for i in 1 2 3 4 5; do echo x >lib/n$i.txt || return 1; done &&
	ht-invoke ../plan.jsonl >/dev/null 2>../err || :
	test_grep "8 files differ: lib/n1.txt (not in the image), lib/n2.txt (not in the image), lib/n3.txt (not in the image), lib/n4.txt (not in the image), lib/n5.txt (not in the image), and 3 more" ../err
'

test_expect_success 'rebuilt: no warning again; host mode says nothing' '
	ht-pull oci:../base:bb | ht-build --runner "$HT_BIN/ht-runner" >/dev/null &&
	ht-plan >../plan.jsonl &&
	ht-invoke ../plan.jsonl >../res.jsonl 2>../err &&
	! grep -i "working tree" ../err &&
	echo "# changed" >>tests/a.sh &&
	ht-invoke --set local.root=host --set drift=error ../plan.jsonl >../res.jsonl 2>../err &&
	! grep -i "working tree" ../err &&
	test_jq "has(\"tree\") | not" ../res.jsonl
'

test_expect_success 'an image without a manifest: a warning that it cannot tell' '
	umoci config --image ../base:bb --config.entrypoint /bin/sh >/dev/null &&
	skopeo copy -q oci:../base:bb oci:.hypertest/oci:bare &&
	ht-invoke --set local.image=bare ../plan.jsonl >/dev/null 2>../err || :
	test_grep "warning: cannot tell whether image .bare. (sha256:[0-9a-f]*) holds the working tree: it has no tree manifest" ../err
'

test_done
