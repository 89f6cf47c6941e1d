// The to-do page.
const { test, expect } = require('@playwright/test');
const { page: url } = require('./pages');

test.beforeEach(async ({ page }) => {
	await page.goto(url('todo.html'));
});

async function add(page, ...items) {
	for (const it of items) {
		await page.getByPlaceholder('What needs doing?').fill(it);
		await page.getByPlaceholder('What needs doing?').press('Enter');
	}
}

test('starts empty', async ({ page }) => {
	await expect(page.locator('#items li')).toHaveCount(0);
	await expect(page.locator('#left')).toHaveText('0');
});

test('adds items', async ({ page }) => {
	await add(page, 'milk', 'bread');
	await expect(page.locator('#items li')).toHaveText([' milk', ' bread'].map((s) => s.trim()));
	await expect(page.locator('#left')).toHaveText('2');
});

test('ignores blank items', async ({ page }) => {
	await add(page, '   ');
	await expect(page.locator('#items li')).toHaveCount(0);
});

test('ticks items off', async ({ page }) => {
	await add(page, 'milk', 'bread');
	await page.getByLabel('done: milk').check();
	await expect(page.locator('#left')).toHaveText('1');
	await expect(page.locator('#items li.done')).toHaveText('milk');
});

test('clears done items, with a screenshot', async ({ page }, testInfo) => {
	await add(page, 'milk', 'bread', 'eggs');
	await page.getByLabel('done: bread').check();
	await page.getByRole('button', { name: 'Clear done' }).click();
	await expect(page.locator('#items li')).toHaveCount(2);
	await page.screenshot({ path: testInfo.outputPath('cleared.png'), fullPage: true });
	await testInfo.attach('cleared', { path: testInfo.outputPath('cleared.png'), contentType: 'image/png' });
});

test('links to the counter', async ({ page, isMobile }) => {
	test.skip(isMobile, 'the navigation is hidden on small screens');
	await page.getByRole('link', { name: 'Counter' }).click();
	await expect(page).toHaveTitle(/Tally/);
});
