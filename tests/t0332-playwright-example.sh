#!/bin/sh
# End to end: examples/playwright with the real ht-plan and ht-invoke on
# the local provider and Debian's chromium: screenshots and traces in the
# bucket under <run_id>/<test_id>/ and listed with their content types,
# a failure and a flaky test, and file granularity's one record per test.
. "$HT_SRC/tests/lib.sh"
test_need jq
need_playwright
[ -x /usr/bin/chromium ] || test_skip_all "no /usr/bin/chromium: install Debian's chromium (scripts/install-deps)"
for t in ht-plan ht-invoke ht-runner; do
	[ -x "$HT_BIN/$t" ] || test_skip_all "$t is not built yet ($HT_BIN/$t does not exist)"
done

mkdir ex && (cd "$PW_EXAMPLE" && tar --exclude=./node_modules --exclude=./.hypertest --exclude=./test-results -cf - .) | tar -C ex -xf - &&
pw_node_modules ex || exit 1
B=ex/.hypertest/bucket

test_expect_success 'a screenshot, a failure with its trace, a flaky test: each in the bucket' '
	(cd ex && ht-plan --set runner.env.EXAMPLE_FAIL=1 --set concurrency=3 \
		--grep "^\[desktop\] .*(screenshot of it|fails on purpose|flaky part)" >plan.jsonl) &&
	test_jq -s "length == 3" ex/plan.jsonl &&
	(cd ex && test_expect_code 1 ht-invoke --set concurrency=3 plan.jsonl >results.jsonl 2>err) &&
	R=ex/results.jsonl &&
	test_jq -s "map(.status) | sort == [\"failed\", \"flaky\", \"passed\"]" $R &&
	# every attachment is a stored artifact of its own test, under <run_id>/<test_id>/
	test_jq ". as \$r | all(.attachments[]; .key | startswith(\"\(\$r.run_id)/\(\$r.test_id)/out/\"))" $R &&
	for k in $(jq -r ".attachments[].key" $R); do test -s "$B/$k" || return 1; done &&
	test_jq "(.attachments | map(.key)) - .artifacts == []" $R &&
	jq -r "select(.status == \"passed\") | .attachments[] | .name + \" \" + .content_type + \" \" + (.key | sub(\".*/\"; \"\") | sub(\"-[0-9a-f]+\"; \"\"))" $R >shot &&
	echo "note image/png note.png" >want && test_cmp want shot &&
	jq -r "select(.status == \"failed\") | .attachments[] | .name + \" \" + .content_type" $R | sort >fail &&
	printf "error-context text/markdown\nscreenshot image/png\ntrace application/zip\n" >want && test_cmp want fail &&
	test_jq "select(.status == \"failed\") | (.message | contains(\"EXAMPLE_FAIL=1: failing on purpose\"))
		and (.errors[0].snippet | contains(\"toHaveText\"))" $R &&
	test_jq "select(.status == \"flaky\") | (.tries | length) == 2 and (.attachments | all(.try == 1))" $R &&
	# stdout and stderr are kept too
	for k in $(jq -r ".artifacts[] | select(endswith(\"/stdout.txt\"))" $R); do test -f "$B/$k" || return 1; done
'

test_expect_success 'file granularity: one invocation per file and project, one record per test' '
	(cd ex && ht-plan --set runner.granularity=file --grep "^\[mobile\] › todo" >fplan.jsonl) &&
	test_jq -s "length == 1 and (.[0].run.tests | length) == 6" ex/fplan.jsonl &&
	(cd ex && ht-invoke fplan.jsonl >fresults.jsonl 2>err) &&
	R=ex/fresults.jsonl &&
	test_jq -s "length == 6 and all(.group_name == \"[mobile] › todo.spec.js\") and (map(.test_id) | unique | length) == 6" $R &&
	test_jq -s "map(.status) | sort == [\"passed\", \"passed\", \"passed\", \"passed\", \"passed\", \"skipped\"]" $R &&
	test_jq -s "[.[] | select(.name | endswith(\"links to the counter\"))][0].message | contains(\"hidden on small screens\")" $R &&
	test_jq -s "[.[] | select(.name | endswith(\"with a screenshot\"))][0].attachments
		| map(select(.name == \"cleared\" and .content_type == \"image/png\")) | length == 1" $R &&
	for k in $(jq -r ".attachments[].key" $R | sort -u); do test -s "$B/$k" || return 1; done
'

test_done
