#!/bin/sh
# Entries that claim more than they carry: a tar entry's size counts
# against the image's size limit as it claims it (a sparse file of 1 TiB in
# a layer of a few hundred bytes is refused, naming the entry), and no
# entry writes data past the size it claims.
. "$HT_SRC/tests/lib.sh"

PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
mkimage() { "$PY" "$HT_SRC/tests/helpers/ht-rootfs-mkimage.py"; }

# sparse NAME REALSIZE MAP DATA: an entry of the GNU 0.1 sparse format,
# REALSIZE bytes long, whose stored parts are DATA at the places of MAP.
sparse() {
	printf '{"name": "%s", "data": "%s", "pax": {"GNU.sparse.size": "%s", "GNU.sparse.numblocks": "%s", "GNU.sparse.map": "%s"}}' \
		"$1" "$4" "$2" "$(echo "$3" | awk -F, "{ print NF / 2 }")" "$3"
}

# image TAG LAYER...: an image of layers given as lists of entries.
image() {
	tag=$1 && shift &&
	printf '{"store": "st", "tag": "%s", "layers": [' "$tag" &&
	sep= && for l in "$@"; do printf '%s{"entries": [%s]}' "$sep" "$l"; sep=,; done &&
	printf ']}\n'
}

# The cache ($1) holds no root (and no temporary directory).
no_root() {
	ls -A "$1" >ls.out 2>/dev/null || : >ls.out
	if grep -v "\.lock$" ls.out; then
		echo "left in $1:" && cat ls.out && return 1
	fi
}

TIB=1099511627776

test_expect_success 'a layer of a few hundred bytes claiming a 1 TiB sparse file is refused' '
	image huge "$(sparse big $TIB $((TIB - 1)),1 x)" | mkimage >d &&
	man="st/blobs/sha256/$(cut -c8- d)" &&
	layer=$(jq -r ".layers[0].digest" "$man") &&
	test "$(jq -r ".layers[0].size" "$man")" -lt 1000 &&
	test_must_fail 65 ht-unpack -S st huge c-huge >out 2>err &&
	test_jq ".ok == false and .error.code == \"too_large\"" out &&
	test_grep "error: layer $layer: entry .big.: its $TIB bytes would make the image more than 10737418240 bytes uncompressed (the limit)" err &&
	no_root c-huge
'

test_expect_success 'a claimed size with no data at all is refused the same way' '
	image nodata "$(sparse empty $TIB "" "")" | mkimage >/dev/null &&
	test_must_fail 65 ht-unpack -S st nodata c-nodata >out 2>err &&
	test_jq ".error.code == \"too_large\"" out &&
	test_grep "entry .empty.: its $TIB bytes would make" err &&
	no_root c-nodata
'

test_expect_success 'the claims of all entries of all layers count together' '
	six=$((6 << 30)) &&
	image two "$(sparse a $six 0,1 x)" "$(sparse b $six 0,1 y)" | mkimage >/dev/null &&
	test_must_fail 65 ht-unpack -S st two c-two >out 2>err &&
	test_grep "entry .b.: its $six bytes would make the image more than" err &&
	no_root c-two &&
	test_must_fail 65 ht-unpack -S st --max-size 1M two c-two2 >out 2>err &&
	test_grep "entry .a.: its $six bytes would make the image more than 1048576 bytes" err &&
	no_root c-two2
'

test_expect_success 'a sparse file within the limit is unpacked with its data in place' '
	image small "$(sparse s 1048576 0,2,1048574,2 abcd)" | mkimage >/dev/null &&
	ht-unpack -S st small c-small >out &&
	root=$(jq -r .path out) &&
	test "$(stat -c %s "$root/s")" = 1048576 &&
	test "$(head -c 2 "$root/s")" = ab &&
	test "$(tail -c 2 "$root/s")" = cd &&
	test "$(head -c 1048574 "$root/s" | tail -c +3 | tr -d "\\0" | wc -c)" = 0 &&
	test_jq ".size == 1048576" out
'

test_expect_success 'data placed past the size an entry claims is refused' '
	image past "$(sparse p 10 $TIB,1 x)" | mkimage >/dev/null &&
	test_must_fail 65 ht-unpack -S st past c-past >out 2>err &&
	test_jq ".ok == false" out &&
	test_grep "entry .p.: data at offset $TIB, past the 10 bytes it claims" err &&
	no_root c-past
'

test_done
