#!/bin/sh
# A stdout that cannot be written is an error with exit code 74, not a
# silent success and not a death by SIGPIPE; a reader that closed the
# pipe on purpose (head) gets no message.
. "$HT_SRC/tests/lib.sh"
test_need jq

test_expect_success 'setup' '
	i=0; while [ $i -lt 20000 ]; do echo "{\"schema\":\"ht.test/1\",\"i\":$i}"; i=$((i + 1)); done >many
'

test_expect_success 'a full disk: exit 74 and the reason' '
	test_expect_code 74 ht-test-tool jsonl-cat <many >/dev/full 2>err &&
	test_grep "^ht-test-tool: error: cannot write to stdout: No space left on device$" err
'

test_expect_success 'a closed pipe: exit 74, not SIGPIPE, and quietly (ht-plan | head)' '
	{ ht-test-tool jsonl-cat <many 2>err; echo $? >rc; } | head -n 1 >/dev/null &&
	test "$(cat rc)" = 74 &&
	test ! -s err
'

test_expect_success 'a closed stdout: exit 74' '
	test_expect_code 74 ht-doctor --version >&- 2>err &&
	test_grep "cannot write to stdout" err
'

test_expect_success '--help and --version go to stdout and exit 0' '
	ht-doctor --help >out && test_grep "^usage: ht-doctor" out &&
	ht-doctor --version >out && test_grep "^ht-doctor (hypertest) [0-9]" out &&
	rev=$(git -C "$HT_SRC" rev-parse --short=12 HEAD 2>/dev/null) &&
	if test -n "$rev"; then test_grep ", revision $rev" out; else test_grep ", revision unknown" out; fi
'

test_expect_success 'an unknown option: exit 64 and the usage' '
	test_expect_code 64 ht-doctor --no-such-option 2>err &&
	test_grep "^usage: ht-doctor" err
'

test_expect_success '--log-format=json turns messages into ht.log/1 records' '
	echo "[1]" | test_expect_code 65 ht-test-tool jsonl-cat 2>err &&
	echo "[1]" | HT_LOG_FORMAT=json ht-test-tool jsonl-cat 2>err.json; test $? = 65 &&
	jq -e "select(.schema == \"ht.log/1\" and .level == \"error\" and .prog == \"ht-test-tool\" and (.msg | test(\"stdin:1\")))" err.json
'

test_done
