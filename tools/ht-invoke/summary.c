/*
 * The end of an ht-invoke run: the summary lines for a person on stderr,
 * the run summary in the provider's bucket (include/ht/summary.h), the
 * duration history (include/ht/history.h), and where everything is.
 */
#include <stdio.h>
#include <stdlib.h>

#include "ht/bucket.h"
#include "ht/id.h"
#include "tools/ht-invoke/invoke.h"

void inv_summary(struct run *r)
{
	char el[32];
	struct ht_buf b = HT_BUF_INIT;

	inv_progress_clear(r);
	r->progress = 0;
	if (ht_verbosity < 0)
		return;
	inv_format_secs(ht_now_ms() - r->start_ms, el, sizeof(el));
	ht_buf_addf(&b, "%d test%s in %s: %d passed", r->records, r->records == 1 ? "" : "s", el, r->passed);
	if (r->failed)
		ht_buf_addf(&b, ", %d failed", r->failed);
	if (r->timed_out)
		ht_buf_addf(&b, ", %d timed out", r->timed_out);
	if (r->errors)
		ht_buf_addf(&b, ", %d error%s", r->errors, r->errors == 1 ? "" : "s");
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
	{
		const char *msg;
		json_t *n;

		json_object_foreach(r->errors_seen, msg, n)
			if (json_integer_value(n) > 1)
				fprintf(stderr, "  %-11s %lld more test%s: %s\n", "error", json_integer_value(n) - 1,
					json_integer_value(n) == 2 ? "" : "s", msg);
	}
	ht_buf_release(&b);
}

/* The run summary (include/ht/summary.h) of the plan's run id, and where
 * its artifacts are in the provider's bucket. */
void inv_summary_open(struct run *r, const struct ht_config *cfg)
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
	ht_history_run_init(&r->hist, r->run_id, r->ops->name);
}

/* Adds the run's durations to the history (docs/scheduling.md), once,
 * at the end; a history that cannot be stored is a warning. */
static void history_close(struct run *r, const struct ht_config *cfg)
{
	struct ht_history_opts o = { (double)cfg->history.keep_runs, cfg->history.max_tests };
	struct ht_bucket b;
	const char *key = NULL;
	int rc;

	if (!r->hist.tests)
		return;
	rc = ht_history_open(cfg, r->ops->bucket, &b, &key);
	if (rc == 0)
		ht_history_store(&b, key, &r->hist, &o);
	else if (rc < 0)
		ht_warning("no history: this run's durations were not recorded");
	ht_bucket_release(&b);
	ht_history_run_release(&r->hist);
}

/* Ends the summary and stores it in the provider's bucket. A summary
 * that cannot be stored is a warning: the exit code stays what the
 * results say, as the records on stdout are what matters. */
void inv_summary_close(struct run *r, const struct ht_config *cfg)
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
	history_close(r, cfg);
}

/* The last lines for a person: where the results, the artifacts and the
 * report are. */
void inv_where_lines(const struct run *r)
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
