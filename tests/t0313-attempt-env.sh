#!/bin/sh
# HT_ATTEMPT and HT_TEST_ID are in every test's environment, whatever the
# runner: from the event (ht-runner --once) and through ht-invoke's retries.
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/ht-invoke-lib.sh"

have_real_runner || test_skip_all 'ht-runner is not built'
mkdir -p work
export HT_WORK_DIR="$TRASH/work"

test_expect_success 'command runner: HT_ATTEMPT is the event'"'"'s attempt, HT_TEST_ID its test id' '
  mkrec t-one "test \"\$HT_ATTEMPT\" = 3 && test \"\$HT_TEST_ID\" = t-one" "{\"attempt\":3}" >ev.json &&
  ht-runner --once ev.json >res.json && test_jq ".status == \"passed\" and .attempt == 3" res.json &&
  mkrec t-one "test \"\$HT_ATTEMPT\" = 1" >ev1.json &&
  ht-runner --once ev1.json >res.json && test_jq ".status == \"passed\"" res.json
'

test_expect_success 'through ht-invoke: the retry sees HT_ATTEMPT=2 and passes (flaky)' '
  cd proj &&
  mkrec t-retry "echo \"attempt \$HT_ATTEMPT of \$HT_TEST_ID\"; test \"\$HT_ATTEMPT\" = 2" >plan.jsonl &&
  env HT_BIN=$HT_BIN ht-invoke -q --set local.sandbox=none --set retries=1 plan.jsonl >out.jsonl &&
  test_jq ".status == \"flaky\" and .attempt == 2 and (.attempts | map(.status) == [\"failed\", \"passed\"])" out.jsonl &&
  test_jq ".output_tail | contains(\"attempt 2 of t-retry\")" out.jsonl
'

if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import pytest' 2>/dev/null; then
  test_expect_success 'pytest runner: the same variables' '
    mkdir -p "$TRASH/py/tests" && cd "$TRASH/py" &&
    printf "import os\ndef test_env():\n    assert os.environ[\"HT_ATTEMPT\"] == \"2\"\n    assert os.environ[\"HT_TEST_ID\"].startswith(\"t-tests-test-e-py-test-env-\")\n" >tests/test_e.py &&
    echo "{\"runner\": {\"name\": \"pytest\", \"python\": \"/usr/bin/python3\"}}" >hypertest.json &&
    ht-plan | jq -c ".attempt = 2" >ev.json && ht-runner --once ev.json >res.json &&
    test_jq ".status == \"passed\"" res.json
  '
else
  test_skip 'pytest runner: the same variables' 'no /usr/bin/python3 with pytest (Debian: python3-pytest)'
fi

test_done
