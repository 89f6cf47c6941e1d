#!/bin/sh
# mk/hypertest.mk included from a throwaway Makefile, with stub tools: the
# default goal, the commands, atomic files, results kept on failure, the
# knobs, and that the fragment adds no names outside its prefixes.
. "$HT_SRC/tests/lib.sh"

test_need make jq

# test_line_count N FILE: FILE has N lines.
test_line_count() {
	_n=$(wc -l <"$2")
	[ "$_n" -eq "$1" ] && return 0
	echo "test_line_count: $2 has $_n lines, expected $1:" >&2; sed 's/^/| /' "$2" >&2; return 1
}
FRAG=$HT_SRC/mk/hypertest.mk
STUBS=$TRASH/stubs
STUB_LOG=$TRASH/stub.log
export STUB_LOG

# Stub tools: they test the fragment, not the tools. ht-plan prints the
# records of $STUB_PLAN with a fresh run id and exits $STUB_PLAN_RC;
# ht-invoke turns each record of the plan (its last argument) into a
# result, stops after $STUB_STOP_AFTER of them, and exits $STUB_INVOKE_RC.
mkdir -p "$STUBS"
cat >"$STUBS/ht-plan" <<'EOF'
#!/bin/sh
echo "ht-plan $*" >>"$STUB_LOG"
run=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
[ -z "${STUB_PLAN:-}" ] || sed "s/RUNID/$run/" "$STUB_PLAN"
exit "${STUB_PLAN_RC:-0}"
EOF
cat >"$STUBS/ht-invoke" <<'EOF'
#!/bin/sh
echo "ht-invoke $*" >>"$STUB_LOG"
for plan; do :; done
n=0
while IFS= read -r line; do
	[ -n "${STUB_STOP_AFTER:-}" ] && [ "$n" -ge "$STUB_STOP_AFTER" ] && break
	printf '%s\n' "$line" | sed 's/ht\.test\/1/ht.result\/1/; s/}$/,"status":"passed","ok":true}/'
	n=$((n + 1))
done <"$plan"
if [ -n "${STUB_WAIT_FOR_INT:-}" ]; then
	trap 'echo "ht-invoke: interrupted" >&2; exit 130' INT TERM
	: >"$STUB_WAIT_FOR_INT"
	sleep 30 & wait
fi
echo "ht-invoke: $n results" >&2
exit "${STUB_INVOKE_RC:-0}"
EOF
# The deploy tools: ht-doctor prints a config whose image.base is
# $STUB_BASE; ht-pull, ht-build and ht-push log their arguments and print a
# record (ht-build's with the digest $STUB_DIGEST and a duration that
# changes every time); $STUB_FAIL names one that fails with 69.
cat >"$STUBS/ht-doctor" <<'EOF'
#!/bin/sh
echo "ht-doctor $*" >>"$STUB_LOG"
echo '{"schema":"ht.config/1","root":"/p","provider":"'"${STUB_PROVIDER:-local}"'","image":{"base":"'"${STUB_BASE:-b:1}"'","repository":"r.io/x","store":"s"},"aws":{"region":"eu-west-1","function":"'"${STUB_FUNCTION:-f}"'"},"local":{"root":"host"}}'
EOF
for t in ht-pull ht-build ht-push ht-update; do
	cat >"$STUBS/$t" <<EOF
#!/bin/sh
echo "$t \$*" >>"\$STUB_LOG"
[ "\${STUB_FAIL:-}" != $t ] || { echo "$t: error: failed" >&2; exit 69; }
EOF
done
cat >>"$STUBS/ht-pull" <<'EOF'
echo '{"schema":"ht.image/1","ok":true,"reference":"'"${STUB_BASE:-b:1}"'","digest":"sha256:b"}'
EOF
cat >>"$STUBS/ht-build" <<'EOF'
echo '{"schema":"ht.image/1","ok":true,"store":"s","digest":"'"${STUB_DIGEST:-sha256:1}"'","layers":[{"digest":"sha256:l","reused":false,"duration_ms":'"$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')"'}]}'
EOF
cat >>"$STUBS/ht-push" <<'EOF'
sed 's/ht\.image\/1/ht.pushed\/1/'
EOF
cat >>"$STUBS/ht-update" <<'EOF'
sed 's/ht\.pushed\/1/ht.function\/1/'
EOF
chmod +x "$STUBS/ht-plan" "$STUBS/ht-invoke" "$STUBS/ht-doctor" "$STUBS/ht-pull" "$STUBS/ht-build" "$STUBS/ht-push" "$STUBS/ht-update"

