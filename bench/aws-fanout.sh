#!/bin/sh
# bench/aws-fanout.sh: how fast ht-invoke completes signed Lambda Invoke
# calls, against a loopback stand-in that answers at once (nginx), side by
# side with the AWS SDK for JavaScript v3 (InvokeCommand + p-limit, an
# agent with maxSockets = C) and with `curl --parallel --parallel-max C`
# sending the same requests unsigned (libcurl's own ceiling). Each is a
# whole process, timed from start to exit. Then ht-invoke's peak RSS with
# 1,000 invocations in flight, against ht-lambda-local answering after 3 s.
# Targets: >= 5x the SDK's rate, >= 60% of curl's, < 50 MB at 1,000.
#
#   HT_BIN=bin sh bench/aws-fanout.sh [N]        (default N = 5000)
#
# Needs nginx (Debian nginx-light), node and npm; the SDK is installed into
# bench/node_modules on first use (npm install).
set -eu
N=${1:-5000}
here=$(cd "$(dirname "$0")" && pwd)
: "${HT_BIN:=$here/../bin}"
PATH=$HT_BIN:$PATH:/usr/sbin
command -v nginx >/dev/null || { echo "aws-fanout.sh: needs nginx: apt-get install nginx-light" >&2; exit 69; }
if [ ! -d "$here/node_modules/@aws-sdk/client-lambda" ]; then
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

# secs CMD...: runs CMD, prints its wall time in seconds.
secs() {
  t0=$(date +%s%N); "$@"; t1=$(date +%s%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'
}
run_ht() { ht-invoke -q -j "$1" plan.jsonl >res.jsonl; }
run_sdk() { NODE_NO_WARNINGS=1 node "$here/aws-fanout.js" "$url" "$N" "$1" >sdk.out; }
run_curl() {
  curl -s --parallel --parallel-max "$1" -X POST -H 'Content-Type: application/json' \
    -H 'X-Amz-Invocation-Type: RequestResponse' -H 'X-Amz-Log-Type: Tail' --data-binary @payload.json \
    -o /dev/null "$url/2015-03-31/functions/fn/invocations?[1-$N]" 2>/dev/null
}

fail=0
for c in 50 200; do
  t_ht=$(secs run_ht "$c")
  test "$(jq -s 'map(select(.status == "passed")) | length' res.jsonl)" -eq "$N" || { echo "ht-invoke lost results" >&2; exit 70; }
  t_sdk=$(secs run_sdk "$c")
  grep -q "^ok=$N failed=0" sdk.out || { echo "the SDK run failed: $(cat sdk.out)" >&2; exit 70; }
  t_curl=$(secs run_curl "$c")
  awk -v n="$N" -v c="$c" -v h="$t_ht" -v s="$t_sdk" -v u="$t_curl" 'BEGIN {
    rh = n / h; rs = n / s; ru = n / u
    printf "N=%d C=%-3d  ht-invoke %7.0f/s (%.2f s)   SDK v3 %6.0f/s (%.2f s)   curl --parallel %7.0f/s (%.2f s)\n", n, c, rh, h, rs, s, ru, u
    printf "             ht-invoke / SDK = %.1fx (target >= 5x)   ht-invoke / curl = %.0f%% (target >= 60%%)\n", rh / rs, 100 * rh / ru
    exit !(rh / rs >= 5 && rh / ru >= 0.6)
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
