#!/bin/sh
# ht-build's image as skopeo and umoci see it: inspect, copy, unpack to the
# source tree; an image made by umoci as the base.
. "$HT_SRC/tests/lib.sh"

test_need jq skopeo umoci

RUNNER=$HT_BIN/ht-runner
[ -x "$RUNNER" ] || RUNNER=$HT_BIN/ht-doctor

test_expect_success 'build an image of a small project' '
	mkdir -p r/src/sub r/.git r/empty && echo "print(1)" >r/src/main.py && echo x >r/.git/HEAD &&
	printf "#!/bin/sh\necho hi\n" >r/run.sh && chmod 755 r/run.sh && ln -s src/main.py r/link &&
	seq 1 50000 >r/src/sub/numbers.txt &&
	ht-build --scratch --runner "$RUNNER" -C r -S st >r4 &&
	test_jq ".ok and (.layers | length) == 2" r4
'

test_expect_success 'skopeo inspects and copies the image' '
	skopeo inspect oci:st:latest >insp &&
	test_jq ".Digest == \"$(jq -r .digest r4)\"" insp &&
	test_jq ".Env | index(\"LAMBDA_TASK_ROOT=/var/task\") != null" insp &&
	skopeo copy -q oci:st:latest oci:copy:c &&
	skopeo inspect --config oci:copy:c >cfg &&
	test_jq ".config.WorkingDir == \"/var/task\" and (.config.Entrypoint | last) == \"/opt/hypertest/bin/ht-runner\"" cfg
'

test_expect_success 'umoci unpacks it to the source tree' '
	umoci unpack --rootless --image st:latest bundle >/dev/null 2>&1 &&
	(cd r && find . -path ./.git -prune -o -path ./.hypertest -prune -o -print | sort) >want &&
	(cd bundle/rootfs/var/task && find . | sort) >got &&
	test_cmp want got &&
	diff -r --no-dereference -x .git -x .hypertest r bundle/rootfs/var/task &&
	cmp "$RUNNER" bundle/rootfs/opt/hypertest/bin/ht-runner
'

test_expect_success 'an image made by umoci is a base; its layers come first' '
	umoci init --layout base >/dev/null &&
	umoci new --image base:b >/dev/null &&
	umoci unpack --rootless --image base:b bb >/dev/null 2>&1 &&
	mkdir -p bb/rootfs/etc && echo base-file >bb/rootfs/etc/base.txt &&
	umoci repack --image base:b bb >/dev/null &&
	umoci config --image base:b --config.env FOO=bar >/dev/null &&
	m=$(skopeo inspect oci:base:b | jq -r .Digest) &&
	printf "{\"schema\":\"ht.image/1\",\"ok\":true,\"store\":\"base\",\"digest\":\"%s\"}\n" "$m" >base.rec &&
	ht-build -C r -S st -t on-base --runner "$RUNNER" <base.rec >rb &&
	test_jq "(.layers | length) == 3 and .layers[0].created_by == \"base\" and .base.digest == \"$m\"" rb &&
	blayer=$(skopeo inspect oci:base:b | jq -r ".Layers[0]") &&
	test_jq ".layers[0].digest == \"$blayer\"" rb &&
	skopeo inspect oci:st:on-base >insp &&
	test_jq ".Env | index(\"FOO=bar\") != null" insp &&
	umoci unpack --rootless --image st:on-base ub >/dev/null 2>&1 &&
	test "$(cat ub/rootfs/etc/base.txt)" = base-file &&
	ht-build -C r -S st -t again --runner "$RUNNER" --base-ref on-base >rr &&
	test_jq "(.layers | length) == 5" rr
'

test_done
