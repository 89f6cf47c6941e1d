#!/bin/sh
# The playwright plugin's runs (ht-runner --once): every outcome from
# Playwright's JSON report, expectedStatus, its own retries as tries and
# flaky, errors with stack and snippet, the exact selection by title path,
# file granularity's cases, and a browser that is not there.
. "$HT_SRC/tests/lib.sh"
test_need jq
need_playwright

mkdir -p proj/tests && cd proj || exit 1
ln -s "$PW_EXAMPLE/node_modules" node_modules
# No test here opens a page: no browser starts, the runs stay short.
cat >playwright.config.js <<'J'
const { defineConfig } = require('@playwright/test');
module.exports = defineConfig({ testDir: 'tests', timeout: 5000, projects: [{ name: 'p' }] });
J
cat >tests/o.spec.js <<'J'
const { test, expect } = require('@playwright/test');
test('passes', () => { console.log('out of passes'); });
test('fails', () => { expect(1, 'one is not two').toBe(2); });
test('times out', async () => { test.setTimeout(500); await new Promise(() => {}); });
test.skip('skipped', () => {});
test('fails as expected', () => { test.fail(); expect(1).toBe(2); });
test('passes unexpectedly', () => { test.fail(); });
test.describe('retried', () => {
	test.describe.configure({ retries: 1 });
	test('flaky', ({}, info) => { expect(info.retry, 'first try fails').toBe(1); });
});
test('sees the browser', () => {
	console.log('browser=' + process.env.HT_CHROMIUM_EXECUTABLE + ' args=' + process.env.HT_CHROMIUM_ARGS);
});
J
cat >tests/sel.spec.js <<'J'
const { test } = require('@playwright/test');
test('count', () => { console.log('ran: count'); });
test('count up', () => { console.log('ran: count up'); });
test.describe('a', () => { test('same', () => { console.log('ran: a same'); }); });
test.describe('b', () => { test('same', () => { console.log('ran: b same'); }); });
J
cat >hypertest.json <<'J'
{"runner": {"name": "playwright"}, "timeout_s": 60, "batch_target_ms": 0}
J

# once NAME [JQ]: runs the planned test NAME (with JQ applied to its
# record) and keeps its result in res.json.
once() {
	jq -c --arg n "$1" "select(.name == \$n) | ${2:-.}" plan.jsonl >ev.json &&
	test -s ev.json &&
	{ ht-runner --once ev.json >res.json; rc=$?; test $rc = 0 || test $rc = 1; }
}

test_expect_success 'plan' '
	ht-plan >plan.jsonl && test_jq -s "length == 12" plan.jsonl &&
	ht-plan --set runner.granularity=file >file.jsonl
'

test_expect_success 'a test that passes: passed, its output kept' '
	once "[p] › o.spec.js › passes" &&
	test_jq ".status == \"passed\" and .ok and .message == \"passed\" and .tries == [{\"try\": 1, \"status\": \"passed\", \"duration_ms\": .tries[0].duration_ms}]" res.json &&
	test_jq ".output_tail | contains(\"out of passes\")" res.json
'

