/*
 * ht-runner: a batch of tests in one invocation (docs/scheduling.md#batching).
 */
/*
 * ht-runner: the program inside the function image. It speaks the Lambda
 * Runtime API, runs one test per invocation through its test-runner plugin,
 * keeps the output and artifacts in the bucket, and answers an ht.result/1
 * record. See docs/ht-runner.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "ht/artifacts.h"
#include "ht/bucket.h"
#include "ht/ht.h"
#include "ht/id.h"
#include "ht/proc.h"
#include "ht/process.h"
#include "ht/runner.h"
#include "ht/text.h"
#include "ht/tree.h"

#include "tools/ht-runner/runner.h"

/*
 * Runs a batch (docs/scheduling.md#batching): as one invocation when the
 * plugin can merge its members (pytest: one process, several node ids)
 * and this is the first attempt,
 * else member by member, each in its own work directory with its own
 * timeout (and what is left of the batch's), test id, output and
 * artifacts. Either way the result has one case per test, each naming its
 * member; a member left without time is `not_run`. New record.
 */
json_t *rn_run_batch(struct runner *r, const struct unit *b, json_t *members)
{
	json_t *merged = NULL, *counts = NULL, *rec, *cases, *m;
	int64_t end = b->limit_ms ? ht_now_ms() + b->limit_ms : 0;
	size_t k, used = 0;

	/* A retry runs its members one by one: one that hangs cannot take
	 * the time of the others twice, and each is judged on its own. */
	if (b->attempt == 1 && b->ops->merge && b->ops->merge(members, &merged, &counts) == 0) {
		struct unit u = *b;
		json_t *cs;
		size_t i, owner = 0, left;

		u.run = merged;
		rec = rn_run_unit(r, &u);
		left = (size_t)json_integer_value(json_array_get(counts, 0));
		json_array_foreach(json_object_get(rec, "cases"), i, cs) {
			while (left == 0 && owner + 1 < json_array_size(counts))
				left = (size_t)json_integer_value(json_array_get(counts, ++owner));
			ht_json_set_int(cs, "member", (long long)owner);
			if (left)
				left--;
		}
		json_decref(merged);
		json_decref(counts);
		return rec;
	}
	cases = json_array();
	json_array_foreach(members, k, m) {
		struct unit u = *b;
		int64_t now = ht_now_ms();
		long long to = ht_json_int(m, "timeout_s", 300);
		json_t *one, *v;
		const char *key;
		void *tmp;

		if (ht_stop_signal) {
			json_array_append_new(cases, ht_run_case_not_run(m, k, "interrupted", NULL,
								  "interrupted: the runner was told to stop"));
			continue;
		}
		if (end && end - now <= 0) {
			char msg[160];

			snprintf(msg, sizeof(msg), "not run: the batch's %.1f s were used up before it",
				 (double)b->limit_ms / 1000.0);
			json_array_append_new(cases, ht_run_case_not_run(m, k, "error", "not_run", msg));
			continue;
		}
		u.run = json_object_get(m, "run");
		u.test_id = ht_json_str(m, "test_id", "?");
		u.name = ht_json_str(m, "name", u.test_id);
		u.file = ht_json_str(m, "file", NULL);
		u.limit_ms = to * 1000;
		if (end && end - now < u.limit_ms)
			u.limit_ms = end - now;
		one = rn_run_unit(r, &u);
		/* The case: the member's record, without what the batch says. */
		json_object_foreach_safe(one, tmp, key, v)
			if (!strcmp(key, "schema") || !strcmp(key, "run_id") || !strcmp(key, "runner") ||
			    !strcmp(key, "attempt") || !strcmp(key, "ok"))
				json_object_del(one, key);
		ht_json_set_int(one, "member", (long long)k);
		/* A member of several tests (a file of node ids) answers with
		 * cases of its own: those are the batch's cases, one per test,
		 * as when the batch ran as one process. */
		if (json_array_size(json_object_get(one, "cases"))) {
			json_t *sub = json_incref(json_object_get(one, "cases")), *cs;
			size_t q;

			json_decref(one);
			json_array_foreach(sub, q, cs) {
				ht_json_set_int(cs, "member", (long long)k);
				used += json_string_length(json_object_get(cs, "output_tail")) + 300;
				if (used > CASES_BUDGET)
					json_object_del(cs, "output_tail");
				json_array_append(cases, cs);
			}
			json_decref(sub);
			continue;
		}
		/* The answer must stay under the provider's 6 MB: past 3 MiB
		 * of cases, later ones keep no output tail. */
		used += json_string_length(json_object_get(one, "output_tail")) + 300 +
			100 * json_array_size(json_object_get(one, "artifacts"));
		if (used > CASES_BUDGET)
			json_object_del(one, "output_tail");
		json_array_append_new(cases, one);
	}
	rec = ht_record_new("ht.result/1");
	ht_json_set_str(rec, "run_id", b->run_id);
	ht_json_set_str(rec, "test_id", b->test_id);
	ht_json_set_str(rec, "name", b->name);
	ht_json_set_str(rec, "file", b->file);
	ht_json_set_str(rec, "runner", b->ops->name);
	ht_run_batch_summary(rec, cases);
	json_object_set_new(rec, "exit_code", json_null());
	json_object_set_new(rec, "signal", json_null());
	json_object_set_new(rec, "artifacts", json_array());
	{
		json_t *c0 = json_array_get(cases, 0);
		long long st = c0 ? ht_json_int(c0, "start_ms", 0) : 0;
		char started[32];

		ht_format_time(st ? st : ht_wall_ms(), started);
		ht_json_set_str(rec, "started_at", started);
		ht_json_set_int(rec, "start_ms", st ? st : ht_wall_ms());
	}
	ht_json_set_int(rec, "attempt", b->attempt);
	json_object_set_new(rec, "cases", cases);
	return rec;
}
