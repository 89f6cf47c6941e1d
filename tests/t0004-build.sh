#!/bin/sh
# The build: a missing library is named with its Debian package; install
# puts tools, libht, headers, hypertest.mk and a working pkg-config file in
# place; uninstall takes them away.
. "$HT_SRC/tests/lib.sh"

mk() { make --no-print-directory -C "$HT_SRC" ${HT_TEST_MAKEFLAGS:-} "$@"; }

test_expect_success 'a missing library is named with its Debian package' '
	mkdir fakepc && printf "#!/bin/sh\ncase \"\$*\" in *--exists*jansson*) exit 1;; esac\nexec pkg-config \"\$@\"\n" >fakepc/pkg-config &&
	chmod +x fakepc/pkg-config &&
	test_must_fail mk PKG_CONFIG="$TRASH/fakepc/pkg-config" all 2>err &&
	test_grep "missing library .jansson.: install the Debian package .libjansson-dev." err
'

test_expect_success 'install puts everything under DESTDIR and PREFIX' '
	mk install DESTDIR="$TRASH/dest" PREFIX=/opt/ht >/dev/null &&
	test -x dest/opt/ht/bin/ht-doctor &&
	test -f dest/opt/ht/lib/libht.a &&
	test -f dest/opt/ht/include/ht/ht.h &&
	test -f dest/opt/ht/lib/pkgconfig/hypertest.pc &&
	if test -f "$HT_SRC/mk/hypertest.mk"; then test -f dest/opt/ht/share/hypertest/hypertest.mk; fi
'

test_expect_success 'a program builds against the installed libht with pkg-config' '
	cat >prog.c <<-\EOC &&
	#include <stdio.h>
	#include <ht/ht.h>
	int main(int argc, char **argv) {
		char d[HT_DIGEST_LEN + 1];
		(void)argc;
		ht_diag_init(argv[0]);
		if (ht_sha256_digest("abc", 3, d) < 0) return 1;
		printf("%s\n", d);
		return ht_finish_stdout(0);
	}
	EOC
	pc="$TRASH/dest/opt/ht/lib/pkgconfig" &&
	sed -i "s|^prefix=.*|prefix=$TRASH/dest/opt/ht|; s|^libdir=.*|libdir=$TRASH/dest/opt/ht/lib|; s|^includedir=.*|includedir=$TRASH/dest/opt/ht/include|" "$pc/hypertest.pc" &&
	cc -o prog prog.c $(PKG_CONFIG_PATH="$pc" pkg-config --cflags --libs hypertest) $(case "${HT_TEST_MAKEFLAGS:-}" in *SANITIZE=1*) echo -fsanitize=address,undefined;; esac) &&
	./prog >out &&
	test_grep "^sha256:ba7816bf" out
'

test_expect_success 'uninstall removes what install put' '
	mk uninstall DESTDIR="$TRASH/dest" PREFIX=/opt/ht >/dev/null &&
	test ! -e dest/opt/ht/bin/ht-doctor &&
	test ! -e dest/opt/ht/lib/libht.a &&
	test ! -e dest/opt/ht/include/ht &&
	test ! -e dest/opt/ht/share/hypertest
'

test_expect_success 'scripts/install-deps --check knows what is installed' '
	"$HT_SRC/scripts/install-deps" --check
'

test_done
