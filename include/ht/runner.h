/*
 * runner.h: test-runner plugins, the table of operations that ht-plan and
 * ht-runner call without knowing which plugin they hold.
 *
 * A plugin lists the tests of a project (ht-plan), builds the `run` object
 * of one ht.test/1 record (ht-plan), and, inside the function, runs exactly
 * that test and judges its outcome (ht-runner). The generic `command`
 * plugin (runners/command.c, docs/runner-command.md) lists by glob
 * or by a listing command, runs a command template, and reads the outcome
 * from the exit code, TAP on stdout or a JUnit XML file.
 *
 * Ownership: structs own the strings and JSON values they hold and free
 * them in their _release(); json_t results are new references; arguments
 * are borrowed unless a comment says "steals".
 */
#ifndef HT_RUNNER_H
#define HT_RUNNER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct ht_config;
struct ht_proc_limits;

/* --- listed tests ------------------------------------------------------- */

/* One test (one invocation) as a plugin lists it. */
struct ht_test_entry {
	char *name;     /* the human name, never NULL */
	char *file;     /* the file relative to the project root, or NULL */
	char **members; /* NULL, or the NULL-terminated names of the tests this
	                   one invocation runs, each reported on its own
	                   (pytest's file and class granularity) */
	size_t nmembers;
};

struct ht_test_list {
	struct ht_test_entry *v;
	size_t n, cap;
};

void ht_test_list_init(struct ht_test_list *l);
void ht_test_list_release(struct ht_test_list *l);
/* Appends a copy of name and file (file may be NULL). */
void ht_test_list_add(struct ht_test_list *l, const char *name, const char *file);
/* Appends a copy of member to the members of entry i. */
void ht_test_list_add_member(struct ht_test_list *l, size_t i, const char *member);
/*
 * Keeps the entries for which keep(name, arg) is 1; of an entry with
 * members, keeps the members for which it is 1, and the entry when one is
 * left.
 */
void ht_test_list_filter(struct ht_test_list *l, int (*keep)(const char *name, void *arg), void *arg);
/* Sorts by name and drops duplicates. */
void ht_test_list_sort_unique(struct ht_test_list *l);
/* Drops later duplicates of a name, keeping the order otherwise. */
void ht_test_list_unique(struct ht_test_list *l);

/* --- running one test ------------------------------------------------------ */

/* What ht-runner gives a plugin to run one test with. All borrowed. */
struct ht_run_ctx {
	const char *cwd;          /* working directory of the test */
	const char *out_dir;      /* the test's output directory, "{out}" */
	const char *stdout_path;  /* where the test's stdout goes */
	const char *stderr_path;  /* where the test's stderr goes */
	char *const *envp;        /* the test's whole environment */
	int64_t deadline_ms;      /* on ht_now_ms()'s clock; 0 for none */
	int64_t limit_ms;         /* the time the test was given, for messages */
	int64_t grace_ms;         /* SIGTERM to SIGKILL at the deadline */
	volatile int *stop;       /* set by a signal handler: stop the test now */
	struct ht_proc_limits *limits; /* the test's process gets it (ht/proc.h):
	                             output cap, memory; NULL for none */
};

/* How one test ended, as a plugin judged it. */
struct ht_run_result {
	const char *status;   /* static: "passed", "failed", "skipped", "timed_out", "error", "interrupted",
	                         "flaky" (the framework's own retry passed) */
	int exited;           /* 1 when exit_code is meaningful */
	int exit_code;
	int signal;           /* the signal that ended it, or 0 */
	int64_t start_wall_ms;
	int64_t duration_ms;
	char *message;        /* one line, valid UTF-8 */
	char *error_code;     /* with status "error": a short code ("spawn", "junit") */
	json_t *tests;        /* TAP or JUnit counts and failures, or NULL */
	const char *outcome;  /* static: the framework's own word when it says
	                         more than status ("xfailed", "xpassed"), or NULL */
	json_t *cases;        /* with several tests in one invocation: an array
	                         of their results (docs/records.md), or NULL */
	json_t *details;      /* members the plugin adds to the result record
	                         (the playwright plugin's errors, tries,
	                         attachments), or NULL */
};

