#!/bin/sh
# bench/local-overhead.sh: hypertest's own cost on the local provider.
# 500 tests that do nothing (`true`), concurrency 2: the wall time of
# ht-plan + ht-invoke against `xargs -P2` running the same 500 commands,
# and the median time from dispatch to result of one no-op test. Both with
# bwrap sandboxes and without (local.sandbox = none).
# Targets: ratio <= 1.5x, median dispatch-to-result < 15 ms.
#   HT_BIN=bin sh bench/local-overhead.sh [N]
set -eu
N=${1:-500}
: "${HT_BIN:=$(cd "$(dirname "$0")/.." && pwd)/bin}"
PATH=$HT_BIN:$PATH
dir=$(mktemp -d "${TMPDIR:-/tmp}/ht-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT
cd "$dir"
mkdir tests
i=0
while [ $i -lt "$N" ]; do : >tests/t$i.sh; i=$((i + 1)); done
cat >hypertest.json <<JSON
{"provider":"local","concurrency":2,
 "runner":{"name":"command","tests":["tests/*.sh"],"run":"true"}}
JSON

now() { date +%s%N; }
ms() { echo $(( ($2 - $1) / 1000000 )); }

t0=$(now)
ls tests/*.sh | xargs -P2 -n1 true
t1=$(now)
base=$(ms "$t0" "$t1")
printf 'xargs -P2, %d x true:          %6d ms\n' "$N" "$base"

for mode in bwrap none; do
  if [ $mode = bwrap ] && ! bwrap --ro-bind / / true 2>/dev/null; then
    echo "bwrap: not available here, skipped"; continue
  fi
  ht-invoke -q --set local.sandbox=$mode /dev/null  # warm up caches
  t0=$(now)
  ht-plan -q >plan.jsonl
  ht-invoke -q --set local.sandbox=$mode plan.jsonl >res.jsonl
  t1=$(now)
  ht=$(ms "$t0" "$t1")
  test "$(wc -l <res.jsonl)" -eq "$N"
  bad=$(jq -r 'select(.status != "passed") | .test_id' res.jsonl | wc -l)
  med=$(jq -s '[.[].invoke_ms] | sort | .[length / 2 | floor]' res.jsonl)
  ratio=$(awk -v a="$ht" -v b="$base" 'BEGIN { printf "%.2f", a / (b > 0 ? b : 1) }')
  printf 'hypertest (sandbox %-5s):       %6d ms  ratio %sx (target <= 1.5x)  median dispatch-to-result %s ms (target < 15)%s\n' \
    "$mode" "$ht" "$ratio" "$med" "$( [ "$bad" -eq 0 ] || echo "  ($bad not passed!)")"
done
