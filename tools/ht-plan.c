/*
 * ht-plan: lists the tests through the configured test-runner plugin and
 * writes one ht.test/1 record per invocation. See docs/ht-plan.md.
 */
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ht/ht.h"
#include "ht/batch.h"
#include "ht/bucket.h"
#include "ht/history.h"
#include "ht/id.h"
#include "ht/provider.h"
#include "ht/runner.h"
#include "ht/schedule.h"

static const struct ht_tool tool = {
	"ht-plan", "[OPTIONS]",
	"List the tests through the test-runner plugin; one ht.test/1 record per invocation.",
	"  -o, --output FILE        write the records to FILE (atomically) instead of stdout\n"
	"      --run-id ID          use ID as the run id instead of a new random UUID\n"
	"      --durations FILE     take each test's expected_ms from an earlier results\n"
	"                           file (ht.result/1 JSON Lines, '-' for stdin); they win\n"
	"                           over the duration history\n"
	"      --predict, --dry-run print the plan's summary and its predicted wall time\n"
	"                           instead of the records (still written with -o)\n"
	"      --json               with --predict: one ht.predict/1 record\n"
	"  -j, --concurrency N      with --predict: the concurrency (config: concurrency)\n"
	"      --shard I/N          only shard I of N (1-based), near-equal in time;\n"
	"                           default: CI's variables (docs/scheduling.md#shards)\n"
	"      --shard-total N      N shards with JOB_COMPLETION_INDEX (or HT_SHARD_TOTAL)\n"
	"      --list-timeout SECS  how long a listing command may take (default 120)\n"
	"      --grep REGEX         only the tests whose name matches REGEX (POSIX extended)\n"
	"      --failed FILE        only the tests that failed, timed out or errored in an\n"
	"                           earlier results file (ht.result/1 JSON Lines, '-' for stdin)\n",
};

enum { OPT_RUN_ID = 0x2000, OPT_DURATIONS, OPT_LIST_TIMEOUT, OPT_GREP, OPT_FAILED, OPT_PREDICT, OPT_JSON,
       OPT_SHARD, OPT_SHARD_TOTAL };

/* 1 when schema names ht.result/1 (any minor version). */
static int is_result_schema(const char *schema)
{
	return schema && ht_starts_with(schema, "ht.result/1") && (schema[11] == '\0' || schema[11] == '.');
}

/*
 * Reads an earlier results file (path, "-" for stdin) and hands each
 * ht.result/1 record (any minor version) to fn with map; records of other
 * kinds are skipped. Returns map. Dies on unreadable input, naming it.
 */
static json_t *read_results(const char *path, void (*fn)(json_t *rec, json_t *map), json_t *map)
{
	struct ht_jsonl_reader rd;
	FILE *fp = strcmp(path, "-") ? fopen(path, "r") : stdin;
	json_t *rec;
	int r, bad = 0;

	if (!fp)
		ht_die(errno == ENOENT ? HT_EXIT_NOINPUT : HT_EXIT_IOERR, "cannot open '%s': %s", path, strerror(errno));
	ht_jsonl_reader_init(&rd, fp, strcmp(path, "-") ? path : "stdin", HT_RECORD_MAX);
	while ((r = ht_jsonl_read(&rd, &rec)) != 0) {
		if (r == -2)
			ht_die(HT_EXIT_IOERR, "cannot read '%s'", path);
		if (r < 0) {
			bad = 1;
			continue;
		}
		if (is_result_schema(ht_json_str(rec, "schema", NULL)))
			fn(rec, map);
		json_decref(rec);
	}
	ht_jsonl_reader_release(&rd);
	if (fp != stdin)
		fclose(fp);
	if (bad)
		ht_die(HT_EXIT_DATAERR, "'%s' holds lines that are not records (see above)", path);
	return map;
}

/* test_id -> duration_ms; later records win (ht-invoke's final record
 * comes after the attempts); tests that never ran properly (error,
 * interrupted) are left out. */
static void add_duration(json_t *rec, json_t *map)
{
	const char *id = ht_json_str(rec, "test_id", NULL);
	const char *status = ht_json_str(rec, "status", "");
	json_t *d = json_object_get(rec, "duration_ms");

	if (id && json_is_integer(d) && json_integer_value(d) >= 0 && strcmp(status, "error") &&
	    strcmp(status, "interrupted"))
		json_object_set_new(map, id, json_integer(json_integer_value(d)));
}

