#!/bin/sh
# make -j plans while it deploys: hypertest-plan does not depend on the
# deploy chain, and with HT_DEPLOY=deploy the run waits for both. The real
# tools run, each through a wrapper that logs when it started and ended;
# the pull is slowed down with --limit-rate and the plan with a sleep, so
# that running them one after the other could not overlap.
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/registry-lib.sh"
test_need make
have umoci || test_skip_all 'umoci is not installed'
have skopeo || test_skip_all 'skopeo is not installed'
have ht-invoke || test_skip_all 'ht-invoke is not built'

start_registry reg
FRAG=$HT_SRC/mk/hypertest.mk

# Wrappers: "START tool seconds" and "END tool seconds" around the real
# tool; ht-plan sleeps two seconds first, and the pull of 2 MB at
# 1 MB/s takes two seconds too.
mkdir wrap
for t in ht-doctor ht-pull ht-build ht-push ht-plan ht-invoke; do
	cat >wrap/$t <<-EOF
	#!/bin/sh
	echo "START $t \$(date +%s.%N)" >>"\$TIMES"
	[ $t != ht-plan ] || sleep 2
	rc=0; "$HT_BIN/$t" "\$@" || rc=\$?
	echo "END $t \$(date +%s.%N)" >>"\$TIMES"
	exit \$rc
	EOF
	chmod +x wrap/$t
done

# at EVENT TOOL: when TOOL started or ended (the first START, the last END).
at() { awk -v e="$1" -v t="$2" '$1 == e && $2 == t { v = $3; if (e == "START") exit } END { print v }' "$TIMES"; }
# before A B: time A is earlier than time B.
before() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && b != "" && a + 0 < b + 0) }'; }

mkdir -p proj/tests
for n in 1 2 3; do printf 'echo %s\n' $n >proj/tests/t$n.sh; done
test_expect_success 'a base image of 2 MB in the registry' '
	make_layout lay v1 2 &&
	skopeo copy -q --dest-tls-verify=false oci:lay:v1 docker://$REG/base:v1 &&
	cat >proj/hypertest.json <<-EOF
	{
	  "runner": { "tests": ["tests/*.sh"], "run": "sh {file}" },
	  "local": { "sandbox": "none" },
	  "image": { "base": "$REG/base:v1", "repository": "$REG/proj" }
	}
	EOF
'

# mk MAKEFILE_HEAD ARGS...: make in proj with the wrappers. The Makefile
# is part of the project: it is rewritten only when it changes.
mk() {
	printf '%sinclude %s\n' "$1" "$FRAG" >Makefile.new && shift &&
	{ cmp -s Makefile.new proj/Makefile || cp Makefile.new proj/Makefile; } &&
	make --no-print-directory -C proj HT_BIN="$TRASH/wrap" HT_PULL_FLAGS="--limit-rate 1000000" "$@"
}

test_expect_success 'hypertest-plan runs no deploy tool, even with HT_DEPLOY=deploy' '
	export TIMES=$TRASH/times1.log && : >"$TIMES" &&
	mk "HT_DEPLOY = deploy
" hypertest-plan >out 2>err &&
	test_grep "START ht-plan" "$TIMES" &&
	test_must_fail grep -e ht-pull -e ht-build -e ht-push -e ht-doctor "$TIMES"
'

test_expect_success 'make -j2 hypertest-run hypertest-deploy: the plan and the deploy side by side' '
	export TIMES=$TRASH/times2.log && : >"$TIMES" && rm -rf proj/.hypertest &&
	mk "" -j2 hypertest-run hypertest-deploy >out 2>err &&
	cat "$TIMES" err &&
	test_jq -s "length == 3 and all(.ok)" proj/.hypertest/results.jsonl &&
	test_jq ".ok" proj/.hypertest/pushed.json &&
	before "$(at START ht-plan)" "$(at END ht-pull)" &&
	before "$(at START ht-pull)" "$(at END ht-plan)"
'

test_expect_success 'HT_DEPLOY=deploy: make -j2 hypertest-run deploys while it plans, then runs' '
	export TIMES=$TRASH/times3.log && : >"$TIMES" && rm -rf proj/.hypertest &&
	mk "HT_DEPLOY = deploy
" -j2 hypertest-run >out 2>err &&
	cat "$TIMES" err &&
	test_jq -s "length == 3 and all(.ok)" proj/.hypertest/results.jsonl &&
	test_jq ".ok" proj/.hypertest/pushed.json &&
	before "$(at START ht-plan)" "$(at END ht-pull)" &&
	before "$(at START ht-pull)" "$(at END ht-plan)" &&
	before "$(at END ht-plan)" "$(at START ht-invoke)" &&
	before "$(at END ht-push)" "$(at START ht-invoke)"
'

test_expect_success 'HT_DEPLOY=deploy: a run with nothing to deploy only plans and runs' '
	export TIMES=$TRASH/times4.log && : >"$TIMES" &&
	mk "HT_DEPLOY = deploy
" -j2 hypertest-run >out 2>err &&
	test_grep "START ht-invoke" "$TIMES" &&
	test_must_fail grep -e ht-pull -e ht-build -e ht-push "$TIMES"
'

test_expect_success 'HT_DEPLOY=deploy: a failed deploy stops the run before ht-invoke' '
	export TIMES=$TRASH/times5.log && : >"$TIMES" && cp proj/.hypertest/results.jsonl results.before &&
	printf "echo 4\n" >proj/tests/t4.sh &&
	test_must_fail mk "HT_DEPLOY = deploy
" -j2 hypertest-run HT_PUSH_FLAGS=--bogus >out 2>err &&
	test_grep "START ht-push" "$TIMES" &&
	test_must_fail grep "START ht-invoke" "$TIMES" &&
	test_cmp results.before proj/.hypertest/results.jsonl
'

test_done
