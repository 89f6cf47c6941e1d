/*
 * batch.c: groups with a concurrency cap, and batches of tiny tests, as
 * ht-plan writes them into a plan and ht-invoke retries them. See
 * include/ht/batch.h and docs/scheduling.md.
 */
#include <fnmatch.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ht/batch.h"
#include "ht/config.h"
#include "ht/id.h"
#include "ht/jsonl.h"
#include "ht/util.h"

/* --- groups ---------------------------------------------------------------- */

static int has_tag(json_t *rec, const char *tag)
{
	json_t *t;
	size_t i;

	json_array_foreach(json_object_get(rec, "tags"), i, t)
		if (json_is_string(t) && !strcmp(json_string_value(t), tag))
			return 1;
	return 0;
}

void ht_groups_assign(json_t *records, json_t *groups)
{
	json_t *rec, *g;
	size_t i, k;

	json_array_foreach(records, i, rec) {
		const char *file = ht_json_str(rec, "file", NULL), *name = ht_json_str(rec, "name", "");

		json_array_foreach(groups, k, g) {
			const char *m = ht_json_str(g, "match", NULL), *tag = ht_json_str(g, "tag", NULL);

			if ((m && ((file && fnmatch(m, file, 0) == 0) || fnmatch(m, name, 0) == 0)) ||
			    (tag && has_tag(rec, tag))) {
				ht_json_set_str(rec, "group", ht_json_str(g, "name", "?"));
				ht_json_set_int(rec, "group_max", ht_json_int(g, "max", 1));
				break;
			}
		}
	}
}

/* --- packing --------------------------------------------------------------- */

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return x < y ? -1 : x > y;
}

/* How many tests a record runs: its `members` (a file or a class of
 * node ids), else 1. */
static long units_of(json_t *rec)
{
	long long u = ht_json_int(rec, "members", 1);

	return u < 1 ? 1 : u > 1000000 ? 1000000 : (long)u;
}

/* The median of the known expected_ms of records, a test (a record of
 * several tests counts as that many of its share), or -1 when none is
 * known. */
static long median_expected(json_t *records)
{
	size_t i, n = 0;
	long *v = ht_xmalloc(sizeof(*v) * (json_array_size(records) + 1)), m;
	json_t *rec;

	json_array_foreach(records, i, rec)
		if (json_is_integer(json_object_get(rec, "expected_ms")))
			v[n++] = (long)ht_json_int(rec, "expected_ms", 0) / units_of(rec);
	qsort(v, n, sizeof(*v), cmp_long);
	m = n ? v[n / 2] : -1;
	free(v);
	return m;
}

/* 1 when a and b may share a batch: the same group (or none) and runner. */
static int same_key(json_t *a, json_t *b)
{
	const char *ga = ht_json_str(a, "group", ""), *gb = ht_json_str(b, "group", "");

	return !strcmp(ga, gb) && !strcmp(ht_json_str(a, "runner", ""), ht_json_str(b, "runner", ""));
}