/* An earlier results file as test_id -> duration_ms; new object. */
static json_t *load_durations(const char *path)
{
	return read_results(path, add_duration, json_object());
}

/* 1 when status is one that --failed runs again. */
static int is_failing(const char *status)
{
	return !strcmp(status, "failed") || !strcmp(status, "timed_out") || !strcmp(status, "error");
}

/* test_id -> whether its last result failed, timed out or errored; a
 * result with `cases` (several tests in one invocation) counts by its
 * cases. A later result of the same test wins. */
static void add_failed(json_t *rec, json_t *map)
{
	json_t *cases = json_object_get(rec, "cases"), *cs;
	size_t i;

	if (json_is_array(cases) && json_array_size(cases)) {
		json_array_foreach(cases, i, cs)
			if (ht_json_str(cs, "test_id", NULL))
				json_object_set_new(map, ht_json_str(cs, "test_id", NULL),
						    json_boolean(is_failing(ht_json_str(cs, "status", ""))));
	} else if (ht_json_str(rec, "test_id", NULL)) {
		json_object_set_new(map, ht_json_str(rec, "test_id", NULL),
				    json_boolean(is_failing(ht_json_str(rec, "status", ""))));
	}
}

/* An earlier results file as test_id -> true for the tests to run again
 * (false for the others); new object. */
static json_t *load_failed(const char *path)
{
	return read_results(path, add_failed, json_object());
}

/* What --grep and --failed keep. */
struct select {
	regex_t re;
	int have_re;
	json_t *failed; /* test_id -> true/false, or NULL */
};

static int keep_test(const char *name, void *arg)
{
	struct select *s = arg;

	if (s->have_re && regexec(&s->re, name, 0, NULL, 0) != 0)
		return 0;
	if (s->failed) {
		char *id = ht_test_id(name);
		int k = json_is_true(json_object_get(s->failed, id));

		free(id);
		return k;
	}
	return 1;
}

/* --- expectations, order, shards, prediction (docs/scheduling.md) -------------- */

/* What the plan is scheduled by. */
struct sched {
	json_t *hist;           /* the duration history (new), or NULL */
	json_t *durations;      /* --durations: test_id -> ms, or NULL */
	const char *tag;        /* with shards: the run's tag, so that every shard splits alike */
	int shard, nshards;     /* 0-based; nshards 0: no sharding */
	const char *shard_from; /* "--shard" or CI's variable */
	long concurrency;
	int predict, json;
};

/* One test's expected ms and where it is from, or -1. */
static long expect_one(const struct sched *s, const char *id, const char **from)
{
	json_t *d = s->durations ? json_object_get(s->durations, id) : NULL;
	long ms;

	if (d) {
		*from = "durations";
		return (long)json_integer_value(d);
	}
	ms = s->hist ? ht_history_expected(s->hist, id, s->tag) : -1;
	if (ms >= 0)
		*from = "history";
	return ms;
}

/* Reads the history of cfg when it is enabled (a missing one is empty;
 * one that cannot be read or is corrupt is a warning). */
static json_t *history_read(const struct ht_config *cfg)
{
	const struct ht_provider_ops *ops = ht_provider_find(cfg->provider ? cfg->provider : "local");
	struct ht_bucket b;
	const char *key = NULL;
	json_t *h = NULL;
	int rc = ht_history_open(cfg, ops ? ops->bucket : NULL, &b, &key);

	if (rc == 0)
		h = ht_history_load(&b, key);
	else if (rc < 0)
		ht_warning("no history: the plan keeps its listing order");
	ht_bucket_release(&b);
	return h;
}

/*
 * Sets each record's expected_ms (and expected_from) from --durations,
 * else the history: an invocation of several tests (members) expects
 * the sum of theirs; a test neither knows gets the median of the known
 * ones. Fills items[] (one per record, in plan order) and returns how
 * many tests were known, with the median in *median (-1: none).
 */
static size_t expect_all(const struct sched *s, const struct ht_test_list *tests, json_t *records,
			 struct ht_sched_item *items, long *median)
{
	size_t nall = 0, nk = 0, i, m;
	long *known, *sums = ht_xcalloc(tests->n + 1, sizeof(*sums));
	size_t *unknown = ht_xcalloc(tests->n + 1, sizeof(*unknown));
	const char **from = ht_xcalloc(tests->n + 1, sizeof(*from));
	long *medv;

