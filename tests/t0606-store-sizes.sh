#!/bin/sh
# Sizes in manifests are untrusted: sums of them that would pass INT64_MAX
# are refused with a clear error, by ht-pull, ht-build and ht-unpack,
# instead of overflowing.
. "$HT_SRC/tests/lib.sh"

PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
MAX=9223372036854775807

# layout DIR TAG SIZES...: an OCI layout with an image whose manifest
# claims the given sizes for its layers (each a real small gzip tar), and
# whose config claims its real size.
layout() {
	"$PY" - "$@" <<-\EOF
	import gzip, hashlib, io, json, os, sys, tarfile
	d, tag, sizes = sys.argv[1], sys.argv[2], [int(s) for s in sys.argv[3:]]
	os.makedirs(d + "/blobs/sha256", exist_ok=True)
	open(d + "/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
	def put(b):
	    h = hashlib.sha256(b).hexdigest()
	    open(d + "/blobs/sha256/" + h, "wb").write(b)
	    return "sha256:" + h
	layers, diffs = [], []
	for i, size in enumerate(sizes):
	    out = io.BytesIO()
	    with tarfile.open(fileobj=out, mode="w") as t:
	        data = b"layer %d" % i
	        ti = tarfile.TarInfo("f%d" % i)
	        ti.size = len(data)
	        t.addfile(ti, io.BytesIO(data))
	    raw = out.getvalue()
	    diffs.append("sha256:" + hashlib.sha256(raw).hexdigest())
	    layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
	                   "digest": put(gzip.compress(raw, mtime=0)), "size": size})
	cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
	                  "rootfs": {"type": "layers", "diff_ids": diffs}}).encode()
	man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
	                  "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
	                             "digest": put(cfg), "size": len(cfg)},
	                  "layers": layers}).encode()
	json.dump({"schemaVersion": 2, "manifests": [{
	    "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": put(man), "size": len(man),
	    "annotations": {"org.opencontainers.image.ref.name": tag}}]}, open(d + "/index.json", "w"))
	EOF
}

test_expect_success 'setup: layouts whose layer sizes add up past INT64_MAX, or just to it' '
	layout over t $MAX 1 &&
	layout halves t 4611686018427387904 4611686018427387904 &&
	layout near t $((MAX - 1000)) &&
	mkdir -p p && echo x >p/f && echo "{}" >p/hypertest.json
'

test_expect_success 'ht-pull refuses a manifest whose sizes overflow, naming the layer' '
	test_must_fail 65 ht-pull -S st oci:over:t >rec 2>err &&
	test_jq ".ok == false" rec &&
	test_grep "layers\[0\]: the sizes of the config and the layers add up to more than $MAX bytes" err &&
	test_must_fail 65 ht-pull -S st oci:halves:t >rec 2>err &&
	test_grep "layers\[1\]: the sizes of the config and the layers add up to more than $MAX bytes" err &&
	! jq -e ".manifests[]" st/index.json >/dev/null
'

test_expect_success 'ht-build and ht-unpack refuse such a base in their store' '
	test_must_fail 65 ht-build --base-ref t -S halves -C p --no-runner >rec 2>err &&
	test_grep "layers\[1\]: the sizes of the config and the layers add up to more than" err &&
	test_must_fail 65 ht-unpack -S halves t cache >rec 2>err &&
	test_grep "layers\[1\]: the sizes of the config and the layers add up to more than" err
'

test_expect_success 'ht-build: a base that fits alone, plus the new layers, is refused' '
	test_must_fail 65 ht-build --base-ref t -S near -C p --no-runner --no-cache >rec 2>err &&
	test_grep "error: layer 0 (.sha256:[0-9a-f]*.): the sizes of the layers add up to more than $MAX bytes" err &&
	test "$(jq -r ".manifests | length" near/index.json)" = 1
'

test_done
