#!/bin/sh
# libht's HTTP client against a scripted local server: retries, Retry-After,
# caps, refused connections, timeouts, connection reuse, the multi interface.
. "$HT_SRC/tests/lib.sh"
test_need python3

have ht-aws-probe || test_skip_all 'ht-aws-probe is not built'

# One scripted server for the file; each test has its own path, which
# holds its script: /NAME/STEP,STEP,... (see tests/helpers/ht-script-server.py).
PORT=$(free_port)
python3 "$HT_SRC/tests/helpers/ht-script-server.py" "$PORT" "$TRASH/req.log" 2>"$TRASH/server.err" &
test_cleanup_server $!
wait_for_port "$PORT" || test_skip_all 'the scripted server does not start'
# serve STEP...: a fresh path with this script, in URL.
serve() {
  n=$(($(cat "$TRASH/.serial" 2>/dev/null || echo 0) + 1)) && echo "$n" >"$TRASH/.serial" &&
  URL=http://127.0.0.1:$PORT/t$n/$(echo "$*" | tr " " ",")
  P=/t$n/
}
requests() { grep -c " $P" "$TRASH/req.log"; }
# gap N: milliseconds between request N and N+1 of this test.
gap() { grep " $P" "$TRASH/req.log" | awk -v n="$1" 'NR == n { a = $1 } NR == n + 1 { print int($1 - a) }'; }
get() { ht-aws-probe --base-ms 50 --cap-ms 200 "$@"; }

test_expect_success '503 then 200 is retried and succeeds' '
  serve 503 503 200 &&
  get --attempts 4 http-get "$URL" >out &&
  test_grep "^200 attempts=3 " out &&
  test "$(requests)" = 3
'

test_expect_success 'Retry-After in seconds is honoured' '
  serve 503:ra=1 200 &&
  get --attempts 3 http-get "$URL" >out &&
  test_grep "^200 attempts=2 " out &&
  g=$(gap 1) && echo "waited $g ms" && test "$g" -ge 950 && test "$g" -lt 3000
'

test_expect_success 'Retry-After as an HTTP-date is honoured' '
  serve 503:date=2 200 &&
  get --attempts 3 http-get "$URL" >out &&
  test_grep "^200 attempts=2 " out &&
  g=$(gap 1) && echo "waited $g ms" && test "$g" -ge 900 && test "$g" -lt 3500
'

test_expect_success '400 is not retried' '
  serve 400 200 &&
  test_must_fail 1 get --attempts 5 http-get "$URL" >out &&
  test_grep "^400 attempts=1 " out &&
  test "$(requests)" = 1
'

test_expect_success 'the attempts cap: 503 forever gives up after 3 tries' '
  serve 503 &&
  test_must_fail 1 get --attempts 3 http-get "$URL" >out &&
  test_grep "^503 attempts=3 " out &&
  test "$(requests)" = 3
'

test_expect_success 'the total-time cap stops retries a Retry-After would delay too long' '
  serve 503:ra=5 &&
  test_must_fail 1 get --attempts 10 --total-ms 2000 http-get "$URL" >out &&
  test_grep "^503 attempts=1 " out &&
  ms=$(sed -n "s/.* ms=\([0-9]*\).*/\1/p" out) && test "$ms" -lt 1500
'

test_expect_success 'the total-time cap bounds backoff retries' '
  serve 503 &&
  test_must_fail 1 ht-aws-probe --base-ms 300 --cap-ms 300 --attempts 100 --total-ms 1500 http-get "$URL" >out &&
  n=$(requests) && echo "$n requests" && test "$n" -ge 2 && test "$n" -lt 100 &&
  ms=$(sed -n "s/.* ms=\([0-9]*\).*/\1/p" out) && test "$ms" -le 1800
'

test_expect_success 'connection refused is retried, then fails with a clear error' '
  port=$(free_port) &&
  test_must_fail 69 get --attempts 3 http-get "http://127.0.0.1:$port/" >out 2>err &&
  test_grep "^error attempts=3 " out &&
  test_grep "error: GET http://127.0.0.1:$port/: .*127.0.0.1 port $port.* (after 3 attempts)" err
'

test_expect_success 'a dropped connection is retried' '
  serve close 200 &&
  get --attempts 3 http-get "$URL" >out &&
  test_grep "^200 attempts=2 " out
'

test_expect_success 'a timeout ends the attempt and is reported' '
  serve sleep=3 &&
  test_must_fail 69 get --attempts 2 --timeout-ms 400 http-get "$URL" >out 2>err &&
  test_grep "^error attempts=2 " out &&
  test_grep "[Tt]imed out" err &&
  ms=$(sed -n "s/.* ms=\([0-9]*\).*/\1/p" out) && test "$ms" -lt 2500
'

test_expect_success 'sequential requests reuse one connection' '
  serve 200 &&
  get http-get "$URL" 5 >out &&
  test "$(grep -c "^200 " out)" = 5 &&
  test "$(sed -n "s/.*connections=//p" out | awk "{ s += \$1 } END { print s }")" = 1 &&
  test "$(grep " $P" "$TRASH/req.log" | cut -d" " -f2 | sort -u | wc -l)" = 1
'

test_expect_success 'the multi interface: 200 requests over at most 4 connections' '
  serve 200 &&
  ht-aws-probe http-multi "$URL" 200 4 >out &&
  test_grep "^done=200 ok=200 failed=0 " out &&
  c=$(sed -n "s/.*connections=//p" out) && test "$c" -ge 1 && test "$c" -le 4 &&
  test "$(requests)" = 200
'

test_expect_success 'the multi interface retries too' '
  serve 503 503 200 &&
  get --attempts 4 http-multi "$URL" 1 1 >out &&
  test_grep "^done=1 ok=1 failed=0" out &&
  test "$(requests)" = 3
'

test_expect_success 'the multi interface waits the backoff, not longer' '
  serve 503 503 200 &&
  get --attempts 4 http-multi "$URL" 1 1 >out &&
  test_grep "^done=1 ok=1 failed=0" out &&
  g1=$(gap 1) && g2=$(gap 2) && echo "waited $g1 and $g2 ms (backoff at most 50 and 100)" &&
  test "$g1" -lt 500 && test "$g2" -lt 500
'

test_expect_success 'the multi interface reports failures per request' '
  port=$(free_port) &&
  test_must_fail 1 get --attempts 2 http-multi "http://127.0.0.1:$port/" 5 2 >out &&
  test_grep "^done=5 ok=0 failed=5" out
'

test_done
