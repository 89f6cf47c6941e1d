/*
 * ht-invoke: invoke the function once per ht.test/1 record, at most
 * `concurrency` at a time, and stream one ht.result/1 record per test as
 * each finishes. See docs/ht-invoke.md.
 *
 * Memory stays flat in the number of tests: each pending test is one
 * compact record string and a few counters; a result is written and
 * forgotten the moment it is known.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ht/ht.h"
#include "ht/bucket.h"
#include "ht/id.h"
#include "ht/process.h"
#include "ht/config.h"
#include "ht/plan.h"
#include "ht/provider.h"
#include "ht/summary.h"

static const struct ht_tool tool = {
	"ht-invoke", "[OPTIONS] [FILE]",
	"Run each ht.test/1 record of FILE (or stdin) as one invocation; write ht.result/1 records.",
	"  -j, --concurrency N   invocations in flight at most (config: concurrency)\n"
	"      --retries N       retries of a failed or timed-out test (config: retries)\n"
	"      --infra-retries N retries of an infrastructure failure (config: infra_retries)\n"
	"      --flaky-fails     a flaky test fails the run (config: flaky_fails)\n"
	"  -o, --output FILE     write the results to FILE (atomically) instead of stdout\n",
};

enum { T_PENDING, T_RUNNING, T_DONE };

/* The function's time limit is the test's timeout plus this, for the
 * runner to start the test, save its output and answer. */
#define RUNNER_SLACK_MS 2000
/* Open files one invocation in flight takes, and those the rest takes. */
#define FDS_PER_INVOCATION 2
#define FDS_RESERVE 64

struct test {
	char *rec;             /* the ht.test/1 record, compact; freed once done */
	long expected_ms;      /* -1 when unknown */
	long timeout_s;
	int attempt;           /* attempts started */
	int test_failures;     /* attempts that failed or timed out */
	int infra_failures;
	int state;
	int retry_next;        /* next in the retry queue, -1 at the end */
	json_t *attempts;      /* while it runs */
	int64_t first_dispatch_ms;
	int slot;              /* the concurrency lane of the attempt running, or -1 */
	json_t *failed_cases;  /* names of cases that failed in an earlier attempt (a set) */
	int64_t started_ms;    /* when the attempt was handed to the provider */
};

struct run {
	struct test *t;
	int n, cap;
	int *order;            /* start order: indices into t */
	int next;              /* next position in order */
	int retry_head, retry_tail;
	int running, done;
	int passed, failed, timed_out, errors, flaky, skipped, interrupted;
	int records;           /* final records written: tests, or their cases */
	int credentials;       /* tests the provider's credentials failed */
	long concurrency, retries, infra_retries;
	int flaky_fails;
	FILE *out;
	int write_failed;
	int64_t start_ms, start_wall_ms;
	struct ht_buf problems;  /* summary lines of tests that did not pass */
	int nproblems;
	int progress;          /* draw a progress line on stderr */
	int64_t last_draw_ms;
	const struct ht_provider_ops *ops;
	struct ht_provider *prov;
	/* The run summary, written as results come (include/ht/summary.h). */
	struct ht_summary sum;
	char *run_id;            /* of the first test; NULL: no summary */
	/* The run's timeline: a lane per concurrency slot (slot_busy), and
	 * the sum of the tests' own times. */
	unsigned char *slot_busy;
	int64_t test_ms;
	char *bucket_where;      /* "<bucket>/<run_id>/": the artifacts, for people */
	int stream_failures;     /* stderr is no terminal: a line per failure as it comes */
	json_t *about;           /* what ran the tests (ops->about), for the summary */
	const char *output;      /* -o FILE, or NULL for stdout */
};

/* --- reading the plan ---------------------------------------------------------- */

