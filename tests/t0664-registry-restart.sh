#!/bin/sh
# The registry (Debian's docker-registry) killed with SIGKILL in the middle
# of a push and of a pull, at moments drawn from a seed the output names,
# and started again on the same port and storage: the tool either rides
# it out (its retries span the restart) or fails with 69 or 75 and a
# failed record; the local store verifies; the same command run again
# completes; and what is in the registry then is the image pushed, by
# digest, pulled back whole (and, with skopeo, read by another client).
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/faults-lib.sh"
. "$HT_SRC/tests/helpers/registry-lib.sh"
fault_seed
ROUNDS=${HT_TEST_TRIALS:-3}
start_registry reg || test_skip_all 'docker-registry does not start'
echo $REG_PID >reg.pid

# restart_registry: SIGKILL to the registry (its pid in reg.pid), then the
# same registry started again on its port and storage.
restart_registry() {
	kill -9 "$(cat "$TRASH/reg.pid")" 2>/dev/null
	while kill -0 "$(cat "$TRASH/reg.pid")" 2>/dev/null; do sleep 0.05; done
	docker-registry serve "$REG_DATA/config.yml" >>"$REG_DATA/registry.log" 2>&1 &
	echo $! >"$TRASH/reg.pid"
	test_cleanup_server "$(cat "$TRASH/reg.pid")"
	wait_for_port "$REG_PORT" 20
}

# transfer_with_restart NAME DELAY CMD...: CMD in the background (stdout
# NAME.json, stderr NAME.err); DELAY seconds later the registry is
# killed and started again; waits for CMD; its exit code in NAME.rc.
transfer_with_restart() {
	_n=$1 _d=$2; shift 2
	"$@" >"$_n.json" 2>"$_n.err" &
	_p=$!
	sleep "$_d"
	restart_registry
	wait $_p
	echo $? >"$_n.rc"
}

# judge NAME: exit 0 with a whole record, or 69/75 with a failed one.
judge() {
	_rc=$(cat "$1.rc")
	echo "$1: exit $_rc"
	case $_rc in
	0) test_jq ".ok" "$1.json" ;;
	69|75) test_jq ".ok == false and .error.code == \"unavailable\"" "$1.json" ;;
	*) echo "$1: exit $_rc, expected 0, 69 or 75" >&2; cat "$1.err" >&2; return 1 ;;
	esac
}

test_expect_success 'set up: an image of two layers of 1 MB, and how long a slowed push takes' '
	make_layout lay t 1 1 &&
	ht-pull -S store oci:lay:t >img.json && test_jq .ok img.json &&
	(cd store && sha256sum index.json blobs/sha256/*) >store.sums &&
	ms=$(elapsed_ms ht-push -S store --limit-rate 1000000 oci:lay:t $REG/timing:v1) && echo $ms >push.ms &&
	say "a push takes $ms ms"
'
ms=$(cat push.ms 2>/dev/null || echo 1000)
want=$(jq -r .digest img.json 2>/dev/null)

i=0
for delay in $(FAULT_SALT=1 fault_delays "$ROUNDS" $((ms / 5)) $((ms * 4 / 5))); do
i=$((i + 1))
test_expect_success "push $i: the registry killed after ${delay}s and started again; a rerun completes" '
	transfer_with_restart push'$i' '$delay' ht-push -S store --limit-rate 1000000 oci:lay:t $REG/app'$i':v1 &&
	judge push'$i' &&
	(cd store && sha256sum -c --quiet ../store.sums) &&
	ht-push -S store oci:lay:t $REG/app'$i':v1 >again'$i'.json &&
	test_jq ".ok and .digest == \"'$want'\"" again'$i'.json &&
	ht-pull -S back'$i' $REG/app'$i'@'$want' >back'$i'.json && test_jq ".ok" back'$i'.json &&
	verify_store back'$i' &&
	if have skopeo; then
		skopeo inspect --tls-verify=false docker://$REG/app'$i':v1 >insp'$i'.json &&
		test_jq ".Digest == \"'$want'\"" insp'$i'.json
	fi
'
done

test_expect_success 'set up: how long a slowed pull takes' '
	ms=$(elapsed_ms ht-pull -S timing --limit-rate 1000000 $REG/app1:v1) && echo $ms >pull.ms &&
	say "a pull takes $ms ms"
'
ms=$(cat pull.ms 2>/dev/null || echo 1000)

i=0
for delay in $(FAULT_SALT=2 fault_delays "$ROUNDS" $((ms / 5)) $((ms * 4 / 5))); do
i=$((i + 1))
test_expect_success "pull $i: the registry killed after ${delay}s and started again; the store verifies; a rerun completes" '
	transfer_with_restart pull'$i' '$delay' ht-pull -S s'$i' --limit-rate 1000000 -t t $REG/app1:v1 &&
	judge pull'$i' &&
	{ [ ! -f s'$i'/oci-layout ] || verify_store s'$i'; } &&
	ht-pull -v -S s'$i' -t t $REG/app1:v1 >again'$i'.json 2>err'$i' &&
	test_jq ".ok and .digest == \"'$want'\"" again'$i'.json &&
	verify_store s'$i' && cat err'$i'
'
done

test_done
