#!/bin/sh
# local.task_path "same": with the host root the project is also bound at
# its own host path, the working directory, so absolute paths a build
# baked into it resolve; the overlay applies there too; bad values and
# "same" with an image root are config errors (78).
. "$HT_SRC/tests/lib.sh"
test_need jq
need_bwrap

mkdir -p proj/tests proj/bin && cd proj || exit 1
P=$(pwd -P)
# A "build" that baked its absolute path: a script whose interpreter is
# in the project (a virtualenv's shebang) and an absolute link.
printf '#!/bin/sh\nexec /bin/sh "$@"\n' >bin/interp && chmod +x bin/interp
printf '#!%s/bin/interp\necho baked ok\n' "$P" >bin/tool && chmod +x bin/tool
ln -s "$P/bin/tool" tests/tool-link
cat >tests/baked.sh <<T
set -e
test "\$(pwd)" = "$P"
test "\$LAMBDA_TASK_ROOT" = "$P"
test "\$(tests/tool-link)" = "baked ok"
test -e /var/task/bin/tool
T
cat >tests/write.sh <<T
set -e
echo x >"$P/written"
test "\$(cat /var/task/written)" = x
T
printf '{"runner": {"list": "echo tests/baked.sh", "run": "sh {name}"}, "timeout_s": 30}\n' >hypertest.json
ht-plan >plan.jsonl && ht-plan --set runner.list="echo tests/write.sh" >plan-w.jsonl || exit 1

test_expect_success 'by default (var-task) the baked paths do not resolve' '
	test_must_fail 1 ht-invoke plan.jsonl >res.jsonl 2>err
'

test_expect_success 'local.task_path "same": cwd is the host path, the baked paths work' '
	ht-invoke --set local.task_path=same plan.jsonl >res.jsonl 2>err &&
	test_jq ".ok" res.jsonl
'

test_expect_success 'it is read-only there too, and with local.writable_task one overlay at both paths' '
	test_must_fail 1 ht-invoke --set local.task_path=same plan-w.jsonl >res.jsonl 2>err &&
	ht-invoke --set local.task_path=same --set local.writable_task=true plan-w.jsonl >res.jsonl 2>err &&
	test_jq ".ok" res.jsonl && test ! -e written
'

if user_dir; then
test_expect_success 'as an unprivileged user (nobody): the same path, the baked paths work' '
	cp -R "$P" "$USERDIR/proj" && chown -R 65534:65534 "$USERDIR" && U=$USERDIR/proj &&
	printf "#!%s/bin/interp\necho baked ok\n" "$U" >"$U/bin/tool" &&
	ln -sf "$U/bin/tool" "$U/tests/tool-link" &&
	sed -i "s|$P|$U|g" "$U/tests/baked.sh" && chown -R 65534:65534 "$USERDIR" &&
	(cd "$U" && as_nobody env HOME="$USERDIR" ht-invoke --set local.task_path=same plan.jsonl >res.jsonl 2>err) &&
	test_jq ".ok" "$U/res.jsonl"
'
else
test_skip 'as an unprivileged user (nobody): the same path, the baked paths work' 'not root (this run is the unprivileged one), or no setpriv'
fi

test_expect_success 'bad values: an unknown task_path, and "same" with an image root (78)' '
	test_must_fail 78 ht-invoke --set local.task_path=host plan.jsonl >res.jsonl 2>err &&
	test_grep "local.task_path: expected one of .var-task., .same., got .host." err &&
	test_must_fail 78 ht-invoke --set local.task_path=same --set local.root=image plan.jsonl >res.jsonl 2>err &&
	test_grep "error: local.task_path .same. needs local.root .host." err
'

test_done
