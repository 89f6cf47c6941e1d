#!/bin/sh
# Blob transfers that break half-way, against a registry stand-in: a
# download cut off goes on with a Range request in the same run (or starts
# over when the server ignores the Range); an upload cut off starts a new
# upload session.
. "$HT_SRC/tests/lib.sh"

RPORT=$(free_port)
FPORT=$(free_port)
python3 "$HT_SRC/tests/helpers/ht-registry-standin.py" $RPORT $FPORT "$TRASH/req.log" \
	>"$TRASH/standin.err" 2>&1 &
test_cleanup_server $!
wait_for_port $RPORT 20 && wait_for_port $FPORT 20 || test_skip_all 'the stand-in does not start'
REG=127.0.0.1:$RPORT
# layer REPO: the digest of the layer of REPO:v1.
layer() { curl -sf http://$REG/v2/$1/manifests/v1 | jq -r ".layers[0].digest"; }

test_expect_success 'a download cut off is resumed with a Range request' '
	: >req.log &&
	l=$(layer cut) && size=$(curl -sf http://$REG/v2/cut/manifests/v1 | jq ".layers[0].size") &&
	ht-pull -v -S s1 $REG/cut:v1 >r.json 2>err &&
	test_jq ".ok" r.json &&
	grep "^http GET /v2/cut/blobs/$l" req.log >gets &&
	test $(wc -l <gets) = 2 &&
	test_grep "range=$((size / 2))\$" gets &&
	test "$(sha256sum <s1/blobs/sha256/${l#sha256:} | cut -d" " -f1)" = "${l#sha256:}"
'

test_expect_success 'a server that ignores the Range sends it all again: the blob starts over' '
	: >req.log &&
	l=$(layer norange) &&
	ht-pull -S s2 $REG/norange:v1 >r.json 2>err &&
	test_jq ".ok" r.json &&
	test $(grep -c "^http GET /v2/norange/blobs/$l range=" req.log) = 1 &&
	test "$(sha256sum <s2/blobs/sha256/${l#sha256:} | cut -d" " -f1)" = "${l#sha256:}"
'

test_expect_success 'an upload whose PATCH is cut off starts a new session and gets there' '
	ht-pull -S st $REG/http:v1 >img.json &&
	: >req.log &&
	ht-push -v -S st $REG/cutpatch:v1 <img.json >p.json 2>err &&
	test_jq ".ok and .blobs.sent == 2" p.json &&
	test_grep "PATCH failed: .*starting the upload again" err &&
	test $(grep -c "^http POST /v2/cutpatch/blobs/uploads/" req.log) = 4 &&
	test $(grep -c "^http PUT /v2/cutpatch/blobs/uploads/" req.log) = 2 &&
	ht-pull -S st2 $REG/cutpatch:v1 >back.json &&
	test_jq ".ok and .digest == $(jq .digest img.json)" back.json
'

test_expect_success 'an upload session the registry forgot (404 on its PATCH) starts a new one and gets there' '
	: >req.log &&
	ht-push -v -S st $REG/forget:v1 <img.json >p.json 2>err &&
	test_jq ".ok and .blobs.sent == 2" p.json &&
	test_grep "PATCH answered 404: the upload session is gone; starting the upload again" err &&
	test $(grep -c "^http POST /v2/forget/blobs/uploads/" req.log) = 4 &&
	test $(grep -c "^http PUT /v2/forget/blobs/uploads/" req.log) = 2 &&
	ht-pull -S st3 $REG/forget:v1 >back.json &&
	test_jq ".ok and .digest == $(jq .digest img.json)" back.json
'

test_done
