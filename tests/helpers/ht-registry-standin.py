#!/usr/bin/env python3
"""A misbehaving registry, and an FTP server to be redirected to, for the
tests of the registry client's transfers.

    ht-registry-standin.py REGISTRY_PORT FTP_PORT LOG

Both listen on 127.0.0.1. The registry holds one image per repository
(tag "v1", one layer); the repository's name says how a GET of its layer
blob goes:
  http     307 to http://127.0.0.1:REGISTRY_PORT/data/layer (the bytes)
  ftp      307 to ftp://127.0.0.1:FTP_PORT/layer (the same bytes over FTP)
  file     307 to file:///etc/passwd (the layer of this repository is
           that file's bytes)
  gopher   307 to gopher://127.0.0.1:FTP_PORT/0layer
  cut      the connection drops half-way through the body; a request with
           "Range: bytes=N-" gets 206 and the rest
  norange  the same cut, then the whole blob again (200) whatever the Range
The layers' digests are those of the bytes each target holds, so a client
that follows a redirect anywhere gets a blob that checks out.

Any other repository takes uploads (POST, PATCH, PUT ?digest=, manifests)
and keeps them; the first PATCH of each blob to a repository whose name
starts with "cutpatch" is read, then its answer is cut short; to one
whose name starts with "forget", it gets 404 BLOB_UPLOAD_UNKNOWN, as from
a registry that restarted and forgot its upload sessions.

Each request appends "http METHOD PATH [range=N]" to LOG; each FTP
connection "ftp connect" and each FTP command "ftp COMMAND".
"""
import hashlib
import http.server
import json
import re
import socket
import socketserver
import sys
import threading

reg_port, ftp_port, log = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
lock = threading.Lock()
LAYER = b"the layer's bytes, served over plain HTTP or FTP\n" * 2000
with open("/etc/passwd", "rb") as f:
    PASSWD = f.read()


def note(line):
    with lock:
        with open(log, "a") as f:
            f.write(line + "\n")


def digest(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


CONFIG = json.dumps({"architecture": "amd64", "os": "linux",
                     "rootfs": {"type": "layers", "diff_ids": [digest(LAYER)]}}).encode()
TARGETS = {
    "http": ("http://127.0.0.1:%d/data/layer" % reg_port, LAYER),
    "ftp": ("ftp://127.0.0.1:%d/layer" % ftp_port, LAYER),
    "file": ("file:///etc/passwd", PASSWD),
    "gopher": ("gopher://127.0.0.1:%d/0layer" % ftp_port, LAYER),
    "cut": (None, LAYER),
    "norange": (None, LAYER),
}
blobs = {}      # (repo, digest) -> bytes, uploaded
uploads = {}    # session id -> bytes so far
patched = set() # (repo, session count) of cut PATCHes
manifests = {}  # (repo, reference) -> (media type, bytes)
serial = [0]


def manifest(layer):
    return json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": digest(CONFIG), "size": len(CONFIG)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": digest(layer), "size": len(layer)}]}).encode()


