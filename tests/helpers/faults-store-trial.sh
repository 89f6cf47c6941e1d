# tests/helpers/faults-store-trial.sh TOOL space|inodes: the full-disk
# trials of t0665 and t0666, run inside a mount namespace in which m is a
# small tmpfs (on_small_fs). In the working directory: ref.json, the record
# of the image to make (ht-build of p, or ht-pull of oci:ref:t or of
# $REG/app:v1). For each amount of free space (KB around the layer's size)
# or of inodes, TOOL either completes or fails as it should (exit 74, a
# message naming the path, a store that verifies, nothing tagged); then,
# with room, it completes; the sweep ends when two in a row completed. A
# line per attempt goes to stdout; the first attempt judged wrong says why
# and ends the script with 1.
. "$HT_SRC/tests/helpers/faults-lib.sh"
want=$(jq -r .digest ref.json)
layer_kb=$(( $(jq '.layers[0].size' ref.json) / 1024 ))
tool=$1
run() {
	case $tool in
	build) ht-build --scratch --no-runner -C p -S m/store -t t --cache-dir m/cache ;;
	pull-oci) ht-pull -S m/store -t t oci:ref:t ;;
	pull-reg) ht-pull -S m/store -t t "$REG/app:v1" ;;
	esac
}
# attempt NAME: TOOL into m/store, judged by its exit code, messages,
# record and what it left in the store.
attempt() {
	run >"$1.json" 2>"$1.err"
	rc=$?
	echo "$1: exit $rc"
	if [ $rc = 0 ]; then
		jq -e --arg d "$want" '.ok and .digest == $d' "$1.json" >/dev/null ||
			{ echo "$1: exit 0, but not the image:"; cat "$1.json"; return 1; }
		jq -e --arg d "$want" '[.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "t")
			| .digest] == [$d]' m/store/index.json >/dev/null || { echo "$1: not tagged"; return 1; }
	else
		[ $rc = 74 ] || { echo "$1: exit $rc, expected 74:"; cat "$1.err"; return 1; }
		grep -q "No space left on device" "$1.err" && grep -q "'m/[^']" "$1.err" ||
			{ echo "$1: no message naming the path:"; cat "$1.err"; return 1; }
		[ ! -s "$1.json" ] || jq -e '.ok == false' "$1.json" >/dev/null ||
			{ echo "$1: a record that is not a failure:"; cat "$1.json"; return 1; }
		[ ! -f m/store/index.json ] || ! grep -q '"t"' m/store/index.json ||
			{ echo "$1: tagged after a failure"; return 1; }
	fi
	# The whole store is hashed after each failure (a success is judged by
	# its record and tag, and the store hashed at the end of the sweep).
	[ $rc = 0 ] || [ ! -f m/store/oci-layout ] || verify_store m/store ||
		{ echo "$1: the store does not verify"; return 1; }
	if [ -d m/cache ]; then
		for k in m/cache/*; do
			[ -f "$k" ] || continue
			jq -e . "$k" >/dev/null 2>&1 || { echo "$1: '$k' is not whole"; return 1; }
		done
	fi
}
# sweep NAME: after the attempt NAME (the disk filled), with room again
# the same command completes; ends the sweep (exit 0) at the second
# attempt in a row that completed on the first try: more room changes
# nothing.
ok_in_a_row=0
sweep() {
	attempt "$1" || exit 1
	if [ $rc = 0 ]; then
		ok_in_a_row=$((ok_in_a_row + 1))
		[ $ok_in_a_row -lt 2 ] || { verify_store m/store || { echo "the store does not verify"; exit 1; }; exit 0; }
		return 0
	fi
	ok_in_a_row=0
	rm -rf m/.filler m/.i && attempt "$1-again" && [ $rc = 0 ] || exit 1
}
case $2 in
space)
	for kb in 0 4 $(seq $((layer_kb - 4)) 4 $((layer_kb + 60))); do
		rm -rf m/store m/cache && fill_to m $((kb * 1024)) && sweep "$tool-free-${kb}k"
	done ;;
inodes)
	for n in $(seq 1 20); do
		rm -rf m/store m/cache m/.i && mkdir m/.i &&
		k=$(( $(df --output=iavail m | tail -n 1) - n )) && i=0 &&
		while [ $i -lt $k ]; do : >"m/.i/$i" || break; i=$((i + 1)); done
		sweep "$tool-inodes-$n"
	done ;;
esac
echo "no attempt completed"
exit 1
