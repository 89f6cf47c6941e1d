#!/bin/sh
# ht-unpack on images ht-build made: the tree is the source tree (modes,
# symlinks), the runner is where the entrypoint says, reuse, umoci agrees.
. "$HT_SRC/tests/lib.sh"
test_need jq

RUNNER=$HT_BIN/ht-runner
[ -x "$RUNNER" ] || RUNNER=$HT_BIN/ht-doctor

test_expect_success 'build an image of a small project' '
	mkdir -p r/src/sub r/empty r/.git && echo "print(1)" >r/src/main.py && echo x >r/.git/HEAD &&
	printf "#!/bin/sh\necho hi\n" >r/run.sh && chmod 755 r/run.sh && ln -s src/main.py r/link &&
	ln -s /usr/bin/env r/abs && ln -s ../../etc r/up && seq 1 20000 >r/src/sub/numbers.txt &&
	ht-build --scratch --runner "$RUNNER" -C r -S st -t t >img &&
	test_jq ".ok" img
'

test_expect_success 'unpack it: the project is under /var/task as it was' '
	ht-unpack -S st t cache >out &&
	test_jq ".schema == \"ht.rootfs/1\" and .ok and .reused == false and .layers == 2" out &&
	test_jq ".digest == \"$(jq -r .digest img)\"" out &&
	root=$(jq -r .path out) &&
	test "$root" = "cache/$(jq -r ".digest[7:]" img)/rootfs" &&
	(cd r && find . -path ./.git -prune -o -path ./.hypertest -prune -o -print | sort) >want &&
	(cd "$root/var/task" && find . | sort) >got &&
	test_cmp want got &&
	diff -r --no-dereference -x .git -x .hypertest r "$root/var/task" &&
	test "$(readlink "$root/var/task/abs")" = /usr/bin/env &&
	test "$(readlink "$root/var/task/up")" = ../../etc &&
	test "$(stat -c %a "$root/var/task/run.sh")" = 755 &&
	test "$(stat -c %a "$root/var/task/src/main.py")" = 644 &&
	cmp "$RUNNER" "$root/opt/hypertest/bin/ht-runner"
'

test_expect_success 'the record counts what is in the tree; the marker is outside it' '
	root=$(jq -r .path out) &&
	test_jq ".files == $(find "$root" -type f | wc -l)" out &&
	test_jq ".entries == $(find "$root" -mindepth 1 | wc -l)" out &&
	test_jq ".size == $(find "$root" -type f -printf "%s\n" | awk "{s+=\$1} END {print s}")" out &&
	test -f "$(dirname "$root")/ht-rootfs.json" &&
	test_jq ".digest == \"$(jq -r .digest img)\"" "$(dirname "$root")/ht-rootfs.json"
'

test_expect_success 'the record says how to run the image' '
	test_jq "(.entrypoint | last) == \"/opt/hypertest/bin/ht-runner\"" out &&
	test_jq ".working_dir == \"/var/task\" and (.env | index(\"LAMBDA_TASK_ROOT=/var/task\")) != null" out &&
	test_jq ".cmd == [] and .user == \"\"" out &&
	test -e "$(jq -r .path out)$(jq -r ".entrypoint[0]" out)"
'

test_expect_success 'a second unpack reuses the tree' '
	touch -d "2000-01-01" "$(jq -r .path out)/var/task/run.sh" &&
	ht-unpack -S st t cache >again &&
	test_jq ".reused and .files == $(jq .files out) and .size == $(jq .size out)" again &&
	test_jq ".duration_ms < 1000" again &&
	test "$(stat -c %Y "$(jq -r .path out)/var/task/run.sh")" = 946684800
'

test_expect_success 'the image can come as an ht.image/1 record on stdin' '
	ht-unpack cache <img >rec &&
	test_jq ".reused and .path == \"$(jq -r .path out)\"" rec
'

test_expect_success 'umoci unpacks the same file list' '
	have umoci || { say "umoci missing"; return 0; }
	umoci unpack --rootless --image st:t bundle >/dev/null 2>&1 &&
	(cd bundle/rootfs && find . | sort) >umoci.list &&
	(cd "$(jq -r .path out)" && find . | sort) >ours.list &&
	test_cmp umoci.list ours.list
'

test_expect_success 'a changed project is another root; --prune drops the old one' '
	echo more >r/new.txt &&
	ht-build --scratch --runner "$RUNNER" -C r -S st -t t >img2 &&
	ht-unpack -S st --prune t cache >out2 &&
	test_jq ".reused == false" out2 &&
	test -f "$(jq -r .path out2)/var/task/new.txt" &&
	test ! -e "$(jq -r .path out)" &&
	ls -A cache >left &&
	printf "%s\n%s.lock\n" "$(jq -r ".digest[7:]" img2)" "$(jq -r ".digest[7:]" img2)" >want.left &&
	test_cmp want.left left
'

test_expect_success 'an unknown image: exit 66 and a failed record' '
	test_must_fail 66 ht-unpack -S st nosuch cache >bad 2>err &&
	test_jq ".ok == false and .error.code == \"not_found\"" bad &&
	test_grep "no image .nosuch." err &&
	test_must_fail 66 ht-unpack -S nostore t cache >bad2 2>err2 &&
	test_jq ".ok == false" bad2
'

test_expect_success 'bad input and usage' '
	test_must_fail 64 ht-unpack 2>err && test_grep "expected \[IMAGE\] DEST" err &&
	test_must_fail 64 ht-unpack --max-size x t cache 2>err &&
	test_grep "max-size" err &&
	echo "{\"schema\":\"ht.test/1\"}" | test_must_fail 65 ht-unpack cache 2>err &&
	test_grep "stdin:1: expected a ht.image/1 record" err &&
	echo "{\"schema\":\"ht.image/1\",\"ok\":false}" | test_must_fail 65 ht-unpack cache 2>err &&
	test_grep "failure" err &&
	test_must_fail 65 ht-unpack cache </dev/null 2>err &&
	ht-unpack --help >help && test_grep "^usage: ht-unpack" help
'

test_done
