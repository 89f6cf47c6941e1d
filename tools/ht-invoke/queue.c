/*
 * ht-invoke's queue: the start order, the pull queue that picks the next
 * test (a retry first, a group with room), the start of an attempt, and
 * what a finished invocation means: a retry, a smaller batch again, or
 * the test's final result.
 */
#include <stdlib.h>
#include <string.h>

#include "ht/batch.h"
#include "ht/process.h"
#include "tools/ht-invoke/invoke.h"

/* The function's time limit is the test's timeout plus this, for the
 * runner to start the test, save its output and answer. */
#define RUNNER_SLACK_MS 2000

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

/* Takes the lowest free slot for t, or gives its slot back (slot < 0). */
static void slot_take(struct run *r, struct test *t)
{
	long k;

	t->slot = -1;
	for (k = 0; r->slot_busy && k < r->concurrency; k++) {
		if (!r->slot_busy[k]) {
			r->slot_busy[k] = 1;
			t->slot = (int)k;
			break;
		}
	}
	ht_groups_take(&r->groups, t->group);
}

static void slot_give(struct run *r, struct test *t)
{
	if (t->slot >= 0 && r->slot_busy && t->slot < r->concurrency)
		r->slot_busy[t->slot] = 0;
	ht_groups_give(&r->groups, t->group);
}

/* 1 when t was never taken from the start order. */
static int fresh(const struct test *t)
{
	return t->state == T_PENDING && t->attempt == 0;
}

/*
 * The next test to start: the first retry, else the first test in start
 * order not started yet, whose group has room; -1 when none can start
 * now (a completion will make room: a group's cap is at least 1).
 */
