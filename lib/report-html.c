/*
 * report-html.c: the run as one self-contained HTML page: the template
 * lib/report.html (built in as report-html.h, one string per line) with
 * the data as JSON in a <script type="application/json"> element, every
 * '<', '>' and '&' in it escaped so that no output of a test can end
 * the element. The page's script draws the chips, the filter, the
 * failures, the timeline, the slowest tests and the table from it.
 */
#include <string.h>

#include "ht/ht.h"
#include "ht/report.h"

/* The template's lines, generated from lib/report.html at build time. */
static const char *const template_lines[] = {
#include "report-html.h"
	NULL
};

/* The line of the template the data replaces. */
#define DATA_MARK "<!--HT-DATA-->\n"
/* The most of a test's output inlined; the rest is linked. */
#define HTML_TAIL_MAX (8 * 1024)
/* The most of all outputs inlined: when many tests failed, each gets
 * its share of it, at least HTML_TAIL_MIN, so that the page stays quick
 * to load. */
#define HTML_TAILS_MAX (1024 * 1024)
#define HTML_TAIL_MIN 1024
/* The most of a message inlined. */
#define HTML_MESSAGE_MAX 2000
/* Artifact links inlined per test. */
#define HTML_ARTIFACTS_MAX 20
/* Failing cases inlined per test. */
#define HTML_CASES_MAX 20

/* A new string of s cut to at most max bytes at a character boundary:
 * its head (tail = 0) or its end. */
static json_t *cut(const char *s, size_t max, int tail)
{
	size_t n = strlen(s);
	const char *p = s;

	if (n <= max)
		return json_string(s);
	if (tail) {
		p = s + n - max;
		while ((*(const unsigned char *)p & 0xc0) == 0x80)
			p++;
		return json_sprintf("[...]%s", p);
	}
	while (max && (((const unsigned char *)s)[max] & 0xc0) == 0x80)
		max--;
	return json_sprintf("%.*s[...]", (int)max, s);
}

/* "1991 passed, 25 skipped" for a result that ran cases; NULL otherwise. */
static json_t *cases_text(const struct ht_report_test *t)
{
	struct ht_buf b = HT_BUF_INIT;
	json_t *v;
	int k;

	if (!json_is_object(json_object_get(t->rec, "tests")))
		return NULL;
	for (k = 0; k < HT_RS_N; k++)
		if (t->cases.n[k])
			ht_buf_addf(&b, "%s%lld %s", b.len ? ", " : "", t->cases.n[k],
				    ht_rstatus_label_n((enum ht_rstatus)k, t->cases.n[k]));
	v = json_string(b.data ? b.data : "none");
	ht_buf_release(&b);
	return v;
}

/* Output is inlined for what did not plainly pass; the rest is linked. */
static int inlined(const struct ht_report_test *t)
{
	return t->output_tail && *t->output_tail && t->status != HT_RS_PASSED && t->status != HT_RS_SKIPPED;
}

/* The most of one test's output inlined: HTML_TAIL_MAX, or its share of
 * HTML_TAILS_MAX when many have output, at least HTML_TAIL_MIN. */
static size_t tail_max(const struct ht_report *r)
{
	size_t i, n = 0, max;

	for (i = 0; i < r->n; i++)
		n += (size_t)inlined(&r->t[i]);
	max = n ? HTML_TAILS_MAX / n : HTML_TAIL_MAX;
	return max > HTML_TAIL_MAX ? HTML_TAIL_MAX : max < HTML_TAIL_MIN ? HTML_TAIL_MIN : max;
}

/* A test as the page has it: name, status, times, message, output
 * (cut to tail bytes), cases, artifact links, attempts. A total equal to the duration, an artifact count equal to
 * the links and an attempt's message equal to the test's are left out. */
static json_t *test_json(const struct ht_report *r, const struct ht_report_test *t, size_t tail)
{
	json_t *o = json_object(), *p = json_array(), *arts = json_object_get(t->rec, "artifacts");
	json_t *fails = json_object_get(json_object_get(t->rec, "tests"), "failures"), *c;
	int j;

	json_object_set_new(o, "n", json_string(t->name));
	json_object_set_new(o, "s", json_string(ht_rstatus_name(t->status)));
	json_object_set_new(o, "d", json_integer(t->duration_ms));
	if (t->total_ms != t->duration_ms)
		json_object_set_new(o, "T", json_integer(t->total_ms));
	if (*t->message)
		json_object_set_new(o, "m", cut(t->message, HTML_MESSAGE_MAX, 0));
	if (inlined(t))
		json_object_set_new(o, "o", cut(t->output_tail, tail, 1));
	if ((c = cases_text(t)))
		json_object_set_new(o, "c", c);
	if (json_array_size(fails)) {
		json_t *x = json_array();
		size_t i;

		for (i = 0; i < json_array_size(fails) && i < HTML_CASES_MAX; i++) {
			json_t *f = json_array_get(fails, i);
			const char *cls = ht_json_str(f, "classname", NULL);

			json_array_append_new(x, json_pack("[s++, o]", cls ? cls : "", cls ? "." : "",
							   ht_json_str(f, "name", "?"),
							   cut(ht_json_str(f, "message", ""), HTML_MESSAGE_MAX, 0)));
		}
		json_object_set_new(o, "x", x);
	}
	if (json_array_size(arts)) {
		json_t *a = json_array();
		size_t i;

		for (i = 0; i < json_array_size(arts) && i < HTML_ARTIFACTS_MAX; i++) {
			const char *k = json_string_value(json_array_get(arts, i));

			if (k) {
				char *h = ht_report_artifact_href(r, k);

				json_array_append_new(a, json_string(h));
				free(h);
			}
		}
		if (json_array_size(arts) != json_array_size(a))
			json_object_set_new(o, "A", json_integer((json_int_t)json_array_size(arts)));
		json_object_set_new(o, "a", a);
	}
	/* Attempts: [lane, start, end, dispatch (ms from t0, -1 unknown),
	 * status, attempt, exact, slot, worker, cold (1, 0, -1), retry
	 * reason, message (null: the test's), duration]. */
	for (j = 0; j < t->natt; j++) {
		const struct ht_report_attempt *a = &t->att[j];
		int timed = a->lane >= 0 && r->t0_ms >= 0;
		json_t *m = strcmp(a->message, t->message) ? cut(a->message, HTML_MESSAGE_MAX, 0) : json_null();

		json_array_append_new(p, json_pack("[i,I,I,I,s,i,i,i,s?,i,s?,o,I]", timed ? a->lane : -1,
			(json_int_t)(timed ? a->start_ms - r->t0_ms : -1), (json_int_t)(timed ? a->end_ms - r->t0_ms : -1),
			(json_int_t)(timed && a->dispatch_ms >= 0 ? a->dispatch_ms - r->t0_ms : -1),
			ht_rstatus_name(a->status), a->attempt, a->exact, a->slot, a->worker, a->cold,
			a->retry_reason, m, (json_int_t)a->duration_ms));
	}
	json_object_set_new(o, "p", p);
	return o;
}

