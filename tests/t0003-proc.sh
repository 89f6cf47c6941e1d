#!/bin/sh
# Child processes: exit codes, signals, deadlines that kill the whole group.
. "$HT_SRC/tests/lib.sh"

test_expect_success 'exit code and signal are told apart' '
	ht-test-tool run-deadline 0 sh -c "exit 3" >out && test_grep "^exit code 3$" out &&
	ht-test-tool run-deadline 0 sh -c "kill -9 \$\$" >out && test_grep "^killed by signal 9" out
'

test_expect_success 'a deadline kills the whole process group' '
	start=$(date +%s) &&
	ht-test-tool run-deadline 300 sh -c "sleep 30 & echo \$! >bgpid; sleep 30" >out &&
	test_grep "^timed out after" out &&
	test $(( $(date +%s) - start )) -lt 5 &&
	process_gone "$(cat bgpid)"
'

test_expect_success 'a child that ignores SIGTERM is killed after the grace period' '
	ht-test-tool run-deadline 200 sh -c "trap \"\" TERM; sleep 30" >out &&
	test_grep "^timed out" out
'

test_expect_success 'stragglers of a finished leader are killed too' '
	ht-test-tool run-deadline 0 sh -c "sleep 30 & echo \$! >bgpid; exit 0" >out &&
	test_grep "^exit code 0$" out &&
	sleep 0.2 && process_gone "$(cat bgpid)"
'

test_expect_success 'a child does not inherit the ignored SIGPIPE of its parent' '
	ht-test-tool run-deadline 0 sh -c "grep ^SigIgn: /proc/self/status >ign" >out &&
	mask=$(awk "{print \$2}" ign) &&
	test $(( 0x$mask & 0x1000 )) -eq 0
'

test_expect_success 'a missing program is an error, not a crash' '
	test_expect_code 71 ht-test-tool run-deadline 0 /no/such/program 2>err &&
	test_grep "cannot run ./no/such/program." err
'

test_expect_success 'atomic-write leaves no partial file behind' '
	echo hello | ht-test-tool atomic-write f && test "$(cat f)" = hello &&
	test_must_fail ht-test-tool atomic-write nodir/f </dev/null 2>err &&
	! ls nodir 2>/dev/null && test_grep "cannot create" err
'

test_expect_success 'sha256 matches sha256sum' '
	head -c 100000 /dev/urandom >blob &&
	echo "sha256:$(sha256sum blob | cut -d" " -f1)" >expect &&
	ht-test-tool sha256 blob >out && test_cmp expect out
'

test_expect_success 'uuids are version 4 and differ' '
	a=$(ht-test-tool uuid) && b=$(ht-test-tool uuid) && test "$a" != "$b" &&
	echo "$a" | grep -Eq "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
'

test_done
