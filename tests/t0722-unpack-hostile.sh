#!/bin/sh
# Hostile layers: names that climb out, symlinks that point out (kept as
# symlinks, never followed while writing), hard links out of the tree,
# corrupted blobs, wrong diff_ids, decompression bombs. Nothing is written
# outside the tree, nothing is left under the final name.
. "$HT_SRC/tests/lib.sh"
test_need jq python3

# The system python when there is one: a pyenv shim costs seconds a call.
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
mkimage() { "$PY" "$HT_SRC/tests/helpers/ht-rootfs-mkimage.py"; }

# One image with one layer of the given entries (JSON), tagged $1.
image1() {
	printf '{"store": "st", "tag": "%s", "layers": [{"entries": [%s]}]}\n' "$1" "$2" | mkimage
}

# The cache ($1, default cache) holds no root (and no temporary
# directory) after a failure.
no_root() {
	ls -A "${1:-cache}" >ls.out 2>/dev/null || : >ls.out
	if grep -v "\.lock$" ls.out; then
		echo "left in cache:" && cat ls.out && return 1
	fi
}

HOSTNAME_X=ht-t0722-$$
test_at_end "rm -f /etc/$HOSTNAME_X"

mkdir -p victim/w victim/o && echo precious >victim/precious && echo host >hostfile &&
	echo precious >victim/w/precious && echo precious >victim/o/precious
V=$TRASH/victim

# refused NAME ENTRIES MESSAGE: the unpack fails with 65 and a message
# naming the layer and the entry.
refused() {
	d=$(image1 "$1" "$2") &&
	layer=$(jq -r ".layers[0].digest" "st/blobs/sha256/${d#sha256:}") &&
	test_must_fail 65 ht-unpack -S st "$1" "c-$1" >"$1.out" 2>"$1.err" &&
	test_jq ".ok == false and .error.code == \"unsafe_entry\"" "$1.out" &&
	test_grep "error: layer $layer: entry '$3': $4" "$1.err" &&
	no_root "c-$1"
}

test_expect_success 'an entry with ../ is refused' '
	refused dotdot "{\"name\": \"ok\", \"data\": \"x\"}, {\"name\": \"../escape\", \"data\": \"x\"}" \
		"../escape" "a path with a .\.\.. component is refused" &&
	test_must_fail test -e c-dotdot/escape &&
	refused dotdot2 "{\"name\": \"a/../../escape\", \"data\": \"x\"}" "a/../../escape" "a path with" &&
	test -z "$(find "$TRASH" -name escape)"
'

test_expect_success 'an absolute name is refused' '
	refused abs "{\"name\": \"/abs/path\", \"data\": \"x\"}" "/abs/path" "an absolute path is refused" &&
	test_must_fail test -e /abs/path
'

test_expect_success 'hard links to /etc/passwd and ../x are refused' '
	links=$(stat -c %h /etc/passwd) &&
	refused hl-abs "{\"name\": \"pw\", \"type\": \"hardlink\", \"link\": \"/etc/passwd\"}" \
		pw "hard link to ./etc/passwd.: an absolute path is refused" &&
	refused hl-up "{\"name\": \"x\", \"type\": \"hardlink\", \"link\": \"../x\"}" \
		x "hard link to .\.\./x.: a path with" &&
	test "$(stat -c %h /etc/passwd)" = "$links"
'