/* Takes one checked record of the plan (ht_plan_read()). */
static int add_test(json_t *rec, const char *where, long timeout_s, void *ud)
{
	struct run *r = ud;
	struct test *t;

	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 256;
		r->t = ht_xrealloc(r->t, sizeof(*r->t) * (size_t)r->cap);
	}
	t = &r->t[r->n];
	memset(t, 0, sizeof(*t));
	t->rec = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!t->rec)
		return ht_error("%s: cannot encode the record", where);
	r->n++;
	t->expected_ms = json_is_integer(json_object_get(rec, "expected_ms")) ?
		(long)json_integer_value(json_object_get(rec, "expected_ms")) : -1;
	t->timeout_s = timeout_s;
	t->retry_next = -1;
	t->slot = -1;
	return 0;
}

/* Longest expected first; tests with no known duration before them (a new
 * test may be the longest); plan order among equals. */
static struct run *sort_run;
static int cmp_order(const void *a, const void *b)
{
	int i = *(const int *)a, j = *(const int *)b;
	long ei = sort_run->t[i].expected_ms, ej = sort_run->t[j].expected_ms;

	if (ei != ej) {
		if (ei < 0)
			return -1;
		if (ej < 0)
			return 1;
		return ei > ej ? -1 : 1;
	}
	return i < j ? -1 : 1;
}

/* --- results --------------------------------------------------------------------- */

static void progress_clear(struct run *r)
{
	if (r->progress && r->last_draw_ms)
		fputs("\r\033[K", stderr);
}

static void format_secs(int64_t ms, char *buf, size_t n)
{
	if (ms < 60000)
		snprintf(buf, n, "%.1fs", ms / 1000.0);
	else
		snprintf(buf, n, "%lldm%02llds", (long long)(ms / 60000), (long long)(ms / 1000 % 60));
}

static void progress_draw(struct run *r, int force)
{
	int64_t now = ht_now_ms();
	char el[32], left[32] = "?";

	if (!r->progress || (!force && now - r->last_draw_ms < 200))
		return;
	r->last_draw_ms = now;
	format_secs(now - r->start_ms, el, sizeof(el));
	if (r->done > 0)
		format_secs((now - r->start_ms) * (r->n - r->done) / r->done, left, sizeof(left));
	fprintf(stderr, "\r\033[K[%d/%d] %d passed, %d failed, %d running, %s elapsed, ~%s left",
		r->done, r->n, r->passed + r->flaky + r->skipped, r->failed + r->timed_out + r->errors,
		r->running, el, left);
	fflush(stderr);
}

static void set_time(json_t *rec, const char *key, int64_t wall_ms)
{
	char buf[32];

	ht_format_time(wall_ms, buf);
	ht_json_set_str(rec, key, buf);
}

