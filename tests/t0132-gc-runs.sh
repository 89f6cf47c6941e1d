#!/bin/sh
# ht-gc --runs N and local.keep_runs: the newest N runs of the local
# bucket stay, older ones go whole, anything else stays.
. "$HT_SRC/tests/lib.sh"
test_need jq

mkdir -p proj/t && printf 'exit 0\n' >proj/t/a.sh &&
echo '{"runner":{"tests":["t/*.sh"],"run":"sh {file}"},"local":{"sandbox":"none"}}' >proj/hypertest.json
cd proj
runs() { ls .hypertest/bucket | grep -v '^history$' | sort; }

test_expect_success 'four runs in the bucket, a history beside them' '
  for i in 1 2 3 4; do ht-plan -q --run-id run-$i | ht-invoke -q >/dev/null && sleep 0.05 || return 1; done &&
  mkdir -p .hypertest/bucket/history && echo h >.hypertest/bucket/history/x &&
  test "$(runs | wc -l)" -eq 4
'

test_expect_success 'without --runs and local.keep_runs, every run is kept' '
  ht-gc >rec 2>err && test "$(runs | wc -l)" -eq 4 && test_jq "has(\"runs_removed\") | not" rec
'

test_expect_success '--runs 2 keeps the two newest; the history stays' '
  touch -d "2 hours ago" .hypertest/bucket/run-3 &&
  ht-gc --runs 2 >rec 2>err &&
  printf "run-2\nrun-4\n" >expect && runs >got && test_cmp expect got &&
  test_jq ".runs_removed == 2 and .runs_kept == 2 and (.bucket | endswith(\".hypertest/bucket\"))" rec &&
  test -f .hypertest/bucket/history/x &&
  test_grep "and 2 old runs" err
'

test_expect_success 'local.keep_runs is the default; --runs 0 keeps all' '
  ht-gc --runs 0 >rec && test "$(runs | wc -l)" -eq 2 &&
  ht-gc --set local.keep_runs=1 >rec && test "$(runs)" = run-4 && test_jq ".runs_removed == 1" rec
'

test_expect_success 'a bad --runs: exit 64; a bad local.keep_runs: exit 78' '
  test_must_fail 64 ht-gc --runs -1 2>err && test_grep "runs" err &&
  test_must_fail 64 ht-gc --runs many 2>err &&
  test_must_fail 78 ht-gc --set local.keep_runs=-2 2>err
'

test_done
