/*
 * history.c: the duration history in a bucket. See include/ht/history.h;
 * the file format and its bounds are in docs/scheduling.md#history.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ht/bucket.h"
#include "ht/config.h"
#include "ht/diag.h"
#include "ht/history.h"
#include "ht/id.h"
#include "ht/jsonl.h"
#include "ht/schedule.h"
#include "ht/util.h"

/* The kinds of sample, in the order expected() prefers them. */
static const char *const kinds[] = { "pass", "flaky", "fail", NULL };

/* The longest duration taken as a sample: a day, the longest timeout. */
#define MS_MAX (86400LL * 1000)

void ht_history_tag(const char *run_id, char out[9])
{
	char hex[HT_SHA256_HEX_LEN + 1];

	if (ht_sha256_hex(run_id ? run_id : "", run_id ? strlen(run_id) : 0, hex) < 0)
		memset(hex, '0', 8);
	memcpy(out, hex, 8);
	out[8] = '\0';
}

void ht_history_run_init(struct ht_history_run *r, const char *run_id, const char *provider)
{
	memset(r, 0, sizeof(*r));
	r->tests = json_object();
	r->groups = json_object();
	r->overheads = json_array();
	ht_history_tag(run_id, r->tag);
	r->provider = ht_xstrdup(provider ? provider : "?");
}

void ht_history_run_release(struct ht_history_run *r)
{
	json_decref(r->tests);
	json_decref(r->groups);
	json_decref(r->overheads);
	free(r->provider);
	memset(r, 0, sizeof(*r));
}

/* The kind of sample a final status is, or NULL for none. */
static const char *kind_of(const char *status)
{
	if (!strcmp(status, "passed") || !strcmp(status, "skipped"))
		return "pass";
	if (!strcmp(status, "flaky"))
		return "flaky";
	if (!strcmp(status, "failed") || !strcmp(status, "timed_out"))
		return "fail";
	return NULL;
}

void ht_history_run_note(struct ht_history_run *r, json_t *rec)
{
	const char *id = ht_json_str(rec, "test_id", NULL);
	const char *group = ht_json_str(rec, "group_test_id", NULL);
	const char *kind = kind_of(ht_json_str(rec, "status", ""));
	long long ms = ht_json_int(rec, "duration_ms", -1);
	long long inv = ht_json_int(rec, "invoke_ms", -1);
	json_t *list;

	if (!r->tests || !kind || !ht_id_safe(id) || ms < 0 || ms > MS_MAX)
		return;
	list = json_object_get(r->tests, id);
	if (!list) {
		list = json_array();
		json_object_set_new(r->tests, id, list);
	}
	json_array_append_new(list, json_pack("[sI]", kind, (json_int_t)ms));
	if (inv < 0)
		return;
	if (group && ht_id_safe(group)) {
		/* An invocation of several tests: its overhead is its time
		 * less the sum of its cases'. */
		json_t *g = json_object_get(r->groups, group);

		if (!g)
			json_object_set_new(r->groups, group, json_pack("[II]", (json_int_t)inv, (json_int_t)ms));
		else
			json_array_set_new(g, 1, json_integer(json_integer_value(json_array_get(g, 1)) + ms));
	} else {
		json_array_append_new(r->overheads, json_integer(inv > ms ? inv - ms : 0));
	}
}

double ht_history_ewma(double mean, long n, double x)
{
	if (n <= 0)
		return x;
	return HT_HISTORY_ALPHA * x + (1 - HT_HISTORY_ALPHA) * mean;
}

json_t *ht_history_new(void)
{
	return json_pack("{s:s,s:f,s:i,s:{},s:{}}", "schema", HT_HISTORY_SCHEMA, "clock", 0.0, "runs", 0,
			 "overhead", "tests");
}

/* 1 when v is an integer duration. */
static int is_ms(json_t *v)
{
	return json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= MS_MAX;
}

