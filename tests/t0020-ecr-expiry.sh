#!/bin/sh
# ECR's GetAuthorizationToken answer is untrusted: an expiresAt that does
# not fit a time in milliseconds (1e300, -1e300, 1e16) is "not given" (0),
# not cast out of range (undefined behaviour; x86 gave INT64_MIN).
. "$HT_SRC/tests/lib.sh"
test_need python3
have ht-aws-probe || test_skip_all 'ht-aws-probe is not built'

# A stand-in of ECR on 127.0.0.1 answering every POST with the body in ./answer.
cat >ecr.py <<'PY'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        body = open("answer", "rb").read()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
PORT=$(free_port)
python3 ecr.py $PORT 2>ecr.err &
test_cleanup_server $!
wait_for_port $PORT
export AWS_REGION=us-east-1 AWS_ENDPOINT_URL=http://127.0.0.1:$PORT AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=fake
tok=$(printf AWS:pw | base64)

for at in 1e300 -1e300 1e16 -5 '"soon"'; do
  test_expect_success "expiresAt $at: not given (0)" '
    printf "{\"authorizationData\":[{\"authorizationToken\":\"%s\",\"proxyEndpoint\":\"https://1.dkr.ecr.us-east-1.amazonaws.com\",\"expiresAt\":%s}]}" \
      "$tok" "$at" >answer &&
    ht-aws-probe ecr-auth >out 2>err &&
    test_grep "^username=AWS$" out && test_grep "^expires_ms=0$" out
  '
done

test_expect_success 'expiresAt 1796169600.5: in milliseconds' '
  printf "{\"authorizationData\":[{\"authorizationToken\":\"%s\",\"expiresAt\":1796169600.5}]}" "$tok" >answer &&
  ht-aws-probe ecr-auth >out 2>err &&
  test_grep "^expires_ms=1796169600500$" out
'

test_done
