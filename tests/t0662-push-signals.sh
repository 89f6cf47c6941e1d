#!/bin/sh
# ht-push stopped by a signal at a random moment, 20 times (SIGINT and
# SIGTERM in turn, the last one SIGKILL), its uploads slowed down so that
# the signal lands in the transfers as often as around them: it finishes
# (exit 0, its record) or dies of that very signal; stdout holds its one
# record or nothing; the store it pushes from is left as it was; and the
# same push run again completes, the image pulled back hashing to the
# digest pushed. The delays come from a seed the output names
# (HT_TEST_SEED replays them).
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/faults-lib.sh"
. "$HT_SRC/tests/helpers/registry-lib.sh"
test_need perl
fault_seed
TRIALS=${HT_TEST_TRIALS:-20}
start_registry reg || test_skip_all 'docker-registry does not start'

test_expect_success 'set up: an image of two layers of 400 KB, and how long a push takes' '
	mkdir -p p && head -c 400000 /dev/urandom >p/a &&
	ht-build --scratch --no-runner -C p -S ref -t base >base.json &&
	rm p/a && head -c 400000 /dev/urandom >p/b &&
	ht-build -B base --no-runner -C p -S ref -t t >ref.json && test_jq ".ok and (.layers | length) == 2" ref.json &&
	(cd ref && sha256sum index.json blobs/sha256/*) >ref.sums &&
	ms=$(elapsed_ms ht-push -S ref --limit-rate 700000 t $REG/timing:v1) && echo "$ms" >push.ms &&
	say "a push takes $ms ms"
'
ms=$(cat push.ms 2>/dev/null || echo 500)
want=$(jq -r .digest ref.json 2>/dev/null)
say "delays from 0 to $((ms * 5 / 4)) ms"

i=0
for delay in $(fault_delays "$TRIALS" 0 $((ms * 5 / 4))); do
i=$((i + 1)) sig=$(fault_signal $i "$TRIALS")
test_expect_success "trial $i: SIG$sig after ${delay}s: its record or nothing; a rerun completes, the image pulled back whole" '
	signal_trial u'$i' '$sig' '$delay' ht-push -S ref --limit-rate 700000 t $REG/t'$i':v1 &&
	echo "ended: $TRIAL_STATUS" &&
	{ [ '$sig' = KILL ] || signal_judged '$sig'; } &&
	one_record_or_none u'$i'.out &&
	{ [ "$TRIAL_STATUS" != "exit 0" ] || test_jq ".ok and .digest == \"'$want'\"" u'$i'.out; } &&
	(cd ref && sha256sum -c --quiet ../ref.sums) &&
	ht-push -S ref t $REG/t'$i':v1 >r'$i'.json && test_jq ".ok and .digest == \"'$want'\"" r'$i'.json &&
	ht-pull -S back'$i' $REG/t'$i':v1 >b'$i'.json && test_jq ".ok and .digest == \"'$want'\"" b'$i'.json &&
	verify_store back'$i' && rm -rf back'$i'
'
done

test_done
