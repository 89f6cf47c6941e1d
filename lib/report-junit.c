/*
 * report-junit.c: the run as JUnit XML in Surefire's shape, which CI
 * systems read: one <testsuite>, one <testcase> per test (never one per
 * attempt), retries as Surefire records reruns. tests/data/junit.xsd is
 * the shape it keeps to (the rules that both Surefire's and Jenkins
 * xUnit's schemas accept); docs/ht-report.md says how statuses map.
 */
#include <string.h>

#include "ht/ht.h"
#include "ht/report.h"

/* The most of a test's output (and of its function's log) put into
 * system-out (system-err); the rest is in its artifacts. */
#define JUNIT_OUT_MAX (64 * 1024)
/* Failing cases listed in a failure's text. */
#define JUNIT_CASES 50

/*
 * Writes s (valid UTF-8, from jansson) as XML character data, or as an
 * attribute value when attr is set. The characters XML 1.0 cannot hold
 * (control characters but tab and newlines, U+FFFE, U+FFFF) are written
 * as the text "\uXXXX"; in attributes, tabs and newlines are character
 * references so that they survive attribute normalisation.
 */
static void xml_text(FILE *fp, const char *s, size_t n, int attr)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;

	for (; p < end; p++) {
		unsigned char c = *p;

		if (c == '&')
			fputs("&amp;", fp);
		else if (c == '<')
			fputs("&lt;", fp);
		else if (c == '>')
			fputs("&gt;", fp);
		else if (attr && c == '"')
			fputs("&quot;", fp);
		else if (attr && (c == '\n' || c == '\r' || c == '\t'))
			fprintf(fp, "&#%d;", c);
		else if (c == '\r' && !attr)
			fputs("&#13;", fp);
		else if (c < 0x20 && c != '\n' && c != '\t')
			fprintf(fp, "\\u%04x", c);
		else if (c == 0xef && end - p >= 3 && p[1] == 0xbf && (p[2] == 0xbe || p[2] == 0xbf)) {
			fprintf(fp, "\\u%s", p[2] == 0xbe ? "fffe" : "ffff");
			p += 2;
		} else
			fputc(c, fp);
	}
}

static void xml_str(FILE *fp, const char *s, int attr)
{
	xml_text(fp, s ? s : "", s ? strlen(s) : 0, attr);
}

/* ' name="value"' */
static void attr(FILE *fp, const char *name, const char *value)
{
	fprintf(fp, " %s=\"", name);
	xml_str(fp, value, 1);
	fputc('"', fp);
}

static void attr_secs(FILE *fp, const char *name, long long ms)
{
	if (ms < 0)
		ms = 0;
	fprintf(fp, " %s=\"%lld.%03lld\"", name, ms / 1000, ms % 1000);
}

/*
 * The classname of a test, stable across runs: its file (else its name)
 * without the extension, '/' as '.': "tests/login.sh" -> "tests.login".
 * New string.
 */
static char *classname(const struct ht_report_test *t)
{
	const char *src = t->file && *t->file ? t->file : t->name;
	char *c, *p, *dot, *slash;

	while (src[0] == '.' && src[1] == '/')
		src += 2;
	c = ht_xstrdup(*src ? src : "hypertest");
	dot = strrchr(c, '.');
	slash = strrchr(c, '/');
	if (dot && dot != c && (!slash || dot > slash + 1) && !strpbrk(dot, " :["))
		*dot = '\0';
	for (p = c; *p; p++)
		if (*p == '/' || *p == '\\')
			*p = '.';
	return c;
}

/* At most max bytes of the end of s, with a note when cut and where the
 * whole is. */
static void capped(FILE *fp, const char *s, const char *where)
{
	size_t n = strlen(s);

	if (n > JUNIT_OUT_MAX) {
		const char *p = s + n - JUNIT_OUT_MAX;

		/* Start at a whole character. */
		while ((*(const unsigned char *)p & 0xc0) == 0x80)
			p++;
		fprintf(fp, "[... %zu bytes cut]\n", (size_t)(p - s));
		xml_text(fp, p, strlen(p), 0);
	} else {
		xml_text(fp, s, n, 0);
	}
	if (where) {
		fputs("\n[the end of the output; all of it: ", fp);
		xml_str(fp, where, 0);
		fputs("]", fp);
	}
}

