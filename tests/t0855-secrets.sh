#!/bin/sh
# Secrets stay where they were put. Known fake secrets: AWS_SECRET_ACCESS_KEY
# and AWS_SESSION_TOKEN in the environment, a registry password (docker's
# config.json: ht-pull against a Basic-auth registry), a runner.env value
# (API_TOKEN, which the test checks by its hash and never prints). A full
# run on the local provider (bwrap when it works, else sandbox none) and,
# with moto_server, on the aws provider (signatures checked; Invoke on
# ht-lambda-local running the real runner, S3 on moto), every tool with
# -vv, ht-report's text, --html, --junit, --trace; meanwhile every
# process's /proc/PID/cmdline is sampled. Then grep -r -F over every file
# the runs produced (results, logs under .hypertest, the buckets, the
# image store, reports, each tool's stdout and stderr, the cmdline
# samples) finds none of them, nor the password's base64 (user:password).
# Allowed, and left out of the search: the files the secrets were put in
# (hypertest.json and its aws variant, the auth file), the plan (its records carry runner.env
# to the runner as the event: by design, docs/configuration.md), and
# what only the servers wrote (moto's and the registry's own files).
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/ht-awsprov-lib.sh"

S_KEY=fakeAWSsecret0855xQ7vL2
S_TOKEN=fakeSESSIONtoken0855Pw9Zr
S_REG=fakeREGISTRYpw0855Kd3Yt
S_ENV=fakeRUNNERENV0855Mn5Hc
S_ENV_SHA=$(printf %s "$S_ENV" | sha256sum | cut -c1-64)

# leaks DIR...: every file under DIR that holds one of the secrets, but
# the allowed ones; prints them with the secret's name.
leaks() {
  for _s in S_KEY S_TOKEN S_REG S_REG64 S_ENV ${S_MOTO:+S_MOTO}; do
    eval "_v=\$$_s"
    grep -r -F -l -e "$_v" "$@" 2>/dev/null | grep -v -e '/hypertest\.json$' -e '/auth\.json$' \
      -e '/plan[^/]*\.jsonl$' -e '/moto\.log$' -e '/key\.xml$' -e '/reg-[^/]*/' -e '/lambda\.json$' -e '/aws\.json$' |
      sed "s/^/$_s: /"
  done
}

# sample_cmdlines FILE: until FILE.stop exists, appends "PID CMDLINE" of
# every process to FILE, every 10 ms (new ones only).
sample_cmdlines() {
  python3 - "$1" <<'PY'
import os, sys, time
out, seen = open(sys.argv[1], "a"), set()
while not os.path.exists(sys.argv[1] + ".stop"):
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            c = open("/proc/%s/cmdline" % pid, "rb").read().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        if (pid, c) not in seen:
            seen.add((pid, c))
            out.write("%s %s\n" % (pid, c))
    out.flush()
    time.sleep(0.01)
PY
}

mkdir proj proj/tests && cd proj || exit 1
printf '#!/bin/sh\n[ "$(printf %%s "$API_TOKEN" | sha256sum | cut -c1-64)" = %s ] && echo token ok && sleep 1\n' \
  "$S_ENV_SHA" >tests/token.sh
printf '#!/bin/sh\necho written >"$HT_OUTPUT_DIR/out.txt"; echo failing; exit 3\n' >tests/fails.sh
printf '#!/bin/sh\nenv | grep -c . >/dev/null; sleep 1\n' >tests/sleeps.sh
chmod +x tests/*.sh
sandbox=none
have bwrap && bwrap --ro-bind / / --unshare-pid true 2>/dev/null && sandbox=bwrap
jq -n --arg e "$S_ENV" --arg s "$sandbox" '{provider:"local",local:{sandbox:$s},timeout_s:20,retries:0,
  runner:{name:"command",tests:["tests/*.sh"],run:"sh {file}",env:{API_TOKEN:$e}}}' >hypertest.json
export AWS_ACCESS_KEY_ID=AKIAFAKE0855 AWS_SECRET_ACCESS_KEY=$S_KEY AWS_SESSION_TOKEN=$S_TOKEN AWS_REGION=us-east-1
S_REG64=$(printf %s "alice:$S_REG" | base64)

test_expect_success "a run on the local provider (sandbox $sandbox), ht-report, -vv everywhere" '
  ht-plan -vv >plan.jsonl 2>plan.err &&
  test "$(wc -l <plan.jsonl)" = 3 && grep -q -F "$S_ENV" plan.jsonl &&
  { sample_cmdlines "$TRASH/cmdline.local" & sp=$!; } &&
  test_expect_code 1 ht-invoke -vv plan.jsonl >res.jsonl 2>invoke.err; rc=$?
  : >"$TRASH/cmdline.local.stop"; wait $sp
  test $rc = 0 &&
  test_jq -s "map(select(.status == \"passed\")) | length == 2" res.jsonl &&
  test_jq "select(.name == \"tests/token.sh\") | .output_tail | test(\"token ok\")" res.jsonl &&
  # the sampler saw this run'"'"'s sandboxes (bwrap, or ht-runner itself)
  pid=$(sed -n "s/.*sandbox 1 started (pid \([0-9]*\)).*/\1/p" invoke.err) && test -n "$pid" &&
  grep -E "^$pid [^ ]*(bwrap|ht-runner) " "$TRASH/cmdline.local" &&
  test_expect_code 1 ht-report -vv --html r.html --junit r.xml --trace r.json res.jsonl >report.out 2>report.err &&
  test -s r.html && test -s r.xml && test -s r.json &&
  run=$(jq -r .run_id res.jsonl | head -n 1) &&
  test_expect_code 1 ht-report -vv --run "$run" >report-run.out 2>report-run.err &&
  test -s .hypertest/bucket/$run/hypertest.results.json &&
  leaks "$TRASH" >leaks && test_cmp /dev/null leaks
