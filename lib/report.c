/*
 * report.c: reading a run's results back (ht.result/1 records or an
 * ht.summary/1 object) and summing them up for the report writers: the
 * counts of tests and of test cases, the run's times, and the timeline's
 * lanes. See include/ht/report.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ht/ht.h"
#include "ht/report.h"

/* The largest input read whole: a run summary or a results file. */
#define REPORT_INPUT_MAX (1024u * 1024 * 1024)
/* The largest results line: ht-invoke's records are far smaller. */
#define REPORT_LINE_MAX (64u * 1024 * 1024)

static const char *const status_names[HT_RS_N] = {
	"passed", "failed", "flaky", "skipped", "timed_out", "error", "interrupted",
};
static const char *const status_labels[HT_RS_N] = {
	"passed", "failed", "flaky", "skipped", "timed out", "error", "interrupted",
};

const char *ht_rstatus_name(enum ht_rstatus s)
{
	return s < HT_RS_N ? status_names[s] : "error";
}

const char *ht_rstatus_label(enum ht_rstatus s)
{
	return s < HT_RS_N ? status_labels[s] : "error";
}

const char *ht_rstatus_label_n(enum ht_rstatus s, long long n)
{
	if (s == HT_RS_ERROR || s >= HT_RS_N)
		return n == 1 ? "error" : "errors";
	return ht_rstatus_label(s);
}

enum ht_rstatus ht_rstatus_parse(const char *s)
{
	int i;

	for (i = 0; s && i < HT_RS_N; i++)
		if (!strcmp(s, status_names[i]))
			return (enum ht_rstatus)i;
	return HT_RS_ERROR;
}

int ht_rstatus_bad(enum ht_rstatus s)
{
	return s == HT_RS_FAILED || s == HT_RS_TIMED_OUT || s == HT_RS_ERROR || s == HT_RS_INTERRUPTED;
}

void ht_report_init(struct ht_report *r)
{
	memset(r, 0, sizeof(*r));
	r->index = json_object();
	r->t0_ms = r->t1_ms = r->wall_ms = -1;
	r->ok = 1;
}

static void test_release(struct ht_report_test *t)
{
	json_decref(t->rec);
	free(t->att);
	memset(t, 0, sizeof(*t));
}

void ht_report_release(struct ht_report *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		test_release(&r->t[i]);
	free(r->t);
	json_decref(r->index);
	json_decref(r->summary);
	free(r->artifact_base);
	free(r->artifact_where);
	memset(r, 0, sizeof(*r));
}

/*
 * Parses an RFC 3339 time ("2026-11-25T16:24:58.123Z", an offset instead
 * of Z, any number of fraction digits) into epoch milliseconds; -1 when s
 * is not one.
 */
