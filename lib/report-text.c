/*
 * report-text.c: the report for a person on a terminal or in a CI log:
 * the totals, each failure with its message and the end of its output,
 * the slowest tests, the times, and where everything is.
 */
#include <string.h>

#include "ht/ht.h"
#include "ht/report.h"

/* Failures shown in full; past this only one line each. */
#define TEXT_FULL_FAILURES 30
/* Failing cases listed under one result with a `tests` object. */
#define TEXT_CASES 5

struct out {
	FILE *fp;
	int color;
};

static const char *const status_color[HT_RS_N] = {
	"32", "31", "33", "2", "31", "31;1", "35",
};

static void paint(struct out *o, const char *sgr, const char *s)
{
	if (o->color)
		fprintf(o->fp, "\033[%sm%s\033[0m", sgr, s);
	else
		fputs(s, o->fp);
}

/* "1991 passed, 3 failed, ...": every total, zeros in plain text. */
static void totals(struct out *o, const long long *n)
{
	static const enum ht_rstatus order[] = {
		HT_RS_PASSED, HT_RS_FAILED, HT_RS_FLAKY, HT_RS_SKIPPED, HT_RS_TIMED_OUT, HT_RS_ERROR,
	};
	char buf[64];
	size_t i;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		snprintf(buf, sizeof(buf), "%lld %s", n[order[i]], ht_rstatus_label_n(order[i], n[order[i]]));
		if (i)
			fputs(", ", o->fp);
		if (n[order[i]])
			paint(o, status_color[order[i]], buf);
		else
			fputs(buf, o->fp);
	}
	if (n[HT_RS_INTERRUPTED]) {
		snprintf(buf, sizeof(buf), "%lld interrupted", n[HT_RS_INTERRUPTED]);
		fputs(", ", o->fp);
		paint(o, status_color[HT_RS_INTERRUPTED], buf);
	}
	fputc('\n', o->fp);
}

/* The key of the test's output among its artifacts: stdout.txt, else the
 * first. Borrowed, or NULL. */
static const char *output_key(const struct ht_report_test *t)
{
	json_t *arts = json_object_get(t->rec, "artifacts");
	size_t i;

	for (i = 0; i < json_array_size(arts); i++)
		if (json_is_string(json_array_get(arts, i)) &&
		    ht_ends_with(json_string_value(json_array_get(arts, i)), "/stdout.txt"))
			return json_string_value(json_array_get(arts, i));
	return json_is_string(json_array_get(arts, 0)) ? json_string_value(json_array_get(arts, 0)) : NULL;
}

/* Prints the last n lines of s, each indented and marked. */
static void tail_lines(struct out *o, const char *s, int n)
{
	const char *end, *p;
	int k = 0;

	if (!s || n <= 0)
		return;
	end = s + strlen(s);
	while (end > s && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		end--;
	for (p = end; p > s; p--)
		if (p[-1] == '\n' && ++k == n)
			break;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);

		fputs("            ", o->fp);
		paint(o, "2", "|");
		fprintf(o->fp, " %.*s\n", (int)len, p);
		p += len + (nl ? 1 : 0);
	}
}

static void failure(struct out *o, const struct ht_report *r, const struct ht_report_test *t,
		    const struct ht_report_text_opts *opts, int full)
{
	json_t *fails = json_object_get(json_object_get(t->rec, "tests"), "failures");
	const char *key = output_key(t);
	char d[32], label[32];
	size_t i;

	snprintf(label, sizeof(label), "%-11s", ht_rstatus_label(t->status));
	fputs("  ", o->fp);
	paint(o, status_color[t->status], label);
	fprintf(o->fp, " %s (%s", t->name, ht_report_fmt_ms(t->duration_ms, d, sizeof(d)));
	if (t->natt > 1)
		fprintf(o->fp, ", %d attempts", t->natt);
	fprintf(o->fp, ")\n");
	if (*t->message)
		fprintf(o->fp, "              %s\n", t->message);
	if (!full)
		return;
	for (i = 0; i < json_array_size(fails) && i < TEXT_CASES; i++) {
		json_t *f = json_array_get(fails, i);
		const char *cls = ht_json_str(f, "classname", NULL), *m = ht_json_str(f, "message", "");

		fprintf(o->fp, "              - %s%s%s%s%s\n", cls ? cls : "", cls ? "." : "",
			ht_json_str(f, "name", "?"), *m ? ": " : "", m);
	}
	if (json_array_size(fails) > TEXT_CASES)
		fprintf(o->fp, "              - ... and %zu more\n", json_array_size(fails) - TEXT_CASES);
	if (t->status != HT_RS_FLAKY)
		tail_lines(o, t->output_tail, opts->lines);
	if (key) {
		fputs("              output: ", o->fp);
		if (r->artifact_where && !strstr(key, "://"))
			fprintf(o->fp, "%s/%s\n", r->artifact_where, key);
		else
			fprintf(o->fp, "%s\n", key);
	}
}