/* Writes JSON text with '<', '>', '&', U+2028 and U+2029 as \u escapes:
 * they only occur inside strings, where the escape means the same. */
static int escaped(const char *buf, size_t n, void *data)
{
	FILE *fp = data;
	size_t i, start = 0;

	for (i = 0; i < n; i++) {
		const char *e = NULL;
		size_t skip = 1;

		switch (buf[i]) {
		case '<': e = "\\u003c"; break;
		case '>': e = "\\u003e"; break;
		case '&': e = "\\u0026"; break;
		case '\xe2':
			if (i + 2 < n && buf[i + 1] == '\x80' && (buf[i + 2] == '\xa8' || buf[i + 2] == '\xa9')) {
				e = buf[i + 2] == '\xa8' ? "\\u2028" : "\\u2029";
				skip = 3;
			}
			break;
		default:
			break;
		}
		if (!e)
			continue;
		if (i > start && fwrite(buf + start, 1, i - start, fp) != i - start)
			return -1;
		if (fputs(e, fp) == EOF)
			return -1;
		i += skip - 1;
		start = i + 1;
	}
	if (n > start && fwrite(buf + start, 1, n - start, fp) != n - start)
		return -1;
	return 0;
}

static void put(json_t *o, const char *key, json_t *v)
{
	if (v)
		json_object_set_new(o, key, v);
}

static int data(const struct ht_report *r, FILE *fp)
{
	json_t *d = json_object(), *tests = json_array(), *cases = json_object(), *counts = json_object();
	json_t *img = json_object_get(r->summary, "image");
	size_t i, tail = tail_max(r);
	int k, rc;

	for (k = 0; k < HT_RS_N; k++) {
		json_object_set_new(cases, ht_rstatus_name((enum ht_rstatus)k), json_integer(r->cases[k]));
		json_object_set_new(counts, ht_rstatus_name((enum ht_rstatus)k), json_integer(r->tests[k]));
	}
	put(d, "run_id", r->run_id ? json_string(r->run_id) : NULL);
	put(d, "provider", json_incref(json_object_get(r->summary, "provider")));
	if (json_is_object(img))
		img = json_object_get(img, "digest");
	put(d, "image", json_is_string(img) ? json_incref(img) : NULL);
	put(d, "started_at", json_incref(json_object_get(r->summary, "started_at")));
	put(d, "finished_at", json_incref(json_object_get(r->summary, "finished_at")));
	put(d, "artifacts", r->artifact_where ? json_string(r->artifact_where) : NULL);
	json_object_set_new(d, "wall_ms", json_integer(r->wall_ms));
	json_object_set_new(d, "sum_ms", json_integer(r->sum_ms));
	json_object_set_new(d, "ok", json_boolean(r->ok));
	json_object_set_new(d, "by_slot", json_boolean(r->by_slot));
	json_object_set_new(d, "lanes", json_integer(r->lanes));
	json_object_set_new(d, "attempts", json_integer(r->nattempts));
	json_object_set_new(d, "t0", json_integer(r->t0_ms >= 0 ? 0 : -1));
	json_object_set_new(d, "t1", json_integer(r->t0_ms >= 0 ? r->t1_ms - r->t0_ms : -1));
	json_object_set_new(d, "cases", cases);
	json_object_set_new(d, "counts", counts);
	json_object_set_new(d, "tests", tests);
	for (i = 0; i < r->n; i++)
		json_array_append_new(tests, test_json(r, &r->t[i], tail));
	fputs("<script id=\"ht-data\" type=\"application/json\">", fp);
	rc = json_dump_callback(d, escaped, fp, JSON_COMPACT | JSON_PRESERVE_ORDER);
	fputs("</script>\n", fp);
	json_decref(d);
	return rc;
}

int ht_report_html(const struct ht_report *r, FILE *fp)
{
	size_t i;

	for (i = 0; template_lines[i]; i++) {
		if (!strcmp(template_lines[i], DATA_MARK)) {
			if (data(r, fp) < 0)
				return -1;
		} else if (fputs(template_lines[i], fp) == EOF) {
			return -1;
		}
	}
	return ferror(fp) ? -1 : 0;
}
