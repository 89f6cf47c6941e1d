/*
 * ht-invoke's records: the final result of each test (one, or one per
 * case of a batch), its attempts, the records ht-invoke makes itself
 * (error, interrupted), and the progress line on a terminal. Results are
 * encoded into r->unflushed and written by inv_flush_results().
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ht/batch.h"
#include "tools/ht-invoke/invoke.h"

void inv_progress_clear(struct run *r)
{
	if (r->progress && r->last_draw_ms)
		fputs("\r\033[K", stderr);
}

void inv_format_secs(int64_t ms, char *buf, size_t n)
{
	if (ms < 60000)
		snprintf(buf, n, "%.1fs", ms / 1000.0);
	else
		snprintf(buf, n, "%lldm%02llds", (long long)(ms / 60000), (long long)(ms / 1000 % 60));
}

void inv_progress_draw(struct run *r, int force)
{
	int64_t now = ht_now_ms();
	char el[32], left[32] = "?";

	if (!r->progress || (!force && now - r->last_draw_ms < 200))
		return;
	r->last_draw_ms = now;
	inv_format_secs(now - r->start_ms, el, sizeof(el));
	if (r->done > 0)
		inv_format_secs((now - r->start_ms) * (r->n - r->done) / r->done, left, sizeof(left));
	fprintf(stderr, "\r\033[K[%d/%d] %d passed, %d failed, %d running, %s elapsed, ~%s left",
		r->done, r->n, r->passed + r->flaky + r->skipped, r->failed + r->timed_out + r->errors,
		r->running, el, left);
	fflush(stderr);
}

void inv_set_time(json_t *rec, const char *key, int64_t wall_ms)
{
	char buf[32];

	ht_format_time(wall_ms, buf);
	ht_json_set_str(rec, key, buf);
}

/* Copies the test's identity into rec where rec lacks it. */
void inv_copy_identity(json_t *rec, json_t *test)
{
	static const char *const keys[] = { "run_id", "test_id", "name", "file", NULL };
	int i;

	for (i = 0; keys[i]; i++) {
		json_t *v = json_object_get(test, keys[i]);

		if (v && !json_object_get(rec, keys[i]))
			json_object_set(rec, keys[i], v);
	}
}

/* A result record ht-invoke makes itself (error, interrupted). New reference. */
json_t *inv_make_result(json_t *test, const char *status, const char *code, const char *msg)
{
	json_t *rec = ht_record_new("ht.result/1");

	inv_copy_identity(rec, test);
	ht_json_set_str(rec, "status", status);
	json_object_set_new(rec, "ok", json_false());
	ht_json_set_int(rec, "duration_ms", 0);
	json_object_set_new(rec, "exit_code", json_null());
	json_object_set_new(rec, "signal", json_null());
	ht_json_set_str(rec, "message", msg);
	if (code) {
		json_t *err = json_object();

		ht_json_set_str(err, "code", code);
		ht_json_set_str(err, "message", msg);
		json_object_set_new(rec, "error", err);
	}
	return rec;
}

/* Counts one final record by its status and sets its ok; 1 when ok. */
static int count_status(struct run *r, json_t *rec)
{
	const char *status = ht_json_str(rec, "status", "error");
	int ok;

	if (!strcmp(status, "passed")) {
		r->passed++;
		ok = 1;
	} else if (!strcmp(status, "skipped")) {
		r->skipped++;
		ok = 1;
	} else if (!strcmp(status, "flaky")) {
		r->flaky++;
		ok = !r->flaky_fails;
	} else {
		if (!strcmp(status, "failed"))
			r->failed++;
		else if (!strcmp(status, "timed_out"))
			r->timed_out++;
		else if (!strcmp(status, "interrupted"))
			r->interrupted++;
		else
			r->errors++;
		ok = 0;
	}
	json_object_set_new(rec, "ok", json_boolean(ok));
	r->records++;
	return ok;
}

/*
 * Whether msg, the message of an infrastructure error, was said already
 * for another test (a stand-in that answers the wrong shape, an endpoint
 * that is down: the same words for every test). Counts it either way.
 */
static int repeated_error(struct run *r, const char *msg)
{
	json_t *n;

	if (!r->errors_seen)
		r->errors_seen = json_object();
	n = json_object_get(r->errors_seen, msg);
	json_object_set_new(r->errors_seen, msg, json_integer(n ? json_integer_value(n) + 1 : 1));
	return n != NULL;
}

static void write_failed(struct run *r)
{
	if (!r->write_failed) {
		r->write_failed = 1;
		ht_error("cannot write a result: %s", strerror(errno));
	}
}

/* Hands the results written since the last call on: once per round of
 * completions, not once per record (a write each), so that they still
 * stream as they come; a write a signal interrupts carries on. */
void inv_flush_results(struct run *r)
{
	if (r->unflushed.len && ht_stream_write(r->out, r->unflushed.data, r->unflushed.len) < 0)
		write_failed(r);
	ht_buf_reset(&r->unflushed);
}

