#!/bin/sh
# The duration history with the aws provider: ht-invoke stores it in the
# bucket on S3 (moto, signature checking on), ht-plan on a fresh machine
# (no local state) reads it from there; history.url names another place;
# a corrupt object is ignored with a warning.
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/ht-awsprov-lib.sh"

test_need moto_server
have ht-aws-probe || test_skip_all 'ht-aws-probe is not built'
awsprov_moto || test_skip_all 'moto_server does not start'

mkdir -p proj/tests && cd proj || exit 1
for t in a b c; do echo 'exit 0' >tests/$t.sh; done
cat >hypertest.json <<'J'
{"provider": "aws", "aws": {"function": "fn", "bucket": "bkt"}, "timeout_s": 5,
 "runner": {"tests": ["tests/*.sh"], "run": "sh {file}"}}
J
# passed MS: a runner's answer of that duration (the plan fills in the identity)
passed() {
  jq -cn --argjson ms "$1" '{schema:"ht.result/1",status:"passed",ok:true,duration_ms:$ms,exit_code:0,signal:null,message:""}'
}

test_expect_success 'setup: a function and a bucket' '
  awsprov_function fn 30 &&
  ht-aws-probe s3-mb bkt
'

test_expect_success 'a first plan: no history yet, no message' '
  ht-plan -o plan.jsonl 2>err && test ! -s err &&
  test_jq "has(\"expected_ms\") | not" plan.jsonl
'

test_expect_success 'ht-invoke stores the history in the bucket' '
  awsprov_queue "$(passed 300)" "$(passed 900)" "$(passed 100)" &&
  ht-invoke -q -j 1 plan.jsonl >out.jsonl &&
  ht-aws-probe s3-get bkt history/durations.json >h.json &&
  test_jq ".schema == \"ht.history/1\" and .runs == 1 and (.tests | length) == 3" h.json &&
  test_jq "(.tests | map(.pass.ms) | sort) == [100, 300, 900] and (.overhead.aws | length) == 1" h.json
'

test_expect_success 'a fresh machine: ht-plan reads it from S3, longest first' '
  rm -rf .hypertest &&
  ht-plan -o plan2.jsonl &&
  jq -r .name plan2.jsonl >names && printf "tests/%s.sh\n" b a c >want && test_cmp want names &&
  test_jq ".expected_from == \"history\"" plan2.jsonl &&
  ht-plan --predict --json >p.json &&
  test_jq ".provider == \"aws\" and .total_ms == 1300 and (.overhead_ms | type) == \"number\"" p.json
'

test_expect_success 'a second run merges into it' '
  awsprov_queue "$(passed 1000)" "$(passed 300)" "$(passed 100)" &&
  ht-invoke -q -j 1 plan2.jsonl >out2.jsonl &&
  ht-aws-probe s3-get bkt history/durations.json >h.json &&
  test_jq ".runs == 2 and all(.tests[]; .pass.n == 2)" h.json
'

test_expect_success 'history.url: another bucket and prefix' '
  ht-aws-probe s3-mb hist &&
  awsprov_queue "$(passed 10)" "$(passed 10)" "$(passed 10)" &&
  ht-invoke -q -j 1 --set history.url=s3://hist/team/ci plan2.jsonl >out3.jsonl &&
  ht-aws-probe s3-get hist team/ci/durations.json >h2.json &&
  test_jq ".runs == 1" h2.json &&
  ht-plan --set history.url=s3://hist/team/ci --predict --json >p.json &&
  test_jq ".total_ms == 30" p.json
'

test_expect_success 'a corrupt history object: a warning, the plan and the run go on, it is replaced' '
  ht-aws-probe s3-put-data bkt history/durations.json "garbage" &&
  ht-plan -o plan3.jsonl 2>err &&
  test_grep "warning: history .s3://bkt/history/durations.json. is not JSON" err &&
  test_jq "has(\"expected_ms\") | not" plan3.jsonl &&
  awsprov_queue "$(passed 5)" "$(passed 5)" "$(passed 5)" &&
  ht-invoke -j 1 plan3.jsonl >out4.jsonl 2>err &&
  test_grep "ignored, a new one is started" err &&
  ht-aws-probe s3-get bkt history/durations.json >h.json &&
  test_jq ".runs == 1 and (.tests | length) == 3" h.json
'

test_expect_success 'refused credentials: ht-plan warns and plans without the history' '
  AWS_SECRET_ACCESS_KEY=wrong ht-plan -o plan4.jsonl 2>err &&
  test_grep "cannot read the history" err &&
  test "$(wc -l <plan4.jsonl)" = 3
'

test_done