/* The batch record of members (steals it, an array of 2 or more records). */
static json_t *make_batch(json_t *members)
{
	json_t *first = json_array_get(members, 0), *rec = ht_record_new("ht.test/1"), *m, *v;
	size_t n = json_array_size(members), i;
	long long sum_ms = 0, sum_to = 0, max_to = 0;
	int all_known = 1, one_file = 1;
	struct ht_buf names = HT_BUF_INIT;
	char *id;
	static const char *const copied[] = { "run_id", "runner", "group", "group_max", "max_output_mb", NULL };

	for (i = 0; copied[i]; i++)
		if ((v = json_object_get(first, copied[i])) != NULL)
			json_object_set(rec, copied[i], v);
	json_array_foreach(members, i, m) {
		long long to = ht_json_int(m, "timeout_s", 300);

		if (json_is_integer(json_object_get(m, "expected_ms")))
			sum_ms += ht_json_int(m, "expected_ms", 0);
		else
			all_known = 0;
		sum_to += to;
		if (to > max_to)
			max_to = to;
		if (!json_equal(json_object_get(m, "file"), json_object_get(first, "file")))
			one_file = 0;
		ht_buf_addf(&names, "%s\n", ht_json_str(m, "test_id", ""));
		json_object_del(m, "schema");
		json_object_del(m, "run_id");
		json_object_del(m, "runner");
		json_object_del(m, "group");
		json_object_del(m, "group_max");
	}
	/* "b-" + the first test's slug + a hash of all the members' ids:
	 * stable while the members stay the same. */
	{
		char *a = ht_test_id(ht_json_str(first, "name", "")), *h = ht_test_id(names.data);

		id = ht_xasprintf("b%.*s%s", (int)(strlen(a) - 10), a + 1, h + strlen(h) - 9);
		free(a);
		free(h);
	}
	ht_buf_release(&names);
	ht_json_set_str(rec, "test_id", id);
	free(id);
	{
		char *name = ht_xasprintf("%s (+%zu more)", ht_json_str(first, "name", "?"), n - 1);

		ht_json_set_str(rec, "name", name);
		free(name);
	}
	if (one_file && json_object_get(first, "file"))
		json_object_set(rec, "file", json_object_get(first, "file"));
	if (all_known)
		ht_json_set_int(rec, "expected_ms", sum_ms);
	if (sum_to > HT_BATCH_TIMEOUT_CAP_S)
		sum_to = max_to > HT_BATCH_TIMEOUT_CAP_S ? max_to : HT_BATCH_TIMEOUT_CAP_S;
	ht_json_set_int(rec, "timeout_s", sum_to);
	/* Each member carries its own run; the runner runs them. */
	json_object_set_new(rec, "run", json_object());
	json_object_set_new(rec, "batch", members);
	return rec;
}

/*
 * Packs the records at idx[0..n) (positions in records, plan order, all of
 * one key) into batches, appended to out as (position, record) pairs:
 * pos[k] is the position of the k-th record appended. units[i] is how many
 * tests record idx[i] runs; a batch holds at most max_tests of them
 * unless one record alone has more.
 */
static void pack_key(json_t *records, const size_t *idx, size_t n, double *cost, const long *units, long target,
		     long max_tests, long slots, json_t *out, size_t *pos, size_t *nout)
{
	double total = 0, quota, done = 0;
	size_t nb, i, start = 0;
	long long all = 0, held = 0;

	for (i = 0; i < n; i++) {
		total += cost[i];
		all += units[i];
	}
	if (total <= 0) {
		/* Tests of 0 ms: shared out by count. */
		for (i = 0; i < n; i++)
			cost[i] = (double)units[i];
		total = (double)all;
		target = max_tests;
	}
	/* Enough batches for the target and for max_tests; at least one per
	 * slot when there are tests enough, and whole rounds of slots, so
	 * the slots finish together. */
	nb = (size_t)ceil(total / (double)target - 1e-9);
	if (nb < 1)
		nb = 1;
	if (nb < (size_t)((all + max_tests - 1) / max_tests))
		nb = (size_t)((all + max_tests - 1) / max_tests);
	if (slots > 1 && nb % (size_t)slots)
		nb += (size_t)slots - nb % (size_t)slots;
	if (nb > n)
		nb = n;
	quota = total / (double)nb;
	for (i = 0; i < n; i++) {
		int close = i + 1 == n || held + units[i] + units[i + 1] > max_tests;

		done += cost[i];
		held += units[i];
		/* Close when this batch's share of the work is done. */
		if (!close && quota > 0 && done + cost[i + 1] / 2 > quota * (double)(*nout + 1))
			close = 1;
		if (close) {
			size_t k;

			if (i == start) {
				json_array_append(out, json_array_get(records, idx[i]));
			} else {
				json_t *members = json_array();

				for (k = start; k <= i; k++)
					json_array_append_new(members, json_deep_copy(json_array_get(records, idx[k])));
				json_array_append_new(out, make_batch(members));
			}
			pos[(*nout)++] = idx[start];
			start = i + 1;
			held = 0;
		}
	}
}

