#!/bin/sh
# A history that is corrupt, of another kind, too large or unreadable is
# ignored with a warning, never a failed run, and the next run replaces
# it with a sane one.
. "$HT_SRC/tests/lib.sh"
test_need jq

mkdir -p proj/tests && cd proj || exit 1
for t in a b c; do echo 'sleep 0.02' >tests/$t.sh; done
cat >hypertest.json <<'J'
{"runner": {"tests": ["tests/*.sh"], "run": "sh {file}"}, "local": {"sandbox": "none"}}
J
H=.hypertest/bucket/history/durations.json
mkdir -p .hypertest/bucket/history

# check_ignored: ht-plan warns, keeps the listing order, exits 0; a run
# warns, passes, and leaves a good history behind.
check_ignored() {
  ht-plan >plan.jsonl 2>err &&
  test_grep "warning: history .*durations.json.* ignored, a new one is started" err &&
  test_jq "has(\"expected_ms\") | not" plan.jsonl &&
  ht-invoke plan.jsonl >out.jsonl 2>err &&
  test_grep "warning: history .* ignored, a new one is started" err &&
  test_jq ".status == \"passed\"" out.jsonl &&
  test_jq ".schema == \"ht.history/1\" and .runs == 1 and (.tests | length) == 3" $H &&
  ht-plan >plan.jsonl 2>err && test ! -s err &&
  test_jq ".expected_from == \"history\"" plan.jsonl
}

test_expect_success 'not JSON' '
  printf "{\"schema\":\"ht.history/1\",\"tests\":{\"t-a\":" >$H &&
  check_ignored
'

test_expect_success 'binary garbage' '
  head -c 3000 /dev/urandom >$H &&
  check_ignored
'

test_expect_success 'JSON of another kind, and another major version' '
  echo "[1,2,3]" >$H && check_ignored &&
  echo "{\"schema\":\"ht.summary/1\",\"tests\":{}}" >$H && check_ignored &&
  echo "{\"schema\":\"ht.history/2\",\"tests\":{}}" >$H && check_ignored
'

test_expect_success 'malformed entries are dropped, the good ones kept' '
  a=$(jq -r "select(.name == \"tests/a.sh\") | .test_id" plan.jsonl) &&
  jq -c --arg a "$a" ".tests[\$a].pass.ms = 5000 | .tests[\"t-bad\"] = {seen: \"x\"} | .tests[\"../x\"] = .tests[\$a]" $H >h &&
  mv h $H &&
  ht-plan >plan.jsonl 2>err && test ! -s err &&
  head -n 1 plan.jsonl | jq -r .test_id >got && echo "$a" >want && test_cmp want got &&
  ht-invoke -q plan.jsonl >out.jsonl &&
  test_jq "(.tests | length) == 3 and (.tests | has(\"t-bad\") | not)" $H
'

test_expect_success 'a history over 32 MiB is not read' '
  { printf "{\"schema\":\"ht.history/1\",\"pad\":\""; head -c 33554432 /dev/zero | tr "\0" x; printf "\",\"tests\":{}}"; } >$H &&
  ht-plan >plan.jsonl 2>err &&
  test_grep "warning: cannot read the history" err &&
  ht-invoke -q plan.jsonl >out.jsonl 2>err &&
  test_jq ".status == \"passed\"" out.jsonl &&
  test_jq ".runs == 1" $H && test $(wc -c <$H) -lt 100000
'

test_expect_success 'a history that cannot be read or written: warnings, the run passes' '
  rm -f $H && mkdir $H &&
  ht-plan >plan.jsonl 2>err &&
  test_grep "warning: cannot read the history" err &&
  ht-invoke plan.jsonl >out.jsonl 2>err &&
  test_grep "warning: cannot store the history" err &&
  test_jq ".status == \"passed\"" out.jsonl &&
  rmdir $H
'

test_expect_success 'a history.url that is not a bucket: a warning, the run passes' '
  ht-plan --set history.url=ftp://x/y >plan.jsonl 2>err &&
  test_grep "no history" err &&
  ht-invoke --set history.url=ftp://x/y plan.jsonl >out.jsonl 2>err &&
  test_grep "no history" err &&
  test_jq ".status == \"passed\"" out.jsonl
'

test_done
