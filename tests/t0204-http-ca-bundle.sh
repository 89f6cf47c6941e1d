#!/bin/sh
# HT_CA_BUNDLE is the trust store of every HTTPS call: ht-runner in a
# busybox image (no CA store of its own) uploads its results to an HTTPS S3
# stand-in whose certificate a test CA signed, that CA being the image's
# bundle; without it, or with another bundle, verification fails.
. "$HT_SRC/tests/lib.sh"

need_busybox_sandbox
have openssl || test_skip_all 'openssl is not installed'
have moto_server || test_skip_all 'moto_server is not installed'
have curl || test_skip_all 'curl is not installed'
bwrap --ro-bind / / --unshare-all --share-net true 2>/dev/null ||
	test_skip_all 'bwrap --unshare-all --share-net cannot make a sandbox here'

RUNNER=$HT_BIN/ht-runner
BUNDLE_PATH=opt/hypertest/etc/ssl/ca-certificates.crt
export AWS_ACCESS_KEY_ID=AKIDTEST AWS_SECRET_ACCESS_KEY=secret AWS_REGION=us-east-1

# rec RUN_ID: a test record whose command writes one artifact.
rec() {
	jq -cn --arg r "$1" '{schema:"ht.test/1",run_id:$r,test_id:"t-01",name:"n",timeout_s:20,
		run:{shell:"echo out; echo a >$HT_OUTPUT_DIR/a.txt"}}'
}

# s3get KEY: the object's bytes, read with curl (signed) trusting the test CA.
s3get() {
	curl -sSf --cacert "$TRASH/ca.pem" --aws-sigv4 aws:amz:us-east-1:s3 --user AKIDTEST:secret "$S3/artifacts/$1"
}

# run_image BUNDLE CMD...: CMD in the unpacked image (read-only root, the
# network of the host, nothing of the host's files but /work), with the
# image's environment and the S3 settings.
run_image() {
	_env=$(jq -r '.process.env[] | index("=") as $i | "--setenv \(.[:$i] | @sh) \(.[$i + 1:] | @sh)"' \
		"$1/config.json" | tr "\n" " ")
	_root=$1/rootfs; shift
	eval "set -- $_env \"\$@\""
	bwrap --ro-bind "$_root" / --proc /proc --dev /dev --tmpfs /tmp --bind "$TRASH/work" /work \
		--unshare-all --share-net --die-with-parent --chdir /work --clearenv \
		--setenv HT_BUCKET s3://artifacts --setenv AWS_ENDPOINT_URL_S3 "$S3" \
		--setenv AWS_ACCESS_KEY_ID AKIDTEST --setenv AWS_SECRET_ACCESS_KEY secret \
		--setenv AWS_REGION us-east-1 --setenv HT_WORK_DIR /tmp/w "$@"
}

test_expect_success 'setup: a test CA, a certificate it signs for 127.0.0.1, S3 on https' '
	openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 \
		-subj /CN=ht-test-ca >/dev/null 2>&1 &&
	openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj /CN=127.0.0.1 >/dev/null 2>&1 &&
	echo "subjectAltName=IP:127.0.0.1" >san.ext &&
	openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
		-extfile san.ext -out srv.pem >/dev/null 2>&1 &&
	openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other.pem -days 2 \
		-subj /CN=another-ca >/dev/null 2>&1 &&
	PORT=$(free_port) && echo $PORT >port &&
	{ moto_server -H 127.0.0.1 -p $PORT -c srv.pem -k srv.key >moto.log 2>&1 & echo $! >moto.pid; } &&
	wait_for_port $PORT 30 &&
	curl -sSf --cacert ca.pem -X PUT https://127.0.0.1:$PORT/artifacts >/dev/null
'
test_cleanup_server "$(cat moto.pid 2>/dev/null)"
S3=https://127.0.0.1:$(cat port 2>/dev/null)

test_expect_success 'setup: the runner on a busybox-only base, the test CA as its bundle' '
	umoci init --layout base >/dev/null &&
	umoci new --image base:bb >/dev/null &&
	umoci unpack --rootless --image base:bb b >/dev/null 2>&1 &&
	mkdir -p b/rootfs/bin b/rootfs/tmp b/rootfs/proc b/rootfs/dev b/rootfs/work &&
	cp "$BUSYBOX" b/rootfs/bin/busybox &&
	for a in sh cat echo; do ln -s busybox b/rootfs/bin/$a || exit 1; done &&
	umoci repack --image base:bb b >/dev/null &&
	mkdir proj && echo "echo hi" >proj/t.sh &&
	ht-build --base-ref bb -S base -C proj -t img --runner "$RUNNER" >build.json &&
	umoci unpack --rootless --image base:img bundle >/dev/null 2>&1 &&
	test ! -e bundle/rootfs/etc/ssl &&
	jq -r ".process.env[]" bundle/config.json >env &&
	test_grep "^HT_CA_BUNDLE=/$BUNDLE_PATH\$" env &&
	test -f bundle/rootfs/$BUNDLE_PATH &&
	cp ca.pem bundle/rootfs/$BUNDLE_PATH &&
	mkdir work && rec run1 >work/t.json
'

test_expect_success 'ht-runner in the image verifies S3 with the bundle and uploads' '
	run_image bundle $(jq -r ".process.args[]" bundle/config.json) --once t.json >res.json 2>err &&
	test_jq ".status == \"passed\" and (has(\"upload_error\") | not) and
		.artifacts == [\"run1/t-01/stdout.txt\", \"run1/t-01/out/a.txt\"]" res.json &&
	s3get run1/t-01/stdout.txt >got &&
	echo out >want && test_cmp want got &&
	# The empty stderr is not kept: no object, no request.
	! s3get run1/t-01/stderr.txt 2>/dev/null
'

test_expect_success 'a bundle of another CA: the upload fails verification, the test passed' '
	cp other.pem bundle/rootfs/$BUNDLE_PATH &&
	rec run2 >work/t.json && run_image bundle $(jq -r ".process.args[]" bundle/config.json) --once t.json >res.json 2>err &&
	test_jq ".status == \"passed\" and (.upload_error | contains(\"could not be stored\"))" res.json &&
	test_jq ".upload_error | test(\"[Cc]ertificate\")" res.json &&
	! s3get run2/t-01/stdout.txt 2>/dev/null
'

test_expect_success 'outside an image: HT_CA_BUNDLE is used; a missing file leaves the system store' '
	rec run3 >t.json &&
	HT_BUCKET=s3://artifacts AWS_ENDPOINT_URL_S3=$S3 HT_WORK_DIR=$TRASH/w3 HT_CA_BUNDLE=$TRASH/ca.pem \
		ht-runner --once t.json >res.json &&
	test_jq ".status == \"passed\" and (has(\"upload_error\") | not)" res.json &&
	s3get run3/t-01/stdout.txt >got && echo out >want && test_cmp want got &&
	rec run4 >t.json &&
	HT_BUCKET=s3://artifacts AWS_ENDPOINT_URL_S3=$S3 HT_WORK_DIR=$TRASH/w4 HT_CA_BUNDLE=$TRASH/nothere.pem \
		ht-runner --once t.json >res.json &&
	test_jq ".upload_error | test(\"[Cc]ertificate\")" res.json
'

test_done