/* A test to pack: its position in the plan, file, cost and size. */
struct packable {
	size_t idx;
	const char *file;
	double cost;
	long units;
};

/* By file, then plan position: a batch then holds a few whole runs of
 * one file's tests, so its process collects few files (pytest collects
 * every file a node id names; in LPT order one batch could name them
 * all). */
static int cmp_packable(const void *a, const void *b)
{
	const struct packable *x = a, *y = b;
	int c = strcmp(x->file, y->file);

	return c ? c : x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Orders (position, record) pairs by position. */
struct placed {
	size_t pos;
	json_t *rec;
};

static int cmp_placed(const void *a, const void *b)
{
	const struct placed *x = a, *y = b;

	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

json_t *ht_batch_pack(json_t *records, const struct ht_config *c)
{
	size_t n = json_array_size(records), i, j, np = 0;
	long target = c->batch_target_ms, max_tests = c->batch_max_tests > 0 ? c->batch_max_tests : 200;
	long median = median_expected(records);
	unsigned char *taken;
	struct placed *pl;
	json_t *out;

	if (target <= 0 || n < 2)
		return json_incref(records);
	taken = ht_xcalloc(n, 1);
	pl = ht_xcalloc(n, sizeof(*pl));
	for (i = 0; i < n; i++) {
		json_t *rec = json_array_get(records, i), *key = rec, *d;
		size_t *idx, m = 0, k, nout = 0, *pos;
		double *cost;
		long *units;
		long slots = c->concurrency > 0 ? c->concurrency : 1;
		json_t *part;

		if (taken[i])
			continue;
		d = json_object_get(rec, "expected_ms");
		if (json_is_integer(d) && json_integer_value(d) >= target) {
			/* Long enough to pay for its own invocation. */
			taken[i] = 1;
			pl[np].pos = i;
			pl[np++].rec = json_incref(rec);
			continue;
		}
		/* Every test of this key that is short or unknown, in plan
		 * order, then by file. */
		idx = ht_xmalloc(sizeof(*idx) * n);
		cost = ht_xmalloc(sizeof(*cost) * n);
		units = ht_xmalloc(sizeof(*units) * n);
		for (j = i; j < n; j++) {
			json_t *r2 = json_array_get(records, j), *d2 = json_object_get(r2, "expected_ms");

			if (taken[j] || !same_key(key, r2) || (json_is_integer(d2) && json_integer_value(d2) >= target))
				continue;
			taken[j] = 1;
			idx[m] = j;
			units[m] = units_of(r2);
			/* Unknown: the median of the known ones; with none known
			 * (a first run), a max_tests-th of the target a test, so
			 * that max_tests tests fill a batch. */
			cost[m] = json_is_integer(d2) ? (double)json_integer_value(d2) :
				  (double)units[m] * (median >= 0 ? (double)median : (double)target / (double)max_tests);
			m++;
		}
		{
			struct packable *pk = ht_xmalloc(sizeof(*pk) * (m ? m : 1));

			for (k = 0; k < m; k++) {
				pk[k].idx = idx[k];
				pk[k].file = ht_json_str(json_array_get(records, idx[k]), "file", "");
				pk[k].cost = cost[k];
				pk[k].units = units[k];
			}
			qsort(pk, m, sizeof(*pk), cmp_packable);
			for (k = 0; k < m; k++) {
				idx[k] = pk[k].idx;
				cost[k] = pk[k].cost;
				units[k] = pk[k].units;
			}
			free(pk);
		}
		if (json_is_integer(json_object_get(key, "group_max")) && ht_json_int(key, "group_max", 1) < slots)
			slots = (long)ht_json_int(key, "group_max", 1);
		part = json_array();
		pos = ht_xmalloc(sizeof(*pos) * (m ? m : 1));
		pack_key(records, idx, m, cost, units, target, max_tests, slots, part, pos, &nout);
		for (k = 0; k < nout; k++) {
			pl[np].pos = pos[k];
			pl[np++].rec = json_incref(json_array_get(part, k));
		}
		json_decref(part);
		free(pos);
		free(idx);
		free(cost);
		free(units);
	}
	qsort(pl, np, sizeof(*pl), cmp_placed);
	out = json_array();
	for (i = 0; i < np; i++) {
		ht_json_set_int(pl[i].rec, "index", (long long)i);
		json_array_append_new(out, pl[i].rec);
	}
	free(pl);
	free(taken);
	return out;
}

/* --- retries ------------------------------------------------------------- */

int ht_batch_case_member(json_t *test, json_t *cs)
{
	json_t *members = json_object_get(test, "batch"), *m;
	json_t *mi = json_object_get(cs, "member");
	const char *id = ht_json_str(cs, "test_id", NULL);
	size_t i;

	if (json_is_integer(mi) && json_integer_value(mi) >= 0 && (size_t)json_integer_value(mi) < json_array_size(members))
		return (int)json_integer_value(mi);
	json_array_foreach(members, i, m)
		if (id && !strcmp(id, ht_json_str(m, "test_id", "")))
			return (int)i;
	return -1;
}

int ht_batch_case_retry(json_t *cs)
{
	const char *st = ht_json_str(cs, "status", "");

	return !strcmp(st, "failed") || !strcmp(st, "timed_out") || json_is_true(json_object_get(cs, "not_run"));
}

json_t *ht_batch_retry(json_t *test, json_t *answer, json_t **keep)
{
	json_t *members = json_object_get(test, "batch"), *cases = json_object_get(answer, "cases"), *cs, *rec, *nm;
	size_t n = json_array_size(members), i;
	unsigned char *again = ht_xcalloc(n + 1, 1); /* 1: run again; 2: and it was not run */
	int any = 0, pass;

	*keep = NULL;
	json_array_foreach(cases, i, cs) {
		int m = ht_batch_case_member(test, cs);

		if (m >= 0 && ht_batch_case_retry(cs)) {
			again[m] |= json_is_true(json_object_get(cs, "not_run")) ? 3 : 1;
			any = 1;
		}
	}
	if (!any) {
		free(again);
		return NULL;
	}
	*keep = json_array();
	json_array_foreach(cases, i, cs) {
		int m = ht_batch_case_member(test, cs);

		if (m < 0 || !again[m])
			json_array_append(*keep, cs);
	}
	rec = json_deep_copy(test);
	nm = json_array();
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < n; i++)
			if (again[i] && ((again[i] & 2) != 0) == (pass == 0))
				json_array_append(nm, json_array_get(members, i));
	json_object_set_new(rec, "batch", nm);
	free(again);
	return rec;
}

void ht_batch_fill_cases(json_t *test, json_t *rec)
{
	json_t *members = json_object_get(test, "batch"), *cases, *m;
	size_t i;

	if (!json_is_array(members) || json_array_size(json_object_get(rec, "cases")))
		return;
	cases = json_array();
	json_array_foreach(members, i, m) {
		json_t *c = json_object();

		json_object_set(c, "test_id", json_object_get(m, "test_id"));
		ht_json_set_str(c, "name", ht_json_str(m, "name", ht_json_str(m, "test_id", "?")));
		if (json_object_get(m, "file"))
			json_object_set(c, "file", json_object_get(m, "file"));
		ht_json_set_str(c, "status", ht_json_str(rec, "status", "error"));
		ht_json_set_int(c, "duration_ms", 0);
		ht_json_set_str(c, "message", ht_json_str(rec, "message", ""));
		json_array_append_new(cases, c);
	}
	json_object_set_new(rec, "cases", cases);
}
