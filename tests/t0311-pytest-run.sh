#!/bin/sh
# The pytest plugin's runs through ht-runner --once: every outcome, its
# message and output, node ids with awkward characters, a deadline, and
# file and class granularity giving one case per node id. Each plan
# record runs alone here: batching (on by default, t0317) is off.
. "$HT_SRC/tests/lib.sh"
test_need jq
need_pytest

mkdir -p proj/tests work && cd proj || exit 1
cat >tests/test_o.py <<'P'
import sys, time
import pytest

@pytest.fixture
def bad_teardown():
    yield 1
    raise RuntimeError("teardown boom")

@pytest.fixture
def bad_setup():
    raise ValueError("setup boom")

def test_pass():
    print("hello out")

def test_fail():
    print("captured words")
    sys.stderr.write("err words\n")
    assert 1 == 2, "one is not two"

def test_fail_teardown(bad_teardown):
    assert 0, "call failed"

def test_setup_error(bad_setup):
    pass

@pytest.mark.skip(reason="not today")
def test_skip():
    pass

@pytest.mark.xfail(reason="known bug")
def test_xfail():
    assert 0

@pytest.mark.xfail(reason="fixed maybe")
def test_xpass():
    pass

@pytest.mark.xfail(reason="strict one", strict=True)
def test_xpass_strict():
    pass

def test_slow():
    time.sleep(30)

@pytest.mark.parametrize("x", ["a b", "c::d", "[x]", "caf\u00e9"])
def test_p(x):
    assert x

class TestK:
    def test_m(self):
        pass

    def test_bad(self):
        assert False, "class case failed"
P
cat >hypertest.json <<J
{"runner": {"name": "pytest", "python": "$PYTEST_PY"}, "timeout_s": 60, "batch_target_ms": 0}
J
export HT_WORK_DIR="$TRASH/work"

ht-plan >plan.jsonl || exit 1

# run NODEID-SUFFIX: runs the planned test whose name ends in ::SUFFIX
run() {
  jq -c --arg s "::$1" 'select(.name | endswith($s))' plan.jsonl >ev.json &&
  test -s ev.json && { ht-runner --once ev.json >res.json; rc=$?; [ $rc = 0 ] || [ $rc = 1 ]; }
}

test_expect_success 'passed' '
  run test_pass && test_jq ".status == \"passed\" and .ok and .exit_code == 0 and (has(\"outcome\") | not)" res.json
'

test_expect_success 'failed: pytest'"'"'s message, the output and the longrepr in the tail' '
  run test_fail &&
  test_jq ".status == \"failed\" and (.ok | not) and .exit_code == 1
    and .message == \"AssertionError: one is not two assert 1 == 2\"" res.json &&
  test_jq ".output_tail | contains(\"captured words\") and contains(\"err words\") and contains(\"assert 1 == 2\")" res.json
'

