#!/bin/sh
# The Debian package (scripts/mkdeb, make deb): its contents, its
# control fields, lintian without errors, and an installed copy (unpacked
# into a scratch root) that runs ht-doctor and the shop example.
. "$HT_SRC/tests/lib.sh"
test_need jq dpkg-deb dpkg-shlibdeps

deb=
test_expect_success 'mkdeb builds hypertest_VERSION_ARCH.deb' '
  version=$(sed -n "s/^VERSION *:= *//p" "$HT_SRC/Makefile") &&
  (cd "$HT_SRC" && MKDEB_MAKEFLAGS="${HT_TEST_MAKEFLAGS:-}" scripts/mkdeb "$version" "$TRASH/out") >path &&
  deb=$(cat path) && test -f "$deb" &&
  case $deb in */hypertest_${version}_$(dpkg --print-architecture).deb) ;; *) false ;; esac
'
deb=$(cat path 2>/dev/null)

test_expect_success 'its contents: every tool, a man page each, the fragment, the docs; no libht' '
  dpkg-deb -c "$deb" | awk "{ print \$6 }" | sed "s|^\./|/|" | sort >files &&
  for t in "$HT_SRC"/tools/ht-*.c; do t=${t##*/}; t=${t%.c};
    grep -qx "/usr/bin/$t" files && grep -qx "/usr/share/man/man1/$t.1.gz" files || { echo "missing $t"; return 1; }; done &&
  grep -qx /usr/share/hypertest/hypertest.mk files &&
  grep -qx /usr/share/doc/hypertest/copyright files &&
  grep -qx /usr/share/doc/hypertest/ht-invoke.md files &&
  ! grep -q "^/usr/lib\|^/usr/include" files
'

test_expect_success 'its control: dependencies from the binaries, bubblewrap recommended' '
  dpkg-deb -f "$deb" Depends >dep && test_grep "libcurl4" dep && test_grep "libjansson4" dep &&
  test_grep "libarchive13" dep && test_grep "libmicrohttpd12" dep &&
  test "$(dpkg-deb -f "$deb" Recommends)" = bubblewrap &&
  test "$(dpkg-deb -f "$deb" Package)" = hypertest
'

if have lintian; then
test_expect_success 'lintian: no errors' '
  lintian --fail-on error "$deb" >lint 2>&1 || { cat lint; false; }
'
else
test_skip 'lintian' 'lintian is not installed'
fi

test_expect_success 'a man page reads as one' '
  dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/share/man/man1/ht-plan.1.gz | zcat >page &&
  test_grep "^\.TH HT-PLAN 1" page && test_grep "^ht-plan \\\\- " page && test_grep "^\.SH OPTIONS" page
'

test_expect_success 'an installed copy runs ht-doctor and the shop example' '
  dpkg-deb -x "$deb" root &&
  root/usr/bin/ht-doctor --version >v && test_grep "^ht-doctor (hypertest)" v &&
  cp -R "$HT_SRC/examples/shop" shop && rm -rf shop/.hypertest &&
  (cd shop && PATH="$TRASH/root/usr/bin:/usr/bin:/bin" &&
   ht-doctor >/dev/null && ht-plan >plan && ht-invoke plan >res 2>err) &&
  test_jq -s "length > 10 and all(.status == \"passed\" or .status == \"flaky\")" shop/res &&
  test -f root/usr/share/hypertest/hypertest.mk
'

test_done