cat >plan3.jsonl <<'EOF'
{"schema":"ht.test/1","run_id":"RUNID","test_id":"t-a","name":"a","index":0,"timeout_s":60}
{"schema":"ht.test/1","run_id":"RUNID","test_id":"t-b","name":"b","index":1,"timeout_s":60}
{"schema":"ht.test/1","run_id":"RUNID","test_id":"t-c","name":"c","index":2,"timeout_s":60}
EOF
STUB_PLAN=$TRASH/plan3.jsonl
export STUB_PLAN

# A project whose Makefile has its own default goal and includes the
# fragment first.
mkdir proj
cat >proj/Makefile <<EOF
include $FRAG
mine:
	@echo includer-default
EOF

# mk ARGS...: make in proj with the stubs as HT_BIN.
mk() { make --no-print-directory -C proj HT_BIN="$STUBS" "$@"; }

test_expect_success 'the includer keeps its default goal (fragment first)' '
	mk >out &&
	test_cmp - out <<-EOF
	includer-default
	EOF
'

test_expect_success 'the includer keeps its default goal (fragment last)' '
	mkdir last &&
	printf "all:\n\t@echo last-default\ninclude %s\n" "$FRAG" >last/Makefile &&
	make -s -C last >out &&
	test_grep "^last-default$" out &&
	printf "include %s\n" "$FRAG" >last/Makefile &&
	test_must_fail make -s -C last 2>err &&
	test_grep "No targets" err
'

test_expect_success 'make -n hypertest-run prints the commands with HT_BIN and writes nothing' '
	make -n -C proj HT_BIN=/opt/ht/bin/ hypertest-run >out &&
	test_grep "^/opt/ht/bin/ht-plan .*--set dir=$TRASH/proj/.hypertest.* >\.hypertest/plan\.jsonl\.tmp" out &&
	test_grep "/opt/ht/bin/ht-invoke .*\.hypertest/plan\.jsonl" out &&
	! test -e proj/.hypertest/plan.jsonl && ! test -e "$STUB_LOG"
'

test_expect_success 'an empty HT_BIN finds the tools on PATH' '
	env -u HT_BIN make -n -C proj hypertest-run >out &&
	test_grep "^ht-plan " out &&
	env -u HT_BIN PATH="$STUBS:$PATH" make -s -C proj hypertest-plan &&
	test_grep "^ht-plan " "$STUB_LOG"
'

test_expect_success 'hypertest-plan writes the plan, nothing else is left' '
	rm -rf proj/.hypertest && mk -s hypertest-plan &&
	test_line_count 3 proj/.hypertest/plan.jsonl &&
	test_jq ".schema == \"ht.test/1\"" proj/.hypertest/plan.jsonl &&
	ls proj/.hypertest >files &&
	printf "plan.jsonl\ntests.stamp\n" >expect && test_cmp expect files
'

test_expect_success 'a failing ht-plan leaves the earlier plan in place' '
	cp proj/.hypertest/plan.jsonl before &&
	STUB_PLAN_RC=66 test_must_fail mk hypertest-plan 2>err &&
	test_grep "Error 66" err &&
	test_cmp before proj/.hypertest/plan.jsonl &&
	! test -e proj/.hypertest/plan.jsonl.tmp
'

test_expect_success 'every plan has a run id of its own' '
	mk -s hypertest-plan && cp proj/.hypertest/plan.jsonl p1 &&
	mk -s hypertest-plan &&
	! cmp -s p1 proj/.hypertest/plan.jsonl
'

test_expect_success 'hypertest-run writes the results and succeeds' '
	rm -rf proj/.hypertest && : >"$STUB_LOG" &&
	mk hypertest-run >out 2>err &&
	test_line_count 3 proj/.hypertest/results.jsonl &&
	test_jq ".schema == \"ht.result/1\" and .ok" proj/.hypertest/results.jsonl &&
	test_grep "ht-invoke: 3 results" err &&
	! test -e proj/.hypertest/results.jsonl.tmp
'

test_expect_success 'earlier results are passed to ht-plan as --durations' '
	test_must_fail grep -e "--durations" "$STUB_LOG" &&
	: >"$STUB_LOG" && mk -s hypertest-run &&
	test_grep "^ht-plan .*--durations \.hypertest/results\.jsonl" "$STUB_LOG"
