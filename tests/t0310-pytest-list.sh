#!/bin/sh
# The pytest plugin's listing: node ids byte for byte, granularities,
# collection errors, no tests, runner.python and runner.args; one plan
# record per invocation, so batching (on by default, t0317) is off.
. "$HT_SRC/tests/lib.sh"
test_need jq
need_pytest

mkdir -p proj/tests && cd proj || exit 1
cat >tests/test_ids.py <<'P'
import pytest

@pytest.mark.parametrize("x", ["a b", "c::d", "[x]", "e/f", "caf\u00e9", "  pad  "])
def test_p(x):
    pass

def test_plain():
    pass

class TestK:
    def test_m(self):
        pass

    @pytest.mark.parametrize("y", ["1::2"])
    def test_n(self, y):
        pass
P
cat >tests/test_more.py <<'P'
def test_one():
    pass
P
cat >hypertest.json <<J
{"runner": {"name": "pytest", "python": "$PYTEST_PY"}, "timeout_s": 60, "batch_target_ms": 0}
J

test_expect_success 'node ids are kept byte for byte, as pytest prints them' '
  ht-plan >plan.jsonl &&
  test -z "$(find . -name __pycache__ -o -name .pytest_cache)" &&
  PYTHONDONTWRITEBYTECODE=1 "$PYTEST_PY" -m pytest --collect-only -q -p no:cacheprovider | sed "/^\$/,\$d" >expect &&
  test $(wc -l <expect) = 10 &&
  jq -r .name plan.jsonl >names && test_cmp expect names &&
  grep -F -x "tests/test_ids.py::test_p[caf\\xe9]" names &&
  grep -F -x "tests/test_ids.py::test_p[  pad  ]" names &&
  grep -F -x "tests/test_ids.py::TestK::test_n[1::2]" names &&
  test_jq "(.runner == \"pytest\") and .run.nodeids == [.name] and .file == (.name | split(\"::\")[0])
    and .run.env.PYTHONDONTWRITEBYTECODE == \"1\" and (.run.argv | index(\"no:cacheprovider\") != null)
    and (.run.argv | any(. == \"--junitxml={out}/pytest-junit.xml\"))" plan.jsonl
'

test_expect_success 'file granularity: one invocation per file, its node ids in order' '
  ht-plan --set runner.granularity=file >file.jsonl &&
  test_jq -s "map(.name) == [\"tests/test_ids.py\", \"tests/test_more.py\"]" file.jsonl &&
  jq -r ".run.nodeids[]" file.jsonl >members && test_cmp expect members
'

test_expect_success 'class granularity: a class is one invocation, module functions go by file' '
  ht-plan --set runner.granularity=class >class.jsonl &&
  test_jq -s "map(.name) == [\"tests/test_ids.py\", \"tests/test_ids.py::TestK\", \"tests/test_more.py\"]" class.jsonl &&
  test_jq -s ".[1].run.nodeids == [\"tests/test_ids.py::TestK::test_m\", \"tests/test_ids.py::TestK::test_n[1::2]\"]" class.jsonl &&
  test_jq -s ".[0].run.nodeids | length == 7" class.jsonl
'

test_expect_success 'runner.args reach pytest when listing (and the run)' '
  ht-plan --set "runner.args=[\"-k\", \"one or plain\"]" >k.jsonl &&
  test_jq -s "map(.name) == [\"tests/test_ids.py::test_plain\", \"tests/test_more.py::test_one\"]" k.jsonl &&
  test_jq "(.run.argv | index(\"-k\")) as \$i | .run.argv[\$i + 1] == \"one or plain\"" k.jsonl
'

test_expect_success 'runner.cacheprovider and runner.env override the defaults' '
  ht-plan --set runner.cacheprovider=true --set runner.env.PYTHONDONTWRITEBYTECODE= | head -n 1 >c.json &&
  test_jq "(.run.argv | index(\"no:cacheprovider\")) == null and .run.env.PYTHONDONTWRITEBYTECODE == \"\"" c.json
'

test_expect_success 'a collection error is exit 65, naming the file, with pytest'"'"'s message' '
  printf "import no_such_module_here\ndef test_x():\n    pass\n" >tests/test_broken.py &&
  test_must_fail 65 ht-plan >out 2>err &&
  test ! -s out &&
  test_grep "pytest could not collect '"'"'tests/test_broken.py'"'"'" err &&
  test_grep "No module named '"'"'no_such_module_here'"'"'" err &&
  rm tests/test_broken.py
'

test_expect_success '"no tests collected" is its own error (exit 66)' '
  test_must_fail 66 ht-plan --set "runner.args=[\"-k\", \"nothing_is_called_this\"]" 2>err &&
  test_grep "pytest collected no tests" err
'

test_expect_success 'an interpreter that is not in the tests'"'"' PATH is a config error' '
  test_must_fail 78 ht-plan --set runner.python=no-such-python-here 2>err &&
  test_grep "runner.python" err && test_grep "no-such-python-here" err
'

test_expect_success 'an unknown runner.granularity is refused' '
  test_must_fail 78 ht-plan --set runner.granularity=module 2>err &&
  test_grep "runner.granularity" err
'

test_done
