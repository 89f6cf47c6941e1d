/*
 * Unit tests of history.c's arithmetic and schedule.c: the moving mean,
 * medians, merging runs (partial runs, kinds kept apart, bounds, the
 * shard tag), parsing what is not a history, makespans, shards and CI's
 * shard variables.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ht/ht.h"
#include "ht/history.h"
#include "ht/schedule.h"
#include "tap.h"

/* A final ht.result/1 record of one test. */
static json_t *res(const char *id, const char *status, long ms, long invoke_ms)
{
	json_t *r = json_pack("{s:s,s:s,s:s,s:I}", "schema", "ht.result/1", "test_id", id, "status", status,
			      "duration_ms", (json_int_t)ms);

	if (invoke_ms >= 0)
		ht_json_set_int(r, "invoke_ms", invoke_ms);
	return r;
}

static void note(struct ht_history_run *run, const char *id, const char *status, long ms, long inv)
{
	json_t *r = res(id, status, ms, inv);

	ht_history_run_note(run, r);
	json_decref(r);
}

static json_t *entry(json_t *h, const char *id)
{
	return json_object_get(json_object_get(h, "tests"), id);
}

static void test_math(void)
{
	long v[] = { 5, 1, 4, 2, 3 }, w[] = { 8, 2, 6, 4 };

	ok(fabs(ht_history_ewma(0, 0, 100) - 100) < 1e-9, "ewma: the first sample is the mean");
	ok(fabs(ht_history_ewma(100, 1, 200) - 130) < 1e-9, "ewma: the newest weighs 0.3");
	is_int(ht_median(v, 5), 3, "median of an odd count");
	is_int(ht_median(w, 4), 4, "median of an even count: the lower middle");
	is_int(ht_median(NULL, 0), -1, "median of nothing");
}

