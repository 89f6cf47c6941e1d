/*
 * playwright-settings.c: the `playwright` plugin's configuration keys.
 * runner.args and runner.granularity are shared with the pytest plugin
 * (pytest's rows validate them; the plugin refuses `class` itself).
 */
#include <stddef.h>

#include "ht/config.h"
#include "runners/playwright.h"

#define OFF(f) offsetof(struct ht_playwright_settings, f)

static const struct ht_config_key keys[] = {
	{ "runner.command", HT_CT_STRLIST, NULL, "`[\"node\", \"" HT_PW_CLI "\"]`", 0, 0, NULL, 0, OFF(command),
	  "playwright: the program that is Playwright's CLI and its first arguments (`[\"npx\", \"playwright\"]`), the program looked up in the tests' PATH." },
	{ "runner.args", HT_CT_STRLIST, NULL, NULL, 0, 0, NULL, 0, OFF(args),
	  "playwright: extra `playwright test` arguments for listing and running (`[\"--project\", \"desktop\"]`)." },
	{ "runner.granularity", HT_CT_ENUM, "test", NULL, 0, 0, "test|file|class", 1, OFF(granularity),
	  "playwright: one test per invocation (`test`) or those of a file and project (`file`); one result per test either way." },
	{ "runner.browser", HT_CT_STRING, "auto", NULL, 0, 0, NULL, 1, OFF(browser),
	  "playwright: the Chromium the tests get: `auto` (Debian's /usr/bin/chromium, else @sparticuz/chromium), `system`, `sparticuz`, `config` (the Playwright config chooses) or a path." },
	{ NULL, HT_CT_SECTION, NULL, NULL, 0, 0, NULL, 0, 0, NULL }
};

const struct ht_config_schema ht_playwright_schema = {
	.name = "playwright",
	.select = "runner.name",
	.keys = keys,
	.size = sizeof(struct ht_playwright_settings),
	/* Each run starts Node, Playwright's CLI, a worker and the browser
	 * (3 s and more): tests share a run up to a minute of work, 20 at
	 * most, so a first run of unknown tests does not make one long
	 * batch (docs/runner-playwright.md#what-it-costs). */
	.batch_target_ms = 60000,
	.batch_max_tests = 20,
};
