#!/bin/sh
# ht-plan's batches (batch_target_ms, batch_max_tests) and groups: what is
# packed and what is not, the batch record, and the config errors.
. "$HT_SRC/tests/lib.sh"

test_need jq

mkdir -p proj/tests/db proj/tests/ui && cd proj || exit 1
for i in 01 02 03 04 05 06 07 08 09 10; do echo true >tests/ui/t$i.sh; done
for i in 1 2 3 4; do echo true >tests/db/t$i.sh; done
cat >hypertest.json <<'JSON'
{"runner": {"tests": ["tests/**/*.sh"], "run": "sh {file}"}, "concurrency": 2, "timeout_s": 30}
JSON

test_expect_success 'batching is off by default: one record per test' '
	ht-plan >plan.jsonl &&
	test "$(wc -l <plan.jsonl)" = 14 &&
	test_jq "has(\"batch\") | not" plan.jsonl
'

test_expect_success 'with no known duration, tests are packed up to batch_max_tests, in whole rounds of slots' '
	ht-plan --set batch_target_ms=1000 --set batch_max_tests=4 >plan.jsonl &&
	# 14 tests, at most 4 a batch: 4 batches (a multiple of concurrency 2).
	test "$(wc -l <plan.jsonl)" = 4 &&
	test_jq ".batch | length >= 3 and length <= 4" plan.jsonl &&
	test_jq -s "[.[].batch[].name] | length == 14 and (unique | length) == 14" plan.jsonl &&
	test_jq -s "map(.index) == [0,1,2,3]" plan.jsonl &&
	# In plan order: the first batch starts with the first test.
	test_jq -s ".[0].batch[0].name == \"tests/db/t1.sh\"" plan.jsonl
'

test_expect_success 'the batch record: its members keep their own test_id, run and timeout_s' '
	ht-plan --set batch_target_ms=1000 --set batch_max_tests=4 >plan.jsonl &&
	ht-plan --set batch_max_tests=4 >single.jsonl &&
	head -n 1 plan.jsonl >b.json &&
	test_jq ".test_id | test(\"^b-tests-db-t1-sh-[0-9a-f]{8}$\")" b.json &&
	test_jq ".name | test(\"^tests/db/t1.sh \\\\(\\\\+[0-9]+ more\\\\)$\")" b.json &&
	test_jq ".run == {} and .runner == \"command\" and (.run_id | length) == 36" b.json &&
	test_jq ".timeout_s == 30 * (.batch | length)" b.json &&
	test_jq "all(.batch[]; has(\"run\") and .timeout_s == 30 and (has(\"schema\") | not) and (has(\"run_id\") | not))" b.json &&
	# Exactly the test ids and runs the tests have when planned alone.
	jq -c ".batch[] | {test_id, name, run}" plan.jsonl | sort >members &&
	jq -c "{test_id, name, run}" single.jsonl | sort >alone &&
	test_cmp alone members &&
	# The same members, the same batch id.
	ht-plan --set batch_target_ms=1000 --set batch_max_tests=4 >again.jsonl &&
	test "$(jq -r .test_id again.jsonl)" = "$(jq -r .test_id plan.jsonl)"
'

