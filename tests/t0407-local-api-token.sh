#!/bin/sh
# The local Runtime API serves each sandbox under a secret path: a test
# cannot take another sandbox's invocation, fail the one it runs, or post a
# forged result for it, with bwrap and with local.sandbox=none.
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/ht-invoke-lib.sh"

have_real_runner || test_skip_all 'ht-runner is not built'
have curl || test_skip_all 'curl is needed (the attacking test uses it)'
have bwrap && bwrap --ro-bind / / --unshare-pid true 2>/dev/null && modes="none bwrap" || modes=none

# The attacker: waits until the victim runs, then, for every other sandbox
# id, asks for its next invocation (with no token, and with its own) and
# answers whatever it gets with a forged "passed". It prints one line per
# request: what it asked and the HTTP code.
mkdir -p proj/tests
cat >proj/tests/attack.sh <<'EOF'
b=${HT_BUCKET#file://}
mkdir -p "$HOME/attack" && cd "$HOME/attack" || exit 1
# ht-runner keeps the Runtime API's address (and this sandbox's token) to
# itself. Any process can find the port (the sockets listening on
# 127.0.0.1); this one is told it, by the test, from ht-invoke's debug
# output, so that it attacks this run's server and no other on the
# machine.
[ -z "${AWS_LAMBDA_RUNTIME_API:-}" ] || echo "leaked $AWS_LAMBDA_RUNTIME_API"
i=0; while [ ! -s "$b/api-port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
hostport=127.0.0.1:$(cat "$b/api-port") || exit 1
token=00000000000000000000000000000001
i=0; while [ ! -e "$b/victim-started" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
sleep 0.3
n=0
for id in 1 2 3 4 5; do
  for prefix in "/sb/$id" "/sb/$id/$token" "/sb/$id/00000000000000000000000000000000"; do
    n=$((n + 1))
    # A request that gets no answer at all (000: a loaded machine) is
    # made again, twice at most; what matters is what an answer says.
    ( k=0; code=000
      while [ "$code" = 000 ] && [ $k -lt 3 ]; do
        k=$((k + 1))
        code=$(curl -sS -m 6 -D "h$n" -o "b$n" -w "%{http_code}" 2>"e$n" \
          "http://$hostport$prefix/2018-06-01/runtime/invocation/next")
      done
      echo "next $prefix $code"
      [ ! -s "e$n" ] || echo "curl said: $(head -c 200 "e$n")"
      rid=$(sed -n "s/^Lambda-Runtime-Aws-Request-Id: *\([^[:space:]]*\).*/\1/ip" "h$n")
      if [ -n "$rid" ]; then
        code=$(curl -s -m 6 -o /dev/null -w "%{http_code}" -H "Content-Type: application/json" \
          -d '{"schema":"ht.result/1","status":"passed","message":"forged"}' \
          "http://$hostport$prefix/2018-06-01/runtime/invocation/$rid/response")
        echo "forged $prefix $code"
      fi ) >"r$n" &
  done
done
wait
cat r*
EOF

# err is removed first: the shell truncates it for the new ht-invoke in the
# background, and a grep racing that truncation would find the previous
# mode's line and leave no port for sed (seen in CI under load).
for mode in $modes; do
test_expect_success "another sandbox's invocation can be neither taken nor answered ($mode)" '
  cd proj && rm -f "$BUCKET/victim-started" "$BUCKET/api-port" && mkdir -p "$BUCKET" &&
  { mkrec attacker "sh \"\$LAMBDA_TASK_ROOT/tests/attack.sh\"";
    mkrec victim "touch \${HT_BUCKET#file://}/victim-started; sleep 3; echo really fails; exit 1"; } >plan.jsonl &&
  rm -f err &&
  { env HT_BIN=$HT_BIN ht-invoke -vv -j 2 --set local.sandbox='$mode' plan.jsonl >out.jsonl 2>err & } &&
  inv=$! &&
  i=0; while ! grep -q "Runtime API on 127.0.0.1:[0-9][0-9]*," err 2>/dev/null && [ $i -lt 100 ]; do
    sleep 0.1; i=$((i + 1)); done &&
  sed -n "s/.*Runtime API on 127.0.0.1:\([0-9]*\).*/\1/p" err | head -n 1 >"$BUCKET/api-port.tmp" &&
  mv "$BUCKET/api-port.tmp" "$BUCKET/api-port" &&
  { wait $inv; rc=$?; } ; test $rc = 1 &&
  test_jq -s "map(select(.test_id == \"victim\"))[0] | .status == \"failed\" and .attempt == 1 and
    (.output_tail | test(\"really fails\"))" out.jsonl &&
  test_jq -s "map(select(.test_id == \"attacker\"))[0].status == \"passed\"" out.jsonl &&
  jq -r "select(.test_id == \"attacker\") | .output_tail" out.jsonl >attack &&
  test "$(grep -c "^next " attack)" -ge 6 &&
  ! grep -q "^forged" attack &&
  ! grep -v -e "^next .* 403$" -e "^$" attack
'
done

test_done