/* 1 when one kind's samples are well-formed: {"ms", "n", "last": [...]}. */
static int kind_ok(json_t *k)
{
	json_t *last = json_object_get(k, "last"), *v;
	size_t i;

	if (!json_is_object(k) || !is_ms(json_object_get(k, "ms")) ||
	    !json_is_integer(json_object_get(k, "n")) || json_integer_value(json_object_get(k, "n")) < 1 ||
	    !json_is_array(last))
		return 0;
	json_array_foreach(last, i, v)
		if (!is_ms(v))
			return 0;
	return 1;
}

/* 1 when a test's entry is well-formed. */
static int entry_ok(const char *id, json_t *e)
{
	json_t *prev = json_object_get(e, "prev");
	int i, any = 0;

	if (!ht_id_safe(id) || !json_is_object(e) || !json_is_number(json_object_get(e, "seen")) ||
	    (prev && !is_ms(prev)))
		return 0;
	for (i = 0; kinds[i]; i++) {
		json_t *k = json_object_get(e, kinds[i]);

		if (k && !kind_ok(k))
			return 0;
		any |= k != NULL;
	}
	return any;
}

json_t *ht_history_parse(const char *data, size_t len, const char *where)
{
	json_error_t je;
	json_t *h = json_loadb(data, len, 0, &je), *tests, *e, *ov;
	const char *schema, *id;
	void *tmp;

	if (!json_is_object(h)) {
		ht_warning("history '%s' is not JSON (%s): ignored, a new one is started", where,
			   h ? "not an object" : je.text);
		json_decref(h);
		return NULL;
	}
	schema = ht_json_str(h, "schema", "");
	tests = json_object_get(h, "tests");
	if (!ht_starts_with(schema, HT_HISTORY_SCHEMA) ||
	    (schema[strlen(HT_HISTORY_SCHEMA)] && schema[strlen(HT_HISTORY_SCHEMA)] != '.') ||
	    !json_is_object(tests)) {
		ht_warning("history '%s' is not an %s object: ignored, a new one is started", where, HT_HISTORY_SCHEMA);
		json_decref(h);
		return NULL;
	}
	json_object_foreach_safe(tests, tmp, id, e)
		if (!entry_ok(id, e))
			json_object_del(tests, id);
	if (!json_is_number(json_object_get(h, "clock")) || json_number_value(json_object_get(h, "clock")) < 0)
		json_object_set_new(h, "clock", json_real(0));
	if (!json_is_integer(json_object_get(h, "runs")))
		json_object_set_new(h, "runs", json_integer(0));
	ov = json_object_get(h, "overhead");
	if (!json_is_object(ov)) {
		json_object_set_new(h, "overhead", json_object());
	} else {
		json_t *list;
		const char *prov;

		json_object_foreach_safe(ov, tmp, prov, list) {
			size_t i;
			json_t *v;
			int ok = json_is_array(list);

			json_array_foreach(list, i, v)
				ok &= is_ms(v);
			if (!ok)
				json_object_del(ov, prov);
		}
	}
	return h;
}

/* Adds sample ms to the kind object k. */
static void add_sample(json_t *k, long long ms)
{
	long long n = ht_json_int(k, "n", 0);
	double mean = ht_history_ewma((double)ht_json_int(k, "ms", 0), (long)n, (double)ms);
	json_t *last = json_object_get(k, "last");

	ht_json_set_int(k, "ms", llround(mean));
	ht_json_set_int(k, "n", n < 1000000000 ? n + 1 : n);
	if (!json_is_array(last)) {
		last = json_array();
		json_object_set_new(k, "last", last);
	}
	json_array_append_new(last, json_integer(ms));
	while (json_array_size(last) > HT_HISTORY_SAMPLES)
		json_array_remove(last, 0);
}

/* The expected ms of one entry, by the order of kinds; -1 for none. */
static long entry_expected(json_t *e)
{
	int i;

	for (i = 0; kinds[i]; i++) {
		json_t *k = json_object_get(e, kinds[i]);

		if (k)
			return (long)ht_json_int(k, "ms", -1);
	}
	return -1;
}

/* For sorting the tests to evict: least recently seen first, then id. */
struct aged {
	const char *id;
	double seen;
};

