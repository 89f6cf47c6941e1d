#!/bin/sh
# Blob GETs follow redirects to http and https only: a registry that sends
# a layer to ftp://, file:// or gopher:// gets a clear error, and nothing
# is fetched from there.
. "$HT_SRC/tests/lib.sh"

RPORT=$(free_port)
FPORT=$(free_port)
python3 "$HT_SRC/tests/helpers/ht-registry-standin.py" $RPORT $FPORT "$TRASH/req.log" \
	>"$TRASH/standin.err" 2>&1 &
test_cleanup_server $!
wait_for_port $RPORT 20 && wait_for_port $FPORT 20 || test_skip_all 'the stand-in does not start'
: >"$TRASH/req.log"
REG=127.0.0.1:$RPORT

test_expect_success 'a redirect to http is followed' '
	ht-pull -S s-http $REG/http:v1 >r.json &&
	test_jq ".ok and (.layers | length) == 1" r.json &&
	test_grep "^http GET /data/layer" req.log
'

test_expect_success 'a redirect to ftp:// fails clearly and nothing is fetched from there' '
	: >req.log &&
	test_must_fail 76 ht-pull -S s-ftp $REG/ftp:v1 >r.json 2>err &&
	test_jq ".ok == false and .error.code == \"protocol\"" r.json &&
	test_grep "blob sha256:[0-9a-f]*: GET .*redirect.*ftp" err &&
	! grep "^ftp" req.log &&
	layer=$(curl -sf http://$REG/v2/ftp/manifests/v1 | jq -r ".layers[0].digest") &&
	test $(grep -c "^http GET /v2/ftp/blobs/$layer" req.log) = 1 &&
	test ! -e s-ftp/blobs/sha256/${layer#sha256:}
'

test_expect_success 'a redirect to file:///etc/passwd fails clearly, the file is not read' '
	test_must_fail 76 ht-pull -S s-file $REG/file:v1 >r.json 2>err &&
	test_jq ".ok == false and .error.code == \"protocol\"" r.json &&
	test_grep "blob sha256:[0-9a-f]*: GET .*redirect.*file" err &&
	h=$(sha256sum /etc/passwd | cut -d" " -f1) &&
	test ! -e s-file/blobs/sha256/$h
'

test_expect_success 'a redirect to gopher:// fails clearly' '
	: >req.log &&
	test_must_fail 76 ht-pull -S s-gopher $REG/gopher:v1 >r.json 2>err &&
	test_grep "blob sha256:[0-9a-f]*: GET .*redirect.*gopher" err &&
	! grep "^ftp" req.log
'

test_done
