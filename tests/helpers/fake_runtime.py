#!/usr/bin/env python3
"""A stand-in for the Lambda Runtime API, for ht-runner's tests.

    fake_runtime.py --port PORT --events DIR --out DIR [--prefix /p] [--deadline-ms N]

Serves the files DIR/*.json in name order, one per GET .../invocation/next,
with the request id NAME (the file's name without .json) and a deadline
--deadline-ms from now (or the number in DIR/NAME.deadline_ms). When no
event is left it answers 410 Gone, which tells the runtime to end. Every
response is written to OUT/NAME.response, every invocation error to
OUT/NAME.error (and its Lambda-Runtime-Function-Error-Type header to
OUT/NAME.error-type), an init error to OUT/init.error. Listens on 127.0.0.1.
"""
import argparse
import os
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--events", required=True)
ap.add_argument("--out", required=True)
ap.add_argument("--prefix", default="")
ap.add_argument("--deadline-ms", type=int, default=60000)
args = ap.parse_args()

lock = threading.Lock()
queue = sorted(f for f in os.listdir(args.events) if f.endswith(".json"))
BASE = args.prefix.rstrip("/") + "/2018-06-01/runtime"


def write(name, data):
    path = os.path.join(args.out, name)
    with open(path + ".tmp", "wb") as f:
        f.write(data)
    os.rename(path + ".tmp", path)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        with open(os.path.join(args.out, "requests.log"), "a") as f:
            f.write("%s %s\n" % (self.command, self.path))

    def answer(self, code, body=b"", headers=()):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path != BASE + "/invocation/next":
            return self.answer(404, b'{"errorMessage":"no such path"}')
        with lock:
            name = queue.pop(0) if queue else None
        if name is None:
            return self.answer(410, b'{"errorMessage":"shutting down"}')
        rid = name[:-5]
        with open(os.path.join(args.events, name), "rb") as f:
            body = f.read()
        dl = args.deadline_ms
        dpath = os.path.join(args.events, rid + ".deadline_ms")
        if os.path.exists(dpath):
            dl = int(open(dpath).read().strip())
        deadline = int(time.time() * 1000) + dl
        self.answer(200, body, [("Lambda-Runtime-Aws-Request-Id", rid),
                                ("Lambda-Runtime-Deadline-Ms", str(deadline)),
                                ("Content-Type", "application/json")])

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n)
        if self.path == BASE + "/init/error":
            write("init.error", body)
            return self.answer(202, b'{"status":"OK"}')
        m = re.fullmatch(re.escape(BASE) + r"/invocation/([^/]+)/(response|error)", self.path)
        if not m:
            return self.answer(404, b'{"errorMessage":"no such path"}')
        rid, kind = m.groups()
        if kind == "error":
            write(rid + ".error-type", (self.headers.get("Lambda-Runtime-Function-Error-Type") or "").encode())
        write(rid + "." + kind, body)
        self.answer(202, b'{"status":"OK"}')


ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()