test_expect_success 'a hard link through a symlink to /etc finds nothing in the tree' '
	links=$(stat -c %h /etc/passwd) &&
	refused hl-sym "{\"name\": \"d\", \"type\": \"symlink\", \"link\": \"/etc\"},
		{\"name\": \"pw\", \"type\": \"hardlink\", \"link\": \"d/passwd\"}" \
		pw "hard link to .d/passwd., which is not in the tree" &&
	test "$(stat -c %h /etc/passwd)" = "$links"
'

test_expect_success 'a whiteout of .. is refused' '
	refused wh-up "{\"name\": \"d/.wh...\"}" "d/.wh..." "a whiteout of .\.\.. is refused" &&
	test -f victim/precious
'

test_expect_success 'symlinks out of the tree are kept, and writes through them stay inside' '
	cat >spec <<-EOF &&
	{"store": "st", "tag": "sym", "layers": [
	 {"entries": [
	  {"name": "a", "type": "symlink", "link": "/"},
	  {"name": "a/etc/$HOSTNAME_X", "data": "x"},
	  {"name": "b", "type": "symlink", "link": "../.."},
	  {"name": "b/x", "data": "x"},
	  {"name": "c", "type": "symlink", "link": "$V"},
	  {"name": "c/new", "data": "x"},
	  {"name": "loop", "type": "symlink", "link": "loop2"},
	  {"name": "loop2", "type": "symlink", "link": "loop"},
	  {"name": "f", "type": "symlink", "link": "$TRASH/hostfile"},
	  {"name": "w", "type": "symlink", "link": "$V/w"},
	  {"name": "o", "type": "symlink", "link": "$V/o"},
	  {"name": "usr", "type": "dir"},
	  {"name": "usr/lib", "type": "dir"},
	  {"name": "lib", "type": "symlink", "link": "usr/lib"}]},
	 {"entries": [
	  {"name": "f", "data": "replaced"},
	  {"name": "w/.wh.precious"},
	  {"name": "o/.wh..wh..opq"},
	  {"name": "lib/libc.so", "data": "libc"}]}]}
	EOF
	mkimage <spec >/dev/null &&
	(cd victim && find . | sort) >victim.before &&
	ht-unpack -S st sym cache >out 2>err &&
	root=$(jq -r .path out) &&
	test "$(readlink "$root/a")" = / &&
	test "$(readlink "$root/b")" = ../.. &&
	test "$(readlink "$root/c")" = "$V" &&
	test -f "$root/etc/$HOSTNAME_X" && test_must_fail test -e "/etc/$HOSTNAME_X" &&
	test -f "$root/x" && test_must_fail test -e cache/x && test_must_fail test -e x &&
	test -f "$root$V/new" && test_must_fail test -e victim/new &&
	test "$(cat hostfile)" = host && test "$(cat "$root/f")" = replaced && ! test -L "$root/f" &&
	(cd victim && find . | sort) >victim.after && test_cmp victim.before victim.after &&
	test "$(cat victim/precious victim/w/precious victim/o/precious)" = "$(printf "precious\nprecious\nprecious")" &&
	test "$(cat "$root/usr/lib/libc.so")" = libc && test -L "$root/lib"
'

test_expect_success 'umoci resolves those symlinks the same way' '
	have umoci || { say "umoci missing"; return 0; }
	umoci unpack --rootless --image st:sym bundle >/dev/null 2>&1 &&
	(cd bundle/rootfs && find . | sort) >umoci.list &&
	(cd "$(jq -r .path out)" && find . | sort) >ours.list &&
	test_cmp umoci.list ours.list
'

test_expect_success 'a symlink loop in the way is an error, not a hang' '
	refused loop "{\"name\": \"l1\", \"type\": \"symlink\", \"link\": \"l2\"},
		{\"name\": \"l2\", \"type\": \"symlink\", \"link\": \"l1\"},
		{\"name\": \"l1/x\", \"data\": \"x\"}" "l1/x" "its directory cannot be made: Too many levels"
'

test_expect_success 'a blob whose content does not match its digest is refused' '
	rm -rf cache &&
	printf "{\"store\": \"st\", \"tag\": \"corrupt\", \"layers\": [{\"compression\": \"none\",
		\"entries\": [{\"name\": \"f\", \"data\": \"AAAAAAAA\"}]}]}" | mkimage >d &&
	layer=$(jq -r ".layers[0].digest" "st/blobs/sha256/$(cut -c8- d)") &&
	blob=st/blobs/sha256/${layer#sha256:} &&
	chmod u+w "$blob" && sed -i "s/AAAAAAAA/AAAABAAA/" "$blob" &&
	test_must_fail 65 ht-unpack -S st corrupt cache >out 2>err &&
	test_jq ".error.code == \"digest_mismatch\"" out &&
	test_grep "error: layer $layer: blob digest mismatch: its content (.* bytes) hashes to sha256:" err &&
	no_root
'

test_expect_success 'a corrupted gzip stream is refused' '
	rm -rf cache &&
	printf "{\"store\": \"st\", \"tag\": \"badgz\", \"layers\": [{\"entries\": [{\"name\": \"f\", \"zeros\": 100000}]}]}" |
		mkimage >d &&
	layer=$(jq -r ".layers[0].digest" "st/blobs/sha256/$(cut -c8- d)") &&
	blob=st/blobs/sha256/${layer#sha256:} &&
	size=$(stat -c %s "$blob") &&
	head -c $((size / 2)) "$blob" >half && cat half half >"$blob" &&
	test_must_fail 65 ht-unpack -S st badgz cache >out 2>err &&
	test_grep "error: layer $layer: " err &&
	no_root
'

test_expect_success 'a diff_id that does not match is refused' '
	rm -rf cache &&
	printf "{\"store\": \"st\", \"tag\": \"baddiff\", \"bad_diff_id\": 1, \"layers\": [
		{\"entries\": [{\"name\": \"a\", \"data\": \"a\"}]},
		{\"entries\": [{\"name\": \"b\", \"data\": \"b\"}]}]}" | mkimage >d &&
	layer=$(jq -r ".layers[1].digest" "st/blobs/sha256/$(cut -c8- d)") &&
	test_must_fail 65 ht-unpack -S st baddiff cache >out 2>err &&
	test_jq ".error.code == \"digest_mismatch\"" out &&
	test_grep "error: layer $layer: diff_id mismatch: the config says sha256:" err &&
	no_root
'

test_expect_success 'a missing layer blob: exit 66' '
	rm -rf cache &&
	image1 missing "{\"name\": \"m\", \"data\": \"m\"}" >d &&
	layer=$(jq -r ".layers[0].digest" "st/blobs/sha256/$(cut -c8- d)") &&
	rm "st/blobs/sha256/${layer#sha256:}" &&
	test_must_fail 66 ht-unpack -S st missing cache >out 2>err &&
	test_jq ".error.code == \"not_found\"" out &&
	no_root
'

test_expect_success 'size and entry limits stop decompression bombs' '
	rm -rf cache &&
	printf "{\"store\": \"st\", \"tag\": \"bomb\", \"layers\": [{\"entries\": [{\"name\": \"z\", \"zeros\": 50000000}]}]}" |
		mkimage >/dev/null &&
	test $(stat -c %s st/blobs/sha256/* | sort -n | tail -1) -lt 1000000 &&
	test_must_fail 65 ht-unpack -S st --max-size 10M bomb cache >out 2>err &&
	test_jq ".error.code == \"too_large\"" out &&
	test_grep "more than 10485760 bytes uncompressed (the limit)" err &&
	no_root &&
	image1 many "{\"name\": \"1\"}, {\"name\": \"2\"}, {\"name\": \"3\"}" >/dev/null &&
	test_must_fail 65 ht-unpack -S st --max-entries 2 many cache >out 2>err &&
	test_jq ".error.code == \"too_large\"" out &&
	test_grep "more than 2 entries (the limit)" err &&
	no_root &&
	ht-unpack -S st --max-entries 3 many cache >out &&
	test_jq ".ok" out
'

test_done
