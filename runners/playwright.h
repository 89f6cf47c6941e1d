/*
 * playwright.h: the `playwright` test-runner plugin's keys of
 * hypertest.json (runner.command, runner.args, runner.granularity,
 * runner.browser), registered through ht_playwright_schema, and what its
 * files share. See docs/runner-playwright.md.
 *
 * Ownership: the config owns every string; ht_playwright_settings()
 * borrows. The functions below say what they return.
 */
#ifndef HT_RUNNERS_PLAYWRIGHT_H
#define HT_RUNNERS_PLAYWRIGHT_H

#include <jansson.h>

#include "ht/config.h"
#include "ht/runner.h"

struct ht_playwright_settings {
	struct ht_strlist command; /* the program and its first arguments:
	                              node node_modules/@playwright/test/cli.js */
	struct ht_strlist args;    /* extra `playwright test` arguments */
	char *granularity;         /* "test" (default) or "file" */
	char *browser;             /* "auto", "system", "sparticuz", "config", or a path */
};

extern const struct ht_config_schema ht_playwright_schema;

/* The playwright plugin's settings of a loaded config; borrowed. */
static inline const struct ht_playwright_settings *ht_playwright_settings(const struct ht_config *c)
{
	return (const struct ht_playwright_settings *)ht_config_settings(c, &ht_playwright_schema);
}

/* The program Playwright is run with when runner.command is not set. */
#define HT_PW_NODE "node"
#define HT_PW_CLI "node_modules/@playwright/test/cli.js"

/*
 * s without ANSI escape sequences (colours), as a new string; NULL stays
 * NULL.
 */
char *ht_pw_strip_ansi(const char *s);

/*
 * The line that names one test in a --test-list file and in the plan:
 * "[project] › file › title › title" (without "[project] › " when the
 * project has no name). titles is an array of strings (borrowed). New
 * string.
 */
char *ht_pw_test_line(const char *project, const char *file, json_t *titles);

/*
 * Judges the tests of run (run.tests: their lines) from the JSON report at
 * report_path and the end of the process described by how (a
 * ht_proc_describe() text), timed_out and stopped; fills res: one test's
 * status, message, outcome and details, or with run.group the cases.
 * prefix is the bucket prefix of the test's files ("RUN/TEST/"), out_dir
 * the directory whose files go under prefix + "out/".
 */
void ht_pw_judge(json_t *run, const char *report_path, const char *out_dir, const char *prefix,
		 const char *stderr_path, const char *how, int timed_out, int stopped, int64_t limit_ms,
		 struct ht_run_result *res);

/*
 * Finds the browser for a run: setting is runner.browser, cwd the task
 * root, envp the test's environment, tmpdir where @sparticuz/chromium
 * unpacks. On success returns 0 and sets *exe (new string, or NULL for
 * "config": the user's config chooses), *args (new JSON array) and *env
 * (new JSON object of variables the browser needs, may be empty).
 * Otherwise returns -1 with the reason (which browser was looked for and
 * how to provide it) in err.
 */
int ht_pw_find_browser(const char *setting, const char *cwd, char *const *envp, const char *tmpdir,
		       int64_t deadline_ms, char **exe, json_t **args, json_t **env, char *err, size_t errlen);

#endif
