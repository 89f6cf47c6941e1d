#!/bin/sh
# The playwright plugin with @sparticuz/chromium, the browser of an image
# and of Lambda: unpacked into TMPDIR on the first run, remembered there
# for the next, and launched by Playwright with the package's arguments.
. "$HT_SRC/tests/lib.sh"
test_need jq
need_playwright
[ -f "$PW_EXAMPLE/node_modules/@sparticuz/chromium/package.json" ] ||
	test_skip_all "examples/playwright has no @sparticuz/chromium in its node_modules (npm ci there)"

mkdir -p proj/tests tmp && cd proj || exit 1
ln -s "$PW_EXAMPLE/node_modules" node_modules
cp "$PW_EXAMPLE/playwright.config.js" .
cat >tests/page.spec.js <<'J'
const { test, expect } = require('@playwright/test');
test('opens a page', async ({ page, browser }) => {
	console.log('chromium ' + browser.version() + ' at ' + process.env.HT_CHROMIUM_EXECUTABLE);
	await page.setContent('<h1>hello</h1>');
	await expect(page.locator('h1')).toHaveText('hello');
});
J
cat >hypertest.json <<'J'
{"runner": {"name": "playwright", "browser": "sparticuz", "args": ["--project", "desktop"]}, "timeout_s": 120}
J
export TMPDIR="$TRASH/tmp"

test_expect_success 'the first run unpacks Chromium into TMPDIR and runs a page with it' '
	ht-plan >plan.jsonl && test_jq ".run.browser == \"sparticuz\"" plan.jsonl &&
	ht-runner --once plan.jsonl >res.json &&
	test_jq ".status == \"passed\"" res.json &&
	test -x "$TMPDIR/chromium" &&
	test_jq ".path == \"$TMPDIR/chromium\" and (.args | index(\"--no-sandbox\") != null)" "$TMPDIR/ht-sparticuz-chromium.json" &&
	test_jq ".output_tail | test(\"chromium [0-9.]+ at $TMPDIR/chromium\")" res.json
'

test_expect_success 'the next run uses what the first found, without asking node again' '
	jq ".args = [\"--no-sandbox\", \"--headless=new\"]" "$TMPDIR/ht-sparticuz-chromium.json" >c.json &&
	mv c.json "$TMPDIR/ht-sparticuz-chromium.json" && chmod 644 "$TMPDIR/ht-sparticuz-chromium.json" &&
	cp plan.jsonl ev.json &&
	ht-runner --once ev.json >res.json &&
	test_jq ".status == \"passed\"" res.json
'

test_expect_success 'a cache another user could have written is not trusted' '
	chmod 666 "$TMPDIR/ht-sparticuz-chromium.json" &&
	jq ".path = \"/bin/false\"" "$TMPDIR/ht-sparticuz-chromium.json" >c.json && cat c.json >"$TMPDIR/ht-sparticuz-chromium.json" &&
	ht-runner --once ev.json >res.json &&
	test_jq ".status == \"passed\"" res.json &&
	test_jq ".path == \"$TMPDIR/chromium\"" "$TMPDIR/ht-sparticuz-chromium.json"
'

test_done
