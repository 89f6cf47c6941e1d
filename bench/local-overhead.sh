#!/bin/sh
# bench/local-overhead.sh: hypertest's own cost on the local provider.
# 500 tests that do nothing (`true`), concurrency 2: the wall time and the
# CPU time (user + sys of everything started) of ht-plan + ht-invoke
# against `xargs -P2` running the same 500 commands, and the median time
# from dispatch to result of one no-op test. Both with bwrap sandboxes and
# without (local.sandbox = none). And what bwrap itself costs: `xargs -P2`
# running each command in a bwrap sandbox of its own (hypertest makes
# three per run: the probe and one per slot, reused).
# Needs jq and python3 (perf for the CPU time of bwrap's sandboxes). Targets: ratio <= 1.3x, median dispatch-to-result < 15 ms.
#   HT_BIN=bin [ROUNDS=5] [BENCH_DIR=/tmp] sh bench/local-overhead.sh [N]
# The project (and so the bucket, .hypertest/bucket) goes in BENCH_DIR
# (default: $TMPDIR, else /tmp); TMPDIR is left as it is for the tools.
set -eu
N=${1:-500}
: "${HT_BIN:=$(cd "$(dirname "$0")/.." && pwd)/bin}"
HT_BIN=$(cd "$HT_BIN" && pwd)
PATH=$HT_BIN:$PATH
dir=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/ht-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT
cd "$dir"
mkdir tests
i=0
while [ $i -lt "$N" ]; do : >tests/t$i.sh; i=$((i + 1)); done
cat >hypertest.json <<JSON
{"provider":"local","concurrency":2,
 "runner":{"name":"command","tests":["tests/*.sh"],"run":"true"}}
JSON

# timed NAME CMD...: runs CMD, appends its wall time (ms) to NAME.ms and
# the CPU time (ms) of everything it started to NAME.cpu: perf stat's
# task-clock (inherited: every process of the tree, whoever reaps it)
# when perf works, else getrusage(RUSAGE_CHILDREN) (user + sys), which
# misses a bwrap sandbox's processes: killed with bwrap at the end of a
# run, they are reaped by the sandbox's pid 1, which nobody waits for.
cat >timed.py <<'PY'
import os, resource, subprocess, sys, time
name, cmd = sys.argv[1], sys.argv[2:]
perf = os.environ.get("BENCH_PERF") == "1"
if perf:
    cmd = ["perf", "stat", "-x,", "-e", "task-clock", "-o", name + ".perf", "--"] + cmd
t0 = time.monotonic()
rc = subprocess.call(cmd)
t1 = time.monotonic()
if perf:
    ms = [float(l.split(",")[0]) for l in open(name + ".perf") if "task-clock" in l][0]
else:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    ms = (ru.ru_utime + ru.ru_stime) * 1000
with open(name + ".ms", "a") as f:
    f.write("%d\n" % round((t1 - t0) * 1000))
with open(name + ".cpu", "a") as f:
    f.write("%d\n" % round(ms))
sys.exit(rc)
PY
timed() { python3 timed.py "$@"; }
BENCH_PERF=0
if perf stat -x, -e task-clock -o /dev/null true 2>/dev/null; then BENCH_PERF=1; fi
export BENCH_PERF

# A shared machine is noisy: the three are measured in turn, ROUNDS times,
# and the medians compared, so that a burst of load hits all of them alike.
ROUNDS=${ROUNDS:-5}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
modes=none
if bwrap --ro-bind / / true 2>/dev/null; then modes="bwrap none"; else echo "bwrap: not available here, skipped"; fi
# Warm up caches: an empty plan is refused (65) once the tool and its config are loaded.
for mode in $modes; do ht-invoke -q --set local.sandbox=$mode /dev/null 2>/dev/null || [ $? -eq 65 ]; done
load0=$(cut -d" " -f1-3 /proc/loadavg)


