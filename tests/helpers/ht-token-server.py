#!/usr/bin/env python3
"""A Bearer token server for registry tests (docker distribution's token auth).

  ht-token-server.py PORT KEY.pem CERT.pem ISSUER SERVICE [USER:PASSWORD]

Listens on 127.0.0.1:PORT. GET /token?service=S&scope=repository:NAME:ACTIONS
answers a JWT signed RS256 (with `openssl dgst -sha256 -sign`) whose x5c
header carries CERT, granting the actions asked for. With USER:PASSWORD,
requests must carry those Basic credentials (403 otherwise); without, any
request is served anonymously. Each request is logged to stdout as one line:
"token SCOPES user=USER" or "refused ...". HT_TOKEN_EXPIRES_IN (default
300) is the expires_in it answers, as JSON text (a huge one, say).
"""
import base64, json, os, secrets, subprocess, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs

port, key, cert, issuer, service = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
creds = sys.argv[6] if len(sys.argv) > 6 else None
der = subprocess.run(["openssl", "x509", "-in", cert, "-outform", "DER"], check=True, capture_output=True).stdout
x5c = base64.b64encode(der).decode()


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def sign(claims):
    head = b64url(json.dumps({"typ": "JWT", "alg": "RS256", "x5c": [x5c]}).encode())
    body = b64url(json.dumps(claims).encode())
    msg = (head + "." + body).encode()
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key], input=msg, check=True,
                         capture_output=True).stdout
    return head + "." + body + "." + b64url(sig)


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_GET(self):
        u = urlparse(self.path)
        q = parse_qs(u.query)
        user = ""
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            try:
                user, _, pw = base64.b64decode(auth[6:]).decode().partition(":")
            except Exception:
                user, pw = "", ""
            if creds and user + ":" + pw != creds:
                return self.refuse(403, "bad credentials for " + user)
        elif creds:
            return self.refuse(401, "no credentials")
        if u.path != "/token" or q.get("service", [""])[0] != service:
            return self.refuse(400, "bad request " + self.path)
        access = []
        for s in q.get("scope", []):
            parts = s.split(":")
            if len(parts) >= 3:
                access.append({"type": parts[0], "name": ":".join(parts[1:-1]),
                               "actions": parts[-1].split(",")})
        now = int(time.time())
        tok = sign({"iss": issuer, "sub": user, "aud": service, "exp": now + 300, "nbf": now - 10,
                    "iat": now, "jti": secrets.token_hex(8), "access": access})
        print("token %s user=%s" % (" ".join(q.get("scope", [])), user), flush=True)
        expires = os.environ.get("HT_TOKEN_EXPIRES_IN", "300")
        body = ('{"token": %s, "expires_in": %s}' % (json.dumps(tok), expires)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def refuse(self, code, why):
        print("refused %d %s" % (code, why), flush=True)
        self.send_response(code)
        self.send_header("Content-Length", "0")
        if code == 401:
            self.send_header("WWW-Authenticate", 'Basic realm="token"')
        self.end_headers()


ThreadingHTTPServer(("127.0.0.1", int(port)), Handler).serve_forever()
