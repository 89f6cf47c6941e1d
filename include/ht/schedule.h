/*
 * schedule.h: the arithmetic of scheduling a plan (docs/scheduling.md):
 * the longest-first (LPT) order, the makespan of a pull queue of
 * `concurrency` slots, the split of a plan into shards of near-equal
 * predicted time, and where a shard comes from (--shard I/N, CI's
 * variables). Pure functions: no I/O, nothing printed (but
 * ht_shard_from_env(), which says what was wrong in err).
 *
 * Ownership: items are the caller's; ids in them are borrowed.
 */
#ifndef HT_SCHEDULE_H
#define HT_SCHEDULE_H

#include <stddef.h>

/* One test (or invocation) to schedule. */
struct ht_sched_item {
	const char *id;   /* the stable test_id: breaks ties */
	long ms;          /* expected milliseconds (>= 0) */
	size_t index;     /* the caller's: its place before sorting */
	int shard;        /* set by ht_sched_shard(): 0 .. nshards - 1 */
};

/* The most shards --shard and CI's variables may ask for. */
#define HT_SHARD_MAX 10000

/* Sorts longest first; equal times by id (strcmp), then by index. */
void ht_sched_lpt_sort(struct ht_sched_item *v, size_t n);
/*
 * The wall time of running v[0..n) in that order on `slots` slots as a
 * pull queue (each test starts on the slot that frees first), each test
 * taking its ms plus overhead_ms. 0 for no test.
 */
long long ht_sched_makespan(const struct ht_sched_item *v, size_t n, long slots, long overhead_ms);
/* max(longest, total / slots): no schedule can be shorter. */
long long ht_sched_bound(const struct ht_sched_item *v, size_t n, long slots);
/*
 * Splits v[0..n) into nshards shards of near-equal total: LPT over the
 * shards (sorts v with ht_sched_lpt_sort(), then gives each test to the
 * shard with the least time so far, the lowest index among equals). Sets
 * each v[i].shard and loads[0..nshards) (the caller's array) to each
 * shard's total. The same input gives the same split on every machine.
 */
void ht_sched_shard(struct ht_sched_item *v, size_t n, int nshards, long long *loads);
/* The median of v[0..n) (sorts v); the lower middle of an even count;
 * -1 for n == 0. */
long ht_median(long *v, size_t n);

/*
 * Parses "I/N" (1-based: 1/4 is the first of four) into a 0-based *index
 * and *total. Returns 0, or -1 for anything else: I from 1 to N, N from 1
 * to HT_SHARD_MAX.
 */
int ht_shard_parse(const char *s, int *index, int *total);
/*
 * The shard CI's own variables name, when no --shard was given: GitLab's
 * CI_NODE_INDEX/CI_NODE_TOTAL (1-based), Buildkite's
 * BUILDKITE_PARALLEL_JOB/BUILDKITE_PARALLEL_JOB_COUNT, CircleCI's
 * CIRCLE_NODE_INDEX/CIRCLE_NODE_TOTAL, Cloud Run's
 * CLOUD_RUN_TASK_INDEX/CLOUD_RUN_TASK_COUNT, and a Kubernetes Indexed
 * Job's JOB_COMPLETION_INDEX with the total in HT_SHARD_TOTAL or total
 * (--shard-total; 0: none) (all 0-based), the first family set in that
 * order. getenv_fn is getenv (a parameter for the unit tests).
 * Returns 1 with a 0-based *index, *total and the variable's name in
 * *from (static), 0 when none is set, -1 with a reason in err when one
 * is set to something that is not a shard.
 */
int ht_shard_from_env(char *(*getenv_fn)(const char *), long total, int *index, int *total_out,
		      const char **from, char *err, size_t errlen);

#endif
