#!/bin/sh
# ht-build: reproducible layers, ignore rules, reuse, the size limit, a
# corrupted store, bad input. t0601 checks the image with skopeo and umoci.
. "$HT_SRC/tests/lib.sh"
test_need jq

# A stand-in for ht-runner until it is built: any dynamic binary of ours.
RUNNER=$HT_BIN/ht-runner
[ -x "$RUNNER" ] || RUNNER=$HT_BIN/ht-doctor

# make_tree DIR: a small project with a long path, an executable, a symlink,
# a file of several compression blocks, and things to leave out.
make_tree() {
	mkdir -p "$1/src/deep/$(printf 'd%.0s' $(seq 1 60))/$(printf 'e%.0s' $(seq 1 60))" "$1/.git" "$1/.hypertest/x" "$1/logs" "$1/node_modules/m" &&
	echo 'print("hi")' >"$1/src/main.py" &&
	echo long >"$1/src/deep/$(printf 'd%.0s' $(seq 1 60))/$(printf 'e%.0s' $(seq 1 60))/file.txt" &&
	printf '#!/bin/sh\necho run\n' >"$1/run.sh" && chmod 750 "$1/run.sh" &&
	ln -s src/main.py "$1/main-link" &&
	head -c 1500000 "$HT_SRC/build/std/libht.a" >"$1/blob.bin" 2>/dev/null || head -c 1500000 /dev/urandom >"$1/blob.bin"
	seq 1 50000 >"$1/numbers.txt" &&
	echo secret >"$1/.git/config" && echo state >"$1/.hypertest/x/y" &&
	echo a >"$1/logs/a.log" && echo keep >"$1/logs/keep.log" && echo m >"$1/node_modules/m/index.js" &&
	echo junk >"$1/x.pyc" && echo junk >"$1/src/y.pyc"
}

test_expect_success 'ht-build --help names the options' '
	ht-build --help >out &&
	test_grep "base-ref NAME" out && test_grep "max-size BYTES" out
'

test_expect_success 'the same tree gives the same digests, whatever the directory, time, modes and threads' '
	make_tree a && cp -r a b2 && mv b2 b && sleep 1 && touch b/src/main.py && chmod 600 b/numbers.txt &&
	ht-build --scratch --no-runner --no-cache -C a -S store-a -j 1 >ra &&
	ht-build --scratch --no-runner --no-cache -C b -S store-b -j 2 >rb &&
	test_jq ".ok == true and (.layers | length) == 1" ra &&
	jq -r ".digest, .layers[0].digest, .layers[0].diff_id" ra >da &&
	jq -r ".digest, .layers[0].digest, .layers[0].diff_id" rb >db &&
	test_cmp da db &&
	d=$(jq -r ".layers[0].digest" ra | cut -c8-) &&
	gzip -t store-a/blobs/sha256/$d
'

test_expect_success 'the layer is normalised: 0:0, fixed mtime, modes 0644/0755' '
	d=$(jq -r ".layers[0].digest" ra | cut -c8-) &&
	tar -tvzf store-a/blobs/sha256/$d >list &&
	! grep -v " 0/0 " list &&
	! grep -v "1970-01-01 00:00" list &&
	grep -q "^-rwxr-xr-x .* var/task/run.sh$" list &&
	grep -q "^-rw-r--r-- .* var/task/numbers.txt$" list &&
	grep -q "^lrwxrwxrwx .* var/task/main-link -> src/main.py$" list &&
	SOURCE_DATE_EPOCH=1700000000 ht-build --scratch --no-runner --no-cache -C a -S store-a >re &&
	d=$(jq -r ".layers[0].digest" re | cut -c8-) &&
	tar -tvzf store-a/blobs/sha256/$d | grep -q "2023-11-14 22:13 var/task/run.sh"
'

test_expect_success '.git and .hypertest are left out by default, .hypertestignore is honoured' '
	printf "# comments\nlogs\n!logs/keep.log\n**/*.pyc\nnode_modules/\n" >a/.hypertestignore &&
	echo "src" >a/.dockerignore &&
	ht-build --scratch --no-runner --no-cache -C a -S store-a >ri &&
	d=$(jq -r ".layers[0].digest" ri | cut -c8-) &&
	tar -tzf store-a/blobs/sha256/$d >names &&
	test_grep "^var/task/src/main.py$" names &&
	test_grep "^var/task/logs/keep.log$" names &&
	! grep -e "\.git/" -e "\.hypertest/" -e "a.log" -e "pyc" -e node_modules names