test_expect_success 'known durations: long tests alone, short ones packed up to the target, unknown ones as the median' '
	ht-plan >single.jsonl &&
	jq -c "{schema:\"ht.result/1\", test_id, status:\"passed\",
	        duration_ms: (if .name == \"tests/ui/t01.sh\" then 5000 elif (.name | startswith(\"tests/ui\")) then 100 else 200 end)}" \
		single.jsonl | grep -v t02 >res.jsonl &&
	ht-plan --durations res.jsonl --set batch_target_ms=450 >plan.jsonl &&
	# t01 (5 s) alone, with its expected_ms.
	test_jq -s "map(select(.name == \"tests/ui/t01.sh\")) | length == 1 and .[0].expected_ms == 5000" plan.jsonl &&
	# No batch is over the target by more than one test.
	test_jq -s "all(.[] | select(.batch); .expected_ms == null or .expected_ms <= 450 + 200)" plan.jsonl &&
	test_jq -s "[.[] | select(.batch)] | length >= 2" plan.jsonl &&
	test_jq -s "[.[] | if .batch then .batch[] else . end | .name] | length == 14" plan.jsonl &&
	# t02 has no duration: it counts as the median of the known ones.
	test_jq -s "[.[] | select(.batch) | .batch[] | select(.name == \"tests/ui/t02.sh\")][0] | .expected_from == \"median\" and .expected_ms == 100" plan.jsonl &&
	test_jq -s "all(.[] | select(.batch and all(.batch[]; .expected_ms)); .expected_ms == ([.batch[].expected_ms] | add))" plan.jsonl
'

test_expect_success 'a batch timeout is the sum of its members, at most 900 s' '
	ht-plan --set batch_target_ms=1000 --set batch_max_tests=100 --set concurrency=1 --set timeout_s=300 >plan.jsonl &&
	test "$(wc -l <plan.jsonl)" = 1 &&
	test_jq ".timeout_s == 900 and (.batch | length) == 14" plan.jsonl
'

test_expect_success 'groups: each record names its group; batches never mix groups' '
	ht-plan --set "groups=[{\"name\":\"db\",\"match\":\"tests/db/*\",\"max\":1}]" >plan.jsonl &&
	test_jq "if (.name | startswith(\"tests/db/\")) then .group == \"db\" and .group_max == 1 else has(\"group\") | not end" plan.jsonl &&
	ht-plan --set batch_target_ms=1000 --set batch_max_tests=50 \
		--set "groups=[{\"name\":\"db\",\"match\":\"tests/db/*\",\"max\":1}]" >plan.jsonl &&
	test_jq -s "[.[] | select(.group == \"db\") | .batch[].name] | sort == [\"tests/db/t1.sh\",\"tests/db/t2.sh\",\"tests/db/t3.sh\",\"tests/db/t4.sh\"]" plan.jsonl &&
	test_jq -s "[.[] | select(.group == null) | .batch[].name] | all(startswith(\"tests/ui/\")) and length == 10" plan.jsonl &&
	# db is capped at 1: one batch of its 4 tests; ui on 2 slots: 2.
	test_jq -s "map(select(.group == \"db\")) | length == 1" plan.jsonl &&
	test_jq -s "map(select(.group == null)) | length == 2" plan.jsonl
'

test_expect_success 'a group matches by name, first group wins' '
	ht-plan --set "groups=[{\"name\":\"one\",\"match\":\"*t01*\",\"max\":3},{\"name\":\"ui\",\"match\":\"tests/ui/*\",\"max\":2}]" >plan.jsonl &&
	test_jq "select(.name == \"tests/ui/t01.sh\") | .group == \"one\" and .group_max == 3" plan.jsonl &&
	test_jq "select(.name == \"tests/ui/t02.sh\") | .group == \"ui\"" plan.jsonl
'

test_expect_success '--grep selects before packing' '
	ht-plan --grep "t0[1-3]" --set batch_target_ms=1000 >plan.jsonl &&
	test_jq -s "[.[] | if .batch then .batch[] else . end | .name] | sort == [\"tests/ui/t01.sh\",\"tests/ui/t02.sh\",\"tests/ui/t03.sh\"]" plan.jsonl
'

test_expect_success 'bad batch and group settings are config errors (78)' '
	test_expect_code 78 ht-plan --set batch_target_ms=-1 2>err &&
	test_grep "batch_target_ms: expected an integer from 0 to 900000" err &&
	test_expect_code 78 env HT_BATCH_MAX_TESTS=0 ht-plan 2>err &&
	test_grep "HT_BATCH_MAX_TESTS: expected an integer from 1 to 10000" err &&
	echo "{\"groups\": [{\"name\": \"db\", \"match\": \"x\", \"max\": 0}]}" >bad.json &&
	test_expect_code 78 ht-plan -c bad.json 2>err &&
	test_grep "bad.json:1:13: groups\[0\]: max: expected an integer from 1 to 10000, got 0" err &&
	echo "{\"groups\": [{\"name\": \"db\", \"max\": 2}]}" >bad.json &&
	test_expect_code 78 ht-plan -c bad.json 2>err &&
	test_grep "neither match" err &&
	echo "{\"groups\": [{\"name\": \"db\", \"match\": \"x\", \"max\": 2, \"cap\": 1}]}" >bad.json &&
	test_expect_code 78 ht-plan -c bad.json 2>err &&
	test_grep "cap.: unknown member" err &&
	echo "{\"groups\": [{\"name\":\"a\",\"tag\":\"x\",\"max\":1}, {\"name\":\"a\",\"tag\":\"y\",\"max\":1}]}" >bad.json &&
	test_expect_code 78 ht-plan -c bad.json 2>err &&
	test_grep "groups\[1\]: name: .a. is the name of groups\[0\] too" err &&
	echo "{\"groups\": {\"name\": \"db\"}}" >bad.json &&
	test_expect_code 78 ht-plan -c bad.json 2>err &&
	test_grep "groups: expected an array of groups" err &&
	test_expect_code 78 ht-plan --set "groups=[{\"name\":\"d\"}" 2>err &&
	test_grep "invalid JSON" err
'

test_expect_success 'ht-doctor --print-schema knows the keys' '
	ht-doctor --print-schema >schema.jsonl &&
	test_jq -s "any(.[]; .key == \"groups\" and .type == \"group list\")" schema.jsonl &&
	test_jq -s "any(.[]; .key == \"batch_target_ms\" and .default == null and (.default_doc | contains(\"2000\") and contains(\"pytest\")))" schema.jsonl
'

test_done
