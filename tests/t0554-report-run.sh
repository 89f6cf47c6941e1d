#!/bin/sh
# ht-report --run RUN_ID: a run read back from the bucket (the local
# directory, S3 in moto) gives the same report after the results file
# that ht-invoke wrote is gone.
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/ht-report-lib.sh"

have jq || test_skip_all 'jq is needed'

test_expect_success 'a real run; the report from its results' '
  test_expect_code 1 make_run p &&
  RUN_ID=$(jq -r .run_id p/plan.jsonl | head -n 1) &&
  (cd p && test_expect_code 1 ht-report --junit from-file.xml --trace from-file.json \
     .hypertest/bucket/$RUN_ID/hypertest.results.json >../from-file.txt) &&
  echo "$RUN_ID" >run-id
'
RUN_ID=$(cat run-id 2>/dev/null)

test_expect_success '--run reproduces it from the local bucket with the results gone' '
  rm p/results.jsonl p/plan.jsonl &&
  (cd p && test_expect_code 1 ht-report --run "$RUN_ID" --junit from-run.xml --trace from-run.json >../from-run.txt) &&
  test_cmp from-file.txt from-run.txt &&
  test_cmp p/from-file.xml p/from-run.xml &&
  test_cmp p/from-file.json p/from-run.json &&
  test_grep "^hypertest: 6 tests of run $RUN_ID on local in " from-run.txt &&
  test_grep "^  artifacts: $TRASH/p/.hypertest/bucket/$RUN_ID/$" from-run.txt
'

test_expect_success '--run from another directory with --config' '
  ht-report --config p/hypertest.json --run "$RUN_ID" >other.txt; test $? = 1 &&
  test_cmp from-run.txt other.txt
'

test_expect_success '--run of a run the bucket does not have: 66; a bad id: 64' '
  (cd p && test_must_fail 66 ht-report --run no-such-run 2>../err) &&
  test_grep "no run .no-such-run. in the bucket" err &&
  (cd p && test_must_fail 64 ht-report --run ../etc 2>../err) &&
  test_grep "is not a run id" err
'

test_expect_success '--run of a broken summary: 65' '
  mkdir -p p/.hypertest/bucket/broken &&
  echo "{\"schema\":\"ht.summary/1\",\"results\":[{\"schema\":\"ht.result/1\"}]}" \
    >p/.hypertest/bucket/broken/hypertest.results.json &&
  (cd p && test_must_fail 65 ht-report --run broken 2>../err) &&
  test_grep "results\[0\]: expected a test_id or a name" err
'

if ! have moto_server || ! python3 -c 'import boto3' 2>/dev/null; then
  test_skip '--run from S3 (moto)' 'moto_server and boto3 are needed'
  test_done
fi
. "$HT_SRC/tests/helpers/ht-awsprov-lib.sh"

test_expect_success 'S3: the run summary and artifacts in a bucket of moto' '
  awsprov_moto &&
  ht-aws-probe s3-mb results &&
  ht-aws-probe s3-put results "$RUN_ID/hypertest.results.json" \
    p/.hypertest/bucket/$RUN_ID/hypertest.results.json &&
  echo "{\"provider\":\"aws\",\"aws\":{\"bucket\":\"results\",\"region\":\"us-east-1\",\"function\":\"f\"}}" >aws.json &&
  env | grep "^AWS_" | sed "s/^/export /" >aws.env
'

test_expect_success 'S3: --run gives the same report, with the bucket named' '
  . ./aws.env && rm -rf p/.hypertest/bucket &&
  test_expect_code 1 ht-report --config aws.json --run "$RUN_ID" --junit s3.xml >s3.txt &&
  grep -v "^  artifacts:\|output: " from-run.txt >a && grep -v "^  artifacts:\|output: " s3.txt >b &&
  test_cmp a b &&
  test_grep "^  artifacts: s3://results/$RUN_ID/$" s3.txt &&
  test_grep "output: s3://results/$RUN_ID/t-tests-fail-sh-ec5b2621/stdout.txt" s3.txt &&
  grep -v "all of it:" p/from-run.xml >a && grep -v "all of it:" s3.xml >b && test_cmp a b
'

test_expect_success 'S3: a run that is not there: 66 with the reason' '
  . ./aws.env &&
  test_must_fail 66 ht-report --config aws.json --run missing-run 2>err &&
  test_grep "cannot read .missing-run/hypertest.results.json." err &&
  test_grep "no run .missing-run." err
'

test_expect_success 'S3: refused credentials: 77' '
  . ./aws.env &&
  AWS_SECRET_ACCESS_KEY=wrong test_must_fail 77 ht-report --config aws.json --run "$RUN_ID" 2>err &&
  test_grep "cannot read" err
'

test_done
