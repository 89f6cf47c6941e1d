/*
 * schedule.c: LPT order, makespan, shards and where a shard comes from.
 * See include/ht/schedule.h and docs/scheduling.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ht/schedule.h"
#include "ht/util.h"

static int cmp_lpt(const void *a, const void *b)
{
	const struct ht_sched_item *x = a, *y = b;
	int c;

	if (x->ms != y->ms)
		return x->ms > y->ms ? -1 : 1;
	c = strcmp(x->id ? x->id : "", y->id ? y->id : "");
	if (c)
		return c;
	return x->index < y->index ? -1 : x->index > y->index;
}

void ht_sched_lpt_sort(struct ht_sched_item *v, size_t n)
{
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_lpt);
}

/* A binary min-heap of slot (or shard) loads: (load, index) pairs, the
 * lowest index first among equal loads. */
struct heap {
	long long *load;
	int *idx;
	size_t n;
};

static int heap_less(const struct heap *h, size_t a, size_t b)
{
	return h->load[a] < h->load[b] || (h->load[a] == h->load[b] && h->idx[a] < h->idx[b]);
}

static void heap_swap(struct heap *h, size_t a, size_t b)
{
	long long l = h->load[a];
	int i = h->idx[a];

	h->load[a] = h->load[b];
	h->idx[a] = h->idx[b];
	h->load[b] = l;
	h->idx[b] = i;
}

/* Restores the heap after the root's load grew. */
static void heap_down(struct heap *h)
{
	size_t i = 0;

	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < h->n && heap_less(h, l, m))
			m = l;
		if (r < h->n && heap_less(h, r, m))
			m = r;
		if (m == i)
			return;
		heap_swap(h, i, m);
		i = m;
	}
}

/* n slots, all at 0: already a heap (equal loads, increasing index). */
static void heap_init(struct heap *h, size_t n)
{
	size_t i;

	h->n = n;
	h->load = ht_xcalloc(n, sizeof(*h->load));
	h->idx = ht_xcalloc(n, sizeof(*h->idx));
	for (i = 0; i < n; i++)
		h->idx[i] = (int)i;
}

static void heap_release(struct heap *h)
{
	free(h->load);
	free(h->idx);
}

long long ht_sched_makespan(const struct ht_sched_item *v, size_t n, long slots, long overhead_ms)
{
	struct heap h;
	long long end = 0;
	size_t i, k = slots < 1 ? 1 : (size_t)slots;

	if (n == 0)
		return 0;
	if (k > n)
		k = n;
	heap_init(&h, k);
	for (i = 0; i < n; i++) {
		h.load[0] += (v[i].ms > 0 ? v[i].ms : 0) + (overhead_ms > 0 ? overhead_ms : 0);
		if (h.load[0] > end)
			end = h.load[0];
		heap_down(&h);
	}
	heap_release(&h);
	return end;
}

long long ht_sched_bound(const struct ht_sched_item *v, size_t n, long slots)
{
	long long total = 0, longest = 0, avg;
	size_t i;

	for (i = 0; i < n; i++) {
		total += v[i].ms > 0 ? v[i].ms : 0;
		if (v[i].ms > longest)
			longest = v[i].ms;
	}
	avg = (total + (slots < 1 ? 1 : slots) - 1) / (slots < 1 ? 1 : slots);
	return avg > longest ? avg : longest;
}

void ht_sched_shard(struct ht_sched_item *v, size_t n, int nshards, long long *loads)
{
	struct heap h;
	size_t i;
	int k;

	if (nshards < 1)
		nshards = 1;
	ht_sched_lpt_sort(v, n);
	heap_init(&h, (size_t)nshards);
	for (i = 0; i < n; i++) {
		v[i].shard = h.idx[0];
		/* Each test counts at least 1 ms, so that tests of no known
		 * time still spread over the shards. */
		h.load[0] += v[i].ms > 0 ? v[i].ms : 1;
		heap_down(&h);
	}
	for (k = 0; k < nshards; k++)
		loads[k] = 0;
	for (i = 0; i < n; i++)
		loads[v[i].shard] += v[i].ms > 0 ? v[i].ms : 0;
	heap_release(&h);
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return x < y ? -1 : x > y;
}

long ht_median(long *v, size_t n)
{
	if (n == 0)
		return -1;
	qsort(v, n, sizeof(*v), cmp_long);
	return v[(n - 1) / 2];
}

int ht_shard_parse(const char *s, int *index, int *total)
{
	const char *slash = s ? strchr(s, '/') : NULL;
	char first[32];
	long i, n;

	if (!slash || (size_t)(slash - s) >= sizeof(first))
		return -1;
	memcpy(first, s, (size_t)(slash - s));
	first[slash - s] = '\0';
	if (ht_parse_long(slash + 1, 1, HT_SHARD_MAX, &n) < 0 || ht_parse_long(first, 1, n, &i) < 0)
		return -1;
	*index = (int)i - 1;
	*total = (int)n;
	return 0;
}

/* The CI families, in the order they are looked at. */
static const struct {
	const char *index, *total;
	int base;   /* the index of the first shard */
} families[] = {
	{ "CI_NODE_INDEX", "CI_NODE_TOTAL", 1 },
	{ "BUILDKITE_PARALLEL_JOB", "BUILDKITE_PARALLEL_JOB_COUNT", 0 },
	{ "CIRCLE_NODE_INDEX", "CIRCLE_NODE_TOTAL", 0 },
	{ "CLOUD_RUN_TASK_INDEX", "CLOUD_RUN_TASK_COUNT", 0 },
	{ "JOB_COMPLETION_INDEX", "HT_SHARD_TOTAL", 0 },
};

int ht_shard_from_env(char *(*getenv_fn)(const char *), long total, int *index, int *total_out,
		      const char **from, char *err, size_t errlen)
{
	size_t f;

	for (f = 0; f < sizeof(families) / sizeof(families[0]); f++) {
		const char *is = getenv_fn(families[f].index), *ts = getenv_fn(families[f].total);
		int last = f == sizeof(families) / sizeof(families[0]) - 1;
		long i, n;

		if (!is || !*is)
			continue;
		*from = families[f].index;
		if (last && total > 0) {
			n = total;
		} else if (!ts || !*ts) {
			snprintf(err, errlen, "%s is set but %s is not%s", families[f].index, families[f].total,
				 last ? " (or give --shard-total N)" : "");
			return -1;
		} else if (ht_parse_long(ts, 1, HT_SHARD_MAX, &n) < 0) {
			snprintf(err, errlen, "%s: '%s' is not a number of shards (1 to %d)", families[f].total, ts,
				 HT_SHARD_MAX);
			return -1;
		}
		if (ht_parse_long(is, families[f].base, n - 1 + families[f].base, &i) < 0) {
			snprintf(err, errlen, "%s: '%s' is not a shard index from %d to %ld", families[f].index, is,
				 families[f].base, n - 1 + families[f].base);
			return -1;
		}
		*index = (int)(i - families[f].base);
		*total_out = (int)n;
		return 1;
	}
	return 0;
}
