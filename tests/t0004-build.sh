#!/bin/sh
# The build: a missing library is named with its Debian package, and the
# packages the build needs are all there. (t0007 tests install.)
. "$HT_SRC/tests/lib.sh"

mk() { make --no-print-directory -C "$HT_SRC" ${HT_TEST_MAKEFLAGS:-} "$@"; }

test_expect_success 'a missing library is named with its Debian package' '
	mkdir fakepc && printf "#!/bin/sh\ncase \"\$*\" in *--exists*jansson*) exit 1;; esac\nexec pkg-config \"\$@\"\n" >fakepc/pkg-config &&
	chmod +x fakepc/pkg-config &&
	test_must_fail mk PKG_CONFIG="$TRASH/fakepc/pkg-config" all 2>err &&
	test_grep "missing library .jansson.: install the Debian package .libjansson-dev." err
'

test_expect_success 'scripts/install-deps --check --build: what built this is installed' '
	"$HT_SRC/scripts/install-deps" --check --build
'

test_done
