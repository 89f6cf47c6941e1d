# Shared by the ht-report tests (t055x): a real run with every outcome,
# and records made by hand for what a run cannot make cheaply.

# make_run DIR: a project in DIR whose tests pass, fail (with 30 lines of
# output, </script> and bytes that are not UTF-8), skip, time out and
# pass on a retry, run by ht-plan | ht-invoke on the local provider with
# no sandbox. Leaves DIR/results.jsonl, the bucket DIR/.hypertest/bucket
# and RUN_ID (the run's id). Returns ht-invoke's exit code (1).
make_run() {
  mkdir -p "$1/tests" &&
  cat >"$1/hypertest.json" <<-\EOT &&
	{"provider":"local","local":{"sandbox":"none"},"timeout_s":1,"retries":1,"concurrency":3,
	 "runner":{"name":"command","tests":["tests/*.sh"],"run":"sh {file}"}}
	EOT
  echo 'echo hello' >"$1/tests/pass-a.sh" &&
  echo 'sleep 0.3; echo done' >"$1/tests/pass-b.sh" &&
  cat >"$1/tests/fail.sh" <<-\EOT &&
	echo "assert failed: 1 != 2"
	printf '</script><b>x</b> \377\376 end\n'
	i=1; while [ $i -le 30 ]; do echo "line $i"; i=$((i + 1)); done
	exit 1
	EOT
  echo 'echo "no database here"; exit 77' >"$1/tests/skip.sh" &&
  echo 'echo starting; sleep 10' >"$1/tests/slow.sh" &&
  echo 'c=${HT_BUCKET#file://}/flaky.count; n=$(cat $c 2>/dev/null || echo 0); echo $((n + 1)) >$c; echo "run $n"; test $n -ge 1' \
    >"$1/tests/flaky.sh" &&
  (cd "$1" && ht-plan >plan.jsonl) || return 70
  _rc=0
  (cd "$1" && ht-invoke -q plan.jsonl >results.jsonl) || _rc=$?
  RUN_ID=$(jq -r .run_id "$1/plan.jsonl" | head -n 1)
  return $_rc
}

# result ID STATUS [JSON]: a final ht.result/1 record made by hand,
# merged with JSON.
result() {
  jq -cn --arg id "$1" --arg st "$2" --argjson x "${3:-{\}}" \
    '{schema:"ht.result/1",run_id:"run-x",test_id:$id,name:("tests/"+$id+".sh"),file:("tests/"+$id+".sh"),
      status:$st,ok:($st == "passed" or $st == "skipped" or $st == "flaky"),duration_ms:100,
      message:("it " + $st),started_at:"2026-11-25T16:24:58.000Z",attempt:1,
      attempts:[{attempt:1,status:(if $st == "flaky" then "passed" else $st end),duration_ms:100,message:("it " + $st)}]} * $x'
}
