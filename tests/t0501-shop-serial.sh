#!/bin/sh
# examples/shop without hypertest: its suite passes the plain way, the
# failure switch works, and the tests write nothing into the project.
. "$HT_SRC/tests/lib.sh"

test_need make
# The layout of the repository: the shop's Makefile includes ../../mk/.
mkdir -p examples mk && cp -R "$HT_SRC/examples/shop" examples/ && cp "$HT_SRC/mk/hypertest.mk" mk/ &&
ln -s examples/shop shop && rm -rf shop/.hypertest || exit 1
mkdir tmp
# The project's files and their checksums: nothing may change them.
tree() { (cd shop && find . -print | LC_ALL=C sort && find . -type f -exec cksum {} + | LC_ALL=C sort); }

# The slow tests (a few seconds each) run in t0502, through hypertest.
fast=$(cd shop && grep -L "slow: a few seconds" tests/*.sh | tr "\n" " ")
nfast=$(echo $fast | wc -w)

test_expect_success 'make test: the fast tests pass, one after another' '
	test $nfast -ge 20 &&
	tree >before &&
	TMPDIR=$TRASH/tmp make -C shop test SHOP_TESTS="$fast" >out 2>&1 &&
	test_grep "^shop: $nfast tests in [0-9.]* s, one after another: 0 failed$" out &&
	test $(grep -c "^ok  " out) -eq $nfast
'

test_expect_success 'the tests wrote nothing into the project and cleaned up' '
	tree >after && test_cmp before after &&
	ls -A tmp >left && test_cmp /dev/null left
'

test_expect_success 'there are 20 or more tests, a few of them slow' '
	test $(ls shop/tests/*.sh | wc -l) -ge 20 &&
	test $(grep -l "slow: a few seconds" shop/tests/*.sh | wc -l) -ge 3
'

test_expect_success 'SHOP_FAIL=1 makes exactly one test fail, with its message' '
	test_must_fail env SHOP_FAIL=1 sh shop/tests/coupon-save10.sh 2>err &&
	test_grep "^FAIL coupon-save10: discount: expected 4.99, got 5.94 (SHOP_FAIL=1: this test fails on purpose)$" err &&
	make -n -C shop test FAIL=1 >cmds && test_grep "SHOP_FAIL=1 sh" cmds &&
	grep -l SHOP_FAIL shop/tests/*.sh >users &&
	echo shop/tests/coupon-save10.sh >expect && test_cmp expect users
'

test_expect_success 'make test fails when a test fails, and shows why' '
	printf "#!/bin/sh\necho \"FAIL broken: on purpose\" >&2\nexit 1\n" >shop/tests/zz-broken.sh &&
	test_must_fail make -C shop test SHOP_TESTS="tests/tax-*.sh tests/zz-*.sh" >out 2>&1 &&
	rm shop/tests/zz-broken.sh &&
	test_grep "^FAILED tests/zz-broken.sh" out &&
	test_grep "FAIL broken: on purpose" out &&
	test_grep "one after another: 1 failed" out
'

test_expect_success 'the shop answers bad input with exit code 2 and the line' '
	printf "A100 1\nNOPE 2\n" >cart &&
	test_expect_code 2 shop/bin/shop total cart 2>err &&
	test_grep "^shop: error: cart:2: unknown sku .NOPE.$" err
'

test_done
