/*
 * command.h: the `command` test-runner plugin's keys of hypertest.json
 * (runner.tests, runner.run, ...), registered through ht_command_schema.
 *
 * Ownership: the config owns every string; ht_command_settings() borrows.
 */
#ifndef HT_RUNNERS_COMMAND_H
#define HT_RUNNERS_COMMAND_H

#include "ht/config.h"

struct ht_command_settings {
	struct ht_strlist tests; /* globs relative to root, like tests/test-*.sh */
	char *list;           /* a listing command instead of globs; one test per line */
	char *list_match;     /* a POSIX extended regex a listed line must match, or NULL */
	char *cwd;            /* the tests' working directory below the root, with placeholders, or NULL */
	char *run;            /* template: "sh {file}"; placeholders {file} {name} {id} {dir} {basename} {out} */
	int shell;            /* 1: run the template through /bin/sh -c (values quoted) */
	char *outcome;        /* "exit" (default), "tap" or "junit" */
	char *junit;          /* path of the JUnit file the test writes, with placeholders */
	char *artifacts;      /* "{out}" by default: the directory whose files are kept */
};

extern const struct ht_config_schema ht_command_schema;

/* The command plugin's settings of a loaded config; borrowed. */
static inline const struct ht_command_settings *ht_command_settings(const struct ht_config *c)
{
	return (const struct ht_command_settings *)ht_config_settings(c, &ht_command_schema);
}

#endif
