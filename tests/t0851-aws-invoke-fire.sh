#!/bin/sh
# Invoke under fire: 10,000 invocations on the aws provider against
# ht-fire-standin (tests/helpers/ht-fire-standin.c), which answers 30% of
# the Invoke requests 429, 5% 5xx, drops 2% of the connections unanswered
# and holds 1% past the client's timeout, each request's fate drawn from
# the seed, its test and attempt and how many times the stand-in saw
# those: every test ends with exactly one final record, none passed
# twice, the retries within their bounds, the counts what the rates give.
#
# Kept fast: the function's Timeout is 1 s and the margin 0, so a stalled
# call gives up after 1 s; concurrency 96 with aws.min_concurrency 48, so
# that the window halves once and then the stalls overlap (with the
# default floor of 1, a steady 30% of throttles keeps the window at 1 and
# each stall stops the run for its second: bench/invoke-fire.sh).
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/ht-awsprov-lib.sh"

mkdir proj && cd proj || exit 1
echo '{"provider":"aws","aws":{"function":"fn","region":"us-east-1","min_concurrency":48},"timeout_s":1}' >hypertest.json
export AWS_ACCESS_KEY_ID=AKIAEXAMPLE AWS_SECRET_ACCESS_KEY=example-secret HT_AWS_INVOKE_MARGIN_MS=0

# start_fire ARGS...: the stand-in on a free port, its requests logged to
# $TRASH/fire.log, its counts to $TRASH/fire.err; stopped at the end.
start_fire() {
  rm -f "$TRASH/fire.port"
  ht-fire-standin --function fn --port-file "$TRASH/fire.port" --log "$TRASH/fire.log" "$@" 2>"$TRASH/fire.err" &
  FIRE_PID=$!
  test_cleanup_server $FIRE_PID
  _i=0
  while [ ! -s "$TRASH/fire.port" ]; do
    kill -0 $FIRE_PID 2>/dev/null && [ $_i -lt 200 ] || { cat "$TRASH/fire.err" >&2; return 1; }
    sleep 0.05; _i=$((_i + 1))
  done
  export AWS_ENDPOINT_URL=http://127.0.0.1:$(cat "$TRASH/fire.port")
}
stop_fire() {
  kill $FIRE_PID && wait $FIRE_PID &&
  if grep -q "Sanitizer\|runtime error" "$TRASH/fire.err"; then cat "$TRASH/fire.err" >&2; return 1; fi
}
# fates FATE: how many requests the stand-in gave that fate.
fates() { awk -v f="$1" '$4 == f { n++ } END { print n + 0 }' "$TRASH/fire.log"; }

test_expect_success 'the stand-in: a fate per request, the same for the same seed, whatever the order' '
  start_fire --seed 5 --throttle 0.5 --stall 0 &&
  for i in 1 2 3 4 5 6; do
    printf "{\"test_id\":\"a\",\"attempt\":1}" >ev &&
    curl -s -o /dev/null -w "%{http_code}\n" --data-binary @ev "$AWS_ENDPOINT_URL/2015-03-31/functions/fn/invocations" || return 1
  done >codes &&
  stop_fire && cp "$TRASH/fire.log" first.log &&
  start_fire --seed 5 --throttle 0.5 &&
  for i in 1 2 3 4 5 6; do
    printf "{\"test_id\":\"b\",\"attempt\":1}" >ev2 &&
    curl -s -o /dev/null --data-binary @ev2 "$AWS_ENDPOINT_URL/2015-03-31/functions/fn/invocations" &&
    curl -s -o /dev/null --data-binary @ev "$AWS_ENDPOINT_URL/2015-03-31/functions/fn/invocations" || return 1
  done &&
  stop_fire &&
  grep "^a " "$TRASH/fire.log" >second.log && test_cmp first.log second.log &&
  grep -q " throttle$" first.log && grep -q " pass$" first.log &&
  sed "s/ pass$/ 200/; s/ throttle$/ 429/" first.log | awk "{ print \$4 }" >want && test_cmp want codes &&
  test_grep "12 invocations" "$TRASH/fire.err"
'

