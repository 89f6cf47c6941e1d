#!/bin/sh
# ht-build stopped by a signal at a random moment, 20 times (SIGINT and
# SIGTERM in turn, the last one SIGKILL): it finishes (exit 0, its record)
# or dies of that very signal; stdout holds its one record or nothing; no
# partial file under a final name (every blob hashes to its name, a tag
# names a whole image, a layer-cache key is whole JSON); and the same
# build run again completes with the same digest. The delays come from a
# seed the output names (HT_TEST_SEED replays them).
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/faults-lib.sh"
test_need jq perl python3
fault_seed
TRIALS=${HT_TEST_TRIALS:-20}

build() { ht-build --scratch --no-runner -C p -S "$1" -t t --cache-dir "$2" -j 2; }

test_expect_success 'set up: a project of 1.5 MB in 12 files, and how long its build takes' '
	mkdir -p p/a p/b && for i in 1 2 3 4 5 6; do
		head -c 150000 /dev/urandom >p/a/f$i && head -c 100000 /dev/urandom >p/b/g$i || exit 1
	done &&
	build ref refcache >ref.json && test_jq .ok ref.json &&
	ms=$(elapsed_ms build timing timingcache) && echo "$ms" >build.ms && say "a build takes $ms ms"
'
ms=$(cat build.ms 2>/dev/null || echo 500)
want=$(jq -r .digest ref.json 2>/dev/null)
say "delays from 0 to $((ms * 5 / 4)) ms"

i=0
for delay in $(fault_delays "$TRIALS" 0 $((ms * 5 / 4))); do
i=$((i + 1)) sig=$(fault_signal $i "$TRIALS")
test_expect_success "trial $i: SIG$sig after ${delay}s: its record or nothing, a store that verifies; a rerun completes" '
	signal_trial b'$i' '$sig' '$delay' ht-build --scratch --no-runner -C p -S s'$i' -t t --cache-dir c'$i' -j 2 &&
	echo "ended: $TRIAL_STATUS" &&
	{ [ '$sig' = KILL ] || signal_judged '$sig'; } &&
	one_record_or_none b'$i'.out &&
	{ [ "$TRIAL_STATUS" != "exit 0" ] || test_jq ".ok and .digest == \"'$want'\"" b'$i'.out; } &&
	{ [ ! -f s'$i'/oci-layout ] || verify_store s'$i'; } &&
	{ [ ! -f s'$i'/index.json ] || test_jq -s "[.[0].manifests[].digest] - [\"'$want'\"] == []" s'$i'/index.json; } &&
	for k in c'$i'/*; do [ ! -f "$k" ] || jq -e . "$k" >/dev/null || exit 1; done &&
	build s'$i' c'$i' >r'$i'.json && test_jq ".ok and .digest == \"'$want'\"" r'$i'.json &&
	rm -rf s'$i' c'$i'
'
done

test_done
