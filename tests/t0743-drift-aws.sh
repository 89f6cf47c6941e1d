#!/bin/sh
# Stale images on the aws provider, against moto_server (signature
# checking on): ht-update stores the tree manifest of the image it deploys
# (from the local store) in the bucket under images/HEX/tree.json;
# ht-invoke asks GetFunction which image the function runs, reads that
# manifest and compares it with the working tree: silent when they match,
# a warning naming the files otherwise, exit 79 with drift "error" before
# any Invoke, silence with "ignore", and a warning when it cannot tell.
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/ht-awsprov-lib.sh"

test_need moto_server
have ht-aws-probe || test_skip_all 'ht-aws-probe is not built'
awsprov_moto || test_skip_all 'moto_server does not start'

REPO=123456789012.dkr.ecr.us-east-1.amazonaws.com/tests
mkdir -p proj/tests && cd proj || exit 1
echo '{"provider":"aws","aws":{"function":"fn","bucket":"bkt"},"timeout_s":5}' >hypertest.json
echo 'echo a' >tests/a.sh
passed='{"schema":"ht.result/1","run_id":"run-aws","test_id":"t0","status":"passed","ok":true,"duration_ms":7,"exit_code":0,"signal":null,"message":""}'
ht-build --scratch --no-runner >../img.json || exit 1
digest=$(jq -r .digest ../img.json) tree=$(jq -r .tree ../img.json)
invokes() { grep -c "POST /2015-03-31/functions/fn/invocations" "$TRASH/moto.log"; }

test_expect_success 'setup: a function, a bucket, an image built and deployed with ht-update' '
  awsprov_function fn 30 &&
  ht-aws-probe s3-mb bkt &&
  awsprov_plan 1 >../plan.jsonl &&
  ht-update -v -i "$REPO@$digest" -a amd64 >../fn.json 2>../err &&
  test_jq ".ok == true and .tree == \"$tree\"" ../fn.json &&
  test_grep "tree manifest $tree stored at s3://bkt/images/${digest#sha256:}/tree.json" ../err &&
  ht-aws-probe s3-get bkt "images/${digest#sha256:}/tree.json" >../m.json &&
  test_jq ".schema == \"ht.tree/1\" and .tree == \"$tree\" and (.files | keys) == [\"hypertest.json\", \"tests/a.sh\"]" ../m.json
'

test_expect_success 'the function runs the working tree: no warning' '
  awsprov_queue "$passed" &&
  ht-invoke ../plan.jsonl >../out.jsonl 2>../err &&
  test_jq ".status == \"passed\"" ../out.jsonl &&
  ! grep -i "warning" ../err
'

test_expect_success 'a changed file: a warning naming it and make hypertest-deploy, then the run' '
  echo "echo changed" >tests/a.sh && echo new >tests/b.sh &&
  awsprov_queue "$passed" &&
  ht-invoke ../plan.jsonl >../out.jsonl 2>../err &&
  test_jq ".status == \"passed\"" ../out.jsonl &&
  test "$(grep -c warning: ../err)" = 1 &&
  test_grep "warning: function .fn. (image $digest) does not hold the working tree: 2 files differ: tests/a.sh (changed), tests/b.sh (not in the image): run make hypertest-deploy (or ht-build | ht-push | ht-update)" ../err
'

test_expect_success 'drift error: exit 79 and no Invoke at all' '
  before=$(invokes) &&
  test_must_fail 79 ht-invoke --set drift=error ../plan.jsonl >../out.jsonl 2>../err &&
  test ! -s ../out.jsonl &&
  test_grep "error: function .fn. (image $digest) does not hold the working tree: 2 files differ" ../err &&
  test "$(invokes)" = "$before"
'

test_expect_success 'drift ignore: silent' '
  awsprov_queue "$passed" &&
  ht-invoke --set drift=ignore ../plan.jsonl >../out.jsonl 2>../err &&
  ! grep -i "working tree" ../err
'

test_expect_success 'a damaged manifest in the bucket: a warning, and exit 79 with drift error' '
  ht-aws-probe s3-put-data bkt "images/${digest#sha256:}/tree.json" "{\"schema\":\"ht.tree/1\"}" &&
  awsprov_queue "$passed" &&
  ht-invoke ../plan.jsonl >../out.jsonl 2>../err &&
  test_grep "not an ht.tree/1 manifest" ../err &&
  test_grep "warning: cannot tell whether function .fn. (image $digest) holds the working tree" ../err &&
  test_must_fail 79 ht-invoke --set drift=error ../plan.jsonl >/dev/null 2>&1
'

test_expect_success 'an image deployed that is not in the store: ht-update says so, ht-invoke cannot tell' '
  other=sha256:$(printf other | sha256sum | cut -c1-64) &&
  ht-update -i "$REPO@$other" -a amd64 >../fn.json 2>../err &&
  test_jq ".ok == true and (has(\"tree\") | not)" ../fn.json &&
  test_grep "warning: image $other is not in the store" ../err &&
  awsprov_queue "$passed" &&
  ht-invoke ../plan.jsonl >../out.jsonl 2>../err &&
  test_grep "warning: cannot tell whether function .fn. (image $other) holds the working tree: it has no tree manifest" ../err
'

test_done
