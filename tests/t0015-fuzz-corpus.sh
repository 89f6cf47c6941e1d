#!/bin/sh
# The libFuzzer harnesses (tests/fuzz/, docs/fuzzing.md) over their seed
# corpora, the findings among them, then a short fixed-seed run each: a
# parser that crashes, leaks, hangs or breaks a harness's property on an
# input it once got wrong fails make check.
. "$HT_SRC/tests/lib.sh"

[ -n "${HT_TEST_FUZZ:-}" ] ||
	test_skip_all "the fuzz harnesses are not built: clang cannot link a libFuzzer program here (install the Debian package clang)"

for src in "$HT_SRC"/tests/fuzz/fuzz-*.c; do
	name=$(basename "$src" .c); name=${name#fuzz-}
	test_expect_success "fuzz-$name: every input of its corpus" '
		test -x "$HT_TEST_FUZZ/fuzz-$name" &&
		test -d "$HT_SRC/tests/fuzz/corpus/$name" &&
		"$HT_TEST_FUZZ/fuzz-$name" -timeout=10 -rss_limit_mb=2048 \
			"$HT_SRC"/tests/fuzz/corpus/$name/* >out 2>&1 ||
		{ tail -n 40 out >&2; false; }
	'
	test_expect_success "fuzz-$name: a short run from its corpus" '
		mkdir -p "new-$name" &&
		"$HT_TEST_FUZZ/fuzz-$name" -seed=1 -runs=3000 -max_total_time=10 -timeout=10 \
			-rss_limit_mb=2048 "new-$name" "$HT_SRC/tests/fuzz/corpus/$name" >out 2>&1 ||
		{ tail -n 40 out >&2; false; }
	'
done

test_expect_success 'every harness has a seed corpus, and every corpus a harness' '
	for d in "$HT_SRC"/tests/fuzz/corpus/*; do
		test -f "$HT_SRC/tests/fuzz/fuzz-$(basename "$d").c" || { echo "no harness for $d" >&2; exit 1; }
		test -n "$(ls "$d")" || { echo "empty corpus $d" >&2; exit 1; }
	done
'

test_done