/* Writes one final record (borrowed): counted, told to a person when it
 * did not pass (an error said for another test already only counted), on
 * stdout, in the summary. */
static void write_final(struct run *r, json_t *rec)
{
	const char *status = ht_json_str(rec, "status", "error");
	int ok = count_status(r, rec);
	char *text;
	size_t len;

	if (!strcmp(status, "error") && repeated_error(r, ht_json_str(rec, "message", ""))) {
		/* Said once already; the summary gives the count. */
	} else if ((!ok || !strcmp(status, "flaky")) && strcmp(status, "interrupted")) {
		const char *name = ht_json_str(rec, "name", ht_json_str(rec, "test_id", "?"));
		/* A batch member run on its own has its own output (docs/records.md). */
		const char *own = ht_json_str(rec, "test_id", NULL);
		const char *a0 = json_string_value(json_array_get(json_object_get(rec, "artifacts"), 0));
		const char *tid = own && a0 && strstr(a0, own) ? own : ht_json_str(rec, "group_test_id", own);
		char *out = r->bucket_where && tid ? ht_xasprintf("%s%s/", r->bucket_where, tid) : NULL;

		if (r->nproblems < 30) {
			ht_buf_addf(&r->problems, "  %-11s %s: %s\n", status, name, ht_json_str(rec, "message", ""));
			if (out)
				ht_buf_addf(&r->problems, "  %-11s output: %s\n", "", out);
		}
		r->nproblems++;
		/* In a CI log, a long run shows its failures as they come. */
		if (r->stream_failures && ht_verbosity >= 0)
			fprintf(stderr, "%s: %s: %s%s%s%s\n", status, name, ht_json_str(rec, "message", ""),
				out ? " (output: " : "", out ? out : "", out ? ")" : "");
		free(out);
	}
	inv_progress_clear(r);
	/* Encoded once for both; written by inv_flush_results(). */
	text = ht_json_xdumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER);
	len = strlen(text);
	if (ht_buf_add(&r->unflushed, text, len) < 0 || ht_buf_add(&r->unflushed, "\n", 1) < 0)
		write_failed(r);
	ht_summary_add_text(&r->sum, text, len);
	ht_history_run_note(&r->hist, rec);
	free(text);
	r->last_draw_ms = r->progress ? 1 : 0;
}

/*
 * The final records of an invocation that ran several tests (its answer
 * has `cases`, docs/records.md): one per case, the invocation's record
 * with the case's identity and outcome, the group named, `cases` gone.
 * A case that failed in an earlier attempt and passed now is flaky.
 */
void inv_write_cases(struct run *r, struct test *t, json_t *rec, json_t *cases)
{
	size_t k;
	json_t *c;

	json_array_foreach(cases, k, c) {
		json_t *one = json_deep_copy(rec);
		static const char *const from_case[] = { "test_id", "name", "status", "duration_ms", "message",
							 "output_tail", "outcome", "file", "exit_code", "signal",
							 "artifacts", "upload_error", "started_at", "start_ms", "tests",
							 "error", "not_run", NULL };
		int m;

		json_object_del(one, "cases");
		if (strcmp(ht_json_str(c, "status", ""), "error"))
			json_object_del(one, "error");
		json_object_del(one, "output_tail");
		json_object_del(one, "outcome");
		json_object_del(one, "tests");
		json_object_set(one, "group_test_id", json_object_get(rec, "test_id"));
		json_object_set(one, "group_name", json_object_get(rec, "name"));
		for (m = 0; from_case[m]; m++) {
			json_t *v = json_object_get(c, from_case[m]);

			if (v)
				json_object_set(one, from_case[m], v);
		}
		json_object_del(one, "member");
		if (!strcmp(ht_json_str(one, "status", ""), "passed") && t->failed_cases &&
		    json_object_get(t->failed_cases, ht_json_str(one, "name", "")))
			ht_json_set_str(one, "status", "flaky");
		write_final(r, one);
		json_decref(one);
	}
}

/* Remembers which cases of an answer failed, for flaky ones later. */
void inv_note_failed_cases(struct test *t, json_t *res)
{
	json_t *cases = json_object_get(res, "cases"), *c;
	size_t k;

	json_array_foreach(cases, k, c) {
		const char *st = ht_json_str(c, "status", "");

		if ((strcmp(st, "failed") && strcmp(st, "timed_out") && strcmp(st, "error")) ||
		    json_is_true(json_object_get(c, "not_run")))
			continue;
		if (!t->failed_cases)
			t->failed_cases = json_object();
		json_object_set_new(t->failed_cases, ht_json_str(c, "name", "?"), json_true());
	}
}

/*
 * Writes the final record(s) of test i (steals rec): one, or one per case
 * when the invocation ran several tests. Then forgets the test.
 */