static long long parse_time(const char *s)
{
	struct tm tm;
	int y, mo, d, h, mi, sec, n = 0, off = 0;
	long long ms = 0, scale = 100;
	time_t t;

	if (!s || sscanf(s, "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || n < 19)
		return -1;
	s += n;
	if (*s == '.') {
		for (s++; *s >= '0' && *s <= '9'; s++, scale /= 10)
			ms += scale * (*s - '0');
	}
	if (*s == '+' || *s == '-') {
		int oh, om;

		if (sscanf(s + 1, "%2d:%2d", &oh, &om) != 2)
			return -1;
		off = (oh * 60 + om) * (*s == '-' ? -1 : 1);
		s += 6;
	} else if (*s == 'Z' || *s == 'z') {
		s++;
	} else {
		return -1;
	}
	if (*s || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	return ((long long)t - off * 60LL) * 1000 + ms;
}

/* An integer member, or dflt when it is missing or not an integer. */
static long long int_or(json_t *o, const char *key, long long dflt)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? (long long)json_integer_value(v) : dflt;
}

static const char *str_or_null(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* The attempts of a record: its `attempts` array, or the record itself as
 * the one attempt. */
static void load_attempts(struct ht_report_test *t)
{
	json_t *arr = json_object_get(t->rec, "attempts");
	size_t i, n = json_is_array(arr) ? json_array_size(arr) : 0;
	size_t k = 0;

	t->att = ht_xcalloc(n ? n : 1, sizeof(*t->att));
	for (i = 0; i < n; i++) {
		json_t *a = json_array_get(arr, i);
		struct ht_report_attempt *p = &t->att[k];
		json_t *cold;

		if (!json_is_object(a))
			continue;
		p->attempt = (int)int_or(a, "attempt", (long long)k + 1);
		p->status = ht_rstatus_parse(str_or_null(a, "status"));
		p->duration_ms = int_or(a, "duration_ms", 0);
		p->dispatch_ms = int_or(a, "dispatch_ms", -1);
		p->start_ms = int_or(a, "start_ms", -1);
		p->end_ms = int_or(a, "end_ms", -1);
		p->slot = (int)int_or(a, "slot", -1);
		if (p->slot < 0 || p->slot > 1000000)
			p->slot = -1;
		cold = json_object_get(a, "cold");
		p->cold = json_is_boolean(cold) ? json_is_true(cold) : -1;
		p->infra = json_is_true(json_object_get(a, "infra"));
		p->message = ht_json_str(a, "message", "");
		p->worker = str_or_null(a, "worker");
		p->request_id = str_or_null(a, "request_id");
		p->retry_reason = str_or_null(a, "retry_reason");
		k++;
	}
	if (!k) {
		struct ht_report_attempt *p = &t->att[0];

		p->attempt = (int)int_or(t->rec, "attempt", 1);
		p->status = t->status == HT_RS_FLAKY ? HT_RS_PASSED : t->status;
		p->duration_ms = t->duration_ms;
		p->dispatch_ms = p->start_ms = p->end_ms = -1;
		p->slot = -1;
		p->cold = -1;
		p->message = t->message;
		k = 1;
	}
	t->natt = (int)k;
}

/*
 * Places the attempts of t in time. Recorded times win; otherwise the
 * last attempt started at the record's started_at and each earlier one
 * ended where the next began (an estimate: the retry's queueing is lost).
 */
static void time_attempts(struct ht_report_test *t)
{
	int i;
	long long next_start = -1;

	for (i = t->natt - 1; i >= 0; i--) {
		struct ht_report_attempt *a = &t->att[i];

		if (a->start_ms >= 0 && a->end_ms >= a->start_ms) {
			a->exact = 1;
		} else if (a->start_ms >= 0) {
			a->end_ms = a->start_ms + a->duration_ms;
			a->exact = 1;
		} else if (i == t->natt - 1 && t->started_ms >= 0) {
			a->start_ms = t->started_ms;
			a->end_ms = a->start_ms + a->duration_ms;
		} else if (next_start >= 0) {
			a->end_ms = next_start;
			a->start_ms = a->end_ms - a->duration_ms;
		} else {
			a->start_ms = a->end_ms = -1;
		}
		if (a->start_ms >= 0)
			next_start = ht_report_attempt_from(a);
	}
}

/*
 * The test cases a result counts for. A result with a `tests` object (a
 * TAP or JUnit file) counts its cases; one that ended worse than its
 * cases say (it timed out, errored, was interrupted or flaky, or failed
 * with no failing case) adds one of its own status; a result without
 * cases is one case of its status.
 */
static void count_cases(struct ht_report_test *t)
{
	json_t *tests = json_object_get(t->rec, "tests");
	long long *n = t->cases.n, total;
	enum ht_rstatus s = t->status;

	memset(&t->cases, 0, sizeof(t->cases));
	if (json_is_object(tests)) {
		n[HT_RS_PASSED] = int_or(tests, "passed", 0);
		n[HT_RS_FAILED] = int_or(tests, "failed", 0);
		n[HT_RS_SKIPPED] = int_or(tests, "skipped", 0) + int_or(tests, "todo", 0);
		n[HT_RS_ERROR] = int_or(tests, "errors", 0);
		for (total = 0; total < HT_RS_N; total++)
			if (n[total] < 0)
				n[total] = 0;
	}
	total = n[HT_RS_PASSED] + n[HT_RS_FAILED] + n[HT_RS_SKIPPED] + n[HT_RS_ERROR];
	if (total == 0 || s == HT_RS_TIMED_OUT || s == HT_RS_INTERRUPTED || s == HT_RS_FLAKY ||
	    (s == HT_RS_FAILED && n[HT_RS_FAILED] + n[HT_RS_ERROR] == 0) ||
	    (s == HT_RS_ERROR && n[HT_RS_ERROR] == 0))
		n[s]++;
}

int ht_report_add(struct ht_report *r, json_t *rec, const char *where)
{
	struct ht_report_test *t;
	json_t *pos, *ok;
	char *key;

	if (!json_is_object(rec)) {
		json_decref(rec);
		return ht_error("%s: expected an object", where);
	}
	if (ht_record_check_schema(rec, "ht.result/1", where) < 0) {
		json_decref(rec);
		return -1;
	}
	if (!json_is_string(json_object_get(rec, "test_id")) && !json_is_string(json_object_get(rec, "name"))) {
		json_decref(rec);
		return ht_error("%s: expected a test_id or a name", where);
	}
	key = ht_xasprintf("%s %s", ht_json_str(rec, "run_id", ""),
			   ht_json_str(rec, "test_id", ht_json_str(rec, "name", "")));
	pos = json_object_get(r->index, key);
	if (pos) {
		t = &r->t[json_integer_value(pos)];
		ht_debug("%s: replaces the earlier result of '%s'", where, key);
		test_release(t);
	} else {
		if (r->n == r->cap) {
			r->cap = r->cap ? r->cap * 2 : 256;
			r->t = ht_xrealloc(r->t, r->cap * sizeof(*r->t));
		}
		json_object_set_new(r->index, key, json_integer((json_int_t)r->n));
		t = &r->t[r->n];
		memset(t, 0, sizeof(*t));
		t->seq = r->n++;
	}
	free(key);
	t->rec = rec;
	t->test_id = ht_json_str(rec, "test_id", "");
	t->name = ht_json_str(rec, "name", *t->test_id ? t->test_id : "?");
	t->run_id = ht_json_str(rec, "run_id", "");
	t->file = str_or_null(rec, "file");
	t->message = ht_json_str(rec, "message", "");
	t->output_tail = str_or_null(rec, "output_tail");
	t->status = ht_rstatus_parse(ht_json_str(rec, "status", NULL));
	ok = json_object_get(rec, "ok");
	t->ok = json_is_boolean(ok) ? json_is_true(ok) : !ht_rstatus_bad(t->status);
	t->duration_ms = int_or(rec, "duration_ms", 0);
	t->started_ms = parse_time(str_or_null(rec, "started_at"));
	load_attempts(t);
	count_cases(t);
	return 0;
}

int ht_report_add_summary(struct ht_report *r, json_t *sum, const char *where)
{
	json_t *results = json_object_get(sum, "results");
	char w[300];
	size_t i;
	int bad = 0;

	if (ht_record_check_schema(sum, "ht.summary/1", where) < 0) {
		json_decref(sum);
		return HT_EXIT_DATAERR;
	}
	if (!json_is_array(results)) {
		json_decref(sum);
		ht_error("%s: results: expected an array", where);
		return HT_EXIT_DATAERR;
	}
	json_incref(results);
	json_object_del(sum, "results");
	for (i = 0; i < json_array_size(results); i++) {
		snprintf(w, sizeof(w), "%s: results[%zu]", where, i);
		if (ht_report_add(r, json_incref(json_array_get(results, i)), w) < 0)
			bad = 1;
	}
	json_decref(results);
	/* The first summary read gives the run's times. */
	if (!r->summary)
		r->summary = sum;
	else
		json_decref(sum);
	return bad ? HT_EXIT_DATAERR : 0;
}

/*
 * Whether buf holds one JSON object of an ht.summary schema rather than
 * JSON Lines: *out gets it (new reference) when it does. A results file
 * is told apart by its first line, a record of its own.
 */
static int is_summary(const char *buf, size_t len, json_t **out)
{
	const char *nl = memchr(buf, '\n', len);
	json_t *v;

	*out = NULL;
	v = json_loadb(buf, nl ? (size_t)(nl - buf) : len, 0, NULL);
	if (json_is_object(v) && !ht_starts_with(ht_json_str(v, "schema", ""), "ht.summary/")) {
		json_decref(v);
		return 0;
	}
	json_decref(v);
	if (!nl)
		return 0;
	v = json_loadb(buf, len, 0, NULL);
	if (!json_is_object(v) || !ht_starts_with(ht_json_str(v, "schema", ""), "ht.summary/")) {
		json_decref(v);
		return 0;
	}
	*out = v;
	return 1;
}

int ht_report_read_buf(struct ht_report *r, const char *buf, size_t len, const char *name)
{
	json_t *sum;
	FILE *fp;
	struct ht_jsonl_reader rd;
	json_t *rec;
	char where[300];
	int rc, bad = 0;

	if (is_summary(buf, len, &sum))
		return ht_report_add_summary(r, sum, name);
	if (!len)
		return 0;
	fp = fmemopen((void *)buf, len, "r");
	if (!fp) {
		ht_error("%s: cannot read: %s", name, strerror(errno));
		return HT_EXIT_IOERR;
	}
	ht_jsonl_reader_init(&rd, fp, name, REPORT_LINE_MAX);
	while ((rc = ht_jsonl_read(&rd, &rec)) != 0) {
		if (rc < 0) {
			bad = 1;
			if (rc == -2)
				break;
			continue;
		}
		snprintf(where, sizeof(where), "%s:%zu", name, rd.lineno);
		if (ht_report_add(r, rec, where) < 0)
			bad = 1;
	}
	ht_jsonl_reader_release(&rd);
	fclose(fp);
	return bad ? HT_EXIT_DATAERR : 0;
}

int ht_report_read(struct ht_report *r, FILE *fp, const char *name)
{
	struct ht_buf b;
	char chunk[65536];
	size_t n;
	int rc;

	ht_buf_init(&b, REPORT_INPUT_MAX);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		if (ht_buf_add(&b, chunk, n) < 0) {
			ht_error("%s: larger than %u MiB", name, REPORT_INPUT_MAX >> 20);
			ht_buf_release(&b);
			return HT_EXIT_DATAERR;
		}
	}
	if (ferror(fp)) {
		ht_error("cannot read '%s': %s", name, strerror(errno));
		ht_buf_release(&b);
		return HT_EXIT_IOERR;
	}
	ht_buf_addstr(&b, "");
	rc = ht_report_read_buf(r, b.data, b.len, name);
	ht_buf_release(&b);
	return rc;
}

/* --- summing up ---------------------------------------------------------------- */

static const struct ht_report *sort_r;

long long ht_report_attempt_from(const struct ht_report_attempt *a)
{
	return a->dispatch_ms >= 0 && a->dispatch_ms <= a->start_ms ? a->dispatch_ms : a->start_ms;
}

/* The test's first moment on the timeline, for the lanes' order. */
static long long first_ms(const struct ht_report_test *t)
{
	int i;

	for (i = 0; i < t->natt; i++)
		if (t->att[i].start_ms >= 0)
			return ht_report_attempt_from(&t->att[i]);
	return -1;
}

static int cmp_start(const void *a, const void *b)
{
	const struct ht_report_test *x = &sort_r->t[*(const size_t *)a], *y = &sort_r->t[*(const size_t *)b];
	long long fx = first_ms(x), fy = first_ms(y);

	if (fx != fy)
		return fx < fy ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * The lanes: the concurrency slots when every timed attempt names one;
 * otherwise one lane per timed test, in the order they started.
 */
static void lay_out(struct ht_report *r)
{
	size_t i, *order, lane = 0;
	int j, all_slots = 1, timed = 0, maxslot = -1;

	for (i = 0; i < r->n; i++) {
		for (j = 0; j < r->t[i].natt; j++) {
			struct ht_report_attempt *a = &r->t[i].att[j];

			if (a->start_ms < 0)
				continue;
			timed = 1;
			if (a->slot < 0)
				all_slots = 0;
			else if (a->slot > maxslot)
				maxslot = a->slot;
			if (r->t0_ms < 0 || ht_report_attempt_from(a) < r->t0_ms)
				r->t0_ms = ht_report_attempt_from(a);
			if (a->end_ms > r->t1_ms)
				r->t1_ms = a->end_ms;
		}
	}
	if (!timed)
		return;
	r->by_slot = all_slots;
	if (all_slots) {
		r->lanes = maxslot + 1;
		for (i = 0; i < r->n; i++)
			for (j = 0; j < r->t[i].natt; j++)
				r->t[i].att[j].lane = r->t[i].att[j].start_ms >= 0 ? r->t[i].att[j].slot : -1;
		return;
	}
	order = ht_xmalloc(r->n * sizeof(*order));
	for (i = 0; i < r->n; i++)
		order[i] = i;
	sort_r = r;
	qsort(order, r->n, sizeof(*order), cmp_start);
	for (i = 0; i < r->n; i++) {
		struct ht_report_test *t = &r->t[order[i]];
		int used = 0;

		for (j = 0; j < t->natt; j++) {
			t->att[j].lane = t->att[j].start_ms >= 0 ? (int)lane : -1;
			used |= t->att[j].start_ms >= 0;
		}
		lane += used;
	}
	r->lanes = (int)lane;
	free(order);
}

void ht_report_finish(struct ht_report *r)
{
	size_t i;
	int j, k;
	const char *run_id = NULL;
	int one_run = 1;
	json_t *groups;

	memset(r->cases, 0, sizeof(r->cases));
	memset(r->tests, 0, sizeof(r->tests));
	r->ncases = r->sum_ms = 0;
	r->nattempts = 0;
	r->ok = 1;
	groups = json_object();
	/* The cases of one invocation (group_test_id) each carry the
	 * invocation's attempts: they are the group's, counted and drawn
	 * once, with its first case that has them all (a batch's members
	 * written before its retry have the first attempts only). */
	for (i = 0; i < r->n; i++) {
		const char *g = ht_json_str(r->t[i].rec, "group_test_id", NULL);

		if (g) {
			char *key = ht_xasprintf("%s/%s", r->t[i].run_id ? r->t[i].run_id : "", g);

			if (ht_json_int(groups, key, -1) < r->t[i].natt)
				json_object_set_new(groups, key, json_integer(r->t[i].natt));
			free(key);
		}
	}
	for (i = 0; i < r->n; i++) {
		struct ht_report_test *t = &r->t[i];
		const char *g = ht_json_str(t->rec, "group_test_id", NULL);

		if (g) {
			char *key = ht_xasprintf("%s/%s", t->run_id ? t->run_id : "", g);

			if (ht_json_int(groups, key, -1) == t->natt)
				json_object_set_new(groups, key, json_integer(-2)); /* drawn */
			else
				t->natt = 0;
			free(key);
		}
		time_attempts(t);
		t->total_ms = 0;
		for (j = 0; j < t->natt; j++) {
			t->total_ms += t->att[j].duration_ms > 0 ? t->att[j].duration_ms : 0;
			t->att[j].lane = -1;
		}
		r->sum_ms += t->total_ms;
		r->nattempts += t->natt;
		r->tests[t->status]++;
		for (k = 0; k < HT_RS_N; k++) {
			r->cases[k] += t->cases.n[k];
			r->ncases += t->cases.n[k];
		}
		if (!t->ok)
			r->ok = 0;
		if (!run_id)
			run_id = t->run_id;
		else if (strcmp(run_id, t->run_id))
			one_run = 0;
	}
	json_decref(groups);
	r->run_id = one_run && run_id && *run_id ? run_id : NULL;
	if (!r->run_id && r->summary && r->n == 0)
		r->run_id = ht_json_str(r->summary, "run_id", NULL);
	lay_out(r);
	r->wall_ms = int_or(r->summary, "wall_ms", int_or(r->summary, "duration_ms", -1));
	if (r->wall_ms < 0 && r->summary) {
		long long a = parse_time(str_or_null(r->summary, "started_at"));
		long long b = parse_time(str_or_null(r->summary, "finished_at"));

		if (a >= 0 && b >= a)
			r->wall_ms = b - a;
	}
	if (r->wall_ms < 0 && r->t0_ms >= 0)
		r->wall_ms = r->t1_ms - r->t0_ms;
	if (r->summary && json_is_false(json_object_get(r->summary, "ok")))
		r->ok = 0;
}

/* --- helpers for the writers ------------------------------------------------- */

char *ht_report_artifact_href(const struct ht_report *r, const char *key)
{
	if (!r->artifact_base || strstr(key, "://"))
		return ht_xstrdup(key);
	return ht_xasprintf("%s%s", r->artifact_base, key);
}

static int cmp_slow(const void *a, const void *b)
{
	const struct ht_report_test *x = &sort_r->t[*(const size_t *)a], *y = &sort_r->t[*(const size_t *)b];

	if (x->total_ms != y->total_ms)
		return x->total_ms > y->total_ms ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

size_t *ht_report_slowest(const struct ht_report *r, size_t max, size_t *n)
{
	size_t i, *v = ht_xmalloc((r->n ? r->n : 1) * sizeof(*v));

	for (i = 0; i < r->n; i++)
		v[i] = i;
	sort_r = r;
	qsort(v, r->n, sizeof(*v), cmp_slow);
	*n = max && max < r->n ? max : r->n;
	return v;
}

char *ht_report_fmt_ms(long long ms, char *buf, size_t n)
{
	if (ms < 0)
		snprintf(buf, n, "?");
	else if (ms < 1000)
		snprintf(buf, n, "%lldms", ms);
	else if (ms < 60000)
		snprintf(buf, n, "%.1fs", ms / 1000.0);
	else if (ms < 3600000)
		snprintf(buf, n, "%lldm%02llds", ms / 60000, ms / 1000 % 60);
	else
		snprintf(buf, n, "%lldh%02lldm", ms / 3600000, ms / 60000 % 60);
	return buf;
}
