#!/bin/sh
# ht-unpack merges layers as OCI says: whiteouts, opaque directories,
# replaced kinds; gzip, plain and zstd layers; hard links, setuid bits,
# devices, FIFOs.
. "$HT_SRC/tests/lib.sh"
test_need jq python3

# The system python when there is one: a pyenv shim costs seconds a call.
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
mkimage() { "$PY" "$HT_SRC/tests/helpers/ht-rootfs-mkimage.py"; }

tree() { (cd "$1" && find . -mindepth 1 | sort); }

test_expect_success 'two layers with whiteouts give the merged tree' '
	cat >spec <<-\EOF &&
	{"store": "st", "tag": "wh", "layers": [
	 {"entries": [
	  {"name": "etc", "type": "dir"},
	  {"name": "etc/keep", "data": "keep"},
	  {"name": "etc/gone", "data": "gone"},
	  {"name": "etc/gonedir", "type": "dir"},
	  {"name": "etc/gonedir/f", "data": "f"},
	  {"name": "opq", "type": "dir"},
	  {"name": "opq/old1", "data": "1"},
	  {"name": "opq/sub", "type": "dir"},
	  {"name": "opq/sub/old2", "data": "2"},
	  {"name": "was-file", "data": "file"},
	  {"name": "was-dir", "type": "dir"},
	  {"name": "was-dir/inner", "data": "x"},
	  {"name": "was-link", "type": "symlink", "link": "etc"},
	  {"name": "over", "data": "lower"}]},
	 {"compression": "gzip", "entries": [
	  {"name": "etc/.wh.gone"},
	  {"name": "etc/.wh.gonedir"},
	  {"name": "etc/.wh.never-was"},
	  {"name": "nodir/.wh.x"},
	  {"name": "opq/new-before", "data": "b"},
	  {"name": "opq/.wh..wh..opq"},
	  {"name": "opq/new-after", "data": "a"},
	  {"name": "was-file", "type": "dir"},
	  {"name": "was-file/now", "data": "n"},
	  {"name": "was-dir", "data": "now a file"},
	  {"name": "was-link", "type": "dir"},
	  {"name": ".wh..wh.plnk", "type": "dir"},
	  {"name": "over", "data": "upper"}]}]}
	EOF
	mkimage <spec >digest &&
	ht-unpack -S st wh cache >out &&
	root=$(jq -r .path out) &&
	tree "$root" >got &&
	cat >want <<-\EOF &&
	./etc
	./etc/keep
	./opq
	./opq/new-after
	./opq/new-before
	./over
	./was-dir
	./was-file
	./was-file/now
	./was-link
	EOF
	test_cmp want got &&
	test "$(cat "$root/over")" = upper &&
	test "$(cat "$root/was-dir")" = "now a file" &&
	test -d "$root/was-link" && ! test -L "$root/was-link" &&
	test_jq ".digest == \"$(cat digest)\" and .files == 6 and .entries == 10" out
'

test_expect_success 'umoci agrees on the merged tree' '
	have umoci || { say "umoci missing"; return 0; }
	umoci unpack --rootless --image st:wh bundle >/dev/null 2>&1 &&
	tree bundle/rootfs >umoci.list &&
	test_cmp got umoci.list
'

test_expect_success 'plain tar and zstd layers' '
	cat >spec <<-\EOF &&
	{"store": "st", "tag": "kinds", "layers": [
	 {"compression": "none", "entries": [{"name": "plain", "data": "p"}]},
	 {"compression": "zstd", "entries": [{"name": "zst", "data": "z"}]},
	 {"compression": "gzip", "entries": [{"name": "gz", "data": "g"}]}]}
	EOF
	mkimage <spec >/dev/null &&
	ht-unpack -S st kinds cache >out &&
	root=$(jq -r .path out) &&
	test "$(cat "$root/plain")$(cat "$root/zst")$(cat "$root/gz")" = pzg
'

test_expect_success 'modes: setuid and setgid dropped, sticky kept, files readable' '
	cat >spec <<-\EOF &&
	{"store": "st", "tag": "modes", "layers": [{"entries": [
	 {"name": "suid", "data": "s", "mode": 3565},
	 {"name": "private", "data": "p", "mode": 0},
	 {"name": "tmp", "type": "dir", "mode": 1023},
	 {"name": "ro", "type": "dir", "mode": 365},
	 {"name": "ro/f", "data": "f", "mode": 292}]}]}
	EOF
	mkimage <spec >/dev/null &&
	ht-unpack -S st modes cache >out &&
	root=$(jq -r .path out) &&
	test "$(stat -c %a "$root/suid")" = 755 &&
	test "$(stat -c %a "$root/private")" = 400 &&
	test "$(stat -c %a "$root/tmp")" = 1777 &&
	test "$(stat -c %a "$root/ro")" = 755 &&
	test "$(stat -c %a "$root/ro/f")" = 444
'

test_expect_success 'hard links in the tree stay links; devices skipped with one warning; FIFOs made' '
	cat >spec <<-\EOF &&
	{"store": "st", "tag": "links", "layers": [{"entries": [
	 {"name": "bin", "type": "dir"},
	 {"name": "bin/busybox", "data": "bb", "mode": 493},
	 {"name": "bin/sh", "type": "hardlink", "link": "bin/busybox"},
	 {"name": "bin/ls", "type": "hardlink", "link": "./bin/busybox"},
	 {"name": "dev", "type": "dir"},
	 {"name": "dev/null", "type": "char"},
	 {"name": "dev/zero", "type": "char"},
	 {"name": "pipe", "type": "fifo"}]}]}
	EOF
	mkimage <spec >/dev/null &&
	ht-unpack -S st links cache >out 2>err &&
	root=$(jq -r .path out) &&
	test "$(stat -c %i "$root/bin/busybox")" = "$(stat -c %i "$root/bin/sh")" &&
	test "$(stat -c %i "$root/bin/busybox")" = "$(stat -c %i "$root/bin/ls")" &&
	test_grep "skipping device nodes (.dev/null. is the first)" err &&
	test "$(grep -c warning err)" = 1 &&
	test -p "$root/pipe" &&
	test "$(ls -A "$root/dev")" = ""
'

test_done
