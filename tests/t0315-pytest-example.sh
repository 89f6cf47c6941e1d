#!/bin/sh
# End to end: examples/pytest through mk/hypertest.mk with the real
# ht-plan and ht-invoke on the local provider, as `make demo-pytest` runs it.
. "$HT_SRC/tests/lib.sh"

test_need make jq
need_pytest
for t in ht-plan ht-invoke ht-runner; do
	[ -x "$HT_BIN/$t" ] || test_skip_all "$t is not built yet ($HT_BIN/$t does not exist)"
done

mkdir -p examples mk && cp -R "$HT_SRC/examples/pytest" examples/ && cp "$HT_SRC/mk/hypertest.mk" mk/ &&
rm -rf examples/pytest/.hypertest || exit 1
S=examples/pytest
H=$S/.hypertest

test_expect_success 'make demo (file granularity): 4 files batched, one record per node id, none failed' '
	make -C $S HT_BIN="$HT_BIN" PYTHON="$PYTEST_PY" demo >out 2>err &&
	# Quick files share a pytest process (batching is on by default):
	# at most one invocation per file, never one file split.
	test_jq -s "length <= 4 and (map(.batch // [.] | .[] | .run.nodeids | length) | add) == 42" $H/plan.jsonl &&
	test_jq -s "map(.batch // [.] | .[] | .name) | sort == [\"tests/test_files.py\", \"tests/test_slug.py\", \"tests/test_stats.py\", \"tests/test_wrap.py\"]" $H/plan.jsonl &&
	# ht-invoke writes a final record per case, each naming its invocation.
	test_jq -s "length == 42 and all(.ok) and all(has(\"cases\") | not)" $H/results.jsonl &&
	test_jq -s "map(.group_name) | unique | length == $(wc -l <$H/plan.jsonl)" $H/results.jsonl &&
	test_jq -s "map(.test_id) | unique | length == 42" $H/results.jsonl &&
	test_grep "42 tests in .*: 38 passed, 4 skipped" err &&
	test_grep "node ids: 38 passed, 2 skipped, 2 xfailed" out &&
	test -z "$(find $S -name __pycache__ -o -name .pytest_cache)"
'

test_expect_success 'the ids that need care ran as themselves' '
	jq -r ".name" $H/results.jsonl >names &&
	grep -F -x "tests/test_slug.py::test_slugify[caf\\xe9]" names &&
	grep -F -x "tests/test_slug.py::test_slugify[a::b]" names &&
	grep -F -x "tests/test_slug.py::test_slugify[[brackets]]" names &&
	grep -F -x "tests/test_slug.py::test_slugify[two words]" names &&
	test_jq -s "[.[] | select(.name | endswith(\"test_hyphenated_strict\"))][0].outcome == \"xfailed\"" $H/results.jsonl
'

test_expect_success 'make demo FAIL=1: the test behind the switch fails, with its message' '
	test_must_fail 2 make -C $S HT_BIN="$HT_BIN" PYTHON="$PYTEST_PY" demo FAIL=1 >out 2>err &&
	test_grep "test_failing_on_purpose: failed, AssertionError: TEXTKIT_FAIL=1: failing on purpose" out &&
	test_grep "node ids: 1 failed, 37 passed" out
'

test_expect_success 'make demo GRANULARITY=test: one record per node id' '
	make -C $S HT_BIN="$HT_BIN" PYTHON="$PYTEST_PY" demo GRANULARITY=test >out 2>err &&
	test_jq -s "length == 42 and all(.ok) and all(has(\"cases\") | not)" $H/results.jsonl
'

test_done
