// Every outcome once (the desktop project only): a failure behind
// EXAMPLE_FAIL=1, a timeout behind EXAMPLE_TIMEOUT=1, an expected failure,
// a skipped test, a flaky test that passes on Playwright's retry, and
// output on stdout and stderr.
const { test, expect } = require('@playwright/test');
const { page: url } = require('./pages');

test('fails on purpose when EXAMPLE_FAIL=1', async ({ page }) => {
	await page.goto(url('index.html'));
	await page.getByRole('button', { name: 'Add one' }).click();
	const want = process.env.EXAMPLE_FAIL === '1' ? '2' : '1';
	await expect(page.getByLabel('count'), 'EXAMPLE_FAIL=1: failing on purpose').toHaveText(want, { timeout: 1000 });
});

test('times out on purpose when EXAMPLE_TIMEOUT=1', async ({ page }, testInfo) => {
	await page.goto(url('index.html'));
	if (process.env.EXAMPLE_TIMEOUT === '1') {
		// A short timeout, then wait for what never comes.
		testInfo.setTimeout(5000);
		await page.locator('#never-there').click();
	}
	await expect(page.getByLabel('count')).toHaveText('0');
});

test('is expected to fail', async ({ page }) => {
	test.fail(true, 'the counter has no undo yet');
	await page.goto(url('index.html'));
	await expect(page.getByRole('button', { name: 'Undo' })).toBeVisible({ timeout: 500 });
});

test.skip('is skipped', async () => {
	// Nothing: a skipped test never runs.
});

test.describe('a flaky part', () => {
	test.describe.configure({ retries: 1 });

	test('passes on the retry', async ({ page }, testInfo) => {
		await page.goto(url('index.html'));
		expect(testInfo.retry, 'fails on the first try, on purpose').toBeGreaterThan(0);
	});
});

test('writes to stdout and stderr', async ({ page }) => {
	console.log('hello from the test on stdout');
	console.error('and on stderr');
	await page.goto(url('index.html'));
	await expect(page.getByLabel('count')).toHaveText('0');
});