test_expect_success 'a failing test: failed, with the message, the stack and the snippet' '
	once "[p] › o.spec.js › fails" &&
	test_jq ".status == \"failed\" and (.ok | not) and (.message | startswith(\"Error: one is not two\"))" res.json &&
	test_jq ".errors[0].try == 1 and (.errors[0].stack | contains(\"o.spec.js:3\"))
		and (.errors[0].snippet | contains(\"> 3 |\")) and (.errors[0].location | test(\"o.spec.js:3:[0-9]+$\"))" res.json &&
	! grep "$(printf "\033")" res.json
'

test_expect_success 'a test that times out in Playwright is timed_out, never a pass' '
	once "[p] › o.spec.js › times out" &&
	test_jq ".status == \"timed_out\" and (.ok | not) and (.message | contains(\"Test timeout of 500ms exceeded\"))" res.json
'

test_expect_success 'skipped, test.fail() that fails (a pass), test.fail() that passes (a failure)' '
	once "[p] › o.spec.js › skipped" &&
	test_jq ".status == \"skipped\" and .ok" res.json &&
	once "[p] › o.spec.js › fails as expected" &&
	test_jq ".status == \"passed\" and .ok and .outcome == \"xfailed\"" res.json &&
	once "[p] › o.spec.js › passes unexpectedly" &&
	test_jq ".status == \"failed\" and .outcome == \"xpassed\" and (.message | contains(\"expected to fail\"))" res.json
'

test_expect_success 'Playwright'"'"'s own retry that passes: flaky, both tries kept, ok' '
	once "[p] › o.spec.js › retried › flaky" &&
	test_jq ".status == \"flaky\" and .ok and (.tries | map(.status)) == [\"failed\", \"passed\"]
		and (.tries[0].message | contains(\"first try fails\")) and (.message | startswith(\"passed on try 2\"))" res.json
'

test_expect_success 'hypertest'"'"'s deadline stops Playwright: timed_out' '
	once "[p] › o.spec.js › times out" ".timeout_s = 1 | .run.argv += [\"--timeout=30000\"]" &&
	test_jq ".status == \"timed_out\" and (.ok | not)" res.json
'

# Seen in CI: SIGINT came after Playwright had chosen the test but before a
# worker ran it; its report said "skipped" (no result, or a skipped one)
# of a test that did not run. fake-pw.sh plays that Playwright.
test_expect_success 'the deadline before Playwright ran the test: timed_out, not skipped' '
	printf "[p] \342\200\272 o.spec.js \342\200\272 passes\n" >tl &&
	PLAYWRIGHT_JSON_OUTPUT_NAME=$PWD/real.json node node_modules/@playwright/test/cli.js test \
		--workers=1 --reporter=json --test-list tl >/dev/null &&
	test_jq "[.suites[].specs[].tests[]] | length == 1 and .[0].status == \"expected\"" real.json &&
	jq ".suites[].specs[].tests[] |= (.status = \"skipped\" | .results = [])" real.json >none.json &&
	jq ".suites[].specs[].tests[] |= (.status = \"skipped\" | .results = [{status: \"skipped\", annotations: []}])" \
		real.json >skip.json &&
	cat >fake-pw.sh <<-\S &&
	trap "cp \"\$1\" \"\$PLAYWRIGHT_JSON_OUTPUT_NAME\"; exit 130" INT
	echo "Running 1 test using 1 worker"
	while :; do sleep 0.1; done
	S
	for r in none skip; do
		once "[p] › o.spec.js › passes" ".timeout_s = 1 | .run.argv = [\"sh\", \"fake-pw.sh\", \"$r.json\"]" &&
		test_jq ".status == \"timed_out\" and (.ok | not) and (.message | contains(\"before playwright ran it\"))" res.json ||
		return 1
	done
'

test_expect_success 'in a batch, the test the deadline stopped timed out and the one after it was not run' '
	printf "[p] \342\200\272 o.spec.js \342\200\272 %s\n" passes fails >tl2 &&
	PLAYWRIGHT_JSON_OUTPUT_NAME=$PWD/real2.json node node_modules/@playwright/test/cli.js test \
		--workers=1 --reporter=json --test-list tl2 >/dev/null; test $? = 1 &&
	jq "(.suites[].specs[] | select(.title == \"passes\") | .tests[]) |= (.status = \"skipped\" | .results[0].status = \"interrupted\")
		| (.suites[].specs[] | select(.title == \"fails\") | .tests[]) |= (.status = \"skipped\" | .results = [])" \
		real2.json >batch.json &&
	jq -c ".timeout_s = 1 | .run.argv = [\"sh\", \"fake-pw.sh\", \"batch.json\"] | .run.tests += [\"[p] › o.spec.js › fails\"]
		| .run.group = true | .run.batch = true" ev.json >evb.json &&
	test_expect_code 1 ht-runner --once evb.json >res.json &&
	test_jq ".status == \"error\" and (.cases | length) == 2" res.json &&
	test_jq ".cases[0].status == \"timed_out\" and (.cases[0].not_run | not)" res.json &&
	test_jq ".cases[1].status == \"error\" and .cases[1].not_run and .cases[1].error.code == \"not_run\"
		and (.cases[1].message | startswith(\"not run: the batch\"))" res.json
'

test_expect_success 'titles that are prefixes of each other and one title in two describes: each runs alone' '
	for t in "count" "b › same"; do
		once "[p] › sel.spec.js › $t" &&
		test_jq ".status == \"passed\"" res.json &&
		jq -r ".output_tail" res.json | grep "^ran: " >ran &&
		echo "ran: $t" | sed "s/ › / /" >want && test_cmp want ran || return 1
	done
'

test_expect_success 'the browser found is handed to the config' '
	once "[p] › o.spec.js › sees the browser" ".run.browser = \"/bin/true\"" &&
	test_jq ".output_tail | contains(\"browser=/bin/true args=[]\")" res.json
'

test_expect_success 'no browser: says which one it looked for and how to provide it' '
	mkdir -p ../bare &&
	jq -c "select(.name == \"[p] › o.spec.js › passes\") | .run.browser = \"sparticuz\"" plan.jsonl >../bare/ev.json &&
	(cd ../bare && test_expect_code 1 ht-runner --once ev.json >res.json) &&
	test_jq ".status == \"error\" and .error.code == \"browser\"" ../bare/res.json &&
	test_jq ".message | contains(\"node_modules/@sparticuz/chromium\") and contains(\"npm install --save-dev @sparticuz/chromium\")" ../bare/res.json &&
	once "[p] › o.spec.js › passes" ".run.browser = \"/no/such/chromium\"" &&
	test_jq ".status == \"error\" and (.message | contains(\"/no/such/chromium\"))" res.json
'

test_expect_success 'file granularity: one invocation, one case per test, each judged' '
	jq -c "select(.name == \"[p] › o.spec.js\")" file.jsonl >ev.json &&
	test_expect_code 1 ht-runner --once ev.json >res.json &&
	test_jq ".status == \"failed\" and (.cases | length) == 8" res.json &&
	test_jq "[.cases[] | {(.name | sub(\"^.* › \"; \"\")): ((.outcome // \"\") + \":\" + .status)}] | add ==
		{\"passes\": \":passed\", \"fails\": \":failed\", \"times out\": \":timed_out\", \"skipped\": \":skipped\",
		 \"fails as expected\": \"xfailed:passed\", \"passes unexpectedly\": \"xpassed:failed\", \"flaky\": \":flaky\",
		 \"sees the browser\": \":passed\"}" res.json &&
	test_jq "[.cases[] | select(.status == \"failed\")][0].output_tail | contains(\"one is not two\")" res.json &&
	test_jq "all(.cases[]; .test_id | startswith(\"t-p-o-spec-js-\"))" res.json
'

test_expect_success 'a test Playwright does not know is an error that says so' '
	once "[p] › o.spec.js › passes" ".run.tests = [\"[p] › o.spec.js › is not there\"]" &&
	test_jq ".status == \"error\" and (.message | contains(\"did not run it\"))" res.json
'

test_done
