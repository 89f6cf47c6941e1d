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

/* Checks one ht.test/1 record; 0 with *to set, or -1 after printing. */
static int check(json_t *rec, const char *where, long default_timeout, long long *to)
{
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
	return 0;
}

int ht_plan_read(FILE *fp, const char *name, long default_timeout, ht_plan_fn fn, void *ud)
{
	struct ht_jsonl_reader rd;
	json_t *rec;
	int bad = 0, rc;
	char where[300];

	ht_jsonl_reader_init(&rd, fp, name, HT_PLAN_LINE_MAX);
	while ((rc = ht_jsonl_read(&rd, &rec)) != 0) {
		long long to = 0;

		if (rc == -2) {
			ht_jsonl_reader_release(&rd);
			return HT_EXIT_IOERR;
		}
		if (rc < 0) {
			bad++;
			continue;
		}
		snprintf(where, sizeof(where), "%s:%zu", name, rd.lineno);
		if (check(rec, where, default_timeout, &to) < 0 || fn(rec, where, (long)to, ud) < 0)
			bad++;
		json_decref(rec);
	}
	ht_jsonl_reader_release(&rd);
	return bad ? HT_EXIT_DATAERR : 0;
}
