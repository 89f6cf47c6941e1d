# tests/helpers/faults-lib.sh: shared by the fault suites (t066x, t076x):
# signals at random moments, a registry killed mid-transfer, a full disk.
# Source it after tests/lib.sh. The checks (verify_store, verify_roots,
# fill_to) need nothing of lib.sh, so that a script run in a mount
# namespace of its own (on_small_fs) can source this file too.

# fault_seed: sets FAULT_SEED (HT_TEST_SEED when given, else from the
# clock) and says it, so that a failing run can be replayed exactly:
# HT_TEST_SEED=N tests/t0660-... draws the same delays.
fault_seed() {
  FAULT_SEED=${HT_TEST_SEED:-$(( $(date +%s) % 1000000 ))}
  echo "# seed $FAULT_SEED (replay with HT_TEST_SEED=$FAULT_SEED)"
}

# fault_delays N LOW_MS HIGH_MS: N delays in seconds, uniform from LOW_MS to
# HIGH_MS milliseconds, drawn from FAULT_SEED (and the caller's salt in
# FAULT_SALT, so that two tools of one file draw different ones).
fault_delays() {
  awk -v s="$FAULT_SEED" -v salt="${FAULT_SALT:-0}" -v n="$1" -v lo="$2" -v hi="$3" \
    'BEGIN { srand(s * 31 + salt); for (i = 0; i < n; i++) printf "%.3f\n", (lo + rand() * (hi - lo)) / 1000 }'
}

# fault_signal I N: the signal of trial I of N: the last one KILL (nothing
# to re-raise: only what is on disk counts), the others INT and TERM in turn.
fault_signal() {
  if [ "$1" -eq "$2" ]; then echo KILL
  elif [ $(($1 % 2)) -eq 1 ]; then echo INT
  else echo TERM; fi
}

# signum NAME: the number of signal NAME.
signum() { case $1 in INT) echo 2 ;; TERM) echo 15 ;; KILL) echo 9 ;; esac; }

# verify_store DIR: the OCI layout DIR is whole: oci-layout and index.json
# parse, every blobs/sha256/NAME is 64 hex digits and hashes to NAME (the
# temporaries .tmp-* and .partial-* aside), and every manifest index.json
# tags is there with the config, layers or manifests it names. One python3
# process: the trials call it often.
verify_store() {
  python3 - "$1" <<'PY'
import hashlib, json, os, re, sys
d = sys.argv[1]
def fail(msg):
    print("verify_store: " + msg, file=sys.stderr)
    sys.exit(1)
def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        fail("'%s' is not whole: %s" % (path, e))
if load(os.path.join(d, "oci-layout")).get("imageLayoutVersion") != "1.0.0":
    fail("'%s/oci-layout' is not whole" % d)
index = load(os.path.join(d, "index.json"))
if not isinstance(index.get("manifests"), list):
    fail("'%s/index.json' has no manifests" % d)
blobs = os.path.join(d, "blobs", "sha256")
for name in os.listdir(blobs):
    if name.startswith("."):
        continue
    path = os.path.join(blobs, name)
    if not re.fullmatch("[0-9a-f]{64}", name):
        fail("'%s' is not named by a digest" % path)
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    if h.hexdigest() != name:
        fail("'%s' hashes to %s" % (path, h.hexdigest()))
def need(digest, who):
    if not os.path.isfile(os.path.join(blobs, digest.split(":", 1)[-1])):
        fail("%s names %s, which is not in the store" % (who, digest))
for m in index["manifests"]:
    need(m["digest"], "index.json")
    doc = load(os.path.join(blobs, m["digest"].split(":", 1)[-1]))
    for ref in [doc.get("config") or {}] + doc.get("layers", []) + doc.get("manifests", []):
        if ref.get("digest"):
            need(ref["digest"], "manifest " + m["digest"])
PY
}

# verify_roots DEST: every root in ht-unpack's cache DEST is whole: each
# DEST/HEX (not a temporary .tmp-*) has its marker, naming sha256:HEX.
verify_roots() {
  [ -d "$1" ] || return 0
  for _vr in "$1"/*; do
    [ -d "$_vr" ] || continue
    _vn=${_vr##*/}
    jq -e --arg d "sha256:$_vn" '.digest == $d' "$_vr/ht-rootfs.json" >/dev/null 2>&1 ||
      { echo "verify_roots: '$_vr' has no whole marker" >&2; return 1; }
  done
  return 0
}

