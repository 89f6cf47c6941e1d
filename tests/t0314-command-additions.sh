#!/bin/sh
# The command runner: the listing command's environment and PATH,
# runner.list_match, runner.cwd, {dir} and {basename}, and messages that
# say why (exit code, last stderr line, a read-only hint).
. "$HT_SRC/tests/lib.sh"
test_need jq

mkdir -p proj/t/sub proj/bin work && cd proj || exit 1
export HT_WORK_DIR="$TRASH/work"
printf 'echo "path=$PATH"\necho "var=$LISTVAR"\n' >list-env.sh
cat >hypertest.json <<'J'
{"runner": {"list": "sh list-env.sh", "run": "sh {file}"}, "timeout_s": 60}
J

test_expect_success 'runner.list runs with the PATH tests get and runner.env' '
  LISTVAR=from-caller PATH="$TRASH/elsewhere:$PATH" ht-plan --set runner.env.LISTVAR=from-config >p.jsonl &&
  test_jq -s "map(.name) == [\"path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\", \"var=from-config\"]" p.jsonl
'

test_expect_success 'runner.list finds its program in that PATH, or in runner.env'"'"'s PATH' '
  printf "#!/bin/sh\necho t/a.sh\n" >bin/my-lister && chmod +x bin/my-lister &&
  PATH="$TRASH/proj/bin:$PATH" test_must_fail 71 ht-plan --set runner.list=my-lister 2>err &&
  test_grep "not in the PATH tests get" err &&
  ht-plan --set runner.list=my-lister --set "runner.env.PATH=$TRASH/proj/bin:/usr/bin:/bin" >p.jsonl &&
  test_jq -s "map(.name) == [\"t/a.sh\"]" p.jsonl
'

test_expect_success 'runner.list_match keeps only the lines that match' '
  printf "echo collected 3 items\necho t/a.sh\necho\necho t/sub/b.sh\necho 2 tests found\n" >list2.sh &&
  ht-plan --set "runner.list=sh list2.sh" --set "runner.list_match=^t/.*[.]sh\$" >p.jsonl &&
  test_jq -s "map(.name) == [\"t/a.sh\", \"t/sub/b.sh\"]" p.jsonl &&
  test_must_fail 65 ht-plan --set "runner.list=sh list2.sh" --set "runner.list_match=^nothing" 2>err &&
  test_grep "no line matches runner.list_match" err &&
  test_must_fail 78 ht-plan --set "runner.list=sh list2.sh" --set "runner.list_match=(" 2>err &&
  test_grep "runner.list_match" err
'

test_expect_success 'runner.cwd with {dir}, and {basename}: git-style scripts run from their directory' '
  printf "test \"\$(basename \"\$PWD\")\" = sub && test -f ./b.sh && echo \"\$1\" >\"\$HT_OUTPUT_DIR/arg\"\n" >t/sub/b.sh &&
  printf "echo t/sub/b.sh\n" >list3.sh &&
  ht-plan --set "runner.list=sh list3.sh" --set "runner.cwd={dir}" --set "runner.run=sh ./{basename} {dir}|{basename}" >p.jsonl &&
  test_jq ".run.cwd == \"t/sub\" and .run.argv == [\"sh\", \"./b.sh\", \"t/sub|b.sh\"]" p.jsonl &&
  HT_BUCKET="file://$TRASH/bucket" ht-runner --once p.jsonl >res.json &&
  test_jq ".status == \"passed\"" res.json &&
  test "$(cat "$TRASH/bucket/$(jq -r ".artifacts[] | select(endswith(\"/out/arg\"))" res.json)")" = "t/sub|b.sh"
'

test_expect_success 'a fixed runner.cwd is where the listing runs too' '
  printf "echo a.sh\n" >t/lister.sh && printf "exit 0\n" >t/a.sh &&
  ht-plan --set "runner.list=sh lister.sh" --set runner.cwd=t --set "runner.run=sh {file}" >p.jsonl &&
  test_jq ".name == \"a.sh\" and .run.cwd == \"t\"" p.jsonl &&
  ht-runner --once p.jsonl >res.json && test_jq ".status == \"passed\"" res.json &&
  test_must_fail 78 ht-plan --set runner.cwd=/abs 2>err && test_grep "runner.cwd" err
'

# once SHELL OUTCOME: runs SHELL through ht-runner --once.
once() {
  jq -cn --arg sh "$1" --arg o "${2:-exit}" '{schema:"ht.test/1",run_id:"r",test_id:"t",name:"n",runner:"command",
    timeout_s:20,run:{shell:$sh,outcome:$o}}' >ev.json &&
  test_expect_code 1 ht-runner --once ev.json >res.json
}

test_expect_success 'TAP without a plan: the real exit code and the last stderr line' '
  once "echo ok 1 - x; echo \"fatal: You have not built things yet\" >&2; exit 3" tap &&
  test_jq ".message == \"no TAP plan (ran 1 tests, exit code 3): fatal: You have not built things yet\"" res.json
'

test_expect_success 'JUnit without a file: the exit code and the last stderr line' '
  once "echo \"cannot import app\" >&2; exit 4" junit &&
  test_jq "(.message | startswith(\"exit code 4 (JUnit file\")) and (.message | endswith(\": cannot import app\"))" res.json
'

test_expect_success 'a Read-only file system error gets a hint naming the writable places' '
  once "echo \"sh: 1: cannot create data.db: Read-only file system\" >&2; exit 2" &&
  test_jq "(.message | startswith(\"exit code 2: sh: 1: cannot create data.db: Read-only file system (hint: \"))
    and (.message | contains(\"/tmp\") and contains(\"\$HT_OUTPUT_DIR\"))" res.json &&
  once "echo fine; exit 1" && test_jq ".message | contains(\"hint\") | not" res.json
'

test_done