	for (i = 0; i < tests->n; i++)
		nall += tests->v[i].nmembers ? tests->v[i].nmembers : 1;
	known = ht_xcalloc(nall + 1, sizeof(*known));
	for (i = 0; i < tests->n; i++) {
		const struct ht_test_entry *t = &tests->v[i];
		json_t *rec = json_array_get(records, i);

		for (m = 0; m < (t->nmembers ? t->nmembers : 1); m++) {
			char *mid = t->nmembers ? ht_test_id(t->members[m]) : NULL;
			long ms = expect_one(s, mid ? mid : ht_json_str(rec, "test_id", ""), &from[i]);

			if (ms >= 0) {
				sums[i] += ms;
				known[nk++] = ms;
			} else {
				unknown[i]++;
			}
			free(mid);
		}
	}
	medv = known;
	*median = ht_median(medv, nk);
	for (i = 0; i < tests->n; i++) {
		json_t *rec = json_array_get(records, i);

		items[i].id = ht_json_str(rec, "test_id", "");
		items[i].index = i;
		items[i].ms = 0;
		if (unknown[i] && *median < 0)
			continue;
		items[i].ms = sums[i] + (long)unknown[i] * (*median > 0 ? *median : 0);
		ht_json_set_int(rec, "expected_ms", items[i].ms);
		ht_json_set_str(rec, "expected_from", unknown[i] ? "median" : from[i]);
	}
	free(medv);
	free(sums);
	free(unknown);
	free(from);
	return nk;
}

static int cmp_index(const void *a, const void *b)
{
	const struct ht_sched_item *x = a, *y = b;

	return x->index < y->index ? -1 : x->index > y->index;
}

static void secs(long long ms, char *buf, size_t n)
{
	snprintf(buf, n, "%.1f s", (double)ms / 1000.0);
}

/* --predict: the plan's summary and its predicted wall time, on stdout. */
static void predict(const struct sched *s, const struct ht_config *cfg, const char *run_id, struct ht_sched_item *v,
		    size_t n, size_t known, size_t members, long median)
{
	const char *provider = cfg->provider ? cfg->provider : "local";
	int runs = 0;
	long overhead = s->hist ? ht_history_overhead(s->hist, provider, &runs) : -1;
	long long total = 0, longest = 0, bound = ht_sched_bound(v, n, s->concurrency);
	long long lpt = ht_sched_makespan(v, n, s->concurrency, overhead > 0 ? overhead : 0), listing;
	char a[32], b[32], c[32];
	size_t i;

	for (i = 0; i < n; i++) {
		total += v[i].ms;
		if (v[i].ms > longest)
			longest = v[i].ms;
	}
	qsort(v, n, sizeof(*v), cmp_index);
	listing = ht_sched_makespan(v, n, s->concurrency, overhead > 0 ? overhead : 0);
	if (s->json) {
		json_t *r = ht_record_new("ht.predict/1");

		ht_json_set_str(r, "run_id", run_id);
		ht_json_set_str(r, "provider", provider);
		ht_json_set_int(r, "invocations", (long long)n);
		ht_json_set_int(r, "tests", (long long)members);
		ht_json_set_int(r, "known", (long long)known);
		json_object_set_new(r, "median_ms", median >= 0 ? json_integer(median) : json_null());
		ht_json_set_int(r, "total_ms", total);
		ht_json_set_int(r, "longest_ms", longest);
		ht_json_set_int(r, "concurrency", s->concurrency);
		json_object_set_new(r, "overhead_ms", overhead >= 0 ? json_integer(overhead) : json_null());
		ht_json_set_int(r, "overhead_runs", runs);
		ht_json_set_int(r, "bound_ms", bound);
		json_object_set_new(r, "predicted_ms", known ? json_integer(lpt) : json_null());
		json_object_set_new(r, "listing_order_ms", known ? json_integer(listing) : json_null());
		if (s->nshards)
			json_object_set_new(r, "shard", json_pack("{s:i,s:i,s:s}", "index", s->shard + 1, "total",
								  s->nshards, "from", s->shard_from));
		ht_record_write(stdout, r, 0);
		json_decref(r);
		return;
	}
	printf("tests           %zu in %zu invocations: %zu known", members, n, known);
	if (median >= 0 && known < members)
		printf(", %zu at the median %ld ms", members - known, median);
	printf("\n");
	secs(total, a, sizeof(a));
	secs(longest, b, sizeof(b));
	printf("test time       %s in all, the longest %s\n", a, b);
	printf("concurrency     %ld\n", s->concurrency);
	if (overhead >= 0)
		printf("overhead        %ld ms per invocation (%s, the median of %d run%s)\n", overhead, provider, runs,
		       runs == 1 ? "" : "s");
	else
		printf("overhead        unknown (no run of %s in the history)\n", provider);
	secs(bound, a, sizeof(a));
	printf("lower bound     %s  max(longest, total / concurrency)\n", a);
	if (known) {
		secs(lpt, a, sizeof(a));
		secs(listing, c, sizeof(c));
		printf("predicted wall  %s  longest first (listing order: %s)\n", a, c);
	} else {
		printf("predicted wall  unknown: no test is in the history yet\n");
	}
	if (s->nshards)
		printf("shard           %d/%d (%s)\n", s->shard + 1, s->nshards, s->shard_from);
}

