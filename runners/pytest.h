/*
 * pytest.h: the `pytest` test-runner plugin's keys of hypertest.json
 * (runner.python, runner.args, runner.granularity, runner.cacheprovider),
 * registered through ht_pytest_schema. See docs/runner-pytest.md.
 *
 * Ownership: the config owns every string; ht_pytest_settings() borrows.
 */
#ifndef HT_RUNNERS_PYTEST_H
#define HT_RUNNERS_PYTEST_H

#include "ht/config.h"

struct ht_pytest_settings {
	char *python;           /* the interpreter: "python3" */
	struct ht_strlist args; /* extra pytest arguments, listing and running */
	char *granularity;      /* "test" (default), "file" or "class" */
	int cacheprovider;      /* 1: let pytest write .pytest_cache */
};

extern const struct ht_config_schema ht_pytest_schema;

/* The pytest plugin's settings of a loaded config; borrowed. */
static inline const struct ht_pytest_settings *ht_pytest_settings(const struct ht_config *c)
{
	return (const struct ht_pytest_settings *)ht_config_settings(c, &ht_pytest_schema);
}

#endif
