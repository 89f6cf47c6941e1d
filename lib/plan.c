/*
 * plan.c: reading and checking a plan. See include/ht/plan.h.
 */
#include <stdio.h>

#include <jansson.h>

#include "ht/diag.h"
#include "ht/exit.h"
#include "ht/id.h"
#include "ht/jsonl.h"
#include "ht/plan.h"

/* Checks the members of a batch record (docs/records.md): each has its
 * own test_id, run and timeout_s, and none is a batch. */
static int check_batch(json_t *rec, const char *where)
{
	json_t *b = json_object_get(rec, "batch"), *m;
	long long to;
	size_t i;

	if (!json_is_array(b) || json_array_size(b) == 0)
		return ht_error("%s: batch: expected a non-empty array of tests", where);
	json_array_foreach(b, i, m) {
		if (!json_is_object(m) || !ht_id_safe(ht_json_str(m, "test_id", NULL)))
			return ht_error("%s: batch[%zu]: test_id: expected a string of " HT_ID_RULE, where, i);
		if (!json_is_object(json_object_get(m, "run")) || json_object_get(m, "batch"))
			return ht_error("%s: batch[%zu]: run: expected an object (and no batch)", where, i);
		if (ht_json_int_in(m, "timeout_s", 1, HT_TIMEOUT_MAX_S, 300, &to) < 0)
			return ht_error("%s: batch[%zu]: timeout_s: expected an integer from 1 to %d", where, i,
					HT_TIMEOUT_MAX_S);
	}
	return 0;
}

/* Checks one ht.test/1 record; 0 with *to set, or -1 after printing. */
static int check(json_t *rec, const char *where, long default_timeout, long long *to)
{
	long long m;

	if (ht_record_check_schema(rec, "ht.test/1", where) < 0)
		return -1;
	if (!ht_id_safe(ht_json_str(rec, "test_id", NULL)))
		return ht_error("%s: test_id: expected a string of " HT_ID_RULE, where);
	if (!ht_id_safe(ht_json_str(rec, "run_id", NULL)))
		return ht_error("%s: run_id: expected a string of " HT_ID_RULE, where);
	if (!json_is_object(json_object_get(rec, "run")))
		return ht_error("%s: run: expected an object", where);
	if (ht_json_int_in(rec, "timeout_s", 1, HT_TIMEOUT_MAX_S, default_timeout, to) < 0)
		return ht_error("%s: timeout_s: expected an integer from 1 to %d", where, HT_TIMEOUT_MAX_S);
	if (json_object_get(rec, "group") && !json_is_string(json_object_get(rec, "group")))
		return ht_error("%s: group: expected a string", where);
	if (json_object_get(rec, "group") && ht_json_int_in(rec, "group_max", 1, 10000, 1, &m) < 0)
		return ht_error("%s: group_max: expected an integer from 1 to 10000", where);
	return json_object_get(rec, "batch") ? check_batch(rec, where) : 0;
}

/* Records test_id's line in seen (test_id -> line); -1 after printing
 * when an earlier line had it: the test would run twice, its results
 * mixed up under one id. */
static int check_unique(json_t *seen, json_t *rec, const char *where, size_t lineno)
{
	const char *id = ht_json_str(rec, "test_id", "");
	json_t *first = json_object_get(seen, id);

	if (first)
		return ht_error("%s: test_id: '%s' is already the id of line %lld", where, id,
				(long long)json_integer_value(first));
	json_object_set_new(seen, id, json_integer((json_int_t)lineno));
	return 0;
}

int ht_plan_read(FILE *fp, const char *name, long default_timeout, ht_plan_fn fn, void *ud)
{
	struct ht_jsonl_reader rd;
	json_t *rec, *seen = json_object();
	int bad = 0, rc, n = 0;
	char where[300];

	ht_jsonl_reader_init(&rd, fp, name, HT_PLAN_LINE_MAX);
	while ((rc = ht_jsonl_read(&rd, &rec)) != 0) {
		long long to = 0;

		if (rc == -2) {
			ht_jsonl_reader_release(&rd);
			json_decref(seen);
			return HT_EXIT_IOERR;
		}
		n++;
		if (rc < 0) {
			bad++;
			continue;
		}
		snprintf(where, sizeof(where), "%s:%zu", name, rd.lineno);
		if (check(rec, where, default_timeout, &to) < 0 || check_unique(seen, rec, where, rd.lineno) < 0 ||
		    fn(rec, where, (long)to, ud) < 0)
			bad++;
		json_decref(rec);
	}
	ht_jsonl_reader_release(&rd);
	json_decref(seen);
	if (!n) {
		/* ht-plan found nothing (and said so): `ht-plan | ht-invoke`
		 * must fail too, not pass with no test run. */
		ht_error("%s: no tests: the plan is empty", name);
		return HT_EXIT_DATAERR;
	}
	return bad ? HT_EXIT_DATAERR : 0;
}
