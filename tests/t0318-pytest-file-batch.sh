#!/bin/sh
# `file` granularity batched by default: several quick files in one
# pytest process, still one final record per node id with the test id it
# has alone; a failure is its node id's; a retry runs only the file that
# failed; the default `test` granularity makes few processes too.
. "$HT_SRC/tests/lib.sh"

test_need jq
need_pytest
for t in ht-plan ht-invoke ht-runner; do
	[ -x "$HT_BIN/$t" ] || test_skip_all "$t is not built yet ($HT_BIN/$t does not exist)"
done

mkdir -p proj/tests && cd proj || exit 1
PIDS=$TRASH/pids
cat >hypertest.json <<JSON
{"runner": {"name": "pytest", "python": "$PYTEST_PY", "granularity": "file", "env": {"PIDS": "$PIDS"}},
 "local": {"sandbox": "none"}, "concurrency": 2, "timeout_s": 30}
JSON
cat >tests/conftest.py <<'PY'
import os

def pytest_runtest_setup(item):
    # Every test says which process ran it, and on which attempt.
    with open(os.environ["PIDS"], "a") as f:
        f.write("%s %d %s\n" % (item.nodeid, os.getpid(), os.environ.get("HT_ATTEMPT")))
PY
for f in 0 1 2 3 4 5; do
	printf 'import pytest\n@pytest.mark.parametrize("i", range(10))\ndef test_q%s(i):\n    assert i >= 0\n' $f \
		>tests/test_s$f.py
done
cat >tests/test_bad.py <<'PY'
import os

def test_ok():
    pass

def test_broken():
    assert os.environ.get("HT_ATTEMPT") != "1", "broken on the first attempt"
PY

test_expect_success 'a first run: 7 files in 2 pytest processes, one record per node id' '
	ht-plan >plan.jsonl &&
	test "$(wc -l <plan.jsonl)" = 2 &&
	ht-plan --set batch_target_ms=0 >single.jsonl &&
	test "$(wc -l <single.jsonl)" = 7 &&
	: >"$PIDS" &&
	test_expect_code 1 ht-invoke -o res.jsonl plan.jsonl 2>err &&
	test "$(wc -l <res.jsonl)" = 62 &&
	test "$(wc -l <"$PIDS")" = 62 &&
	test "$(cut -d" " -f2 "$PIDS" | sort -u | wc -l)" = 2 &&
	# The same names and test ids as with test granularity, unbatched.
	ht-plan --set batch_target_ms=0 --set runner.granularity=test >pertest.jsonl &&
	jq -r "\"\(.name) \(.test_id)\"" pertest.jsonl | sort >want &&
	jq -r "\"\(.name) \(.test_id)\"" res.jsonl | sort >got &&
	test_cmp want got &&
	test_jq "has(\"cases\") | not" res.jsonl &&
	test_grep "62 tests in .*: 61 passed, 1 failed" err
'

test_expect_success 'the failure is its node id only, with its message' '
	st() { jq -r "select(.name == \"tests/$1\") | .status" res.jsonl; } &&
	test "$(st test_bad.py::test_broken)" = failed &&
	test "$(st test_bad.py::test_ok)" = passed &&
	test_jq "select(.name == \"tests/test_bad.py::test_broken\") | .ok == false and (.message | test(\"broken on the first attempt\"))" res.jsonl
'

test_expect_success 'a retry runs again only the file that failed, in a process of its own' '
	# batch_target_ms set, so that this holds whatever the default
	ht-plan --set batch_target_ms=2000 >rplan.jsonl &&
	test "$(wc -l <rplan.jsonl)" -lt 7 &&
	: >"$PIDS" &&
	test_expect_code 0 ht-invoke --retries 1 -o res2.jsonl rplan.jsonl 2>err &&
	test "$(wc -l <res2.jsonl)" = 62 &&
	grep " 2$" "$PIDS" | cut -d" " -f1 | sort >again &&
	printf "%s\n" tests/test_bad.py::test_broken tests/test_bad.py::test_ok >want_again &&
	test_cmp want_again again &&
	test_jq "select(.name == \"tests/test_bad.py::test_broken\") | .status == \"flaky\"" res2.jsonl &&
	test_grep "62 tests in .*: 61 passed, 1 flaky" err
'

test_expect_success 'test granularity (the default) is batched too: 62 node ids, 2 processes' '
	ht-plan --set runner.granularity=test >tplan.jsonl &&
	test "$(wc -l <tplan.jsonl)" = 2 &&
	: >"$PIDS" &&
	test_expect_code 1 ht-invoke -o tres.jsonl tplan.jsonl 2>err &&
	test "$(wc -l <tres.jsonl)" = 62 &&
	test "$(cut -d" " -f2 "$PIDS" | sort -u | wc -l)" = 2
'

test_done
