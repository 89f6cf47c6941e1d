#!/bin/sh
# A tool's output file that is not a regular file (a FIFO, a device,
# /dev/stdout on a pipe) is written as it is, never replaced: ht-invoke -o /dev/null
# as root used to rename a temporary over the device, so /dev/null became
# a regular file for the whole machine.
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/ht-invoke-lib.sh"

test_expect_success 'ht-invoke -o FIFO: the records come through the FIFO, which stays one' '
  cd proj &&
  mkrec a "true" >plan.jsonl &&
  mkfifo out.fifo &&
  { timeout 20 cat out.fifo >got & } &&
  reader=$! &&
  HT_BIN=$RUNNER_BIN ht-invoke -q --set local.sandbox=none -o out.fifo plan.jsonl &&
  wait $reader &&
  test -p out.fifo &&
  test_jq ".test_id == \"a\" and .status == \"passed\"" got &&
  ! ls out.fifo.tmp.* 2>/dev/null
'

# Through links of the test's own, never the machine's /dev/stdout: a
# regression must not break the machine the tests run on.
test_expect_success 'a link to a regular file: the file is replaced, the link stays' '
  cd proj &&
  echo old >real.jsonl && ln -s real.jsonl link.jsonl &&
  HT_BIN=$RUNNER_BIN ht-invoke -q --set local.sandbox=none -o link.jsonl plan.jsonl &&
  test -L link.jsonl && test_jq ".test_id == \"a\"" real.jsonl &&
  ! ls link.jsonl.tmp.* real.jsonl.tmp.* 2>/dev/null
'

test_expect_success 'a link to a FIFO: written through, both stay' '
  cd proj &&
  mkfifo f2 && ln -s f2 l2 &&
  { timeout 20 cat f2 >got2 & } &&
  reader=$! &&
  HT_BIN=$RUNNER_BIN ht-invoke -q --set local.sandbox=none -o l2 plan.jsonl &&
  wait $reader &&
  test -L l2 && test -p f2 && test_jq ".test_id == \"a\"" got2
'

test_expect_success 'a regular file is still replaced atomically' '
  cd proj &&
  echo old >res.jsonl && ln res.jsonl keep &&
  HT_BIN=$RUNNER_BIN ht-invoke -q --set local.sandbox=none -o res.jsonl plan.jsonl &&
  test_jq ".test_id == \"a\"" res.jsonl &&
  echo old >want && test_cmp want keep
'

test_done
