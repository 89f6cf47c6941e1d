#!/bin/sh
# bench/aws-fanout.sh: what ht-invoke spends on signed Lambda Invoke calls,
# against a loopback stand-in that answers at once (nginx), side by side
# with `curl --parallel --parallel-max C` sending the same signed request
# bytes (one request of ht-invoke's, captured once, sent N times: libcurl's
# own ceiling) and, when it is installed, the AWS SDK for JavaScript v3
# (InvokeCommand + p-limit, an agent with maxSockets = C). Each is a whole
# process; the figures are its CPU time (user + sys, from getrusage of the
# child) per invocation and its wall time, the median of ROUNDS interleaved
# rounds. Then ht-invoke's peak RSS with 1,000 invocations in flight,
# against ht-lambda-local answering after 3 s.
# Targets: CPU per invocation <= 1.3x curl's; >= 5x the SDK's rate;
# < 50 MB at 1,000 in flight.
#
#   HT_BIN=bin [ROUNDS=3] [SDK=0] sh bench/aws-fanout.sh [N]   (default N = 5000)
#
# Needs nginx (Debian nginx-light) and python3; for the SDK node and npm:
# it is installed into bench/node_modules on first use (npm install), or
# left out with SDK=0.
set -eu
N=${1:-5000}
ROUNDS=${ROUNDS:-3}
here=$(cd "$(dirname "$0")" && pwd)
: "${HT_BIN:=$here/../bin}"
HT_BIN=$(cd "$HT_BIN" && pwd)
PATH=$HT_BIN:$PATH:/usr/sbin
command -v nginx >/dev/null || { echo "aws-fanout.sh: needs nginx: apt-get install nginx-light" >&2; exit 69; }
SDK=${SDK:-1}
if [ "$SDK" != 0 ] && [ ! -d "$here/node_modules/@aws-sdk/client-lambda" ]; then
  (cd "$here" && npm install --no-audit --no-fund >/dev/null) || { echo "aws-fanout.sh: npm install failed" >&2; exit 69; }
fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/ht-bench.XXXXXX")
pids=
cleanup() { for p in $pids; do kill "$p" 2>/dev/null || true; done; rm -rf "$dir"; }
trap cleanup EXIT
cd "$dir"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
url=http://127.0.0.1:$port
mkdir -p logs tmp
cat >nginx.conf <<CONF
worker_processes 1;
daemon off;
error_log $dir/logs/error.log warn;
pid $dir/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  keepalive_requests 1000000;
  keepalive_timeout 60s;
  client_body_buffer_size 64k;
  server {
    listen 127.0.0.1:$port;
    default_type application/json;
    location ~ /configuration\$ {
      return 200 '{"FunctionName":"fn","Timeout":30,"State":"Active","PackageType":"Image"}';
    }
    location ~ /invocations\$ {
      return 200 '{"schema":"ht.result/1","status":"passed","ok":true,"duration_ms":1,"exit_code":0,"signal":null,"message":""}';
    }
  }
}
CONF
nginx -p "$dir" -c "$dir/nginx.conf" &
pids="$pids $!"
i=0; until curl -sf -o /dev/null "$url/2015-03-31/functions/fn/configuration"; do
  i=$((i + 1)); [ $i -lt 50 ] || { echo "aws-fanout.sh: nginx does not start" >&2; cat logs/error.log >&2; exit 69; }; sleep 0.1
done

echo '{"provider":"aws","aws":{"function":"fn","region":"us-east-1"},"timeout_s":20}' >hypertest.json
export AWS_ACCESS_KEY_ID=AKIAEXAMPLEBENCH0000 AWS_SECRET_ACCESS_KEY=bench-secret AWS_ENDPOINT_URL=$url
unset AWS_PROFILE AWS_SESSION_TOKEN HT_CONFIG
jq -cn --argjson n "$N" 'range($n) | {schema:"ht.test/1",run_id:"bench",test_id:"t\(.)",
  name:"tests/t\(.).sh",runner:"command",timeout_s:20,run:{shell:"true"}}' >plan.jsonl
jq -cn '{schema:"ht.test/1",run_id:"bench",test_id:"t0",name:"tests/t0.sh",runner:"command",
  timeout_s:30,run:{shell:"true"},attempt:1}' >payload.json

# One request of ht-invoke's, as it goes on the wire: a stand-in that
# answers GetFunctionConfiguration and one Invoke, and keeps the Invoke's
# bytes. curl sends its headers (signature and date included) and body.
cat >capture.py <<'PY'
import os, socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
open("cap.port.tmp", "w").write(str(s.getsockname()[1])); os.rename("cap.port.tmp", "cap.port")
conf = b'{"FunctionName":"fn","Timeout":30,"State":"Active","PackageType":"Image"}'
res = b'{"schema":"ht.result/1","status":"passed","ok":true,"duration_ms":1,"exit_code":0,"signal":null,"message":""}'
while True:
    c, _ = s.accept(); buf = b""
    while True:
        while b"\r\n\r\n" not in buf:
            d = c.recv(65536)
            if not d: break
            buf += d
        if b"\r\n\r\n" not in buf: break
        head, rest = buf.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        n = sum(int(l.split(":", 1)[1]) for l in lines[1:] if l.lower().startswith("content-length:"))
        while len(rest) < n:
            rest += c.recv(65536)
        body, buf = rest[:n], rest[n:]
        if "/invocations" in lines[0]:
            with open("curl.cfg", "w") as f:
                for l in lines[1:]:
                    if l.split(":", 1)[0].lower() not in ("host", "content-length"):
                        f.write('header = "%s"\n' % l.replace("\\", "\\\\").replace('"', '\\"'))
            open("signed.body", "wb").write(body)
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(res) + res)
            sys.exit(0)
        c.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(conf) + conf)
        break
    c.close()
