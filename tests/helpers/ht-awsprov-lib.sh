# Shared by the aws provider tests (t08xx): moto with signature checking,
# an IAM user, a bucket and an Image function there, ht-lambda-local, and
# test records.

test_need jq python3 curl

# awsprov_moto: starts moto_server (signatures checked after the first
# three actions, which create the IAM user, its key and its policy),
# exports the user's keys, AWS_REGION and AWS_ENDPOINT_URL, and turns
# moto's docker-less Lambda on. Returns non-zero when moto is unusable.
awsprov_moto() {
  start_moto 3 || return 1
  export AWS_REGION=us-east-1 AWS_ENDPOINT_URL=$MOTO_URL
  _allow=$(python3 -c 'import json,urllib.parse as u; print(u.quote_plus(json.dumps({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]})))')
  AWS_ACCESS_KEY_ID=AKIDBOOTSTRAP AWS_SECRET_ACCESS_KEY=bootstrap awsprov_iam "Action=CreateUser&UserName=ht" >/dev/null &&
  AWS_ACCESS_KEY_ID=AKIDBOOTSTRAP AWS_SECRET_ACCESS_KEY=bootstrap awsprov_iam "Action=CreateAccessKey&UserName=ht" >"$TRASH/key.xml" &&
  AWS_ACCESS_KEY_ID=AKIDBOOTSTRAP AWS_SECRET_ACCESS_KEY=bootstrap awsprov_iam "Action=PutUserPolicy&UserName=ht&PolicyName=all&PolicyDocument=$_allow" >/dev/null || return 1
  AWS_ACCESS_KEY_ID=$(awsprov_xml AccessKeyId "$TRASH/key.xml")
  AWS_SECRET_ACCESS_KEY=$(awsprov_xml SecretAccessKey "$TRASH/key.xml")
  export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
  curl -sf -X POST "$MOTO_URL/moto-api/config" -d '{"lambda":{"use_docker":false}}' >/dev/null
}

awsprov_xml() { sed -n "s/.*<$1>\([^<]*\)<\/$1>.*/\1/p" "$2"; }

# awsprov_iam 'Action=...': a signed, form-encoded IAM call.
awsprov_iam() {
  printf '%s&Version=2010-05-08' "$1" >"$TRASH/iam.body" &&
  ht-aws-probe -H 'Content-Type: application/x-www-form-urlencoded' call iam POST / "$TRASH/iam.body"
}

# awsprov_function NAME TIMEOUT_S: an Image function in moto (and its role).
awsprov_function() {
  if [ ! -e "$TRASH/role.done" ]; then
    _trust=$(python3 -c 'import json,urllib.parse as u; print(u.quote_plus(json.dumps({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]})))')
    awsprov_iam "Action=CreateRole&RoleName=fnrole&AssumeRolePolicyDocument=$_trust" >/dev/null || return 1
    : >"$TRASH/role.done"
  fi
  jq -cn --arg n "$1" --argjson t "$2" '{FunctionName:$n,PackageType:"Image",Timeout:$t,
    Code:{ImageUri:"123456789012.dkr.ecr.us-east-1.amazonaws.com/tests:latest"},
    Role:"arn:aws:iam::123456789012:role/fnrole"}' >"$TRASH/fn.json" &&
  ht-aws-probe -H 'Content-Type: application/json' call lambda POST /2015-03-31/functions "$TRASH/fn.json" >"$TRASH/fn.out" &&
  [ "$(head -n 1 "$TRASH/fn.out")" = 201 ]
}

# awsprov_queue RESULT...: results moto's docker-less Invoke answers, in order.
awsprov_queue() {
  jq -cn --args '{region:"us-east-1",results:$ARGS.positional}' "$@" >"$TRASH/queue.json" &&
  curl -sf -X POST "$MOTO_URL/moto-api/static/lambda-simple/response" -d @"$TRASH/queue.json" >/dev/null
}

# start_lambda_local [OPTIONS]: ht-lambda-local on a free port, stopped at
# the end of the file (also when started inside a test); sets LL_URL and
# LL_PID. Its stderr goes to $TRASH/ll.log.
start_lambda_local() {
  rm -f "$TRASH/ll.port"
  ht-lambda-local --port-file "$TRASH/ll.port" "$@" >"$TRASH/ll.out" 2>>"$TRASH/ll.log" &
  _ll_pid=$!
  echo $_ll_pid >>"$TRASH/ll.pids"
  _i=0
  while [ ! -s "$TRASH/ll.port" ] && [ $_i -lt 100 ]; do
    kill -0 $_ll_pid 2>/dev/null || { cat "$TRASH/ll.log" >&2; return 1; }
    sleep 0.05; _i=$((_i + 1))
  done
  LL_PID=$_ll_pid
  LL_URL=http://127.0.0.1:$(cat "$TRASH/ll.port")
}

# stop_lambda_local: stops the last one started (SIGTERM) and waits for it.
stop_lambda_local() {
  kill "$LL_PID" 2>/dev/null
  _i=0
  while kill -0 "$LL_PID" 2>/dev/null && [ $_i -lt 100 ]; do sleep 0.05; _i=$((_i + 1)); done
  ! kill -0 "$LL_PID" 2>/dev/null &&
  if grep -q "Sanitizer\|runtime error" "$TRASH/ll.log"; then cat "$TRASH/ll.log" >&2; return 1; fi
}

# awsprov_plan N [JSON]: N ht.test/1 records of run "run-aws" that run
# `true`, each merged with JSON.
awsprov_plan() {
  jq -cn --argjson n "$1" --argjson x "${2:-{\}}" \
    'range($n) | {schema:"ht.test/1",run_id:"run-aws",test_id:"t\(.)",name:"tests/t\(.).sh",
      file:"tests/t\(.).sh",runner:"command",index:.,timeout_s:5,run:{shell:"true",outcome:"exit"}} * $x'
}

# Whatever ht-lambda-local a test started is stopped when the file ends.
test_at_end 'for _p in $(cat "$TRASH/ll.pids" 2>/dev/null); do kill $_p 2>/dev/null; done'
