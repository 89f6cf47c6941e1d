#!/bin/sh
# The run summary goes to S3 through the provider's bucket, which honours
# aws.insecure: a stand-in for Lambda and S3 on https with a self-signed
# certificate takes the summary's PUT only when aws.insecure is set.
. "$HT_SRC/tests/lib.sh"

have openssl || test_skip_all "openssl is not installed"

test_expect_success 'setup: a Lambda and S3 stand-in on https with a self-signed certificate' '
	openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 1 \
		-subj /CN=127.0.0.1 >/dev/null 2>&1 &&
	cat >standin.py <<-\EOP &&
	import http.server, json, os, ssl, sys
	class H(http.server.BaseHTTPRequestHandler):
	    protocol_version = "HTTP/1.1"
	    def log_message(self, *a): pass
	    def reply(self, status, body):
	        b = json.dumps(body).encode()
	        self.send_response(status)
	        self.send_header("Content-Type", "application/json")
	        self.send_header("Content-Length", str(len(b)))
	        self.end_headers()
	        self.wfile.write(b)
	    def body(self):
	        return self.rfile.read(int(self.headers.get("Content-Length") or 0))
	    def do_GET(self):
	        self.reply(200, {"FunctionName": "f", "Timeout": 30, "PackageType": "Image"})
	    def do_POST(self):
	        ev = json.loads(self.body())
	        self.reply(200, {"schema": "ht.result/1", "run_id": ev["run_id"], "test_id": ev["test_id"],
	                         "name": ev["name"], "status": "passed", "ok": True, "duration_ms": 1,
	                         "exit_code": 0, "message": "exit code 0"})
	    def do_PUT(self):
	        data = self.body()
	        # S3, path style: /BUCKET/KEY; signed by the client.
	        if not self.headers.get("Authorization", "").startswith("AWS4-HMAC-SHA256 "):
	            return self.reply(403, {"__type": "MissingAuthenticationToken"})
	        with open("put.log", "a") as f:
	            f.write(self.path + "\n")
	        with open("put.body", "wb") as f:
	            f.write(data)
	        self.send_response(200)
	        self.send_header("Content-Length", "0")
	        self.end_headers()
	s = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H)
	ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
	ctx.load_cert_chain("cert.pem", "key.pem")
	s.socket = ctx.wrap_socket(s.socket, server_side=True)
	s.serve_forever()
	EOP
	PORT=$(free_port) && echo $PORT >port &&
	{ python3 standin.py $PORT >standin.log 2>&1 & echo $! >pid; } &&
	wait_for_port $PORT &&
	printf "%s\n" "{\"schema\":\"ht.test/1\",\"run_id\":\"r1\",\"test_id\":\"t-1\",\"name\":\"one\",\"runner\":\"command\",\"index\":0,\"timeout_s\":10,\"run\":{\"argv\":[\"true\"],\"outcome\":\"exit\"}}" >plan.jsonl &&
	printf "{\"provider\":\"aws\",\"aws\":{\"region\":\"us-east-1\",\"function\":\"f\",\"bucket\":\"bkt\",\"endpoints\":{\"lambda\":\"https://127.0.0.1:%s\",\"s3\":\"https://127.0.0.1:%s\"}}}\n" $PORT $PORT >hypertest.json
'
test_cleanup_server "$(cat pid 2>/dev/null)"

export AWS_ACCESS_KEY_ID=AKIDTEST AWS_SECRET_ACCESS_KEY=secret

test_expect_success 'with aws.insecure the summary is uploaded to the stand-in' '
	rm -f put.log put.body &&
	# the summary alone: no duration history (another PUT, scheduling.md)
	ht-invoke -v --set aws.insecure=true --set history.enabled=false plan.jsonl >out 2>err &&
	test_jq ".status == \"passed\"" out &&
	test_grep "run summary: s3://bkt/r1/hypertest.results.json" err &&
	! grep "cannot upload" err &&
	echo /bkt/r1/hypertest.results.json >want && test_cmp want put.log &&
	test_jq ".schema == \"ht.summary/1\" and .run_id == \"r1\" and .total == 1 and .ok" put.body
'

test_expect_success 'HT_AWS_INSECURE=1 does the same' '
	rm -f put.log &&
	HT_AWS_INSECURE=1 ht-invoke -v plan.jsonl >out 2>err &&
	test_grep "run summary: s3://bkt/r1/hypertest.results.json" err &&
	test -s put.log
'

test_expect_success 'without it the certificate is refused (nothing is uploaded)' '
	rm -f put.log &&
	test_expect_code 69 ht-invoke plan.jsonl >out 2>err &&
	test_grep "[Cc]ertificate" err &&
	test ! -e put.log
'

test_done
