#!/bin/sh
# Batches with the pytest plugin: one pytest process runs a batch's node
# ids, one record per node id with its own test id; a failure is its node
# id's; at a batch's deadline the node id that was running times out and
# those after it are not run; a retry runs only those, one by one.
. "$HT_SRC/tests/lib.sh"

test_need jq
need_pytest
for t in ht-plan ht-invoke ht-runner; do
	[ -x "$HT_BIN/$t" ] || test_skip_all "$t is not built yet ($HT_BIN/$t does not exist)"
done

mkdir -p proj/tests && cd proj || exit 1
PIDS=$TRASH/pids
cat >hypertest.json <<JSON
{"runner": {"name": "pytest", "python": "$PYTEST_PY", "env": {"PIDS": "$PIDS"}},
 "local": {"sandbox": "none"}, "concurrency": 2, "timeout_s": 30,
 "batch_target_ms": 1000}
JSON
cat >tests/conftest.py <<'PY'
import os

def pytest_runtest_setup(item):
    # Every test says which process ran it, and on which attempt.
    with open(os.environ["PIDS"], "a") as f:
        f.write("%s %d %s\n" % (item.nodeid, os.getpid(), os.environ.get("HT_ATTEMPT")))
PY
cat >tests/test_a.py <<'PY'
import os
import pytest

@pytest.mark.parametrize("i", range(8))
def test_p(i):
    assert i != 5, "five is out"

def test_flaky():
    assert os.environ.get("HT_ATTEMPT") != "1", "first attempt"
PY
cat >tests/test_b.py <<'PY'
import os
import time

def test_one():
    print("one here")

def test_hang():
    if os.environ.get("HANG"):
        time.sleep(60)

def test_after():
    pass
PY

test_expect_success 'a first run: 12 node ids in 2 pytest processes, one record each' '
	ht-plan >plan.jsonl &&
	test "$(wc -l <plan.jsonl)" = 2 &&
	ht-plan --set batch_target_ms=0 >single.jsonl &&
	test "$(wc -l <single.jsonl)" = 12 &&
	: >"$PIDS" &&
	test_expect_code 1 ht-invoke -o res.jsonl plan.jsonl 2>err &&
	test "$(wc -l <res.jsonl)" = 12 &&
	test "$(wc -l <"$PIDS")" = 12 &&
	test "$(cut -d" " -f2 "$PIDS" | sort -u | wc -l)" = 2 &&
	# The same names and test ids as without batching.
	jq -r "\"\(.name) \(.test_id)\"" single.jsonl | sort >want &&
	jq -r "\"\(.name) \(.test_id)\"" res.jsonl | sort >got &&
	test_cmp want got &&
	test_jq "has(\"cases\") | not" res.jsonl &&
	test_jq ".group_test_id | startswith(\"b-tests-\")" res.jsonl
'

test_expect_success 'a failure is its node id only' '
	st() { jq -r "select(.name == \"tests/$1\") | .status" res.jsonl; } &&
	test "$(st "test_a.py::test_p[5]")" = failed &&
	test "$(st "test_a.py::test_flaky")" = failed &&
	test "$(st "test_a.py::test_p[4]")" = passed &&
	test "$(st "test_b.py::test_one")" = passed &&
	test_jq -s "map(select(.status == \"passed\")) | length == 10" res.jsonl &&
	test_jq "select(.name == \"tests/test_a.py::test_p[5]\") | .ok == false and (.message | test(\"five is out\")) and (.output_tail | test(\"five is out\"))" res.jsonl &&
	test_grep "12 tests in .*: 10 passed, 2 failed" err
'

test_expect_success 'a retry runs only the failed node ids, each on its own' '
	: >"$PIDS" &&
	test_expect_code 1 ht-invoke --retries 1 -o res.jsonl plan.jsonl 2>err &&
	test "$(wc -l <res.jsonl)" = 12 &&
	test "$(grep -c " 2$" "$PIDS")" = 2 &&
	grep -q "test_p\[5\] .* 2$" "$PIDS" && grep -q "test_flaky .* 2$" "$PIDS" &&
	# One by one: two more processes.
	test "$(grep " 2$" "$PIDS" | cut -d" " -f2 | sort -u | wc -l)" = 2 &&
	st() { jq -r "select(.name == \"tests/$1\") | .status" res.jsonl; } &&
	test "$(st "test_a.py::test_flaky")" = flaky &&
	test "$(st "test_a.py::test_p[5]")" = failed &&
	test_grep "12 tests in .*: 10 passed, 1 failed, 1 flaky" err
'

test_expect_success 'at the deadline the running node id times out, those after it are not run' '
	ht-plan --grep test_b --set concurrency=1 --set timeout_s=2 --set runner.env.HANG=1 --set history.enabled=false >hang.jsonl &&
	test "$(wc -l <hang.jsonl)" = 1 &&
	test_jq ".timeout_s == 6" hang.jsonl &&
	test_expect_code 1 ht-invoke -o res2.jsonl hang.jsonl 2>err &&
	st() { jq -r "select(.name == \"tests/test_b.py::$1\") | .status" res2.jsonl; } &&
	test "$(st test_one)" = passed &&
	test "$(st test_hang)" = timed_out &&
	test "$(st test_after)" = error &&
	test_jq "select(.name == \"tests/test_b.py::test_after\") | .not_run == true and .error.code == \"not_run\" and (.message | test(\"^not run: the batch.s deadline .* came while tests/test_b.py::test_hang ran\"))" res2.jsonl
'

test_expect_success 'its retry runs the node id not run and the one that hung apart' '
	: >"$PIDS" &&
	test_expect_code 1 ht-invoke --retries 1 -o res3.jsonl hang.jsonl 2>err &&
	st() { jq -r "select(.name == \"tests/test_b.py::$1\") | .status" res3.jsonl; } &&
	test "$(st test_one)" = passed &&
	test "$(st test_hang)" = timed_out &&
	# Not run is not a failure: passing on the retry is passing.
	test "$(st test_after)" = passed &&
	test_jq "select(.name == \"tests/test_b.py::test_hang\") | .message == \"timed out after 2.0 s\"" res3.jsonl
'

test_expect_success 'file granularity batches whole files into one process' '
	ht-plan --set runner.granularity=file --set concurrency=1 --set batch_max_tests=12 --set history.enabled=false --set batch_target_ms=600000 >fplan.jsonl &&
	test "$(wc -l <fplan.jsonl)" = 1 &&
	test_jq "(.batch | length) == 2 and (.batch[0].run.nodeids | length) == 9" fplan.jsonl &&
	: >"$PIDS" &&
	test_expect_code 1 ht-invoke -o fres.jsonl fplan.jsonl 2>err &&
	test "$(wc -l <fres.jsonl)" = 12 &&
	test "$(cut -d" " -f2 "$PIDS" | sort -u | wc -l)" = 1 &&
	jq -r "\"\(.name) \(.test_id)\"" fres.jsonl | sort >got &&
	test_cmp want got
'

test_done
