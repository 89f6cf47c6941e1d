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
 * ht_config_release() frees them. Strings passed in are borrowed.
 *
 * Loading checks types, ranges and enums and refuses unknown keys and
 * credentials; it does not check that required values are there, because
 * each tool needs different ones: a tool calls ht_config_require() with
 * what it needs. The key tables (libht's own, and each plugin's schema,
 * struct ht_config_schema) describe every key: the
 * validator, the HT_* variables, ht-doctor --print-schema and
 * docs/configuration.md all follow it.
 */
#ifndef HT_CONFIG_H
#define HT_CONFIG_H

#include <jansson.h>

struct ht_strlist {
	char **v; /* NULL-terminated */
	int n;
};

/* The state directory when "dir" is not set. */
#define HT_STATE_DIR_DEFAULT ".hypertest"
/* At most this many plugin schemas (providers and test runners). */
#define HT_CONFIG_MAX_SCHEMAS 16

struct ht_config {
	char *path;          /* the file read, or NULL when none */
	char *root;          /* the project root: the file's directory, else "." */
	char *provider;      /* the provider's name, "local" by default */
	char *state_dir;     /* "dir": HT_STATE_DIR_DEFAULT unless set, relative to root */
	long concurrency;    /* default: the provider's (its schema's concurrency) */
	long timeout_s;      /* per test, default 300, 1..900 */
	long retries;        /* retries of a failed test, default 0 */
	long infra_retries;  /* retries of an infrastructure failure, default 2 */
	int flaky_fails;     /* "flaky_fails": a flaky test fails the run; default 0 */
	char *drift;         /* "drift": warn (default), error or ignore: an image
	                        that does not hold the working tree (ht-invoke) */
	long batch_target_ms; /* pack tests shorter than this into one invocation; 0: off */
	long batch_max_tests; /* at most this many tests in one batch */
	json_t *groups;      /* "groups": an array of {name, match|tag, max}, or NULL */
	struct {
		char *name;           /* the test-runner plugin, "command" by default */
		struct ht_strlist env; /* "KEY=VALUE" for every test */
		long max_output_mb;   /* of each of stdout and stderr, the tail kept (default 10) */
	} runner;
	struct {
		char *base;        /* base image reference */
		char *repository;  /* repository to push to */
		char *store;       /* OCI layout, default "<dir>/oci" */
		int writable_task; /* the image asks ht-runner for a writable copy of /var/task */
	} image;
	struct {
		int enabled;       /* keep a duration history (default 1) */
		char *url;         /* a bucket URL or directory for it; NULL: the provider's bucket */
		long keep_runs;    /* drop tests not seen for this many full runs */
		long max_tests;    /* keep at most this many tests */
	} history;
	/* The settings of each plugin schema, by its slot (see
	 * ht_config_settings()); owned. */
	void *ext[HT_CONFIG_MAX_SCHEMAS];
	json_t *json;        /* the merged settings as JSON (for ht-doctor --print) */
	/* Where values came from, for messages after loading. */
	char *text;          /* the file's contents, or NULL */
	json_t *origin;      /* key path -> "file", "HT_FOO" or "--set"; defaults absent */
	/* After a failed load: the exit code to use (HT_EXIT_CONFIG, or
	 * HT_EXIT_NOINPUT for a named file that cannot be opened, HT_EXIT_IOERR)
	 * and the first message printed (new string). */
	int error_code;
	char *error;
};

enum ht_config_type {
	HT_CT_SECTION,  /* an object holding other keys */
	HT_CT_STRING,
	HT_CT_ENUM,     /* a string, one of choices */
	HT_CT_INT,      /* long, in [min, max] */
	HT_CT_BOOL,     /* int, 0 or 1 */
	HT_CT_STRLIST,  /* array of strings -> struct ht_strlist */
	HT_CT_STRMAP,   /* object string -> string -> struct ht_strlist of "K=V" */
	HT_CT_GROUPS,   /* array of {"name", "match" or "tag", "max"} -> json_t * (owned) */
};

/* One key of hypertest.json. */
struct ht_config_key {
	const char *path;        /* "runner.run" */
	enum ht_config_type type;
	const char *dflt;        /* default, written as an HT_* value would be; NULL: none */
	const char *dflt_doc;    /* the default as the docs say it, when it is computed */
	long min, max;           /* HT_CT_INT */
	const char *choices;     /* HT_CT_ENUM: "exit|tap|junit"; NULL for "provider"
	                            and "runner.name": the names of the plugins */
	int nonempty;            /* strings: "" is refused */
	size_t off;              /* where the value lives: in struct ht_config for
	                            libht's own keys, in the schema's settings
	                            struct for a plugin's; unused for sections */
	const char *doc;         /* one sentence for the docs */
};

/*
 * The keys a plugin (a provider or a test-runner plugin) adds, and its
 * defaults. The plugin tables outside lib/ list them (ht_provider_schemas
 * in providers/provider.c, ht_runner_schemas in runners/runner.c); libht
 * itself names no plugin. A plugin's values are stored in a settings
 * struct of its own (size bytes, zeroed, strings and lists owned by the
 * config) that ht_config_settings() returns.
 */
