#!/bin/sh
# ht-doctor's aws checks give a fix that matches the cause: a refused
# connection or a TLS failure points at the endpoint (named) and the
# network, throttling says wait, a 5xx blames the service, expired or
# refused credentials the credentials, a denial names the permission.
# The answers come from the stand-in (tests/helpers/ht-aws-standin.py),
# which asks no upstream here.
. "$HT_SRC/tests/lib.sh"

have openssl || test_skip_all "openssl is not installed"

cat >hypertest.json <<-J
	{"provider":"aws","concurrency":10,"aws":{"function":"fn","bucket":"bkt","region":"us-east-1"}}
J
export AWS_ACCESS_KEY_ID=AKIDTEST AWS_SECRET_ACCESS_KEY=secret

STANDIN_PORT=$(free_port)
STANDIN_URL=http://127.0.0.1:$STANDIN_PORT
python3 "$HT_SRC/tests/helpers/ht-aws-standin.py" "$STANDIN_PORT" "http://127.0.0.1:9" "$TRASH/standin.log" \
  >"$TRASH/standin.err" 2>&1 &
test_cleanup_server $!
wait_for_port "$STANDIN_PORT" 20 || test_skip_all 'the stand-in does not start'
standin() { curl -sf -X POST "$STANDIN_URL/_standin/$1" -d "$2" >/dev/null; }

# fix CHECK: the fix of that check's record in checks.
fix() { jq -r "select(.check == \"$1\") | .fix" checks; }
# every_fix FILTER: each failed aws check's fix passes the jq test FILTER.
every_fix() {
  jq -e -s "map(select((.check | startswith(\"aws_\")) and (.ok | not))) | length > 0 and
    all(.[]; .fix | $1)" checks >/dev/null || { cat checks >&2; return 1; }
}

test_expect_success 'a refused connection: the network and the endpoint, not the credentials' '
  port=$(free_port) &&
  AWS_ENDPOINT_URL=http://127.0.0.1:$port test_must_fail 1 ht-doctor >checks 2>err &&
  test_jq -s "[.[] | select(.ok | not) | .check] == [\"aws_credentials\",\"aws_function\",\"aws_bucket\",\"aws_concurrency\"]" checks &&
  every_fix "contains(\"cannot connect to http://127.0.0.1:$port\")" &&
  every_fix "test(\"credential\"; \"i\") | not" &&
  test_grep "fix: cannot connect to http://127.0.0.1:$port" err
'

test_expect_success 'a self-signed certificate: the TLS hint, with aws.insecure for a stand-in' '
  openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 1 \
    -subj /CN=127.0.0.1 >/dev/null 2>&1 &&
  cat >tls.py <<-\EOP &&
	import http.server, ssl, sys
	s = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), http.server.BaseHTTPRequestHandler)
	ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
	ctx.load_cert_chain("cert.pem", "key.pem")
	s.socket = ctx.wrap_socket(s.socket, server_side=True)
	s.serve_forever()
	EOP
  tls_port=$(free_port) &&
  { python3 tls.py $tls_port >tls.log 2>&1 & echo $! >tls.pid; } &&
  wait_for_port $tls_port &&
  AWS_ENDPOINT_URL=https://127.0.0.1:$tls_port test_must_fail 1 ht-doctor >checks 2>err;
  rc=$?; kill $(cat tls.pid); test $rc = 0 &&
  every_fix "contains(\"TLS\") and contains(\"https://127.0.0.1:$tls_port\") and contains(\"aws.insecure\")" &&
  every_fix "test(\"credential\"; \"i\") | not"
'

export AWS_ENDPOINT_URL=$STANDIN_URL

test_expect_success 'throttled: wait and try again' '
  standin answer "{\"status\":429,\"code\":\"ThrottlingException\",\"message\":\"Rate exceeded\"}" &&
  test_must_fail 1 ht-doctor >checks 2>err &&
  every_fix "contains(\"throttled\") and contains(\"wait\")" &&
  every_fix "test(\"credential\"; \"i\") | not"
'

test_expect_success 'a 5xx: the service, named by its endpoint' '
  standin answer "{\"status\":503,\"code\":\"ServiceUnavailableException\",\"message\":\"down\"}" &&
  test_must_fail 1 ht-doctor >checks 2>err &&
  every_fix "contains(\"$STANDIN_URL answered 503\") and contains(\"try again later\")" &&
  every_fix "test(\"credential\"; \"i\") | not"
'

test_expect_success 'denied: the permission each check needs' '
  standin answer "{\"status\":403,\"code\":\"AccessDeniedException\",\"message\":\"no\"}" &&
  test_must_fail 1 ht-doctor >checks 2>err &&
  fix aws_credentials | grep -F "allow sts:GetCallerIdentity" &&
  fix aws_function | grep -F "allow lambda:GetFunction" &&
  fix aws_bucket | grep -F "allow s3:ListBucket" &&
  fix aws_concurrency | grep -F "allow lambda:GetAccountSettings"
'

test_expect_success 'expired credentials: renew them' '
  standin answer "{\"status\":403,\"code\":\"ExpiredTokenException\",\"message\":\"The security token included in the request is expired\"}" &&
  AWS_SESSION_TOKEN=old test_must_fail 1 ht-doctor >checks 2>err &&
  every_fix "contains(\"expired\") and contains(\"renew\")"
'

test_expect_success 'refused credentials: the credentials' '
  standin answer "{\"status\":403,\"code\":\"InvalidSignatureException\",\"message\":\"bad\"}" &&
  test_must_fail 1 ht-doctor >checks 2>err &&
  every_fix "contains(\"credentials are refused\")" &&
  standin answer "{}"
'

test_done