PY
python3 capture.py &
cap=$!
pids="$pids $cap"
i=0; until [ -s cap.port ]; do i=$((i + 1)); [ $i -lt 100 ] || exit 69; sleep 0.05; done
head -n1 plan.jsonl >plan1.jsonl
AWS_ENDPOINT_URL=http://127.0.0.1:$(cat cap.port) ht-invoke -q plan1.jsonl >/dev/null 2>&1 || true
wait $cap
grep -q '^header = "Authorization: AWS4-HMAC-SHA256 ' curl.cfg || { echo "aws-fanout.sh: no signed request captured" >&2; exit 70; }

# cpu OUT CMD...: runs CMD, appends "WALL_S CPU_S" (user + sys of CMD and
# what it waited for, from getrusage) to OUT.
cat >cpu.py <<'PY'
import resource, subprocess, sys, time
t = time.monotonic(); rc = subprocess.call(sys.argv[2:]); w = time.monotonic() - t
r = resource.getrusage(resource.RUSAGE_CHILDREN)
open(sys.argv[1], "a").write("%.4f %.4f\n" % (w, r.ru_utime + r.ru_stime))
sys.exit(rc)
PY
cpu() { python3 cpu.py "$@"; }
# median FILE COLUMN
median() { awk -v c="$2" '{ print $c }' "$1" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

fail=0
for c in 50 200; do
  rm -f ht.t curl.t sdk.t
  r=0
  while [ $r -lt "$ROUNDS" ]; do
    cpu ht.t sh -c "ht-invoke -q -j $c plan.jsonl >res.jsonl"
    test "$(jq -s 'map(select(.status == "passed")) | length' res.jsonl)" -eq "$N" || { echo "ht-invoke lost results" >&2; exit 70; }
    cpu curl.t sh -c "curl -s -K curl.cfg --parallel --parallel-max $c -X POST --data-binary @signed.body \
      -o /dev/null '$url/2015-03-31/functions/fn/invocations?[1-$N]' 2>/dev/null"
    if [ "$SDK" != 0 ]; then
      cpu sdk.t sh -c "NODE_NO_WARNINGS=1 node '$here/aws-fanout.js' '$url' $N $c >sdk.out"
      grep -q "^ok=$N failed=0" sdk.out || { echo "the SDK run failed: $(cat sdk.out)" >&2; exit 70; }
    fi
    r=$((r + 1))
  done
  awk -v n="$N" -v c="$c" -v hw="$(median ht.t 1)" -v hc="$(median ht.t 2)" \
      -v uw="$(median curl.t 1)" -v uc="$(median curl.t 2)" \
      -v sw="$( [ -s sdk.t ] && median sdk.t 1 || echo 0)" -v sc="$( [ -s sdk.t ] && median sdk.t 2 || echo 0)" 'BEGIN {
    printf "N=%d C=%-3d  CPU per invocation: ht-invoke %.3f ms, curl --parallel (same signed bytes) %.3f ms: ratio %.2fx (target <= 1.3x)\n", n, c, 1000 * hc / n, 1000 * uc / n, hc / uc
    printf "             wall: ht-invoke %.2f s (%.0f/s), curl %.2f s (%.0f/s)", hw, n / hw, uw, n / uw
    if (sw > 0) printf ", SDK v3 %.2f s (%.0f/s, CPU %.3f ms per invocation): ht-invoke / SDK = %.1fx (target >= 5x)", sw, n / sw, 1000 * sc / n, sw / hw
    printf "\n"
    exit !(hc / uc <= 1.3 && (sw == 0 || sw / hw >= 5))
  }' || fail=1
done

# Peak RSS with 1,000 invocations in flight: a stand-in that answers each
# after 3 s, so that all 1,000 wait at once.
rm -f ll.port
ht-lambda-local --stand-in --delay-ms 3000 --function fn --timeout 30 --port-file ll.port >/dev/null 2>ll.log &
pids="$pids $!"
i=0; until [ -s ll.port ]; do i=$((i + 1)); [ $i -lt 100 ] || exit 69; sleep 0.05; done
jq -cn 'range(1000) | {schema:"ht.test/1",run_id:"bench",test_id:"t\(.)",name:"tests/t\(.).sh",
  runner:"command",timeout_s:20,run:{shell:"true"}}' >plan1000.jsonl
t0=$(date +%s%N)
AWS_ENDPOINT_URL=http://127.0.0.1:$(cat ll.port) /usr/bin/time -v ht-invoke -q -j 1000 plan1000.jsonl \
  >res1000.jsonl 2>time.txt
t1=$(date +%s%N)
test "$(jq -s 'map(select(.status == "passed")) | length' res1000.jsonl)" -eq 1000 || { echo "ht-invoke lost results" >&2; exit 70; }
peak=$(sed -n 's/.*Maximum resident set size (kbytes): //p' time.txt)
awk -v k="$peak" -v a="$t0" -v b="$t1" 'BEGIN {
  printf "1,000 in flight (answers after 3 s): ht-invoke peak RSS %.1f MB (target < 50 MB), %.2f s\n", k / 1024, (b - a) / 1e9
  exit !(k / 1024 < 50) }' || fail=1
exit $fail