r=0
while [ $r -lt "$ROUNDS" ]; do
  timed xargs sh -c 'ls tests/*.sh | xargs -P2 -n1 true'
  for mode in $modes; do
    timed $mode sh -c 'ht-plan -q >plan.jsonl && ht-invoke -q --set local.sandbox=$1 plan.jsonl >res.jsonl' sh $mode
    test "$(wc -l <res.jsonl)" -eq "$N"
    bad=$(jq -r 'select(.status != "passed") | .test_id' res.jsonl | wc -l)
    [ "$bad" -eq 0 ] || echo "sandbox $mode: $bad tests did not pass!"
    jq -s '[.[].invoke_ms] | sort | .[length / 2 | floor]' res.jsonl >>$mode.med
  done
  r=$((r + 1))
done

# What bwrap itself costs, after the rounds: the kernel tears down 500
# sandboxes' namespaces for a while after them, which would slow what
# runs next.
if [ "$modes" != none ]; then
  r=0
  while [ $r -lt "$ROUNDS" ]; do
    timed xbwrap sh -c 'ls tests/*.sh | xargs -P2 -n1 bwrap --ro-bind / / --tmpfs /tmp --proc /proc --dev /dev \
      --unshare-pid --die-with-parent --new-session true'
    r=$((r + 1))
  done
  sleep 2
fi

# What the file system of the bucket charges for what a no-op test keeps
# there (a directory and two files): N directories and 2N files made with
# one mkdir and one touch. An ext4 without a journal skips, for every new
# inode, those deleted in the last minute or so: where a shared machine
# deletes many (its /tmp), this costs more than the tests themselves.
# After the rounds: what it deletes must not slow them.
mkdir fsprobe
timed fs sh -c 'cd fsprobe && seq 1 "$1" | sed "s/^/d/" | xargs mkdir &&
  seq 1 "$1" | sed "s|.*|d&/stdout.txt d&/stderr.txt|" | xargs touch' sh "$N"
rm -rf fsprobe

base=$(median <xargs.ms)
cbase=$(median <xargs.cpu)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / (b > 0 ? b : 1) }'; }
printf 'CPU time from %s\n' "$([ $BENCH_PERF = 1 ] && echo 'perf stat (task-clock)' || echo 'getrusage (a bwrap sandbox is missed)')"
printf 'project in %s; load average at the start: %s, at the end: %s\n' "$(dirname "$dir")" "$load0" \
  "$(cut -d" " -f1-3 /proc/loadavg)"
printf 'the file system there: %d directories and %d files made in %d ms, %d ms of CPU\n' "$N" $((2 * N)) \
  "$(cat fs.ms)" "$(cat fs.cpu)"
printf 'xargs -P2, %d x true:          %6d ms, CPU %5d ms  (rounds: %s; CPU: %s)\n' "$N" "$base" "$cbase" \
  "$(tr '\n' ' ' <xargs.ms)" "$(tr '\n' ' ' <xargs.cpu)"
if [ -s xbwrap.ms ]; then
  xb=$(median <xbwrap.ms)
  printf 'xargs -P2, %d x bwrap ... true:  %6d ms, CPU %5d ms  %.1f ms per sandbox made (rounds: %s)\n' "$N" "$xb" \
    "$(median <xbwrap.cpu)" "$(awk -v a="$xb" -v b="$base" -v n="$N" 'BEGIN { print 2 * (a - b) / n }')" \
    "$(tr '\n' ' ' <xbwrap.ms)"
fi
for mode in $modes; do
  ht=$(median <$mode.ms)
  hc=$(median <$mode.cpu)
  med=$(median <$mode.med)
  printf 'hypertest (sandbox %-5s):       %6d ms, CPU %5d ms  ratio %sx, CPU %sx (target <= 1.3x)  median dispatch-to-result %s ms (target < 15)  (rounds: %s; CPU: %s)\n' \
    "$mode" "$ht" "$hc" "$(ratio "$ht" "$base")" "$(ratio "$hc" "$cbase")" "$med" "$(tr '\n' ' ' <$mode.ms)" \
    "$(tr '\n' ' ' <$mode.cpu)"
done