# fill_to DIR BYTES: writes DIR/.filler so that about BYTES (rounded down
# to pages) stay free on DIR's file system.
fill_to() {
  rm -f "$1/.filler"
  _fa=$(df -B1 --output=avail "$1" | tail -n 1 | tr -d ' ')
  _fn=$((_fa - $2))
  [ $_fn -le 0 ] || head -c "$_fn" /dev/zero >"$1/.filler" 2>/dev/null
  return 0
}

# on_small_fs SIZE DIR CMD...: runs CMD in a mount namespace of its own in
# which DIR is a new tmpfs of SIZE (mount's syntax: 2m): as root with
# unshare -m, else in a user namespace too (unshare -rm). The tmpfs and
# what is on it are gone when CMD ends; nothing outside is touched.
on_small_fs() {
  _sz=$1 _sd=$2; shift 2
  if [ "$(id -u)" = 0 ]; then _su=-m; else _su=-rm; fi
  unshare $_su sh -c 'mount -t tmpfs -o "size=$1" none "$2" && shift 2 && exec "$@"' sh "$_sz" "$_sd" "$@"
}

# small_fs_works: true when on_small_fs can mount a tmpfs here.
small_fs_works() {
  mkdir -p "$TRASH/.fscheck" && on_small_fs 64k "$TRASH/.fscheck" true 2>/dev/null
}

# store_full_disk_trials TOOL: tests/helpers/faults-store-trial.sh's two
# sweeps for TOOL (build, pull-oci, pull-reg), each in a tmpfs of its own;
# every attempt judged, at least one failed with 74, and the sweep ended
# with attempts that completed on the first try.
store_full_disk_trials() {
  mkdir -p m &&
  on_small_fs 1m m sh "$HT_SRC/tests/helpers/faults-store-trial.sh" "$1" space >"trials.$1" 2>&1
  _tr=$?
  cat "trials.$1"
  [ $_tr = 0 ] && grep -q "exit 74" "trials.$1" || return 1
  on_small_fs 1m,nr_inodes=64 m sh "$HT_SRC/tests/helpers/faults-store-trial.sh" "$1" inodes >"trials.$1" 2>&1
  _tr=$?
  cat "trials.$1"
  [ $_tr = 0 ] && grep -q "exit 74" "trials.$1"
}

# signal_trial NAME SIG DELAY CMD...: runs CMD as a shell runs a program in
# the foreground (tests/helpers/run-status.pl: SIGINT and SIGTERM at their
# default), its stdout in NAME.out and stderr in NAME.err, sends it SIG
# DELAY seconds after it started, and waits for it. Sets TRIAL_STATUS to
# how it ended: "exit N" or "signal N". Remove NAME.* before. TRIAL_WRAP,
# when set, goes before (e.g. "$REAPER NAME.leaks", to see what is left).
signal_trial() {
  _tn=$1 _tsig=$2 _tdl=$3; shift 3
  rm -f "$_tn.pid" "$_tn.status"
  ${TRIAL_WRAP:-} perl "$HT_SRC/tests/helpers/run-status.pl" "$_tn" "$@" >"$_tn.out" 2>"$_tn.err" &
  _tw=$!
  _ti=0
  while [ ! -s "$_tn.pid" ] && [ $_ti -lt 100 ]; do sleep 0.05; _ti=$((_ti + 1)); done
  sleep "$_tdl"
  kill -"$_tsig" "$(cat "$_tn.pid")" 2>/dev/null
  wait $_tw
  TRIAL_STATUS=$(cat "$_tn.status" 2>/dev/null)
}

# signal_judged SIG: TRIAL_STATUS is what SIG must lead to: the program
# finished first (exit 0) or died of SIG (re-raised, not exit 130).
signal_judged() {
  case $TRIAL_STATUS in
    "exit 0"|"signal $(signum "$1")") return 0 ;;
  esac
  echo "after SIG$1: '$TRIAL_STATUS', expected exit 0 or signal $(signum "$1")" >&2
  return 1
}

# one_record_or_none FILE: FILE is empty or holds one whole JSON record.
one_record_or_none() {
  [ -s "$1" ] || return 0
  [ "$(wc -l <"$1")" = 1 ] && jq -e . "$1" >/dev/null 2>&1 && return 0
  echo "'$1' is not one whole record:" >&2; head -c 500 "$1" >&2; return 1
}

# elapsed_ms CMD...: runs CMD (its output to /dev/null), prints how long it
# took in milliseconds, fails when it failed.
elapsed_ms() {
  _es=$(date +%s%N)
  "$@" >/dev/null 2>&1 || return 1
  echo $(( ($(date +%s%N) - _es) / 1000000 ))
}
