#!/bin/sh
# bench/playwright.sh: examples/playwright (34 tests, two projects) at
# concurrency 4 on the local provider, one record per test, against
# `playwright test --workers 4` on the same machine, rounds interleaved
# (playwright, hypertest, playwright, ...) so the machine's load falls on
# both alike. Prints each wall time (median of the rounds), hypertest's
# ratio (target: at most 1.5x), and where one invocation's time goes:
# Node's start, Playwright's CLI, the config and test files, the worker,
# the browser.
#
#   HT_BIN=bin sh bench/playwright.sh [ROUNDS]       (default 2)
#   GRANULARITY=file sh bench/playwright.sh         one invocation per file
#   BATCH_MS=0 sh bench/playwright.sh               one invocation per test (no batches;
#                                                   the default batches: batch_target_ms
#                                                   60000, docs/scheduling.md)
#
# Needs node 20 or later, Debian's chromium and examples/playwright's
# node_modules (scripts/install-deps). Run it niced on a shared machine.
set -eu
ROUNDS=${1:-2}
GRANULARITY=${GRANULARITY:-test}
BATCH_MS=${BATCH_MS:-}
here=$(cd "$(dirname "$0")" && pwd)
: "${HT_BIN:=$here/../bin}"
HT_BIN=$(cd "$HT_BIN" && pwd)
PATH=$HT_BIN:$PATH
ex=$here/../examples/playwright
[ -f "$ex/node_modules/@playwright/test/cli.js" ] && [ -x /usr/bin/chromium ] || {
  echo "playwright.sh: needs examples/playwright/node_modules and /usr/bin/chromium (scripts/install-deps)" >&2; exit 69; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/ht-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT
cli=node_modules/@playwright/test/cli.js

now() { date +%s%N; }
secs() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f\n", (b - a) / 1e9 }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# one WAY: the wall time of one run of the suite, plan included
one() {
  cd "$ex"
  t=$(now)
  case $1 in
    playwright) node $cli test --workers 4 --reporter=dot --output "$dir/pw-out" >/dev/null 2>&1 || true ;;
    hypertest) ht-plan -q --set dir="$dir/state" --set runner.granularity="$GRANULARITY" \
         ${BATCH_MS:+--set batch_target_ms="$BATCH_MS"} --set concurrency=4 -o "$dir/plan.jsonl" &&
       { ht-invoke -q -j 4 --set dir="$dir/state" "$dir/plan.jsonl" >"$dir/results.jsonl" || true; } ;;
  esac
  secs "$t"
}

: >"$dir/playwright"; : >"$dir/hypertest"
r=0
while [ $r -lt "$ROUNDS" ]; do
  one playwright >>"$dir/playwright"
  one hypertest >>"$dir/hypertest"
  r=$((r + 1))
done
pw=$(median <"$dir/playwright") ht=$(median <"$dir/hypertest")
n=$(wc -l <"$dir/plan.jsonl")
echo "examples/playwright, $n invocations ($GRANULARITY, batch_target_ms ${BATCH_MS:-the default}), concurrency 4, median of $ROUNDS rounds:"
echo "  playwright test --workers 4   ${pw} s   (rounds: $(tr '\n' ' ' <"$dir/playwright"))"
echo "  hypertest, local provider     ${ht} s   (rounds: $(tr '\n' ' ' <"$dir/hypertest"))"
awk -v a="$ht" -v b="$pw" 'BEGIN { printf "  ratio %.2fx (target: at most 1.5x)\n", a / b }'

# Where one invocation's time goes, each step alone (one run each).
cd "$ex"
printf '[desktop] \342\200\272 outcomes.spec.js \342\200\272 is skipped\n' >"$dir/skip.txt"
printf '[desktop] \342\200\272 counter.spec.js \342\200\272 starts at zero\n' >"$dir/page.txt"
step() { t=$(now); "$@" >/dev/null 2>&1 || true; secs "$t"; }
s_node=$(step node -e 0)
s_cli=$(step node $cli --version)
s_list=$(step node $cli test --list --reporter=json)
s_skip=$(step node $cli test --workers 1 --reporter=json --output "$dir/o1" --test-list "$dir/skip.txt")
s_page=$(step node $cli test --workers 1 --reporter=json --output "$dir/o2" --test-list "$dir/page.txt")
echo "one invocation, step by step (wall, s):"
echo "  node -e 0                                  $s_node   Node's start"
echo "  playwright --version                       $s_cli   + Playwright's CLI"
echo "  playwright test --list                     $s_list   + the config and the test files"
echo "  one skipped test (--test-list)             $s_skip   + a run: the worker process, the report"
echo "  one test with a page                       $s_page   + the browser's launch and the test"
if [ "$GRANULARITY" = test ] && [ -s "$dir/results.jsonl" ]; then
  jq -rs '[.[] | .duration_ms] | sort | "hypertest per invocation (ms): median \(.[length / 2 | floor]), max \(.[-1])"' "$dir/results.jsonl"
  jq -rs '[.[] | (.tries // []) | map(.duration_ms) | add // 0] | sort | "  of which Playwright timed the test itself (ms): median \(.[length / 2 | floor])"' "$dir/results.jsonl"
fi
