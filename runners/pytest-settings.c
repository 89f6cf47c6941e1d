/*
 * pytest-settings.c: the `pytest` plugin's configuration keys.
 */
#include <stddef.h>

#include "ht/config.h"
#include "runners/pytest.h"

#define OFF(f) offsetof(struct ht_pytest_settings, f)

static const struct ht_config_key keys[] = {
	{ "runner.python", HT_CT_STRING, "python3", NULL, 0, 0, NULL, 1, OFF(python),
	  "pytest: the Python interpreter that runs `-m pytest`, looked up in the tests' PATH." },
	{ "runner.args", HT_CT_STRLIST, NULL, NULL, 0, 0, NULL, 0, OFF(args),
	  "pytest: extra arguments for listing and running (`[\"-m\", \"not slow\"]`)." },
	{ "runner.granularity", HT_CT_ENUM, "test", NULL, 0, 0, "test|file|class", 1, OFF(granularity),
	  "pytest: node ids per invocation: one (`test`), those of a file, or those of a class; one result per node id either way." },
	{ "runner.cacheprovider", HT_CT_BOOL, "false", NULL, 0, 0, NULL, 0, OFF(cacheprovider),
	  "pytest: keep pytest's cache provider (off by default: `-p no:cacheprovider`, the project is read-only)." },
	{ NULL, HT_CT_SECTION, NULL, NULL, 0, 0, NULL, 0, 0, NULL }
};

const struct ht_config_schema ht_pytest_schema = {
	.name = "pytest",
	.select = "runner.name",
	.keys = keys,
	.size = sizeof(struct ht_pytest_settings),
	/* A pytest process costs 0.35 to 0.5 s to start: quick node ids
	 * share one unless the user sets batch_target_ms (0: off). */
	.batch_target_ms = 2000,
};