test_expect_success 'a call failure plus a teardown error is one result' '
  run test_fail_teardown &&
  test_jq ".status == \"failed\" and (.message | startswith(\"AssertionError: call failed\"))
    and (.message | contains(\"teardown boom\")) and (has(\"cases\") | not)" res.json
'

test_expect_success 'a setup error is error, with pytest'"'"'s words' '
  run test_setup_error &&
  test_jq ".status == \"error\" and .error.code == \"pytest\" and (.message | contains(\"failed on setup\") and contains(\"setup boom\"))" res.json
'

test_expect_success 'skipped, with the reason' '
  run test_skip && test_jq ".status == \"skipped\" and .ok and .message == \"skipped: not today\"" res.json
'

test_expect_success 'xfailed: ok, reported as such' '
  run test_xfail && test_jq ".status == \"skipped\" and .ok and .outcome == \"xfailed\" and .message == \"xfailed: known bug\"" res.json
'

test_expect_success 'xpassed: ok, reported as such' '
  run test_xpass && test_jq ".status == \"passed\" and .ok and .outcome == \"xpassed\" and .message == \"xpassed: fixed maybe\"" res.json
'

test_expect_success 'a strict xpass is a failure' '
  run test_xpass_strict && test_jq ".status == \"failed\" and .outcome == \"xpassed\" and (.message | contains(\"XPASS(strict)\"))" res.json
'

test_expect_success 'timed_out at the deadline' '
  jq -c "select(.name | endswith(\"::test_slow\")) | .timeout_s = 2" plan.jsonl >slow.json &&
  test_expect_code 1 ht-runner --once slow.json >res.json &&
  test_jq ".status == \"timed_out\" and .duration_ms < 10000" res.json
'

test_expect_success 'node ids with spaces, ::, brackets and escaped non-ASCII run as themselves' '
  for id in "test_p[a b]" "test_p[c::d]" "test_p[[x]]" "test_p[caf\\xe9]"; do
    run "$id" && test_jq ".status == \"passed\" and .message == \"passed\"" res.json || return 1
  done
'

test_expect_success 'a node id pytest does not know is an error with pytest'"'"'s words' '
  jq -c ".run.nodeids = [\"tests/test_o.py::test_nope\"] | .name = \"tests/test_o.py::test_nope\"" ev.json >nope.json &&
  test_expect_code 1 ht-runner --once nope.json >res.json &&
  test_jq ".status == \"error\" and (.message | contains(\"exit code 4\") and contains(\"not found\"))" res.json
'

test_expect_success 'nothing is written into the project' '
  test -z "$(find . -name __pycache__ -o -name .pytest_cache)"
'

test_expect_success 'file granularity: one case per node id; at the deadline those done keep theirs' '
  ht-plan --set runner.granularity=file >file.jsonl &&
  jq -c ".timeout_s = 5" file.jsonl >ev.json &&
  test_expect_code 1 ht-runner --once ev.json >res.json &&
  test_jq ".status == \"failed\" and (.cases | length) == 15" res.json &&
  test_jq "[.cases[].name] == $(jq -c .run.nodeids file.jsonl)" res.json &&
  jq -r ".test_id" plan.jsonl >ids.test && jq -r ".cases[].test_id" res.json >ids.file && test_cmp ids.test ids.file &&
  test_jq "[.cases[] | [.status, (.outcome // \"\")]] == [[\"passed\",\"\"],[\"failed\",\"\"],[\"failed\",\"\"],[\"error\",\"\"],
    [\"skipped\",\"\"],[\"skipped\",\"xfailed\"],[\"passed\",\"xpassed\"],[\"failed\",\"xpassed\"]]
    + [range(7) | [\"timed_out\",\"\"]]" res.json &&
  test_jq ".cases[8].message == \"timed out after 5.0 s, before pytest reported it\"" res.json &&
  test_jq ".cases[1].message == \"AssertionError: one is not two assert 1 == 2\" and (.cases[1].output_tail | contains(\"captured words\"))
    and (.cases[2].message | contains(\"teardown boom\")) and .cases[4].message == \"skipped: not today\"
    and (.cases[0] | has(\"output_tail\") | not)" res.json
'

test_expect_success 'file granularity without the slow test: every case has its own result' '
  jq -c ".run.nodeids |= map(select(endswith(\"test_slow\") | not))" file.jsonl >ev2.json &&
  test_expect_code 1 ht-runner --once ev2.json >res.json &&
  test_jq "(.cases | length) == 14 and all(.cases[]; .status != \"timed_out\" and .status != \"error\" or .name == \"tests/test_o.py::test_setup_error\")" res.json &&
  test_jq ".message | startswith(\"4 failed, 1 error, 7 passed, 2 skipped (first: tests/test_o.py::test_fail: \")" res.json
'

test_expect_success 'class granularity: the class'"'"'s node ids, one case each' '
  ht-plan --set runner.granularity=class | jq -c "select(.name == \"tests/test_o.py::TestK\")" >k.json &&
  test_expect_code 1 ht-runner --once k.json >res.json &&
  test_jq "[.cases[] | [.name, .status]] == [[\"tests/test_o.py::TestK::test_m\", \"passed\"], [\"tests/test_o.py::TestK::test_bad\", \"failed\"]]" res.json &&
  test_jq ".cases[1].message | startswith(\"AssertionError: class case failed\")" res.json
'

test_expect_success 'many failing node ids in one invocation: the record stays under 1 MiB' '
  mkdir -p big/tests && cp hypertest.json big/ &&
  printf "import pytest\n@pytest.mark.parametrize(\"i\", range(1500))\ndef test_many(i):\n    print(\"out \" * 300)\n    assert False, \"long message \" * 80\n" >big/tests/test_big.py &&
  (cd big && ht-plan --set runner.granularity=file) >big.jsonl &&
  (cd big && test_expect_code 1 ht-runner --once ../big.jsonl) >res.json &&
  test $(wc -c <res.json) -lt 1048576 &&
  test_jq "(.cases | length) == 1500 and all(.cases[]; .status == \"failed\") and (.cases[0] | has(\"output_tail\"))
    and (.cases[1499] | has(\"output_tail\") | not) and (.cases[1499].message | length) <= 120" res.json
'

test_expect_success 'a Read-only file system in the output gets a hint' '
  mkdir -p ro/tests && printf "def test_w():\n    raise OSError(30, \"Read-only file system\", \"x\")\n" >ro/tests/test_w.py &&
  cp hypertest.json ro/ && (cd ro && ht-plan) >ro.jsonl &&
  (cd ro && test_expect_code 1 ht-runner --once ../ro.jsonl) >res.json &&
  test_jq ".status == \"failed\" and (.message | contains(\"hint: the project directory is read-only\") and contains(\"/tmp\") and contains(\"HT_OUTPUT_DIR\"))" res.json
'

test_done
