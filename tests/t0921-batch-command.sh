#!/bin/sh
# Batches with the command runner: one invocation runs its tests one after
# the other, each judged on its own with its own output, time and test id;
# a failure or a hang is its test's alone; a retry runs only those again.
. "$HT_SRC/tests/lib.sh"

test_need jq
for t in ht-plan ht-invoke ht-runner; do
	[ -x "$HT_BIN/$t" ] || test_skip_all "$t is not built yet ($HT_BIN/$t does not exist)"
done

mkdir -p proj/tests && cd proj || exit 1
LOG=$TRASH/log
export LOG
# Each test logs its name, its runner's pid (one ht-runner per
# invocation), its HT_TEST_ID and its attempt; t3 fails on the first
# attempt only, t5 always.
for i in 1 2 3 4 5 6; do
	cat >tests/t$i.sh <<EOF
echo "t$i \$PPID \$HT_TEST_ID \$HT_ATTEMPT" >>"\$LOG"
echo "output of t$i"
echo "t$i" >"\$HT_OUTPUT_DIR/mine.txt"
EOF
done
echo '[ "$HT_ATTEMPT" != 1 ] || { echo "t3 fails once" >&2; exit 3; }' >>tests/t3.sh
echo 'echo "t5 always fails" >&2; exit 5' >>tests/t5.sh
cat >hypertest.json <<JSON
{"runner": {"tests": ["tests/*.sh"], "run": "sh {file}", "env": {"LOG": "$LOG"}},
 "local": {"sandbox": "none"}, "concurrency": 2, "timeout_s": 20,
 "batch_target_ms": 1000, "batch_max_tests": 3}
JSON

test_expect_success 'two batches of three: one invocation each, one record per test' '
	ht-plan >plan.jsonl &&
	test "$(wc -l <plan.jsonl)" = 2 &&
	ht-plan --set batch_target_ms=0 >single.jsonl &&
	: >"$LOG" &&
	test_expect_code 1 ht-invoke -o res.jsonl plan.jsonl 2>err &&
	test "$(wc -l <res.jsonl)" = 6 &&
	# Each test ran once, as itself; the three of a batch under one
	# runner (pid). The two batches may share one: a warm sandbox that
	# finished the first can take the second.
	test "$(wc -l <"$LOG")" = 6 &&
	test "$(jq -r .group_test_id res.jsonl | sort -u | wc -l)" = 2 &&
	jq -r "\"\(.test_id) \(.group_test_id)\"" res.jsonl | sort >groups &&
	awk "{ print \$3, \$2 }" "$LOG" | sort >pids &&
	join groups pids | awk "{ print \$2, \$3 }" | sort -u >grouppids &&
	test "$(wc -l <grouppids)" = 2 &&
	test "$(cut -d" " -f1 grouppids | sort -u | wc -l)" = 2 &&
	jq -r "\"\(.name) \(.test_id)\"" single.jsonl | sort >want &&
	jq -r "\"\(.name) \(.test_id)\"" res.jsonl | sort >got &&
	test_cmp want got &&
	while read -r name id; do
		grep -q "^$(basename $name .sh) [0-9]* $id 1$" "$LOG" || { echo "no $name as $id" >&2; exit 1; }
	done <want &&
	test_jq "(.group_test_id | startswith(\"b-\")) and (.group_name | test(\"more\\\\)$\"))" res.jsonl &&
	test_jq "has(\"cases\") | not" res.jsonl
'

test_expect_success 'a failure is its test only; each has its own output, time and artifacts' '
	st() { jq -r "select(.name == \"tests/$1.sh\") | .status" res.jsonl; } &&
	test "$(st t1)" = passed && test "$(st t2)" = passed && test "$(st t3)" = failed &&
	test "$(st t4)" = passed && test "$(st t5)" = failed && test "$(st t6)" = passed &&
	test_jq "select(.name == \"tests/t3.sh\") | .exit_code == 3 and (.message | test(\"exit code 3: t3 fails once\")) and (.output_tail | test(\"output of t3\"))" res.jsonl &&
	test_jq "select(.name == \"tests/t2.sh\") | .ok and .exit_code == 0 and .message == \"exit code 0\" and (.output_tail | test(\"output of t2\")) and (.output_tail | test(\"t3\") | not)" res.jsonl &&
	# stdout.txt and out/mine.txt each; stderr.txt only where it was written.
	test_jq "(.artifacts | length) == (if .name == \"tests/t3.sh\" or .name == \"tests/t5.sh\" then 3 else 2 end)" res.jsonl &&
	jq -c ". as \$r | .artifacts | map(split(\"/\")[1]) | unique == [\$r.test_id]" res.jsonl | sort -u >same &&
	test "$(cat same)" = true &&
	run=$(jq -r .run_id res.jsonl | head -n 1) &&
	id2=$(jq -r "select(.name == \"tests/t2.sh\") | .test_id" res.jsonl) &&
	test "$(cat .hypertest/bucket/$run/$id2/out/mine.txt)" = t2 &&
	test_jq "(.started_at | test(\"Z$\")) and .duration_ms >= 0" res.jsonl &&
	test_grep "6 tests in .*: 4 passed, 2 failed" err &&
	test_grep "failed.*tests/t5.sh: exit code 5: t5 always fails (output: .*/$run/t-tests-t5-sh-" err
'