'

test_expect_success 'failed tests: the results written are kept, make fails with the status' '
	STUB_STOP_AFTER=2 STUB_INVOKE_RC=1 test_must_fail mk hypertest-run 2>err &&
	test_line_count 2 proj/.hypertest/results.jsonl &&
	test_jq ".schema == \"ht.result/1\"" proj/.hypertest/results.jsonl &&
	test_grep "results\.jsonl\] Error 1" err &&
	test_grep "hypertest: results in \.hypertest/results\.jsonl" err &&
	! test -e proj/.hypertest/results.jsonl.tmp
'

test_expect_success 'results are kept under the includer'"'"'s .DELETE_ON_ERROR' '
	mkdir doe &&
	printf ".DELETE_ON_ERROR:\ninclude %s\n" "$FRAG" >doe/Makefile &&
	STUB_STOP_AFTER=1 STUB_INVOKE_RC=1 \
		test_must_fail make -C doe HT_BIN="$STUBS" hypertest-run 2>err &&
	test_line_count 1 doe/.hypertest/results.jsonl
'

test_expect_success 'an ht-invoke that writes nothing leaves the earlier results' '
	mk -s hypertest-run && cp proj/.hypertest/results.jsonl before &&
	STUB_STOP_AFTER=0 STUB_INVOKE_RC=78 test_must_fail mk hypertest-run 2>err &&
	test_grep "Error 78" err &&
	test_cmp before proj/.hypertest/results.jsonl &&
	! test -e proj/.hypertest/results.jsonl.tmp
'

test_expect_success 'an interrupt keeps the results that finished' '
	have perl || { echo "no perl: skipped"; exit 0; }
	rm -rf proj/.hypertest &&
	# Background jobs of a script ignore SIGINT; perl restores it.
	STUB_STOP_AFTER=2 STUB_WAIT_FOR_INT=$TRASH/waiting \
		perl -e "\$SIG{INT} = \"DEFAULT\"; setpgrp(0, 0); exec @ARGV" \
		make -C proj HT_BIN="$STUBS" hypertest-run >out 2>err &
	pid=$! && i=0 && rc=0 &&
	while ! test -e waiting && test $i -lt 100; do sleep 0.1; i=$((i + 1)); done &&
	perl -e "kill \"INT\", -$pid" &&
	{ wait $pid || rc=$?; } &&
	test $rc -ne 0 &&
	test_grep "interrupted" err &&
	test_line_count 2 proj/.hypertest/results.jsonl
'

test_expect_success 'knobs on the command line reach the tools' '
	: >"$STUB_LOG" &&
	mk -s HT_DIR=state HT_CONFIG=ci.json HT_CONCURRENCY=3 HT_RETRIES=2 \
		HT_PLAN_FLAGS="--set timeout_s=9" HT_INVOKE_FLAGS=-v hypertest-run &&
	test_line_count 3 proj/state/results.jsonl &&
	test_grep "^ht-plan --config ci.json --set dir=$TRASH/proj/state --set timeout_s=9$" "$STUB_LOG" &&
	test_grep "^ht-invoke --config ci.json --set dir=$TRASH/proj/state -j 3 --retries 2 -v state/plan.jsonl$" "$STUB_LOG"
'

test_expect_success 'knobs from the environment and from the Makefile count' '
	: >"$STUB_LOG" &&
	HT_DIR=envdir HT_CONCURRENCY=4 mk -s hypertest-run &&
	test -s proj/envdir/results.jsonl &&
	test_grep "^ht-invoke .*--set dir=$TRASH/proj/envdir -j 4 " "$STUB_LOG" &&
	mkdir after &&
	printf "include %s\nHT_RETRIES = 5\n" "$FRAG" >after/Makefile &&
	: >"$STUB_LOG" &&
	make -s -C after HT_BIN="$STUBS" hypertest-run &&
	test_grep "^ht-invoke .*--retries 5 " "$STUB_LOG"
'

test_expect_success 'HT_DIR set after the include is an error, not ignored' '
	mkdir late &&
	printf "include %s\nHT_DIR = late-dir\n" "$FRAG" >late/Makefile &&
	test_must_fail make -s -C late HT_BIN="$STUBS" hypertest-run 2>err &&
	test_grep "HT_DIR must be set before" err &&
	! test -e late/late-dir && ! test -e late/.hypertest/results.jsonl
