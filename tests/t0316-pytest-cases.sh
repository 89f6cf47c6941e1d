#!/bin/sh
# One invocation, several tests: with file granularity ht-invoke writes one
# final record per pytest node id (the invocation's `cases`), counts node
# ids, retries the whole file when one failed and calls a node id that
# passed on the retry flaky; ht-report counts and times them once.
. "$HT_SRC/tests/lib.sh"

test_need jq
need_pytest
for t in ht-plan ht-invoke ht-runner ht-report; do
	[ -x "$HT_BIN/$t" ] || test_skip_all "$t is not built yet ($HT_BIN/$t does not exist)"
done

mkdir -p proj/tests && cd proj || exit 1
cat >hypertest.json <<JSON
{"runner": {"name": "pytest", "python": "$PYTEST_PY", "granularity": "file"},
 "local": {"sandbox": "none"}, "timeout_s": 60}
JSON
cat >tests/test_mix.py <<'PY'
import os
import pytest

def test_ok():
    pass

def test_flaky():
    # Fails on the first attempt, passes on the second.
    assert os.environ.get("HT_ATTEMPT") != "1", "first attempt"

def test_broken():
    assert 1 == 2, "always"

@pytest.mark.skip(reason="not here")
def test_skipped():
    pass
PY
cat >tests/test_other.py <<'PY'
def test_alone():
    pass
PY

test_expect_success 'one record per node id, the group named, retried as a file' '
	ht-plan >plan.jsonl &&
	test "$(wc -l <plan.jsonl)" = 2 &&
	test_expect_code 1 ht-invoke -j 2 --retries 1 -o res.jsonl plan.jsonl 2>err &&
	test "$(wc -l <res.jsonl)" = 5 &&
	st() { jq -r "select(.name == \"tests/$1\") | .status" res.jsonl; } &&
	test "$(st test_mix.py::test_ok)" = passed &&
	test "$(st test_mix.py::test_flaky)" = flaky &&
	test "$(st test_mix.py::test_broken)" = failed &&
	test "$(st test_mix.py::test_skipped)" = skipped &&
	test "$(st test_other.py::test_alone)" = passed &&
	test_jq -s "all(has(\"cases\") | not) and (map(.group_name) | unique) == [\"tests/test_mix.py\",\"tests/test_other.py\"]" res.jsonl &&
	# The file ran twice; each record keeps the invocation attempts.
	test_jq -s "[.[] | select(.group_name == \"tests/test_mix.py\") | .attempts | length] | all(. == 2)" res.jsonl &&
	test_jq -s "[.[] | select(.group_name == \"tests/test_other.py\") | .attempts | length] | all(. == 1)" res.jsonl &&
	test_jq "select(.name == \"tests/test_mix.py::test_broken\") | .ok == false and (.message | test(\"always\"))" res.jsonl &&
	test_grep "5 tests in .*: 2 passed, 1 failed, 1 flaky, 1 skipped" err
'

test_expect_success 'the run summary counts node ids' '
	run=$(jq -r .run_id res.jsonl | head -n 1) &&
	sum=.hypertest/bucket/$run/hypertest.results.json &&
	test_jq ".total == 5 and .counts.passed == 2 and .counts.failed == 1 and .counts.flaky == 1 and .counts.skipped == 1" "$sum" &&
	test_jq ".results | length == 5" "$sum"
'

test_expect_success 'ht-report counts node ids, and times each invocation once' '
	test_expect_code 1 ht-report res.jsonl >rep &&
	test_grep "^  2 passed, 1 failed, 1 flaky, 1 skipped, 0 timed out, 0 errors$" rep &&
	ht-report -q --trace trace.json res.jsonl || : &&
	# Three attempts in all: the file twice, the other file once.
	test_jq "[.traceEvents[] | select(.ph == \"X\")] | length == 3" trace.json
'

test_expect_success '--failed on these results picks the failed node id, not its file' '
	ht-plan --failed res.jsonl >again.jsonl &&
	test "$(wc -l <again.jsonl)" = 1 &&
	test_jq ".run.nodeids == [\"tests/test_mix.py::test_broken\"]" again.jsonl
'

test_done
