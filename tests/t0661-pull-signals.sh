#!/bin/sh
# ht-pull from a registry stopped by a signal at a random moment, 20 times
# (SIGINT and SIGTERM in turn, the last one SIGKILL), its blobs slowed
# down so that the signal lands in the transfers as often as around them:
# it finishes (exit 0, its record) or dies of that very signal; stdout
# holds its one record or nothing; no blob under a wrong digest (a
# download cut off stays a .partial-HEX), a tag only for a whole image;
# and the same pull run again completes (resuming what it kept). The
# delays come from a seed the output names (HT_TEST_SEED replays them).
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/faults-lib.sh"
. "$HT_SRC/tests/helpers/registry-lib.sh"
test_need perl
fault_seed
TRIALS=${HT_TEST_TRIALS:-20}
start_registry reg || test_skip_all 'docker-registry does not start'

pull() { ht-pull -S "$1" --limit-rate 400000 -t t $REG/app:v1; }

test_expect_success 'set up: an image of two layers of 400 KB in the registry, and how long a pull takes' '
	mkdir -p p && head -c 400000 /dev/urandom >p/a &&
	ht-build --scratch --no-runner -C p -S ref -t base >base.json &&
	rm p/a && head -c 400000 /dev/urandom >p/b &&
	ht-build -B base --no-runner -C p -S ref -t t >ref.json && test_jq ".ok and (.layers | length) == 2" ref.json &&
	ht-push -S ref t $REG/app:v1 >pushed.json && test_jq .ok pushed.json &&
	ms=$(elapsed_ms pull timing) && echo "$ms" >pull.ms && say "a pull takes $ms ms"
'
# A run stopped after the last byte of a blob but before its rename keeps
# a .partial-HEX that holds it all: the next run must not ask for a range
# past its end (docker-registry answers 416 with a Content-Length its body
# does not keep, a transfer error on every retry) but take it as it is,
# or fetch it again when it is not the blob after all.
test_expect_success 'a .partial file that holds the whole blob is taken as it is, without a request' '
	l=$(jq -r ".layers[1].digest" ref.json) && h=${l#sha256:} &&
	mkdir -p kept/blobs/sha256 && cp ref/blobs/sha256/$h kept/blobs/sha256/.partial-$h &&
	ht-pull -v -S kept -t t $REG/app:v1 >kept.json 2>err &&
	test_jq ".ok and .digest == \"$(jq -r .digest ref.json)\"" kept.json &&
	test_grep "blob $l: complete from an earlier run" err &&
	test ! -e kept/blobs/sha256/.partial-$h && verify_store kept
'

test_expect_success 'a .partial file of the full size that is not the blob is fetched again' '
	l=$(jq -r ".layers[1].digest" ref.json) && h=${l#sha256:} &&
	mkdir -p bad/blobs/sha256 && head -c $(jq ".layers[1].size" ref.json) /dev/zero >bad/blobs/sha256/.partial-$h &&
	ht-pull -v -S bad -t t $REG/app:v1 >bad.json 2>err &&
	test_jq ".ok" bad.json && verify_store bad && test ! -e bad/blobs/sha256/.partial-$h
'

ms=$(cat pull.ms 2>/dev/null || echo 500)
want=$(jq -r .digest ref.json 2>/dev/null)
say "delays from 0 to $((ms * 5 / 4)) ms"

i=0
for delay in $(fault_delays "$TRIALS" 0 $((ms * 5 / 4))); do
i=$((i + 1)) sig=$(fault_signal $i "$TRIALS")
test_expect_success "trial $i: SIG$sig after ${delay}s: its record or nothing, a store that verifies; a rerun completes" '
	signal_trial p'$i' '$sig' '$delay' ht-pull -S s'$i' --limit-rate 400000 -t t $REG/app:v1 &&
	echo "ended: $TRIAL_STATUS; kept: $(ls -A s'$i'/blobs/sha256 2>/dev/null | grep -c "^\.partial-")" &&
	{ [ '$sig' = KILL ] || signal_judged '$sig'; } &&
	one_record_or_none p'$i'.out &&
	{ [ "$TRIAL_STATUS" != "exit 0" ] || test_jq ".ok and .digest == \"'$want'\"" p'$i'.out; } &&
	{ [ ! -f s'$i'/oci-layout ] || verify_store s'$i'; } &&
	{ [ ! -f s'$i'/index.json ] || test_jq -s "[.[0].manifests[].digest] - [\"'$want'\"] == []" s'$i'/index.json; } &&
	ht-pull -v -S s'$i' -t t $REG/app:v1 >r'$i'.json && test_jq ".ok and .digest == \"'$want'\"" r'$i'.json &&
	rm -rf s'$i'
'
done

test_done