'

test_expect_success 'tests.stamp changes only when the test set does' '
	rm -rf proj/.hypertest && mk -s hypertest-plan &&
	cp proj/.hypertest/tests.stamp stamp1 &&
	touch -d "2000-01-01" proj/.hypertest/tests.stamp &&
	# New run id, another order, expected durations: the same test set.
	sed -n "3p;1p" plan3.jsonl | sed "s/\"index\":0/\"index\":2,\"expected_ms\":1200/" >reordered &&
	sed -n 2p plan3.jsonl >>reordered &&
	STUB_PLAN=$TRASH/reordered mk -s hypertest-plan &&
	test_cmp stamp1 proj/.hypertest/tests.stamp &&
	test -n "$(find proj/.hypertest/tests.stamp ! -newer plan3.jsonl)" &&
	cp plan3.jsonl plan4.jsonl &&
	echo "{\"schema\":\"ht.test/1\",\"run_id\":\"RUNID\",\"test_id\":\"t-d\",\"name\":\"d\",\"index\":3}" >>plan4.jsonl &&
	STUB_PLAN=$TRASH/plan4.jsonl mk -s hypertest-plan &&
	test_line_count 4 proj/.hypertest/tests.stamp &&
	test -n "$(find proj/.hypertest/tests.stamp -newer plan3.jsonl)"
'

# deployed: which deploy tools ran (from the stub log), on one line.
deployed() { sed -n 's/^\(ht-pull\|ht-build\|ht-push\|ht-update\) .*/\1/p' "$STUB_LOG" | tr '\n' ' '; }

test_expect_success 'make -n hypertest-deploy prints pull, build and push and writes nothing' '
	rm -rf proj/.hypertest && rm -f "$STUB_LOG" &&
	make -n -C proj HT_BIN=/opt/ht/bin HT_PULL_FLAGS=--pf HT_BUILD_FLAGS=--bf HT_PUSH_FLAGS=--sf \
		hypertest-deploy >out &&
	test_grep "/opt/ht/bin/ht-doctor  *--set dir=$TRASH/proj/.hypertest --print-config" out &&
	test_grep "/opt/ht/bin/ht-pull  *--set dir=$TRASH/proj/.hypertest --pf >\.hypertest/base\.json" out &&
	test_grep "/opt/ht/bin/ht-build  *--set dir=$TRASH/proj/.hypertest --base \.hypertest/base\.json --bf" out &&
	test_grep "/opt/ht/bin/ht-push  *--set dir=$TRASH/proj/.hypertest --sf <\.hypertest/image\.json" out &&
	! test -e proj/.hypertest && ! test -e "$STUB_LOG"
'