int ht_report_text(const struct ht_report *r, FILE *fp, const struct ht_report_text_opts *opts)
{
	struct out o = { fp, opts->color };
	const char *provider = ht_json_str(r->summary, "provider", NULL);
	size_t i, nslow, shown = 0, nbad = 0, *slow;
	char a[32], b[32];

	for (i = 0; i < r->n; i++)
		if (ht_rstatus_bad(r->t[i].status) || r->t[i].status == HT_RS_FLAKY)
			nbad++;
	if (nbad) {
		paint(&o, "1", nbad == 1 ? "1 test did not pass:" : "tests that did not pass:");
		fputc('\n', fp);
		/* What failed first, flaky tests last: they passed in the end. */
		for (int pass = 0; pass < 2; pass++) {
			for (i = 0; i < r->n; i++) {
				const struct ht_report_test *t = &r->t[i];

				if (pass == 0 ? !ht_rstatus_bad(t->status) : t->status != HT_RS_FLAKY)
					continue;
				failure(&o, r, t, opts, shown++ < TEXT_FULL_FAILURES);
			}
		}
		fputc('\n', fp);
	}
	slow = ht_report_slowest(r, (size_t)(opts->slowest > 0 ? opts->slowest : 0), &nslow);
	if (opts->slowest > 0 && nslow > 1) {
		paint(&o, "1", "slowest:");
		fputc('\n', fp);
		for (i = 0; i < nslow; i++) {
			const struct ht_report_test *t = &r->t[slow[i]];

			fprintf(fp, "  %9s  %s", ht_report_fmt_ms(t->total_ms, a, sizeof(a)), t->name);
			if (t->natt > 1)
				fprintf(fp, " (%d attempts)", t->natt);
			fputc('\n', fp);
		}
		fputc('\n', fp);
	}
	free(slow);

	paint(&o, "1", "hypertest:");
	fprintf(fp, " %zu test%s", r->n, r->n == 1 ? "" : "s");
	if (r->ncases != (long long)r->n)
		fprintf(fp, " (%lld case%s)", r->ncases, r->ncases == 1 ? "" : "s");
	if (r->run_id)
		fprintf(fp, " of run %s", r->run_id);
	if (provider)
		fprintf(fp, " on %s", provider);
	if (r->wall_ms >= 0)
		fprintf(fp, " in %s", ht_report_fmt_ms(r->wall_ms, a, sizeof(a)));
	fputc('\n', fp);
	fputs("  ", fp);
	totals(&o, r->cases);
	if (r->wall_ms > 0)
		fprintf(fp, "  time: %s wall, %s of tests (%.1fx)\n", ht_report_fmt_ms(r->wall_ms, a, sizeof(a)),
			ht_report_fmt_ms(r->sum_ms, b, sizeof(b)), (double)r->sum_ms / (double)r->wall_ms);
	else
		fprintf(fp, "  time: %s of tests\n", ht_report_fmt_ms(r->sum_ms, b, sizeof(b)));
	if (r->artifact_where)
		fprintf(fp, "  artifacts: %s%s%s/\n", r->artifact_where, r->run_id ? "/" : "",
			r->run_id ? r->run_id : "");
	if (opts->html)
		fprintf(fp, "  report: %s\n", opts->html);
	return ferror(fp) ? -1 : 0;
}