struct ht_config_schema {
	const char *name;        /* the plugin: "aws", "command" */
	const char *select;      /* the key that chooses it: "provider" or "runner.name" */
	const struct ht_config_key *keys; /* ends with a NULL path; may share a path
	                            with another plugin's keys (the first
	                            listed validates; each stores its own) */
	size_t size;             /* sizeof the settings struct */
	long concurrency;        /* providers: the default concurrency; 0: the
	                            number of online CPUs */
	const char *concurrency_doc; /* how the docs say that default */
	/* Test runners: the default batch_target_ms when the user sets none
	 * (0: no batching unless asked) and batch_max_tests (0: 200). A
	 * framework with a costly start (a pytest process) batches by
	 * default; docs/scheduling.md#batching. */
	long batch_target_ms;
	long batch_max_tests;
	/* Optional: the computed default of a key of this schema (or of
	 * libht's own) that has no dflt, as a new reference, or NULL.
	 * state_dir is the effective "dir"; vals maps key paths to the values
	 * set so far (borrowed). */
	json_t *(*dflt)(const char *path, const char *state_dir, json_t *vals);
	/* Optional: with this plugin selected, checks that what it needs is
	 * set (ht_config_require "provider" or "runner"); 0 or -1 after
	 * printing. */
	int (*require)(const struct ht_config *c);
	/* Slot in struct ht_config's ext[], assigned by libht; do not set. */
};

extern const struct ht_config_schema *const ht_provider_schemas[]; /* NULL-terminated */
extern const struct ht_config_schema *const ht_runner_schemas[];   /* NULL-terminated */

/* The i-th key of all (libht's, then each plugin's; sections come before
 * their keys; a path shared by two plugins once), or NULL past the end. */
const struct ht_config_key *ht_config_key_at(size_t i);
/* The key with this path, or NULL. */
const struct ht_config_key *ht_config_key_find(const char *path);
/* The HT_* variable of a key path into buf: "runner.run" -> "HT_RUNNER_RUN". */
void ht_config_env_name(const char *path, char *buf, size_t size);
/*
 * The settings struct of schema s in a loaded config (borrowed; zeroed
 * when s is not one of the listed schemas' or c did not load).
 */
const void *ht_config_settings(const struct ht_config *c, const struct ht_config_schema *s);
/* The schema selected by key select ("provider", "runner.name") in c, or
 * NULL. */
const struct ht_config_schema *ht_config_selected(const struct ht_config *c, const char *select);

/*
 * Loads the configuration as described above. path (may be NULL) is the
 * --config argument, sets the --set arguments (may be NULL). A missing
 * file is not an error unless it was named. Returns 0, or -1 after
 * printing "FILE:LINE:COL: KEY.PATH: what is wrong" (exit with
 * HT_EXIT_CONFIG).
 */
int ht_config_load(struct ht_config *c, const char *path, const char *const *sets);
/*
 * For a tool's main: loads with ht_cli.config_path and ht_cli.sets, and on
 * failure exits with c->error_code.
 */
void ht_config_load_or_die(struct ht_config *c);
void ht_config_release(struct ht_config *c);
/* A path under the state directory ("<root>/<dir>/<name>"), new string. */
char *ht_config_state_path(const struct ht_config *c, const char *name);
/* A path from the config (image.store, say) resolved against root; an
 * absolute path is returned as is. New string. */
char *ht_config_path(const struct ht_config *c, const char *p);

/*
 * Checks that what a tool needs is set. what is a space-separated list of:
 *   "runner"    what the selected test-runner plugin needs (its require);
 *   "provider"  what the selected provider needs (its require);
 *   a key path  that key must be set and not empty ("image.base").
 * Returns 0, or -1 after printing one message per missing value, naming
 * the key, the file position of the section that should hold it, and the
 * tool (ht_progname). Tools exit with HT_EXIT_CONFIG then.
 */
int ht_config_require(const struct ht_config *c, const char *what);
/*
 * Whether the value at key path is set (not null, not "", not empty), and
 * the message that it is missing: "FILE:L:C: KEY: not set{also}, and TOOL
 * needs it; ..." (returns -1). For plugins' require().
 */
int ht_config_is_set(const struct ht_config *c, const char *path);
int ht_config_missing(const struct ht_config *c, const char *key, const char *also);

/*
 * Prints "WHERE: KEY: message" for a value that loaded fine but turned out
 * wrong later (a function that does not exist, say). WHERE is FILE:LINE:COL
 * of the value, or the HT_* variable or --set that gave it. Returns -1.
 */
int ht_config_error(const struct ht_config *c, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* --- positions in JSON text (config-locate.c) --------------------------- */

/* One step of a path into a JSON document: a member key, or (key NULL)
 * an array index. */
struct ht_json_step {
	const char *key;
	long index;
};
/*
 * Finds where the value at path (n steps; n == 0 is the whole document)
 * starts in text, or where its key starts when at_key is set and the last
 * step is a key. Handles strings with escapes (keys are compared decoded)
 * and nesting. Returns the byte offset, or -1 when the path is not there
 * or the text is not JSON.
 */
long ht_json_locate(const char *text, size_t len, const struct ht_json_step *path,
		    int n, int at_key);
/* Splits a key path like "runner.tests[2]" or "runner.env.HOME" into
 * steps pointing into buf (size bytes, a copy of path). Returns the number
 * of steps, or -1 when there are more than max or the path is malformed. */
int ht_json_path_parse(const char *path, char *buf, size_t size,
		       struct ht_json_step *steps, int max);
/* Line and column (from 1; columns count UTF-8 characters, like jansson)
 * of byte offset off in text. */
void ht_json_linecol(const char *text, size_t len, long off, int *line, int *col);

#endif