/*
 * Orders the records longest first (when any time is known), keeps only
 * this shard's, and renumbers their index. items[] is in plan order;
 * returns the records to write (new), with *nout their count and items[0
 * .. *nout) theirs, in that order.
 */
static json_t *schedule(const struct sched *s, json_t *records, struct ht_sched_item *items, size_t n, size_t known,
			size_t *nout)
{
	json_t *out = json_array();
	size_t i, k = 0;
	long long *loads = NULL, total = 0;

	if (s->nshards) {
		loads = ht_xcalloc((size_t)s->nshards, sizeof(*loads));
		ht_sched_shard(items, n, s->nshards, loads);
		for (i = 0; i < n; i++)
			if (items[i].shard == s->shard)
				items[k++] = items[i];
		for (i = 0; i < (size_t)s->nshards; i++)
			total += loads[i];
		if (ht_verbosity >= 0)
			fprintf(stderr, "%s: shard %d/%d (%s): %zu of %zu invocations, predicted %.1f s of %.1f s in all\n",
				ht_progname, s->shard + 1, s->nshards, s->shard_from, k, n,
				(double)loads[s->shard] / 1000.0, (double)total / 1000.0);
		free(loads);
	} else {
		k = n;
		if (known)
			ht_sched_lpt_sort(items, n);
	}
	if (!known)
		qsort(items, k, sizeof(*items), cmp_index);
	for (i = 0; i < k; i++) {
		json_t *rec = json_array_get(records, items[i].index);

		ht_json_set_int(rec, "index", (long long)i);
		json_array_append(out, rec);
	}
	*nout = k;
	return out;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		HT_COMMON_LONGOPTS,
		{ "output", required_argument, 0, 'o' },
		{ "run-id", required_argument, 0, OPT_RUN_ID },
		{ "durations", required_argument, 0, OPT_DURATIONS },
		{ "list-timeout", required_argument, 0, OPT_LIST_TIMEOUT },
		{ "grep", required_argument, 0, OPT_GREP },
		{ "failed", required_argument, 0, OPT_FAILED },
		{ "predict", no_argument, 0, OPT_PREDICT },
		{ "dry-run", no_argument, 0, OPT_PREDICT },
		{ "json", no_argument, 0, OPT_JSON },
		{ "concurrency", required_argument, 0, 'j' },
		{ "shard", required_argument, 0, OPT_SHARD },
		{ "shard-total", required_argument, 0, OPT_SHARD_TOTAL },
		{ 0, 0, 0, 0 },
	};
	const char *output = NULL, *run_id_opt = NULL, *durations_path = NULL, *grep = NULL, *failed_path = NULL;
	const char *shard_opt = NULL;
	struct select sel;
	struct sched sc;
	struct ht_sched_item *items;
	char run_tag[9];
	long shard_total = 0, median = -1;
	size_t known = 0, nout = 0, members = 0;
	json_t *out;
	char run_id[HT_ID_MAX + 1]; /* a UUID, or --run-id */
	const struct ht_runner_ops *ops;
	struct ht_test_list tests;
	struct ht_config cfg;
	json_t *durations = NULL, *records;
	long list_timeout_s = 0;
	size_t i;
	int c, rc;

	ht_diag_init(argv[0]);
	memset(&sc, 0, sizeof(sc));
	while ((c = getopt_long(argc, argv, HT_COMMON_SHORTOPTS "o:j:", longopts, NULL)) != -1) {
		if (ht_cli_common(&tool, c, optarg))
			continue;
		switch (c) {
		case 'o':
			output = optarg;
			break;
		case OPT_RUN_ID:
			run_id_opt = optarg;
			break;
		case OPT_DURATIONS:
			durations_path = optarg;
			break;
		case OPT_GREP:
			grep = optarg;
			break;
		case OPT_FAILED:
			failed_path = optarg;
			break;
		case OPT_PREDICT:
			sc.predict = 1;
			break;
		case OPT_JSON:
			sc.json = 1;
			break;
		case 'j':
			if (ht_parse_long(optarg, 1, ht_config_key_find("concurrency")->max, &sc.concurrency) < 0)
				ht_usage_error(&tool, "--concurrency: '%s' is not a number from 1 to %ld", optarg,
					       ht_config_key_find("concurrency")->max);
			break;
		case OPT_SHARD:
			shard_opt = optarg;
			if (ht_shard_parse(optarg, &sc.shard, &sc.nshards) < 0)
				ht_usage_error(&tool, "--shard: '%s' is not I/N with I from 1 to N, N from 1 to %d",
					       optarg, HT_SHARD_MAX);
			sc.shard_from = "--shard";
			break;
		case OPT_SHARD_TOTAL:
			if (ht_parse_long(optarg, 1, HT_SHARD_MAX, &shard_total) < 0)
				ht_usage_error(&tool, "--shard-total: '%s' is not a number from 1 to %d", optarg,
					       HT_SHARD_MAX);
			break;
		case OPT_LIST_TIMEOUT:
			if (ht_parse_long(optarg, 1, 86400, &list_timeout_s) < 0)
				ht_usage_error(&tool, "--list-timeout: '%s' is not a number of seconds (1 to 86400)", optarg);
			break;
		}
	}
	if (optind < argc)
		ht_usage_error(&tool, "unexpected argument '%s'", argv[optind]);
	if (run_id_opt && !ht_id_safe(run_id_opt))
		ht_usage_error(&tool, "--run-id: '%s' must be " HT_ID_RULE, run_id_opt);
	memset(&sel, 0, sizeof(sel));
	if (grep) {
		int e = regcomp(&sel.re, grep, REG_EXTENDED | REG_NOSUB);

		if (e) {
			char why[200];

			regerror(e, &sel.re, why, sizeof(why));
			ht_usage_error(&tool, "--grep: '%s' is not a regular expression: %s", grep, why);
		}
		sel.have_re = 1;
	}
	if (failed_path && durations_path && !strcmp(failed_path, "-") && !strcmp(durations_path, "-"))
		ht_usage_error(&tool, "--failed and --durations cannot both read stdin");
	if (sc.json && !sc.predict)
		ht_usage_error(&tool, "--json goes with --predict");
	if (!shard_opt) {
		char why[200];
		int e = ht_shard_from_env(getenv, shard_total, &sc.shard, &sc.nshards, &sc.shard_from, why, sizeof(why));

		if (e < 0)
			ht_usage_error(&tool, "%s", why);
	}

	ht_config_load_or_die(&cfg);
	if (ht_config_require(&cfg, "runner") < 0) {
		ht_config_release(&cfg);
		return HT_EXIT_CONFIG;
	}
	ops = ht_runner_find(cfg.runner.name ? cfg.runner.name : "command");
	if (!ops) {
		ht_config_error(&cfg, "runner.name", "unknown test runner '%s' (known: %s)", cfg.runner.name, ht_runner_names());
		ht_config_release(&cfg);
		return HT_EXIT_CONFIG;
	}
	if (run_id_opt)
		snprintf(run_id, sizeof(run_id), "%s", run_id_opt);
	else if (ht_uuid4(run_id) < 0)
		ht_die(HT_EXIT_SOFTWARE, "cannot make a run id");
	if (durations_path)
		durations = load_durations(durations_path);
	sc.durations = durations;
	if (sc.nshards) {
		ht_history_tag(run_id, run_tag);
		sc.tag = run_tag;
	}
	if (!sc.concurrency)
		sc.concurrency = cfg.concurrency > 0 ? cfg.concurrency : 1;
	if (failed_path)
		sel.failed = load_failed(failed_path);

	ht_test_list_init(&tests);
	rc = ops->list(&cfg, list_timeout_s * 1000, &tests);
	if (rc) {
		ht_test_list_release(&tests);
		ht_config_release(&cfg);
		json_decref(durations);
		return rc;
	}

	if (grep || failed_path) {
		size_t before = tests.n;

		ht_test_list_filter(&tests, keep_test, &sel);
		if (tests.n == 0) {
			ht_error("no test left of %zu: %s%s%s", before, grep ? "none matches --grep" : "",
				 grep && failed_path ? " and " : "",
				 failed_path ? "none failed, timed out or errored in --failed's results" : "");
			rc = HT_EXIT_NOINPUT;
		}
	}
	if (sel.have_re)
		regfree(&sel.re);
	json_decref(sel.failed);
	if (rc) {
		ht_test_list_release(&tests);
		ht_config_release(&cfg);
		json_decref(durations);
		return rc;
	}

	/* Plan everything before writing anything: a plan is whole or absent. */
	records = json_array();
	for (i = 0; i < tests.n; i++) {
		const struct ht_test_entry *t = &tests.v[i];
		char *id = ht_test_id(t->name);
		json_t *rec, *run;

		rc = ops->plan(&cfg, t, id, &run);
		if (rc) {
			free(id);
			break;
		}
		rec = ht_record_new("ht.test/1");
		ht_json_set_str(rec, "run_id", run_id);
		ht_json_set_str(rec, "test_id", id);
		ht_json_set_str(rec, "name", t->name);
		ht_json_set_str(rec, "file", t->file);
		ht_json_set_str(rec, "runner", ops->name);
		ht_json_set_int(rec, "index", (long long)i);
		ht_json_set_int(rec, "timeout_s", cfg.timeout_s);
		/* How many tests it runs, for batching (a file or a class). */
		if (t->nmembers)
			ht_json_set_int(rec, "members", (long long)t->nmembers);
		/* ht-runner's default unless the config says otherwise. */
		if (cfg.runner.max_output_mb != 10)
			ht_json_set_int(rec, "max_output_mb", cfg.runner.max_output_mb);
		json_object_set_new(rec, "run", run);
		json_array_append_new(records, rec);
		free(id);
	}
	if (!rc) {
		sc.hist = cfg.history.enabled ? history_read(&cfg) : NULL;
		items = ht_xcalloc(tests.n + 1, sizeof(*items));
		known = expect_all(&sc, &tests, records, items, &median);
		for (i = 0; i < tests.n; i++)
			members += tests.v[i].nmembers ? tests.v[i].nmembers : 1;
		out = schedule(&sc, records, items, tests.n, known, &nout);
		if (sc.predict)
			predict(&sc, &cfg, run_id, items, nout, known, members, median);
		json_decref(records);
		records = out;
		free(items);
		json_decref(sc.hist);
	}
	if (!rc) {
		/* Groups and batches (docs/scheduling.md), once expected_ms is
		 * known and the plan (or this shard of it) is in LPT order:
		 * batches of short tests come last, ht-invoke starts them by
		 * their summed expected_ms. */
		json_t *packed;

		ht_groups_assign(records, cfg.groups);
		packed = ht_batch_pack(records, &cfg);
		json_decref(records);
		records = packed;
	}
	if (!rc && (output || !sc.predict)) {
		struct ht_atomic_file af;
		FILE *fp = stdout;
		json_t *rec;
		size_t k;

		if (output) {
			if (ht_atomic_open(&af, output, 0644) < 0)
				ht_die(HT_EXIT_IOERR, "cannot write '%s'", output);
			fp = af.fp;
		}
		json_array_foreach(records, k, rec) {
			if (ht_record_write(fp, rec, 0) < 0)
				break;
		}
		if (output) {
			if (ferror(fp)) {
				ht_atomic_abort(&af);
				ht_error("cannot write '%s': %s", output, strerror(errno));
				rc = HT_EXIT_IOERR;
			} else if (ht_atomic_commit(&af) < 0) {
				rc = HT_EXIT_IOERR;
			}
		}
		if (!rc)
			ht_info("planned %zu tests, run %s", nout, run_id);
	}
	json_decref(records);
	json_decref(durations);
	ht_test_list_release(&tests);
	ht_config_release(&cfg);
	return ht_finish_stdout(rc);
}
