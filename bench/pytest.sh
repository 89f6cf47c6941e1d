#!/bin/sh
# bench/pytest.sh: the pytest plugin at concurrency 2 against
# `python3 -m pytest -n 2` (pytest-xdist) on the same machine, on
# examples/pytest and on a synthetic suite of 500 quick tests (10 files of
# 50), rounds interleaved (xdist, file, test, xdist, ...) so the machine's
# load falls on all alike. Prints each wall time (median of the rounds)
# and hypertest's ratio to xdist for `file` and `test` granularity.
# Target: `file` within 1.2x of xdist.
#
#   HT_BIN=bin sh bench/pytest.sh [ROUNDS]       (default 3)
#   WAYS="xdist file" sh bench/pytest.sh 5       without the slow per-test runs
#
# Needs Debian's python3-pytest and python3-pytest-xdist; runs on the local
# provider (bubblewrap when it works, as `make demo-pytest`).
set -eu
ROUNDS=${1:-3}
WAYS=${WAYS:-xdist file test}
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

now() { date +%s%N; }
# secs START: seconds since START, two decimals, one line
secs() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f\n", (b - a) / 1e9 }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# one SUITE WAY: the wall time of one run, plan included for hypertest
one() {
  cd "$dir/$1"
  t=$(now)
  case $2 in
    xdist) PYTHONDONTWRITEBYTECODE=1 "$PY" -m pytest -q -p no:cacheprovider -n 2 >/dev/null 2>&1 || true ;;
    *) ht-plan -q --set runner.python="$PY" --set runner.granularity="$2" -o plan.jsonl &&
       { ht-invoke -q -j 2 --set dir="$dir/$1/.hypertest" plan.jsonl >results.jsonl || true; } ;;
  esac
  secs "$t"
}

for suite in example synthetic; do
  : >"$dir/$suite.xdist" ; : >"$dir/$suite.file"; : >"$dir/$suite.test"
  r=0
  while [ $r -lt "$ROUNDS" ]; do
    for way in $WAYS; do one $suite $way >>"$dir/$suite.$way"; done
    r=$((r + 1))
  done
  x=$(median <"$dir/$suite.xdist"); f=$(median <"$dir/$suite.file"); t=$(median <"$dir/$suite.test")
  : "${t:=0}" "${f:=0}"
  n=$(cd "$dir/$suite" && PYTHONDONTWRITEBYTECODE=1 "$PY" -m pytest --collect-only -q -p no:cacheprovider | sed '/^$/,$d' | wc -l)
  echo "$suite ($n tests, concurrency 2, median of $ROUNDS): pytest -n 2 ${x}s, hypertest file ${f}s, test ${t}s"
  echo "  rounds: xdist $(tr '\n' ' ' <"$dir/$suite.xdist")/ file $(tr '\n' ' ' <"$dir/$suite.file")/ test $(tr '\n' ' ' <"$dir/$suite.test")"
  awk -v x="$x" -v f="$f" -v t="$t" 'BEGIN { printf "  ratio to xdist: file %.2fx (target <= 1.2x), test %.2fx\n", f / x, t / x }'
done
