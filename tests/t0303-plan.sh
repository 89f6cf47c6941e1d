#!/bin/sh
# ht-plan: globs, listing commands, quoting, shell mode, durations, errors.
. "$HT_SRC/tests/lib.sh"
test_need jq

mkdir -p proj/t/sub proj/t/.hidden proj/other
cd proj
for f in t/a.sh t/b.sh t/sub/c.sh t/.hidden/x.sh other/o.sh; do echo 'exit 0' >"$f"; done
echo 'exit 0' >"t/it's a \"test\".sh"
printf 'printf "%%s\\n" "$#" "$1" >"$HT_OUTPUT_DIR/args"\n' >show.sh
cat >hypertest.json <<'J'
{"runner": {"tests": ["t/*.sh", "t/**/*.sh", "t/a.sh"], "run": "sh {file}"}, "timeout_s": 60}
J

test_expect_success 'globs: sorted, de-duplicated, ** for any depth, no hidden files' '
  ht-plan >plan.jsonl &&
  jq -r .name plan.jsonl >names &&
  printf "%s\n" "t/a.sh" "t/b.sh" "t/it'"'"'s a \"test\".sh" "t/sub/c.sh" >expect &&
  test_cmp expect names &&
  test_jq -s "map(.index) == [0,1,2,3]" plan.jsonl &&
  test_jq "(.schema == \"ht.test/1\") and .runner == \"command\" and .timeout_s == 60
    and .file == .name and .run.outcome == \"exit\" and .run.argv == [\"sh\", .file]
    and (.test_id | test(\"^t-[a-z0-9-]{1,40}-[0-9a-f]{8}$\"))
    and (.run_id | test(\"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$\"))
    and (has(\"expected_ms\") | not)" plan.jsonl &&
  test_jq -s "map(.run_id) | unique | length == 1" plan.jsonl
'

test_expect_success 'test ids are stable across runs; run ids are fresh' '
  ht-plan >plan2.jsonl &&
  jq -r .test_id plan.jsonl >ids1 && jq -r .test_id plan2.jsonl >ids2 && test_cmp ids1 ids2 &&
  test "$(head -n1 plan.jsonl | jq -r .run_id)" != "$(head -n1 plan2.jsonl | jq -r .run_id)" &&
  test_jq -s "map(select(.name == \"t/a.sh\")) | .[0].test_id == \"t-t-a-sh-$(printf %s t/a.sh | sha256sum | cut -c1-8)\"" plan.jsonl
'

test_expect_success '--run-id, and -o writes the file' '
  ht-plan --run-id my-run-1 -o out.jsonl >stdout &&
  test ! -s stdout && test_jq ".run_id == \"my-run-1\"" out.jsonl &&
  test_must_fail 64 ht-plan --run-id "../x" 2>err && test_grep "run-id" err
'

test_expect_success 'a name with spaces and quotes stays one argument' '
  ht-plan --set "runner.run=sh show.sh {file}" | jq -c "select(.name | contains(\"test\"))" >one.json &&
  mkdir -p work && HT_WORK_DIR="$TRASH/work" HT_BUCKET="file://$TRASH/bucket" ht-runner --once one.json >res.json &&
  test_jq ".status == \"passed\"" res.json &&
  key=$(jq -r ".artifacts[] | select(endswith(\"/out/args\"))" res.json) &&
  printf "%s\n" 1 "t/it'"'"'s a \"test\".sh" >expect && test_cmp expect "$TRASH/bucket/$key"
'

test_expect_success 'shell mode quotes values for /bin/sh' '
  ht-plan --set runner.shell=true --set "runner.run=sh show.sh {file} && echo done >\"\$HT_OUTPUT_DIR/done\"" |
    jq -c "select(.name | contains(\"test\"))" >sh.json &&
  test_jq ".run.shell == \"sh show.sh '"'"'t/it'"'"'\\\\'"'"''"'"'s a \\\"test\\\".sh'"'"' && echo done >\\\"\$HT_OUTPUT_DIR/done\\\"\"" sh.json &&
  HT_WORK_DIR="$TRASH/work" HT_BUCKET="file://$TRASH/bucket" ht-runner --once sh.json >res.json &&
  test_jq ".status == \"passed\" and (.artifacts | map(select(endswith(\"/out/args\") or endswith(\"/out/done\"))) | length == 2)" res.json
'

test_expect_success 'shell mode: {out} becomes the output directory' '
  ht-plan --set runner.shell=true --set "runner.run=echo hi >{out}/x; test -s {out}/x" | head -n1 >o.json &&
  test_jq ".run.shell == \"echo hi >\\\"\$HT_OUTPUT_DIR\\\"/x; test -s \\\"\$HT_OUTPUT_DIR\\\"/x\"" o.json &&
  HT_WORK_DIR="$TRASH/work" ht-runner --once o.json >res.json && test_jq ".status == \"passed\"" res.json
'

test_expect_success 'argv mode: placeholders {name} {id}, {out} left to the runner' '
  ht-plan --set "runner.run=run-it --name={name} --id {id} --out {out}/x" | head -n1 >p.json &&
  test_jq ".run.argv == [\"run-it\", \"--name=t/a.sh\", \"--id\", .test_id, \"--out\", \"{out}/x\"]" p.json
'

test_expect_success 'a listing command: one test per line, blank lines ignored' '
  printf "#!/bin/sh\necho t/a.sh\necho\necho \"  spaced name  \"\necho t/a.sh\necho last\n" >lister &&
  chmod +x lister &&
  ht-plan --set runner.tests= --set "runner.list=./lister --flag" >l.jsonl 2>err &&
  jq -r .name l.jsonl >names && printf "%s\n" t/a.sh "spaced name" last >expect && test_cmp expect names &&
  test_jq -s ".[0].file == \"t/a.sh\" and (.[1] | has(\"file\") | not) and .[1].run.argv == [\"sh\", \"spaced name\"]" l.jsonl
'

test_expect_success 'a glob matching nothing: 66, the glob named' '
  test_must_fail 66 ht-plan --set "runner.tests=[\"t/*.sh\",\"nope/*.py\"]" >out 2>err &&
  test ! -s out && test_grep "nope/\*\.py" err && test_grep "matches no file" err &&
  test_grep "^ht-plan: error: --set runner.tests\[1\]: " err
'

test_expect_success 'a glob from the file matching nothing: its file position named' '
  mkdir -p pos/t && touch pos/t/a.sh &&
  printf "{\n  \"runner\": {\n    \"tests\": [\"t/*.sh\",\n              \"nope/*.sh\"],\n    \"run\": \"sh {file}\"\n  }\n}\n" >pos/hypertest.json &&
  test_must_fail 66 ht-plan --config pos/hypertest.json >out 2>err &&
  test_grep "^ht-plan: error: pos/hypertest.json:4:15: runner.tests\[1\]: the glob .nope/\*\.sh. matches no file" err
'

test_expect_success 'a listing command that prints nothing: 65, the command named' '
  test_must_fail 65 ht-plan --set runner.tests= --set "runner.list=true quiet" >out 2>err &&
  test ! -s out && test_grep "listing command .true quiet. printed no tests" err
'

test_expect_success 'a listing command that fails: 71, exit code and stderr' '
  printf "#!/bin/sh\necho t/a.sh\necho \"cannot find the suite\" >&2\nexit 3\n" >badlister && chmod +x badlister &&
  test_must_fail 71 ht-plan --set runner.tests= --set runner.list=./badlister >out 2>err &&
  test ! -s out && test_grep "badlister" err && test_grep "exit code 3" err && test_grep "cannot find the suite" err
'

test_expect_success 'a listing command that hangs: 71 after the timeout' '
  test_must_fail 71 ht-plan --list-timeout 1 --set runner.tests= --set "runner.list=sleep 30" >out 2>err &&
  test_grep "timed out" err
'

test_expect_success 'a listing command that does not exist: 71' '
  test_must_fail 71 ht-plan --set runner.tests= --set runner.list=./no-such-lister 2>err &&
  test_grep "no-such-lister" err
'

test_expect_success 'config errors: 78' '
  test_must_fail 78 ht-plan --set "runner.run=sh \"{file}" 2>err && test_grep "unterminated" err &&
  test_must_fail 78 ht-plan --set runner.name=nosuch 2>err
'

test_expect_success '--durations: expected_ms by test_id, later records win' '
  ida=$(jq -r "select(.name == \"t/a.sh\") | .test_id" plan.jsonl) &&
  idb=$(jq -r "select(.name == \"t/b.sh\") | .test_id" plan.jsonl) &&
  { echo "{\"schema\":\"ht.result/1\",\"test_id\":\"$ida\",\"status\":\"passed\",\"duration_ms\":100}";
    echo "{\"schema\":\"ht.result/1.1\",\"test_id\":\"$ida\",\"status\":\"failed\",\"duration_ms\":1830}";
    echo "{\"schema\":\"ht.result/1\",\"test_id\":\"$idb\",\"status\":\"error\",\"duration_ms\":5}";
    echo "{\"schema\":\"ht.other/1\",\"test_id\":\"$idb\",\"duration_ms\":7}"; } >results.jsonl &&
  ht-plan --durations results.jsonl >d.jsonl &&
  test_jq -s "map(select(.name == \"t/a.sh\")) | .[0].expected_ms == 1830" d.jsonl &&
  test_jq -s "map(select(.name == \"t/a.sh\")) | .[0].expected_from == \"durations\"" d.jsonl &&
  # the others are unknown: the median of the known ones (docs/scheduling.md)
  test_jq -s "map(select(.name != \"t/a.sh\") | [.expected_ms, .expected_from] == [1830, \"median\"]) == [true, true, true]" d.jsonl &&
  echo "not json" >>results.jsonl &&
  test_must_fail 65 ht-plan --durations results.jsonl >out 2>err && test ! -s out &&
  test_must_fail 66 ht-plan --durations missing.jsonl 2>err
'

test_expect_success 'outcome and junit path are planned' '
  ht-plan --set runner.outcome=junit --set "runner.junit={out}/{id}.xml" | head -n1 >j.json &&
  test_jq ".run.outcome == \"junit\" and .run.junit == \"{out}/\" + .test_id + \".xml\"" j.json &&
  ht-plan --set runner.outcome=tap --set runner.env.LANG=C.UTF-8 | head -n1 >t.json &&
  test_jq ".run.outcome == \"tap\" and .run.env == {\"LANG\": \"C.UTF-8\"}" t.json
'

test_done
