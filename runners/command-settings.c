/*
 * command-settings.c: the `command` plugin's configuration keys and what
 * it needs.
 */
#include <stddef.h>

#include "ht/config.h"
#include "runners/command.h"

#define OFF(f) offsetof(struct ht_command_settings, f)

static const struct ht_config_key keys[] = {
	{ "runner.tests", HT_CT_STRLIST, NULL, NULL, 0, 0, NULL, 1, OFF(tests),
	  "Globs, relative to the project root, whose files are the tests (`[\"tests/*.sh\"]`)." },
	{ "runner.list", HT_CT_STRING, NULL, NULL, 0, 0, NULL, 1, OFF(list),
	  "Instead of `tests`: a command that prints one test name per line." },
	{ "runner.list_match", HT_CT_STRING, NULL, NULL, 0, 0, NULL, 1, OFF(list_match),
	  "With `list`: a POSIX extended regular expression a line must match to be a test; other lines are ignored." },
	{ "runner.cwd", HT_CT_STRING, NULL, NULL, 0, 0, NULL, 1, OFF(cwd),
	  "The working directory of the listing command and of each test, relative to the project root (placeholders `{dir}`, `{file}`, ... allowed for tests)." },
	{ "runner.run", HT_CT_STRING, NULL, NULL, 0, 0, NULL, 1, OFF(run),
	  "The command that runs one test, with placeholders `{file}`, `{name}`, `{id}`, `{dir}`, `{basename}`, `{out}`." },
	{ "runner.shell", HT_CT_BOOL, "false", NULL, 0, 0, NULL, 0, OFF(shell),
	  "Run `run` through `/bin/sh -c` (placeholder values are quoted) instead of splitting it into words." },
	{ "runner.outcome", HT_CT_ENUM, "exit", NULL, 0, 0, "exit|tap|junit", 1, OFF(outcome),
	  "How a test's result is read: its exit code, its TAP output, or a JUnit XML file." },
	{ "runner.junit", HT_CT_STRING, NULL, NULL, 0, 0, NULL, 1, OFF(junit),
	  "With `outcome` `junit`: the path of the JUnit XML file the test writes (placeholders allowed)." },
	{ "runner.artifacts", HT_CT_STRING, "{out}", NULL, 0, 0, NULL, 1, OFF(artifacts),
	  "The directory whose files are kept as the test's artifacts." },
	{ NULL, HT_CT_SECTION, NULL, NULL, 0, 0, NULL, 0, 0, NULL }
};

/* runner.run, and runner.tests or runner.list (not both). */
static int require(const struct ht_config *c)
{
	int rc = 0;

	if (!ht_config_is_set(c, "runner.run"))
		rc = ht_config_missing(c, "runner.run", "");
	if (!ht_config_is_set(c, "runner.tests") && !ht_config_is_set(c, "runner.list"))
		rc = ht_config_missing(c, "runner.tests", " (nor runner.list)");
	else if (ht_config_is_set(c, "runner.tests") && ht_config_is_set(c, "runner.list"))
		rc = ht_config_error(c, "runner.list", "runner.tests is set too; set one of them, not both");
	return rc;
}

const struct ht_config_schema ht_command_schema = {
	.name = "command",
	.select = "runner.name",
	.keys = keys,
	.size = sizeof(struct ht_command_settings),
	.require = require,
};
