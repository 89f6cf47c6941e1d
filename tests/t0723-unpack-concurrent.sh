#!/bin/sh
# ht-unpack interrupted and run twice at once: nothing under the final
# name until it is complete, leftovers cleaned up, one unpack per digest.
. "$HT_SRC/tests/lib.sh"
test_need jq python3

# The system python when there is one: a pyenv shim costs seconds a call.
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
mkimage() { "$PY" "$HT_SRC/tests/helpers/ht-rootfs-mkimage.py"; }

test_expect_success 'an image with a big layer' '
	printf "{\"store\": \"st\", \"tag\": \"big\", \"layers\": [
		{\"entries\": [{\"name\": \"small\", \"data\": \"s\"}]},
		{\"entries\": [{\"name\": \"big\", \"zeros\": 200000000},
			{\"name\": \"after\", \"data\": \"a\"}]}]}" | mkimage >digest
'

test_expect_success 'kill -9 in the middle leaves nothing under the final name' '
	hex=$(cut -c8- digest) &&
	{ ht-unpack -S st big cache >killed.out 2>killed.err & echo $! >pid; } &&
	pid=$(cat pid) &&
	i=0 &&
	while ! ls cache/.tmp-*/rootfs/big >/dev/null 2>&1 && test $i -lt 400; do
		sleep 0.02; i=$((i + 1))
	done &&
	kill -9 $pid && { wait $pid; true; } &&
	ls -d cache/.tmp-$hex-* &&
	test_must_fail test -e "cache/$hex" &&
	test ! -s killed.out
'

test_expect_success 'a rerun succeeds and removes the leftovers' '
	hex=$(cut -c8- digest) &&
	ht-unpack -S st big cache >out &&
	test_jq ".ok and .reused == false and .files == 3" out &&
	test "$(stat -c %s "cache/$hex/rootfs/big")" = 200000000 &&
	test "$(cat "cache/$hex/rootfs/after")" = a &&
	test "$(ls -A cache)" = "$(printf "%s\n%s.lock" "$hex" "$hex")"
'

test_expect_success 'two unpacks at once: one unpacks, the other waits and reuses' '
	hex=$(cut -c8- digest) &&
	rm -rf cache &&
	{ ht-unpack -S st big cache >one.out 2>one.err & echo $! >p1; } &&
	{ ht-unpack -S st big cache >two.out 2>two.err & echo $! >p2; } &&
	wait $(cat p1) && wait $(cat p2) &&
	test_jq ".ok" one.out && test_jq ".ok" two.out &&
	test "$(cat one.out two.out | jq -s "map(.reused) | sort")" = "$(printf "[\n  false,\n  true\n]")" &&
	test "$(jq -r .path one.out)" = "$(jq -r .path two.out)" &&
	test "$(ls -A cache)" = "$(printf "%s\n%s.lock" "$hex" "$hex")"
'

test_expect_success 'a tree without its marker is unpacked again' '
	hex=$(cut -c8- digest) &&
	rm "cache/$hex/ht-rootfs.json" &&
	echo junk >"cache/$hex/rootfs/junk" &&
	ht-unpack -S st big cache >out 2>err &&
	test_jq ".reused == false" out &&
	test_grep "incomplete; unpacking it again" err &&
	test_must_fail test -e "cache/$hex/rootfs/junk"
'

test_done
