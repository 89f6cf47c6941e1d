#!/bin/sh
# ht-runner with HT_BUCKET=s3://...: each test's output and artifacts go to
# moto's S3 (signature checking on) under RUN/TEST/, with content types, in
# parallel; a failed upload is reported in upload_error and the test keeps
# its status.
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/awsdeploy-lib.sh"
python3 -c 'import boto3' 2>/dev/null || test_skip_all 'boto3 is not installed (moto needs it)'

export HT_WORK_DIR="$TRASH/work"
# The runner in Lambda has the function's credentials in the environment
# and AWS_ENDPOINT_URL only in tests; S3 goes straight to moto here.
export AWS_ENDPOINT_URL_S3=$MOTO_URL
rec() { # rec RUN_ID SHELL-COMMAND
  jq -cn --arg r "$1" --arg c "$2" \
    '{schema:"ht.test/1",run_id:$r,test_id:"t-01",name:"n",timeout_s:20,run:{shell:$c}}'
}
# content_types BUCKET PREFIX: "KEY<TAB>Content-Type" of each object, read
# by boto3 (a signed HEAD per object).
content_types() {
  python3 - "$1" "$2" <<-'P'
	import os, sys, boto3
	s3 = boto3.client("s3", endpoint_url=os.environ["MOTO_URL"], region_name="us-east-1")
	# No Prefix: moto checks a signed query with %2F against a decoded form.
	for o in s3.list_objects_v2(Bucket=sys.argv[1])["Contents"]:
	    if o["Key"].startswith(sys.argv[2]): print(o["Key"] + "\t" + s3.head_object(Bucket=sys.argv[1], Key=o["Key"])["ContentType"])
	P
}
export MOTO_URL

test_expect_success 'a bucket in moto' '
  ht-aws-probe s3-mb artifacts
'

test_expect_success 'output and artifacts land under RUN/TEST/ with content types' '
  rec run1 "echo out; echo err >&2; mkdir -p \$HT_OUTPUT_DIR/shots; printf png >\$HT_OUTPUT_DIR/shots/home.png;
    echo {} >\$HT_OUTPUT_DIR/r.json; echo \"<testsuite/>\" >\$HT_OUTPUT_DIR/junit.xml; echo \"<p>\" >\$HT_OUTPUT_DIR/i.html;
    echo log >\$HT_OUTPUT_DIR/trace.log; printf x >\$HT_OUTPUT_DIR/blob.bin" >t.json &&
  HT_BUCKET=s3://artifacts ht-runner --once t.json >res.json &&
  test_jq ".status == \"passed\" and (has(\"upload_error\") | not) and (.artifacts | length == 8)" res.json &&
  ht-aws-probe s3-list artifacts >list &&
  cut -f1 list | grep "^run1/" >keys &&
  printf "%s\n" run1/t-01/out/blob.bin run1/t-01/out/i.html run1/t-01/out/junit.xml run1/t-01/out/r.json \
    run1/t-01/out/shots/home.png run1/t-01/out/trace.log run1/t-01/stderr.txt run1/t-01/stdout.txt >want &&
  test_cmp want keys &&
  ht-aws-probe s3-get artifacts run1/t-01/stdout.txt >got && echo out >w && test_cmp w got &&
  ht-aws-probe s3-get artifacts run1/t-01/out/shots/home.png >got && printf png >w && test_cmp w got &&
  content_types artifacts run1/ >types &&
  printf "%s\t%s\n" run1/t-01/out/blob.bin application/octet-stream \
    run1/t-01/out/i.html "text/html; charset=utf-8" run1/t-01/out/junit.xml application/xml \
    run1/t-01/out/r.json application/json run1/t-01/out/shots/home.png image/png \
    run1/t-01/out/trace.log "text/plain; charset=utf-8" run1/t-01/stderr.txt "text/plain; charset=utf-8" \
    run1/t-01/stdout.txt "text/plain; charset=utf-8" >want &&
  test_cmp want types
'

test_expect_success 'a prefix in HT_BUCKET goes before the keys' '
  rec run2 "echo hi" >t.json &&
  HT_BUCKET=s3://artifacts/ci/main ht-runner --once t.json >res.json &&
  test_jq ".artifacts == [\"run2/t-01/stdout.txt\"]" res.json &&
  ht-aws-probe s3-get artifacts ci/main/run2/t-01/stdout.txt >got && echo hi >w && test_cmp w got
'

test_expect_success 'many artifacts go up in parallel, all of them' '
  rec run3 "for i in \$(seq 1 40); do echo \$i >\$HT_OUTPUT_DIR/f\$i.txt; done" >t.json &&
  HT_BUCKET=s3://artifacts ht-runner --once t.json >res.json &&
  test_jq ".status == \"passed\" and (.artifacts | length == 40) and (has(\"upload_error\") | not)" res.json &&
  ht-aws-probe s3-list artifacts >list && test "$(grep -c "^run3/" list)" = 40 &&
  # It printed nothing: no stdout.txt or stderr.txt objects.
  ! grep -q "^run3/t-01/std" list
'

test_expect_success 'a missing bucket: upload_error says so, the test still passed' '
  rec run4 "echo hi; echo a >\$HT_OUTPUT_DIR/a.txt" >t.json &&
  HT_BUCKET=s3://no-such-bucket ht-runner --once t.json >res.json 2>err &&
  test_jq ".status == \"passed\" and .ok == true and .artifacts == []
    and (.upload_error | contains(\"2 artifacts could not be stored\") and contains(\"NoSuchBucket\"))" res.json
'

test_expect_success 'the function'\''s temporary credentials (a session token) are used' '
  trust=$(python3 -c "import json,urllib.parse as u; print(u.quote_plus(json.dumps({\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"*\"},\"Action\":\"sts:AssumeRole\"}]})))") &&
  pol=$(python3 -c "import json,urllib.parse as u; print(u.quote_plus(json.dumps({\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]})))") &&
  printf "Action=CreateRole&RoleName=runrole&AssumeRolePolicyDocument=%s&Version=2010-05-08" "$trust" >role.body &&
  ht-aws-probe -H "Content-Type: application/x-www-form-urlencoded" call iam POST / role.body >/dev/null &&
  printf "Action=PutRolePolicy&RoleName=runrole&PolicyName=all&PolicyDocument=%s&Version=2010-05-08" "$pol" >pol.body &&
  ht-aws-probe -H "Content-Type: application/x-www-form-urlencoded" call iam POST / pol.body >/dev/null &&
  probe_env=$(ht-aws-probe sts-assume-role arn:aws:iam::123456789012:role/runrole) &&
  (eval "$probe_env" && export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN &&
   rec run5 "echo tmp" >t.json &&
   HT_BUCKET=s3://artifacts ht-runner --once t.json >res.json &&
   test_jq ".status == \"passed\" and (has(\"upload_error\") | not)" res.json &&
   AWS_SESSION_TOKEN=${AWS_SESSION_TOKEN}x HT_BUCKET=s3://artifacts ht-runner --once t.json >res2.json 2>err &&
   test_jq ".status == \"passed\" and (.upload_error | contains(\"could not be stored\"))" res2.json)
'

test_expect_success 'an unreachable S3: upload_error after the retries, the test passed' '
  port=$(free_port) &&
  rec run6 "echo hi" >t.json &&
  AWS_ENDPOINT_URL_S3=http://127.0.0.1:$port HT_BUCKET=s3://artifacts ht-runner --once t.json >res.json 2>err &&
  test_jq ".status == \"passed\" and (.upload_error | contains(\"could not be stored\"))" res.json
'

test_done