test_expect_success 'a retry runs only the members that failed; one that passes then is flaky' '
	: >"$LOG" &&
	test_expect_code 1 ht-invoke --retries 1 -o res.jsonl plan.jsonl 2>err &&
	test "$(wc -l <res.jsonl)" = 6 &&
	# 6 first attempts, then t3 and t5 again.
	test "$(wc -l <"$LOG")" = 8 &&
	test "$(grep -c " 2$" "$LOG")" = 2 &&
	grep -q "^t3 .* 2$" "$LOG" && grep -q "^t5 .* 2$" "$LOG" &&
	st() { jq -r "select(.name == \"tests/$1.sh\") | .status" res.jsonl; } &&
	test "$(st t3)" = flaky && test "$(st t5)" = failed && test "$(st t1)" = passed &&
	test_jq "select(.name == \"tests/t3.sh\") | .attempt == 2 and (.attempts | length) == 2 and (.attempts[0].retry_reason | test(\"^1 of 3 tests of the batch\"))" res.jsonl &&
	test_jq "select(.name == \"tests/t1.sh\") | .attempt == 1 and (.attempts | length) == 1" res.jsonl &&
	test_grep "6 tests in .*: 4 passed, 1 failed, 1 flaky" err
'

test_expect_success 'ht-plan --failed reads the members back as tests' '
	ht-plan --failed res.jsonl --set batch_target_ms=0 >again.jsonl &&
	test "$(jq -r .name again.jsonl)" = tests/t5.sh
'

test_expect_success 'ht-runner --once runs a batch event and answers cases' '
	head -n 1 plan.jsonl >ev.json &&
	test_expect_code 1 ht-runner --once ev.json >once.json &&
	test_jq "(.cases | length) == 3 and ([.cases[].member] == [0,1,2]) and .status == \"failed\" and .ok == false" once.json &&
	test_jq ".message | test(\"^1 failed, 2 passed \\\\(first: tests/t3.sh: exit code 3: t3 fails once\\\\)$\")" once.json &&
	test_jq "all(.cases[]; .test_id | startswith(\"t-tests-t\"))" once.json
'

test_expect_success 'a member that hangs times out as itself; the rest of its batch still runs' '
	printf "sleep 30\n" >tests/t2.sh &&
	ht-plan --set timeout_s=2 --set history.enabled=false >plan2.jsonl &&
	: >"$LOG" &&
	test_expect_code 1 ht-invoke -o res2.jsonl plan2.jsonl 2>err &&
	st() { jq -r "select(.name == \"tests/$1.sh\") | .status" res2.jsonl; } &&
	test "$(st t2)" = timed_out && test "$(st t1)" = passed && test "$(st t3)" = failed &&
	test_jq "select(.name == \"tests/t2.sh\") | .message == \"timed out after 2 s\" and .duration_ms < 5000" res2.jsonl &&
	grep -q "^t3 " "$LOG"
'

test_expect_success 'a member left without time is reported as not run, never lost' '
	# A batch of 2 s whose first member sleeps: the second gets no time.
	jq -c "select(.batch[0].name == \"tests/t1.sh\") | .timeout_s = 2 | .batch[0].run.argv = [\"sleep\", \"30\"] | .batch[0].timeout_s = 20" \
		plan2.jsonl >one.jsonl &&
	test_expect_code 1 ht-invoke -o res3.jsonl one.jsonl 2>err &&
	test "$(wc -l <res3.jsonl)" = 3 &&
	test_jq "select(.name == \"tests/t1.sh\") | .status == \"timed_out\"" res3.jsonl &&
	test_jq "select(.name != \"tests/t1.sh\") | .status == \"error\" and .not_run == true and .error.code == \"not_run\" and (.message | test(\"^not run: the batch.s 2.0 s were used up\"))" res3.jsonl
'

test_expect_success 'an interrupted batch ends in one interrupted record per test' '
	jq -c "select(.batch[0].name == \"tests/t1.sh\") | .batch[1].run.argv = [\"sleep\", \"37.1\"]" plan.jsonl >int.jsonl &&
	{ ht-invoke -o res4.jsonl int.jsonl >out 2>err & pid=$!; } &&
	wait_descendant $pid "sleep 37\.1" >/dev/null &&
	kill -TERM $pid &&
	{ wait $pid; rc=$?; } ; test $rc = 143 &&
	test "$(wc -l <res4.jsonl)" = 3 &&
	test_jq ".status == \"interrupted\" and (.group_test_id | startswith(\"b-\"))" res4.jsonl &&
	jq -r .name res4.jsonl | sort >names &&
	printf "tests/t1.sh\ntests/t2.sh\ntests/t3.sh\n" >want &&
	test_cmp want names
'

test_expect_success 'a bad batch in a plan is refused before anything runs (65)' '
	head -n 1 plan.jsonl | jq -c ".batch[1].test_id = \"../x\"" >bad.jsonl &&
	test_expect_code 65 ht-invoke bad.jsonl 2>err &&
	test_grep "bad.jsonl:1: batch\[1\]: test_id" err &&
	head -n 1 plan.jsonl | jq -c ".batch = []" >bad.jsonl &&
	test_expect_code 65 ht-invoke bad.jsonl 2>err &&
	test_grep "batch: expected a non-empty array" err &&
	head -n 1 plan.jsonl | jq -c ".group = \"db\" | .group_max = 0" >bad.jsonl &&
	test_expect_code 65 ht-invoke bad.jsonl 2>err &&
	test_grep "group_max: expected an integer from 1 to 10000" err
'

test_done
