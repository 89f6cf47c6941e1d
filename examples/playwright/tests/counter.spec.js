// The counter page.
const { test, expect } = require('@playwright/test');
const { page: url } = require('./pages');

test.beforeEach(async ({ page }) => {
	await page.goto(url('index.html'));
});

test('starts at zero', async ({ page }) => {
	await expect(page.getByLabel('count')).toHaveText('0');
	await expect(page).toHaveTitle('Tally (0)');
});

// "counts" and "counts up": titles that are prefixes of each other, each
// selected on its own.
test('counts', async ({ page }) => {
	await page.getByRole('button', { name: 'Add one' }).click();
	await expect(page.getByLabel('count')).toHaveText('1');
});

test('counts up', async ({ page }) => {
	for (let i = 0; i < 3; i++)
		await page.getByRole('button', { name: 'Add one' }).click();
	await expect(page.getByLabel('count')).toHaveText('3');
});

test('never goes below zero', async ({ page }) => {
	await page.getByRole('button', { name: 'Take one' }).click();
	await expect(page.getByLabel('count')).toHaveText('0');
});

test('steps by the chosen amount', async ({ page }) => {
	await page.getByLabel('Step').fill('5');
	await page.getByRole('button', { name: 'Add one' }).click();
	await page.getByRole('button', { name: 'Add one' }).click();
	await expect(page.getByLabel('count')).toHaveText('10');
	await expect(page.locator('#note')).toBeHidden();
});

// The same title in two describes: "reset" in each.
test.describe('with the mouse', () => {
	test('reset', async ({ page }) => {
		await page.getByRole('button', { name: 'Add one' }).click();
		await page.getByRole('button', { name: 'Reset' }).click();
		await expect(page.getByLabel('count')).toHaveText('0');
	});
});

test.describe('with the keyboard', () => {
	test('reset', async ({ page }) => {
		await page.getByRole('button', { name: 'Add one' }).focus();
		await page.keyboard.press('Enter');
		await page.keyboard.press('Tab');
		await page.keyboard.press('Tab');
		await page.keyboard.press('Enter');
		await expect(page.getByLabel('count')).toHaveText('0');
	});
});

test('shows a note past ten, and a screenshot of it', async ({ page }, testInfo) => {
	await page.getByLabel('Step').fill('10');
	await page.getByRole('button', { name: 'Add one' }).click();
	await page.getByRole('button', { name: 'Add one' }).click();
	await expect(page.locator('#note')).toBeVisible();
	// A file in the test's output directory, attached: the bucket keeps it
	// and the result lists it.
	await page.screenshot({ path: testInfo.outputPath('note.png') });
	await testInfo.attach('note', { path: testInfo.outputPath('note.png'), contentType: 'image/png' });
});
