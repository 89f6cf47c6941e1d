/*
 * playwright-report.c: the playwright plugin's judge. Reads the JSON report
 * Playwright wrote for one invocation and turns each test the invocation
 * asked for into a status: Playwright's own verdict (expected, unexpected,
 * flaky, skipped) over its results, one per try, with the errors, their
 * stacks and snippets, and the files the tests attached.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ht/id.h"
#include "ht/jsonl.h"
#include "ht/runner.h"
#include "ht/text.h"
#include "ht/util.h"
#include "runners/outcome.h"
#include "runners/playwright.h"

#define REPORT_MAX (256u * 1024 * 1024)
#define ERR_FIELD_MAX 4000
#define MAX_ERRORS 10
#define MAX_ATTACHMENTS 200
#define CASE_TAIL_MAX 2048
#define CASES_BUDGET (HT_RECORD_MAX * 3 / 4)
#define SEP " \xe2\x80\xba " /* " › " */

char *ht_pw_strip_ansi(const char *s)
{
	char *out, *o;
	const char *p;

	if (!s)
		return NULL;
	out = o = ht_xmalloc(strlen(s) + 1);
	for (p = s; *p; p++) {
		if (*p != '\033') {
			*o++ = *p;
			continue;
		}
		if (p[1] == '[') {
			/* CSI: parameters, then one final byte */
			for (p += 2; *p && !((unsigned char)*p >= 0x40 && (unsigned char)*p <= 0x7e); p++)
				;
		} else if (p[1] == ']') {
			/* OSC: up to BEL or ESC \ */
			for (p += 2; *p && *p != '\a' && !(*p == '\033' && p[1] == '\\'); p++)
				;
			if (*p == '\033')
				p++;
		} else if (p[1]) {
			p++;
		}
		if (!*p)
			break;
	}
	*o = '\0';
	return out;
}

char *ht_pw_test_line(const char *project, const char *file, json_t *titles)
{
	struct ht_buf b = HT_BUF_INIT;
	json_t *t;
	size_t i;
	char *s;

	ht_buf_add(&b, "", 0);
	if (project && *project)
		ht_buf_addf(&b, "[%s]" SEP, project);
	ht_buf_addstr(&b, file);
	json_array_foreach(titles, i, t)
		ht_buf_addf(&b, SEP "%s", json_string_value(t));
	s = ht_xstrdup(b.data);
	ht_buf_release(&b);
	return s;
}

/* A new JSON string of s without colours, valid UTF-8, at most max bytes
 * (cut at a character). */
static json_t *clean_str(const char *s, size_t max)
{
	char *c = ht_pw_strip_ansi(s ? s : "");
	size_t n = strlen(c);
	json_t *v;

	if (n > max) {
		n = max;
		while (n && ((unsigned char)c[n] & 0xc0) == 0x80)
			n--;
		c[n] = '\0';
	}
	ht_utf8_clean(c, n, 0);
	v = json_string(c);
	free(c);
	return v ? v : json_string("");
}

/* One test the invocation asked for. */
struct pwcase {
	const char *line;
	json_t *spec, *test;  /* borrowed from the report, or NULL */
	const char *status;
	const char *outcome;
	char *message;
	int64_t duration_ms;
	json_t *errors, *tries, *attachments; /* owned */
	struct ht_buf text;   /* errors and output, for output_tail */
	int not_run;          /* in a batch: the deadline came before it ran */
};

static const char *map_status(const char *s)
{
	if (!strcmp(s, "passed"))
		return "passed";
	if (!strcmp(s, "failed"))
		return "failed";
	if (!strcmp(s, "timedOut"))
		return "timed_out";
	if (!strcmp(s, "skipped"))
		return "skipped";
	if (!strcmp(s, "interrupted"))
		return "interrupted";
	return "error";
}

/* The first line of an error's message without colours: new string. */
static char *first_message(json_t *err)
{
	char *c = ht_pw_strip_ansi(ht_json_str(err, "message", ht_json_str(err, "value", "")));
	char *m = ht_oneline(c, strlen(c), HT_OUTCOME_MAX_FIELD);

	free(c);
	return m;
}

/* The description of the first annotation of type (skip, fixme, fail), or
 * NULL. Borrowed. */
