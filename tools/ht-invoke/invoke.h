/*
 * ht-invoke's parts (tools/ht-invoke.c is the tool's main): the state of
 * a run, one struct test per ht.test/1 record of the plan, and the
 * functions each part gives the others. Nothing here is libht's: these
 * files are linked into bin/ht-invoke only.
 */
#ifndef HT_TOOLS_INVOKE_H
#define HT_TOOLS_INVOKE_H

#include <stdint.h>
#include <stdio.h>

#include "ht/ht.h"
#include "ht/config.h"
#include "ht/groups.h"
#include "ht/history.h"
#include "ht/provider.h"
#include "ht/summary.h"

enum { T_PENDING, T_RUNNING, T_DONE };

struct test {
	char *rec;             /* the ht.test/1 record, compact; freed once done */
	long expected_ms;      /* -1 when unknown */
	long timeout_s;
	int attempt;           /* attempts started */
	int test_failures;     /* attempts that failed or timed out */
	int infra_failures;
	int state;
	int retry_next;        /* next in the retry queue, -1 at the end */
	json_t *attempts;      /* while it runs */
	int64_t first_dispatch_ms;
	int slot;              /* the concurrency lane of the attempt running, or -1 */
	json_t *failed_cases;  /* names of cases that failed in an earlier attempt (a set) */
	int64_t started_ms;    /* when the attempt was handed to the provider */
	int has_attempt;       /* rec has an "attempt" of its own (see attempt_payload()) */
	int group;             /* its capped group (struct ht_groups), or -1 */
};

struct run {
	struct test *t;
	int n, cap;
	int *order;            /* start order: indices into t */
	int next;              /* next position in order */
	int retry_head, retry_tail;
	int running, done;
	int passed, failed, timed_out, errors, flaky, skipped, interrupted;
	int records;           /* final records written: tests, or their cases */
	int credentials;       /* tests the provider's credentials failed */
	long concurrency, retries, infra_retries;
	int flaky_fails;
	FILE *out;
	int write_failed;
	struct ht_buf unflushed; /* results encoded, not yet written */
	int64_t start_ms, start_wall_ms;
	struct ht_buf problems;  /* summary lines of tests that did not pass */
	json_t *errors_seen;     /* message of an infrastructure error -> how many tests had it */
	int nproblems;
	int progress;          /* draw a progress line on stderr */
	int64_t last_draw_ms;
	const struct ht_provider_ops *ops;
	struct ht_provider *prov;
	/* The run summary, written as results come (include/ht/summary.h). */
	struct ht_summary sum;
	char *run_id;            /* of the first test; NULL: no summary */
	/* The run's timeline: a lane per concurrency slot (slot_busy), and
	 * the sum of the tests' own times. */
	unsigned char *slot_busy;
	int64_t test_ms;
	char *bucket_where;      /* "<bucket>/<run_id>/": the artifacts, for people */
	int stream_failures;     /* stderr is no terminal: a line per failure as it comes */
	json_t *about;           /* what ran the tests (ops->about), for the summary */
	const char *output;      /* -o FILE, or NULL for stdout */
	struct ht_history_run hist; /* the durations for the history (include/ht/history.h) */
	struct ht_groups groups; /* the caps of groups of tests, and their counts */
};

/* results.c: the records ht-invoke writes, and the progress line. */
void inv_progress_clear(struct run *r);
void inv_progress_draw(struct run *r, int force);
void inv_format_secs(int64_t ms, char *buf, size_t n);
void inv_set_time(json_t *rec, const char *key, int64_t wall_ms);
void inv_copy_identity(json_t *rec, json_t *test);
json_t *inv_make_result(json_t *test, const char *status, const char *code, const char *msg);
void inv_flush_results(struct run *r);
void inv_write_cases(struct run *r, struct test *t, json_t *rec, json_t *cases);
void inv_note_failed_cases(struct test *t, json_t *res);
void inv_emit(struct run *r, int i, json_t *rec, const struct ht_completion *c);
int64_t inv_wall_of(const struct run *r, int64_t mono_ms);
void inv_add_attempt(struct run *r, struct test *t, const char *status, int64_t duration_ms, const char *msg,
		     int infra, const struct ht_completion *c, json_t *res);
void inv_set_retry_reason(struct test *t, const char *fmt, ...) HT_PRINTF(2, 3);
void inv_write_interrupted(struct run *r);

/* queue.c: the start order, what starts next, and what a finished
 * invocation means (a retry or a final result). */
void inv_order(struct run *r);
int inv_pick_next(struct run *r);
int inv_start(struct run *r, int i);
void inv_complete(struct run *r, struct ht_completion *c);

/* summary.c: the end of a run: the lines for a person, the run summary
 * in the bucket, the duration history. */
void inv_summary(struct run *r);
void inv_summary_open(struct run *r, const struct ht_config *cfg);
void inv_summary_close(struct run *r, const struct ht_config *cfg);
void inv_where_lines(const struct run *r);

/* drift.c: whether the image the tests will run holds the working tree
 * (the config's drift). Returns 0 to go on, or the exit code
 * (HT_EXIT_STALE) with drift 'error'. */
int inv_drift_check(struct run *r, const struct ht_config *cfg);

#endif
