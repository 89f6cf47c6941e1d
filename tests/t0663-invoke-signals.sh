#!/bin/sh
# ht-invoke stopped by a signal at a random moment, 20 times (SIGINT and
# SIGTERM in turn, the last one SIGKILL), its results on stdout in the odd
# trials and in -o FILE in the even ones: it finishes (exit 0, every test
# passed) or dies of that very signal, after writing one whole record for
# every test (those finished `passed`, the others `interrupted`) or, when
# the signal came before it began, none; -o FILE appears whole or not at
# all; after SIGINT or SIGTERM no test process is left behind (after
# SIGKILL the runners it started finish their test on their own); and
# the same plan run again completes. The delays come from a seed the output names (HT_TEST_SEED
# replays them).
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/ht-invoke-lib.sh"
. "$HT_SRC/tests/helpers/faults-lib.sh"
test_need perl
fault_seed
TRIALS=${HT_TEST_TRIALS:-20}
cd proj || exit 1

# Six tests of 0.2 s, two at a time; a test that ran to its end says so.
for i in 1 2 3 4 5 6; do mkrec t$i "sleep 0.2; touch $TRASH/done.t$i"; done >plan.jsonl
invoke() { env HT_BIN=$RUNNER_BIN ht-invoke -j 2 --set local.sandbox=none "$@" plan.jsonl; }

test_expect_success 'set up: how long the plan takes' '
	ms=$(elapsed_ms invoke) && echo "$ms" >invoke.ms && say "the plan takes $ms ms"
'
ms=$(cat invoke.ms 2>/dev/null || echo 1000)
say "delays from 0 to $((ms * 5 / 4)) ms"

# judge_results FILE: FILE has one whole record per test of the plan, or
# nothing; a `passed` test did run to its end.
judge_results() {
	[ -s "$1" ] || return 0
	test_jq -s "length == 6 and (map(.test_id) | sort) == [\"t1\",\"t2\",\"t3\",\"t4\",\"t5\",\"t6\"] and
		all(.[]; .status == \"passed\" or .status == \"interrupted\")" "$1" &&
	for t in $(jq -r "select(.status == \"passed\") | .test_id" "$1"); do
		test -e "$TRASH/done.$t" || { echo "$t passed, but did not run to its end" >&2; return 1; }
	done
}

i=0
for delay in $(fault_delays "$TRIALS" 0 $((ms * 5 / 4))); do
i=$((i + 1)) sig=$(fault_signal $i "$TRIALS")
if [ $((i % 2)) = 1 ]; then out=stdout; else out="-o res$i.jsonl"; fi
test_expect_success "trial $i: SIG$sig after ${delay}s, results to $out: a record per test or none, none left running; a rerun completes" '
	rm -f "$TRASH"/done.* &&
	TRIAL_WRAP="$REAPER v'$i'.leaks" signal_trial v'$i' '$sig' '$delay' \
		env HT_BIN=$RUNNER_BIN ht-invoke -j 2 --set local.sandbox=none '"$( [ "$out" = stdout ] || echo "$out")"' plan.jsonl &&
	echo "ended: $TRIAL_STATUS; records: $(cat v'$i'.out res'$i'.jsonl 2>/dev/null | wc -l)" &&
	{ [ '$sig' = KILL ] || signal_judged '$sig'; } &&
	if [ "'"$out"'" = stdout ]; then res=v'$i'.out; else res=res'$i'.jsonl; test ! -s v'$i'.out; fi &&
	{ [ "$TRIAL_STATUS" != "exit 0" ] || test_jq ".status == \"passed\"" $res; } &&
	if [ '$sig' = KILL ]; then
		# Nothing to write after SIGKILL: -o FILE is not there, stdout
		# holds whole records.
		{ [ "$TRIAL_STATUS" = "exit 0" ] || test ! -e res'$i'.jsonl; } &&
		{ [ ! -s $res ] || jq -e . $res >/dev/null; }
	else
		judge_results $res && test_no_leaks v'$i'.leaks
	fi &&
	invoke >again'$i'.jsonl && test_jq ".status == \"passed\"" again'$i'.jsonl &&
	test "$(wc -l <again'$i'.jsonl)" = 6
'
done

test_done