static int cmp_aged(const void *a, const void *b)
{
	const struct aged *x = a, *y = b;

	if (x->seen != y->seen)
		return x->seen < y->seen ? -1 : 1;
	return strcmp(x->id, y->id);
}

/* Drops what the bounds say: tests not seen for keep_runs full runs,
 * then the least recently seen beyond max_tests. */
static void apply_bounds(json_t *hist, const struct ht_history_opts *o)
{
	json_t *tests = json_object_get(hist, "tests"), *e;
	double clock = json_number_value(json_object_get(hist, "clock"));
	const char *id;
	void *tmp;
	size_t n, i = 0;
	struct aged *v;

	json_object_foreach_safe(tests, tmp, id, e)
		if (clock - json_number_value(json_object_get(e, "seen")) > o->keep_runs + 1e-9)
			json_object_del(tests, id);
	n = json_object_size(tests);
	if (o->max_tests <= 0 || n <= (size_t)o->max_tests)
		return;
	v = ht_xcalloc(n, sizeof(*v));
	json_object_foreach(tests, id, e) {
		v[i].id = id;
		v[i].seen = json_number_value(json_object_get(e, "seen"));
		i++;
	}
	qsort(v, n, sizeof(*v), cmp_aged);
	/* The keys are the object's: copy the names before deleting. */
	for (i = 0; i < n - (size_t)o->max_tests; i++)
		v[i].id = ht_xstrdup(v[i].id);
	for (i = 0; i < n - (size_t)o->max_tests; i++) {
		json_object_del(tests, v[i].id);
		free((char *)v[i].id);
	}
	free(v);
}

/* The median of a JSON array of integers; -1 for none. */
static long json_median(json_t *arr)
{
	size_t i, n = json_array_size(arr);
	long *v, m;
	json_t *x;

	if (!n)
		return -1;
	v = ht_xcalloc(n, sizeof(*v));
	json_array_foreach(arr, i, x)
		v[i] = (long)json_integer_value(x);
	m = ht_median(v, n);
	free(v);
	return m;
}

void ht_history_merge(json_t *hist, const struct ht_history_run *run, const struct ht_history_opts *o)
{
	json_t *tests = json_object_get(hist, "tests"), *samples, *g, *ov, *list;
	double clock = json_number_value(json_object_get(hist, "clock")), step;
	size_t before = json_object_size(tests), m = json_object_size(run->tests);
	json_t *overheads = json_copy(run->overheads);
	const char *id;
	char now[32];
	long med;

	if (m == 0 && json_array_size(run->overheads) == 0 && json_object_size(run->groups) == 0) {
		json_decref(overheads);
		return;
	}
	/* The clock counts full runs: a run of a part of the suite (a
	 * shard, --failed) advances it by that part only, so that partial
	 * runs do not age the tests they did not run. */
	step = before ? (double)m / (double)before : 1.0;
	if (step > 1.0)
		step = 1.0;
	clock = round((clock + step) * 1e6) / 1e6;
	json_object_set_new(hist, "clock", json_real(clock));
	ht_json_set_int(hist, "runs", ht_json_int(hist, "runs", 0) + 1);
	ht_format_time(ht_wall_ms(), now);
	ht_json_set_str(hist, "updated_at", now);

	json_object_foreach(run->tests, id, samples) {
		json_t *e = json_object_get(tests, id), *s;
		size_t i;

		if (!e) {
			e = json_object();
			json_object_set_new(tests, id, e);
		}
		/* What the test was expected to take before this run first
		 * touched it: the shards of one run split by that. */
		if (strcmp(ht_json_str(e, "by", ""), run->tag)) {
			long prev = entry_expected(e);

			if (prev >= 0)
				ht_json_set_int(e, "prev", prev);
			else
				json_object_del(e, "prev");
			ht_json_set_str(e, "by", run->tag);
		}
		json_array_foreach(samples, i, s) {
			const char *kind = json_string_value(json_array_get(s, 0));
			json_t *k = json_object_get(e, kind);

			if (!k) {
				k = json_object();
				json_object_set_new(e, kind, k);
			}
			add_sample(k, json_integer_value(json_array_get(s, 1)));
		}
		json_object_set_new(e, "seen", json_real(clock));
	}

	json_object_foreach(run->groups, id, g) {
		long long d = json_integer_value(json_array_get(g, 0)) - json_integer_value(json_array_get(g, 1));

		json_array_append_new(overheads, json_integer(d > 0 ? d : 0));
	}
	med = json_median(overheads);
	json_decref(overheads);
	if (med >= 0) {
		ov = json_object_get(hist, "overhead");
		list = json_object_get(ov, run->provider);
		if (!list) {
			list = json_array();
			json_object_set_new(ov, run->provider, list);
		}
		json_array_append_new(list, json_integer(med));
		while (json_array_size(list) > HT_HISTORY_OVERHEADS)
			json_array_remove(list, 0);
	}
	apply_bounds(hist, o);
}

