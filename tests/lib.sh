# tests/lib.sh: the shell test harness, in the style of git's t/test-lib.sh.
#
# A test file sources this, then calls test_expect_success 'title' 'commands'
# for each case and test_done at the end. Output is TAP, so `prove -j2 tests/`
# can run the files in parallel; `make check` runs them through
# tests/run-tests. Each file gets its own scratch directory ($TRASH), removed
# at the end unless a test failed or HT_TEST_KEEP is set. Servers a test
# starts are registered with test_cleanup_server and stopped by test_done or
# when the file exits for any reason.
#
# Variables: HT_BIN (the tools), HT_TEST_HELPERS (unit tests, test helpers),
# HT_SRC (the source tree). HT_TEST_VERBOSE=1 shows each test's commands
# and output on stderr.

set -u
: "${HT_SRC:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${HT_BIN:=$HT_SRC/bin}"
: "${HT_TEST_HELPERS:=$HT_SRC/build/std/tests}"
PATH="$HT_BIN:$HT_TEST_HELPERS:$PATH"
export HT_SRC HT_BIN HT_TEST_HELPERS PATH
# The tests must not see the user's settings.
unset HT_CONFIG AWS_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN \
      AWS_REGION AWS_DEFAULT_REGION AWS_ENDPOINT_URL AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE
for _ht_v in $(env | sed -n 's/^\(HT_[A-Z0-9_]*\)=.*/\1/p'); do
  case $_ht_v in HT_BIN|HT_SRC|HT_TEST_*) ;; *) unset "$_ht_v" ;; esac
done
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=99}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=98}"

_ht_name=$(basename "$0" .sh)
TRASH=$(mktemp -d "${TMPDIR:-/tmp}/ht-test.$_ht_name.XXXXXX")
HOME=$TRASH/home; mkdir -p "$HOME"; export HOME
cd "$TRASH" || exit 1
_ht_count=0 _ht_failed=0 _ht_pids= _ht_cleanups= _ht_skip_all=

_ht_cleanup() {
  # Servers started inside a test body (a subshell) are in the file.
  [ ! -f "$TRASH/.ht-servers" ] || _ht_pids="$_ht_pids $(cat "$TRASH/.ht-servers")"
  rm -f "$TRASH/.ht-servers"
  for _p in $_ht_pids; do kill "$_p" 2>/dev/null; done
  for _p in $_ht_pids; do
    _i=0
    while kill -0 "$_p" 2>/dev/null && [ $_i -lt 50 ]; do sleep 0.1; _i=$((_i + 1)); done
    kill -9 "$_p" 2>/dev/null
  done
  _ht_pids=
  [ -z "$_ht_cleanups" ] || eval "$_ht_cleanups"
  _ht_cleanups=
}
trap '_ht_cleanup' EXIT
trap '_ht_cleanup; exit 130' INT TERM

say() { echo "# $*"; }

# test_expect_success 'title' 'commands': run commands in a subshell with
# set -e semantics left to the commands (chain them with &&).
test_expect_success() {
  _ht_count=$((_ht_count + 1))
  if [ -n "${HT_TEST_ONLY:-}" ] && ! echo " $HT_TEST_ONLY " | grep -q " $_ht_count "; then
    echo "ok $_ht_count - $1 # SKIP not selected"; return 0
  fi
  _ht_out="$TRASH/.out.$_ht_count"
  if ( eval "$2" ) >"$_ht_out" 2>&1 </dev/null; then
    echo "ok $_ht_count - $1"
    [ -z "${HT_TEST_VERBOSE:-}" ] || sed 's/^/#   /' "$_ht_out" >&2
  else
    _ht_failed=$((_ht_failed + 1))
    echo "not ok $_ht_count - $1"
    printf '%s\n' "$2" | sed 's/^/#   /'
    echo "#   output:"
    tail -n 40 "$_ht_out" | sed 's/^/#   | /'
  fi
}

# test_skip 'title' 'reason'
test_skip() {
  _ht_count=$((_ht_count + 1))
  echo "ok $_ht_count - $1 # SKIP $2"
}

# test_skip_all 'reason': for a file whose prerequisites are missing.
test_skip_all() {
  echo "1..0 # SKIP $1"
  _ht_skip_all=1
  _ht_cleanup
  cd / && rm -rf "$TRASH"
  exit 0
}

