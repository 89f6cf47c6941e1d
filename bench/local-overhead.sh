#!/bin/sh
# bench/local-overhead.sh: hypertest's own cost on the local provider.
# 500 tests that do nothing (`true`), concurrency 2: the wall time of
# ht-plan + ht-invoke against `xargs -P2` running the same 500 commands,
# and the median time from dispatch to result of one no-op test. Both with
# bwrap sandboxes and without (local.sandbox = none).
# Targets: ratio <= 1.5x, median dispatch-to-result < 15 ms.
#   HT_BIN=bin [ROUNDS=5] sh bench/local-overhead.sh [N]
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

# A shared machine is noisy: the three are measured in turn, ROUNDS times,
# and the medians compared, so that a burst of load hits all of them alike.
ROUNDS=${ROUNDS:-5}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
modes=none
if bwrap --ro-bind / / true 2>/dev/null; then modes="bwrap none"; else echo "bwrap: not available here, skipped"; fi
for mode in $modes; do ht-invoke -q --set local.sandbox=$mode /dev/null; done  # warm up caches

r=0
while [ $r -lt "$ROUNDS" ]; do
  t0=$(now)
  ls tests/*.sh | xargs -P2 -n1 true
  t1=$(now)
  ms "$t0" "$t1" >>xargs.ms
  for mode in $modes; do
    t0=$(now)
    ht-plan -q >plan.jsonl
    ht-invoke -q --set local.sandbox=$mode plan.jsonl >res.jsonl
    t1=$(now)
    ms "$t0" "$t1" >>$mode.ms
    test "$(wc -l <res.jsonl)" -eq "$N"
    bad=$(jq -r 'select(.status != "passed") | .test_id' res.jsonl | wc -l)
    [ "$bad" -eq 0 ] || echo "sandbox $mode: $bad tests did not pass!"
    jq -s '[.[].invoke_ms] | sort | .[length / 2 | floor]' res.jsonl >>$mode.med
  done
  r=$((r + 1))
done

base=$(median <xargs.ms)
printf 'load average at the end: %s\n' "$(cut -d" " -f1-3 /proc/loadavg)"
printf 'xargs -P2, %d x true:          %6d ms  (median of %d rounds: %s)\n' "$N" "$base" "$ROUNDS" "$(tr '\n' ' ' <xargs.ms)"
for mode in $modes; do
  ht=$(median <$mode.ms)
  med=$(median <$mode.med)
  ratio=$(awk -v a="$ht" -v b="$base" 'BEGIN { printf "%.2f", a / (b > 0 ? b : 1) }')
  printf 'hypertest (sandbox %-5s):       %6d ms  ratio %sx (target <= 1.5x)  median dispatch-to-result %s ms (target < 15)  (rounds: %s)\n' \
    "$mode" "$ht" "$ratio" "$med" "$(tr '\n' ' ' <$mode.ms)"
done
