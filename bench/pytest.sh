#!/bin/sh
# bench/pytest.sh: the pytest plugin at concurrency 2 against
# `python3 -m pytest -n 2` (pytest-xdist) on the same machine, on
# examples/pytest and on a synthetic suite of 500 quick tests (10 files of
# 50), rounds interleaved (xdist, file, test, xdist, ...) so the machine's
# load falls on all alike. Prints each wall time (median of the rounds)
# and hypertest's ratio to xdist for `file` and `test` granularity, with
# the plugin's defaults (batching on: docs/runner-pytest.md#batching), and
# the CPU time (user + system of everything a run started; steadier than
# the wall time on a loaded machine). Target: `file` within 1.2x of xdist,
# `test` within 1.5x.
#
#   HT_BIN=bin nice -n 10 sh bench/pytest.sh [ROUNDS]   (default 3)
#   WAYS="xdist file" sh bench/pytest.sh 5       only these ways
#   PROJECT=DIR PYENV=PYTHONPATH=src sh bench/pytest.sh   a copy of another
#       project instead (pallets/click: docs/runner-pytest.md), PYENV in
#       the environment of both pytest -n 2 and the tests
#   SANDBOX=none                   no bwrap sandbox (then the CPU time
#       counts the tests' processes too)
#
# Needs Debian's python3-pytest and python3-pytest-xdist and /usr/bin/time;
# runs on the local provider (bubblewrap when it works, as `make
# demo-pytest`, unless SANDBOX=none).
set -eu
ROUNDS=${1:-3}
WAYS=${WAYS:-xdist file test}
SANDBOX=${SANDBOX:-auto}
PYENV=${PYENV:-}
here=$(cd "$(dirname "$0")" && pwd)
: "${HT_BIN:=$here/../bin}"
HT_BIN=$(cd "$HT_BIN" && pwd)
PATH=$HT_BIN:$PATH
PY=
for p in /usr/bin/python3 /usr/local/bin/python3; do
  if [ -x "$p" ] && "$p" -c 'import pytest, xdist' 2>/dev/null; then PY=$p; break; fi
done
[ -n "$PY" ] || { echo "pytest.sh: needs python3-pytest and python3-pytest-xdist (scripts/install-deps)" >&2; exit 69; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/ht-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT

SUITES="example synthetic"
if [ -n "${PROJECT:-}" ]; then
  SUITES=project
  cp -R "$PROJECT" "$dir/project" && rm -rf "$dir/project/.hypertest"
  env=$(printf '%s' "$PYENV" | awk -F= 'NF { printf "\"%s\": \"%s\"", $1, substr($0, length($1) + 2) }')
  echo "{\"provider\": \"local\", \"runner\": {\"name\": \"pytest\", \"env\": {$env}}, \"timeout_s\": 300}" \
    >"$dir/project/hypertest.json"
fi
cp -R "$here/../examples/pytest" "$dir/example" && rm -rf "$dir/example/.hypertest"
mkdir -p "$dir/synthetic/tests"
for f in 0 1 2 3 4 5 6 7 8 9; do
  {
    echo 'import pytest'
    echo '@pytest.mark.parametrize("i", range(50))'
    echo "def test_quick_$f(i):"
    echo '    assert i * i >= 0'
  } >"$dir/synthetic/tests/test_s$f.py"
done
echo '{"provider": "local", "runner": {"name": "pytest"}, "timeout_s": 300}' >"$dir/synthetic/hypertest.json"

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# one SUITE WAY: "WALL CPU" of one run, plan included for hypertest
one() {
  cd "$dir/$1"
  case $2 in
    xdist) cmd='env $PYENV PYTHONDONTWRITEBYTECODE=1 "$PY" -m pytest -q -p no:cacheprovider -n 2 >/dev/null 2>&1 || true' ;;
    *) cmd='ht-plan -q --set runner.python="$PY" --set runner.granularity="$WAY" -o plan.$WAY.jsonl &&
       { ht-invoke -q -j 2 --set local.sandbox=$SANDBOX --set dir="$DIR/.hypertest" plan.$WAY.jsonl >results.jsonl || true; }' ;;
  esac
  PY=$PY PYENV=$PYENV WAY=$2 SANDBOX=$SANDBOX DIR="$dir/$1" /usr/bin/time -f "%e %U %S" -o "$dir/time" sh -c "$cmd"
  awk '{ printf "%.2f %.2f\n", $1, $2 + $3 }' "$dir/time"
}

for suite in $SUITES; do
  : >"$dir/$suite.xdist" ; : >"$dir/$suite.file"; : >"$dir/$suite.test"
  r=0
  while [ $r -lt "$ROUNDS" ]; do
    for way in $WAYS; do one $suite $way >>"$dir/$suite.$way"; done
    r=$((r + 1))
  done
  col() { cut -d" " -f"$1" "$dir/$suite.$2" | median; }
  x=$(col 1 xdist); f=$(col 1 file); t=$(col 1 test)
  xc=$(col 2 xdist); fc=$(col 2 file); tc=$(col 2 test)
  : "${t:=0}" "${f:=0}" "${tc:=0}" "${fc:=0}"
  n=$(cd "$dir/$suite" && env $PYENV PYTHONDONTWRITEBYTECODE=1 "$PY" -m pytest --collect-only -q -p no:cacheprovider 2>/dev/null | sed '/^$/,$d' | wc -l)
  inv() { [ -s "$dir/$suite/plan.$1.jsonl" ] && wc -l <"$dir/$suite/plan.$1.jsonl" || echo 0; }
  echo "$suite ($n tests, concurrency 2, median of $ROUNDS, wall / CPU): pytest -n 2 ${x}s / ${xc}s, hypertest file ${f}s / ${fc}s ($(inv file) invocations), test ${t}s / ${tc}s ($(inv test) invocations)"
  echo "  rounds (wall CPU): xdist $(tr '\n' ',' <"$dir/$suite.xdist") file $(tr '\n' ',' <"$dir/$suite.file") test $(tr '\n' ',' <"$dir/$suite.test")"
  awk -v x="$x" -v f="$f" -v t="$t" -v xc="$xc" -v fc="$fc" -v tc="$tc" 'BEGIN {
    printf "  ratio to xdist, wall: file %.2fx (target <= 1.2x), test %.2fx (target <= 1.5x); CPU: file %.2fx, test %.2fx\n",
      f / x, t / x, fc / xc, tc / xc }'
  echo "  load average: $(cut -d" " -f1-3 /proc/loadavg)"
done
