#!/bin/sh
# The test harness and the machine's set-up: tests/run-tests counts and
# names the files that skip; scripts/install-deps lets a non-root make
# check go on without test packages, and stops only the docker-registry
# service its own install started. install-deps runs with stand-ins for
# dpkg-query, id, apt-get and systemctl, and a scratch root
# (INSTALL_DEPS_ROOT): it never installs anything here.
. "$HT_SRC/tests/lib.sh"

# tap NAME LINES...: a test file that prints LINES.
tap() { _f=$1; shift; printf 'printf "%%s\\n" %s\n' "$*" >"$_f.sh"; }

test_expect_success 'run-tests: a file that skips counts as skipped and is named before the last line' '
	tap a "\"ok 1 - one\"" "\"1..1\"" &&
	tap b "\"1..0 # SKIP umoci is not installed\"" &&
	tap c "\"ok 1 - two # SKIP no bwrap\"" "\"ok 2 - three\"" "\"1..2\"" &&
	tap d "\"1..0 # skip no moto_server\"" &&
	"$HT_SRC/tests/run-tests" res ./a.sh ./b.sh ./c.sh ./d.sh >out 2>err &&
	test "$(tail -n 1 out)" = "2 passed, 0 failed, 3 skipped" &&
	test "$(tail -n 2 out | head -n 1)" = "2 files skipped: b d (reasons above)" &&
	test_grep "^b .*skipped: umoci is not installed\$" out &&
	test_grep "^d .*skipped: no moto_server\$" out &&
	tail -n 1 out | grep -E -x "[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?"
'

test_expect_success 'run-tests: one skipped file, and a skip that exits non-zero fails' '
	tap b "\"1..0 # SKIP umoci is not installed\"" &&
	printf "echo \"1..0 # SKIP x\"; exit 3\n" >e.sh &&
	test_expect_code 1 "$HT_SRC/tests/run-tests" res ./a.sh ./b.sh ./e.sh >out 2>err &&
	test "$(tail -n 1 out)" = "1 passed, 1 failed, 1 skipped" &&
	test_grep "^1 file skipped: b (reasons above)\$" out &&
	test_grep "^failed: e " out
'

# The stand-ins. MISSING: the packages dpkg-query says are not installed;
# FAKE_UID: what id -u says; apt-get logs its calls and, when it installs
# docker-registry, starts one the way the init script does (a pid file),
# or, with systemd, marks the unit active.
mkdir stub root
cp "$(command -v sleep)" stub/docker-registry
cat >stub/dpkg-query <<'EOF'
#!/bin/sh
for p; do :; done
case " $MISSING " in *" $p "*) exit 1 ;; esac
echo "install ok installed"
EOF
cat >stub/id <<'EOF'
#!/bin/sh
if [ "$1" = -u ]; then echo "$FAKE_UID"; else exec /usr/bin/id "$@"; fi
EOF
cat >stub/apt-get <<EOF
#!/bin/sh
echo "apt-get \$*" >>"$TRASH/apt.log"
r=\$INSTALL_DEPS_ROOT
case "\$*" in *install*docker-registry*)
  [ -x "\$r/usr/sbin/policy-rc.d" ] && { "\$r/usr/sbin/policy-rc.d"; echo "policy \$?" >>"$TRASH/apt.log"; }
  if [ -d "\$r/run/systemd/system" ]; then echo active >"$TRASH/unit"
  else
    "$TRASH/stub/docker-registry" 300 </dev/null >/dev/null 2>&1 &
    # Up, as the init script leaves it, before the pid file is written.
    while [ "\$(cat /proc/\$!/comm)" != docker-registry ]; do sleep 0.01; done
    echo \$! >"\$r/var/run/docker-registry.pid"
  fi ;;
esac
EOF
cat >stub/systemctl <<EOF
#!/bin/sh
echo "systemctl \$*" >>"$TRASH/apt.log"
case \$1 in
  is-active) [ "\$(cat "$TRASH/unit" 2>/dev/null)" = active ] ;;
  stop) echo inactive >"$TRASH/unit" ;;
