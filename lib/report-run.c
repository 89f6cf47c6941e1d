/*
 * report-run.c: where a report's results and artifacts live: a run read
 * back from the provider's bucket (--run), and the links to artifacts
 * from wherever a report file is written.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ht/ht.h"
#include "ht/bucket.h"
#include "ht/provider.h"
#include "ht/report.h"
#include "ht/summary.h"

/* The run summary's name under <run_id>/ in the bucket (ht-invoke's). */
#define RUN_SUMMARY HT_SUMMARY_NAME
/* The largest run summary read: 10,000 results of a few KiB each fit. */
#define RUN_SUMMARY_MAX (512u * 1024 * 1024)

/* The directory of a file:// bucket (borrowed from its URL), or NULL. */
static const char *bucket_dir(const struct ht_bucket *b)
{
	return b->url && !strncmp(b->url, "file://", 7) ? b->url + 7 : NULL;
}

/* Takes where the bucket b is: its directory, else its URL. */
static void set_where(struct ht_report *r, const struct ht_bucket *b)
{
	const char *dir = bucket_dir(b);

	free(r->artifact_where);
	if (dir) {
		char *abs = realpath(dir, NULL);

		r->artifact_where = abs ? abs : ht_xstrdup(dir);
		r->artifact_dir = 1;
	} else {
		size_t n = strlen(b->url);

		r->artifact_where = ht_xstrdup(b->url);
		if (n && r->artifact_where[n - 1] == '/')
			r->artifact_where[n - 1] = '\0';
		r->artifact_dir = 0;
	}
}

static int open_bucket(const struct ht_config *cfg, struct ht_bucket *b)
{
	const char *name = cfg->provider ? cfg->provider : "local";
	const struct ht_provider_ops *ops = ht_provider_find(name);

	memset(b, 0, sizeof(*b));
	if (!ops) {
		ht_error("provider '%s' is not built in (built in: %s)", name, ht_provider_names());
		return HT_EXIT_CONFIG;
	}
	if (!ops->bucket) {
		ht_error("provider '%s' keeps no bucket", name);
		return HT_EXIT_CONFIG;
	}
	if (ops->bucket(cfg, b) < 0)
		return HT_EXIT_UNAVAILABLE;
	return 0;
}

int ht_report_read_run(struct ht_report *r, const struct ht_config *cfg, const char *run_id)
{
	struct ht_bucket b;
	char *key, *data = NULL;
	size_t len = 0;
	int rc;

	if (!*run_id || strchr(run_id, '/') || !strcmp(run_id, ".") || !strcmp(run_id, "..")) {
		ht_error("'%s' is not a run id", run_id);
		return HT_EXIT_USAGE;
	}
	rc = open_bucket(cfg, &b);
	if (rc) {
		ht_bucket_release(&b);
		return rc;
	}
	key = ht_xasprintf("%s/%s", run_id, RUN_SUMMARY);
	errno = 0;
	if (ht_bucket_get(&b, key, RUN_SUMMARY_MAX, &data, &len) < 0) {
		rc = errno == ENOENT ? HT_EXIT_NOINPUT : errno == EACCES ? HT_EXIT_NOPERM : HT_EXIT_UNAVAILABLE;
		if (errno == ENOENT)
			ht_error("no run '%s' in the bucket %s (no %s)", run_id, b.url, key);
	} else {
		char *name = ht_bucket_where(&b, key);

		set_where(r, &b);
		rc = ht_report_read_buf(r, data, len, name);
		free(name);
	}
	free(data);
	free(key);
	ht_bucket_release(&b);
	return rc;
}

int ht_report_find_bucket(struct ht_report *r, const struct ht_config *cfg)
{
	struct ht_bucket b;
	int rc = open_bucket(cfg, &b);

	if (!rc)
		set_where(r, &b);
	ht_bucket_release(&b);
	return rc;
}

void ht_report_set_artifacts(struct ht_report *r, const char *base)
{
	size_t n = strlen(base);

	free(r->artifact_where);
	r->artifact_where = ht_xstrdup(base);
	if (n > 1 && r->artifact_where[n - 1] == '/')
		r->artifact_where[n - 1] = '\0';
	r->artifact_dir = 0;
	free(r->artifact_base);
	r->artifact_base = ht_xasprintf("%s/", r->artifact_where);
	r->artifact_fixed = 1;
}

/* The length of the path component at p (up to '/' or the end). */
static size_t comp_len(const char *p)
{
	return strcspn(p, "/");
}

/*
 * The path to dir from the directory from, both absolute and normalised
 * (realpath): "../bucket". New string; "." when they are the same.
 */
static char *relative(const char *from, const char *dir)
{
	struct ht_buf b = HT_BUF_INIT;
	const char *f = from, *d = dir;

	/* Skip the components they share. */
	for (;;) {
		size_t nf, nd;

		while (*f == '/')
			f++;
		while (*d == '/')
			d++;
		nf = comp_len(f);
		nd = comp_len(d);
		if (!nf || nf != nd || strncmp(f, d, nf))
			break;
		f += nf;
		d += nd;
	}
	/* Up from what is left of from, then down to what is left of dir. */
	while (*f) {
		size_t n = comp_len(f);

		if (n)
			ht_buf_addstr(&b, "../");
		f += n;
		while (*f == '/')
			f++;
	}
	ht_buf_addstr(&b, d);
	if (!b.len)
		ht_buf_addstr(&b, ".");
	while (b.len > 1 && b.data[b.len - 1] == '/')
		b.data[--b.len] = '\0';
	return ht_buf_detach(&b);
}

void ht_report_link_from(struct ht_report *r, const char *path)
{
	char *copy, *slash, *from;

	if (r->artifact_fixed || !r->artifact_where)
		return;
	free(r->artifact_base);
	r->artifact_base = NULL;
	if (!r->artifact_dir) {
		r->artifact_base = ht_xasprintf("%s/", r->artifact_where);
		return;
	}
	copy = ht_xstrdup(path);
	slash = strrchr(copy, '/');
	if (slash)
		*slash = '\0';
	from = realpath(slash ? (*copy ? copy : "/") : ".", NULL);
	if (from) {
		char *rel = relative(from, r->artifact_where);

		r->artifact_base = ht_xasprintf("%s/", rel);
		free(rel);
		free(from);
	} else {
		r->artifact_base = ht_xasprintf("file://%s/", r->artifact_where);
	}
	free(copy);
}
