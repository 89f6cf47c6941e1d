#!/bin/sh
# ht-doctor: one ht.check/1 record per check, exit 0 / 1 / 78; the sandbox
# probe with a real, a missing and a broken bwrap; the schema and its docs.
. "$HT_SRC/tests/lib.sh"
test_need jq

doctor=$(command -v ht-doctor)

test_expect_success 'all checks pass: exit 0, one record per check' '
  printf "{\"local\": {\"sandbox\": \"none\"}}\n" >hypertest.json &&
  ht-doctor >out 2>err &&
  test_jq -s "length == 3 and all(.schema == \"ht.check/1\" and .ok == true)" out &&
  test_jq -s "map(.check) == [\"config\", \"sandbox\", \"task_path\"]" out &&
  test_grep "ok: config: hypertest.json is valid (provider local)" err &&
  test_grep "ok: sandbox: off" err
'

if have bwrap && bwrap --ro-bind / / --tmpfs /tmp --unshare-pid true 2>/dev/null; then
test_expect_success 'a working bwrap passes the sandbox check' '
  rm -f hypertest.json &&
  ht-doctor >out 2>err &&
  test_jq -s ".[1].check == \"sandbox\" and .[1].ok == true and (.[1].details.bwrap | endswith(\"/bwrap\"))" out
'
else
test_skip 'a working bwrap passes the sandbox check' 'bwrap cannot run here'
fi

test_expect_success 'no bwrap: the sandbox check fails with a fix, exit 1' '
  rm -f hypertest.json &&
  PATH=/nonexistent test_expect_code 1 "$doctor" >out 2>err &&
  test_jq -s ".[0].ok == true and .[1].ok == false and (.[1].message | test(\"bwrap not found\")) and (.[1].fix | test(\"bubblewrap\"))" out &&
  test_grep "^ht-doctor: error: sandbox: bwrap not found in PATH" err &&
  test_grep "fix: install bubblewrap" err
'

test_expect_success 'a bwrap that cannot run: its message is shown' '
  mkdir -p fakebin &&
  printf "#!/bin/sh\necho \"bwrap: No permissions to create new namespace\" >&2\nexit 1\n" >fakebin/bwrap &&
  chmod +x fakebin/bwrap &&
  PATH="$PWD/fakebin:$PATH" test_expect_code 1 ht-doctor --set local.sandbox=bwrap >out 2>err &&
  test_jq -s ".[1].ok == false and (.[1].message | test(\"cannot run a sandbox \\\\(exit code 1\\\\): bwrap: No permissions to create new namespace\"))" out
'

test_expect_success 'the sandbox is not checked for provider aws' '
  (PATH=/nonexistent; test_must_fail 1 "$doctor" --set provider=aws >out) &&
  test_jq -s "map(.check) | index(\"sandbox\") == null and index(\"aws_credentials\") == 1" out
'

test_expect_success 'a config error: 78, the config record, no other checks' '
  test_expect_code 78 ht-doctor --set retries=x >out 2>err &&
  test_jq -s "length == 1 and .[0].ok == false and .[0].message == \"--set retries: expected an integer, got '\''x'\''\"" out &&
  test_grep "^ht-doctor: error: --set retries: expected an integer" err
'

test_expect_success 'a missing named file: 66' '
  test_expect_code 66 ht-doctor -c missing.json >out 2>err &&
  test_jq ".check == \"config\" and .ok == false" out
'

test_expect_success '--print-schema: one ht.setting/1 record per key' '
  ht-doctor --print-schema >schema &&
  test_jq -s "all(.schema == \"ht.setting/1\") and length > 30" schema &&
  test_jq -s "map(select(.key == \"concurrency\"))[0] | .env == \"HT_CONCURRENCY\" and .min == 1 and .max == 10000" schema &&
  test_jq -s "map(select(.key == \"local.sandbox\"))[0].choices == [\"auto\",\"bwrap\",\"none\"]" schema
'

test_expect_success 'docs/configuration.md documents every key and its variable' '
  ht-doctor --print-schema | jq -r "select(.type != \"section\") | \"\(.key) \(.env)\"" >keys &&
  test -s keys &&
  while read -r key env; do
    grep -F "\`$key\`" "$HT_SRC/docs/configuration.md" | grep -F -q "\`$env\`" ||
      { echo "docs/configuration.md: no row for $key with $env" >&2; exit 1; }
  done <keys
'

test_expect_success '--help and a stray argument' '
  ht-doctor --help >out && test_grep "print-config" out &&
  test_expect_code 64 ht-doctor extra 2>err && test_grep "unexpected argument" err
'

test_expect_success 'a closed stdout is an I/O error' '
  test_expect_code 74 ht-doctor --print-config >/dev/full 2>err &&
  test_grep "cannot write to stdout" err
'

test_done