void inv_emit(struct run *r, int i, json_t *rec, const struct ht_completion *c)
{
	struct test *t = &r->t[i];
	json_t *cases;

	if (t->rec && strstr(t->rec, "\"batch\":")) {
		/* A batch that ran nothing still ends in a record per test. */
		json_t *test = json_loads(t->rec, 0, NULL);

		ht_batch_fill_cases(test, rec);
		json_decref(test);
	}
	cases = json_object_get(rec, "cases");
	ht_json_set_int(rec, "attempt", t->attempt > 0 ? t->attempt : 1);
	json_object_set_new(rec, "attempts", t->attempts ? t->attempts : json_array());
	t->attempts = NULL;
	if (t->first_dispatch_ms)
		ht_json_set_int(rec, "queue_ms", t->first_dispatch_ms - r->start_ms);
	if (c && c->dispatched_ms) {
		inv_set_time(rec, "dispatched_at", r->start_wall_ms + (c->dispatched_ms - r->start_ms));
		ht_json_set_int(rec, "invoke_ms", c->finished_ms - c->dispatched_ms);
	}
	if (json_is_array(cases) && json_array_size(cases) > 0)
		inv_write_cases(r, t, rec, cases);
	else
		write_final(r, rec);
	json_decref(rec);
	json_decref(t->failed_cases);
	t->failed_cases = NULL;
	free(t->rec);
	t->rec = NULL;
	t->state = T_DONE;
	r->done++;
	inv_progress_draw(r, 1);
}

/* Wall-clock milliseconds of a time on ht_now_ms()'s clock. */
int64_t inv_wall_of(const struct run *r, int64_t mono_ms)
{
	return r->start_wall_ms + (mono_ms - r->start_ms);
}

/*
 * Records one attempt of t: its outcome, and where it sits on the run's
 * timeline: its slot, when it was dispatched and answered (c, may be
 * NULL), when the test itself started and ended and on which worker
 * (from the runner's result res, may be NULL). Times are wall-clock
 * milliseconds (docs/records.md).
 */
void inv_add_attempt(struct run *r, struct test *t, const char *status, int64_t duration_ms, const char *msg,
			int infra, const struct ht_completion *c, json_t *res)
{
	json_t *a = json_object();
	int64_t dispatch = c && c->dispatched_ms ? c->dispatched_ms : t->started_ms;
	long long start = res ? ht_json_int(res, "start_ms", 0) : 0;
	static const char *const copied[] = { "worker", "request_id", "cold", NULL };
	int k;

	ht_json_set_int(a, "attempt", t->attempt);
	ht_json_set_str(a, "status", status);
	ht_json_set_int(a, "duration_ms", duration_ms);
	ht_json_set_str(a, "message", msg ? msg : "");
	if (infra)
		json_object_set_new(a, "infra", json_true());
	if (t->slot >= 0)
		ht_json_set_int(a, "slot", t->slot);
	if (dispatch)
		ht_json_set_int(a, "dispatch_ms", inv_wall_of(r, dispatch));
	if (start > 0) {
		ht_json_set_int(a, "start_ms", start);
		ht_json_set_int(a, "end_ms", start + duration_ms);
	}
	if (c && c->finished_ms)
		ht_json_set_int(a, "answer_ms", inv_wall_of(r, c->finished_ms));
	for (k = 0; res && copied[k]; k++) {
		json_t *v = json_object_get(res, copied[k]);

		if (v)
			json_object_set(a, copied[k], v);
	}
	if (!t->attempts)
		t->attempts = json_array();
	json_array_append_new(t->attempts, a);
	r->test_ms += duration_ms > 0 ? duration_ms : 0;
}

/* Says on the last attempt of t why another one follows. */
void inv_set_retry_reason(struct test *t, const char *fmt, ...) HT_PRINTF(2, 3);
void inv_set_retry_reason(struct test *t, const char *fmt, ...)
{
	json_t *last = t->attempts ? json_array_get(t->attempts, json_array_size(t->attempts) - 1) : NULL;
	char buf[400];
	va_list ap;

	if (!last)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ht_utf8_clean(buf, strlen(buf), 0);
	ht_json_set_str(last, "retry_reason", buf);
}

/* After SIGINT or SIGTERM: every test without a result gets one. */
void inv_write_interrupted(struct run *r)
{
	int i;

	for (i = 0; i < r->n; i++) {
		struct test *t = &r->t[i];
		json_t *test;

		if (t->state == T_DONE)
			continue;
		test = json_loads(t->rec, 0, NULL);
		if (t->attempts || t->state == T_RUNNING)
			inv_add_attempt(r, t, "interrupted", 0, "the run was interrupted", 0, NULL, NULL);
		inv_emit(r, i, inv_make_result(test, "interrupted", NULL, t->attempt ?
				       "the run was interrupted before the test finished" :
				       "the run was interrupted before the test started"), NULL);
		json_decref(test);
	}
}