test_expect_success 'a dropped connection is closed unanswered, a stalled one held' '
  start_fire --seed 1 --drop 1 &&
  printf "{\"test_id\":\"a\",\"attempt\":1}" >ev &&
  test_expect_code 52 curl -s --data-binary @ev "$AWS_ENDPOINT_URL/2015-03-31/functions/fn/invocations" &&
  stop_fire &&
  start_fire --seed 1 --stall 1 --stall-ms 60000 &&
  test_expect_code 28 curl -s -m 1 --data-binary @ev "$AWS_ENDPOINT_URL/2015-03-31/functions/fn/invocations" &&
  stop_fire && test_grep "1 stalled" "$TRASH/fire.err"
'

test_expect_success '10,000 invocations under fire: one final record each, retries bounded' '
  start_fire --seed 7 --throttle 0.30 --error 0.05 --drop 0.02 --stall 0.01 --stall-ms 5000 &&
  awsprov_plan 10000 "{\"timeout_s\":1}" >plan.jsonl &&
  ht-invoke -v -j 96 --infra-retries 3 plan.jsonl >out.jsonl 2>err &&
  stop_fire &&
  # exactly one record per test, each passed once
  test "$(wc -l <out.jsonl)" = 10000 &&
  jq -r .test_id out.jsonl | sort -u | wc -l >n && echo 10000 >want && test_cmp want n &&
  test_jq -s "all(.[]; .status == \"passed\" and .ok)" out.jsonl &&
  awk "\$4 == \"pass\" { print \$1 }" "$TRASH/fire.log" | sort | uniq -d >twice && ! test -s twice &&
  test "$(fates pass)" = 10000 &&
  # ht-invoke retried only what stalled (each attempt that stalled ended at
  # the client timeout), at most --infra-retries times
  test_jq -s "all(.[]; .attempt <= 4 and (.attempts | length) == .attempt)" out.jsonl &&
  jq -s "[.[].attempts[] | select(.infra)] | length" out.jsonl >infra &&
  jq -s "[.[].attempts[] | select(.infra and (.message | test(\"no answer from Lambda within 1.0 s\")))] | length" out.jsonl >timeouts &&
  fates stall >stalls && test_cmp stalls timeouts && test "$(cat infra)" -le $(($(cat stalls) + 5)) &&
  # the provider: at most 12 resends of a throttled call, 4 of a failed one
  awk "{ k = \$1 \" \" \$2; if (\$4 == \"throttle\") t[k]++; if (\$4 == \"error\") e[k]++ }
    END { for (k in t) if (t[k] > 13) { print k, t[k]; bad = 1 } for (k in e) if (e[k] > 5) { print k, e[k]; bad = 1 } exit bad }" "$TRASH/fire.log" &&
  # every 429 the stand-in sent was seen and counted
  test_grep "warning: Lambda throttled $(fates throttle) invocations; concurrency went down to 48 (of 96)" err &&
  ! grep -q "concurrency 48 -> 24" err &&
  # the fractions of the requests are the rates
  total=$(wc -l <"$TRASH/fire.log") &&
  awk -v n="$total" -v t="$(fates throttle)" -v e="$(fates error)" -v d="$(fates drop)" -v s="$(cat stalls)" "BEGIN {
    printf \"%d requests: %.3f throttled, %.3f 5xx, %.3f dropped, %.3f stalled\\n\", n, t / n, e / n, d / n, s / n
    exit !(n > 15000 && n < 17500 && t / n > 0.28 && t / n < 0.32 && e / n > 0.04 && e / n < 0.06 &&
           d / n > 0.015 && d / n < 0.025 && s / n > 0.007 && s / n < 0.013) }"
'

test_expect_success 'retries used up: the stalled tests end as infrastructure errors, exit 1' '
  start_fire --seed 3 --throttle 0.30 --error 0.05 --drop 0.02 --stall 0.05 --stall-ms 5000 &&
  awsprov_plan 1000 "{\"timeout_s\":1}" >plan.jsonl &&
  test_expect_code 1 ht-invoke -q -j 96 --infra-retries 0 plan.jsonl >out.jsonl &&
  stop_fire &&
  ids=$(jq -r .test_id out.jsonl | sort -u | wc -l) && test "$ids" = 1000 &&
  awk "\$4 == \"stall\" { print \$1 }" "$TRASH/fire.log" | sort >stalled &&
  jq -r "select(.status == \"error\") | .test_id" out.jsonl | sort >errors &&
  test -s stalled && test_cmp stalled errors &&
  test_jq "select(.status == \"error\") | .error.code == \"infra\" and .attempt == 1" out.jsonl &&
  test "$(jq -s "map(select(.status == \"passed\")) | length" out.jsonl)" = $((1000 - $(wc -l <stalled)))
'

test_done
