#!/bin/sh
# A stand-in for ht-runner that speaks the Lambda Runtime API with curl, so
# that the local provider's failure paths can be driven on purpose. It runs
# an event's run.shell with /bin/sh and answers an ht.result/1 record. The
# event's run.fake member picks a misbehaviour:
#   hang    take the invocation and never answer (sleep run.hang_s, 1000)
#   error   answer through /invocation/<id>/error
#   crash   die (SIGKILL) in the middle of the invocation
#   crash-once  die the first time (a marker in the bucket), then work
#   garbage answer something that is not a record
# FAKE_INIT_ERROR=msg in the environment: report /init/error and exit.
api=http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime
if [ -n "${FAKE_INIT_ERROR:-}" ]; then
  curl -sS -X POST -d "{\"errorType\":\"Fake\",\"errorMessage\":\"$FAKE_INIT_ERROR\"}" "$api/init/error" >/dev/null
  exit 1
fi
dir=$(mktemp -d)
while :; do
  curl -sS -f -D "$dir/hdr" -o "$dir/ev" "$api/invocation/next" || exit 1
  id=$(tr -d '\r' <"$dir/hdr" | sed -n 's/^[Ll]ambda-[Rr]untime-[Aa]ws-[Rr]equest-[Ii]d: *//p')
  case $(jq -r '.run.fake // ""' "$dir/ev") in
    hang) sleep "$(jq -r '.run.hang_s // 1000' "$dir/ev")"; exit 1 ;;
    error) curl -sS -X POST -d '{"errorType":"Fake","errorMessage":"boom"}' "$api/invocation/$id/error" >/dev/null; continue ;;
    crash) kill -9 $$ ;;
    crash-once)
      m=${HT_BUCKET#file://}/crash-once.$(jq -r .test_id "$dir/ev")
      [ -e "$m" ] || { : >"$m"; kill -9 $$; } ;;
    garbage) curl -sS -X POST -d 'hello' "$api/invocation/$id/response" >/dev/null; continue ;;
  esac
  start=$(date +%s%3N)
  sh -c "$(jq -r '.run.shell // "true"' "$dir/ev")" >"$dir/out" 2>&1
  rc=$?
  end=$(date +%s%3N)
  if [ $rc -eq 0 ]; then st=passed; else st=failed; fi
  jq -c --arg st "$st" --argjson rc $rc --argjson d $((end - start)) --rawfile out "$dir/out" \
    '{schema:"ht.result/1",run_id,test_id,name,file,status:$st,ok:($st=="passed"),duration_ms:$d,
      exit_code:$rc,signal:null,message:(if $rc==0 then "" else "exit code \($rc)" end),
      output_tail:$out,artifacts:[],attempt}' "$dir/ev" >"$dir/res"
  curl -sS -X POST --data-binary @"$dir/res" "$api/invocation/$id/response" >/dev/null
done