static void test_merge(void)
{
	struct ht_history_opts o = { 20, 1000 };
	struct ht_history_run run;
	json_t *h = ht_history_new();
	char id[16];
	int i;

	/* Run 1: ten tests, each i * 100 ms; overheads 10..19 ms. */
	ht_history_run_init(&run, "run-1", "local");
	for (i = 0; i < 10; i++) {
		snprintf(id, sizeof(id), "t-%d", i);
		note(&run, id, "passed", (i + 1) * 100, (i + 1) * 100 + 10 + i);
	}
	ht_history_merge(h, &run, &o);
	ht_history_run_release(&run);
	is_int(json_object_size(json_object_get(h, "tests")), 10, "merge: ten tests");
	is_int(ht_history_expected(h, "t-3", NULL), 400, "merge: a test's first duration");
	is_int(ht_history_expected(h, "t-x", NULL), -1, "merge: an unknown test");
	ok(fabs(json_number_value(json_object_get(h, "clock")) - 1) < 1e-9, "merge: a full run advances the clock by 1");
	is_int(ht_history_overhead(h, "local", NULL), 14, "overhead: the run's median of invoke_ms - duration_ms");
	is_int(ht_history_overhead(h, "aws", NULL), -1, "overhead: unknown for another provider");

	/* Run 2: a partial run of two tests. t-0 passes slower; t-1 fails
	 * slowly, t-2 is flaky: neither moves their passing mean. */
	ht_history_run_init(&run, "run-2", "local");
	note(&run, "t-0", "passed", 200, -1);
	note(&run, "t-1", "failed", 5000, -1);
	note(&run, "t-2", "flaky", 9000, -1);
	note(&run, "t-9", "error", 0, -1);
	note(&run, "t-8", "interrupted", 0, -1);
	ht_history_merge(h, &run, &o);
	ht_history_run_release(&run);
	is_int(json_object_size(json_object_get(h, "tests")), 10, "partial run: the others stay");
	is_int(ht_history_expected(h, "t-0", NULL), 130, "partial run: the mean moves 30% to the new sample");
	is_int(ht_history_expected(h, "t-1", NULL), 200, "a failure does not skew the passing mean");
	is_int(ht_json_int(json_object_get(entry(h, "t-1"), "fail"), "ms", -1), 5000, "the failure is kept apart");
	is_int(ht_history_expected(h, "t-2", NULL), 300, "a flaky run does not skew the passing mean");
	ok(json_object_get(entry(h, "t-2"), "flaky") != NULL, "the flaky run is kept apart");
	is_int(ht_history_expected(h, "t-9", NULL), 1000, "error and interrupted records are no sample");
	ok(fabs(json_number_value(json_object_get(h, "clock")) - 1.3) < 1e-9,
	   "partial run: the clock advances by the part it ran (3 of 10)");
	is_int(ht_json_int(h, "runs", 0), 2, "runs counts every run");

	/* The shards of run-2 see t-0 as before run-2. */
	{
		char tag[9];

		ht_history_tag("run-2", tag);
		is_int(ht_history_expected(h, "t-0", tag), 100, "tag: the value before that run updated it");
		is_int(ht_history_expected(h, "t-5", tag), 600, "tag: a test that run did not touch");
		ht_history_tag("run-3", tag);
		is_int(ht_history_expected(h, "t-0", tag), 130, "tag: another run sees the current value");
	}

	/* Samples are capped; a test only ever failing expects its failures. */
	ht_history_run_init(&run, "run-3", "local");
	for (i = 0; i < 12; i++)
		note(&run, "t-f", "timed_out", 1000, -1);
	ht_history_merge(h, &run, &o);
	ht_history_run_release(&run);
	is_int(json_array_size(json_object_get(json_object_get(entry(h, "t-f"), "fail"), "last")), HT_HISTORY_SAMPLES,
	       "recent samples are capped");
	is_int(ht_history_expected(h, "t-f", NULL), 1000, "a test that only failed expects its failures");

	/* keep_runs: after 21 more full runs of other tests, the ten go. */
	for (i = 0; i < 21; i++) {
		ht_history_run_init(&run, "run-x", "local");
		note(&run, "t-new", "passed", 10, -1);
		ht_history_merge(h, &run, &o);
		ht_history_run_release(&run);
	}
	ok(entry(h, "t-new") && entry(h, "t-f") && entry(h, "t-0"), "runs of one test of many age the others slowly");
	o.keep_runs = 1;
	ht_history_run_init(&run, "run-y", "local");
	note(&run, "t-new", "passed", 10, -1);
	ht_history_merge(h, &run, &o);
	ht_history_run_release(&run);
	ok(entry(h, "t-new") && !entry(h, "t-0"), "keep_runs: a test not seen for that many full runs is dropped");
	json_decref(h);

	/* max_tests: the least recently seen go first. */
	h = ht_history_new();
	o.keep_runs = 20;
	o.max_tests = 3;
	for (i = 0; i < 5; i++) {
		ht_history_run_init(&run, "r", "local");
		snprintf(id, sizeof(id), "t-%d", i);
		note(&run, id, "passed", 10, -1);
		ht_history_merge(h, &run, &o);
		ht_history_run_release(&run);
	}
	is_int(json_object_size(json_object_get(h, "tests")), 3, "max_tests: bounded");
	ok(entry(h, "t-4") && entry(h, "t-3") && entry(h, "t-2") && !entry(h, "t-0"), "max_tests: the oldest went");
	json_decref(h);
}

static void test_groups(void)
{
	struct ht_history_opts o = { 20, 1000 };
	struct ht_history_run run;
	json_t *h = ht_history_new(), *r;

	/* One invocation of two cases: 100 + 200 ms in 350 ms. */
	ht_history_run_init(&run, "g", "aws");
	r = res("t-a", "passed", 100, 350);
	ht_json_set_str(r, "group_test_id", "t-file");
	ht_history_run_note(&run, r);
	json_decref(r);
	r = res("t-b", "failed", 200, 350);
	ht_json_set_str(r, "group_test_id", "t-file");
	ht_history_run_note(&run, r);
	json_decref(r);
	ht_history_merge(h, &run, &o);
	ht_history_run_release(&run);
	is_int(ht_history_expected(h, "t-a", NULL), 100, "cases: each by its own test_id");
	is_int(ht_history_expected(h, "t-b", NULL), 200, "cases: a failed case");
	ok(!entry(h, "t-file"), "cases: the group is not a test");
	is_int(ht_history_overhead(h, "aws", NULL), 50, "cases: the overhead is the invocation's less its cases'");
	json_decref(h);
}

