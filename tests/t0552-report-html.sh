#!/bin/sh
# ht-report --html, looked at in headless Chromium as a person would: no
# console errors, no network, every test in the table, filters, sorting,
# one timeline bar per attempt (drawn on a canvas; window.htReport says
# what it drew), its tooltip and click, a test's hostile output kept as
# text, and a run of 2,500 tests whose table is made a page at a time.
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/ht-report-lib.sh"

have jq || test_skip_all 'jq is needed'
have chromium || test_skip_all 'chromium is needed (Debian chromium; scripts/install-deps)'
have python3 || test_skip_all 'python3 is needed'
BROWSER=$HT_SRC/tests/helpers/ht-report-browser.py
# Where the screenshots are kept: beside the test's TAP (tests/run-tests
# sets $results), else in the scratch directory.
SHOTS=$TRASH
[ -z "${results:-}" ] || { SHOTS=$(cd "$HT_SRC" && mkdir -p "$results" && cd "$results" && pwd); }


# js: expressions the tests evaluate (each a value, or a promise of one).
ROWS="document.querySelectorAll('div.row').length"
BARS="+document.getElementById(\"tl\").getAttribute(\"data-bars\")"
# hover_tip K: what the tooltip says with the pointer on bar K, which a
# click then opens in the table (the row's detail, its test's index).
hover_tip() { echo "new Promise(function (r) { var b = htReport.timeline[$1], p = htReport.point($1), cv = document.querySelector(\"#tl canvas\");
  cv.dispatchEvent(new MouseEvent(\"mousemove\", { clientX: p.x, clientY: p.y, bubbles: true })); var tip = htReport.tip();
  cv.dispatchEvent(new MouseEvent(\"click\", { clientX: p.x, clientY: p.y, bubbles: true }));
  cv.dispatchEvent(new MouseEvent(\"mouseleave\", {})); var d = document.querySelector(\"div.row[data-i=\\\"\" + b.i + \"\\\"] + .detail\");
  r([tip, b.i, d ? d.textContent : null, htReport.tip()]); })"; }
hash_rows() { echo "new Promise(function (r) { location.hash = '$1'; setTimeout(function () { r(Array.prototype.map.call(document.querySelectorAll('div.row'), function (e) { return e.getAttribute('data-status'); }).join(' ')); }, 100); })"; }

test_expect_success 'a real run: the page loads with no error and no request but itself' '
  test_expect_code 1 make_run p &&
  (cd p && test_expect_code 1 ht-report -q --html .hypertest/report.html results.jsonl) &&
  python3 "$BROWSER" --screenshot "$SHOTS/t0552-report.png" \
    --eval "$ROWS" \
    --eval "$BARS" \
    --eval "htReport.timeline.filter(function (b) { return b.retry; }).length" \
    --eval "$(hash_rows status=failed)" \
    --eval "$(hash_rows status=timed_out)" \
    --eval "$(hash_rows q=pass-)" \
    --eval "$(hash_rows "")" \
    --eval "document.querySelector(\"#failures pre\").textContent" \
    --eval "document.querySelectorAll(\"pre b, #failures b.x\").length" \
    --eval "new Promise(function (r) { document.querySelector(\".thead [data-k=duration]\").click(); r(document.querySelector(\"div.row .name\").firstChild.textContent); })" \
    --eval "document.querySelector(\".arts a\").getAttribute(\"href\")" \
    --eval "document.documentElement.getAttribute(\"data-ht-errors\")" \
    --eval "htReport.timeline.length" \
    --eval "htReport.timeline.map(function (b) { return b.retry ? 1 : 0; }).indexOf(1)" \
    "file://$TRASH/p/.hypertest/report.html" >page.json &&
  test_jq ".ready and .console == [] and .exceptions == [] and .log == []" page.json &&
  test_jq ".requests == [\"file://$TRASH/p/.hypertest/report.html\"]" page.json &&
  test "$(head -c 4 "$SHOTS/t0552-report.png" | od -An -c | tr -d " ")" = "211PNG"
'

test_expect_success 'every test is in the table' '
  test "$(jq ".eval[0]" page.json)" = "$(wc -l <p/results.jsonl | tr -d " ")"
'

test_expect_success 'the timeline has one bar per attempt, retries marked' '
  test "$(jq ".eval[1]" page.json)" = "$(jq -s "map(.attempts | length) | add" p/results.jsonl)" &&
  test "$(jq ".eval[12]" page.json)" = "$(jq ".eval[1]" page.json)" &&
  test "$(jq ".eval[2]" page.json)" = "$(jq -s "map(.attempts[] | select(.attempt > 1)) | length" p/results.jsonl)" &&
  test "$(jq ".eval[2]" page.json)" -ge 3 &&
  test "$(jq ".eval[13]" page.json)" -ge 0
'

test_expect_success 'filtering by status and by text (the #status= and #q= of the address)' '
  test "$(jq -r ".eval[3]" page.json)" = failed &&
  test "$(jq -r ".eval[4]" page.json)" = timed_out &&
  test "$(jq -r ".eval[5]" page.json)" = "passed passed" &&
  test "$(jq -r ".eval[6]" page.json | wc -w)" = 6
'

test_expect_success '</script> and bytes that are not UTF-8 in the output stay text' '
  jq -r ".eval[7]" page.json >tail &&
  test_grep "^</script><b>x</b> ?? end$" tail &&
  test "$(jq ".eval[8]" page.json)" = 0 &&
  test "$(jq ".eval[11]" page.json)" = null
'

test_expect_success 'sorting by duration puts the slowest first; artifact links are relative' '
  test "$(jq -r ".eval[9]" page.json)" = tests/slow.sh &&
  href=$(jq -r ".eval[10]" page.json) &&
  case $href in bucket/*/stdout.txt) ;; *) echo "bad href $href"; false ;; esac &&
  test -f "p/.hypertest/$href"
'

test_expect_success 'the page fetches nothing: no http(s) URL outside its data, the data ends once' '
  f=p/.hypertest/report.html &&
  grep -v "^<script id=\"ht-data\"" $f >page-only &&
  test_must_fail grep -n "https\?://" page-only &&
  test_grep "Content-Security-Policy\" content=\"default-src .none.;" $f &&
  test $(grep "^<script id=\"ht-data\"" $f | grep -o "</" | wc -l) = 1
'

test_expect_success 'hostile records: </script>, <!--, U+2028, a huge output; slots as lanes' '
  big=$(head -c 50000 /dev/zero | tr "\0" "z") &&
  result evil failed "{\"name\":\"</script><script>document.title=1</script>\",
    \"message\":\"<!-- <script> \u2028 \u2029 & </style>\",\"output_tail\":\"$big </script><img src=x onerror=alert(1)> END\",
    \"attempts\":[{\"attempt\":1,\"status\":\"failed\",\"duration_ms\":900,\"start_ms\":1000,\"end_ms\":1900,\"dispatch_ms\":950,\"slot\":0,\"worker\":\"w1\",\"cold\":true,\"retry_reason\":\"failed\"},
                {\"attempt\":2,\"status\":\"failed\",\"duration_ms\":800,\"start_ms\":2000,\"end_ms\":2800,\"dispatch_ms\":1950,\"slot\":2,\"worker\":\"w2\",\"cold\":false}]}" >h.jsonl &&
  result calm passed "{\"attempts\":[{\"attempt\":1,\"status\":\"passed\",\"duration_ms\":1500,\"start_ms\":1100,\"end_ms\":2600,\"slot\":1}]}" >>h.jsonl &&
  test_expect_code 1 ht-report -q --html h.html h.jsonl &&
  python3 "$BROWSER" --screenshot "$SHOTS/t0552-report-hostile.png" \
    --eval "$ROWS" --eval "+document.getElementById(\"tl\").getAttribute(\"data-lanes\")" \
    --eval "$BARS" --eval "document.title" \
    --eval "document.querySelectorAll(\"img\").length" \
    --eval "document.querySelector(\"#failures pre\").textContent.slice(-60)" \
    --eval "document.querySelector(\"#legend\").textContent" \
    --eval "$(hover_tip 0)" \
    "file://$TRASH/h.html" >h.json &&
  test_jq ".ready and .console == [] and .exceptions == [] and .log == [] and (.requests | length) == 1" h.json &&
  test_jq ".eval[0] == 2 and .eval[1] == 3 and .eval[2] == 3 and .eval[3] == \"hypertest run-x\" and .eval[4] == 0" h.json &&
  test_jq ".eval[5] | endswith(\"</script><img src=x onerror=alert(1)> END\")" h.json &&
  test_jq ".eval[6] | contains(\"one lane per concurrency slot\")" h.json &&
  jq -r ".eval[7][0]" h.json >tip &&
  test_grep "^</script><script>document.title=1</script>$" tip &&
  test_grep "^attempt 1: failed, 900ms, cold start$" tip &&
  test_grep "^dispatched at 0ms, ran 50ms to 950ms$" tip &&
  test_grep "^slot 0, worker w1$" tip &&
  test_grep "^retried: failed$" tip &&
  test_jq ".eval[7][1] == 0 and (.eval[7][2] | contains(\"attempt 2: failed\")) and .eval[7][3] == \"\"" h.json &&
  test $(wc -c <h.html) -lt 60000
'

# many N FAILED [OUT]: N records (FAILED of them failed, the others
# passed, a tenth of those on a retry) on 20 slots, each with artifacts
# and OUT bytes of output (default a line).
many() {
  python3 - "$1" "$2" "${3:-0}" <<-\EOT
	import json, sys
	n, bad, big = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]); slots = [1000] * 20
	for i in range(n):
	    st = "failed" if i % (n // bad) == 0 and i // (n // bad) < bad else "passed"
	    atts = []
	    for k in range(2 if st == "passed" and i % 10 == 3 else 1):
	        s = min(range(20), key=lambda j: slots[j]); d = 50 + (i * 37 + k * 11) % 900
	        a_st = "failed" if st == "failed" or k == 0 and i % 10 == 3 else "passed"
	        atts.append({"attempt": k + 1, "status": a_st, "duration_ms": d, "start_ms": slots[s] + 5, "end_ms": slots[s] + 5 + d,
	                     "dispatch_ms": slots[s], "slot": s, "worker": "w%d" % s, "message": "exit code %d" % (a_st == "failed")})
	        slots[s] += 5 + d
	    last = atts[-1]
	    print(json.dumps({"schema": "ht.result/1", "run_id": "run-many", "test_id": "t%05d" % i, "name": "tests/t%05d.sh" % i,
	                      "file": "tests/t%05d.sh" % i, "status": "flaky" if len(atts) > 1 else st, "ok": st != "failed",
	                      "duration_ms": last["duration_ms"], "message": last["message"], "attempt": len(atts), "attempts": atts,
	                      "artifacts": ["run-many/t%05d/stdout.txt" % i], "output_tail": "z" * big + "out %d\n" % i}))
	EOT
}

test_expect_success '2,500 tests: ready, a page of rows at once, the rest on demand; filter, sort, reveal on the data' '
  many 2500 150 >m.jsonl &&
  test_expect_code 1 ht-report -q --html m.html m.jsonl &&
  last=$(jq -s "[.[].attempts | length] | add - 1" m.jsonl) &&
  python3 "$BROWSER" --scale 2 \
    --eval "$ROWS" --eval "htReport.view().length" --eval "$BARS" \
    --eval "$(hash_rows status=failed)" --eval "htReport.view().length" \
    --eval "new Promise(function (r) { location.hash = \"\"; setTimeout(function () {
      document.querySelector(\"#rows-more [data-n=all]\").click(); r(document.querySelectorAll(\"div.row\").length); }, 50); })" \
    --eval "new Promise(function (r) { document.querySelector(\".thead [data-k=duration]\").click();
      r([document.querySelector(\"div.row .name\").firstChild.textContent, document.querySelectorAll(\"div.row\").length]); })" \
    --eval "$(hover_tip $last)" \
    --eval "(function (c) { return [c.width, c.clientWidth, c.height, c.clientHeight]; })(document.querySelector(\"#tl canvas\"))" \
    --eval "+document.documentElement.getAttribute(\"data-ht-drawn-ms\")" \
    "file://$TRASH/m.html" >m.json &&
  test_jq ".ready and .console == [] and .exceptions == [] and .log == [] and (.requests | length) == 1" m.json &&
  test_jq ".eval[0] == 200 and .eval[1] == 2500 and .eval[2] == $last + 1" m.json &&
  test "$(jq -r ".eval[3]" m.json | tr " " "\n" | sort | uniq -c | tr -s " ")" = " 150 failed" &&
  test_jq ".eval[4] == 150 and .eval[5] == 2500 and .eval[6][1] == 200" m.json &&
  slowest=$(jq -rs "max_by(.duration_ms) | .name" m.jsonl) &&
  test "$(jq -r ".eval[6][0]" m.json)" = "$slowest" &&
  test_jq ".eval[7][0] | startswith(\"tests/t02499.sh\\nattempt 1: passed\")" m.json &&
  test_jq ".eval[7][1] == 2499 and (.eval[7][2] | contains(\"t02499/stdout.txt\"))" m.json &&
  test_jq ".eval[8][0] == 2 * .eval[8][1] and .eval[8][2] == 2 * .eval[8][3] and .eval[8][3] > 100" m.json &&
  test_jq ".eval[9] > 0" m.json
'

test_expect_success 'many failed: their outputs share 1 MiB, each its end (at least 1 KiB), linked' '
  many 400 400 9000 >f.jsonl &&
  test_expect_code 1 ht-report -q --html f.html f.jsonl &&
  test $(wc -c <f.html) -lt $((1024 * 1024 + 200 * 1024)) &&
  python3 "$BROWSER" --eval "document.querySelector(\"#failures pre\").textContent" \
    --eval "document.querySelector(\"#failures .arts a\").getAttribute(\"href\")" "file://$TRASH/f.html" >f.json &&
  test_jq ".ready and .exceptions == []" f.json &&
  test_jq ".eval[0] | startswith(\"[...]zzz\") and endswith(\"zzzout 0\\n\") and length > 2000 and length < 3000" f.json &&
  test_jq ".eval[1] == \"run-many/t00000/stdout.txt\"" f.json &&
  many 3 3 9000 >g.jsonl &&
  test_expect_code 1 ht-report -q --html g.html g.jsonl &&
  test $(wc -c <g.html) -gt $((3 * 8 * 1024))
'

test_done
