#!/bin/sh
# local.writable_root (host mode): the whole root writable through
# overlays private to each sandbox: a write into /usr, /etc or /var/lib
# lands nowhere on the host; the project too; as root and as a user.
. "$HT_SRC/tests/lib.sh"
test_need jq
need_bwrap
overlay_works || test_skip_all "overlayfs cannot be mounted here as $(id -un) (in a user namespace it needs Linux 5.11+)"

mkdir -p proj/tests && cd proj || exit 1
tag=ht-t0432-$$
# As root every directory is writable; as a user what the user could
# write (the top of each overlaid directory is the user's own: new
# entries there), never a root-owned file.
cat >tests/root.sh <<T
set -e
echo x >/usr/$tag
test "\$(cat /usr/$tag)" = x
mkdir /opt/$tag
echo x >/var/task/$tag
if [ "\$(id -u)" = 0 ]; then
	echo x >/usr/lib/$tag
	echo x >>/etc/hostname
	touch /var/lib/$tag
else
	if touch /usr/lib/$tag 2>/dev/null || touch /etc/hostname 2>/dev/null; then exit 1; fi
fi
T
printf '{"runner": {"list": "echo root", "run": "sh tests/root.sh"}, "timeout_s": 30}\n' >hypertest.json
ht-plan >plan.jsonl || exit 1
cp /etc/hostname hostname.before

test_expect_success 'without it, /usr is read-only' '
	test_must_fail 1 ht-invoke plan.jsonl >res.jsonl 2>err &&
	test_jq ".status == \"failed\" and (.output_tail | contains(\"Read-only file system\"))" res.jsonl
'

test_expect_success 'with local.writable_root, writes into the root and the project succeed' '
	ht-invoke --set local.writable_root=true plan.jsonl >res.jsonl 2>err &&
	test_jq ".ok" res.jsonl
'

test_expect_success 'and land nowhere on the host' '
	test ! -e /usr/$tag && test ! -e /usr/lib/$tag && test ! -e /opt/$tag && test ! -e /var/lib/$tag &&
	test ! -e $tag && cmp /etc/hostname hostname.before &&
	test -z "$(find /tmp -maxdepth 1 -name "ht-overlay.*" -user "$(id -u)" 2>/dev/null)"
'

if user_dir && overlay_works as_nobody; then
test_expect_success 'as an unprivileged user (nobody): root-owned files stay unwritable, nothing lands on the host' '
	cp -R tests hypertest.json plan.jsonl "$USERDIR/" && chown -R 65534:65534 "$USERDIR" &&
	(cd "$USERDIR" && as_nobody env HOME="$USERDIR" ht-invoke --set local.writable_root=true plan.jsonl >res.jsonl 2>err) &&
	test_jq ".ok" "$USERDIR/res.jsonl" &&
	test ! -e /usr/$tag && test ! -e /opt/$tag && test ! -e "$USERDIR/$tag"
'
else
test_skip 'as an unprivileged user (nobody): root-owned files stay unwritable, nothing lands on the host' \
	'not root (this run is the unprivileged one), no setpriv, or overlayfs refuses nobody here'
fi

test_expect_success 'a bad value of local.writable_root is a config error (78)' '
	test_must_fail 78 ht-invoke --set local.writable_root=yes-please plan.jsonl >res.jsonl 2>err &&
	test_grep "local.writable_root" err
'

test_done