static const char *annotation(json_t *test, json_t *result, const char *type)
{
	json_t *lists[2] = { json_object_get(result, "annotations"), json_object_get(test, "annotations") }, *a;
	size_t i, k;

	for (k = 0; k < 2; k++)
		json_array_foreach(lists[k], i, a)
			if (!strcmp(ht_json_str(a, "type", ""), type))
				return ht_json_str(a, "description", "");
	return NULL;
}

/* Gathers the tries, errors, attachments and output of c's results. */
static void gather(struct pwcase *c, const char *out_dir, const char *prefix)
{
	json_t *results = json_object_get(c->test, "results"), *r, *e, *a, *o;
	size_t i, k, od = strlen(out_dir);

	c->errors = json_array();
	c->tries = json_array();
	c->attachments = json_array();
	ht_buf_add(&c->text, "", 0);
	json_array_foreach(results, i, r) {
		json_t *t = json_object();
		const char *st = ht_json_str(r, "status", "");
		long long try = ht_json_int(r, "retry", (long long)i) + 1;
		json_t *errs = json_object_get(r, "errors");

		/* "error" is the first of "errors" with its stack and snippet
		 * apart; "errors" have the message with both in it. */
		if (json_object_get(r, "error")) {
			json_t *rest = errs;

			errs = json_pack("[O]", json_object_get(r, "error"));
			for (k = 1; k < json_array_size(rest); k++)
				json_array_append(errs, json_array_get(rest, k));
		} else {
			json_incref(errs);
		}
		ht_json_set_int(t, "try", try);
		ht_json_set_str(t, "status", map_status(st));
		ht_json_set_int(t, "duration_ms", ht_json_int(r, "duration", 0));
		c->duration_ms += ht_json_int(r, "duration", 0);
		json_array_foreach(errs, k, e) {
			char *m = first_message(e);
			json_t *loc = json_object_get(e, "location"), *x;

			if (k == 0)
				ht_json_set_str(t, "message", m);
			free(m);
			if (json_array_size(c->errors) < MAX_ERRORS) {
				x = json_object();
				ht_json_set_int(x, "try", try);
				json_object_set_new(x, "message", clean_str(ht_json_str(e, "message", ht_json_str(e, "value", "")), ERR_FIELD_MAX));
				if (json_object_get(e, "stack"))
					json_object_set_new(x, "stack", clean_str(ht_json_str(e, "stack", ""), ERR_FIELD_MAX));
				if (json_object_get(e, "snippet"))
					json_object_set_new(x, "snippet", clean_str(ht_json_str(e, "snippet", ""), ERR_FIELD_MAX));
				if (loc) {
					char *l = ht_xasprintf("%s:%lld:%lld", ht_json_str(loc, "file", ""),
							       ht_json_int(loc, "line", 0), ht_json_int(loc, "column", 0));

					json_object_set_new(x, "location", clean_str(l, ERR_FIELD_MAX));
					free(l);
				}
				json_array_append_new(c->errors, x);
			}
			{
				char *txt = ht_pw_strip_ansi(ht_json_str(e, "stack", ht_json_str(e, "message", "")));

				ht_buf_addf(&c->text, "try %lld: %s\n", try, txt);
				free(txt);
				txt = ht_pw_strip_ansi(ht_json_str(e, "snippet", ""));
				if (*txt)
					ht_buf_addf(&c->text, "%s\n", txt);
				free(txt);
			}
		}
		json_decref(errs);
		json_array_append_new(c->tries, t);
		json_array_foreach(json_object_get(r, "stdout"), k, o)
			ht_buf_addstr(&c->text, ht_json_str(o, "text", ""));
		json_array_foreach(json_object_get(r, "stderr"), k, o)
			ht_buf_addstr(&c->text, ht_json_str(o, "text", ""));
		json_array_foreach(json_object_get(r, "attachments"), k, a) {
			const char *path = ht_json_str(a, "path", NULL);
			json_t *x;
			char *key;

			/* Only files in the output directory reach the bucket. */
			if (!path || strncmp(path, out_dir, od) || path[od] != '/' || access(path, F_OK) < 0 ||
			    json_array_size(c->attachments) >= MAX_ATTACHMENTS)
				continue;
			key = ht_xasprintf("%sout/%s", prefix, path + od + 1);
			x = json_object();
			json_object_set_new(x, "name", clean_str(ht_json_str(a, "name", ""), 200));
			ht_json_set_str(x, "content_type", ht_json_str(a, "contentType", "application/octet-stream"));
			json_object_set_new(x, "key", clean_str(key, 1024));
			ht_json_set_int(x, "try", try);
			json_array_append_new(c->attachments, x);
			free(key);
		}
	}
}

