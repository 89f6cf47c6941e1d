#!/bin/sh
# bench/build-layer.sh: ht-build's project layer against `tar -c | gzip -6`
# over the same ~100 MB tree (text, random data, many small files), and the
# rebuild of the unchanged tree. Prints the figures.
set -eu
: "${HT_BIN:=$(cd "$(dirname "$0")/.." && pwd)/bin}"
PATH=$HT_BIN:$PATH
dir=$(mktemp -d "${TMPDIR:-/tmp}/ht-bench-build.XXXXXX")
trap 'rm -rf "$dir"' EXIT
t=$dir/tree
mkdir -p "$t/text" "$t/random" "$t/small"
i=0
while [ $i -lt 40 ]; do seq $((i * 100000)) $((i * 100000 + 120000)) >"$t/text/f$i.txt"; i=$((i + 1)); done
i=0
while [ $i -lt 8 ]; do head -c 5000000 /dev/urandom >"$t/random/r$i.bin"; i=$((i + 1)); done
i=0
while [ $i -lt 20 ]; do
	mkdir -p "$t/small/d$i"
	j=0
	while [ $j -lt 250 ]; do echo "small file $i $j $(date +%N)" >"$t/small/d$i/s$j.txt"; j=$((j + 1)); done
	i=$((i + 1))
done
sleep 1.1 # past the reuse window for files changed just now
size=$(du -sm "$t" | cut -f1)
files=$(find "$t" -type f | wc -l)

now() { date +%s%N; }
ms() { echo $(( ($2 - $1) / 1000000 )); }

a=$(now); tar -C "$t" -cf - . | gzip -6 >"$dir/ref.tar.gz"; b=$(now)
ref=$(ms "$a" "$b")
a=$(now); ht-build --scratch --no-runner -C "$t" -S "$dir/st" --cache-dir "$dir/cache" -j 1 --no-cache >/dev/null; b=$(now)
one=$(ms "$a" "$b")
a=$(now); ht-build --scratch --no-runner -C "$t" -S "$dir/st" --cache-dir "$dir/cache" >"$dir/r1"; b=$(now)
par=$(ms "$a" "$b")
a=$(now); ht-build --scratch --no-runner -C "$t" -S "$dir/st" --cache-dir "$dir/cache" >"$dir/r2"; b=$(now)
re=$(ms "$a" "$b")
reused=$(jq -r '.layers[0].reused' "$dir/r2")
echo "tree: ${size} MB, $files files, $(nproc) cores"
echo "tar | gzip -6:               ${ref} ms ($(stat -c %s "$dir/ref.tar.gz") bytes)"
echo "ht-build project layer -j1:  ${one} ms"
echo "ht-build project layer:      ${par} ms ($(jq -r '.layers[0].size' "$dir/r1") bytes)"
echo "ht-build unchanged rebuild:  ${re} ms (reused: $reused, $((re * 100 / (par > 0 ? par : 1)))% of the first)"
