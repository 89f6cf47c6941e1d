/*
 * ht-invoke: invoke the function once per ht.test/1 record, at most
 * `concurrency` at a time, and stream one ht.result/1 record per test as
 * each finishes. See docs/ht-invoke.md.
 *
 * Memory stays flat in the number of tests: each pending test is one
 * compact record string and a few counters; a result is written and
 * forgotten the moment it is known (but its test_id, kind and duration,
 * kept for the duration history, include/ht/history.h).
 *
 * This file reads the options and the plan and runs the loop; the parts
 * are in tools/ht-invoke/: the queue (queue.c), the records (results.c)
 * and the end of the run (summary.c), sharing tools/ht-invoke/invoke.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ht/ht.h"
#include "ht/process.h"
#include "ht/plan.h"
#include "tools/ht-invoke/invoke.h"

static const struct ht_tool tool = {
	"ht-invoke", "[OPTIONS] [FILE]",
	"Run each ht.test/1 record of FILE (or stdin) as one invocation; write ht.result/1 records.",
	"  -j, --concurrency N   invocations in flight at most (config: concurrency)\n"
	"      --retries N       retries of a failed or timed-out test (config: retries)\n"
	"      --infra-retries N retries of an infrastructure failure (config: infra_retries)\n"
	"      --flaky-fails     a flaky test fails the run (config: flaky_fails)\n"
	"  -o, --output FILE     write the results to FILE (atomically) instead of stdout\n",
};

/* Open files one invocation in flight takes, and those the rest takes. */
#define FDS_PER_INVOCATION 2
#define FDS_RESERVE 64

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
	t->has_attempt = json_object_get(rec, "attempt") != NULL;
	t->expected_ms = json_is_integer(json_object_get(rec, "expected_ms")) ?
		(long)json_integer_value(json_object_get(rec, "expected_ms")) : -1;
	t->timeout_s = timeout_s;
	t->retry_next = -1;
	t->slot = -1;
	t->group = ht_groups_add(&r->groups, ht_json_str(rec, "group", NULL), (long)ht_json_int(rec, "group_max", 1));
	return 0;
}

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
	struct ht_provider_opts popts = { 0, NULL, 0 };
	struct ht_atomic_file af;
	const char *in_name = "stdin", *output = NULL;
	char *tty_output = NULL;   /* <dir>/results.jsonl when stdout is a terminal */
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
	if (ht_config_load(&cfg, ht_cli.config_path, ht_cli.sets) < 0) {
		ht_config_release(&cfg); /* the first error, kept for the caller */
		return HT_EXIT_CONFIG;
	}

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
		code = inv_drift_check(&r, &cfg);
		if (code)
			goto out;
	}

	if (!output && isatty(STDOUT_FILENO)) {
		/* Records are not for a terminal: they go to the state
		 * directory, the summary to the terminal (docs/ht-invoke.md). */
		char *dir = ht_config_state_path(&cfg, "");

		tty_output = ht_config_state_path(&cfg, "results.jsonl");
		if (ht_mkdir_p(dir, 0755) < 0) {
			free(dir);
			code = HT_EXIT_IOERR;
			goto out;
		}
		free(dir);
		output = tty_output;
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

	inv_order(&r);
	r.progress = isatty(2) && ht_verbosity >= 0;
	r.stream_failures = !isatty(2);
	r.output = output;
	r.slot_busy = ht_xcalloc((size_t)r.concurrency, 1);
	r.start_ms = ht_now_ms();
	r.start_wall_ms = ht_wall_ms();
	if (r.n > 0)
		inv_summary_open(&r, &cfg);

	while (r.done < r.n && !ht_stop_signal) {
		struct ht_completion comp[32];
		int n, k;

		while (r.running < r.concurrency && !ht_stop_signal) {
			int next = inv_pick_next(&r);

			if (next < 0)
				break;
			inv_start(&r, next);
		}
		inv_flush_results(&r);
		if (r.done >= r.n)
			break;
		n = r.ops->poll(r.prov, comp, 32, 200);
		if (n < 0) {
			code = HT_EXIT_SOFTWARE;
			break;
		}
		for (k = 0; k < n; k++) {
			inv_complete(&r, &comp[k]);
			ht_completion_release(&comp[k]);
		}
		inv_flush_results(&r);
		inv_progress_draw(&r, 0);
	}
	if (ht_stop_signal) {
		struct ht_completion comp[32];
		int n, k;

		/* What already finished is a real result. */
		while ((n = r.ops->poll(r.prov, comp, 32, 0)) > 0) {
			for (k = 0; k < n; k++) {
				inv_complete(&r, &comp[k]);
				ht_completion_release(&comp[k]);
			}
		}
		r.ops->close(r.prov);
		r.prov = NULL;
		inv_progress_clear(&r);
		ht_warning("interrupted by %s: %d test%s did not finish", strsignal(ht_stop_signal),
			   r.n - r.done, r.n - r.done == 1 ? "" : "s");
		inv_write_interrupted(&r);
		code = HT_EXIT_INTERRUPTED;
	} else if (!code) {
		code = r.credentials ? HT_EXIT_NOPERM :
		       (r.failed || r.timed_out || r.errors || (r.flaky && r.flaky_fails)) ? HT_EXIT_FAILED : HT_EXIT_OK;
	}
	inv_flush_results(&r);
	inv_summary(&r);
	if (r.prov) {
		r.ops->close(r.prov);
		r.prov = NULL;
	}
	inv_summary_close(&r, &cfg);
	inv_where_lines(&r);
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
		inv_summary_close(&r, &cfg);
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
	free(tty_output);
	ht_groups_release(&r.groups);
	ht_buf_release(&r.problems);
	ht_buf_release(&r.unflushed);
	json_decref(r.errors_seen);
	ht_config_release(&cfg);
	return ht_finish_stdout(code);
}