class Registry(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, status, body=b"", ctype="application/octet-stream", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def not_found(self):
        self.send(404, b'{"errors":[{"code":"NOT_FOUND","message":"no such thing"}]}', "application/json")

    def body(self):
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def start(self):
        m = re.match(r"bytes=(\d+)-$", self.headers.get("Range") or "")
        rng = int(m.group(1)) if m else None
        note("http %s %s%s" % (self.command, self.path, "" if rng is None else " range=%d" % rng))
        return self.path.split("?")[0].strip("/").split("/"), rng

    def do_GET(self):
        parts, rng = self.start()
        if self.path == "/data/layer":
            return self.send(200, LAYER)
        if len(parts) != 4 or parts[0] != "v2":
            return self.not_found()
        repo, kind, ref = parts[1], parts[2], parts[3]
        if repo not in TARGETS:
            if kind == "manifests" and (repo, ref) in manifests:
                mt, m = manifests[(repo, ref)]
                return self.send(200, m, mt, [("Docker-Content-Digest", digest(m))])
            if kind == "blobs" and (repo, ref) in blobs:
                return self.send(200, blobs[(repo, ref)])
            return self.not_found()
        url, layer = TARGETS[repo]
        if kind == "manifests" and ref in ("v1", digest(manifest(layer))):
            m = manifest(layer)
            return self.send(200, m, "application/vnd.oci.image.manifest.v1+json",
                             [("Docker-Content-Digest", digest(m))])
        if kind == "blobs" and ref == digest(CONFIG):
            return self.send(200, CONFIG)
        if kind != "blobs" or ref != digest(layer):
            return self.not_found()
        if url:
            return self.send(307, b"", headers=[("Location", url)])
        if rng is None:
            # Half the body, then the connection drops.
            self.send_response(200)
            self.send_header("Content-Length", str(len(layer)))
            self.end_headers()
            self.wfile.write(layer[:len(layer) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if repo == "norange":
            return self.send(200, layer)
        self.send(206, layer[rng:], headers=[("Content-Range", "bytes %d-%d/%d" % (rng, len(layer) - 1, len(layer)))])

    def do_HEAD(self):
        parts, _ = self.start()
        if len(parts) == 4 and parts[2] == "blobs" and (parts[1], parts[3]) in blobs:
            return self.send(200, b"", headers=[("Docker-Content-Digest", parts[3])])
        if len(parts) == 4 and parts[1] in TARGETS:
            return self.do_GET()
        self.send(404)

    def do_POST(self):
        parts, _ = self.start()
        self.body()
        if len(parts) < 4 or parts[2:4] != ["blobs", "uploads"]:
            return self.not_found()
        with lock:
            serial[0] += 1
            sid = str(serial[0])
            uploads[sid] = b""
        self.send(202, headers=[("Location", "/v2/%s/blobs/uploads/%s" % (parts[1], sid))])

    def do_PATCH(self):
        parts, _ = self.start()
        data = self.body()
        sid = parts[-1]
        if sid not in uploads:
            return self.not_found()
        key = (parts[1], hashlib.sha256(data).hexdigest())
        if parts[1].startswith("cutpatch") and key not in patched:
            # An answer cut short (so that libcurl cannot take it for a
            # dead kept-alive connection and send the PATCH again itself).
            patched.add(key)
            self.wfile.write(b"HTTP/1.1 202 Accepted\r\nContent-Length: 100\r\n\r\nshort")
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if parts[1].startswith("forget") and key not in patched:
            patched.add(key)
            with lock:
                uploads.pop(sid, None)
            return self.send(404, b'{"errors":[{"code":"BLOB_UPLOAD_UNKNOWN","message":"blob upload unknown"}]}',
                             "application/json")
        uploads[sid] += data
        self.send(202, headers=[("Location", "/v2/%s/blobs/uploads/%s" % (parts[1], sid))])

    def do_PUT(self):
        parts, _ = self.start()
        data = self.body()
        if len(parts) == 4 and parts[2] == "manifests":
            m = (self.headers.get("Content-Type"), data)
            manifests[(parts[1], parts[3])] = m
            return self.send(201, headers=[("Docker-Content-Digest", digest(data))])
        sid = parts[-1]
        want = re.search(r"digest=([^&]+)", self.path)
        if sid not in uploads or not want:
            return self.not_found()
        got = uploads.pop(sid) + data
        d = want.group(1).replace("%3A", ":").replace("%3a", ":")
        if digest(got) != d:
            return self.send(400, b'{"errors":[{"code":"DIGEST_INVALID","message":"digest mismatch"}]}',
                             "application/json")
        blobs[(parts[1], d)] = got
        self.send(201, headers=[("Docker-Content-Digest", d)])


class Ftp(socketserver.StreamRequestHandler):
    """Just enough of FTP for libcurl to download /layer passively."""

    def reply(self, line):
        self.wfile.write((line + "\r\n").encode())

    def handle(self):
        note("ftp connect")
        data = None
        self.reply("220 ready")
        for raw in self.rfile:
            verb = raw.decode(errors="replace").strip().split(" ")[0].upper()
            note("ftp " + verb)
            if verb == "USER":
                self.reply("331 password please")
            elif verb == "PASS":
                self.reply("230 logged in")
            elif verb == "PWD":
                self.reply('257 "/"')
            elif verb in ("CWD", "TYPE"):
                self.reply("200 ok")
            elif verb in ("EPSV", "PASV"):
                data = socket.socket()
                data.bind(("127.0.0.1", 0))
                data.listen(1)
                p = data.getsockname()[1]
                if verb == "EPSV":
                    self.reply("229 passive (|||%d|)" % p)
                else:
                    self.reply("227 passive (127,0,0,1,%d,%d)" % (p // 256, p % 256))
            elif verb == "SIZE":
                self.reply("213 %d" % len(LAYER))
            elif verb == "RETR" and data:
                self.reply("150 here it comes")
                conn, _ = data.accept()
                conn.sendall(LAYER)
                conn.close()
                data.close()
                data = None
                self.reply("226 done")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")


class FtpServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


ftp = FtpServer(("127.0.0.1", ftp_port), Ftp)
threading.Thread(target=ftp.serve_forever, daemon=True).start()
http.server.ThreadingHTTPServer(("127.0.0.1", reg_port), Registry).serve_forever()
