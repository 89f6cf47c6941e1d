#!/usr/bin/env python3
"""Loads a page in headless Chromium and says what a person (and its
console) would see: ht-report's HTML tests (t0552) and bench/report.sh.

  ht-report-browser.py [--screenshot PNG] [--max-height PX] [--scale N] [--eval EXPR]... [--timeout S] URL

Chromium is driven over the DevTools protocol on a pipe (fds 3 and 4,
--remote-debugging-pipe): no port is opened. Every request goes through
a proxy on a closed port of 127.0.0.1 and no host name resolves, so a
page that tries the network fails visibly and nothing leaves the machine.
It waits for the page's data-ht-ready attribute, evaluates each EXPR (a
promise is awaited) and prints one JSON object: console (messages),
exceptions, log (the browser's own entries: failed loads, refused
policies), requests (every URL asked for), eval (the values), ready,
metrics (milliseconds of script, layout, style and all tasks until ready).
"""
import argparse
import base64
import json
import os
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Browser:
    def __init__(self, profile, timeout):
        self.timeout = timeout
        r_in, self.w = os.pipe()
        self.r, w_out = os.pipe()

        def fds():
            os.dup2(r_in, 3)
            os.dup2(w_out, 4)

        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        self.proc = subprocess.Popen(
            [chromium, "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run",
             "--remote-debugging-pipe", "--user-data-dir=" + profile,
             "--proxy-server=127.0.0.1:%d" % closed_port(), "--host-resolver-rules=MAP * ~NOTFOUND",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--hide-scrollbars", "about:blank"],
            pass_fds=(3, 4), preexec_fn=fds, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(r_in)
        os.close(w_out)
        self.buf = b""
        self.nid = 0
        self.events = []
        self.session = None

    def recv(self, timeout):
        end = time.time() + timeout
        while b"\0" not in self.buf:
            left = end - time.time()
            if left <= 0 or not select.select([self.r], [], [], left)[0]:
                raise TimeoutError("no answer from chromium")
            data = os.read(self.r, 1 << 20)
            if not data:
                raise EOFError("chromium went away")
            self.buf += data
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, params=None, session=True):
        self.nid += 1
        msg = {"id": self.nid, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self.w, json.dumps(msg).encode() + b"\0")
        while True:
            m = self.recv(self.timeout)
            if m.get("id") == self.nid:
                if "error" in m:
                    raise RuntimeError("%s: %s" % (method, m["error"]))
                return m.get("result", {})
            self.events.append(m)

    def drain(self, seconds):
        try:
            while True:
                self.events.append(self.recv(seconds))
        except (TimeoutError, EOFError):
            pass

    def evaluate(self, expr):
        r = self.call("Runtime.evaluate", {"expression": expr, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in r:
            return {"exception": r["exceptionDetails"].get("text", "")}
        return r.get("result", {}).get("value")

    def close(self):
        try:
            self.proc.kill()
        finally:
            self.proc.wait()
            os.close(self.w)
            os.close(self.r)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--screenshot")
    ap.add_argument("--eval", action="append", default=[])
    ap.add_argument("--timeout", type=float, default=30)
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--max-height", type=int, default=6000)
    ap.add_argument("--scale", type=float, default=1, help="device pixels per CSS pixel (2: HiDPI)")
    a = ap.parse_args()

    profile = tempfile.mkdtemp(prefix="ht-chromium.")
    b = Browser(profile, a.timeout)
    out = {"console": [], "exceptions": [], "log": [], "requests": [], "eval": [], "ready": False}
    try:
        target = b.call("Target.createTarget", {"url": "about:blank"}, False)["targetId"]
        b.session = b.call("Target.attachToTarget", {"targetId": target, "flatten": True}, False)["sessionId"]
        for domain in ("Runtime", "Log", "Network", "Page", "Performance"):
            b.call(domain + ".enable")
        b.call("Emulation.setDeviceMetricsOverride",
               {"width": a.width, "height": 900, "deviceScaleFactor": a.scale, "mobile": False})
        b.call("Page.navigate", {"url": a.url})
        end = time.time() + a.timeout
        while time.time() < end:
            if b.evaluate("document.documentElement.getAttribute('data-ht-ready')") == "1":
                out["ready"] = True
                break
            time.sleep(0.01)
        m = b.call("Performance.getMetrics")["metrics"]
        out["metrics"] = {x["name"]: round(x["value"] * 1000) for x in m
                          if x["name"] in ("ScriptDuration", "LayoutDuration", "RecalcStyleDuration", "TaskDuration")}
        for expr in a.eval:
            out["eval"].append(b.evaluate(expr))
        if a.screenshot:
            size = b.call("Page.getLayoutMetrics")["cssContentSize"]
            shot = b.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True,
                                                     "clip": {"x": 0, "y": 0, "width": a.width,
                                                              "height": min(size["height"], a.max_height), "scale": 1}})
            with open(a.screenshot, "wb") as f:
                f.write(base64.b64decode(shot["data"]))
        b.drain(0.3)
    finally:
        b.close()
        shutil.rmtree(profile, ignore_errors=True)
    for e in b.events:
        p = e.get("params", {})
        m = e.get("method")
        if m == "Runtime.consoleAPICalled":
            out["console"].append({"type": p["type"], "text": " ".join(str(x.get("value", x.get("description", "")))
                                                                    for x in p.get("args", []))})
        elif m == "Runtime.exceptionThrown":
            d = p["exceptionDetails"]
            out["exceptions"].append(d.get("text", "") + " " + d.get("exception", {}).get("description", ""))
        elif m == "Log.entryAdded":
            out["log"].append({"level": p["entry"]["level"], "text": p["entry"]["text"]})
        elif m == "Network.requestWillBeSent":
            out["requests"].append(p["request"]["url"][:200])
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    return 0 if out["ready"] else 1


if __name__ == "__main__":
    sys.exit(main())
