#!/bin/sh
# bench/invoke-memory.sh: ht-invoke's peak memory with 10,000 no-op test
# records (local provider, no sandbox, concurrency 2). Target: < 50 MB.
#   HT_BIN=bin sh bench/invoke-memory.sh [N]
set -eu
N=${1:-10000}
: "${HT_BIN:=$(cd "$(dirname "$0")/.." && pwd)/bin}"
PATH=$HT_BIN:$PATH
dir=$(mktemp -d "${TMPDIR:-/tmp}/ht-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT
cd "$dir"
echo '{"provider":"local","concurrency":2}' >hypertest.json
jq -cn --argjson n "$N" 'range($n) | {schema:"ht.test/1",run_id:"bench",test_id:"t-\(.)",
  name:"tests/noop-\(.).sh",file:"tests/noop-\(.).sh",runner:"command",index:.,timeout_s:60,
  run:{argv:["true"],outcome:"exit"}}' >plan.jsonl
t0=$(date +%s%N)
if [ -x /usr/bin/time ]; then
  /usr/bin/time -v ht-invoke -q --set local.sandbox=none plan.jsonl >res.jsonl 2>time.txt
  peak=$(sed -n 's/.*Maximum resident set size (kbytes): //p' time.txt)
else
  ht-invoke -q --set local.sandbox=none plan.jsonl >res.jsonl &
  pid=$! peak=0
  while kill -0 $pid 2>/dev/null; do
    v=$(sed -n 's/^VmHWM: *\([0-9]*\) kB/\1/p' /proc/$pid/status 2>/dev/null || true)
    [ -n "$v" ] && peak=$v
    sleep 0.2
  done
  wait $pid
fi
t1=$(date +%s%N)
test "$(wc -l <res.jsonl)" -eq "$N"
printf 'ht-invoke, %d no-op tests: peak RSS %d KiB (%.1f MB; target < 50 MB), %.1f s\n' \
  "$N" "$peak" "$(awk -v k="$peak" 'BEGIN { print k / 1024 }')" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print (b - a) / 1e9 }')"