test_done() {
  _ht_cleanup
  echo "1..$_ht_count"
  cd /
  if [ "$_ht_failed" -eq 0 ] && [ -z "${HT_TEST_KEEP:-}" ]; then
    rm -rf "$TRASH"
  else
    echo "# scratch kept in $TRASH"
  fi
  [ "$_ht_failed" -eq 0 ]
  exit $?
}

# test_must_fail [CODE] cmd...: the command must fail, by a normal exit (not
# a signal or a sanitizer report), with exit code CODE when it is given.
test_must_fail() {
  _want=
  case $1 in [0-9]*) _want=$1; shift ;; esac
  "$@"
  _rc=$?
  if [ $_rc -eq 0 ]; then echo "test_must_fail: '$*' succeeded" >&2; return 1; fi
  if [ $_rc -gt 128 ] || [ $_rc -eq 98 ] || [ $_rc -eq 99 ]; then
    echo "test_must_fail: '$*' died (exit $_rc)" >&2; return 1
  fi
  if [ -n "$_want" ] && [ $_rc -ne "$_want" ]; then
    echo "test_must_fail: '$*' exited $_rc, expected $_want" >&2; return 1
  fi
  return 0
}

# test_expect_code CODE cmd...: the command must exit with CODE.
test_expect_code() {
  _want=$1; shift
  "$@"
  _rc=$?
  [ $_rc -eq "$_want" ] && return 0
  echo "test_expect_code: '$*' exited $_rc, expected $_want" >&2
  return 1
}

# test_cmp EXPECTED ACTUAL
test_cmp() { diff -u "$1" "$2"; }

# test_grep PATTERN FILE: like grep, but shows the file when it fails.
test_grep() {
  if grep -q -e "$1" "$2"; then return 0; fi
  echo "test_grep: no '$1' in $2:" >&2; sed 's/^/| /' "$2" >&2; return 1
}

# test_jq FILTER FILE: FILE (JSON Lines) has at least one record and every
# record satisfies FILTER (jq -e alone would judge only the last one); with
# -s, FILTER sees the array of all records.
test_jq() {
  if [ "$1" = -s ]; then shift; jq -e -s "$1" "$2" >/dev/null && return 0
  else jq -e -s "length > 0 and all(.[]; $1)" "$2" >/dev/null && return 0; fi
  echo "test_jq: '$1' is not true of $2:" >&2; head -c 4000 "$2" | sed 's/^/| /' >&2; return 1
}

# free_port: prints a TCP port on 127.0.0.1 that nothing listens on.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_for_port PORT [SECONDS]: waits until something accepts on 127.0.0.1:PORT.
wait_for_port() {
  _i=0 _max=$(( ${2:-20} * 10 ))
  while [ $_i -lt $_max ]; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null || \
       python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$1),0.2)" 2>/dev/null; then
      return 0
    fi
    sleep 0.1; _i=$((_i + 1))
  done
  echo "wait_for_port: nothing listens on 127.0.0.1:$1" >&2
  return 1
}

# test_cleanup_server PID: stop this process when the file ends.
# Kept in a file as well, so that a server started inside a test body
# (which runs in a subshell) is stopped too.
test_cleanup_server() { _ht_pids="$_ht_pids $1"; echo "$1" >>"$TRASH/.ht-servers"; }

# test_at_end 'commands': run commands when the file ends.
test_at_end() { _ht_cleanups="$_ht_cleanups
$1"; }

# start_moto: starts moto_server on a free port of 127.0.0.1 with signature
# checking on after the first INITIAL actions (default 0), sets MOTO_PORT and
# MOTO_URL, and stops it at the end.
start_moto() {
  command -v moto_server >/dev/null 2>&1 || return 1
  MOTO_PORT=$(free_port)
  MOTO_URL=http://127.0.0.1:$MOTO_PORT
  INITIAL_NO_AUTH_ACTION_COUNT=${1:-0} moto_server -H 127.0.0.1 -p "$MOTO_PORT" \
    >"$TRASH/moto.log" 2>&1 &
  test_cleanup_server $!
  wait_for_port "$MOTO_PORT" 30
}

have() { command -v "$1" >/dev/null 2>&1; }

# process_gone PID...: true when each PID is no longer running (a zombie
# waiting to be reaped by an init that does not reap counts as gone). Waits
# up to 2 s.
process_gone() {
  for _gp in "$@"; do
    _i=0 _st=
    while [ $_i -lt 20 ]; do
      _st=$(sed -n 's/^.*) \([A-Za-z]\).*/\1/p' "/proc/$_gp/stat" 2>/dev/null)
      case $_st in ""|Z*) break ;; esac
      sleep 0.1; _i=$((_i + 1))
    done
    case $_st in ""|Z*) ;; *) echo "process_gone: process $_gp still runs ($_st)" >&2; return 1 ;; esac
  done
  return 0
}