test_expect_success 'hypertest-deploy pulls, builds and pushes, each into its file' '
	mk hypertest-deploy >out 2>err &&
	test "$(deployed)" = "ht-pull ht-build ht-push " &&
	test_jq ".schema == \"ht.image/1\" and .reference == \"b:1\"" proj/.hypertest/base.json &&
	test_jq ".digest == \"sha256:1\"" proj/.hypertest/image.json &&
	test_jq ".schema == \"ht.pushed/1\"" proj/.hypertest/pushed.json &&
	test_grep "^ht-build .*--base \.hypertest/base\.json" "$STUB_LOG" &&
	! ls proj/.hypertest/*.tmp 2>/dev/null
'

test_expect_success 'a second hypertest-deploy runs only ht-doctor' '
	: >"$STUB_LOG" && mk hypertest-deploy >out 2>err &&
	test "$(deployed)" = "" && test_grep "^ht-doctor " "$STUB_LOG" &&
	test_cmp /dev/null out
'

test_expect_success 'hypertest-plan and hypertest-run do not deploy (HT_DEPLOY empty)' '
	rm -rf proj/.hypertest && : >"$STUB_LOG" &&
	mk -s hypertest-run && test "$(deployed)" = "" &&
	test_must_fail grep ht-doctor "$STUB_LOG" && test -s proj/.hypertest/results.jsonl
'

test_expect_success 'a build of the same digest keeps image.json and does not push' '
	mk -s hypertest-deploy &&
	touch -d "2000-01-01" proj/.hypertest/image.json &&
	cp proj/.hypertest/image.json image.before && : >"$STUB_LOG" &&
	mk -s HT_BUILD_FLAGS=--label=a hypertest-deploy &&
	test "$(deployed)" = "ht-build " &&
	test_cmp image.before proj/.hypertest/image.json &&
	test -n "$(find proj/.hypertest/image.json ! -newer plan3.jsonl)" &&
	: >"$STUB_LOG" && mk -s HT_BUILD_FLAGS=--label=a hypertest-deploy && test "$(deployed)" = ""
'

test_expect_success 'a build of another digest pushes it' '
	: >"$STUB_LOG" &&
	STUB_DIGEST=sha256:2 mk -s HT_BUILD_FLAGS=--label=b hypertest-deploy &&
	test "$(deployed)" = "ht-build ht-push " &&
	test_jq ".digest == \"sha256:2\"" proj/.hypertest/pushed.json
'

test_expect_success 'another base pulls again; the same base record builds nothing more' '
	: >"$STUB_LOG" &&
	STUB_BASE=b:2 STUB_DIGEST=sha256:3 mk -s hypertest-deploy &&
	test "$(deployed)" = "ht-pull ht-build ht-push " &&
	: >"$STUB_LOG" &&
	STUB_BASE=b:2 STUB_DIGEST=sha256:3 mk -s HT_PULL_FLAGS=-v hypertest-deploy &&
	test "$(deployed)" = "ht-pull "
'

test_expect_success 'HT_PUSH_FLAGS pushes again' '
	: >"$STUB_LOG" &&
	STUB_BASE=b:2 STUB_DIGEST=sha256:3 mk -s HT_PULL_FLAGS=-v HT_PUSH_FLAGS="--tag t" hypertest-deploy &&
	test "$(deployed)" = "ht-push " && test_grep "^ht-push .*--tag t$" "$STUB_LOG"
'

test_expect_success 'a failing tool fails make and leaves the earlier record' '
	cp proj/.hypertest/base.json base.before &&
	STUB_FAIL=ht-pull STUB_BASE=b:4 test_must_fail mk -s hypertest-deploy 2>err &&
	test_grep "Error 69" err && test_cmp base.before proj/.hypertest/base.json &&
	: >"$STUB_LOG" &&
	STUB_FAIL=ht-build STUB_BASE=b:4 test_must_fail mk -s hypertest-deploy 2>err &&
	test "$(deployed)" = "ht-pull ht-build " &&
	! ls proj/.hypertest/*.tmp 2>/dev/null
'

test_expect_success 'HT_DEPLOY=deploy: the run waits for the push; build: for the build' '
	mkdir dep &&
	printf "HT_DEPLOY = deploy\ninclude %s\n" "$FRAG" >dep/Makefile &&
	: >"$STUB_LOG" && make -s -C dep HT_BIN="$STUBS" hypertest-run &&
	test "$(deployed)" = "ht-pull ht-build ht-push " && test -s dep/.hypertest/deployed.json &&
	tail -n 1 "$STUB_LOG" >last.line && test_grep "^ht-invoke " last.line &&
	printf "HT_DEPLOY = build\ninclude %s\n" "$FRAG" >dep/Makefile &&
	: >"$STUB_LOG" && STUB_DIGEST=sha256:9 make -s -C dep HT_BIN="$STUBS" HT_BUILD_FLAGS=-x hypertest-run &&
	test "$(deployed)" = "ht-build "
'

test_expect_success 'on aws, hypertest-deploy ends with ht-update into deployed.json' '
	: >"$STUB_LOG" &&
	STUB_PROVIDER=aws STUB_BASE=b:2 STUB_DIGEST=sha256:3 mk -s HT_PULL_FLAGS=-v HT_PUSH_FLAGS="--tag t" \
		HT_UPDATE_FLAGS=--uf hypertest-deploy &&
	test_grep "^ht-update .*--uf$" "$STUB_LOG" &&
	test_jq ".schema == \"ht.function/1\" and .digest == \"sha256:3\"" proj/.hypertest/deployed.json &&
	: >"$STUB_LOG" &&
	STUB_PROVIDER=aws STUB_BASE=b:2 STUB_DIGEST=sha256:3 mk -s HT_PULL_FLAGS=-v HT_PUSH_FLAGS="--tag t" hypertest-deploy &&
	test "$(deployed)" = "" &&
	STUB_PROVIDER=aws STUB_FUNCTION=g STUB_BASE=b:2 STUB_DIGEST=sha256:3 mk -s HT_PULL_FLAGS=-v \
		HT_PUSH_FLAGS="--tag t" hypertest-deploy &&
	test "$(deployed)" = "ht-update "
'

test_expect_success 'a failed update fails make and leaves no deployed.json behind' '
	rm -f proj/.hypertest/deployed.json && : >"$STUB_LOG" &&
	STUB_FAIL=ht-update STUB_PROVIDER=aws STUB_BASE=b:2 STUB_DIGEST=sha256:3 test_must_fail mk -s \
		HT_PULL_FLAGS=-v HT_PUSH_FLAGS="--tag t" hypertest-deploy 2>err &&
	test_grep "Error 69" err && test ! -e proj/.hypertest/deployed.json &&
	! ls proj/.hypertest/*.tmp 2>/dev/null
'

test_expect_success 'HT_DEPLOY must be empty, build or deploy, and set before the include' '
	test_must_fail mk -s HT_DEPLOY=yes hypertest-run 2>err &&
	test_grep "HT_DEPLOY must be empty, build or deploy, not .yes." err &&
	mkdir latedep &&
	printf "include %s\nHT_DEPLOY = deploy\n" "$FRAG" >latedep/Makefile &&
	test_must_fail make -s -C latedep HT_BIN="$STUBS" hypertest-run 2>err &&
	test_grep "HT_DEPLOY must be set before" err
'

test_expect_success 'hypertest-clean removes HT_DIR and refuses the project dir' '
	mk -s hypertest-run && test -d proj/.hypertest &&
	mk -s hypertest-clean && ! test -e proj/.hypertest &&
	test_must_fail mk -s hypertest-clean HT_DIR=. 2>err &&
	test_grep "refusing to remove HT_DIR" err &&
	test -f proj/Makefile
'

test_expect_success 'hypertest-clean keeps the duration history' '
	mk -s hypertest-run && mkdir -p proj/.hypertest/bucket/history proj/.hypertest/bucket/run-1 &&
	echo kept >proj/.hypertest/bucket/history/durations.json &&
	mk -s hypertest-clean && test "$(cat proj/.hypertest/bucket/history/durations.json)" = kept &&
	test "$(ls -A proj/.hypertest)" = bucket && test "$(ls -A proj/.hypertest/bucket)" = history &&
	rm -r proj/.hypertest && mk -s hypertest-clean && ! test -e proj/.hypertest
'

# The names in make's database: variables and targets, one a line, without
# make's built-ins (those of an empty Makefile) and automatic variables.
db_names() {
	make -C "$1" -p -q _ht_test_nothing 2>/dev/null | awk '
		/^# (Variables|Files)/ { on = 1 }
		/^# (Pattern-specific|VPATH|Directories|finished)/ { on = 0 }
		!on || /^#/ || /^\t/ || /^$/ { next }
		/^[^ :=]+ *(:|\?|\+|!)?= / { sub(/ *(:|\?|\+|!)?= .*/, ""); print "var " $0; next }
		/^[^ :]+:/ { sub(/:.*/, ""); print "target " $0 }' | LC_ALL=C sort -u
}

