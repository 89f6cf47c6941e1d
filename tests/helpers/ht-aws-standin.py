#!/usr/bin/env python3
"""ht-aws-standin: a recording proxy in front of moto_server, for the tests
of ht-push (ECR), ht-update and ht-doctor (tests/t083*.sh).

usage: ht-aws-standin.py PORT UPSTREAM_URL LOG

Every request is forwarded unchanged (headers included, so moto checks the
signature the client made) and logged to LOG as one line:
"METHOD PATH TARGET STATUS TOKEN", TARGET being the X-Amz-Target operation
or "-", TOKEN the session token it carried or "-" (test tokens only).

What moto cannot do is played here, as told through /_standin/ paths
(unsigned POSTs with a JSON body):
  /_standin/lambda  {"statuses": ["InProgress", "Failed"], "reason": "...",
                     "reason_code": "..."}: after the next UpdateFunctionCode,
                     GetFunction answers carry these LastUpdateStatus values
                     in turn (the last one repeats); moto's updates finish
                     at once, and it has no state manager for Lambda.
  /_standin/account {"ConcurrentExecutions": 10, "UnreservedConcurrentExecutions": 10}:
                     the answer to GetAccountSettings, which moto lacks.
  /_standin/expired {"on": true}: every signed request with a session token
                     is answered ExpiredTokenException (moto does not expire
                     tokens).
  /_standin/tokens  {"expired": [TOKEN, ...], "after": N,
                     "rotate": {"file": PATH, "with": NEW}}: requests
                     carrying one of these session tokens pass (after the
                     first N of them) no more: they are answered 403
                     ExpiredTokenException. With rotate, the first such
                     answer first plays the user's tooling: the
                     credentials file PATH gets the content of NEW
                     (renamed into place), once. {} stops it.
  /_standin/answer  {"status": 503, "code": "ServiceUnavailableException",
                     "message": "..."}: every other request is answered so
                     (JSON __type and x-amzn-ErrorType), without asking
                     upstream; {} stops it. For ht-doctor's hints.
Listens on 127.0.0.1 only.
"""
import http.client
import json
import os
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, UPSTREAM, LOG = int(sys.argv[1]), urllib.parse.urlsplit(sys.argv[2]), sys.argv[3]
lock = threading.Lock()
state = {"lambda": None, "armed": False, "seq": 0,
         "account": None, "expired": False, "answer": None,
         "tokens": None, "token_seen": 0}


def log(line):
    with lock, open(LOG, "a") as f:
        f.write(line + "\n")


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, status, body, ctype="application/json", extra=None):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def expired_token(self, token):
        """Whether token counts as expired now (see /_standin/tokens); the
        first expired answer rotates the credentials file when told to."""
        with lock:
            t = state["tokens"]
            if not t or token not in t["expired"]:
                return False
            state["token_seen"] += 1
            if state["token_seen"] <= t.get("after", 0):
                return False
            rot = t.pop("rotate", None)
        if rot:
            with open(rot["with"]) as f:
                text = f.read()
            with open(rot["file"] + ".tmp", "w") as f:
                f.write(text)
            os.rename(rot["file"] + ".tmp", rot["file"])
        return True

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        path = self.path
        target = (self.headers.get("X-Amz-Target") or "-").split(".")[-1]
        if path.startswith("/_standin/"):
            arg = json.loads(body or b"{}")
            with lock:
                if path == "/_standin/lambda":
                    state["lambda"] = arg
                    state["armed"] = False
                    state["seq"] = 0
                elif path == "/_standin/account":
                    state["account"] = arg
                elif path == "/_standin/expired":
                    state["expired"] = bool(arg.get("on"))
                elif path == "/_standin/tokens":
                    state["tokens"] = arg if arg.get("expired") else None
                    state["token_seen"] = 0
                elif path == "/_standin/answer":
                    state["answer"] = arg if arg.get("status") else None
            return self.reply(200, {"ok": True})
        ans = state["answer"]
        if ans:
            log(f"{self.command} {path} {target} {ans['status']}")
            return self.reply(ans["status"], {"__type": ans.get("code", ""), "message": ans.get("message", "")},
                              extra={"x-amzn-ErrorType": ans.get("code", "")} if ans.get("code") else None)
        token = self.headers.get("X-Amz-Security-Token") or "-"
        if self.expired_token(token):
            log(f"{self.command} {path} {target} 403 {token}")
            return self.reply(403, {"__type": "ExpiredTokenException",
                                    "message": "The security token included in the request is expired"},
                              extra={"x-amzn-ErrorType": "ExpiredTokenException"})
        if state["expired"] and self.headers.get("X-Amz-Security-Token"):
            log(f"{self.command} {path} {target} 403 {token}")
            return self.reply(403, {"__type": "ExpiredTokenException",
                                    "message": "The security token included in the request is expired"},
                              extra={"x-amzn-ErrorType": "ExpiredTokenException"})
        if self.command == "GET" and path.startswith("/2016-08-19/account-settings") and state["account"]:
            log(f"{self.command} {path} {target} 200 {token}")
            acc = state["account"]
            return self.reply(200, {"AccountLimit": {"ConcurrentExecutions": acc.get("ConcurrentExecutions", 1000),
                                                     "UnreservedConcurrentExecutions":
                                                         acc.get("UnreservedConcurrentExecutions", 1000),
                                                     "CodeSizeUnzipped": 262144000, "CodeSizeZipped": 52428800,
                                                     "TotalCodeSize": 80530636800},
                                    "AccountUsage": {"FunctionCount": 1, "TotalCodeSize": 0}})
        conn = http.client.HTTPConnection(UPSTREAM.hostname, UPSTREAM.port, timeout=30)
        headers = {k: v for k, v in self.headers.items()}
        conn.request(self.command, path, body=body if (body or self.command in ("POST", "PUT")) else None,
                     headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        status = resp.status
        rheaders = [(k, v) for k, v in resp.getheaders()
                    if k.lower() not in ("content-length", "transfer-encoding", "connection", "date", "server")]
        conn.close()
        lam = path.startswith("/2015-03-31/functions/")
        if lam and self.command == "PUT" and path.endswith("/code") and status == 200 and state["lambda"]:
            with lock:
                state["armed"] = True
                state["seq"] = 0
            j = json.loads(data)
            j["LastUpdateStatus"] = "InProgress"
            data = json.dumps(j).encode()
        elif lam and self.command == "GET" and status == 200 and state["armed"]:
            with lock:
                sts = state["lambda"]["statuses"]
                st = sts[min(state["seq"], len(sts) - 1)]
                state["seq"] += 1
            j = json.loads(data)
            conf = j.get("Configuration", j)
            conf["LastUpdateStatus"] = st
            if st == "Failed":
                conf["LastUpdateStatusReason"] = state["lambda"].get("reason", "")
                conf["LastUpdateStatusReasonCode"] = state["lambda"].get("reason_code", "")
            data = json.dumps(j).encode()
        log(f"{self.command} {path} {target} {status} {token}")
        self.send_response(status)
        for k, v in rheaders:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = handle_any


ThreadingHTTPServer(("127.0.0.1", PORT), H).serve_forever()
