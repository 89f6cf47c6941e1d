#!/bin/sh
# bench/schedule-local.sh: the duration history on a real suite. The 84
# sleeping tests of bench/schedule-local-84.txt (mixed: 10 ms to 4.4 s) at
# concurrency 4 on the local provider (its default sandbox). Run 1 has no
# history (the listing order); run 2 plans from the history run 1 left in
# the bucket directory (longest first). Targets: run 2 shorter than run 1,
# and within 10% of the LPT makespan of run 1's durations.
#
#   HT_BIN=bin sh bench/schedule-local.sh
set -eu
C=4
here=$(cd "$(dirname "$0")" && pwd)
: "${HT_BIN:=$here/../bin}"
PATH=$HT_BIN:$PATH
suite=$here/schedule-local-84.txt
dir=$(mktemp -d "${TMPDIR:-/tmp}/ht-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT
cd "$dir"
mkdir tests
grep -v '^#' "$suite" | while read -r name ms; do
  awk -v ms="$ms" 'BEGIN { printf "sleep %.3f\n", ms / 1000 }' >"$name"
done
cat >hypertest.json <<J
{"provider": "local", "concurrency": $C, "runner": {"tests": ["tests/*.sh"], "run": "sh {file}"}}
J
unset HT_CONFIG

ms() {
  t0=$(date +%s%N); "$@"; t1=$(date +%s%N)
  echo $(( (t1 - t0) / 1000000 ))
}
run() { ht-invoke -q "$1" >"$1.results"; }

ht-plan -o plan1.jsonl
wall1=$(ms run plan1.jsonl)
ht-plan --predict --json >predict.json
# The LPT makespan of run 1's own durations on C slots, no overhead.
lpt=$(jq -r .duration_ms plan1.jsonl.results | sort -rn | awk -v c=$C '
  { m = 0; for (i = 1; i < c; i++) if (s[i] < s[m]) m = i; s[m] += $1 }
  END { x = 0; for (i = 0; i < c; i++) if (s[i] > x) x = s[i]; print x }')
ht-plan -o plan2.jsonl
wall2=$(ms run plan2.jsonl)
awk -v w1="$wall1" -v w2="$wall2" -v l="$lpt" -v p="$(jq .predicted_ms predict.json)" \
    -v o="$(jq .overhead_ms predict.json)" -v n="$(wc -l <plan1.jsonl)" -v c=$C 'BEGIN {
  printf "%d tests at concurrency %d on the local provider\n", n, c
  printf "LPT makespan of the run 1 durations    %6.2f s\n", l / 1000
  printf "ht-plan --predict after run 1           %6.2f s  (overhead %d ms per invocation)\n", p / 1000, o
  printf "run 1: listing order, no history        %6.2f s\n", w1 / 1000
  printf "run 2: longest first, from history      %6.2f s  %.3fx the LPT makespan (target <= 1.10)\n", w2 / 1000, w2 / l
  printf "run 2 is %.1f%% shorter than run 1 (target > 0)\n", 100 * (1 - w2 / w1)
  print (w2 < w1 && w2 <= 1.10 * l) ? "targets met" : "TARGETS MISSED"
}'
