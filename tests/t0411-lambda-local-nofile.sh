#!/bin/sh
# ht-lambda-local with 1200 invocations in flight at once: each holds a
# connection, so it raises its soft limit on descriptors (started here
# with a soft limit of 256) and answers every one.
. "$HT_SRC/tests/lib.sh"

have curl || test_skip_all 'curl is needed'
hard=$(ulimit -Hn)
[ "$hard" = unlimited ] || [ "$hard" -ge 2000 ] || test_skip_all "the hard limit on open files ($hard) is too low"

echo '{}' >hypertest.json
port=$(free_port)
(ulimit -Sn 256 && exec ht-lambda-local --stand-in --delay-ms 4000 -p "$port") >endpoint 2>lambda.err &
test_cleanup_server $!
echo $! >pid
wait_for_port "$port" || { echo "Bail out! ht-lambda-local does not start"; exit 1; }

test_expect_success '1200 invocations in flight: every one is answered' '
  for i in $(seq 300); do
    printf "url = \"http://127.0.0.1:%s/2015-03-31/functions/f/invocations\"\noutput = \"/dev/null\"\n" "$port"
  done >curl.cfg &&
  for k in 1 2 3 4; do
    curl -s -m 60 --parallel --parallel-max 300 -d "{\"schema\":\"ht.test/1\",\"test_id\":\"t\"}" \
      -K curl.cfg -w "%{http_code}\n" >codes.$k 2>/dev/null &
  done; wait &&
  cat codes.* | sort | uniq -c >counts && cat counts &&
  test "$(cat codes.* | grep -c "^200$")" = 1200 &&
  grep -q "^Max open files  *[0-9]*" /proc/$(cat pid)/limits &&
  test "$(sed -n "s/^Max open files  *\([0-9]*\) .*/\1/p" /proc/$(cat pid)/limits)" -gt 256
'

test_done
