/*
 * config.h: hypertest.json, validated, with HT_* and --set overrides.
 *
 * Where a setting comes from, lowest first: the built-in default, the
 * config file (--config FILE, else $HT_CONFIG, else ./hypertest.json when
 * it exists), the environment (HT_ + the key path in upper case with '.'
 * as '_': HT_CONCURRENCY, HT_RUNNER_RUN, HT_AWS_REGION), then --set
 * KEY=VALUE on the command line. docs/configuration.md documents each key.
 *
 * Ownership: struct ht_config owns every string and array in it;
 * ht_config_release() frees them.
 */
#ifndef HT_CONFIG_H
#define HT_CONFIG_H

#include <jansson.h>

struct ht_strlist {
	char **v; /* NULL-terminated */
	int n;
};

struct ht_config {
	char *path;          /* the file read, or NULL when none */
	char *root;          /* the project root: the file's directory, else "." */
	char *provider;      /* "local" (default) or "aws" */
	char *state_dir;     /* "dir": default ".hypertest", relative to root */
	long concurrency;    /* default 50 on aws; on local, the number of cores */
	long timeout_s;      /* per test, default 300, 1..900 */
	long retries;        /* retries of a failed test, default 0 */
	long infra_retries;  /* retries of an infrastructure failure, default 2 */
	int flaky_fails;     /* "flaky_fails": a flaky test fails the run; default 0 */
	struct {
		char *name;           /* "command" (default) */
		struct ht_strlist tests; /* globs relative to root: ["t/*.sh"] */
		char *list;           /* a listing command instead of globs; one test per line */
		char *run;            /* template: "sh {file}"; placeholders {file} {name} {id} {out} */
		int shell;            /* 1: run the template through /bin/sh -c (values quoted) */
		char *outcome;        /* "exit" (default), "tap" or "junit" */
		char *junit;          /* path of the JUnit file the test writes, with placeholders */
		char *artifacts;      /* "{out}" by default: the directory whose files are kept */
		struct ht_strlist env; /* "KEY=VALUE" for every test */
	} runner;
	struct {
		char *base;        /* base image reference */
		char *repository;  /* repository to push to */
		char *store;       /* OCI layout, default "<dir>/oci" */
	} image;
	struct {
		char *region;
		char *function;
		char *bucket;
		char *profile;
		char *endpoint;    /* one endpoint for all services (tests, stand-ins) */
		char *endpoint_lambda, *endpoint_s3, *endpoint_ecr;
	} aws;
	struct {
		char *root;        /* "host" (default) or "image" */
		char *sandbox;     /* "auto" (default), "bwrap" or "none" */
		char *bucket;      /* directory, default "<dir>/bucket" */
		long memory_mb;    /* per sandbox; 0 for no limit */
	} local;
	json_t *json;        /* the merged settings as JSON (for ht-doctor --print) */
};

/*
 * Loads the configuration as described above. path (may be NULL) is the
 * --config argument, sets the --set arguments (may be NULL). A missing
 * file is not an error unless it was named. Returns 0, or -1 after
 * printing "FILE:LINE:COL: KEY.PATH: what is wrong" (exit with
 * HT_EXIT_CONFIG).
 */
int ht_config_load(struct ht_config *c, const char *path, const char *const *sets);
void ht_config_release(struct ht_config *c);
/* A path under the state directory ("<root>/<dir>/<name>"), new string. */
char *ht_config_state_path(const struct ht_config *c, const char *name);

#endif