/* The text of a failure: the message, the failing cases, the attempts. */
static void failure_text(FILE *fp, const struct ht_report_test *t)
{
	json_t *fails = json_object_get(json_object_get(t->rec, "tests"), "failures");
	size_t i;

	xml_str(fp, t->message, 0);
	fputc('\n', fp);
	for (i = 0; i < json_array_size(fails) && i < JUNIT_CASES; i++) {
		json_t *f = json_array_get(fails, i);
		const char *cls = ht_json_str(f, "classname", NULL);

		fputs("  ", fp);
		if (cls) {
			xml_str(fp, cls, 0);
			fputc('.', fp);
		}
		xml_str(fp, ht_json_str(f, "name", "?"), 0);
		fputs(": ", fp);
		xml_str(fp, ht_json_str(f, "message", ""), 0);
		fputc('\n', fp);
	}
	if (json_array_size(fails) > JUNIT_CASES)
		fprintf(fp, "  ... and %zu more\n", json_array_size(fails) - JUNIT_CASES);
}

/* One earlier attempt, as Surefire's rerun and flaky elements hold it. */
static void rerun(FILE *fp, const char *elem, const struct ht_report_attempt *a)
{
	char d[32], msg[64];

	snprintf(msg, sizeof(msg), "attempt %d: ", a->attempt);
	fprintf(fp, "    <%s", elem);
	fprintf(fp, " type=\"%s\" message=\"%s", ht_rstatus_name(a->status), msg);
	xml_str(fp, a->message, 1);
	fputs("\"><stackTrace>", fp);
	fprintf(fp, "attempt %d %s after %s%s: ", a->attempt, ht_rstatus_name(a->status),
		ht_report_fmt_ms(a->duration_ms, d, sizeof(d)), a->infra ? " (infrastructure)" : "");
	xml_str(fp, a->message, 0);
	if (a->retry_reason) {
		fputs("\nretried: ", fp);
		xml_str(fp, a->retry_reason, 0);
	}
	fprintf(fp, "</stackTrace></%s>\n", elem);
}

/* Is this attempt a failure of the test (else an error)? */
static int is_failure(const struct ht_report_attempt *a)
{
	return !a->infra && (a->status == HT_RS_FAILED || a->status == HT_RS_TIMED_OUT);
}

/* Writes the reruns of t other than the last attempt: failures when
 * failures is set, else errors. */
static void reruns(FILE *fp, const struct ht_report_test *t, const char *elem, int failures)
{
	int i;

	for (i = 0; i + 1 < t->natt; i++)
		if (is_failure(&t->att[i]) == failures && t->att[i].status != HT_RS_PASSED)
			rerun(fp, elem, &t->att[i]);
}