# descendants PID: prints the pids below PID (its children, theirs, ...),
# read from /proc/PID/task/*/children: only this test's own processes,
# never one elsewhere on the machine that happens to look alike.
descendants() {
  _dl=$1
  while [ -n "$_dl" ]; do
    _dn=
    for _dp in $_dl; do _dn="$_dn $(cat /proc/"$_dp"/task/*/children 2>/dev/null)"; done
    _dl=$(echo $_dn)
    [ -z "$_dl" ] || printf '%s\n' $_dl
  done
}

# wait_descendant PID PATTERN [SECONDS]: waits (default 20 s) until a
# process below PID has a command line that matches the grep PATTERN, then
# prints the pids of all that do.
wait_descendant() {
  _i=0 _max=$(( ${3:-20} * 10 ))
  while [ $_i -lt $_max ]; do
    _found=$(for _dp in $(descendants "$1"); do
      printf '%s ' "$_dp"; tr '\0' ' ' <"/proc/$_dp/cmdline" 2>/dev/null; echo
    done | grep -e " .*$2" | cut -d' ' -f1)
    if [ -n "$_found" ]; then echo $_found; return 0; fi
    sleep 0.1; _i=$((_i + 1))
  done
  echo "wait_descendant: nothing below process $1 runs '$2'" >&2
  return 1
}

# reaped LEAKS CMD...: runs CMD under tests/helpers/ht-reaper.py, which keeps
# every process CMD starts below itself, and writes to LEAKS those still
# running when CMD has ended (and kills them); exits with CMD's status.
# test_no_leaks LEAKS then checks that there were none. Run it as
# "$REAPER" LEAKS CMD... & when the test needs the pid to signal CMD.
REAPER=$HT_SRC/tests/helpers/ht-reaper.py
reaped() { "$REAPER" "$@"; }
test_no_leaks() {
  [ -e "$1" ] || { echo "test_no_leaks: no file '$1'" >&2; return 1; }
  [ -s "$1" ] || return 0
  echo "test_no_leaks: processes left behind:" >&2; sed 's/^/| /' "$1" >&2; return 1
}

# test_need COMMAND...: skips the whole file unless every COMMAND is on
# PATH; the reason names the Debian package of each missing one, which
# scripts/install-deps installs (as root).
test_need() {
  _nm= _np=
  for _nc in "$@"; do
    have "$_nc" && continue
    _nm="$_nm $_nc"
    case $_nc in
      bwrap) _np="$_np bubblewrap" ;;
      htpasswd) _np="$_np apache2-utils" ;;
      busybox) _np="$_np busybox-static" ;;
      musl-gcc) _np="$_np musl" ;;
      cc) _np="$_np gcc" ;;
      pkg-config) _np="$_np pkgconf" ;;
      dpkg-deb) _np="$_np dpkg" ;;
      dpkg-shlibdeps) _np="$_np dpkg-dev" ;;
      moto_server) ;;
      *) _np="$_np $_nc" ;;
    esac
  done
  [ -n "$_nm" ] || return 0
  case " $_nm " in
    *" moto_server "*) _nw="; moto_server comes with Python's moto (pip install 'moto[server]')" ;;
    *) _nw= ;;
  esac
  if [ -n "$_np" ]; then
    test_skip_all "not on PATH:$_nm; install the Debian packages$_np (as root: scripts/install-deps)$_nw"
  fi
  test_skip_all "not on PATH:$_nm$_nw"
}