esac
EOF
chmod +x stub/*
deps() {
	env PATH="$TRASH/stub:$PATH" INSTALL_DEPS_ROOT="$TRASH/root" MISSING="${MISSING-}" \
		FAKE_UID="${FAKE_UID-}" "$HT_SRC/scripts/install-deps" "$@"
}
# A docker-registry that is not the service (another test's, say).
stub/docker-registry 300 </dev/null >/dev/null 2>&1 &
other=$!
test_cleanup_server $other
test_at_end 'p=$(cat "$TRASH/root/var/run/docker-registry.pid" 2>/dev/null) && kill "$p" 2>/dev/null'

test_expect_success 'a server started inside a test body is stopped when the file ends' '
  printf "%s\n" ". \"\$HT_SRC/tests/lib.sh\"" \
    "test_expect_success start \"sleep 300 & echo \\\$! >$TRASH/srv.pid; test_cleanup_server \\\$!\"" \
    "test_done" >srv.sh &&
  (sh srv.sh >srv.out 2>&1) &&
  pid=$(cat "$TRASH/srv.pid") && test -n "$pid" && process_gone "$pid"
'

test_expect_success 'install-deps, not root, a test package missing: a warning that names it, exit 0' '
	: >"$TRASH/apt.log" &&
	MISSING="jq umoci" FAKE_UID=1000 deps 2>err &&
	test_grep "^install-deps: warning: missing Debian packages for the tests: jq umoci\$" err &&
	test_grep "skip" err &&
	test ! -s "$TRASH/apt.log"
'

test_expect_success 'install-deps, not root, a build package missing: an error, exit 69' '
	MISSING="libjansson-dev jq" FAKE_UID=1000 test_expect_code 69 deps 2>err &&
	test_grep "^install-deps: error: missing Debian packages: libjansson-dev jq\$" err &&
	MISSING="libjansson-dev" FAKE_UID=1000 test_expect_code 69 deps --build 2>err &&
	test_grep "libjansson-dev" err
'

test_expect_success 'install-deps --check: a missing test package is exit 69; --build --check ignores it' '
	MISSING="umoci" FAKE_UID=0 test_expect_code 69 deps --check 2>err &&
	test_grep "umoci" err &&
	MISSING="umoci" FAKE_UID=0 deps --check --build 2>err &&
	MISSING="" FAKE_UID=1000 deps --check 2>err && test ! -s err
'

test_expect_success 'install-deps as root: stops the docker-registry its install started, and no other' '
	mkdir -p root/usr/sbin root/var/run && : >"$TRASH/apt.log" &&
	MISSING="docker-registry" FAKE_UID=0 deps 2>err &&
	test_grep "^apt-get install .*docker-registry" "$TRASH/apt.log" &&
	test_grep "^policy 101\$" "$TRASH/apt.log" &&
	test ! -e root/usr/sbin/policy-rc.d &&
	started=$(cat root/var/run/docker-registry.pid) &&
	process_gone "$started" &&
	kill -0 $other &&
	test "$(cat /proc/$other/comm)" = docker-registry &&
	test_grep "stopping the docker-registry (pid $started)" err
'

test_expect_success 'install-deps as root, systemd: stops the unit only when the install started it' '
	rm -f root/var/run/docker-registry.pid && mkdir -p root/run/systemd/system &&
	: >"$TRASH/apt.log" && echo inactive >"$TRASH/unit" &&
	MISSING="docker-registry" FAKE_UID=0 deps 2>err &&
	test_grep "^systemctl stop docker-registry\$" "$TRASH/apt.log" &&
	test "$(cat "$TRASH/unit")" = inactive &&
	: >"$TRASH/apt.log" && echo active >"$TRASH/unit" &&
	MISSING="docker-registry" FAKE_UID=0 deps 2>err &&
	! grep "systemctl stop" "$TRASH/apt.log" &&
	test "$(cat "$TRASH/unit")" = active
'

test_done
