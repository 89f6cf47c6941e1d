// The example's Playwright config. The one part hypertest needs is the
// browser: the playwright plugin sets HT_CHROMIUM_EXECUTABLE (and
// HT_CHROMIUM_ARGS, a JSON array) to the Chromium it found (Debian's
// /usr/bin/chromium on the host, @sparticuz/chromium's in an image or in
// Lambda); outside hypertest, Debian's chromium is used when it is there.
// See docs/runner-playwright.md.
const fs = require('fs');
const { defineConfig } = require('@playwright/test');

const executablePath = process.env.HT_CHROMIUM_EXECUTABLE ||
	(fs.existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined);
const args = process.env.HT_CHROMIUM_ARGS ? JSON.parse(process.env.HT_CHROMIUM_ARGS) : [];

module.exports = defineConfig({
	testDir: 'tests',
	timeout: 15000,
	retries: 0,
	reporter: 'list',
	use: {
		launchOptions: executablePath ? { executablePath, args } : { args },
		trace: 'retain-on-failure',
		screenshot: 'only-on-failure',
	},
	projects: [
		{ name: 'desktop', use: { viewport: { width: 1280, height: 720 } } },
		{
			name: 'mobile',
			use: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true },
			// The outcomes on purpose run once, on the desktop.
			testIgnore: /outcomes\.spec\.js/,
		},
	],
});
