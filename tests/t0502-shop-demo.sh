#!/bin/sh
# End to end: examples/shop through mk/hypertest.mk with the real ht-plan
# and ht-invoke on the local provider, as `make demo` runs it.
. "$HT_SRC/tests/lib.sh"
# The make that runs this test may be silent (make -s): these tests read
# the commands make echoes.
unset MAKEFLAGS MFLAGS

test_need make jq
for t in ht-plan ht-invoke ht-runner; do
	[ -x "$HT_BIN/$t" ] || test_skip_all "$t is not built yet ($HT_BIN/$t does not exist)"
done
have jq || test_skip_all 'jq is not installed'

mkdir -p examples mk && cp -R "$HT_SRC/examples/shop" examples/ && cp "$HT_SRC/mk/hypertest.mk" mk/ &&
rm -rf examples/shop/.hypertest || exit 1
S=examples/shop
H=$S/.hypertest

test_expect_success 'make demo: the whole suite passes on the local provider' '
	make -C $S HT_BIN="$HT_BIN" demo >out 2>err &&
	test_jq -s "length == 29" $H/plan.jsonl &&
	test_jq -s "length == 29 and all(.schema == \"ht.result/1\" and .ok)" $H/results.jsonl &&
	test_jq -s "map(.run_id) | unique | length == 1" $H/results.jsonl &&
	test_grep "29 tests in .*: 29 passed" err &&
	test_grep "^results:   \.hypertest/results\.jsonl" out &&
	# It ends with ht-report: the slowest tests, the totals, the report.
	test_grep "^slowest:" out &&
	test_grep "29 passed, 0 failed" out &&
	test_grep "^report:    \.hypertest/report\.html" out &&
	test -s $H/report.html && test -s $H/junit.xml && test -s $H/trace.json
'

test_expect_success 'the receipt a test left in $HT_OUTPUT_DIR is an artifact' '
	run=$(jq -r .run_id $H/results.jsonl | head -n 1) &&
	jq -r "select(.name == \"tests/receipt-artifact.sh\") | .artifacts[]" $H/results.jsonl >arts &&
	test_grep "^$run/t-[a-z0-9-]*/out/receipt\.txt$" arts &&
	receipt=$H/bucket/$(grep "/out/receipt\.txt$" arts) &&
	test_grep "^TOTAL " "$receipt" &&
	test_grep "^receipt:   .*/out/receipt\.txt$" out
'

test_expect_success 'the second plan has a new run id and the durations of the first run' '
	run1=$(jq -r .run_id $H/results.jsonl | head -n 1) &&
	make -C $S HT_BIN="$HT_BIN" hypertest-plan >out 2>&1 &&
	test_grep "ht-plan .*--durations \.hypertest/results\.jsonl" out &&
	test_jq -s "length == 29 and all(.run_id != \"$run1\" and .expected_ms >= 0)" $H/plan.jsonl &&
	jq -c "{name, ms: .duration_ms}" $H/results.jsonl | sort >durations &&
	jq -c "{name, ms: .expected_ms}" $H/plan.jsonl | sort >expected &&
	test_cmp durations expected
'

# Only the coupon tests (HT_RUNNER_TESTS overrides runner.tests), to keep
# the file short.
test_expect_success 'make demo FAIL=1: one failure, its message, the results kept' '
	HT_RUNNER_TESTS="tests/coupon-*.sh" test_must_fail make -C $S HT_BIN="$HT_BIN" demo FAIL=1 >out 2>err &&
	test_jq -s "length == 4" $H/results.jsonl &&
	test_jq -s "map(select(.ok | not) | .name) == [\"tests/coupon-save10.sh\"]" $H/results.jsonl &&
	test_grep "4 tests in .*: 3 passed, 1 failed" err &&
	test_grep "tests/coupon-save10.sh" err &&
	test_grep "SHOP_FAIL=1: this test fails on purpose" out
'

test_expect_success 'make clean removes .hypertest but the duration history' '
	make -C $S clean >/dev/null &&
	test "$(ls -A $H)" = bucket && test "$(ls -A $H/bucket)" = history &&
	test -s $H/bucket/history/durations.json
'

test_done
