/*
 * summary.h: the run summary, <run_id>/hypertest.results.json in a bucket:
 * one ht.summary/1 object with the run's times, totals, settings and every
 * final result record (docs/ht-invoke.md). ht-invoke writes it while the
 * results come, into a temporary file, members in an order that holds
 * nothing in memory (the head, the results array, the tail), and stores
 * it in the bucket once at the end; ht-report reads it back.
 *
 * Ownership: struct ht_summary owns its file and strings until
 * ht_summary_close(); records and buckets passed in are borrowed.
 */
#ifndef HT_SUMMARY_H
#define HT_SUMMARY_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

struct ht_bucket;

/* The summary's name under <run_id>/ in the bucket. */
#define HT_SUMMARY_NAME "hypertest.results.json"

struct ht_summary {
	FILE *fp;        /* NULL when there is no summary (any more) */
	char *path;      /* the temporary file */
	int n;           /* records written */
	int stored;      /* ht_summary_close() stored it */
	int64_t start_wall_ms;
};

/* The run's totals and the settings that made it, for the tail. */
struct ht_summary_totals {
	int total, passed, failed, timed_out, errors, flaky, skipped, interrupted;
	int ok;
	int64_t test_ms;  /* the sum of every attempt's own time */
	long concurrency, retries, infra_retries;
	int flaky_fails;
	json_t *about;    /* borrowed, may be NULL: members added as they are
	                     (the provider's "image", "function", "sandbox"...) */
};

/*
 * Starts the summary of run run_id (a safe id) on provider, begun at
 * start_wall_ms, in a temporary file under $TMPDIR. Returns 0, or -1 after
 * a warning (s then has no file: every other call does nothing).
 */
int ht_summary_open(struct ht_summary *s, const char *run_id, const char *provider, int64_t start_wall_ms);
/* Appends one final result record (borrowed). A write that fails ends
 * the summary with a warning; the run goes on. */
void ht_summary_add(struct ht_summary *s, json_t *rec);
/* The same for the record encoded as one compact line (borrowed, len
 * bytes, no newline), as ht_record_write_text() takes it. */
void ht_summary_add_text(struct ht_summary *s, const char *text, size_t len);
/*
 * Writes the tail, stores the file under <run_id>/HT_SUMMARY_NAME in b
 * (may be NULL: not stored) and removes the temporary file. A summary
 * that cannot be written or stored is a warning (s->stored stays 0).
 */
void ht_summary_close(struct ht_summary *s, const char *run_id, const struct ht_summary_totals *t,
		      struct ht_bucket *b);

#endif