long ht_history_expected(json_t *hist, const char *test_id, const char *tag)
{
	json_t *e = json_object_get(json_object_get(hist, "tests"), test_id);

	if (!e)
		return -1;
	if (tag && !strcmp(ht_json_str(e, "by", ""), tag))
		return (long)ht_json_int(e, "prev", -1);
	return entry_expected(e);
}

long ht_history_overhead(json_t *hist, const char *provider, int *runs)
{
	json_t *list = json_object_get(json_object_get(hist, "overhead"), provider);

	if (runs)
		*runs = (int)json_array_size(list);
	return json_median(list);
}

int ht_history_open(const struct ht_config *cfg, int (*provider_bucket)(const struct ht_config *, struct ht_bucket *),
		    struct ht_bucket *b, const char **key)
{
	const char *url = cfg->history.url;

	memset(b, 0, sizeof(*b));
	if (!cfg->history.enabled || (!url && !provider_bucket))
		return 1;
	if (url && strstr(url, "://")) {
		*key = "durations.json";
		return ht_bucket_open(b, url);
	}
	if (url) {
		/* A directory, relative to the project root. */
		char *root = cfg->root ? realpath(cfg->root, NULL) : NULL;
		char *dir = url[0] == '/' ? ht_xstrdup(url) : ht_path_join(root ? root : ".", url);
		char *u = ht_xasprintf("file://%s", dir);
		int rc;

		*key = "durations.json";
		rc = dir[0] == '/' ? ht_bucket_open(b, u) : ht_error("history.url: cannot resolve '%s'", url);
		free(u);
		free(dir);
		free(root);
		return rc;
	}
	*key = HT_HISTORY_KEY;
	return provider_bucket(cfg, b);
}

json_t *ht_history_load(struct ht_bucket *b, const char *key)
{
	char *data = NULL, *where;
	size_t len = 0;
	json_t *h;

	if (ht_bucket_get_if_any(b, key, HT_HISTORY_MAX_BYTES, &data, &len) < 0) {
		if (errno != ENOENT) {
			where = ht_bucket_where(b, key);
			ht_warning("cannot read the history '%s': no history this time", where);
			free(where);
		}
		return ht_history_new();
	}
	where = ht_bucket_where(b, key);
	h = ht_history_parse(data, len, where);
	free(where);
	free(data);
	return h ? h : ht_history_new();
}

int ht_history_store(struct ht_bucket *b, const char *key, const struct ht_history_run *run,
		     const struct ht_history_opts *o)
{
	json_t *h;
	char *text, *where;
	int rc;

	if (!json_object_size(run->tests))
		return 0;
	/* Read as late as possible: the window in which another run's
	 * update can be lost (last writer wins) is this read and the put. */
	h = ht_history_load(b, key);
	ht_history_merge(h, run, o);
	text = ht_json_xdumps(h, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(12));
	json_decref(h);
	rc = ht_bucket_put(b, key, text, strlen(text));
	where = ht_bucket_where(b, key);
	if (rc < 0)
		ht_warning("cannot store the history '%s': the next plan will not know this run", where);
	else
		ht_debug("history: %s", where);
	free(where);
	free(text);
	return rc;
}
