#!/bin/sh
# examples/playwright in an image, as it runs in Lambda: a Debian base made
# offline (the files of the Debian packages Node and Chromium need, taken
# from this machine, no network), ht-build with the project and its
# node_modules, the local provider with local.root image, and the
# Chromium of @sparticuz/chromium (the image has no /usr/bin/chromium).
. "$HT_SRC/tests/lib.sh"
test_need jq umoci bwrap ldd
need_playwright
bwrap --ro-bind / / --unshare-pid true 2>/dev/null || test_skip_all 'bwrap cannot make a sandbox here'
[ -f "$PW_EXAMPLE/node_modules/@sparticuz/chromium/package.json" ] ||
	test_skip_all "examples/playwright has no @sparticuz/chromium in its node_modules (npm ci there)"
for t in ht-plan ht-invoke ht-runner ht-build; do
	[ -x "$HT_BIN/$t" ] || test_skip_all "$t is not built yet ($HT_BIN/$t does not exist)"
done

test_expect_success 'a Debian base with Node and the libraries Chromium needs, made offline' '
	mkdir unpack &&
	(cd "$PW_EXAMPLE" && TMPDIR="$TRASH/unpack" "$PW_NODE" -e "import(\"@sparticuz/chromium\").then(async (m) => console.log(await m.default.executablePath()))") >exe &&
	test "$(cat exe)" = "$TRASH/unpack/chromium" &&
	umoci init --layout base >/dev/null && umoci new --image base:deb >/dev/null &&
	umoci unpack --rootless --image base:deb b >/dev/null 2>&1 &&
	R=b/rootfs && mkdir -p $R/usr/bin $R/tmp $R/proc $R/dev $R/etc &&
	{ ldd "$PW_NODE"; ldd "$(cat exe)"; } | awk "\$3 ~ /^\\// { print \$3 } \$1 ~ /^\\// { print \$1 }" | sort -u >libs &&
	grep -q libnss3 libs &&
	for f in $(cat libs) $(ls /lib/x86_64-linux-gnu/libsoftokn3.so /lib/x86_64-linux-gnu/libfreebl*.so /lib/x86_64-linux-gnu/libnssckbi.so 2>/dev/null); do
		cp -L --parents "$f" $R/ || return 1
	done &&
	cp -L "$PW_NODE" $R/usr/bin/node &&
	echo "root:x:0:0:root:/tmp:/bin/sh" >$R/etc/passwd &&
	test ! -e $R/usr/bin/chromium &&
	umoci repack --image base:deb b >/dev/null
'

test_expect_success 'ht-build puts the project and its node_modules into the image' '
	mkdir ex && (cd "$PW_EXAMPLE" && tar --exclude=./.hypertest --exclude=./test-results -cf - .) | tar -C ex -xf - &&
	cat >ex/hypertest.json <<-\J &&
	{"provider": "local", "runner": {"name": "playwright", "args": ["--project", "desktop"]}, "timeout_s": 120,
	 "concurrency": 2, "local": {"root": "image", "image": "pw"}, "image": {"store": "../base"}}
	J
	ht-build --base-ref deb -S base -C ex -t pw --level 1 >img.json &&
	test_jq ".ok" img.json &&
	umoci list --layout base | grep -x pw
'

test_expect_success 'the tests run in the image with @sparticuz/chromium, as in Lambda' '
	(cd ex && ht-plan --grep "^\[desktop\] › counter.spec.js › (starts at zero|shows a note)" >plan.jsonl) &&
	test_jq -s "length == 2" ex/plan.jsonl &&
	(cd ex && ht-invoke plan.jsonl >res.jsonl 2>err) &&
	test_jq -s "map(.status) == [\"passed\", \"passed\"]" ex/res.jsonl &&
	k=$(jq -r ".attachments[] | select(.name == \"note\") | .key" ex/res.jsonl) &&
	test -s "ex/.hypertest/bucket/$k"
'

test_expect_success 'the image has no Debian chromium: runner.browser system says so' '
	(cd ex && ht-plan --grep "starts at zero" --set runner.browser=system >sys.jsonl &&
	 test_expect_code 1 ht-invoke sys.jsonl >sres.jsonl 2>err) &&
	test_jq ".status == \"error\" and (.message | contains(\"there is no /usr/bin/chromium here\"))" ex/sres.jsonl
'

test_done
