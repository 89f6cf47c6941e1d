#!/bin/sh
# ht-report --html, looked at in headless Chromium as a person would: no
# console errors, no network, every test in the table, filters, sorting,
# one timeline bar per attempt, a test's hostile output kept as text.
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
hash_rows() { echo "new Promise(function (r) { location.hash = '$1'; setTimeout(function () { r(Array.prototype.map.call(document.querySelectorAll('div.row'), function (e) { return e.getAttribute('data-status'); }).join(' ')); }, 100); })"; }

test_expect_success 'a real run: the page loads with no error and no request but itself' '
  test_expect_code 1 make_run p &&
  (cd p && test_expect_code 1 ht-report -q --html .hypertest/report.html results.jsonl) &&
  python3 "$BROWSER" --screenshot "$SHOTS/t0552-report.png" \
    --eval "$ROWS" \
    --eval "document.querySelectorAll(\"#tl .bar\").length" \
    --eval "document.querySelectorAll(\"#tl .bar.retry\").length" \
    --eval "$(hash_rows status=failed)" \
    --eval "$(hash_rows status=timed_out)" \
    --eval "$(hash_rows q=pass-)" \
    --eval "$(hash_rows "")" \
    --eval "document.querySelector(\"#failures pre\").textContent" \
    --eval "document.querySelectorAll(\"pre b, #failures b.x\").length" \
    --eval "new Promise(function (r) { document.querySelector(\".thead [data-k=duration]\").click(); r(document.querySelector(\"div.row .name\").firstChild.textContent); })" \
    --eval "document.querySelector(\".arts a\").getAttribute(\"href\")" \
    --eval "document.documentElement.getAttribute(\"data-ht-errors\")" \
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
  test "$(jq ".eval[2]" page.json)" = "$(jq -s "map(.attempts[] | select(.attempt > 1)) | length" p/results.jsonl)" &&
  test "$(jq ".eval[2]" page.json)" -ge 3
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
    --eval "$ROWS" --eval "document.querySelectorAll(\"#tl .lane\").length" \
    --eval "document.querySelectorAll(\"#tl .bar\").length" --eval "document.title" \
    --eval "document.querySelectorAll(\"img\").length" \
    --eval "document.querySelector(\"#failures pre\").textContent.slice(-60)" \
    --eval "document.querySelector(\"#legend\").textContent" \
    "file://$TRASH/h.html" >h.json &&
  test_jq ".ready and .console == [] and .exceptions == [] and .log == [] and (.requests | length) == 1" h.json &&
  test_jq ".eval[0] == 2 and .eval[1] == 3 and .eval[2] == 3 and .eval[3] == \"hypertest run-x\" and .eval[4] == 0" h.json &&
  test_jq ".eval[5] | endswith(\"</script><img src=x onerror=alert(1)> END\")" h.json &&
  test_jq ".eval[6] | contains(\"one lane per concurrency slot\")" h.json &&
  test $(wc -c <h.html) -lt 60000
'

test_done
