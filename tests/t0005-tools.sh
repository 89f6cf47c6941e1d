#!/bin/sh
# Every tool answers --help and --version on stdout with exit 0, refuses an
# unknown option with 64, and has its page in docs/ with the sections a
# user looks for.
. "$HT_SRC/tests/lib.sh"

tools=$(cd "$HT_BIN" && ls ht-* 2>/dev/null)

test_expect_success 'the tools are there' '
	test -n "$tools" && for t in ht-plan ht-invoke ht-runner ht-doctor ht-pull ht-build ht-push; do
		echo "$tools" | grep -qx "$t" || { echo "missing $t"; exit 1; }
	done
'

for t in $tools; do
	test_expect_success "$t --help and --version" "
		$t --help >out 2>err && test_grep '^usage: $t ' out && test ! -s err &&
		$t --version >out && test_grep '^$t (hypertest) [0-9]' out
	"
	test_expect_success "$t refuses an unknown option with 64" "
		test_expect_code 64 $t --no-such-option >out 2>err </dev/null &&
		test ! -s out && test_grep 'usage: $t' err
	"
	test_expect_success "$t has its page: synopsis, options, exit codes, examples" "
		page=\"\$HT_SRC/docs/$t.md\" && test -f \"\$page\" &&
		grep -q '^## Synopsis' \"\$page\" && grep -qi '^## .*options' \"\$page\" &&
		grep -q '^## Exit codes' \"\$page\" && grep -q '^## Examples' \"\$page\"
	"
done

test_done
