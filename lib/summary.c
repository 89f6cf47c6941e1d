/*
 * summary.c: the run summary in the bucket. See include/ht/summary.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "ht/bucket.h"
#include "ht/diag.h"
#include "ht/summary.h"
#include "ht/util.h"

/* Drops the file (it stays on disk until close removes it). */
static void broken(struct ht_summary *s)
{
	ht_warning("cannot write the run summary '%s': %s", s->path, strerror(errno));
	fclose(s->fp);
	s->fp = NULL;
}

int ht_summary_open(struct ht_summary *s, const char *run_id, const char *provider, int64_t start_wall_ms)
{
	const char *tmp = getenv("TMPDIR");
	char started[32];
	int fd;

	memset(s, 0, sizeof(*s));
	s->start_wall_ms = start_wall_ms;
	s->path = ht_xasprintf("%s/ht-invoke-summary.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	fd = mkstemp(s->path);
	if (fd < 0 || !(s->fp = fdopen(fd, "w+"))) {
		ht_warning("cannot create '%s': %s: no run summary", s->path, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(s->path);
		}
		free(s->path);
		s->path = NULL;
		return -1;
	}
	ht_format_time(start_wall_ms, started);
	if (fprintf(s->fp, "{\"schema\":\"ht.summary/1\",\"run_id\":\"%s\",\"provider\":\"%s\","
		    "\"started_at\":\"%s\",\"results\":[\n", run_id, provider, started) < 0)
		broken(s);
	return 0;
}

void ht_summary_add_text(struct ht_summary *s, const char *text, size_t len)
{
	if (!s->fp)
		return;
	/* Unflushed: the summary is read once, at the end. */
	if ((s->n++ && fputc(',', s->fp) == EOF) || fwrite(text, 1, len, s->fp) != len || fputc('\n', s->fp) == EOF)
		broken(s);
}

void ht_summary_add(struct ht_summary *s, json_t *rec)
{
	char *text;

	if (!s->fp)
		return;
	text = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!text) {
		broken(s);
		return;
	}
	ht_summary_add_text(s, text, strlen(text));
	free(text);
}

/* The tail: the run's shape, its settings, its totals. 0 or -1. */
static int finish(struct ht_summary *s, const struct ht_summary_totals *t)
{
	int64_t end_wall = ht_wall_ms(), wall = end_wall - s->start_wall_ms;
	char ended[32];

	ht_format_time(end_wall, ended);
	fprintf(s->fp, "],\"wall_ms\":%lld,\"test_ms\":%lld,\"speedup\":%.2f,\"concurrency\":%ld,"
		"\"retries\":%ld,\"infra_retries\":%ld,\"flaky_fails\":%s",
		(long long)wall, (long long)t->test_ms, wall > 0 ? (double)t->test_ms / (double)wall : 0.0,
		t->concurrency, t->retries, t->infra_retries, t->flaky_fails ? "true" : "false");
	if (t->about && json_object_size(t->about)) {
		/* The object's members, without its braces, into ours. */
		char *obj = json_dumps(t->about, JSON_COMPACT | JSON_PRESERVE_ORDER);
		size_t n = obj ? strlen(obj) : 0;

		if (n > 2)
			fprintf(s->fp, ",%.*s", (int)(n - 2), obj + 1);
		free(obj);
	}
	fprintf(s->fp, ",\"finished_at\":\"%s\",\"duration_ms\":%lld,\"total\":%d,\"counts\":"
		"{\"passed\":%d,\"failed\":%d,\"timed_out\":%d,\"error\":%d,\"flaky\":%d,\"skipped\":%d,"
		"\"interrupted\":%d},\"ok\":%s}\n", ended, (long long)wall, t->total, t->passed, t->failed,
		t->timed_out, t->errors, t->flaky, t->skipped, t->interrupted, t->ok ? "true" : "false");
	if (fflush(s->fp) == EOF || ferror(s->fp)) {
		ht_warning("cannot write the run summary '%s': %s", s->path, strerror(errno));
		return -1;
	}
	return 0;
}

void ht_summary_close(struct ht_summary *s, const char *run_id, const struct ht_summary_totals *t,
		      struct ht_bucket *b)
{
	if (s->fp) {
		int ok = finish(s, t) == 0;

		if (fclose(s->fp) == EOF)
			ok = 0;
		s->fp = NULL;
		if (ok && !b) {
			ht_warning("no bucket: the run summary of '%s' was not stored", run_id);
		} else if (ok) {
			char *key = ht_xasprintf("%s/%s", run_id, HT_SUMMARY_NAME);
			char *where = ht_bucket_where(b, key);

			if (ht_bucket_put_file(b, key, s->path) < 0) {
				ht_warning("cannot upload the run summary to %s", where);
			} else {
				ht_info("run summary: %s", where);
				s->stored = 1;
			}
			free(where);
			free(key);
		}
	}
	/* Our temporary only: never a final file. */
	if (s->path)
		unlink(s->path);
	free(s->path);
	s->path = NULL;
}
