/*
 * bucket.c: the s3:// kind of bucket (include/ht/bucket.h): objects in an
 * S3 bucket under an optional prefix, with a content type from the key's
 * extension; batches go up on one multi handle, 16 at a time.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ht/bucket.h"
#include "ht/diag.h"
#include "ht/http.h"
#include "ht/provider.h"
#include "ht/util.h"
#include "providers/aws/aws.h"
#include "providers/aws/bucket.h"
#include "providers/aws/s3.h"
#include "providers/aws/settings.h"

/* S3 uploads at once in a batch. */
#define S3_PARALLEL 16

/* b->priv of an s3 bucket. */
struct s3 {
	struct ht_aws aws;
	char *name;
	char *prefix; /* from the URL, ending in '/'; "" for none */
};

/* The object key of a bucket key: the URL's prefix, then key. New. */
static char *s3_key(struct ht_bucket *b, const char *key)
{
	struct s3 *s = b->priv;

	return ht_xasprintf("%s%s", s->prefix, key);
}

static int s3_open_with(struct ht_bucket *b, const char *rest, const struct ht_aws_opts *o)
{
	struct s3 *s;
	struct ht_aws_error e;
	const char *slash = strchr(rest, '/');
	size_t n = slash ? (size_t)(slash - rest) : strlen(rest);

	if (n < 3 || n > 63)
		return ht_error("bucket '%s': expected s3://NAME[/PREFIX] with a bucket name of 3 to 63 characters",
				b->url);
	s = ht_xcalloc(1, sizeof(*s));
	s->name = strndup(rest, n);
	s->prefix = ht_xstrdup("");
	b->priv = s;
	if (slash && slash[1]) {
		const char *p = slash + 1;
		size_t l = strlen(p);

		while (l > 0 && p[l - 1] == '/')
			l--;
		free(s->prefix);
		s->prefix = ht_xasprintf("%.*s/", (int)l, p);
		if (!ht_bucket_key_valid(s->prefix) && l > 0) {
			/* "a/b/" is checked as the key "a/b/x" would be. */
			char *probe = ht_xasprintf("%sx", s->prefix);
			int ok = ht_bucket_key_valid(probe);

			free(probe);
			if (!ok)
				return ht_error("bucket '%s': '%.*s' is not a valid key prefix", b->url, (int)l, p);
		}
		if (l == 0) {
			free(s->prefix);
			s->prefix = ht_xstrdup("");
		}
	}
	if (ht_aws_init(&s->aws, o, &e) < 0)
		return ht_error("bucket '%s': no AWS access", b->url);
	return 0;
}

static void s3_release(struct ht_bucket *b)
{
	struct s3 *s = b->priv;

	if (!s)
		return;
	ht_aws_release(&s->aws);
	free(s->name);
	free(s->prefix);
	free(s);
	b->priv = NULL;
}

static int s3_put_file(struct ht_bucket *b, const char *key, const char *path)
{
	struct s3 *s = b->priv;
	struct ht_aws_error e;
	char *k = s3_key(b, key);
	int rc = ht_s3_put_file(&s->aws, s->name, k, path, ht_bucket_content_type(key), &e);

	free(k);
	return rc;
}

static int s3_put(struct ht_bucket *b, const char *key, const void *data, size_t len)
{
	struct s3 *s = b->priv;
	struct ht_aws_error e;
	char *k = s3_key(b, key);
	int rc = ht_s3_put(&s->aws, s->name, k, data, len, ht_bucket_content_type(key), &e);

	free(k);
	return rc;
}

static int s3_get(struct ht_bucket *b, const char *key, size_t max, char **out, size_t *len)
{
	struct s3 *s = b->priv;
	struct ht_aws_error e;
	struct ht_buf buf;
	char *k = s3_key(b, key);
	int rc;

	ht_buf_init(&buf, max ? max : 64u * 1024 * 1024);
	rc = ht_s3_get_opt(&s->aws, s->name, k, &buf, b->missing_ok, &e);
	free(k);
	if (rc < 0) {
		/* bucket.h promises a message, and errno for the caller. */
		ht_buf_release(&buf);
		if (!(b->missing_ok && e.kind == HT_AWS_E_NOT_FOUND))
			ht_error("bucket '%s': cannot read '%s': %s", b->url, key, e.message);
		errno = e.kind == HT_AWS_E_NOT_FOUND ? ENOENT :
			e.kind == HT_AWS_E_CREDENTIALS || e.kind == HT_AWS_E_DENIED ? EACCES : EIO;
		return -1;
	}
	ht_buf_addstr(&buf, "");
	*len = buf.len;
	*out = ht_buf_detach(&buf);
	return 0;
}

/* One upload of a batch: its request and what it points to. */
struct s3_put_job {
	struct ht_bucket_item *item;
	struct ht_http_req req;
	struct ht_http_sigv4 sig;
	char *url, *key_path, *ctype;
	const char *hdrs[2];
};

