#!/bin/sh
# The pytest plugin batches by default (its schema's batch_target_ms,
# docs/runner-pytest.md#batching): with no history, 500 quick node ids at
# concurrency 2 make a few pytest processes, at concurrency 1000 one each;
# `batch_target_ms: 0` turns it off; `file` granularity packs whole files,
# batch_max_tests counting node ids. Plans only; t0318 runs them.
. "$HT_SRC/tests/lib.sh"

test_need jq
need_pytest

mkdir -p proj/tests && cd proj || exit 1
for f in 0 1 2 3 4 5 6 7 8 9; do
	printf 'import pytest\n@pytest.mark.parametrize("i", range(50))\ndef test_q%s(i):\n    assert i >= 0\n' $f \
		>tests/test_s$f.py
done
cat >hypertest.json <<JSON
{"runner": {"name": "pytest", "python": "$PYTEST_PY"}, "timeout_s": 60}
JSON
# members FILE: how many node ids the plan runs, over all its invocations.
members() { jq -s "map(.batch // [.] | .[] | .run.nodeids | length) | add" "$1"; }

test_expect_success 'the default: batch_target_ms 2000 with pytest, 60000 (20 tests) with playwright, 0 with the command runner' '
	ht-doctor --print-config >cfg.json &&
	test_jq ".batch_target_ms == 2000 and .batch_max_tests == 200" cfg.json &&
	ht-doctor --print-config --set runner.name=command --set runner.run=true >cmd.json &&
	test_jq ".batch_target_ms == 0" cmd.json &&
	ht-doctor --print-config --set runner.name=playwright >pw.json &&
	test_jq ".batch_target_ms == 60000 and .batch_max_tests == 20" pw.json &&
	ht-doctor --print-schema >schema.jsonl &&
	test_jq -s "any(.[]; .key == \"batch_target_ms\" and .default_doc == \"\`2000\` with \`pytest\`, \`60000\` with \`playwright\`, else \`0\` (off)\")" schema.jsonl &&
	test_jq -s "any(.[]; .key == \"batch_max_tests\" and .default_doc == \"\`20\` with \`playwright\`, else \`200\`\")" schema.jsonl
'

test_expect_success 'concurrency 2, no history: 500 node ids in 4 pytest processes, 2 a slot' '
	ht-plan --set concurrency=2 >plan.jsonl &&
	test "$(wc -l <plan.jsonl)" = 4 &&
	test_jq -s "all(.[]; (.batch | length) == 125 and (.test_id | startswith(\"b-\")))" plan.jsonl &&
	test "$(members plan.jsonl)" = 500 &&
	# each node id keeps the test id it has alone
	ht-plan --set concurrency=2 --set batch_target_ms=0 >single.jsonl &&
	test "$(wc -l <single.jsonl)" = 500 &&
	jq -r ".batch[] | .test_id" plan.jsonl | sort >batched.ids &&
	jq -r ".test_id" single.jsonl | sort >single.ids &&
	test_cmp single.ids batched.ids
'

test_expect_success 'concurrency 1000: one invocation per node id, no batch to wait behind' '
	ht-plan --set concurrency=1000 >wide.jsonl &&
	test "$(wc -l <wide.jsonl)" = 500 &&
	test_jq -s "all(.[]; has(\"batch\") | not)" wide.jsonl &&
	ht-plan --set concurrency=50 >mid.jsonl &&
	test "$(wc -l <mid.jsonl)" = 50 && test "$(members mid.jsonl)" = 500
'

test_expect_success 'batch_target_ms 0 (file, HT_BATCH_TARGET_MS, --set) turns it off' '
	HT_BATCH_TARGET_MS=0 ht-plan --set concurrency=2 >off1.jsonl &&
	test "$(wc -l <off1.jsonl)" = 500 &&
	jq ".batch_target_ms = 0" hypertest.json >h.json &&
	ht-plan -c h.json --set concurrency=2 >off2.jsonl &&
	test "$(wc -l <off2.jsonl)" = 500
'

test_expect_success 'with durations: a node id of 2 s or more runs alone, the quick ones are packed' '
	jq -c "{schema: \"ht.result/1\", test_id, name, status: \"passed\", ok: true,
		duration_ms: (if .name == \"tests/test_s3.py::test_q3[7]\" then 2500 else 3 end)}" single.jsonl >res.jsonl &&
	ht-plan --set concurrency=2 --durations res.jsonl >dplan.jsonl &&
	test_jq -s ".[0].name == \"tests/test_s3.py::test_q3[7]\" and (.[0] | has(\"batch\") | not)" dplan.jsonl &&
	test "$(members dplan.jsonl)" = 500 &&
	test "$(wc -l <dplan.jsonl)" -le 5
'

test_expect_success 'with durations in LPT order, a batch still names few files (pytest collects each)' '
	# durations that interleave the files in longest-first order
	jq -c --slurp "to_entries[] | .value | {schema: \"ht.result/1\", test_id, name, status: \"passed\", ok: true,
		duration_ms: ((.index * 7) % 13 + 1)}" single.jsonl >mixed.jsonl &&
	ht-plan --set concurrency=2 --durations mixed.jsonl >lplan.jsonl &&
	test "$(wc -l <lplan.jsonl)" = 4 &&
	test "$(members lplan.jsonl)" = 500 &&
	# 125 node ids of files of 50: 3 files, parts of 2 of them (not 10)
	test_jq -s "all(.[]; [.batch[].file] | unique | length <= 3)" lplan.jsonl
'

test_expect_success 'file granularity: whole files packed, batch_max_tests counts node ids' '
	ht-plan --set concurrency=2 --set runner.granularity=file >fplan.jsonl &&
	test "$(wc -l <fplan.jsonl)" = 4 &&
	test "$(members fplan.jsonl)" = 500 &&
	test_jq -s "all(.[]; .batch | all(.[]; .members == 50 and .run.group))" fplan.jsonl &&
	ht-plan --set concurrency=2 --set runner.granularity=file --set batch_max_tests=100 >f100.jsonl &&
	test "$(wc -l <f100.jsonl)" = 6 &&
	test_jq -s "all(.[]; (.batch // [.]) | map(.members) | add <= 100)" f100.jsonl &&
	ht-plan --set concurrency=1000 --set runner.granularity=file >fwide.jsonl &&
	test "$(wc -l <fwide.jsonl)" = 10 &&
	test_jq -s "all(.[]; (has(\"batch\") | not) and .members == 50)" fwide.jsonl
'

test_done