/* Judges c from its test in the report (Playwright's verdict over its
 * tries); a try that timed out or was interrupted last is never a pass, and
 * neither is a test that hypertest's deadline stopped before it ran (the
 * report says "skipped" of a test that did not run, with no skip of its
 * own to say why). */
static void judge_case(struct pwcase *c, int timed_out, int64_t limit_ms, int batch)
{
	json_t *results = json_object_get(c->test, "results");
	json_t *last = json_array_get(results, json_array_size(results) ? json_array_size(results) - 1 : 0);
	const char *verdict = ht_json_str(c->test, "status", ""), *expected = ht_json_str(c->test, "expectedStatus", "passed");
	const char *st = ht_json_str(last, "status", "skipped"), *why;
	json_t *e0 = NULL, *t;
	size_t i;

	/* The first error of the last try that has one. */
	json_array_foreach(c->tries, i, t)
		if (json_object_get(t, "message") && strcmp(ht_json_str(t, "status", ""), "passed"))
			e0 = t;
	if (timed_out && (!last || !json_array_size(results) || !strcmp(st, "skipped")) &&
	    !annotation(c->test, last, "skip") && !annotation(c->test, last, "fixme")) {
		/* In a batch another test had the time: this one is run again. */
		c->status = batch ? "error" : "timed_out";
		c->not_run = batch;
		c->message = ht_xasprintf(batch ? "not run: the batch's deadline (%.1f s) came before playwright ran it"
						: "timed out after %.1f s, before playwright ran it",
					  (double)limit_ms / 1000.0);
	} else if (!last || !json_array_size(results)) {
		why = annotation(c->test, NULL, "skip");
		if (!why)
			why = annotation(c->test, NULL, "fixme");
		c->status = "skipped";
		c->message = ht_xasprintf("skipped%s%s", why && *why ? ": " : "", why ? why : "");
	} else if (!strcmp(st, "timedOut") || !strcmp(st, "interrupted")) {
		/* Interrupted by hypertest's deadline (SIGINT) is timed out. */
		c->status = !strcmp(st, "interrupted") && timed_out ? "timed_out" : map_status(st);
		c->message = ht_xstrdup(e0 ? ht_json_str(e0, "message", st) : st);
	} else if (!strcmp(verdict, "flaky")) {
		c->status = "flaky";
		c->message = ht_xasprintf("passed on try %zu of %zu after failing: %s", json_array_size(results),
					  json_array_size(results), e0 ? ht_json_str(e0, "message", "") : "");
	} else if (!strcmp(verdict, "skipped") || !strcmp(st, "skipped")) {
		why = annotation(c->test, last, "skip");
		if (!why)
			why = annotation(c->test, last, "fixme");
		c->status = "skipped";
		c->message = ht_xasprintf("skipped%s%s", why && *why ? ": " : "", why ? why : "");
	} else if (!strcmp(verdict, "expected") && !strcmp(st, "passed")) {
		c->status = "passed";
		c->message = ht_xstrdup("passed");
	} else if (!strcmp(verdict, "expected") && !strcmp(expected, "failed") && !strcmp(st, "failed")) {
		why = annotation(c->test, last, "fail");
		c->status = "passed";
		c->outcome = "xfailed";
		c->message = ht_xasprintf("failed as expected (test.fail())%s%s", why && *why ? ": " : "", why ? why : "");
	} else if (!strcmp(st, "passed") && !strcmp(expected, "failed")) {
		c->status = "failed";
		c->outcome = "xpassed";
		c->message = ht_xstrdup("expected to fail (test.fail()), but passed");
	} else {
		c->status = "failed";
		c->message = ht_xstrdup(e0 ? ht_json_str(e0, "message", "failed") : "failed");
	}
}

