#!/bin/sh
# ht-unpack on a full disk (a small tmpfs in a mount namespace of the
# test's own): at each point where the space or the inodes run out, it
# fails with exit 74 and a message naming the path it could not write,
# leaves no root under its final name (only whole roots, with their
# marker), and once there is room again the same command completes.
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/faults-lib.sh"
test_need jq unshare
small_fs_works || test_skip_all 'cannot mount a tmpfs in a mount namespace here (unshare -m / -rm)'

test_expect_success 'set up: an image of three files, and its tree unpacked where there is room' '
	mkdir -p p/d && head -c 600000 /dev/urandom >p/a.bin && head -c 400000 /dev/urandom >p/d/b.bin &&
	echo small >p/c.txt &&
	ht-build --scratch --no-runner -C p -S store -t t >img.json &&
	ht-unpack -S store t ref >ref.json &&
	test_jq .ok ref.json
'

# The trials, run inside the namespace: m is the tmpfs. For each amount of
# free space (KB), or of inodes, ht-unpack either completes or fails as it
# should; then, with room, it completes. A line per trial goes to stdout.
cat >trial.sh <<'EOF'
. "$HT_SRC/tests/helpers/faults-lib.sh"
ref=$(jq -r .path ref.json)
# check NAME RC: judges the attempt whose output is NAME.json, NAME.err.
check() {
	if [ "$2" = 0 ]; then
		jq -e .ok "$1.json" >/dev/null && diff -r "$ref" "$(jq -r .path "$1.json")" >/dev/null ||
			{ echo "$1: exit 0, but not the tree"; return 1; }
	else
		[ "$2" = 74 ] || { echo "$1: exit $2, expected 74:"; cat "$1.err"; return 1; }
		grep -q "No space left on device" "$1.err" && grep -q "'m/roots/[^']" "$1.err" ||
			{ echo "$1: no message naming the path:"; cat "$1.err"; return 1; }
		jq -e '.ok == false and .error.code == "io"' "$1.json" >/dev/null ||
			{ echo "$1: not a failed record:"; cat "$1.json"; return 1; }
		[ ! -e "m/roots/$(jq -r '.digest | ltrimstr("sha256:")' img.json)" ] ||
			{ echo "$1: a root under its final name after a failure"; return 1; }
	fi
	verify_roots m/roots || { echo "$1: the cache is not whole"; return 1; }
}
# attempt NAME: ht-unpack into m/roots, judged.
attempt() {
	ht-unpack -S store t m/roots >"$1.json" 2>"$1.err"
	rc=$?
	echo "$1: exit $rc"
	check "$1" $rc
}
case $1 in
space)
	for kb in 0 8 300 596 600 604 700 980 984 988 992 996 1000 1004 1012; do
		rm -rf m/roots && fill_to m $((kb * 1024)) && attempt "free-${kb}k" || exit 1
		rm -f m/.filler && attempt "free-${kb}k-again" && jq -e .ok "free-${kb}k-again.json" >/dev/null || exit 1
	done ;;
inodes)
	for n in $(seq 1 14); do
		rm -rf m/roots m/.i && mkdir m/roots m/.i &&
		k=$(( $(df --output=iavail m | tail -n 1) - n )) && i=0 &&
		while [ $i -lt $k ]; do : >"m/.i/$i" || break; i=$((i + 1)); done
		attempt "inodes-$n" || exit 1
		rm -rf m/.i && attempt "inodes-$n-again" && jq -e .ok "inodes-$n-again.json" >/dev/null || exit 1
	done ;;
esac
EOF

test_expect_success 'the disk fills at every stage: exit 74 naming the path, no partial root; then it completes' '
	mkdir m && on_small_fs 2m m sh trial.sh space >trials 2>&1; rc=$?
	cat trials; test $rc = 0 && grep -q "exit 74" trials && grep -q "free-1012k: exit 0" trials
'

test_expect_success 'the inodes run out at every stage: the same' '
	mkdir -p m && on_small_fs 2m,nr_inodes=64 m sh trial.sh inodes >trials 2>&1; rc=$?
	cat trials; test $rc = 0 && grep -q "exit 74" trials && grep -q "inodes-14: exit 0" trials
'

test_done
