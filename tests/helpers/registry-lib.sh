# tests/helpers/registry-lib.sh: start Debian's docker-registry (the CNCF
# distribution registry) for a test file, and make small test images.
# Source it after tests/lib.sh.

test_need docker-registry umoci python3 jq

# start_registry NAME [AUTH_YAML]: starts a registry on a free port of
# 127.0.0.1 with its storage in $TRASH/NAME; AUTH_YAML (indented two
# spaces) goes under "auth:". Sets REG_PORT, REG (127.0.0.1:PORT),
# REG_DATA, REG_PID. The registry stops when the file ends. With
# REG_ACCESSLOG=1 every request is logged to $REG_DATA/registry.log.
start_registry() {
  REG_PORT=${REG_PORT_FIXED:-$(free_port)}
  REG=127.0.0.1:$REG_PORT
  REG_DATA=$TRASH/$1
  mkdir -p "$REG_DATA"
  {
    echo 'version: 0.1'
    echo 'log:'
    echo '  level: warn'
    echo '  accesslog:'
    echo "    disabled: $([ "${REG_ACCESSLOG:-}" = 1 ] && echo false || echo true)"
    echo 'storage:'
    echo '  filesystem:'
    echo "    rootdirectory: $REG_DATA/storage"
    echo 'http:'
    echo "  addr: 127.0.0.1:$REG_PORT"
    if [ -n "${2:-}" ]; then echo 'auth:'; printf '%s\n' "$2"; fi
  } >"$REG_DATA/config.yml"
  docker-registry serve "$REG_DATA/config.yml" >>"$REG_DATA/registry.log" 2>&1 &
  REG_PID=$!
  test_cleanup_server $REG_PID
  wait_for_port "$REG_PORT" 20
}

# make_layout DIR TAG MB...: an OCI layout with one layer of MB megabytes
# of random (incompressible) data per argument, made with umoci.
make_layout() {
  _dir=$1 _tag=$2; shift 2
  [ -d "$_dir" ] || umoci init --layout "$_dir" || return 1
  umoci new --image "$_dir:$_tag" || return 1
  _n=0
  for _mb in "$@"; do
    _n=$((_n + 1))
    mkdir -p "$TRASH/.layer$_n"
    head -c $((_mb * 1024 * 1024)) /dev/urandom >"$TRASH/.layer$_n/blob$_n.bin"
    umoci insert --image "$_dir:$_tag" "$TRASH/.layer$_n" "/data$_n" || return 1
  done
}

# blob_data DIGEST: the file the registry stores a blob's bytes in.
blob_data() {
  _hex=${1#sha256:}
  echo "$REG_DATA/storage/docker/registry/v2/blobs/sha256/$(echo "$_hex" | cut -c1-2)/$_hex/data"
}