/* Copies the test's identity into rec where rec lacks it. */
static void copy_identity(json_t *rec, json_t *test)
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
static json_t *make_result(json_t *test, const char *status, const char *code, const char *msg)
{
	json_t *rec = ht_record_new("ht.result/1");

	copy_identity(rec, test);
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

/* Writes one final record (borrowed): counted, told to a person when it
 * did not pass, on stdout, in the summary. */
static void write_final(struct run *r, json_t *rec)
{
	const char *status = ht_json_str(rec, "status", "error");
	int ok = count_status(r, rec);

	if ((!ok || !strcmp(status, "flaky")) && strcmp(status, "interrupted")) {
		const char *name = ht_json_str(rec, "name", ht_json_str(rec, "test_id", "?"));
		const char *tid = ht_json_str(rec, "group_test_id", ht_json_str(rec, "test_id", NULL));
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
	progress_clear(r);
	if (ht_record_write(r->out, rec, 1) < 0 && !r->write_failed) {
		r->write_failed = 1;
		ht_error("cannot write a result: %s", strerror(errno));
	}
	ht_summary_add(&r->sum, rec);
	r->last_draw_ms = r->progress ? 1 : 0;
}

/*
 * The final records of an invocation that ran several tests (its answer
 * has `cases`, docs/records.md): one per case, the invocation's record
 * with the case's identity and outcome, the group named, `cases` gone.
 * A case that failed in an earlier attempt and passed now is flaky.
 */
static void write_cases(struct run *r, struct test *t, json_t *rec, json_t *cases)
{
	size_t k;
	json_t *c;

	json_array_foreach(cases, k, c) {
		json_t *one = json_deep_copy(rec);
		static const char *const from_case[] = { "test_id", "name", "status", "duration_ms", "message",
							 "output_tail", "outcome", NULL };
		int m;

		json_object_del(one, "cases");
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
		if (!strcmp(ht_json_str(one, "status", ""), "passed") && t->failed_cases &&
		    json_object_get(t->failed_cases, ht_json_str(one, "name", "")))
			ht_json_set_str(one, "status", "flaky");
		write_final(r, one);
		json_decref(one);
	}
}

/* Remembers which cases of an answer failed, for flaky ones later. */
static void note_failed_cases(struct test *t, json_t *res)
{
	json_t *cases = json_object_get(res, "cases"), *c;
	size_t k;

	json_array_foreach(cases, k, c) {
		const char *st = ht_json_str(c, "status", "");

		if (strcmp(st, "failed") && strcmp(st, "timed_out") && strcmp(st, "error"))
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
static void emit(struct run *r, int i, json_t *rec, const struct ht_completion *c)
{
	struct test *t = &r->t[i];
	json_t *cases = json_object_get(rec, "cases");

	ht_json_set_int(rec, "attempt", t->attempt > 0 ? t->attempt : 1);
	json_object_set_new(rec, "attempts", t->attempts ? t->attempts : json_array());
	t->attempts = NULL;
	if (t->first_dispatch_ms)
		ht_json_set_int(rec, "queue_ms", t->first_dispatch_ms - r->start_ms);
	if (c && c->dispatched_ms) {
		set_time(rec, "dispatched_at", r->start_wall_ms + (c->dispatched_ms - r->start_ms));
		ht_json_set_int(rec, "invoke_ms", c->finished_ms - c->dispatched_ms);
	}
	if (json_is_array(cases) && json_array_size(cases) > 0)
		write_cases(r, t, rec, cases);
	else
		write_final(r, rec);
	json_decref(rec);
	json_decref(t->failed_cases);
	t->failed_cases = NULL;
	free(t->rec);
	t->rec = NULL;
	t->state = T_DONE;
	r->done++;
	progress_draw(r, 1);
}

/* Wall-clock milliseconds of a time on ht_now_ms()'s clock. */
static int64_t wall_of(const struct run *r, int64_t mono_ms)
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
static void add_attempt(struct run *r, struct test *t, const char *status, int64_t duration_ms, const char *msg,
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
		ht_json_set_int(a, "dispatch_ms", wall_of(r, dispatch));
	if (start > 0) {
		ht_json_set_int(a, "start_ms", start);
		ht_json_set_int(a, "end_ms", start + duration_ms);
	}
	if (c && c->finished_ms)
		ht_json_set_int(a, "answer_ms", wall_of(r, c->finished_ms));
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
static void set_retry_reason(struct test *t, const char *fmt, ...) HT_PRINTF(2, 3);
static void set_retry_reason(struct test *t, const char *fmt, ...)
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

/* Takes the lowest free slot for t, or gives its slot back (slot < 0). */
static void slot_take(struct run *r, struct test *t)
{
	long k;

	t->slot = -1;
	for (k = 0; r->slot_busy && k < r->concurrency; k++) {
		if (!r->slot_busy[k]) {
			r->slot_busy[k] = 1;
			t->slot = (int)k;
			return;
		}
	}
}

static void slot_give(struct run *r, struct test *t)
{
	if (t->slot >= 0 && r->slot_busy && t->slot < r->concurrency)
		r->slot_busy[t->slot] = 0;
}

static void retry_push(struct run *r, int i)
{
	r->t[i].retry_next = -1;
	r->t[i].state = T_PENDING;
	if (r->retry_tail >= 0)
		r->t[r->retry_tail].retry_next = i;
	else
		r->retry_head = i;
	r->retry_tail = i;
}

/* Starts the next attempt of test i. Returns 0, or -1 when the provider
 * refused it (it then has an error result). */
static int start(struct run *r, int i)
{
	struct test *t = &r->t[i];
	json_t *rec = json_loads(t->rec, 0, NULL);
	char *payload;
	int rc;

	if (!rec) {
		emit(r, i, make_result(NULL, "error", "internal", "cannot decode the test record"), NULL);
		return -1;
	}
	t->attempt++;
	t->started_ms = ht_now_ms();
	slot_take(r, t);
	ht_json_set_int(rec, "attempt", t->attempt);
	payload = ht_json_xdumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (r->ops->max_payload && strlen(payload) > r->ops->max_payload) {
		char msg[200];

		/* Nothing is sent, and trying again cannot help. */
		snprintf(msg, sizeof(msg), "the event is %zu bytes, over the %s provider's limit of %zu bytes; "
			 "it was not sent", strlen(payload), r->ops->name, r->ops->max_payload);
		ht_error("%s: %s", ht_json_str(rec, "name", "?"), msg);
		add_attempt(r, t, "error", 0, msg, 0, NULL, NULL);
		slot_give(r, t);
		emit(r, i, make_result(rec, "error", "payload_too_large", msg), NULL);
		free(payload);
		json_decref(rec);
		return -1;
	}
	rc = r->ops->invoke(r->prov, payload, strlen(payload), (int64_t)t->timeout_s * 1000 + RUNNER_SLACK_MS, t);
	free(payload);
	if (rc < 0) {
		add_attempt(r, t, "error", 0, "the provider could not start the invocation", 1, NULL, NULL);
		slot_give(r, t);
		emit(r, i, make_result(rec, "error", "infra", "the provider could not start the invocation"), NULL);
		json_decref(rec);
		return -1;
	}
	json_decref(rec);
	t->state = T_RUNNING;
	r->running++;
	return 0;
}

static int is_status(const char *s)
{
	static const char *const st[] = { "passed", "failed", "skipped", "timed_out", "error", NULL };
	int i;

	for (i = 0; s && st[i]; i++)
		if (!strcmp(s, st[i]))
			return 1;
	return 0;
}

/* Takes one finished invocation: retry it, or write its final result. */
static void complete(struct run *r, struct ht_completion *c)
{
	struct test *t = c->user;
	int i = (int)(t - r->t);
	json_t *test = json_loads(t->rec, 0, NULL);
	json_t *res = NULL;
	const char *status, *why = c->message;
	char msg[300];

	r->running--;
	slot_give(r, t);
	if (!t->first_dispatch_ms)
		t->first_dispatch_ms = c->dispatched_ms;
	if (c->status == HT_INVOKE_CANCELLED) {
		json_decref(test);
		return;
	}
	if (c->status == HT_INVOKE_CREDENTIALS) {
		/* Not the test's fault, and no retry can help. */
		add_attempt(r, t, "error", 0, why, 0, c, NULL);
		emit(r, i, make_result(test, "error", "credentials", why), c);
		r->credentials++;
		json_decref(test);
		return;
	}
	if (c->status == HT_INVOKE_OK) {
		res = json_loadb(c->body ? c->body : "", c->body_len, 0, NULL);
		if (!json_is_object(res) || ht_record_check_schema(res, "ht.result/1", "the runner's answer") < 0 ||
		    !is_status(ht_json_str(res, "status", NULL))) {
			why = "the runner's answer is not an ht.result/1 record";
			json_decref(res);
			res = NULL;
		}
	}
	if (!res) {
		/* An infrastructure failure: never the test's fault. */
		add_attempt(r, t, "error", c->finished_ms - (c->dispatched_ms ? c->dispatched_ms : c->finished_ms),
			    why, 1, c, NULL);
		if (t->infra_failures < r->infra_retries && !ht_stop_signal) {
			t->infra_failures++;
			set_retry_reason(t, "infrastructure: %s (retry %d of %ld)", why, t->infra_failures,
					 r->infra_retries);
			ht_info("%s: %s; trying again", ht_json_str(test, "name", "?"), why);
			retry_push(r, i);
		} else {
			json_t *rec;

			snprintf(msg, sizeof(msg), "%s%s", why,
				 t->infra_failures ? " (after all infrastructure retries)" : "");
			rec = make_result(test, "error", "infra", msg);
			if (c->log_tail)
				ht_json_set_str(rec, "log_tail", c->log_tail);
			emit(r, i, rec, c);
		}
		json_decref(test);
		return;
	}
	status = ht_json_str(res, "status", "error");
	add_attempt(r, t, status, ht_json_int(res, "duration_ms", 0), ht_json_str(res, "message", ""), 0, c, res);
	if ((!strcmp(status, "failed") || !strcmp(status, "timed_out")) &&
	    t->test_failures < r->retries && !ht_stop_signal) {
		t->test_failures++;
		note_failed_cases(t, res);
		set_retry_reason(t, "%s (retry %d of %ld)", !strcmp(status, "failed") ? "failed" : "timed out",
				 t->test_failures, r->retries);
		retry_push(r, i);
		json_decref(res);
		json_decref(test);
		return;
	}
	if (!strcmp(status, "passed") && t->test_failures > 0)
		ht_json_set_str(res, "status", "flaky");
	if (c->log_tail && !json_object_get(res, "log_tail"))
		ht_json_set_str(res, "log_tail", c->log_tail);
	copy_identity(res, test);
	emit(r, i, res, c);
	json_decref(test);
}

/* After SIGINT or SIGTERM: every test without a result gets one. */
static void write_interrupted(struct run *r)
{
	int i;

	for (i = 0; i < r->n; i++) {
		struct test *t = &r->t[i];
		json_t *test;

		if (t->state == T_DONE)
			continue;
		test = json_loads(t->rec, 0, NULL);
		if (t->attempts || t->state == T_RUNNING)
			add_attempt(r, t, "interrupted", 0, "the run was interrupted", 0, NULL, NULL);
		emit(r, i, make_result(test, "interrupted", NULL, t->attempt ?
				       "the run was interrupted before the test finished" :
				       "the run was interrupted before the test started"), NULL);
		json_decref(test);
	}
}

static void summary(struct run *r)
{
	char el[32];
	struct ht_buf b = HT_BUF_INIT;

	progress_clear(r);
	r->progress = 0;
	if (ht_verbosity < 0)
		return;
	format_secs(ht_now_ms() - r->start_ms, el, sizeof(el));
	ht_buf_addf(&b, "%d test%s in %s: %d passed", r->records, r->records == 1 ? "" : "s", el, r->passed);
	if (r->failed)
		ht_buf_addf(&b, ", %d failed", r->failed);
	if (r->timed_out)
		ht_buf_addf(&b, ", %d timed out", r->timed_out);
	if (r->errors)
		ht_buf_addf(&b, ", %d errors", r->errors);
	if (r->flaky)
		ht_buf_addf(&b, ", %d flaky", r->flaky);
	if (r->skipped)
		ht_buf_addf(&b, ", %d skipped", r->skipped);
	if (r->interrupted)
		ht_buf_addf(&b, ", %d interrupted", r->interrupted);
	fprintf(stderr, "%s\n", b.data);
	if (r->problems.len)
		fputs(r->problems.data, stderr);
	if (r->nproblems > 30)
		fprintf(stderr, "  ... and %d more\n", r->nproblems - 30);
	ht_buf_release(&b);
}

/* --- the run summary ------------------------------------------------------------- */

/* The run summary (include/ht/summary.h) of the plan's run id, and where
 * its artifacts are in the provider's bucket. */
static void summary_open(struct run *r, const struct ht_config *cfg)
{
	json_t *test = r->n ? json_loads(r->t[0].rec, 0, NULL) : NULL;
	const char *run_id = ht_json_str(test, "run_id", NULL);
	struct ht_bucket b;

	if (!run_id || !ht_id_safe(run_id)) {
		if (run_id)
			ht_warning("run_id '%s' cannot name a directory in the bucket: no run summary", run_id);
		json_decref(test);
		return;
	}
	r->run_id = ht_xstrdup(run_id);
	json_decref(test);
	/* Opening makes no request: this only names the place. */
	if (r->ops->bucket && r->ops->bucket(cfg, &b) == 0) {
		char *w = ht_bucket_where(&b, r->run_id);

		r->bucket_where = ht_xasprintf("%s/", w);
		free(w);
	}
	ht_bucket_release(&b);
	ht_summary_open(&r->sum, r->run_id, r->ops->name, r->start_wall_ms);
}

/* Ends the summary and stores it in the provider's bucket. A summary
 * that cannot be stored is a warning: the exit code stays what the
 * results say, as the records on stdout are what matters. */
static void summary_close(struct run *r, const struct ht_config *cfg)
{
	struct ht_summary_totals t = {
		.total = r->records, .passed = r->passed, .failed = r->failed, .timed_out = r->timed_out,
		.errors = r->errors, .flaky = r->flaky, .skipped = r->skipped, .interrupted = r->interrupted,
		.ok = !(r->failed || r->timed_out || r->errors || r->interrupted || (r->flaky && r->flaky_fails)),
		.test_ms = r->test_ms, .concurrency = r->concurrency, .retries = r->retries,
		.infra_retries = r->infra_retries, .flaky_fails = r->flaky_fails,
	};
	struct ht_bucket b;
	int opened = 0, have = 0;

	if (!r->run_id)
		return;
	t.about = r->about;
	if (r->sum.fp && r->ops->bucket) {
		opened = 1;
		have = r->ops->bucket(cfg, &b) == 0;
	}
	ht_summary_close(&r->sum, r->run_id, &t, have ? &b : NULL);
	if (opened)
		ht_bucket_release(&b); /* in both cases, as ops->bucket asks */
}

/* The last lines for a person: where the results, the artifacts and the
 * report are. */
static void where_lines(const struct run *r)
{
	if (ht_verbosity < 0 || !r->n)
		return;
	if (r->output)
		fprintf(stderr, "results: %s\n", r->output);
	if (r->bucket_where)
		fprintf(stderr, "artifacts: %s\n", r->bucket_where);
	if (r->sum.stored)
		fprintf(stderr, "report: ht-report --run %s (--html FILE, --junit FILE)\n", r->run_id);
	else if (r->output)
		fprintf(stderr, "report: ht-report %s (--html FILE, --junit FILE)\n", r->output);
}

/* --- main ------------------------------------------------------------------------ */

static long parse_num(const char *opt, const char *arg, long min, long max)
{
	long v;

	if (ht_parse_long(arg, min, max, &v) < 0)
		ht_usage_error(&tool, "%s: expected a number from %ld to %ld, got '%s'", opt, min, max, arg);
	return v;
}

enum { OPT_RETRIES = 0x2000, OPT_INFRA_RETRIES, OPT_FLAKY_FAILS };

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		HT_COMMON_LONGOPTS,
		{ "concurrency", required_argument, 0, 'j' },
		{ "retries", required_argument, 0, OPT_RETRIES },
		{ "infra-retries", required_argument, 0, OPT_INFRA_RETRIES },
		{ "flaky-fails", no_argument, 0, OPT_FLAKY_FAILS },
		{ "output", required_argument, 0, 'o' },
		{ 0, 0, 0, 0 }
	};
	struct ht_config cfg;
	struct run r;
	struct ht_provider_opts popts = { 0, NULL };
	struct ht_atomic_file af;
	const char *in_name = "stdin", *output = NULL;
	long j = 0, retries = -1, infra_retries = -1;
	int flaky_fails = -1, c, code, i, use_af = 0;
	FILE *in = stdin;

	ht_diag_init(argv[0]);
	while ((c = getopt_long(argc, argv, HT_COMMON_SHORTOPTS "j:o:", longopts, NULL)) != -1) {
		if (ht_cli_common(&tool, c, optarg))
			continue;
		switch (c) {
		case 'j':
			/* The configuration's limit: -j is concurrency. */
			j = parse_num("--concurrency", optarg, 1, ht_config_key_find("concurrency")->max);
			break;
		case OPT_RETRIES:
			retries = parse_num("--retries", optarg, 0, 100);
			break;
		case OPT_INFRA_RETRIES:
			infra_retries = parse_num("--infra-retries", optarg, 0, 100);
			break;
		case OPT_FLAKY_FAILS:
			flaky_fails = 1;
			break;
		case 'o':
			output = optarg;
			break;
		default:
			ht_usage_error(&tool, "unknown option");
		}
	}
	if (argc - optind > 1)
		ht_usage_error(&tool, "too many arguments");
	if (ht_config_load(&cfg, ht_cli.config_path, ht_cli.sets) < 0)
		return HT_EXIT_CONFIG;

	memset(&r, 0, sizeof(r));
	r.retry_head = r.retry_tail = -1;
	ht_buf_init(&r.problems, 0);
	r.concurrency = j ? j : cfg.concurrency;
	r.retries = retries >= 0 ? retries : cfg.retries;
	r.infra_retries = infra_retries >= 0 ? infra_retries : cfg.infra_retries;
	r.flaky_fails = flaky_fails >= 0 ? flaky_fails : cfg.flaky_fails;
	if (r.concurrency <= 0)
		r.concurrency = 1;
	{
		/* An invocation in flight holds a connection or a sandbox: about
		 * FDS_PER_INVOCATION descriptors, beyond what the process needs. */
		long lim, fit = ht_nofile_fit(r.concurrency, FDS_PER_INVOCATION, FDS_RESERVE, &lim);

		if (fit < r.concurrency) {
			ht_warning("concurrency %ld needs about %ld open files, over the limit of %ld (ulimit -n): "
				   "running %ld at a time", r.concurrency,
				   r.concurrency * FDS_PER_INVOCATION + FDS_RESERVE, lim, fit);
			r.concurrency = fit;
		}
	}

	if (optind < argc && strcmp(argv[optind], "-")) {
		in_name = argv[optind];
		in = fopen(in_name, "r");
		if (!in) {
			ht_error("cannot open '%s': %s", in_name, strerror(errno));
			ht_config_release(&cfg);
			return HT_EXIT_NOINPUT;
		}
	}
	code = ht_plan_read(in, in_name, cfg.timeout_s > 0 ? cfg.timeout_s : 300, add_test, &r);
	if (in != stdin)
		fclose(in);
	if (code)
		goto out;

	r.ops = ht_provider_find(cfg.provider ? cfg.provider : "local");
	if (!r.ops) {
		ht_error("provider '%s' is not built in (built in: %s)", cfg.provider, ht_provider_names());
		code = HT_EXIT_CONFIG;
		goto out;
	}
	if (r.n > 0) {
		popts.concurrency = r.concurrency < r.n ? r.concurrency : r.n;
		if (r.ops->open(&r.prov, &cfg, &popts, &code) < 0)
			goto out;
		if (r.ops->about) {
			r.about = json_object();
			r.ops->about(r.prov, r.about);
		}
	}

	if (output) {
		if (ht_atomic_open(&af, output, 0644) < 0) {
			code = HT_EXIT_IOERR;
			goto out;
		}
		use_af = 1;
		r.out = af.fp;
	} else {
		r.out = stdout;
	}
	ht_stop_install();

	r.order = ht_xmalloc(sizeof(*r.order) * (size_t)(r.n ? r.n : 1));
	for (i = 0; i < r.n; i++)
		r.order[i] = i;
	sort_run = &r;
	qsort(r.order, (size_t)r.n, sizeof(*r.order), cmp_order);
	r.progress = isatty(2) && ht_verbosity >= 0;
	r.stream_failures = !isatty(2);
	r.output = output;
	r.slot_busy = ht_xcalloc((size_t)r.concurrency, 1);
	r.start_ms = ht_now_ms();
	r.start_wall_ms = ht_wall_ms();
	if (r.n > 0)
		summary_open(&r, &cfg);

	while (r.done < r.n && !ht_stop_signal) {
		struct ht_completion comp[32];
		int n, k;

		while (r.running < r.concurrency && !ht_stop_signal) {
			int next;

			if (r.retry_head >= 0) {
				next = r.retry_head;
				r.retry_head = r.t[next].retry_next;
				if (r.retry_head < 0)
					r.retry_tail = -1;
			} else if (r.next < r.n) {
				next = r.order[r.next++];
			} else {
				break;
			}
			start(&r, next);
		}
		if (r.done >= r.n)
			break;
		n = r.ops->poll(r.prov, comp, 32, 200);
		if (n < 0) {
			code = HT_EXIT_SOFTWARE;
			break;
		}
		for (k = 0; k < n; k++) {
			complete(&r, &comp[k]);
			ht_completion_release(&comp[k]);
		}
		progress_draw(&r, 0);
	}
	if (ht_stop_signal) {
		struct ht_completion comp[32];
		int n, k;

		/* What already finished is a real result. */
		while ((n = r.ops->poll(r.prov, comp, 32, 0)) > 0) {
			for (k = 0; k < n; k++) {
				complete(&r, &comp[k]);
				ht_completion_release(&comp[k]);
			}
		}
		r.ops->close(r.prov);
		r.prov = NULL;
		progress_clear(&r);
		ht_warning("interrupted by %s: %d test%s did not finish", strsignal(ht_stop_signal),
			   r.n - r.done, r.n - r.done == 1 ? "" : "s");
		write_interrupted(&r);
		code = HT_EXIT_INTERRUPTED;
	} else if (!code) {
		code = r.credentials ? HT_EXIT_NOPERM :
		       (r.failed || r.timed_out || r.errors || (r.flaky && r.flaky_fails)) ? HT_EXIT_FAILED : HT_EXIT_OK;
	}
	summary(&r);
	if (r.prov) {
		r.ops->close(r.prov);
		r.prov = NULL;
	}
	summary_close(&r, &cfg);
	where_lines(&r);
	if (use_af) {
		if (ht_atomic_commit(&af) < 0 && code != HT_EXIT_INTERRUPTED)
			code = HT_EXIT_IOERR;
		use_af = 0;
	}
	if (r.write_failed && code != HT_EXIT_INTERRUPTED)
		code = HT_EXIT_IOERR;
out:
	if (r.prov)
		r.ops->close(r.prov);
	if (use_af)
		ht_atomic_abort(&af);
	if (r.sum.path)
		summary_close(&r, &cfg);
	for (i = 0; i < r.n; i++) {
		free(r.t[i].rec);
		json_decref(r.t[i].attempts);
		json_decref(r.t[i].failed_cases);
	}
	free(r.t);
	free(r.order);
	free(r.slot_busy);
	json_decref(r.about);
	free(r.bucket_where);
	free(r.run_id);
	ht_buf_release(&r.problems);
	ht_config_release(&cfg);
	return ht_finish_stdout(code);
}
