#!/bin/sh
# bench/schedule.sh: what the duration history buys. The synthetic suite of
# bench/durations-2000.txt (2,000 tests, heavy-tailed: most under a second,
# 8 of 20 to 48 s) at concurrency 50 on the aws provider, against a
# loopback stand-in for Lambda and S3 that runs each test as a timer
# (bench/schedule-standin.py: no processes, so the machine's cores do not
# matter). Run 1 has no history: the listing order. Run 2 plans from the
# history run 1 stored in the (stand-in's) bucket: longest first. Then the
# shard split of the same durations for N = 2..10.
# Targets: run 2 within 10% of max(longest, total / C); run 2 at least 25%
# shorter than run 1; the largest shard within 5% of max(total / N, longest).
#
#   HT_BIN=bin sh bench/schedule.sh [SCALE]   (SCALE < 1 shrinks every test, default 1)
set -eu
SCALE=${1:-1}
C=50
here=$(cd "$(dirname "$0")" && pwd)
: "${HT_BIN:=$here/../bin}"
PATH=$HT_BIN:$PATH
durations=$here/durations-2000.txt
dir=$(mktemp -d "${TMPDIR:-/tmp}/ht-bench.XXXXXX")
pid=
cleanup() { [ -z "$pid" ] || kill "$pid" 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
cd "$dir"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
python3 "$here/schedule-standin.py" "$port" "$durations" "$SCALE" 2>standin.log &
pid=$!
i=0; until curl -sf -o /dev/null "http://127.0.0.1:$port/2015-03-31/functions/fn/configuration"; do
  i=$((i + 1)); [ $i -lt 50 ] || { echo "schedule.sh: the stand-in does not start" >&2; cat standin.log >&2; exit 69; }
  sleep 0.1
done
mkdir tests
grep -v '^#' "$durations" | while read -r name ms; do : >"$name"; done
cat >hypertest.json <<J
{"provider": "aws", "aws": {"function": "fn", "bucket": "bkt", "region": "us-east-1"},
 "concurrency": $C, "timeout_s": 900, "runner": {"tests": ["tests/*.sh"], "run": "sh {file}"}}
J
export AWS_ACCESS_KEY_ID=AKIAEXAMPLEBENCH0000 AWS_SECRET_ACCESS_KEY=bench-secret AWS_ENDPOINT_URL=http://127.0.0.1:$port
unset AWS_PROFILE AWS_SESSION_TOKEN HT_CONFIG

# ms CMD...: runs CMD, prints its wall time in milliseconds.
ms() {
  t0=$(date +%s%N); "$@"; t1=$(date +%s%N)
  echo $(( (t1 - t0) / 1000000 ))
}
run() { ht-invoke -q "$1" >"$1.results"; }

grep -v '^#' "$durations" | awk -v c=$C -v s="$SCALE" '
  { t = int($2 * s); total += t; if (t > longest) longest = t }
  END { b = total / c; if (longest > b) b = longest;
        printf "%d tests, %.1f s of tests, the longest %.1f s, concurrency %d\n", NR, total / 1000, longest / 1000, c
        printf "%d\n", b > "bound" }'
bound=$(cat bound)

ht-plan -o plan1.jsonl 2>/dev/null
wall1=$(ms run plan1.jsonl)
ht-plan -o plan2.jsonl
ht-plan --predict --json >predict.json
wall2=$(ms run plan2.jsonl)
predicted=$(jq .predicted_ms predict.json)
overhead=$(jq .overhead_ms predict.json)

awk -v b="$bound" -v w1="$wall1" -v w2="$wall2" -v p="$predicted" -v o="$overhead" 'BEGIN {
  printf "lower bound max(longest, total / C)   %7.1f s\n", b / 1000
  printf "run 1: listing order, no history      %7.1f s  %.2fx the bound\n", w1 / 1000, w1 / b
  printf "run 2: longest first, from history    %7.1f s  %.2fx the bound (target <= 1.10)\n", w2 / 1000, w2 / b
  printf "ht-plan --predict for run 2           %7.1f s  (overhead %d ms per invocation)\n", p / 1000, o
  printf "run 2 is %.0f%% shorter than run 1 (target >= 25%%)\n", 100 * (1 - w2 / w1)
  ok = w2 <= 1.10 * b && w2 <= 0.75 * w1
  print ok ? "targets met" : "TARGETS MISSED"
}'

# The shard split of the same durations, given as a results file.
ht-plan --set history.enabled=false >ids.jsonl
jq -c -n --rawfile d "$durations" --slurpfile p ids.jsonl '
  ($d | split("\n") | map(select(length > 0 and (startswith("#") | not)) | split(" ") | {(.[0]): (.[1] | tonumber)})
   | add) as $m
  | $p[] | {schema: "ht.result/1", test_id, status: "passed", duration_ms: $m[.name]}' >durations.jsonl
total=$(jq -s 'map(.duration_ms) | add' durations.jsonl)
longest=$(jq -s 'map(.duration_ms) | max' durations.jsonl)
echo "shards: N, the largest shard's predicted time, max(total / N, longest), their ratio (target <= 1.05)"
worst=0
for n in 2 3 4 5 6 7 8 9 10; do
  k=1; max=0
  while [ $k -le $n ]; do
    t=$(ht-plan -q --set history.enabled=false --durations durations.jsonl --shard $k/$n --predict --json | jq .total_ms)
    [ "$t" -le "$max" ] || max=$t
    k=$((k + 1))
  done
  awk -v n=$n -v m=$max -v t="$total" -v l="$longest" 'BEGIN { b = t / n; if (l > b) b = l;
    printf "  N = %2d  %7.1f s  %7.1f s  %.4f\n", n, m / 1000, b / 1000, m / b; exit !(m <= 1.05 * b) }' ||
    worst=1
done
[ $worst = 0 ] && echo "shard targets met" || echo "SHARD TARGETS MISSED"
