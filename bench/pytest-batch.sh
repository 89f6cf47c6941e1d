#!/bin/sh
# bench/pytest-batch.sh: the pytest plugin's default (one node id per
# test) with batching (batch_target_ms) against `python3 -m pytest -n 2`
# (pytest-xdist) at concurrency 2, on a synthetic suite of 500 quick tests
# (10 files of 50) and on a click-like one (2,000 tests of about 1 ms in
# 34 files, as pallets/click's 1991 in 34). Rounds interleaved (xdist,
# first, again, xdist, ...): `first` plans with no history (tests of
# unknown duration, packed batch_max_tests at a time), `again` with the
# durations of the round's first run (ht-plan --durations), so batches
# follow the target. Prints the medians and the ratios to xdist; target:
# within 1.5x, one record per test.
#
#   HT_BIN=bin nice -n 10 sh bench/pytest-batch.sh [ROUNDS]   (default 3)
#   TARGET=2000 MAX=200 SUITES=clicklike SANDBOX=bwrap sh bench/pytest-batch.sh               batch_target_ms, batch_max_tests
#
# Needs Debian's python3-pytest and python3-pytest-xdist and /usr/bin/time;
# runs on the local provider without a sandbox (SANDBOX=bwrap for one).
set -eu
ROUNDS=${1:-3}
TARGET=${TARGET:-2000}
MAX=${MAX:-200}
# No sandbox by default: a process in a bwrap sandbox is not counted in
# the CPU time (about 8 ms a sandbox, 4 to 10 of them here).
SANDBOX=${SANDBOX:-none}
SUITES=${SUITES:-synthetic clicklike}
here=$(cd "$(dirname "$0")" && pwd)
: "${HT_BIN:=$here/../bin}"
HT_BIN=$(cd "$HT_BIN" && pwd)
PATH=$HT_BIN:$PATH
PY=
for p in /usr/bin/python3 /usr/local/bin/python3; do
  if [ -x "$p" ] && "$p" -c 'import pytest, xdist' 2>/dev/null; then PY=$p; break; fi
done
[ -n "$PY" ] || { echo "pytest-batch.sh: needs python3-pytest and python3-pytest-xdist (scripts/install-deps)" >&2; exit 69; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/ht-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT

# suite NAME FILES PER-FILE BODY: FILES files of PER-FILE parametrised tests.
suite() {
  mkdir -p "$dir/$1/tests"
  f=0
  while [ $f -lt "$2" ]; do
    {
      echo 'import time'
      echo 'import pytest'
      echo "@pytest.mark.parametrize(\"i\", range($3))"
      echo "def test_quick_$f(i):"
      echo "    $4"
    } >"$dir/$1/tests/test_s$f.py"
    f=$((f + 1))
  done
  echo "{\"provider\": \"local\", \"local\": {\"sandbox\": \"$SANDBOX\"}, \"runner\": {\"name\": \"pytest\"}, \"timeout_s\": 300,
         \"batch_target_ms\": $TARGET, \"batch_max_tests\": $MAX}" >"$dir/$1/hypertest.json"
}
suite synthetic 10 50 'assert i * i >= 0'
# 34 files; 28 of 59 and 6 of 58 tests: 2,000; each about 1 ms.
suite clicklike 28 59 'time.sleep(0.001)'
f=28
while [ $f -lt 34 ]; do
  sed -e "s/range(59)/range(58)/" -e "s/test_quick_0/test_quick_$f/" "$dir/clicklike/tests/test_s0.py" \
    >"$dir/clicklike/tests/test_s$f.py"
  f=$((f + 1))
done

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# one SUITE WAY: "WALL CPU" of one run in seconds (CPU: user + system of
# everything it started, pytest processes included; on a loaded machine
# the wall time mostly waits for a CPU), plan included for hypertest; the
# plan's invocations and the results' records go to SUITE.WAY.shape.
one() {
  cd "$dir/$1"
  case $2 in
    xdist) cmd='PYTHONDONTWRITEBYTECODE=1 "$PY" -m pytest -q -p no:cacheprovider -n 2 >/dev/null 2>&1 || true' ;;
    first) cmd='ht-plan -q --set runner.python="$PY" -o plan.jsonl && { ht-invoke -q -j 2 plan.jsonl >first.jsonl || true; }' ;;
    again) cmd='ht-plan -q --set runner.python="$PY" --durations first.jsonl -o plan2.jsonl && { ht-invoke -q -j 2 plan2.jsonl >again.jsonl || true; }' ;;
  esac
  PY=$PY /usr/bin/time -f "%e %U %S" -o "$dir/time" sh -c "$cmd"
  case $2 in
    first) echo "$(wc -l <plan.jsonl) $(wc -l <first.jsonl)" >"$dir/$1.first.shape" ;;
    again) echo "$(wc -l <plan2.jsonl) $(wc -l <again.jsonl)" >"$dir/$1.again.shape" ;;
  esac
  awk '{ printf "%.2f %.2f\n", $1, $2 + $3 }' "$dir/time"
}

for s in $SUITES; do
  : >"$dir/$s.xdist"; : >"$dir/$s.first"; : >"$dir/$s.again"
  r=0
  while [ $r -lt "$ROUNDS" ]; do
    for way in xdist first again; do one "$s" $way >>"$dir/$s.$way"; done
    r=$((r + 1))
  done
  col() { cut -d" " -f"$1" "$dir/$s.$2" | median; }
  x=$(col 1 xdist); f=$(col 1 first); a=$(col 1 again)
  xc=$(col 2 xdist); fc=$(col 2 first); ac=$(col 2 again)
  n=$(cd "$dir/$s" && PYTHONDONTWRITEBYTECODE=1 "$PY" -m pytest --collect-only -q -p no:cacheprovider | sed '/^$/,$d' | wc -l)
  set -- $(cat "$dir/$s.first.shape") $(cat "$dir/$s.again.shape")
  echo "$s ($n tests, concurrency 2, batch_target_ms $TARGET, batch_max_tests $MAX, median of $ROUNDS, wall / CPU):"
  echo "  pytest -n 2 ${x}s / ${xc}s; hypertest, test granularity, batched: first run ${f}s / ${fc}s ($1 invocations, $2 records), with durations ${a}s / ${ac}s ($3 invocations, $4 records)"
  echo "  rounds (wall CPU): xdist $(tr '\n' ',' <"$dir/$s.xdist")  first $(tr '\n' ',' <"$dir/$s.first")  again $(tr '\n' ',' <"$dir/$s.again")"
  awk -v x="$x" -v f="$f" -v a="$a" -v xc="$xc" -v fc="$fc" -v ac="$ac" 'BEGIN {
    printf "  ratio to xdist, wall: first %.2fx, with durations %.2fx (target <= 1.5x); CPU: first %.2fx, with durations %.2fx\n",
      f / x, a / x, fc / xc, ac / xc }'
  echo "  load average: $(cut -d" " -f1-3 /proc/loadavg)"
done
