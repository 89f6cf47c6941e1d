#!/bin/sh
# Concurrency caps per group: under load, never more than a group's max in
# flight, while the other tests use the free slots; retries obey the caps;
# a group by tag; batches of a capped group.
. "$HT_SRC/tests/lib.sh"

test_need jq
for t in ht-plan ht-invoke ht-runner; do
	[ -x "$HT_BIN/$t" ] || test_skip_all "$t is not built yet ($HT_BIN/$t does not exist)"
done

mkdir -p proj/tests/db proj/tests/ui && cd proj || exit 1
LOG=$TRASH/log
# Each test logs when it starts and ends (ns), and its group.
for g in db ui; do
	for i in 1 2 3 4 5 6 7 8; do
		cat >tests/$g/t$i.sh <<EOF
echo "start \$(date +%s%N) $g" >>"\$LOG"
sleep 0.3
echo "end \$(date +%s%N) $g" >>"\$LOG"
EOF
	done
done
cat >hypertest.json <<JSON
{"runner": {"tests": ["tests/**/*.sh"], "run": "sh {file}", "env": {"LOG": "$LOG"}},
 "local": {"sandbox": "none"}, "concurrency": 5, "timeout_s": 20,
 "groups": [{"name": "db", "match": "tests/db/*", "max": 2}]}
JSON

# overlap LOG: "DB ALL", the most db tests and the most tests at once.
overlap() {
	sort -k2,2n "$1" | awk '
		$1 == "start" { c[$3]++; all++ } $1 == "end" { c[$3]--; all-- }
		{ if (c["db"] > m) m = c["db"]; if (all > ma) ma = all }
		END { print m + 0, ma + 0 }'
}

test_expect_success 'the plan names the group of each db test' '
	ht-plan >plan.jsonl &&
	test_jq "if (.name | startswith(\"tests/db/\")) then .group == \"db\" and .group_max == 2 else has(\"group\") | not end" plan.jsonl
'

test_expect_success 'never more than 2 db tests at once, and more than 2 tests in all' '
	: >"$LOG" &&
	ht-invoke -q -o res.jsonl plan.jsonl &&
	test "$(wc -l <res.jsonl)" = 16 &&
	test "$(grep -c "^start" "$LOG")" = 16 &&
	set -- $(overlap "$LOG") &&
	echo "db at once: $1, all at once: $2" &&
	test "$1" = 2 &&
	test "$2" -gt 2 &&
	# Slots: the db tests used at most 2 of them at a time too.
	test_jq -s "[.[] | select(.name | startswith(\"tests/db/\")) | .attempts[0] | {s: .dispatch_ms, e: .answer_ms}] as \$a |
		[\$a[] as \$x | [\$a[] | select(.s <= \$x.s and .e > \$x.s)] | length] | max <= 2" res.jsonl
'

test_expect_success 'a db test first in the queue does not hold back the others' '
	# All db tests first in plan order, the ui tests after: ui still
	# starts while db waits.
	: >"$LOG" &&
	ht-invoke -q -j 4 -o res.jsonl plan.jsonl &&
	first_ui=$(grep "^start .* ui$" "$LOG" | sort -k2,2n | head -n 1 | cut -d" " -f2) &&
	third_db=$(grep "^start .* db$" "$LOG" | sort -k2,2n | sed -n 3p | cut -d" " -f2) &&
	test "$first_ui" -lt "$third_db"
'

test_expect_success 'retries obey the cap' '
	for i in 1 2 3 4; do
		echo "[ \"\$HT_ATTEMPT\" != 1 ] || exit 1" >>tests/db/t$i.sh
	done &&
	ht-plan >plan.jsonl &&
	: >"$LOG" &&
	ht-invoke -q --retries 1 -o res.jsonl plan.jsonl &&
	test "$(grep -c "^start .* db$" "$LOG")" = 12 &&
	set -- $(overlap "$LOG") &&
	test "$1" -le 2 &&
	test_jq -s "map(select(.status == \"flaky\")) | length == 4" res.jsonl
'

test_expect_success 'a cap of 1 in a hand-made plan' '
	jq -c "if (.name | test(\"ui/t[1-4]\")) then .tags = [\"serial\"] else . end" plan.jsonl >tagged.jsonl &&
	jq -c "del(.group, .group_max)" tagged.jsonl >untagged.jsonl &&
	: >"$LOG" &&
	jq -c "if ((.tags // []) | index(\"serial\")) then .group = \"s\" | .group_max = 1 else . end" untagged.jsonl >plan1.jsonl &&
	ht-invoke -q -o res.jsonl plan1.jsonl || : &&
	grep -c "^start" "$LOG" >n && test "$(cat n)" -ge 16 &&
	test_jq -s "[.[] | select(.name | test(\"ui/t[1-4]\")) | .attempts[] | {s: .dispatch_ms, e: .answer_ms}] as \$a |
		[\$a[] as \$x | [\$a[] | select(.s <= \$x.s and .e > \$x.s)] | length] | max == 1" res.jsonl
'

test_expect_success 'batches of a capped group stay within it' '
	ht-plan --set batch_target_ms=1000 --set batch_max_tests=2 >bplan.jsonl &&
	test_jq "select(.group == \"db\") | all(.batch // [.] | .[]; .name | startswith(\"tests/db/\"))" bplan.jsonl &&
	test_jq -s "map(select(.group == \"db\") | .batch | length) == [2,2,2,2]" bplan.jsonl &&
	: >"$LOG" &&
	ht-invoke -q -o res.jsonl bplan.jsonl || : &&
	test "$(wc -l <res.jsonl)" = 16 &&
	set -- $(overlap "$LOG") &&
	test "$1" -le 2
'

test_done
