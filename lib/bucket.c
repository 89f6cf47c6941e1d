/*
 * bucket.c: the bucket interface: a URL picks a kind by its scheme from
 * ht_bucket_kinds[] (defined with the providers), keys are checked here,
 * and the kind's table does the rest.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ht/bucket.h"
#include "ht/diag.h"
#include "ht/util.h"

const char *ht_bucket_begin(struct ht_bucket *b, const char *url, const struct ht_bucket_ops *ops)
{
	size_t n = strlen(ops->scheme);

	memset(b, 0, sizeof(*b));
	b->url = ht_xstrdup(url ? url : "");
	if (strncmp(b->url, ops->scheme, n) != 0 || strncmp(b->url + n, "://", 3) != 0) {
		ht_error("bucket '%s': not a %s:// URL", b->url, ops->scheme);
		return NULL;
	}
	b->ops = ops;
	return b->url + n + 3;
}

int ht_bucket_open(struct ht_bucket *b, const char *url)
{
	const char *sep = url ? strstr(url, "://") : NULL;
	const char *rest;
	int i;

	memset(b, 0, sizeof(*b));
	for (i = 0; sep && ht_bucket_kinds[i]; i++) {
		const struct ht_bucket_ops *k = ht_bucket_kinds[i];

		if (strlen(k->scheme) == (size_t)(sep - url) && strncmp(url, k->scheme, (size_t)(sep - url)) == 0) {
			rest = ht_bucket_begin(b, url, k);
			return rest ? k->open(b, rest) : -1;
		}
	}
	b->url = ht_xstrdup(url ? url : "");
	return ht_error("bucket '%s': not a bucket URL (file:///dir or s3://name)", b->url);
}

char *ht_bucket_where(struct ht_bucket *b, const char *key)
{
	size_t n = b->url ? strlen(b->url) : 0;

	if (b->ops && b->ops->where)
		return b->ops->where(b, key);
	while (n > 0 && b->url[n - 1] == '/')
		n--;
	return ht_xasprintf("%.*s/%s", (int)n, b->url ? b->url : "", key);
}

const char *ht_bucket_content_type(const char *key)
{
	static const struct { const char *ext, *type; } types[] = {
		{ ".txt", "text/plain; charset=utf-8" }, { ".log", "text/plain; charset=utf-8" },
		{ ".out", "text/plain; charset=utf-8" }, { ".tap", "text/plain; charset=utf-8" },
		{ ".md", "text/markdown; charset=utf-8" }, { ".csv", "text/csv; charset=utf-8" },
		{ ".json", "application/json" }, { ".jsonl", "application/x-ndjson" },
		{ ".xml", "application/xml" }, { ".html", "text/html; charset=utf-8" },
		{ ".htm", "text/html; charset=utf-8" }, { ".css", "text/css" }, { ".js", "text/javascript" },
		{ ".svg", "image/svg+xml" }, { ".png", "image/png" }, { ".jpg", "image/jpeg" },
		{ ".jpeg", "image/jpeg" }, { ".gif", "image/gif" }, { ".webp", "image/webp" },
		{ ".webm", "video/webm" }, { ".mp4", "video/mp4" }, { ".pdf", "application/pdf" },
		{ ".zip", "application/zip" }, { ".gz", "application/gzip" }, { ".tgz", "application/gzip" },
		{ ".tar", "application/x-tar" },
	};
	const char *slash = strrchr(key, '/');
	const char *dot = strrchr(slash ? slash : key, '.');
	size_t i;

	if (dot)
		for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (strcasecmp(dot, types[i].ext) == 0)
				return types[i].type;
	return "application/octet-stream";
}

void ht_bucket_release(struct ht_bucket *b)
{
	if (b->ops && b->ops->release)
		b->ops->release(b);
	else
		free(b->priv);
	free(b->url);
	memset(b, 0, sizeof(*b));
}

int ht_bucket_key_valid(const char *key)
{
	const char *seg = key, *p;
	size_t n = strlen(key);

	if (n == 0 || n > 1024 || *key == '/')
		return 0;
	for (p = key;; p++) {
		if ((unsigned char)*p < 0x20 && *p != '\0')
			return 0;
		if (*p == '/' || *p == '\0') {
			size_t l = (size_t)(p - seg);

			if (l == 0 || (l == 1 && seg[0] == '.') || (l == 2 && seg[0] == '.' && seg[1] == '.'))
				return 0;
			if (!*p)
				return 1;
			seg = p + 1;
		}
	}
}

static int usable(struct ht_bucket *b, const char *key)
{
	if (!b->ops)
		return ht_error("bucket '%s' is not open", b->url ? b->url : "");
	if (!ht_bucket_key_valid(key))
		return ht_error("bucket '%s': '%s' is not a valid key", b->url, key);
	return 0;
}

int ht_bucket_put_file(struct ht_bucket *b, const char *key, const char *path)
{
	if (usable(b, key) < 0)
		return -1;
	return b->ops->put_file(b, key, path);
}

int ht_bucket_put(struct ht_bucket *b, const char *key, const void *data, size_t len)
{
	if (usable(b, key) < 0)
		return -1;
	return b->ops->put(b, key, data, len);
}

int ht_bucket_get(struct ht_bucket *b, const char *key, size_t max, char **out, size_t *len)
{
	if (usable(b, key) < 0)
		return -1;
	return b->ops->get(b, key, max, out, len);
}

int ht_bucket_get_if_any(struct ht_bucket *b, const char *key, size_t max, char **out, size_t *len)
{
	int rc;

	if (usable(b, key) < 0)
		return -1;
	b->missing_ok = 1;
	rc = b->ops->get(b, key, max, out, len);
	b->missing_ok = 0;
	return rc;
}

size_t ht_bucket_put_files(struct ht_bucket *b, struct ht_bucket_item *items, size_t n)
{
	struct ht_bucket_item **valid;
	struct ht_bucket_item *batch;
	size_t i, nv = 0, failed = 0;

	valid = ht_xcalloc(n ? n : 1, sizeof(*valid));
	for (i = 0; i < n; i++) {
		items[i].ok = 0;
		items[i].error[0] = '\0';
		if (!b->ops)
			snprintf(items[i].error, sizeof(items[i].error), "the bucket is not open");
		else if (!ht_bucket_key_valid(items[i].key))
			snprintf(items[i].error, sizeof(items[i].error), "'%s' is not a valid key", items[i].key);
		else
			valid[nv++] = &items[i];
		if (items[i].error[0])
			failed++;
	}
	if (nv && b->ops->put_files) {
		/* The operation takes an array: copy the valid ones and back. */
		batch = ht_xcalloc(nv, sizeof(*batch));
		for (i = 0; i < nv; i++)
			batch[i] = *valid[i];
		failed += b->ops->put_files(b, batch, nv);
		for (i = 0; i < nv; i++)
			*valid[i] = batch[i];
		free(batch);
	} else {
		for (i = 0; i < nv; i++) {
			int late = b->deadline_ms && ht_now_ms() >= b->deadline_ms;

			valid[i]->ok = !late && b->ops->put_file(b, valid[i]->key, valid[i]->path) == 0;
			if (!valid[i]->ok) {
				late = late || (b->deadline_ms && ht_now_ms() >= b->deadline_ms);
				if (late)
					snprintf(valid[i]->error, sizeof(valid[i]->error), "%s", HT_BUCKET_LATE);
				else
					snprintf(valid[i]->error, sizeof(valid[i]->error), "'%s' could not be stored",
						 valid[i]->key);
				failed++;
			}
		}
	}
	free(valid);
	return failed;
}
