#!/bin/sh
# bench/report.sh: ht-report at 10,000 tests. Makes N result records (5%
# failed with 4 KiB of output, 3% flaky with a retry, attempts spread over
# 200 slots), then prints how long ht-report takes to write the summary,
# the JUnit XML, the trace and the HTML, how large each file is, and, in
# headless Chromium, how long the page takes from navigation to drawn
# (its script's own time, data-ht-render-ms), to filter by status, to
# sort by duration and to make every row, each until the next frame is
# drawn. The same again without slots (one lane per test).
# Target: the page drawn in well under a second (under 500 ms here).
#   HT_BIN=bin [HT_OLD_BIN=dir] [HT_BENCH_ROUNDS=3] sh bench/report.sh [N]
set -eu
N=${1:-10000}
src=$(cd "$(dirname "$0")/.." && pwd)
: "${HT_BIN:=$src/bin}"
HT_BIN=$(cd "$HT_BIN" && pwd)
PATH=$HT_BIN:$PATH
dir=$(mktemp -d "${TMPDIR:-/tmp}/ht-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT
cd "$dir"

python3 - "$N" <<'PY'
import json, random, sys
n = int(sys.argv[1]); random.seed(7)
t0 = 1764000000000
slots = [t0] * 200
for f, name in ((open("slots.jsonl", "w"), "slots"), (open("lanes.jsonl", "w"), "lanes")):
    random.seed(7); slots = [t0] * 200
    for i in range(n):
        r = random.random()
        status = "failed" if r < 0.05 else "flaky" if r < 0.08 else "skipped" if r < 0.10 else "passed"
        atts = []
        for k in range(2 if status in ("flaky",) or (status == "failed" and i % 2) else 1):
            s = min(range(200), key=lambda j: slots[j])
            d = int(random.expovariate(1 / 800)) + 5
            start = slots[s] + 20
            st = "failed" if (status == "failed" or (status == "flaky" and k == 0)) else status
            if st == "flaky": st = "passed"
            a = {"attempt": k + 1, "status": st, "duration_ms": d, "message": "exit code %d" % (st == "failed")}
            if name == "slots":
                a.update(dispatch_ms=slots[s], start_ms=start, end_ms=start + d, slot=s, worker="env-%d" % s,
                         request_id="req-%d-%d" % (i, k), cold=k == 0 and i < 200)
            slots[s] = start + d
            atts.append(a)
        last = atts[-1]
        from datetime import datetime, timezone
        started = datetime.fromtimestamp((last.get("start_ms") or (t0 + i * 40)) / 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        rec = {"schema": "ht.result/1", "run_id": "bench", "test_id": "t-%05d" % i, "name": "tests/suite%03d/test_%05d.py" % (i % 300, i),
               "file": "tests/suite%03d/test_%05d.py" % (i % 300, i), "status": status, "ok": status != "failed",
               "duration_ms": last["duration_ms"], "message": last["message"], "started_at": started,
               "artifacts": ["bench/t-%05d/stdout.txt" % i, "bench/t-%05d/stderr.txt" % i],
               "output_tail": ("line of output %d\n" % i) * (200 if status == "failed" else 2),
               "attempt": len(atts), "attempts": atts}
        f.write(json.dumps(rec) + "\n")
    f.close()
PY

now() { date +%s%N; }
ms() { echo $(( ($2 - $1) / 1000000 )); }
size() { echo "$(( $(wc -c <"$1") / 1024 )) KiB"; }
browser=$src/tests/helpers/ht-report-browser.py
# frame EXPR: a promise of the milliseconds from EXPR to the next frame
# drawn after it (a task after its animation frame), EXPR's value beside.
frame() { echo "new Promise(function (r) { var t = performance.now(), v = ($1); requestAnimationFrame(function () { setTimeout(function () { r([performance.now() - t, v]); }, 0); }); })"; }
# The page in headless Chromium: navigation to drawn (the first frame
# after the script), the script's own time, filter by status, sort,
# "show all" rows, the timeline's bars (a canvas says how many it drew).
page() {
  python3 "$browser" \
    --eval "new Promise(function (r) { requestAnimationFrame(function () { setTimeout(function () { r(performance.now()); }, 0); }); })" \
    --eval "+document.documentElement.getAttribute('data-ht-render-ms')" \
    --eval "$(frame "location.hash = 'status=failed'")" \
    --eval "window.htReport ? htReport.view().length : document.querySelectorAll('div.row').length" \
    --eval "new Promise(function (r) { location.hash = ''; setTimeout(r, 50); })" \
    --eval "$(frame "document.querySelector('.thead [data-k=duration]').click()")" \
    --eval "$(frame "document.querySelector('#rows-more [data-n=all]') ? document.querySelector('#rows-more [data-n=all]').click() || 1 : 0")" \
    --eval "document.querySelectorAll('div.row').length" \
    --eval "+(document.getElementById('tl').getAttribute('data-bars') || document.querySelectorAll('#tl .bar').length)" \
    "file://$dir/$1" >page.json
  python3 - page.json "$2" <<'PY'
import json, sys
p = json.load(open(sys.argv[1])); e = p["eval"]; m = p.get("metrics", {})
if not p["ready"] or p["exceptions"]:
    print("%s: not ready (%s)" % (sys.argv[2], p["exceptions"])); sys.exit(0)
# "all rows": the time to make every row on "all N left"; a page with
# no such control made them all at load (n/a).
allrows = "%4.0f ms" % e[6][0] if e[6][1] else "n/a"
print("%-4s drawn %5.0f ms (script %4d; tasks %s: script %s, layout %s, style %s) | filter %4.0f ms (%d rows) | sort %4.0f ms"
      " | all rows %s (%d) | bars %d" % (sys.argv[2], e[0], e[1], m.get("TaskDuration"), m.get("ScriptDuration"),
      m.get("LayoutDuration"), m.get("RecalcStyleDuration"), e[2][0], e[3], e[5][0], allrows, e[7], e[8]))
PY
}

# Wall times on a shared machine grow with its load: it is printed.
# HT_OLD_BIN, a directory with an older ht-report, adds its page to each
# round, interleaved with this one's, to compare on the same load.
rounds=${HT_BENCH_ROUNDS:-3}
echo "load average: $(cut -d " " -f 1-3 /proc/loadavg) on $(nproc) CPUs"
for kind in slots lanes; do
  echo "== $N tests, timeline by $kind"
  a=$(now); ht-report -q $kind.jsonl || :; b=$(now)
  cpu=$( { /usr/bin/time -f "%U %S" ht-report -q $kind.jsonl; } 2>&1 | tail -n 1 | awk '{ printf "%d", ($1 + $2) * 1000 }') || cpu=?
  echo "ht-report, summary only:        $(ms "$a" "$b") ms (CPU $cpu ms)"
  a=$(now); ht-report --junit $kind.xml --html $kind.html --trace $kind.json $kind.jsonl >/dev/null || :; b=$(now)
  echo "ht-report, all four:            $(ms "$a" "$b") ms"
  echo "sizes: html $(size $kind.html), junit $(size $kind.xml), trace $(size $kind.json), input $(size $kind.jsonl)"
  [ -z "${HT_OLD_BIN:-}" ] || "$HT_OLD_BIN/ht-report" -q --html old-$kind.html $kind.jsonl || :
  if command -v chromium >/dev/null 2>&1; then
    i=0
    while [ $i -lt "$rounds" ]; do
      [ -z "${HT_OLD_BIN:-}" ] || page old-$kind.html old
      page $kind.html new
      i=$((i + 1))
    done
  else
    echo "chromium: not installed (Debian chromium), page not timed"
  fi
done
