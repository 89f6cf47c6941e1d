#!/bin/sh
# make install and uninstall: the tools, libht.a, only the public headers
# (each compiles on its own), hypertest.mk, and a pkg-config file a program
# builds and links with; uninstall leaves nothing but empty directories.
# And the Makefile itself: pkg-config asked once, CPPFLAGS honoured, a
# target whose recipe fails removed.
. "$HT_SRC/tests/lib.sh"
test_need make cc pkg-config

mk() { make --no-print-directory -C "$HT_SRC" ${HT_TEST_MAKEFLAGS:-} "$@"; }
# The same without the test run's flags: the plain build, printing only.
mk_n() { make --no-print-directory -C "$HT_SRC" SANITIZE=0 "$@"; }
case "${HT_TEST_MAKEFLAGS:-}" in *SANITIZE=1*) san=-fsanitize=address,undefined ;; *) san= ;; esac
D=$TRASH/dest
public="config.h diag.h exit.h jsonl.h provider.h runner.h util.h"
# pc: pkg-config on the tree installed under $D.
pc() { PKG_CONFIG_PATH="$D/opt/ht/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$D" pkg-config "$@"; }

test_expect_success 'install puts the tools, libht, the public headers and hypertest.mk under DESTDIR' '
	mk install DESTDIR="$D" PREFIX=/opt/ht >out 2>&1 &&
	(cd "$D" && find . -type f | LC_ALL=C sort) >files &&
	{ for t in "$HT_SRC"/tools/ht-*.c; do t=${t##*/}; echo "./opt/ht/bin/${t%.c}"; done &&
	  for h in $public; do echo "./opt/ht/include/ht/$h"; done &&
	  echo ./opt/ht/lib/libht.a && echo ./opt/ht/lib/pkgconfig/hypertest.pc &&
	  echo ./opt/ht/share/hypertest/hypertest.mk; } | LC_ALL=C sort >expect &&
	test_cmp expect files &&
	test -x "$D/opt/ht/bin/ht-doctor" &&
	cmp "$HT_SRC/mk/hypertest.mk" "$D/opt/ht/share/hypertest/hypertest.mk"
'

test_expect_success 'the pkg-config file: the prefix given, and every library a program linking libht.a needs' '
	f="$D/opt/ht/lib/pkgconfig/hypertest.pc" &&
	test_grep "^prefix=/opt/ht\$" "$f" &&
	test_grep "^libdir=\${prefix}/lib\$" "$f" &&
	test_grep "^includedir=\${prefix}/include\$" "$f" &&
	test_grep "^Requires: libcurl libcrypto libarchive zlib jansson libmicrohttpd\$" "$f" &&
	test_grep "^Libs: -L\${libdir} -lht -lpthread -lm\$" "$f" &&
	pc --modversion hypertest >v && test_grep "^[0-9][0-9.]*\$" v &&
	pc --cflags hypertest >cf && test_grep "^-I$D/opt/ht/include" cf &&
	pc --libs hypertest >libs &&
	for l in -lht -lcurl -lcrypto -larchive -lz -ljansson -lmicrohttpd -lpthread -lm; do
		grep -q -e " $l\\( \\|\$\\)" -e "^$l\\( \\|\$\\)" libs || { echo "no $l in: $(cat libs)" >&2; exit 1; }
	done
'

test_expect_success 'each installed header compiles on its own, twice over' '
	for h in $public; do
		printf "#include <ht/%s>\n#include <ht/%s>\nint main(void) { return 0; }\n" "$h" "$h" >one.c &&
		cc -std=c11 -Wall -Wextra -Werror -c -o one.o one.c $(pc --cflags hypertest) ||
		{ echo "ht/$h does not compile alone" >&2; exit 1; }
	done
'

test_expect_success 'a program builds, links and runs against the installed libht' '
	cat >prog.c <<-\EOC &&
	#include <stdio.h>
	#include <ht/exit.h>
	#include <ht/diag.h>
	#include <ht/util.h>
	#include <ht/jsonl.h>
	#include <ht/config.h>
	#include <ht/provider.h>
	#include <ht/runner.h>
	int main(int argc, char **argv)
	{
		char d[HT_DIGEST_LEN + 1];
		(void)argc;
		ht_diag_init(argv[0]);
		if (ht_sha256_digest("abc", 3, d) < 0)
			return HT_EXIT_SOFTWARE;
		printf("%s\n%s\n%s\n", d, ht_provider_names(), ht_runner_names());
		return ht_finish_stdout(HT_EXIT_OK);
	}
	EOC
	cc -std=c11 -o prog prog.c $san $(pc --cflags --libs hypertest) &&
	./prog >out &&
	test_grep "^sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\$" out &&
	test_grep "local" out && test_grep "command" out
'

test_expect_success 'uninstall leaves only empty directories, and what others put there' '
	mkdir -p "$D/opt/ht/bin" && : >"$D/opt/ht/bin/other-tool" &&
	mk uninstall DESTDIR="$D" PREFIX=/opt/ht >out 2>&1 &&
	(cd "$D" && find . ! -type d) >left &&
	echo ./opt/ht/bin/other-tool >expect && test_cmp expect left &&
	test ! -e "$D/opt/ht/include/ht" && test ! -e "$D/opt/ht/share/hypertest" &&
	rm "$D/opt/ht/bin/other-tool" &&
	mk uninstall DESTDIR="$D" PREFIX=/opt/ht >out 2>&1
'

test_expect_success 'pkg-config is asked as often for three objects as for one' '
	printf "#!/bin/sh\necho \"\$*\" >>\"%s/pc.log\"\nexec pkg-config \"\$@\"\n" "$TRASH" >pcw &&
	chmod +x pcw &&
	: >pc.log && mk_n -n -B PKG_CONFIG="$TRASH/pcw" build/std/lib/util.o >/dev/null &&
	one=$(wc -l <pc.log) &&
	: >pc.log && mk_n -n -B PKG_CONFIG="$TRASH/pcw" build/std/lib/util.o build/std/lib/jsonl.o build/std/lib/diag.o >/dev/null &&
	three=$(wc -l <pc.log) &&
	test "$one" -gt 0 && test "$one" = "$three"
'

test_expect_success 'CPPFLAGS reaches the compiler' '
	mk_n -n -B CPPFLAGS=-DHT_TEST_CPPFLAGS_MARK build/std/lib/util.o >cmds &&
	test_grep " -DHT_TEST_CPPFLAGS_MARK .*lib/util.c" cmds
'

test_expect_success 'a target whose recipe fails is removed, not left half written' '
	printf "%s/half:\n\techo partial >\$@ && false\n" "$TRASH" >extra.mk &&
	test_must_fail mk_n -f Makefile -f "$TRASH/extra.mk" "$TRASH/half" >out 2>&1 &&
	test ! -e half
'

test_done
