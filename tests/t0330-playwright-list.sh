#!/bin/sh
# The playwright plugin's listing: one test per (project, file, title
# path), named by its --test-list line; projects, runner.args, file
# granularity; a config that does not load, no tests, a broken test file,
# no Playwright in the project, runner.command and runner.granularity.
. "$HT_SRC/tests/lib.sh"
test_need jq
need_playwright

# proj SRC: a project with the example's config and node_modules (linked).
mkdir -p proj/tests && cd proj || exit 1
ln -s "$PW_EXAMPLE/node_modules" node_modules
cat >playwright.config.js <<'J'
const { defineConfig } = require('@playwright/test');
module.exports = defineConfig({
	testDir: 'tests',
	projects: [{ name: 'one' }, { name: 'two', testIgnore: /only-one/ }],
});
J
cat >tests/a.spec.js <<'J'
const { test } = require('@playwright/test');
test('adds', () => {});
test('adds two', () => {});
test.describe('left', () => { test('same', () => {}); });
test.describe('right', () => { test('same', () => {}); test.describe('deeper', () => { test('same', () => {}); }); });
J
cat >tests/only-one.spec.js <<'J'
const { test } = require('@playwright/test');
test('just here', () => {});
J
# One record per test here (batching off); the default's batches below.
cat >hypertest.json <<'J'
{"runner": {"name": "playwright"}, "timeout_s": 60, "batch_target_ms": 0}
J
cat >batched.json <<'J'
{"runner": {"name": "playwright"}, "timeout_s": 60, "concurrency": 2}
J

test_expect_success 'one test per project, file and title path, named by its test-list line' '
	ht-plan >plan.jsonl &&
	jq -r .name plan.jsonl >names &&
	cat >expect <<-\E &&
	[one] › a.spec.js › adds
	[one] › a.spec.js › adds two
	[one] › a.spec.js › left › same
	[one] › a.spec.js › right › same
	[one] › a.spec.js › right › deeper › same
	[one] › only-one.spec.js › just here
	[two] › a.spec.js › adds
	[two] › a.spec.js › adds two
	[two] › a.spec.js › left › same
	[two] › a.spec.js › right › same
	[two] › a.spec.js › right › deeper › same
	E
	test_cmp expect names &&
	test_jq "(.runner == \"playwright\") and .run.tests == [.name] and (.file | startswith(\"tests/\"))
		and .run.browser == \"auto\" and (.run.argv | index(\"--workers=1\") != null)
		and (.run.argv | index(\"--reporter=json\") != null)
		and (.run.argv | index(\"--output={out}/test-results\") != null)
		and .run.argv[0:3] == [\"node\", \"node_modules/@playwright/test/cli.js\", \"test\"]" plan.jsonl &&
	test_jq -s "map(.test_id) | unique | length == 11" plan.jsonl &&
	test -z "$(find . -name test-results)"
'

test_expect_success 'by default, tests share a Playwright run: a batch per slot, 20 at most, each test a member' '
	ht-plan -c batched.json >b.jsonl &&
	test_jq -s "length == 2 and all(.batch | length >= 1) and (map(.batch | length) | add) == 11" b.jsonl &&
	jq -r ".batch[].name" b.jsonl | sort >bnames && sort expect >sorted && test_cmp sorted bnames &&
	ht-plan -c batched.json --set concurrency=1 >b1.jsonl &&
	test_jq -s "length == 1 and (.[0].batch | length) == 11" b1.jsonl &&
	ht-plan -c batched.json --set concurrency=20 >b20.jsonl &&
	test_jq -s "length == 11 and all(has(\"batch\") | not)" b20.jsonl
'

test_expect_success 'by default a batch holds 20 tests at most (a first run: no durations)' '
	mkdir -p ../many/tests && cp playwright.config.js batched.json ../many/ && ln -s "$PW_EXAMPLE/node_modules" ../many/node_modules &&
	{ echo "const { test } = require(\"@playwright/test\");" &&
	  for i in $(seq 1 25); do echo "test(\"t$i\", () => {});"; done; } >../many/tests/only-one.spec.js &&
	(cd ../many && ht-plan -c batched.json --set concurrency=1 >b.jsonl) &&
	test_jq -s "map(.batch | length) | (add == 25 and max <= 20 and length == 2)" ../many/b.jsonl
'

test_expect_success 'runner.args reach the listing and the run (--project)' '
	ht-plan --set "runner.args=[\"--project\", \"two\"]" >two.jsonl &&
	test_jq -s "length == 5 and all(.name | startswith(\"[two] \"))" two.jsonl &&
	test_jq "(.run.argv | index(\"--project\")) as \$i | .run.argv[\$i + 1] == \"two\"" two.jsonl
'

test_expect_success 'file granularity: one invocation per project and file, its tests as members' '
	ht-plan --set runner.granularity=file >file.jsonl &&
	test_jq -s "map(.name) == [\"[one] › a.spec.js\", \"[one] › only-one.spec.js\", \"[two] › a.spec.js\"]" file.jsonl &&
	test_jq -s ".[0].run.group == true and (.[0].run.tests | length) == 5 and .[0].file == \"tests/a.spec.js\"" file.jsonl &&
	jq -r ".run.tests[]" file.jsonl >members && test_cmp expect members
'

test_expect_success 'ht-plan --grep selects members inside a file group' '
	ht-plan --set runner.granularity=file --grep "same" >g.jsonl &&
	test_jq -s "length == 2 and all(.run.tests | length == 3)" g.jsonl
'

test_expect_success 'runner.granularity class is refused; runner.command not in the PATH is a config error' '
	test_must_fail 78 ht-plan --set runner.granularity=class 2>err &&
	test_grep "runner.granularity" err &&
	test_must_fail 78 ht-plan --set "runner.command=[\"no-such-node-here\", \"x.js\"]" 2>err &&
	test_grep "runner.command" err && test_grep "no-such-node-here" err
'

test_expect_success 'no tests found is exit 66' '
	test_must_fail 66 ht-plan --set "runner.args=[\"--grep\", \"nothing-is-called-this\"]" 2>err &&
	test_grep "playwright found no tests in" err && test_grep "check runner.args" err
'

test_expect_success 'a test file that does not load is exit 65 with Playwright'"'"'s message and snippet' '
	printf "const { test } = require(\"@playwright/test\");\ntest(\"x\", () => {\n" >tests/broken.spec.js &&
	test_must_fail 65 ht-plan >out 2>err &&
	test ! -s out &&
	test_grep "playwright could not load the tests" err &&
	test_grep "SyntaxError: .*broken.spec.js" err &&
	test_grep "| test(\"x\"" err &&
	! grep "$(printf "\033")" err &&
	rm tests/broken.spec.js
'

test_expect_success 'a config that does not load is exit 65 with Playwright'"'"'s message' '
	cp playwright.config.js good.js &&
	echo "throw new Error(\"the config is broken on purpose\");" >>playwright.config.js &&
	test_must_fail 65 ht-plan 2>err &&
	test_grep "playwright could not load its configuration" err &&
	test_grep "the config is broken on purpose" err &&
	mv good.js playwright.config.js
'

test_expect_success 'a project without @playwright/test says how to install it (exit 69)' '
	mkdir -p ../bare/tests && cp hypertest.json ../bare/ &&
	(cd ../bare && test_must_fail 69 ht-plan 2>err) &&
	test_grep "node_modules/@playwright/test/cli.js" ../bare/err &&
	test_grep "npm ci" ../bare/err
'

test_done