test_expect_success 'the fragment adds only HT_, _ht_ and hypertest- names' '
	mkdir base with &&
	printf "_ht_test_nothing:\n" >base/Makefile &&
	printf "_ht_test_nothing:\ninclude %s\n" "$FRAG" >with/Makefile &&
	db_names base >names.base && db_names with >names.with &&
	test_grep "^var HT_DIR$" names.with &&
	test_grep "^target hypertest-run$" names.with &&
	test_grep "^target hypertest-deploy$" names.with &&
	test_grep "^var HT_DEPLOY$" names.with &&
	comm -13 names.base names.with >added &&
	grep -v -e "^var HT_" -e "^var _ht_" -e "^target hypertest-" -e "^target _ht_" \
		-e "^target \.hypertest" -e "^target \.PHONY$" -e "^target \.PRECIOUS$" \
		-e "^target $FRAG$" added >bad ;
	test_cmp /dev/null bad &&
	comm -23 names.base names.with >removed && test_cmp /dev/null removed
'

test_expect_success 'the fragment sets no global make settings' '
	test_must_fail grep -n -E "^[[:space:]]*(export|unexport|SHELL|MAKEFLAGS|\.SUFFIXES|\.DELETE_ON_ERROR|\.ONESHELL|\.POSIX|\.NOTPARALLEL|\.SILENT|\.EXPORT_ALL_VARIABLES|vpath|VPATH)\b" "$FRAG"
'

test_done
