/*
 * history.h: the duration history (docs/scheduling.md#history): what
 * every finished run saw of each test's duration, by stable test_id,
 * kept as one JSON object (schema ht.history/1) under one key of a bucket
 * (HT_HISTORY_KEY, or history.url), so that the next plan can start the
 * longest tests first, predict the wall time and split shards.
 *
 * ht-invoke collects a run's final records into a struct ht_history_run
 * and, once at the end, ht_history_store() reads the history, merges the
 * run into it and writes it back with one put (a file renamed into
 * place, one S3 PUT): last writer wins, the file is never half written.
 * ht-plan reads it with ht_history_load(). A history that is missing is
 * empty; one that is corrupt or of another kind is ignored with a
 * warning (and replaced by the next store): never a failed run.
 *
 * Ownership: the json_t histories are new references for the caller;
 * records and buckets passed in are borrowed.
 */
#ifndef HT_HISTORY_H
#define HT_HISTORY_H

#include <stddef.h>

#include <jansson.h>

struct ht_bucket;
struct ht_config;

#define HT_HISTORY_SCHEMA "ht.history/1"
/* Its key in the provider's bucket when history.url is not set. */
#define HT_HISTORY_KEY "history/durations.json"
/* A history file larger than this is refused (and replaced). */
#define HT_HISTORY_MAX_BYTES (32u * 1024 * 1024)
/* The weight of the newest sample in the moving mean. */
#define HT_HISTORY_ALPHA 0.3
/* Recent samples kept per test and kind, and per-run overheads kept per
 * provider. */
#define HT_HISTORY_SAMPLES 5
#define HT_HISTORY_OVERHEADS 10

/* The bounds (history.keep_runs, history.max_tests). */
struct ht_history_opts {
	double keep_runs;   /* drop a test not seen for this many full runs */
	long max_tests;     /* keep at most this many tests, the least recent go */
};

/* One run's observations, as ht-invoke's final records come. */
struct ht_history_run {
	json_t *tests;      /* test_id -> [[kind, ms], ...] in arrival order */
	json_t *groups;     /* group_test_id -> [invoke_ms, sum of the cases' ms] */
	json_t *overheads;  /* invoke_ms - duration_ms of single invocations */
	char tag[9];        /* a short hash of the run id (8 hex digits) */
	char *provider;
};

void ht_history_run_init(struct ht_history_run *r, const char *run_id, const char *provider);
/* Notes one final ht.result/1 record (borrowed): passed and skipped count
 * as pass, flaky as flaky, failed and timed_out as fail; error and
 * interrupted are not durations of the test and are left out. A record
 * with group_test_id is a case: its own test_id and duration. */
void ht_history_run_note(struct ht_history_run *r, json_t *rec);
void ht_history_run_release(struct ht_history_run *r);

/* The moving mean after sample x: x itself for the first (n == 0). */
double ht_history_ewma(double mean, long n, double x);
/* A new, empty history. */
json_t *ht_history_new(void);
/*
 * Checks a history read from where (for the warning): a JSON object of
 * schema ht.history/1 (any minor version) with a `tests` object. Returns
 * the parsed history (new), or NULL after a warning saying it is ignored.
 * Entries of tests that are not well-formed are dropped silently.
 */
json_t *ht_history_parse(const char *data, size_t len, const char *where);
/* Adds run to hist: each test's samples by kind (moving mean, count,
 * recent ones), when it was seen, the run's median overhead for its
 * provider; then applies the bounds. */
void ht_history_merge(json_t *hist, const struct ht_history_run *run, const struct ht_history_opts *o);
/*
 * The expected milliseconds of test_id: the moving mean of its passing
 * runs, else of its flaky ones, else of its failures; -1 when unknown.
 * With tag (a run's ht_history_run tag, or NULL): when that run already
 * updated the test (a sibling shard finished first), the value from
 * before it, so that every shard of one run splits alike.
 */
long ht_history_expected(json_t *hist, const char *test_id, const char *tag);
/* The provider's per-invocation overhead: the median of the recent runs'
 * medians of invoke_ms - duration_ms; -1 when none is known. *runs (may
 * be NULL) gets how many runs it is from. */
long ht_history_overhead(json_t *hist, const char *provider, int *runs);
/* Short hash of a run id, 8 hex digits and a NUL. */
void ht_history_tag(const char *run_id, char out[9]);

/*
 * Where the history of cfg is: opens the bucket of history.url, else the
 * provider's (provider_bucket, the provider's bucket op), into b, and
 * sets *key. Returns 0, 1 when history.enabled is false (b not opened),
 * or -1 after printing why (release b in both 0 and -1).
 */
int ht_history_open(const struct ht_config *cfg, int (*provider_bucket)(const struct ht_config *, struct ht_bucket *),
		    struct ht_bucket *b, const char **key);
/* Reads the history at key of b: new history, empty when there is none
 * yet or it is ignored (with a warning). */
json_t *ht_history_load(struct ht_bucket *b, const char *key);
/* Reads, merges run in, writes back with one put. Returns 0, or -1 after
 * a warning (the run is not affected). */
int ht_history_store(struct ht_bucket *b, const char *key, const struct ht_history_run *run,
		     const struct ht_history_opts *o);

#endif
