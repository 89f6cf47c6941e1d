#!/bin/sh
# ht-report --trace: Trace Event Format JSON, one thread per slot (or per
# test when the records name no slots), one slice per attempt.
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/ht-report-lib.sh"

have jq || test_skip_all 'jq is needed'

# att N STATUS START END SLOT: one attempt with recorded times.
att() {
  printf '{"attempt":%s,"status":"%s","duration_ms":%s,"dispatch_ms":%s,"start_ms":%s,"end_ms":%s,"slot":%s,"worker":"env-%s","request_id":"req-%s-%s","cold":%s}' \
    "$1" "$2" $(($4 - $3)) $(($3 - 20)) "$3" "$4" "$5" "$5" "$5" "$1" "$( [ "$1" = 1 ] && echo true || echo false)"
}

test_expect_success 'slots: one thread each, one slice per attempt at its times' '
  result a passed "{\"attempts\":[$(att 1 passed 100000 101000 0)]}" >s.jsonl &&
  result b flaky "{\"attempts\":[$(att 1 failed 100000 100400 1),$(att 2 passed 100500 101500 0)]}" >>s.jsonl &&
  result c failed "{\"attempts\":[$(att 1 failed 100100 100900 2),$(att 2 timed_out 101000 102000 2)]}" >>s.jsonl &&
  test_expect_code 1 ht-report -q --trace t.json s.jsonl &&
  jq -e . t.json >/dev/null &&
  test_jq "[.traceEvents[] | select(.ph == \"X\")] | length == 5" t.json &&
  test_jq "[.traceEvents[] | select(.ph == \"M\" and .name == \"thread_name\") | .args.name] == [\"slot 0\",\"slot 1\",\"slot 2\"]" t.json &&
  test_jq "[.traceEvents[] | select(.ph == \"X\" and .name == \"tests/b.sh\") | [.tid, .ts, .dur, .args.attempt, .cat]] ==
           [[1, 0, 420000, 1, \"failed\"], [0, 500000, 1020000, 2, \"passed\"]]" t.json &&
  test_jq "[.traceEvents[] | select(.ph == \"X\") | .args] | map(.worker) | index(\"env-2\") != null" t.json &&
  test_jq "[.traceEvents[] | select(.ph == \"X\" and .args.attempt == 1)] | all(.args.cold == true)" t.json &&
  test_jq ".otherData.lanes_are_slots == true and .displayTimeUnit == \"ms\"" t.json
'

test_expect_success 'no slots: one thread per test, in start order, times from started_at' '
  result late passed "{\"started_at\":\"2026-11-25T16:25:00.000Z\",\"duration_ms\":500,\"attempts\":[{\"attempt\":1,\"status\":\"passed\",\"duration_ms\":500}]}" >n.jsonl &&
  result early flaky "{\"started_at\":\"2026-11-25T16:24:59.000Z\",\"duration_ms\":300,\"attempts\":[{\"attempt\":1,\"status\":\"failed\",\"duration_ms\":200},{\"attempt\":2,\"status\":\"passed\",\"duration_ms\":300}]}" >>n.jsonl &&
  ht-report -q --trace n.json n.jsonl &&
  test_jq "[.traceEvents[] | select(.ph == \"M\" and .name == \"thread_name\") | .args.name] == [\"tests/early.sh\",\"tests/late.sh\"]" n.json &&
  test_jq "[.traceEvents[] | select(.ph == \"X\") | [.name, .tid, .ts, .dur, .args.estimated]] ==
           [[\"tests/late.sh\",1,1200000,500000,true],[\"tests/early.sh\",0,0,200000,true],[\"tests/early.sh\",0,200000,300000,true]]" n.json &&
  test_jq ".otherData.lanes_are_slots == false" n.json
'

test_expect_success 'a real run: a slice for every attempt' '
  test_expect_code 1 make_run p &&
  (cd p && test_expect_code 1 ht-report -q --trace trace.json results.jsonl) &&
  test "$(jq "[.traceEvents[] | select(.ph == \"X\")] | length" p/trace.json)" = \
       "$(jq -s "map(.attempts | length) | add" p/results.jsonl)" &&
  test_jq "all(.traceEvents[]; .ts >= 0 or .ph == \"M\")" p/trace.json
'

test_done
