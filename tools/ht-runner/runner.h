/*
 * ht-runner's parts (tools/ht-runner.c is the program's main and the run
 * of one unit): what every invocation shares (struct runner), what one
 * unit runs with (struct unit), and what each part gives the others.
 * Linked into bin/ht-runner only.
 */
#ifndef HT_TOOLS_RUNNER_H
#define HT_TOOLS_RUNNER_H

#include <stdint.h>

#include "ht/bucket.h"
#include "ht/ht.h"
#include "ht/proc.h"
#include "ht/runner.h"
#include "providers/aws/runtime.h"

#define EVENT_MAX (8u * 1024 * 1024)
#define TAIL_MAX 4096
#define DEFAULT_MARGIN_MS 1500
#define CASES_BUDGET (3u * 1024 * 1024) /* bytes of a batch's cases, about */
/* The cap of each of stdout and stderr (an event's max_output_mb). */
#define OUTPUT_MB_DEFAULT 10
#define OUTPUT_MB_MAX 10240
/* What an invocation keeps back of its deadline to answer in after the
 * uploads, which stop then. */
#define ANSWER_MS 500
#define MIB (1024LL * 1024)

/* What every invocation shares. */
struct runner {
	char *task_root;   /* the test's working directory */
	char *work_root;   /* where per-test work directories go ($HT_WORK_DIR) */
	struct ht_bucket bucket;
	int have_bucket;
	/* HT_WRITABLE_TASK: tests run in a writable copy of task_root,
	 * made before the first test and again after a test changed it. */
	char *copy_dir;
	char *copy_exclude;  /* a directory left out (HT_WRITABLE_TASK_EXCLUDE), or NULL */
	int copied;
	char copy_fp[HT_SHA256_HEX_LEN + 1]; /* the copy, as made */
	/* HT_MEMORY_LIMIT_MB (the local provider's local.memory_mb): the
	 * tests' session may use this much; 0 for no limit of ours. */
	int64_t memory_mb;
	/* HT_RUNTIME_TEST_EVENTS=1 (the local provider): say when a test
	 * starts, for the invocation being served (on the provider's
	 * channel, else as a Runtime API request: test-started). */
	int test_events;
	struct ht_runtime *rt;
	const char *request_id;
};

/* What one unit (a test, a batch's member, or a merged batch) runs with. */
struct unit {
	const struct ht_runner_ops *ops;
	json_t *run;            /* borrowed */
	const char *run_id, *test_id, *name, *file;
	long long attempt;
	int64_t limit_ms;       /* the time it gets; 0 for none */
	int64_t margin_ms;      /* what is kept back to report in */
	int64_t output_max;     /* bytes of each of stdout and stderr kept */
};

/* env.c: the environment of a test: ours, minus what it sets (and the
 * Runtime API's address), plus what it sets. New NULL-terminated array
 * of new strings. */
char **rn_test_env(json_t *run, const char *out_dir, const char *run_id, const char *test_id, long long attempt,
		   const char *task_copy);

/* output.c: the tail of a test's output for its result, and what its
 * limits (output cap, /tmp, memory) did to it. */
json_t *rn_output_tail(const char *out_path, const char *err_path);
void rn_judge_limits(const struct runner *r, const struct ht_proc_limits *lim, struct ht_run_result *res,
		     json_t *rec);

/* batch.c: a batch, merged or member by member (docs/scheduling.md). */
json_t *rn_run_batch(struct runner *r, const struct unit *b, json_t *members);

/* ht-runner.c: one unit in its own work directory. */
json_t *rn_run_unit(struct runner *r, const struct unit *u);

#endif
