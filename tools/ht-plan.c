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
#include "ht/id.h"
#include "ht/runner.h"

static const struct ht_tool tool = {
	"ht-plan", "[OPTIONS]",
	"List the tests through the test-runner plugin; one ht.test/1 record per invocation.",
	"  -o, --output FILE        write the records to FILE (atomically) instead of stdout\n"
	"      --run-id ID          use ID as the run id instead of a new random UUID\n"
	"      --durations FILE     take each test's expected_ms from an earlier results\n"
	"                           file (ht.result/1 JSON Lines, '-' for stdin)\n"
	"      --list-timeout SECS  how long a listing command may take (default 120)\n"
	"      --grep REGEX         only the tests whose name matches REGEX (POSIX extended)\n"
	"      --failed FILE        only the tests that failed, timed out or errored in an\n"
	"                           earlier results file (ht.result/1 JSON Lines, '-' for stdin)\n",
};

enum { OPT_RUN_ID = 0x2000, OPT_DURATIONS, OPT_LIST_TIMEOUT, OPT_GREP, OPT_FAILED };

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
		{ 0, 0, 0, 0 },
	};
	const char *output = NULL, *run_id_opt = NULL, *durations_path = NULL, *grep = NULL, *failed_path = NULL;
	struct select sel;
	char run_id[HT_ID_MAX + 1]; /* a UUID, or --run-id */
	const struct ht_runner_ops *ops;
	struct ht_test_list tests;
	struct ht_config cfg;
	json_t *durations = NULL, *records;
	long list_timeout_s = 0;
	size_t i;
	int c, rc;

	ht_diag_init(argv[0]);
	while ((c = getopt_long(argc, argv, HT_COMMON_SHORTOPTS "o:", longopts, NULL)) != -1) {
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
		json_t *rec, *run, *d;

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
		d = durations ? json_object_get(durations, id) : NULL;
		if (d)
			ht_json_set_int(rec, "expected_ms", json_integer_value(d));
		ht_json_set_int(rec, "timeout_s", cfg.timeout_s);
		json_object_set_new(rec, "run", run);
		json_array_append_new(records, rec);
		free(id);
	}
	if (!rc) {
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
			ht_info("planned %zu tests, run %s", tests.n, run_id);
	}
	json_decref(records);
	json_decref(durations);
	ht_test_list_release(&tests);
	ht_config_release(&cfg);
	return ht_finish_stdout(rc);
}