static void test_parse(void)
{
	static const char *const bad[] = {
		"", "not json", "[1,2]", "{\"schema\":\"ht.other/1\",\"tests\":{}}",
		"{\"schema\":\"ht.history/2\",\"tests\":{}}", "{\"schema\":\"ht.history/1\",\"tests\":[]}",
		"{\"schema\":\"ht.history/10\",\"tests\":{}}", NULL,
	};
	const char *mixed = "{\"schema\":\"ht.history/1.3\",\"clock\":\"x\",\"overhead\":{\"local\":[1,-2],\"aws\":[5]},"
			    "\"tests\":{\"t-ok\":{\"seen\":1,\"pass\":{\"ms\":5,\"n\":1,\"last\":[5]}},"
			    "\"t-neg\":{\"seen\":1,\"pass\":{\"ms\":-5,\"n\":1,\"last\":[5]}},"
			    "\"t-nokind\":{\"seen\":1},\"../x\":{\"seen\":1,\"pass\":{\"ms\":5,\"n\":1,\"last\":[]}},"
			    "\"t-str\":\"x\",\"t-last\":{\"seen\":1,\"fail\":{\"ms\":5,\"n\":1,\"last\":[\"a\"]}}}}";
	json_t *h;
	int i, all = 1;

	for (i = 0; bad[i]; i++) {
		h = ht_history_parse(bad[i], strlen(bad[i]), "unit");
		all &= h == NULL;
		json_decref(h);
	}
	ok(all, "parse: what is not an ht.history/1 object is refused");
	h = ht_history_parse(mixed, strlen(mixed), "unit");
	ok(h != NULL, "parse: a minor version is read");
	is_int(json_object_size(json_object_get(h, "tests")), 1, "parse: malformed entries are dropped");
	is_int(ht_history_expected(h, "t-ok", NULL), 5, "parse: the good entry stays");
	ok(json_is_real(json_object_get(h, "clock")), "parse: a bad clock is reset");
	ok(!json_object_get(json_object_get(h, "overhead"), "local") &&
	   ht_history_overhead(h, "aws", NULL) == 5, "parse: a bad overhead list is dropped");
	json_decref(h);
}

static void item(struct ht_sched_item *v, size_t i, const char *id, long ms)
{
	v[i].id = id;
	v[i].ms = ms;
	v[i].index = i;
	v[i].shard = -1;
}

static void test_schedule(void)
{
	struct ht_sched_item v[8];
	long long loads[3];
	size_t i;
	int ok_all = 1;

	item(v, 0, "a", 2000);
	item(v, 1, "b", 3000);
	item(v, 2, "c", 5000);
	item(v, 3, "d", 2000);
	item(v, 4, "e", 4000);
	item(v, 5, "f", 3000);
	item(v, 6, "g", 2000);
	/* In this order on 2 slots: a b | c (2000) d (3000) ... */
	is_int(ht_sched_makespan(v, 7, 2, 0), 11000, "makespan: listing order on 2 slots");
	ht_sched_lpt_sort(v, 7);
	ok(!strcmp(v[0].id, "c") && !strcmp(v[1].id, "e") && !strcmp(v[2].id, "b") && !strcmp(v[3].id, "f") &&
	   !strcmp(v[4].id, "a") && !strcmp(v[6].id, "g"), "lpt: longest first, ties by id");
	is_int(ht_sched_makespan(v, 7, 2, 0), 11000, "makespan: LPT, 21 s on 2 slots");
	is_int(ht_sched_makespan(v, 7, 2, 100), 11400, "makespan: each test pays the overhead");
	is_int(ht_sched_makespan(v, 7, 100, 0), 5000, "makespan: more slots than tests: the longest");
	is_int(ht_sched_makespan(v, 0, 2, 0), 0, "makespan: no test");
	is_int(ht_sched_bound(v, 7, 2), 10500, "bound: total / slots");
	is_int(ht_sched_bound(v, 7, 10), 5000, "bound: the longest");

	ht_sched_shard(v, 7, 3, loads);
	is_int(loads[0] + loads[1] + loads[2], 21000, "shards: every test in one shard");
	/* 5 | 4 | 3, then 3 to the third, 2 to the second, 2 to the first,
	 * 2 to the second (6 and 6: the lower index). */
	ok(loads[0] == 7000 && loads[1] == 8000 && loads[2] == 6000, "shards: LPT over the shards");
	for (i = 0; i < 7; i++)
		ok_all &= v[i].shard >= 0 && v[i].shard < 3;
	ok(ok_all, "shards: each test has a shard");
	/* Tests of no known time still spread. */
	for (i = 0; i < 6; i++)
		item(v, i, "x", 0);
	ht_sched_shard(v, 6, 3, loads);
	ok(v[0].shard == 0 && v[1].shard == 1 && v[2].shard == 2 && v[3].shard == 0, "shards: unknown tests spread");
}