# need_busybox_sandbox: skips the file unless umoci, a working bwrap and a
# static busybox (Debian busybox-static) are here; sets BUSYBOX to it.
need_busybox_sandbox() {
  test_need umoci bwrap
  BUSYBOX=
  for _b in /bin/busybox /usr/bin/busybox; do
    if [ -x "$_b" ] && ! ldd "$_b" >/dev/null 2>&1; then BUSYBOX=$_b; break; fi
  done
  [ -n "$BUSYBOX" ] || test_skip_all 'a static busybox is needed (Debian busybox-static)'
  bwrap --ro-bind / / --unshare-pid true 2>/dev/null || test_skip_all 'bwrap cannot make a sandbox here'
}

# need_pytest: skips the file unless a Python with pytest is here (Debian's
# /usr/bin/python3 first: the tests' PATH finds that one, not a pyenv
# shim); sets PYTEST_PY to it.
need_pytest() {
  PYTEST_PY=
  for _py in /usr/bin/python3 /usr/local/bin/python3; do
    if [ -x "$_py" ] && "$_py" -c 'import pytest' 2>/dev/null; then PYTEST_PY=$_py; break; fi
  done
  [ -n "$PYTEST_PY" ] || test_skip_all "no python3 with pytest in /usr/bin or /usr/local/bin; install the Debian package python3-pytest (as root: scripts/install-deps)"
  export PYTEST_PY
}

# need_bwrap: skips the file unless bwrap makes sandboxes here.
need_bwrap() {
  test_need bwrap
  bwrap --ro-bind / / --unshare-pid true 2>/dev/null || test_skip_all 'bwrap cannot make a sandbox here'
}

# overlay_works [CMD...]: true when an overlay can be mounted in a mount
# namespace of one's own, as the local provider mounts it (as root; else in
# a user namespace, Linux 5.11+), run through CMD (as_nobody, say).
overlay_works() {
  "$@" sh -c 'd=$(mktemp -d) && mkdir "$d/l" "$d/u" "$d/w" "$d/m" &&
    if [ "$(id -u)" = 0 ]; then unshare -m mount -t overlay overlay -o "lowerdir=$d/l,upperdir=$d/u,workdir=$d/w" "$d/m"
    else unshare -Urm mount -t overlay overlay -o "lowerdir=$d/l,upperdir=$d/u,workdir=$d/w,userxattr" "$d/m"; fi
    rc=$?; rm -rf "$d"; exit $rc' >/dev/null 2>&1
}

# as_nobody CMD...: runs CMD as the unprivileged user nobody (root only),
# with the environment; USERDIR (made by user_dir) is a directory it owns.
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; }
# user_dir: when root and setpriv is here, sets USERDIR to a new directory
# nobody owns (removed at the end) and returns 0; else returns 1.
user_dir() {
  [ "$(id -u)" = 0 ] && have setpriv || return 1
  USERDIR=$(mktemp -d /tmp/ht-user.XXXXXX) && chmod 755 "$USERDIR" &&
    chown 65534:65534 "$USERDIR" || return 1
  test_at_end "rm -rf '$USERDIR'"
}

# pw_node_modules DIR: the example's node_modules in DIR, for a project a
# sandbox runs: hard links (a copy across file systems), not a symbolic
# link, whose target (a checkout under /tmp, say) the sandbox may hide.
pw_node_modules() {
  cp -al "$PW_EXAMPLE/node_modules" "$1/node_modules" 2>/dev/null ||
    { rm -rf "$1/node_modules"; cp -a "$PW_EXAMPLE/node_modules" "$1/node_modules"; }
}

# need_playwright: skips the file unless node 20 or later is in the tests'
# PATH and examples/playwright has its node_modules (scripts/install-deps
# runs npm ci there); sets PW_EXAMPLE to that directory and PW_NODE to node.
need_playwright() {
  PW_EXAMPLE=$HT_SRC/examples/playwright PW_NODE=
  for _n in /usr/local/bin/node /usr/bin/node; do
    [ -x "$_n" ] && [ "$("$_n" -p 'process.versions.node.split(".")[0] >= 20' 2>/dev/null)" = true ] && { PW_NODE=$_n; break; }
  done
  [ -n "$PW_NODE" ] || test_skip_all "no node 20 or later in /usr/bin or /usr/local/bin (Playwright 1.65 needs it: NodeSource's nodejs, or Debian 13's)"
  [ -f "$PW_EXAMPLE/node_modules/@playwright/test/cli.js" ] ||
    test_skip_all "examples/playwright has no node_modules: run, in it, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci (or scripts/install-deps)"
  export PW_EXAMPLE PW_NODE
}