int inv_pick_next(struct run *r)
{
	int prev = -1, i, k;

	for (i = r->retry_head; i >= 0; prev = i, i = r->t[i].retry_next) {
		if (!ht_groups_room(&r->groups, r->t[i].group))
			continue;
		if (prev < 0)
			r->retry_head = r->t[i].retry_next;
		else
			r->t[prev].retry_next = r->t[i].retry_next;
		if (r->retry_tail == i)
			r->retry_tail = prev;
		return i;
	}
	while (r->next < r->n && !fresh(&r->t[r->order[r->next]]))
		r->next++;
	for (k = r->next; k < r->n; k++) {
		i = r->order[k];
		if (fresh(&r->t[i]) && ht_groups_room(&r->groups, r->t[i].group))
			return i;
	}
	return -1;
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

/*
 * The event of t's next attempt: its record with "attempt" set, as a new
 * string of *len bytes. The record was encoded compact and in order
 * (add_test()); one without an "attempt" of its own gets it as its last
 * member, the bytes that decoding, setting and encoding it again would
 * give, without doing so for every attempt.
 */
static char *attempt_payload(const struct test *t, size_t *len)
{
	size_t n = strlen(t->rec);
	json_t *rec;
	char *s;

	if (!t->has_attempt && n >= 2 && t->rec[n - 1] == '}') {
		s = ht_xmalloc(n + 32);
		memcpy(s, t->rec, n - 1);
		*len = n - 1 + (size_t)snprintf(s + n - 1, 33, "%s\"attempt\":%d}", n > 2 ? "," : "", t->attempt);
		return s;
	}
	rec = json_loads(t->rec, 0, NULL);
	if (!rec)
		return NULL;
	ht_json_set_int(rec, "attempt", t->attempt);
	s = ht_json_xdumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(rec);
	*len = strlen(s);
	return s;
}

/* Starts the next attempt of test i. Returns 0, or -1 when the provider
 * refused it (it then has an error result). */
int inv_start(struct run *r, int i)
{
	struct test *t = &r->t[i];
	json_t *rec;
	char *payload;
	size_t len = 0;
	int rc;

	t->attempt++;
	payload = attempt_payload(t, &len);
	if (!payload) {
		t->attempt--;
		inv_emit(r, i, inv_make_result(NULL, "error", "internal", "cannot decode the test record"), NULL);
		return -1;
	}
	t->started_ms = ht_now_ms();
	slot_take(r, t);
	if (r->ops->max_payload && len > r->ops->max_payload) {
		char msg[200];

		/* Nothing is sent, and trying again cannot help. */
		rec = json_loads(payload, 0, NULL);
		snprintf(msg, sizeof(msg), "the event is %zu bytes, over the %s provider's limit of %zu bytes; "
			 "it was not sent", len, r->ops->name, r->ops->max_payload);
		ht_error("%s: %s", ht_json_str(rec, "name", "?"), msg);
		inv_add_attempt(r, t, "error", 0, msg, 0, NULL, NULL);
		slot_give(r, t);
		inv_emit(r, i, inv_make_result(rec, "error", "payload_too_large", msg), NULL);
		free(payload);
		json_decref(rec);
		return -1;
	}
	rc = r->ops->invoke(r->prov, payload, len, (int64_t)t->timeout_s * 1000 + RUNNER_SLACK_MS, t);
	if (rc < 0) {
		rec = json_loads(payload, 0, NULL);
		free(payload);
		inv_add_attempt(r, t, "error", 0, "the provider could not start the invocation", 1, NULL, NULL);
		slot_give(r, t);
		inv_emit(r, i, inv_make_result(rec, "error", "infra", "the provider could not start the invocation"), NULL);
		json_decref(rec);
		return -1;
	}
	free(payload);
	t->state = T_RUNNING;
	r->running++;
	return 0;
}

static int is_status(const char *s)
{
	static const char *const st[] = { "passed", "failed", "skipped", "timed_out", "error", "flaky", NULL };
	int i;

	for (i = 0; s && st[i]; i++)
		if (!strcmp(s, st[i]))
			return 1;
	return 0;
}

/*
 * A batch some of whose tests failed, timed out or did not run: those
 * run again as a smaller batch, the others' records are final now
 * (docs/scheduling.md#batching). Returns 1 when a retry was queued.
 */
static int retry_batch(struct run *r, int i, json_t *test, json_t *res, const struct ht_completion *c)
{
	struct test *t = &r->t[i];
	json_t *keep, *again = ht_batch_retry(test, res, &keep), *rec;

	if (!again)
		return 0;
	t->test_failures++;
	inv_note_failed_cases(t, res);
	inv_set_retry_reason(t, "%zu of %zu tests of the batch failed, timed out or did not run (retry %d of %ld)",
			 json_array_size(json_object_get(again, "batch")), json_array_size(json_object_get(test, "batch")),
			 t->test_failures, r->retries);
	if (json_array_size(keep)) {
		rec = json_deep_copy(res);
		inv_copy_identity(rec, test);
		ht_json_set_int(rec, "attempt", t->attempt);
		json_object_set_new(rec, "attempts", json_deep_copy(t->attempts));
		if (t->first_dispatch_ms)
			ht_json_set_int(rec, "queue_ms", t->first_dispatch_ms - r->start_ms);
		if (c && c->dispatched_ms) {
			inv_set_time(rec, "dispatched_at", inv_wall_of(r, c->dispatched_ms));
			ht_json_set_int(rec, "invoke_ms", c->finished_ms - c->dispatched_ms);
		}
		inv_write_cases(r, t, rec, keep);
		json_decref(rec);
	}
	free(t->rec);
	t->rec = json_dumps(again, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(again);
	json_decref(keep);
	retry_push(r, i);
	return 1;
}

/* Takes one finished invocation: retry it, or write its final result. */
void inv_complete(struct run *r, struct ht_completion *c)
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
		inv_add_attempt(r, t, "error", 0, why, 0, c, NULL);
		inv_emit(r, i, inv_make_result(test, "error", "credentials", why), c);
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
	if (!res && c->status == HT_INVOKE_TIMEOUT) {
		/* No answer by the deadline. The test had its time, whatever
		 * the runner did after it (its uploads): timed_out, retried as
		 * a test is, never as infrastructure. */
		snprintf(msg, sizeof(msg), "timed out after %ld s (%s)", (long)t->timeout_s, why);
		res = inv_make_result(test, "timed_out", NULL, msg);
		ht_json_set_int(res, "duration_ms", c->finished_ms - (c->dispatched_ms ? c->dispatched_ms : c->finished_ms));
	}
	if (!res) {
		/* An infrastructure failure: never the test's fault. */
		inv_add_attempt(r, t, "error", c->finished_ms - (c->dispatched_ms ? c->dispatched_ms : c->finished_ms),
			    why, 1, c, NULL);
		if (t->infra_failures < r->infra_retries && !ht_stop_signal) {
			t->infra_failures++;
			inv_set_retry_reason(t, "infrastructure: %s (retry %d of %ld)", why, t->infra_failures,
					 r->infra_retries);
			ht_info("%s: %s; trying again", ht_json_str(test, "name", "?"), why);
			retry_push(r, i);
		} else {
			json_t *rec;

			snprintf(msg, sizeof(msg), "%s%s", why,
				 t->infra_failures ? " (after all infrastructure retries)" : "");
			rec = inv_make_result(test, "error", "infra", msg);
			if (c->log_tail)
				ht_json_set_str(rec, "log_tail", c->log_tail);
			inv_emit(r, i, rec, c);
		}
		json_decref(test);
		return;
	}
	status = ht_json_str(res, "status", "error");
	inv_add_attempt(r, t, status, ht_json_int(res, "duration_ms", 0), ht_json_str(res, "message", ""), 0, c, res);
	if (json_object_get(test, "batch") && t->test_failures < r->retries && !ht_stop_signal &&
	    retry_batch(r, i, test, res, c)) {
		json_decref(res);
		json_decref(test);
		return;
	}
	if ((!strcmp(status, "failed") || !strcmp(status, "timed_out")) &&
	    t->test_failures < r->retries && !ht_stop_signal) {
		t->test_failures++;
		inv_note_failed_cases(t, res);
		inv_set_retry_reason(t, "%s (retry %d of %ld)", !strcmp(status, "failed") ? "failed" : "timed out",
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
	inv_copy_identity(res, test);
	inv_emit(r, i, res, c);
	json_decref(test);
}

/* The start order (r->order): longest expected first (cmp_order()). */
void inv_order(struct run *r)
{
	int i;

	r->order = ht_xmalloc(sizeof(*r->order) * (size_t)(r->n ? r->n : 1));
	for (i = 0; i < r->n; i++)
		r->order[i] = i;
	sort_run = r;
	qsort(r->order, (size_t)r->n, sizeof(*r->order), cmp_order);
	sort_run = NULL;
}