static const char *env_vals[16][2];
static char *fake_getenv(const char *name)
{
	int i;

	for (i = 0; env_vals[i][0]; i++)
		if (!strcmp(env_vals[i][0], name))
			return (char *)env_vals[i][1];
	return NULL;
}

static int env(const char *a, const char *av, const char *b, const char *bv, long total, int *idx, int *n)
{
	const char *from = NULL;
	char err[200];

	memset(env_vals, 0, sizeof(env_vals));
	env_vals[0][0] = a;
	env_vals[0][1] = av;
	env_vals[1][0] = b;
	env_vals[1][1] = bv;
	return ht_shard_from_env(fake_getenv, total, idx, n, &from, err, sizeof(err));
}

static void test_shard_args(void)
{
	int i = -1, n = -1;

	ok(ht_shard_parse("1/4", &i, &n) == 0 && i == 0 && n == 4, "--shard 1/4 is the first (0-based 0)");
	ok(ht_shard_parse("4/4", &i, &n) == 0 && i == 3, "--shard 4/4 is the last");
	ok(ht_shard_parse("0/4", &i, &n) < 0 && ht_shard_parse("5/4", &i, &n) < 0 && ht_shard_parse("1/0", &i, &n) < 0 &&
	   ht_shard_parse("x/4", &i, &n) < 0 && ht_shard_parse("3", &i, &n) < 0 && ht_shard_parse("1/4/", &i, &n) < 0 &&
	   ht_shard_parse("-1/4", &i, &n) < 0 && ht_shard_parse("1/10001", &i, &n) < 0 && ht_shard_parse("", &i, &n) < 0,
	   "--shard: bad values are refused");
	ok(env("CI_NODE_INDEX", "2", "CI_NODE_TOTAL", "3", 0, &i, &n) == 1 && i == 1 && n == 3, "GitLab: 1-based");
	ok(env("CI_NODE_INDEX", "0", "CI_NODE_TOTAL", "3", 0, &i, &n) < 0, "GitLab: 0 is no index");
	ok(env("BUILDKITE_PARALLEL_JOB", "0", "BUILDKITE_PARALLEL_JOB_COUNT", "2", 0, &i, &n) == 1 && i == 0 && n == 2,
	   "Buildkite: 0-based");
	ok(env("CIRCLE_NODE_INDEX", "2", "CIRCLE_NODE_TOTAL", "2", 0, &i, &n) < 0, "CircleCI: the index is below the total");
	ok(env("CLOUD_RUN_TASK_INDEX", "4", "CLOUD_RUN_TASK_COUNT", "5", 0, &i, &n) == 1 && i == 4 && n == 5,
	   "Cloud Run: 0-based");
	ok(env("JOB_COMPLETION_INDEX", "1", "HT_SHARD_TOTAL", "3", 0, &i, &n) == 1 && i == 1 && n == 3,
	   "Kubernetes: the total from HT_SHARD_TOTAL");
	ok(env("JOB_COMPLETION_INDEX", "1", "X", "3", 0, &i, &n) < 0, "Kubernetes: no total is an error");
	ok(env("JOB_COMPLETION_INDEX", "5", "X", "3", 6, &i, &n) == 1 && i == 5 && n == 6, "Kubernetes: --shard-total");
	ok(env("CI_NODE_INDEX", "1", "X", "3", 0, &i, &n) < 0, "an index without its total is an error");
	ok(env("CI_NODE_INDEX", "1", "CI_NODE_TOTAL", "x", 0, &i, &n) < 0, "a total that is not a number");
	ok(env("X", "1", "Y", "3", 0, &i, &n) == 0, "no variable: no shard");
}

int main(void)
{
	test_math();
	test_merge();
	test_groups();
	test_parse();
	test_schedule();
	test_shard_args();
	return tap_done();
}
