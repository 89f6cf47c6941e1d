#!/bin/sh
# bench/invoke-fire.sh: ht-invoke on the aws provider under fire against a
# clean run. The stand-in is tests/helpers/ht-fire-standin (answers at
# once; faults drawn per request from a seed): the fire run has 30% of
# the Invoke requests answered 429, 5% 5xx, 2% connections dropped and 1%
# stalled past the client timeout (the function's Timeout of 1 s, margin
# 0), the clean one none. N invocations at concurrency C, with
# aws.min_concurrency FLOOR (default C/2; FLOOR=1 is the provider's
# default, with which a steady 30% of throttles keeps the window at 1),
# ROUNDS interleaved rounds (default 3): each round's wall times, the
# medians, and fire / clean.
#
#   HT_BIN=bin [HT_HELPERS=build/std/tests] [ROUNDS=3] [C=96] [FLOOR=48] sh bench/invoke-fire.sh [N]
#
# N defaults to 10,000. Every run must end with N passed records.
set -eu
N=${1:-10000}
ROUNDS=${ROUNDS:-3}
C=${C:-96}
FLOOR=${FLOOR:-$((C / 2))}
here=$(cd "$(dirname "$0")" && pwd)
: "${HT_BIN:=$here/../bin}"
: "${HT_HELPERS:=$here/../build/std/tests}"
HT_BIN=$(cd "$HT_BIN" && pwd)
PATH=$HT_BIN:$PATH
standin=$(cd "$HT_HELPERS" && pwd)/ht-fire-standin
[ -x "$standin" ] || { echo "invoke-fire.sh: no $standin: run make tests" >&2; exit 69; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/ht-bench.XXXXXX")
pid=
cleanup() { [ -z "$pid" ] || kill "$pid" 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
cd "$dir"
printf '{"provider":"aws","aws":{"function":"fn","region":"us-east-1","min_concurrency":%d},"timeout_s":1}\n' \
  "$FLOOR" >hypertest.json
export AWS_ACCESS_KEY_ID=AKIAEXAMPLEBENCH0000 AWS_SECRET_ACCESS_KEY=bench-secret HT_AWS_INVOKE_MARGIN_MS=0
unset AWS_PROFILE AWS_SESSION_TOKEN HT_CONFIG
jq -cn --argjson n "$N" 'range($n) | {schema:"ht.test/1",run_id:"bench",test_id:"t\(.)",
  name:"tests/t\(.).sh",runner:"command",timeout_s:1,run:{shell:"true"}}' >plan.jsonl

# one MODE SEED: one run; appends its wall time (s) to MODE.t.
one() {
  rm -f port
  if [ "$1" = fire ]; then
    "$standin" --function fn --port-file port --seed "$2" --throttle 0.30 --error 0.05 --drop 0.02 \
      --stall 0.01 --stall-ms 5000 2>standin.err &
  else
    "$standin" --function fn --port-file port 2>standin.err &
  fi
  pid=$!
  i=0; until [ -s port ]; do i=$((i + 1)); [ $i -lt 200 ] || exit 69; sleep 0.05; done
  t0=$(date +%s%N)
  AWS_ENDPOINT_URL=http://127.0.0.1:$(cat port) ht-invoke -q -j "$C" --infra-retries 3 plan.jsonl >res.jsonl 2>invoke.err || true
  t1=$(date +%s%N)
  kill "$pid"; wait "$pid" || true; pid=
  test "$(jq -s 'map(select(.status == "passed")) | length' res.jsonl)" -eq "$N" ||
    { echo "invoke-fire.sh: the $1 run lost results" >&2; exit 70; }
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", (b - a) / 1e9 }' >>"$1.t"
  printf '  round %d %-5s %6.2f s  %s\n' "$r" "$1" "$(tail -n 1 "$1.t")" "$(sed 's/^ht-fire-standin: //' standin.err)"
}
median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "N=$N C=$C aws.min_concurrency=$FLOOR, $ROUNDS rounds"
r=1
while [ $r -le "$ROUNDS" ]; do
  one clean $r
  one fire $r
  r=$((r + 1))
done
awk -v n="$N" -v c="$(median clean.t)" -v f="$(median fire.t)" 'BEGIN {
  printf "median wall: clean %.2f s (%.0f/s), fire %.2f s (%.0f/s): fire / clean = %.1fx\n", c, n / c, f, n / f, f / c }'
