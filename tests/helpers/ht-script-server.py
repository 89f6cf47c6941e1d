#!/usr/bin/env python3
"""A scripted, misbehaving HTTP/1.1 server for the retry tests.

    ht-script-server.py PORT LOG

Listens on 127.0.0.1:PORT. The script is in the path: a request for
/NAME/STEP,STEP,... gets, as the Nth request for that path, STEP N (the
last step repeats): "200", "503", "503:ra=2" (Retry-After: 2), "503:date=2"
(Retry-After as an HTTP-date 2 s ahead), "sleep=3" (answer 200 after 3 s),
"close" (drop the connection without answering). Each request appends
"MONOTONIC_MS CLIENT_PORT PATH" to LOG. Connections are kept alive.
"""
import email.utils
import http.server
import sys
import threading
import time

port, log = int(sys.argv[1]), sys.argv[2]
lock = threading.Lock()
counts = {}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        parts = self.path.split("?")[0].strip("/").split("/")
        steps = parts[1].split(",") if len(parts) > 1 and parts[1] else ["200"]
        with lock:
            n = counts.get(self.path, 0)
            counts[self.path] = n + 1
            step = steps[min(n, len(steps) - 1)]
            with open(log, "a") as f:
                f.write("%d %d %s\n" % (time.monotonic() * 1000, self.client_address[1], self.path))
        if step == "close":
            self.close_connection = True
            return
        status, extra = step, {}
        if step.startswith("sleep="):
            time.sleep(float(step[6:]))
            status = "200"
        elif ":" in step:
            status, opt = step.split(":", 1)
            k, v = opt.split("=", 1)
            if k == "ra":
                extra["Retry-After"] = v
            elif k == "date":
                extra["Retry-After"] = email.utils.formatdate(time.time() + float(v), usegmt=True)
        body = ("status %s\n" % status).encode()
        self.send_response(int(status))
        for k, v in extra.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET


srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
srv.daemon_threads = True
srv.serve_forever()
