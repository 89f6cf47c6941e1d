#!/bin/sh
# One infrastructure error repeated for many tests is said once, with a
# count; each test's record still carries it. Failures are not folded.
. "$HT_SRC/tests/lib.sh"
test_need jq

mkdir -p proj/t && for i in 1 2 3 4 5 6; do printf 'exit 1\n' >proj/t/t$i.sh; done &&
echo '{"local":{"sandbox":"none"},"runner":{"tests":["t/*.sh"],"run":"nosuchprog {file}"}}' >proj/hypertest.json
cd proj

test_expect_success 'six tests, one error: said once as it comes, once in the summary with the count' '
  ht-plan >plan && test_must_fail 1 ht-invoke plan >res 2>err &&
  test "$(grep -c "^error: " err)" -eq 1 &&
  test_grep "^  error       5 more tests: cannot run '\''nosuchprog'\''" err &&
  test_grep "0 passed, 6 errors" err &&
  test_jq -s "length == 6 and all(.status == \"error\" and (.message | contains(\"nosuchprog\")))" res
'

test_expect_success 'two: "1 more test"' '
  head -n 2 plan >plan2 && test_must_fail 1 ht-invoke plan2 >res 2>err &&
  test_grep "^  error       1 more test: " err
'

test_expect_success 'failures are each said: they are the tests'\'' own' '
  ht-plan --set "runner.run=sh {file}" >planf && test_must_fail 1 ht-invoke planf >res 2>err &&
  test "$(grep -c "^failed: " err)" -eq 6 && ! grep -q "more test" err
'

test_done
