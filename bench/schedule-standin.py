#!/usr/bin/env python3
"""bench/schedule-standin.py: a loopback stand-in for Lambda and S3 that
runs each test as a timer, for bench/schedule.sh.

usage: schedule-standin.py PORT DURATIONS [SCALE]

DURATIONS has one "NAME MILLISECONDS" a line (bench/durations-2000.txt).
  GET  /2015-03-31/functions/NAME/configuration  an Image function, Active
  POST /2015-03-31/functions/NAME/invocations    sleeps the test's time times
       SCALE (asyncio: no process, no thread per test), then answers a
       passed ht.result/1 record with that duration
  PUT, GET, HEAD /BUCKET/KEY                     S3 objects, in memory
       (path style, as hypertest uses with a custom endpoint)
Signatures are not checked. Listens on 127.0.0.1 only.
"""
import asyncio
import json
import sys
import time

PORT, DURATIONS = int(sys.argv[1]), sys.argv[2]
SCALE = float(sys.argv[3]) if len(sys.argv) > 3 else 1.0
ms_of = {}
with open(DURATIONS) as f:
    for line in f:
        if line.strip() and not line.startswith("#"):
            name, ms = line.split()
            ms_of[name] = int(ms)
objects = {}


async def route(method, path, body):
    if path.startswith("/2015-03-31/functions/") and path.endswith("/configuration"):
        return 200, json.dumps({"FunctionName": path.split("/")[3], "Timeout": 900, "State": "Active",
                                "LastUpdateStatus": "Successful", "PackageType": "Image",
                                "CodeSha256": "0" * 64}).encode()
    if path.startswith("/2015-03-31/functions/") and path.endswith("/invocations"):
        event = json.loads(body)
        ms = int(ms_of.get(event.get("name"), 0) * SCALE)
        start = int(time.time() * 1000)
        await asyncio.sleep(ms / 1000.0)
        return 200, json.dumps({"schema": "ht.result/1", "status": "passed", "ok": True, "duration_ms": ms,
                                "exit_code": 0, "signal": None, "message": "", "start_ms": start,
                                "worker": "standin"}).encode()
    key = path.split("?", 1)[0]
    if method == "PUT":
        objects[key] = body
        return 200, b""
    if method in ("GET", "HEAD") and key in objects:
        return 200, objects[key]
    return 404, (b"<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code>"
                 b"<Message>The specified key does not exist.</Message></Error>")


async def read_body(reader, headers):
    if headers.get("transfer-encoding", "").lower() == "chunked":
        out = b""
        while True:
            n = int((await reader.readline()).split(b";")[0], 16)
            if n == 0:
                await reader.readline()
                return out
            out += await reader.readexactly(n)
            await reader.readline()
    n = int(headers.get("content-length", "0"))
    return await reader.readexactly(n) if n else b""


async def handle(reader, writer):
    try:
        while True:
            line = await reader.readline()
            if not line:
                break
            method, path = line.decode("latin-1").split(" ")[:2]
            headers = {}
            while True:
                h = await reader.readline()
                if h in (b"\r\n", b"\n", b""):
                    break
                k, v = h.decode("latin-1").split(":", 1)
                headers[k.strip().lower()] = v.strip()
            if headers.get("expect", "").lower() == "100-continue":
                writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            body = await read_body(reader, headers)
            status, out = await route(method, path, body)
            ctype = "application/xml" if status == 404 else "application/json"
            writer.write(("HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nETag: \"1\"\r\n"
                          "X-Amz-Executed-Version: $LATEST\r\nx-amzn-RequestId: r\r\n\r\n"
                          % (status, "OK" if status == 200 else "Not Found", ctype,
                             len(out))).encode())
            if method != "HEAD":
                writer.write(out)
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", PORT, backlog=1024)
    async with server:
        await server.serve_forever()

asyncio.run(main())
