/*
 * test-batch.c: groups (by pattern and by tag) and the caps' counts,
 * packing, and which members of a batch a retry runs.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ht/batch.h"
#include "ht/config.h"
#include "ht/groups.h"
#include "ht/jsonl.h"
#include "tap.h"

static json_t *rec(const char *name, long long expected)
{
	json_t *r = json_pack("{s:s,s:s,s:s,s:s,s:s,s:i,s:{}}", "schema", "ht.test/1", "run_id", "r", "test_id", name,
			      "name", name, "runner", "command", "timeout_s", 10, "run");

	if (expected >= 0)
		json_object_set_new(r, "expected_ms", json_integer(expected));
	return r;
}

static void test_groups(void)
{
	json_t *recs = json_array(), *groups;
	struct ht_groups g;
	int a, b;

	json_array_append_new(recs, rec("tests/db/a.sh", -1));
	json_array_append_new(recs, rec("tests/ui/b.sh", -1));
	json_array_append_new(recs, rec("tests/ui/c.sh", -1));
	json_object_set_new(json_array_get(recs, 2), "tags", json_pack("[ss]", "slow", "serial"));
	json_object_set_new(json_array_get(recs, 1), "file", json_string("tests/ui/b.sh"));
	groups = json_loads("[{\"name\":\"db\",\"match\":\"tests/db/*\",\"max\":2},"
			    "{\"name\":\"s\",\"tag\":\"serial\",\"max\":1}]", 0, NULL);
	ht_groups_assign(recs, groups);
	is_str(ht_json_str(json_array_get(recs, 0), "group", NULL), "db", "a pattern on the name");
	is_int(ht_json_int(json_array_get(recs, 0), "group_max", 0), 2, "its cap");
	ok(!json_object_get(json_array_get(recs, 1), "group"), "no group matches");
	is_str(ht_json_str(json_array_get(recs, 2), "group", NULL), "s", "a tag");
	json_decref(groups);
	json_decref(recs);

	ht_groups_init(&g);
	a = ht_groups_add(&g, "db", 2);
	b = ht_groups_add(&g, "s", 1);
	is_int(ht_groups_add(&g, "db", 3), a, "the same name, the same group");
	is_int(ht_groups_add(&g, NULL, 3), -1, "no name, no group");
	ok(ht_groups_room(&g, -1), "no group: always room");
	ht_groups_take(&g, a);
	ok(ht_groups_room(&g, a), "one of 2");
	ht_groups_take(&g, a);
	ok(!ht_groups_room(&g, a), "two of 2: full");
	ok(ht_groups_room(&g, b), "another group is not");
	ht_groups_give(&g, a);
	ok(ht_groups_room(&g, a), "room again");
	is_int(g.peak[a], 2, "the peak");
	ht_groups_release(&g);
}

static void test_pack(void)
{
	struct ht_config c;
	json_t *recs = json_array(), *out, *r;
	size_t i, n = 0;
	int i_long = -1;

	memset(&c, 0, sizeof(c));
	c.batch_target_ms = 100;
	c.batch_max_tests = 10;
	c.concurrency = 1;
	for (i = 0; i < 25; i++) {
		char name[32];

		snprintf(name, sizeof(name), "t%02zu", i);
		json_array_append_new(recs, rec(name, i == 3 ? 500 : 10));
	}
	out = ht_batch_pack(recs, &c);
	json_array_foreach(out, i, r) {
		is_int(ht_json_int(r, "index", -1), (long long)i, "index counted again");
		if (json_object_get(r, "batch")) {
			ok(ht_json_int(r, "expected_ms", 0) <= 100, "a batch is within the target");
			n += json_array_size(json_object_get(r, "batch"));
		} else {
			n++;
			if (!strcmp(ht_json_str(r, "name", ""), "t03"))
				i_long = (int)i;
		}
	}
	is_int(n, 25, "every test once");
	is_int(i_long, 1, "the long test alone, in its place");
	/* 24 short tests of 10 ms: 3 batches of 8, the first placed where
	 * its first test was, the long test not between them. */
	is_int(json_array_size(out), 4, "3 batches and the long test");
	is_int(json_array_size(json_object_get(json_array_get(out, 0), "batch")), 8, "8 in a batch");
	is_str(ht_json_str(json_array_get(json_object_get(json_array_get(out, 0), "batch"), 3), "name", NULL), "t04",
	       "the short ones in plan order");
	json_decref(out);
	/* Tests measured at 0 ms: shared out by count, in whole rounds. */
	json_decref(recs);
	recs = json_array();
	for (i = 0; i < 25; i++)
		json_array_append_new(recs, rec("z", 0));
	c.concurrency = 2;
	out = ht_batch_pack(recs, &c);
	is_int(json_array_size(out), 4, "25 tests of 0 ms, at most 10 a batch, on 2 slots: 4 batches");
	json_decref(out);
	c.batch_target_ms = 0;
	out = ht_batch_pack(recs, &c);
	ok(out == recs, "off: the plan as it was");
	json_decref(out);
	json_decref(recs);
}

static void test_retry(void)
{
	json_t *test = json_loads("{\"test_id\":\"b\",\"batch\":[{\"test_id\":\"a\"},{\"test_id\":\"h\"},{\"test_id\":\"n\"},"
				  "{\"test_id\":\"f\"}]}", 0, NULL);
	json_t *ans = json_loads("{\"cases\":[{\"test_id\":\"a\",\"status\":\"passed\"},"
				 "{\"test_id\":\"h\",\"status\":\"timed_out\",\"member\":1},"
				 "{\"test_id\":\"n\",\"status\":\"error\",\"not_run\":true},"
				 "{\"test_id\":\"f\",\"status\":\"failed\"}]}", 0, NULL);
	json_t *keep, *again, *m;
	struct ht_buf b = HT_BUF_INIT;
	size_t i;

	is_int(ht_batch_case_member(test, json_array_get(json_object_get(ans, "cases"), 1)), 1, "by member");
	is_int(ht_batch_case_member(test, json_array_get(json_object_get(ans, "cases"), 3)), 3, "by test_id");
	again = ht_batch_retry(test, ans, &keep);
	ok(again != NULL, "some are run again");
	json_array_foreach(json_object_get(again, "batch"), i, m)
		ht_buf_addstr(&b, ht_json_str(m, "test_id", "?"));
	is_str(b.data, "nhf", "those not run first, then the timed-out and failed");
	is_int(json_array_size(keep), 1, "the passed one is final");
	is_str(ht_json_str(json_array_get(keep, 0), "test_id", NULL), "a", "which");
	json_decref(again);
	json_decref(keep);
	ht_buf_release(&b);
	json_decref(ans);
	ans = json_loads("{\"cases\":[{\"test_id\":\"a\",\"status\":\"passed\"},{\"test_id\":\"h\",\"status\":\"skipped\"}]}",
			 0, NULL);
	ok(ht_batch_retry(test, ans, &keep) == NULL && keep == NULL, "nothing to run again");
	json_decref(ans);
	json_decref(test);
}

int main(void)
{
	test_groups();
	test_pack();
	test_retry();
	return tap_done();
}