'

test_expect_success '.dockerignore is read when there is no .hypertestignore' '
	rm a/.hypertestignore &&
	ht-build --scratch --no-runner --no-cache -C a -S store-a >rd &&
	d=$(jq -r ".layers[0].digest" rd | cut -c8-) &&
	tar -tzf store-a/blobs/sha256/$d >names &&
	! grep "var/task/src" names && rm a/.dockerignore
'

test_expect_success 'unchanged input is reused; a changed file is not' '
	make_tree r && sleep 1.1 &&
	ht-build --scratch --runner "$RUNNER" -C r -S st >r1 &&
	test_jq "[.layers[].reused] == [false, false]" r1 &&
	ht-build --scratch --runner "$RUNNER" -C r -S st >r2 &&
	test_jq "[.layers[].reused] == [true, true]" r2 &&
	test "$(jq -r .digest r1)" = "$(jq -r .digest r2)" &&
	echo "print(\"ho\")" >r/src/main.py &&
	ht-build --scratch --runner "$RUNNER" -C r -S st >r3 &&
	test_jq "[.layers[].reused] == [true, false]" r3 &&
	test "$(jq -r .layers[1].digest r1)" != "$(jq -r .layers[1].digest r3)"
'

test_expect_success 'a reused layer whose blob was removed is built again' '
	d=$(jq -r ".layers[1].digest" r3 | cut -c8-) && rm st/blobs/sha256/$d && sleep 1.1 &&
	ht-build --scratch --runner "$RUNNER" -C r -S st >r4 &&
	test_jq ".layers[1].reused == false and .layers[1].digest == \"sha256:$d\"" r4
'

test_expect_success 'an image over the size limit is refused and not tagged' '
	test_must_fail 65 ht-build --scratch --no-runner -C r -S st -t big --max-size 100K >rbig 2>err &&
	test_grep "over the limit" err &&
	test_jq ".ok == false and .error.code == \"too_large\"" rbig &&
	test_must_fail 66 ht-build --base-ref big -C r -S st --no-runner >/dev/null 2>err &&
	test_grep "no image .big." err
'

test_expect_success 'a corrupted blob in the store is detected' '
	cp -r st st2 &&
	c=$(jq -r .config_digest r4 | cut -c8-) && chmod u+w st2/blobs/sha256/$c &&
	sed -i "s/var/VAR/" st2/blobs/sha256/$c &&
	test_must_fail ht-build --base-ref latest -S st2 -C r --no-runner >/dev/null 2>err &&
	test_grep "is corrupted" err
'

test_expect_success 'bad base records are refused with exit 65' '
	echo "{\"schema\":\"ht.image/1\",\"ok\":false,\"error\":{\"message\":\"pull failed\"}}" >bad1 &&
	test_must_fail 65 ht-build -C r -S st --no-runner <bad1 2>err && test_grep "pull failed" err &&
	echo "{\"schema\":\"ht.test/1\"}" >bad2 &&
	test_must_fail 65 ht-build -C r -S st --no-runner --base bad2 2>err &&
	test_grep "bad2:1" err &&
	test_must_fail 65 ht-build -C r -S st --no-runner </dev/null 2>err &&
	test_grep "expected an ht.image/1 record (use --scratch" err &&
	test_must_fail 64 ht-build --scratch --base-ref x 2>err &&
	test_must_fail 64 ht-build --scratch --max-size lots 2>err
'

test_expect_success 'the revision of a git checkout becomes a label' '
	if have git; then
		mkdir g && (cd g && git init -q && echo x >f && git add f &&
		git -c user.name=t -c user.email=t@t commit -qm x) &&
		ht-build --scratch --no-runner -C g -S st -t g >rg &&
		test_jq ".revision == \"$(git -C g rev-parse HEAD)\"" rg &&
		skopeo inspect oci:st:g | jq -e ".Labels[\"org.opencontainers.image.revision\"] == \"$(git -C g rev-parse HEAD)\""
	fi
'

test_done