/* Finds, for each case, its test in the report's suite s; titles are the
 * describes above. */
static void match_suite(struct pwcase *cs, size_t n, json_t *s, json_t *titles, int top)
{
	json_t *sp, *t, *sub;
	size_t i, k, q;

	if (!top)
		json_array_append_new(titles, json_string(ht_json_str(s, "title", "")));
	json_array_foreach(json_object_get(s, "specs"), i, sp) {
		json_array_append_new(titles, json_string(ht_json_str(sp, "title", "")));
		json_array_foreach(json_object_get(sp, "tests"), k, t) {
			char *line = ht_pw_test_line(ht_json_str(t, "projectName", ""), ht_json_str(sp, "file", ""), titles);

			for (q = 0; q < n; q++) {
				if (!cs[q].test && !strcmp(cs[q].line, line)) {
					cs[q].spec = sp;
					cs[q].test = t;
					break;
				}
			}
			free(line);
		}
		json_array_remove(titles, json_array_size(titles) - 1);
	}
	json_array_foreach(json_object_get(s, "suites"), i, sub)
		match_suite(cs, n, sub, titles, 0);
	if (!top)
		json_array_remove(titles, json_array_size(titles) - 1);
}

/* The last line of the file at path that is not empty, without ANSI
 * escapes: new string, "" when none. */
static char *last_line(const char *path)
{
	char *l = ht_runner_last_line(path), *clean = ht_pw_strip_ansi(l ? l : "");

	free(l);
	return clean;
}

/* A new JSON string: the last CASE_TAIL_MAX bytes of b. */
static json_t *tail_of(struct ht_buf *b)
{
	size_t from = b->len > CASE_TAIL_MAX ? b->len - CASE_TAIL_MAX : 0;
	json_t *v;

	while (from && from < b->len && ((unsigned char)b->data[from] & 0xc0) == 0x80)
		from++;
	ht_utf8_clean(b->data + from, b->len - from, 0);
	v = json_string(b->data + from);
	return v ? v : json_string("");
}

void ht_pw_judge(json_t *run, const char *report_path, const char *out_dir, const char *prefix,
		 const char *stderr_path, const char *how, int timed_out, int stopped, int64_t limit_ms,
		 struct ht_run_result *res)
{
	static const char *const order[] = { "failed", "error", "timed_out", "flaky", "passed", "skipped", "interrupted" };
	json_t *tests = json_object_get(run, "tests"), *rep = NULL, *s, *titles = json_array();
	size_t n = json_array_size(tests), i, k, counts[7] = { 0 };
	struct pwcase *cs = ht_xcalloc(n, sizeof(*cs));
	char *text = NULL, err[200] = "";
	size_t len = 0;
	int group = json_is_true(json_object_get(run, "group"));