static void testcase(FILE *fp, const struct ht_report *r, const struct ht_report_test *t)
{
	const char *type = ht_json_str(json_object_get(t->rec, "error"), "code", ht_rstatus_name(t->status));
	const char *log = ht_json_str(t->rec, "log_tail", NULL);
	json_t *arts = json_object_get(t->rec, "artifacts");
	char *cls = classname(t), *where = NULL;
	int i;

	fputs("  <testcase", fp);
	attr(fp, "name", t->name);
	attr(fp, "classname", cls);
	attr_secs(fp, "time", t->duration_ms);
	free(cls);
	if (t->status == HT_RS_PASSED) {
		fputs("/>\n", fp);
		return;
	}
	fputs(">\n", fp);
	switch (t->status) {
	case HT_RS_SKIPPED:
		fputs("    <skipped", fp);
		attr(fp, "message", t->message);
		fputs("/>\n", fp);
		break;
	case HT_RS_FAILED:
	case HT_RS_TIMED_OUT:
		fputs("    <failure", fp);
		attr(fp, "type", ht_rstatus_name(t->status));
		attr(fp, "message", t->message);
		fputs(">", fp);
		failure_text(fp, t);
		fputs("</failure>\n", fp);
		reruns(fp, t, "rerunFailure", 1);
		reruns(fp, t, "rerunError", 0);
		break;
	case HT_RS_ERROR:
	case HT_RS_INTERRUPTED:
		/* Surefire's order: reruns that failed come before the error. */
		reruns(fp, t, "rerunFailure", 1);
		fputs("    <error", fp);
		attr(fp, "type", t->status == HT_RS_INTERRUPTED ? "interrupted" : type);
		attr(fp, "message", t->message);
		fputs(">", fp);
		failure_text(fp, t);
		fputs("</error>\n", fp);
		reruns(fp, t, "rerunError", 0);
		break;
	case HT_RS_FLAKY:
		for (i = 0; i < t->natt; i++)
			if (is_failure(&t->att[i]))
				rerun(fp, "flakyFailure", &t->att[i]);
		for (i = 0; i < t->natt; i++)
			if (!is_failure(&t->att[i]) && t->att[i].status != HT_RS_PASSED)
				rerun(fp, "flakyError", &t->att[i]);
		break;
	default:
		break;
	}
	for (i = 0; i < (int)json_array_size(arts); i++) {
		const char *k = json_string_value(json_array_get(arts, i));

		if (k && ht_ends_with(k, "/stdout.txt")) {
			where = r->artifact_where && !strstr(k, "://") ?
				ht_xasprintf("%s/%s", r->artifact_where, k) : ht_xstrdup(k);
			break;
		}
	}
	if (t->output_tail && *t->output_tail) {
		fputs("    <system-out>", fp);
		capped(fp, t->output_tail, where);
		fputs("</system-out>\n", fp);
	}
	if (log && *log) {
		fputs("    <system-err>", fp);
		capped(fp, log, NULL);
		fputs("</system-err>\n", fp);
	}
	free(where);
	fputs("  </testcase>\n", fp);
}

static void property(FILE *fp, const char *name, const char *value)
{
	if (!value)
		return;
	fputs("    <property", fp);
	attr(fp, "name", name);
	attr(fp, "value", value);
	fputs("/>\n", fp);
}

int ht_report_junit(const struct ht_report *r, FILE *fp)
{
	const char *image = ht_json_str(r->summary, "image", NULL);
	char buf[64];
	size_t i;
	int k;

	if (json_is_object(json_object_get(r->summary, "image")))
		image = ht_json_str(json_object_get(r->summary, "image"), "digest", NULL);
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite", fp);
	attr(fp, "name", "hypertest");
	fprintf(fp, " tests=\"%zu\" failures=\"%lld\" errors=\"%lld\" skipped=\"%lld\"", r->n,
		r->tests[HT_RS_FAILED] + r->tests[HT_RS_TIMED_OUT], r->tests[HT_RS_ERROR] + r->tests[HT_RS_INTERRUPTED],
		r->tests[HT_RS_SKIPPED]);
	attr_secs(fp, "time", r->wall_ms >= 0 ? r->wall_ms : r->sum_ms);
	fputs(">\n  <properties>\n", fp);
	property(fp, "hypertest.run_id", r->run_id);
	property(fp, "hypertest.provider", ht_json_str(r->summary, "provider", NULL));
	property(fp, "hypertest.image", image);
	property(fp, "hypertest.started_at", ht_json_str(r->summary, "started_at", NULL));
	property(fp, "hypertest.finished_at", ht_json_str(r->summary, "finished_at", NULL));
	for (k = 0; k < HT_RS_N; k++) {
		char name[64];

		snprintf(name, sizeof(name), "hypertest.cases.%s", ht_rstatus_name((enum ht_rstatus)k));
		snprintf(buf, sizeof(buf), "%lld", r->cases[k]);
		property(fp, name, buf);
	}
	snprintf(buf, sizeof(buf), "%lld", r->tests[HT_RS_FLAKY]);
	property(fp, "hypertest.flaky", buf);
	fputs("  </properties>\n", fp);
	for (i = 0; i < r->n; i++)
		testcase(fp, r, &r->t[i]);
	fputs("</testsuite>\n", fp);
	return ferror(fp) ? -1 : 0;
}
