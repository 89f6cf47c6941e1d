#!/bin/sh
# TLS: AWS endpoints are verified; aws.insecure turns verification off for
# a configured stand-in's endpoint only.
. "$HT_SRC/tests/lib.sh"

test_need jq python3 openssl

test_expect_success 'setup: a Lambda stand-in on https with a self-signed certificate' '
	openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 1 \
		-subj /CN=127.0.0.1 >/dev/null 2>&1 &&
	cat >standin.py <<-\EOP &&
	import http.server, json, ssl, sys
	class H(http.server.BaseHTTPRequestHandler):
	    def log_message(self, *a): pass
	    def reply(self, body):
	        b = json.dumps(body).encode()
	        self.send_response(200)
	        self.send_header("Content-Type", "application/json")
	        self.send_header("Content-Length", str(len(b)))
	        self.end_headers()
	        self.wfile.write(b)
	    def do_GET(self):
	        self.reply({"FunctionName": "f", "Timeout": 30, "PackageType": "Image"})
	    def do_POST(self):
	        ev = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
	        self.reply({"schema": "ht.result/1", "run_id": ev["run_id"], "test_id": ev["test_id"],
	                    "name": ev["name"], "status": "passed", "ok": True, "duration_ms": 1,
	                    "exit_code": 0, "message": "exit code 0"})
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
	printf "{\"provider\":\"aws\",\"aws\":{\"region\":\"us-east-1\",\"function\":\"f\",\"bucket\":\"b\",\"endpoints\":{\"lambda\":\"https://127.0.0.1:%s\",\"s3\":\"http://127.0.0.1:9\"}}}\n" $PORT >hypertest.json
'
test_cleanup_server "$(cat pid 2>/dev/null)"

test_expect_success 'a self-signed endpoint is refused by default, with the reason' '
	test_expect_code 69 env AWS_ACCESS_KEY_ID=AKIDTEST AWS_SECRET_ACCESS_KEY=secret \
		ht-invoke plan.jsonl >out 2>err &&
	test_grep "[Cc]ertificate" err
'

test_expect_success 'aws.insecure lets the configured endpoint through' '
	env AWS_ACCESS_KEY_ID=AKIDTEST AWS_SECRET_ACCESS_KEY=secret \
		ht-invoke --set aws.insecure=true plan.jsonl >out 2>err &&
	test_jq ".status == \"passed\" and .test_id == \"t-1\"" out
'

test_expect_success 'HT_AWS_INSECURE does the same' '
	env AWS_ACCESS_KEY_ID=AKIDTEST AWS_SECRET_ACCESS_KEY=secret HT_AWS_INSECURE=1 \
		ht-invoke plan.jsonl >out 2>err &&
	test_jq ".status == \"passed\"" out
'

test_done