	if (ht_read_file(report_path, REPORT_MAX, &text, &len) == 0) {
		json_error_t je;

		rep = json_loadb(text, len, 0, &je);
		if (!rep)
			snprintf(err, sizeof(err), "not JSON: %s", je.text);
	} else {
		snprintf(err, sizeof(err), "%s", strerror(errno));
	}
	free(text);
	for (i = 0; i < n; i++) {
		cs[i].line = json_string_value(json_array_get(tests, i));
		ht_buf_init(&cs[i].text, 0);
	}
	json_array_foreach(json_object_get(rep, "suites"), k, s)
		match_suite(cs, n, s, titles, 1);
	json_decref(titles);
	for (i = 0; i < n; i++) {
		struct pwcase *c = &cs[i];

		if (c->test) {
			gather(c, out_dir, prefix);
			judge_case(c, timed_out, limit_ms, json_is_true(json_object_get(run, "batch")));
		} else if (stopped) {
			c->status = "interrupted";
			c->message = ht_xstrdup("interrupted: the runner was told to stop");
		} else if (timed_out) {
			c->status = "timed_out";
			c->message = ht_xasprintf("timed out after %.1f s%s", (double)limit_ms / 1000.0,
						  n > 1 ? ", before playwright reported it" : "");
		} else {
			char *l = last_line(stderr_path);
			const char *e0 = ht_json_str(json_array_get(json_object_get(rep, "errors"), 0), "message", NULL);
			char *m0 = e0 ? ht_pw_strip_ansi(e0) : NULL;

			c->status = "error";
			if (!rep)
				c->message = ht_xasprintf("playwright %s and wrote no report (%s)%s%s", how, err,
							  *l ? ": " : "", l);
			else if (m0)
				c->message = ht_xasprintf("playwright did not run it (%s): %s", how, m0);
			else
				c->message = ht_xasprintf("playwright did not run it (%s): no test in its report is '%s'", how,
							  c->line);
			free(l);
			free(m0);
		}
		if (!c->errors)
			c->errors = json_array();
		for (k = 0; k < 7; k++)
			if (!strcmp(c->status, order[k]))
				counts[k]++;
	}
	if (n == 1 && !group) {
		res->status = cs[0].status;
		res->outcome = cs[0].outcome;
		ht_run_result_set_message(res, "%s", cs[0].message);
		res->details = json_object();
		json_object_set(res->details, "errors", cs[0].errors);
		if (cs[0].tries)
			json_object_set(res->details, "tries", cs[0].tries);
		if (cs[0].attachments)
			json_object_set(res->details, "attachments", cs[0].attachments);
	} else {
		const struct pwcase *first = NULL;
		struct ht_buf b = HT_BUF_INIT;
		json_t *atts = json_array();
		size_t used = 0;

		res->status = NULL;
		for (k = 0; k < 7; k++) {
			if (!counts[k])
				continue;
			if (!res->status)
				res->status = order[k];
			for (i = 0; !first && k < 3 && i < n; i++)
				if (!strcmp(cs[i].status, order[k]))
					first = &cs[i];
			ht_buf_addf(&b, "%s%zu %s", b.len ? ", " : "", counts[k], order[k]);
		}
		if (counts[6])
			res->status = "interrupted";
		if (!res->status)
			res->status = "error";
		if (first)
			ht_run_result_set_message(res, "%s (first: %s: %s)", b.data, first->line, first->message);
		else
			ht_run_result_set_message(res, "%s", b.data ? b.data : "");
		ht_buf_release(&b);
		res->cases = json_array();
		for (i = 0; i < n; i++) {
			json_t *o = json_object(), *a;
			char *id = ht_test_id(cs[i].line);
			char *m = ht_oneline(cs[i].message, strlen(cs[i].message),
					     used > CASES_BUDGET * 3 / 4 ? 120 : HT_OUTCOME_MAX_FIELD);

			ht_json_set_str(o, "name", cs[i].line);
			ht_json_set_str(o, "test_id", id);
			ht_json_set_str(o, "status", cs[i].status);
			if (cs[i].outcome)
				ht_json_set_str(o, "outcome", cs[i].outcome);
			ht_json_set_int(o, "duration_ms", cs[i].duration_ms);
			ht_json_set_str(o, "message", m);
			if (cs[i].not_run) {
				json_object_set_new(o, "not_run", json_true());
				json_object_set_new(o, "error", json_pack("{s:s,s:s}", "code", "not_run", "message", m));
			}
			used += strlen(cs[i].line) + strlen(id) + strlen(m) + 100;
			if (cs[i].test && strcmp(cs[i].status, "passed") && cs[i].text.len && used < CASES_BUDGET / 2) {
				json_t *tail = tail_of(&cs[i].text);

				used += json_string_length(tail) + 20;
				json_object_set_new(o, "output_tail", tail);
			}
			json_array_foreach(cs[i].attachments, k, a) {
				json_t *x = json_copy(a);

				ht_json_set_str(x, "test", cs[i].line);
				json_array_append_new(atts, x);
			}
			json_array_append_new(res->cases, o);
			free(id);
			free(m);
		}
		res->details = json_object();
		json_object_set_new(res->details, "attachments", atts);
	}
	if (!strcmp(res->status, "error") && !res->error_code)
		res->error_code = ht_xstrdup("playwright");
	for (i = 0; i < n; i++) {
		free(cs[i].message);
		json_decref(cs[i].errors);
		json_decref(cs[i].tries);
		json_decref(cs[i].attachments);
		ht_buf_release(&cs[i].text);
	}
	free(cs);
	json_decref(rep);
}
