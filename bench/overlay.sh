#!/bin/sh
# bench/overlay.sh: what local.writable_task costs, on examples/pytest's
# tree and on a 50 MB project (500 files of 100 KB): the wall time of
# ht-invoke for one test (`true`, so a fresh provider and one sandbox),
# then of 20 tests in one warm sandbox (concurrency 1), once with tests
# that change nothing and once with tests that each write a file, for the
# read-only default, the overlay (local.writable_via "overlay") and the
# copy (local.writable_via "copy"). Medians of ROUNDS rounds, interleaved.
#
#   HT_BIN=bin [ROUNDS=5] sh bench/overlay.sh
#
# Needs bwrap that works here; the overlay rows need overlayfs in a mount
# namespace (as root, or in a user namespace on Linux 5.11+).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${HT_BIN:=$here/../bin}"
HT_BIN=$(cd "$HT_BIN" && pwd)
PATH=$HT_BIN:$PATH
ROUNDS=${ROUNDS:-5}
bwrap --ro-bind / / --unshare-pid true 2>/dev/null || { echo "overlay.sh: bwrap does not work here" >&2; exit 69; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/ht-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT

cp -R "$here/../examples/pytest" "$dir/example" && rm -rf "$dir/example/.hypertest"
mkdir -p "$dir/big/data"
i=0
while [ $i -lt 500 ]; do
  head -c 102400 /dev/urandom >"$dir/big/data/f$i.bin"
  i=$((i + 1))
done

now() { date +%s%N; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ways="ro copy"
if ht-invoke -q --set local.writable_task=true --set local.writable_via=overlay /dev/null 2>/dev/null; then
  ways="ro overlay copy"
else
  echo "overlayfs does not work here: no overlay rows"
fi

# run PROJECT WAY KIND N: ms of ht-plan + ht-invoke of N tests of KIND
# (clean: `true`; dirty: each writes into the project) at concurrency 1.
run() {
  case $2 in
    ro) set_way= ;;
    *) set_way="--set local.writable_task=true --set local.writable_via=$2" ;;
  esac
  case $3 in
    clean) cmd=true ;;
    dirty) cmd='sh -c "echo x >written-$HT_TEST_ID"' ;;
  esac
  (
    cd "$dir/$1"
    printf '{"runner": {"list": "seq %d", "run": "%s"}, "concurrency": 1, "timeout_s": 60}\n' "$4" \
      "$(echo "$cmd" | sed 's/"/\\"/g')" >hypertest.json
    t0=$(now)
    ht-plan -q >plan.jsonl
    # shellcheck disable=SC2086
    ht-invoke -q $set_way plan.jsonl >res.jsonl || true
    t1=$(now)
    if [ "$2" != ro ] || [ "$3" = clean ]; then
      bad=$(jq -r 'select(.status != "passed") | .test_id' res.jsonl | wc -l)
      [ "$bad" -eq 0 ] || echo "$1 $2 $3: $bad tests did not pass!" >&2
    fi
    echo $(( (t1 - t0) / 1000000 ))
  )
}

r=0
while [ $r -lt "$ROUNDS" ]; do
  for p in example big; do
    for w in $ways; do
      run $p $w clean 1 >>"$dir/$p.$w.one"
      run $p $w clean 20 >>"$dir/$p.$w.clean"
      [ $w = ro ] || run $p $w dirty 20 >>"$dir/$p.$w.dirty"
    done
  done
  r=$((r + 1))
done

printf 'load average at the end: %s; %s rounds, medians in ms\n' "$(cut -d" " -f1-3 /proc/loadavg)" "$ROUNDS"
printf '%-8s %-8s %10s %14s %16s %16s\n' project way "1 test" "20 clean" "per warm test" "20 writing"
for p in example big; do
  base1=$(median <"$dir/$p.ro.one")
  basec=$(median <"$dir/$p.ro.clean")
  for w in $ways; do
    one=$(median <"$dir/$p.$w.one")
    clean=$(median <"$dir/$p.$w.clean")
    dirty=-
    [ $w = ro ] || dirty=$(median <"$dir/$p.$w.dirty")
    printf '%-8s %-8s %6d (%+d) %8d (%+d) %12s %16s\n' "$p" "$w" "$one" $((one - base1)) "$clean" $((clean - basec)) \
      "$(awk -v c="$clean" -v b="$basec" 'BEGIN { printf "%+.1f", (c - b) / 19 }')" "$dirty"
  done
done
echo "(+N: more than the read-only default; 'per warm test': the extra per test after the first in a warm sandbox)"
