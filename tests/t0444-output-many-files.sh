#!/bin/sh
# An output directory of 10,000 files: the first 1000 (in name order) are
# kept, as docs/ht-runner.md says, and the result says exactly what was
# left out: how many, why, and their names in a list kept beside them.
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/ht-invoke-lib.sh"

have_real_runner || test_skip_all 'ht-runner is not built'

test_expect_success '10,000 files: 1000 kept, the other 9000 named' '
  mkrec many "cd \$HT_OUTPUT_DIR && seq -f f%05g 10000 | xargs touch && ln -s f00001 link" >many.json &&
  HT_BUCKET=file://$TRASH/b ht-runner --once many.json >r.json &&
  test_jq ".status == \"passed\"" r.json &&
  test_jq "[.artifacts[] | select(startswith(\"run-1/many/out/\"))] | length == 1000" r.json &&
  test_jq ".artifacts | index(\"run-1/many/out/f01000\") and (index(\"run-1/many/out/f01001\") | not)" r.json &&
  test_jq ".artifacts | index(\"run-1/many/left-out.txt\")" r.json &&
  test_jq ".upload_error == \"9001 files of the output directory were not kept (9000 over the 1000 kept, 1 not a regular file): listed in run-1/many/left-out.txt\"" r.json &&
  test "$(ls "$TRASH/b/run-1/many/out" | wc -l)" = 1000 &&
  { seq -f "over the limit: out/f%05g" 1001 10000; echo "not a regular file: out/link"; } | sort >expect &&
  sort "$TRASH/b/run-1/many/left-out.txt" >got && test_cmp expect got
'

test_done
