#!/bin/sh
# bench/push.sh: ht-push against Debian's docker-registry on loopback.
#  1. pushing an image whose blobs the registry has sends zero blob bytes;
#  2. pushing a new image (3 layers, 40 MB of random data) vs `skopeo copy`
#     of the same layout to the same registry: times and ratio.
set -eu
: "${HT_BIN:=$(cd "$(dirname "$0")/.." && pwd)/bin}"
PATH=$HT_BIN:$PATH
for p in docker-registry skopeo umoci python3; do
  command -v $p >/dev/null || { echo "bench/push.sh: $p is not installed; skipped"; exit 0; }
done
dir=$(mktemp -d "${TMPDIR:-/tmp}/ht-bench-push.XXXXXX")
pid=
trap '[ -z "$pid" ] || kill $pid 2>/dev/null; rm -rf "$dir"' EXIT
cd "$dir"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
printf 'version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s/data\nhttp:\n  addr: 127.0.0.1:%s\n' "$dir" "$port" >reg.yml
docker-registry serve reg.yml >reg.log 2>&1 & pid=$!
i=0; until python3 -c "import socket; socket.create_connection(('127.0.0.1',$port),0.2)" 2>/dev/null; do
  i=$((i+1)); [ $i -lt 100 ] || { echo "registry did not start"; exit 1; }; sleep 0.1; done
umoci init --layout lay >/dev/null
umoci new --image lay:t
n=0
for mb in 10 14 16; do
  n=$((n+1)); mkdir -p l$n; head -c $((mb*1024*1024)) /dev/urandom >l$n/f.bin
  umoci insert --image lay:t l$n /d$n >/dev/null
done
ht-pull -q -S store oci:lay:t >img.json
size=$(jq '([.layers[].size] | add) + .config_size' img.json)
ms() { date +%s%3N; }
t0=$(ms); ht-push -q -S store oci:lay:t 127.0.0.1:$port/ht:1 >p1.json; t1=$(ms)
t2=$(ms); skopeo copy -q --dest-tls-verify=false oci:lay:t docker://127.0.0.1:$port/sk:1; t3=$(ms)
ht-push -q -S store oci:lay:t 127.0.0.1:$port/ht:1 >p2.json
ht_ms=$((t1-t0)); sk_ms=$((t3-t2))
echo "image: 3 layers, $size bytes"
echo "ht-push new image:      ${ht_ms} ms ($(jq .blobs.bytes_sent p1.json) blob bytes sent)"
echo "skopeo copy same image: ${sk_ms} ms"
echo "ratio ht-push/skopeo:   $(echo "$ht_ms $sk_ms" | awk '{printf "%.2f", $1/$2}') (target <= 1)"
echo "ht-push again:          $(jq .blobs.bytes_sent p2.json) blob bytes sent, $(jq .blobs.existing p2.json) blobs already there"
[ "$(jq .blobs.bytes_sent p2.json)" -eq 0 ]
