# tests/helpers/awsdeploy-lib.sh: moto_server with signature checking on,
# an IAM user allowed everything (its keys exported), and the stand-in
# proxy in front of moto (tests/helpers/ht-aws-standin.py) that logs every
# call and plays what moto cannot. Source it after tests/lib.sh.
# Sets MOTO_URL, STANDIN_URL, STANDIN_LOG; AWS_ENDPOINT_URL is the stand-in.

test_need moto_server python3 curl jq
have ht-aws-probe || test_skip_all 'ht-aws-probe is not built'
# The first three actions need no signature: the user, its key, its policy.
start_moto 3 || test_skip_all 'moto_server does not start'
export AWS_REGION=us-east-1

_iam_boot() {
  printf '%s&Version=2010-05-08' "$1" >"$TRASH/.iam.body" &&
  AWS_ACCESS_KEY_ID=AKIDBOOTSTRAP AWS_SECRET_ACCESS_KEY=bootstrap AWS_ENDPOINT_URL=$MOTO_URL \
    ht-aws-probe -H 'Content-Type: application/x-www-form-urlencoded' call iam POST / "$TRASH/.iam.body"
}
_allow_all=$(python3 -c 'import json,urllib.parse as u; print(u.quote_plus(json.dumps({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]})))')
_iam_boot "Action=CreateUser&UserName=ht" >/dev/null &&
_iam_boot "Action=CreateAccessKey&UserName=ht" >"$TRASH/.key" &&
_iam_boot "Action=PutUserPolicy&UserName=ht&PolicyName=all&PolicyDocument=$_allow_all" >/dev/null ||
  test_skip_all 'cannot make the IAM user in moto'
AWS_ACCESS_KEY_ID=$(sed -n 's/.*<AccessKeyId>\([^<]*\)<.*/\1/p' "$TRASH/.key")
AWS_SECRET_ACCESS_KEY=$(sed -n 's/.*<SecretAccessKey>\([^<]*\)<.*/\1/p' "$TRASH/.key")
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY

STANDIN_PORT=$(free_port)
STANDIN_URL=http://127.0.0.1:$STANDIN_PORT
STANDIN_LOG=$TRASH/standin.log
: >"$STANDIN_LOG"
python3 "$HT_SRC/tests/helpers/ht-aws-standin.py" "$STANDIN_PORT" "$MOTO_URL" "$STANDIN_LOG" \
  >"$TRASH/standin.err" 2>&1 &
test_cleanup_server $!
wait_for_port "$STANDIN_PORT" 20 || test_skip_all 'the stand-in does not start'
export AWS_ENDPOINT_URL=$STANDIN_URL

# standin WHAT JSON: tells the stand-in what to play (see ht-aws-standin.py).
standin() { curl -sf -X POST "$STANDIN_URL/_standin/$1" -d "$2" >/dev/null; }
# calls OPERATION: how many calls of an X-Amz-Target operation the stand-in saw.
calls() { grep -c " $1 " "$STANDIN_LOG"; }
# make_role: the role "fnrole" that moto wants functions to have.
make_role() {
  _trust=$(python3 -c 'import json,urllib.parse as u; print(u.quote_plus(json.dumps({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]})))')
  printf '%s&Version=2010-05-08' "Action=CreateRole&RoleName=fnrole&AssumeRolePolicyDocument=$_trust" >"$TRASH/.iam.body" &&
  ht-aws-probe -H 'Content-Type: application/x-www-form-urlencoded' call iam POST / "$TRASH/.iam.body" >/dev/null
}
# create_image_function NAME ARCH IMAGE_URI: an Image function in moto.
create_image_function() {
  printf '{"FunctionName":"%s","Role":"arn:aws:iam::123456789012:role/fnrole","PackageType":"Image","Code":{"ImageUri":"%s"},"Architectures":["%s"],"MemorySize":2048,"Timeout":300}' \
    "$1" "$3" "$2" >"$TRASH/.fn.json" &&
  ht-aws-probe -H 'Content-Type: application/json' call lambda POST /2015-03-31/functions "$TRASH/.fn.json" >"$TRASH/.fn.out" &&
  head -n 1 "$TRASH/.fn.out" | grep -q 201
}
