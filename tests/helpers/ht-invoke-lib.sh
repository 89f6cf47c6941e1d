# Shared by the ht-invoke tests (t04xx): records and runners.

test_need jq curl python3

# mkrec ID SHELL [JSON]: an ht.test/1 record that runs SHELL with /bin/sh,
# merged with the object JSON.
mkrec() {
  jq -cn --arg id "$1" --arg sh "$2" --argjson x "${3:-{\}}" \
    '{schema:"ht.test/1",run_id:"run-1",test_id:$id,name:("tests/"+$id+".sh"),
      file:("tests/"+$id+".sh"),runner:"command",index:0,timeout_s:20,
      run:{shell:$sh,outcome:"exit"}} * $x'
}

# The stand-in runner (tests/helpers/ht-invoke-fake-runner.sh) in a
# directory of its own: HT_BIN="$FAKE_BIN" ht-invoke ... uses it.
FAKE_BIN=$TRASH/fake-bin
mkdir -p "$FAKE_BIN"
ln -sf "$HT_SRC/tests/helpers/ht-invoke-fake-runner.sh" "$FAKE_BIN/ht-runner"

# RUNNER_BIN: the real ht-runner when it is built, else the stand-in.
if [ -x "$HT_BIN/ht-runner" ]; then RUNNER_BIN=$HT_BIN; else RUNNER_BIN=$FAKE_BIN; fi
have_real_runner() { [ -x "$HT_BIN/ht-runner" ]; }

# A project root with an empty config.
mkdir -p "$TRASH/proj"
echo '{"provider":"local"}' >"$TRASH/proj/hypertest.json"
BUCKET=$TRASH/proj/.hypertest/bucket

# count_records FILE: the number of lines.
count_records() { wc -l <"$1" | tr -d ' '; }
