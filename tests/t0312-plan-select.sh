#!/bin/sh
# ht-plan --grep and --failed, for the command runner and for pytest's
# file granularity (whose results hold one case per node id).
. "$HT_SRC/tests/lib.sh"
test_need jq

mkdir -p proj/t && cd proj || exit 1
for n in login logout cart-add cart-remove pay; do echo 'exit 0' >"t/$n.sh"; done
cat >hypertest.json <<'J'
{"runner": {"tests": ["t/*.sh"], "run": "sh {file}"}, "timeout_s": 60}
J

test_expect_success '--grep keeps the tests whose name matches (extended regex)' '
  ht-plan --grep "cart-(add|remove)" >g.jsonl &&
  test_jq -s "map(.name) == [\"t/cart-add.sh\", \"t/cart-remove.sh\"] and map(.index) == [0, 1]" g.jsonl &&
  ht-plan >all.jsonl &&
  test_jq -s "map(.test_id)" g.jsonl >/dev/null &&
  jq -r "select(.name | test(\"cart\")) | .test_id" all.jsonl >want && jq -r .test_id g.jsonl >got && test_cmp want got
'

test_expect_success '--grep: a bad regex is a usage error; none matching is exit 66' '
  test_must_fail 64 ht-plan --grep "(" 2>err && test_grep "not a regular expression" err &&
  test_must_fail 66 ht-plan --grep "^nothing$" 2>err && test_grep "none matches --grep" err
'

# results: what an earlier run said (the last record of a test wins)
id() { jq -r --arg n "$1" 'select(.name == $n) | .test_id' all.jsonl; }
mkres() { jq -cn --arg id "$(id "$1")" --arg st "$2" '{schema:"ht.result/1",run_id:"old",test_id:$id,status:$st}'; }

test_expect_success '--failed keeps what failed, timed out or errored, with a new run id' '
  { mkres t/login.sh failed; mkres t/logout.sh passed; mkres t/cart-add.sh timed_out;
    mkres t/cart-remove.sh error; mkres t/pay.sh flaky; mkres t/pay.sh skipped;
    echo "{\"schema\":\"ht.summary/1\",\"run_id\":\"old\"}"; } >results.jsonl &&
  ht-plan --failed results.jsonl >f.jsonl &&
  test_jq -s "map(.name) == [\"t/cart-add.sh\", \"t/cart-remove.sh\", \"t/login.sh\"]" f.jsonl &&
  test_jq -s "all(.run_id != \"old\") and (map(.run_id) | unique | length == 1)" f.jsonl &&
  test "$(jq -r .run_id f.jsonl | head -n 1)" != "$(jq -r .run_id all.jsonl | head -n 1)"
'

test_expect_success '--failed: a later passing result of a test wins; with --grep both must hold' '
  { mkres t/login.sh failed; mkres t/login.sh passed; mkres t/cart-add.sh failed; mkres t/pay.sh failed; } >r2.jsonl &&
  ht-plan --failed r2.jsonl >f2.jsonl &&
  test_jq -s "map(.name) == [\"t/cart-add.sh\", \"t/pay.sh\"]" f2.jsonl &&
  ht-plan --failed r2.jsonl --grep pay >f3.jsonl && test_jq -s "map(.name) == [\"t/pay.sh\"]" f3.jsonl
'

test_expect_success '--failed: nothing failed is exit 66; a missing file 66; a bad line 65' '
  mkres t/login.sh passed >ok.jsonl &&
  test_must_fail 66 ht-plan --failed ok.jsonl 2>err && test_grep "none failed" err &&
  test_must_fail 66 ht-plan --failed nope.jsonl 2>err &&
  echo "not json" >bad.jsonl && test_must_fail 65 ht-plan --failed bad.jsonl 2>err
'

test_expect_success '--failed reads stdin' '
  mkres t/pay.sh failed | ht-plan --failed - >s.jsonl && test_jq -s "map(.name) == [\"t/pay.sh\"]" s.jsonl
'

if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import pytest' 2>/dev/null; then
  mkdir -p "$TRASH/py/tests" && cd "$TRASH/py" &&
  printf 'import os\ndef test_a():\n    pass\ndef test_b():\n    assert os.environ.get("B") != "1"\ndef test_c():\n    pass\n' >tests/test_x.py &&
  printf 'def test_d():\n    pass\n' >tests/test_y.py &&
  echo '{"runner": {"name": "pytest", "python": "/usr/bin/python3", "granularity": "file"}, "timeout_s": 60}' >hypertest.json
  test_expect_success 'pytest, file granularity: --failed runs again only the node ids that failed' '
    ht-plan --set runner.env.B=1 >p.jsonl && mkdir -p w &&
    for n in 1 2; do sed -n ${n}p p.jsonl >ev.json; HT_WORK_DIR=$TRASH/py/w ht-runner --once ev.json; done >res.jsonl
    test_jq -s "map(.cases | length) == [3, 1]" res.jsonl &&
    ht-plan --failed res.jsonl >again.jsonl &&
    test_jq -s "length == 1 and .[0].name == \"tests/test_x.py\" and .[0].run.nodeids == [\"tests/test_x.py::test_b\"]" again.jsonl &&
    ht-plan --grep "test_[cd]" >gr.jsonl &&
    test_jq -s "map(.run.nodeids) == [[\"tests/test_x.py::test_c\"], [\"tests/test_y.py::test_d\"]]" gr.jsonl
  '
else
  test_skip 'pytest, file granularity: --failed runs again only the node ids that failed' 'no /usr/bin/python3 with pytest (Debian: python3-pytest)'
fi

test_done