'

if have docker-registry && have umoci && have htpasswd; then
  . "$HT_SRC/tests/helpers/registry-lib.sh"
  htpasswd -Bbn alice "$S_REG" >"$TRASH/htpasswd"
  start_registry reg-basic "  htpasswd:
    realm: test
    path: $TRASH/htpasswd"
  test_expect_success 'a registry password: ht-push and ht-pull with -vv, the store' '
    make_layout "$TRASH/reg-lay" t 1 && ht-pull -S store oci:$TRASH/reg-lay:t >img.json &&
    printf "{\"auths\":{\"%s\":{\"auth\":\"%s\"}}}" "$REG" "$S_REG64" >auth.json &&
    REGISTRY_AUTH_FILE=$PWD/auth.json ht-push -vv -S store oci:$TRASH/reg-lay:t $REG/app:1 >push.out 2>push.err &&
    rm -rf store &&
    REGISTRY_AUTH_FILE=$PWD/auth.json ht-pull -vv -S store $REG/app:1 >pull.out 2>pull.err &&
    test_grep "sha256:" pull.out &&
    test_must_fail 77 ht-pull -vv -S store2 $REG/app:1 >nopull.out 2>nopull.err &&
    leaks "$TRASH" >leaks && test_cmp /dev/null leaks
  '
else
  test_skip 'a registry password: ht-push and ht-pull with -vv, the store' 'docker-registry, umoci or htpasswd is not installed'
fi

if ! have moto_server; then
  test_skip 'a run on the aws provider' 'moto_server is not installed (pip install moto[server])'
elif ! have ht-aws-probe || ! awsprov_moto; then
  test_skip 'a run on the aws provider' 'moto_server does not start, or ht-aws-probe is not built'
else
  # moto checks signatures: its own key for the user; no session token
  # (moto has none for an IAM user's key). Its secret is searched for too.
  S_MOTO=$AWS_SECRET_ACCESS_KEY
  unset AWS_SESSION_TOKEN
  test_expect_success 'a run on the aws provider: Invoke on ht-lambda-local, S3 on moto' '
    ht-aws-probe s3-mb bkt &&
    jq -n --arg e "$S_ENV" "{provider:\"local\",local:{sandbox:\"none\"},aws:{function:\"tests\"},timeout_s:20}" >lambda.json &&
    start_lambda_local -c "$PWD/lambda.json" -j 2 &&
    jq --arg e "$S_ENV" ".provider = \"aws\" | .aws = {function:\"tests\",bucket:\"bkt\"}" hypertest.json >aws.json &&
    ht-plan -vv -c aws.json >plan-aws.jsonl 2>plan-aws.err &&
    { sample_cmdlines "$TRASH/cmdline.aws" & sp=$!; } &&
    AWS_ENDPOINT_URL_LAMBDA=$LL_URL ht-invoke -vv -c aws.json plan-aws.jsonl >res-aws.jsonl 2>invoke-aws.err; rc=$?
    : >"$TRASH/cmdline.aws.stop"; wait $sp
    test $rc = 1 &&
    test_jq -s "map(select(.status == \"passed\")) | length == 2" res-aws.jsonl &&
    run=$(jq -r .run_id res-aws.jsonl | head -n 1) &&
    test_expect_code 1 ht-report -vv -c aws.json --run "$run" --html aws.html >report-aws.out 2>report-aws.err &&
    stop_lambda_local &&
    mkdir bucket-aws && ht-aws-probe s3-list bkt >bucket-aws/list &&
    for k in $(cut -f1 bucket-aws/list); do
      ht-aws-probe s3-get bkt "$k" >"bucket-aws/$(echo "$k" | tr / _)" || return 1
    done &&
    ls bucket-aws | grep -q results &&
    leaks "$TRASH" >leaks && test_cmp /dev/null leaks
  '
fi

test_done