/* Sets an item's error, cut to fit. */
static void item_error(struct ht_bucket_item *it, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void item_error(struct ht_bucket_item *it, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(it->error, sizeof(it->error), fmt, ap);
	va_end(ap);
}

static size_t s3_put_files(struct ht_bucket *b, struct ht_bucket_item *items, size_t n)
{
	struct s3 *s = b->priv;
	struct ht_http_multi *m = ht_http_multi_new(S3_PARALLEL);
	struct s3_put_job *jobs;
	size_t i, failed = 0;

	if (!m) {
		for (i = 0; i < n; i++) {
			items[i].ok = 0;
			snprintf(items[i].error, sizeof(items[i].error), "cannot start the uploads");
		}
		return n;
	}
	jobs = ht_xcalloc(n ? n : 1, sizeof(*jobs));
	for (i = 0; i < n; i++) {
		struct s3_put_job *j = &jobs[i];
		char *k = s3_key(b, items[i].key);
				struct ht_aws_call c = { .service = HT_AWS_S3, .method = "PUT", .bucket = s->name };

		j->item = &items[i];
		j->key_path = ht_s3_key_path(k);
		j->ctype = ht_xasprintf("Content-Type: %s", ht_bucket_content_type(items[i].key));
		j->hdrs[0] = j->ctype;
		j->hdrs[1] = NULL;
		c.path = j->key_path;
		c.headers = j->hdrs;
		c.upload_path = items[i].path;
		j->url = ht_aws_call_prepare(&s->aws, &c, &j->req, &j->sig);
		free(k);
		if (b->deadline_ms) {
			/* No attempt runs past the deadline. */
			int64_t left = b->deadline_ms - ht_now_ms();

			if (left < 1)
				left = 1;
			if (j->req.timeout_ms <= 0 || j->req.timeout_ms > left)
				j->req.timeout_ms = (long)left;
			if (j->req.connect_timeout_ms <= 0 || j->req.connect_timeout_ms > left)
				j->req.connect_timeout_ms = (long)left;
		}
		if (ht_http_multi_add(m, &j->req, j) < 0) {
			items[i].ok = 0;
			snprintf(items[i].error, sizeof(items[i].error), "'%s': cannot queue the upload", items[i].key);
			failed++;
		}
	}
	while (ht_http_multi_pending(m)) {
		struct ht_http_resp resp;
		struct s3_put_job *j;
		int rc;

		int64_t left = b->deadline_ms ? b->deadline_ms - ht_now_ms() : -1;

		if (b->deadline_ms && left <= 0)
			break; /* the rest are cancelled below */
		if (ht_http_multi_run(m, left) < 0)
			break;
		while ((j = ht_http_multi_next(m, &resp, &rc))) {
			struct ht_bucket_item *it = j->item;

			if (rc == 0 && resp.status >= 200 && resp.status < 300) {
				it->ok = 1;
			} else {
				struct ht_aws_error e;

				it->ok = 0;
				failed++;
				if (rc < 0) {
					item_error(it, "s3: PUT /%s%s: %s", s->name, j->key_path, resp.error);
				} else {
					ht_aws_error_from_response(&e, &resp);
					item_error(it, "s3: PUT /%s%s: %ld%s%s%s%s", s->name, j->key_path, resp.status,
						   *e.code ? " " : "", e.code, *e.message ? ": " : "", e.message);
				}
				ht_debug("%s", it->error);
			}
			ht_http_resp_release(&resp);
		}
	}
	ht_http_multi_free(m);
	for (i = 0; i < n; i++) {
		if (!items[i].ok && !items[i].error[0]) {
			item_error(&items[i], "%s", HT_BUCKET_LATE);
			failed++;
		}
		free(jobs[i].url);
		free(jobs[i].key_path);
		free(jobs[i].ctype);
	}
	free(jobs);
	return failed;
}

/* Opened from a URL alone: the AWS environment's defaults. */
static int s3_open(struct ht_bucket *b, const char *rest)
{
	return s3_open_with(b, rest, NULL);
}

const struct ht_bucket_ops ht_bucket_s3 = {
	.scheme = "s3",
	.open = s3_open,
	.put_file = s3_put_file,
	.put = s3_put,
	.get = s3_get,
	.release = s3_release,
	.put_files = s3_put_files,
};


int ht_s3_bucket_open(struct ht_bucket *b, const char *url, const struct ht_aws_opts *o)
{
	const char *rest = ht_bucket_begin(b, url, &ht_bucket_s3);

	return rest ? s3_open_with(b, rest, o) : -1;
}

int ht_aws_bucket(const struct ht_config *cfg, struct ht_bucket *b)
{
	const char *name = ht_aws_settings(cfg)->bucket;
	struct ht_aws_opts o;
	char *url;
	int rc;

	memset(b, 0, sizeof(*b));
	if (!name || !*name)
		return ht_error("aws.bucket is not set");
	ht_aws_opts_from_config(&o, cfg);
	url = ht_xasprintf("s3://%s", name);
	rc = ht_s3_bucket_open(b, url, &o);
	free(url);
	return rc;
}