void ht_run_result_init(struct ht_run_result *r);
void ht_run_result_release(struct ht_run_result *r);
/* Replaces r->message with a printf-formatted, UTF-8-cleaned line. */
void ht_run_result_set_message(struct ht_run_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* --- what plugins share ------------------------------------------------- */

/* The PATH every test gets unless runner.env sets one (the local provider
 * and the images ht-build makes use it; Lambda's is alike). */
#define HT_TEST_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/*
 * runner.env of c as the `run.env` object of a record (new reference), or
 * NULL when it is empty. Returns -1 after printing when an entry is not
 * KEY=VALUE.
 */
int ht_runner_env_json(const struct ht_config *c, json_t **out);
/*
 * The environment of a listing command: the caller's, with PATH replaced
 * by the one tests get (HT_TEST_PATH) and runner.env added over it, so a
 * list that works is a run that works. New NULL-terminated array of new
 * strings (ht_strv_free).
 */
char **ht_runner_list_env(const struct ht_config *c);
/*
 * prog looked up in the PATH of envp (not the caller's), as the program of
 * a listing command is: a new string, prog itself when it has a '/', or
 * NULL when no directory has it.
 */
char *ht_runner_which(char *const *envp, const char *prog);
/*
 * The last non-blank line of the file at path (its last 4 KiB looked at),
 * cleaned to valid UTF-8 and at most 300 bytes; new string, or NULL when
 * there is none (or no file). A failing test usually says why on its last
 * line.
 */
char *ht_runner_last_line(const char *path);
/*
 * For a plugin's check op: 0 when a is a non-empty array of strings (each
 * of one line when one_line), else -1 with "run.WHAT ..." in err.
 */
int ht_runner_check_strings(json_t *a, const char *what, int one_line, char *err, size_t errlen);

/*
 * When the test failed or errored and its stdout or stderr (the last
 * 64 KiB of each) says "Read-only file system", appends to res's message a
 * hint naming the places a test may write.
 */
void ht_run_result_readonly_hint(struct ht_run_result *res, const char *stdout_path, const char *stderr_path);
/*
 * For a plugin's merge op (below): the run object of the first of members
 * with the arrays under list_key of every member joined in order (new
 * reference), and in *counts (new array) each member's array length; NULL
 * (nothing in *counts) when a member has no such array or differs from
 * the first in one of the keys of same (NULL-terminated).
 */
json_t *ht_runner_merge_lists(json_t *members, const char *list_key, const char *const *same, json_t **counts);

/* --- batches run member by member (ht-runner) --------------------------- */

/*
 * The case of member k of a batch (borrowed) that did not run: with code
 * ("not_run"), status "error", not_run true and an error object; without,
 * just status (say "interrupted"). New reference.
 */
json_t *ht_run_case_not_run(json_t *m, size_t k, const char *status, const char *code, const char *msg);
/*
 * Sets the status (the worst of its cases: interrupted, failed, error,
 * timed_out, passed, skipped), ok, duration_ms (their sum) and message
 * (the counts, then the first failure) of a batch's result rec from its
 * cases (borrowed).
 */
void ht_run_batch_summary(json_t *rec, json_t *cases);

/* --- the plugin table ------------------------------------------------------ */

#define HT_LIST_TIMEOUT_MS (120 * 1000)

struct ht_runner_ops {
	const char *name;
	/*
	 * Lists the tests of the project described by c into out. Returns 0,
	 * or an exit code after printing why: HT_EXIT_NOINPUT (a glob matched
	 * nothing, no tests configured), HT_EXIT_DATAERR (the listing command
	 * printed nothing usable), HT_EXIT_OSERR (the listing command failed),
	 * HT_EXIT_CONFIG. A listing command gets timeout_ms (0: the default,
	 * HT_LIST_TIMEOUT_MS).
	 */
	int (*list)(const struct ht_config *c, long timeout_ms, struct ht_test_list *out);
	/*
	 * Builds the `run` object of the ht.test/1 record for test t with id
	 * test_id into *out (new reference). Returns 0, or an exit code
	 * (HT_EXIT_CONFIG) after printing why.
	 */
	int (*plan)(const struct ht_config *c, const struct ht_test_entry *t, const char *test_id, json_t **out);
	/*
	 * Checks the `run` object of an event before anything runs. Returns
	 * 0, or -1 with a reason in err.
	 */
	int (*check)(json_t *run, char *err, size_t errlen);
	/*
	 * Runs the test described by run (borrowed) with ctx and fills res.
	 * Returns 0 whenever res says what happened (status "error"
	 * included); -1 only when nothing could be judged.
	 */
	int (*run)(json_t *run, const struct ht_run_ctx *ctx, struct ht_run_result *res);
	/*
	 * Optional: the run objects of the members of a batch (members, an
	 * array of ht.test/1 member objects with "run", borrowed) as the
	 * run object of one invocation that runs them all (new reference in
	 * *out; its result must have `cases`), and in *counts a new array
	 * saying how many of those cases, in order, belong to each member.
	 * Returns 0, or 1 when they cannot share one invocation: ht-runner
	 * then runs the members one after the other, each judged on its own
	 * (docs/scheduling.md#batching), as it does for a plugin without it.
	 */
	int (*merge)(json_t *members, json_t **out, json_t **counts);
};

/* The plugin called name, or NULL. Borrowed, static. */
const struct ht_runner_ops *ht_runner_find(const char *name);
/* The names of all plugins, comma-separated, for messages. Static. */
const char *ht_runner_names(void);

extern const struct ht_runner_ops ht_runner_command;
extern const struct ht_runner_ops ht_runner_pytest;
extern const struct ht_runner_ops ht_runner_playwright;

#endif
