/*
 * bucket.c: artifact buckets: a directory (file://) or S3 (s3://), each a
 * table of operations.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "providers/aws/aws.h"
#include "ht/bucket.h"
#include "ht/diag.h"
#include "ht/util.h"

/* S3 uploads at once in a batch. */
#define S3_PARALLEL 16

/* --- file:// --------------------------------------------------------------- */

static int file_open(struct ht_bucket *b, const char *rest)
{
	/* file:///abs/dir: rest is "/abs/dir"; file://host/... is refused. */
	if (*rest != '/')
		return ht_error("bucket '%s': a file bucket needs an absolute path (file:///dir)", b->url);
	b->dir = ht_xstrdup(rest);
	if (ht_mkdir_p(b->dir, 0755) < 0)
		return -1;
	if (access(b->dir, W_OK | X_OK) < 0)
		return ht_error("bucket '%s': cannot write to '%s': %s", b->url, b->dir, strerror(errno));
	return 0;
}

/* The file of key (new string), with its directory made. */
static char *file_path(struct ht_bucket *b, const char *key, int make_dir)
{
	char *path = ht_path_join(b->dir, key);
	char *slash = strrchr(path, '/');

	if (make_dir && slash) {
		*slash = '\0';
		if (ht_mkdir_p(path, 0755) < 0) {
			free(path);
			return NULL;
		}
		*slash = '/';
	}
	return path;
}

static int file_put_file(struct ht_bucket *b, const char *key, const char *src)
{
	struct ht_atomic_file af;
	char buf[65536];
	char *dst;
	ssize_t n;
	int fd = open(src, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return ht_error("cannot open '%s': %s", src, strerror(errno));
	dst = file_path(b, key, 1);
	if (!dst || ht_atomic_open(&af, dst, 0644) < 0) {
		close(fd);
		free(dst);
		return -1;
	}
	/* Atomic but not synced: an artifact lost in a crash of the machine
	 * is made again by running the test again, and a sync per file is
	 * most of a short test's overhead. */
	af.no_sync = 1;
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ht_error("cannot read '%s': %s", src, strerror(errno));
			goto fail;
		}
		if (fwrite(buf, 1, (size_t)n, af.fp) != (size_t)n) {
			ht_error("cannot write '%s': %s", dst, strerror(errno));
			goto fail;
		}
	}
	close(fd);
	free(dst);
	return ht_atomic_commit(&af);
fail:
	ht_atomic_abort(&af);
	close(fd);
	free(dst);
	return -1;
}

static int file_put(struct ht_bucket *b, const char *key, const void *data, size_t len)
{
	char *dst = file_path(b, key, 1);
	int rc;

	if (!dst)
		return -1;
	rc = ht_write_file_atomic(dst, data, len, 0644);
	free(dst);
	return rc;
}

static int file_get(struct ht_bucket *b, const char *key, size_t max, char **out, size_t *len)
{
	char *path = file_path(b, key, 0);

	if (ht_read_file(path, max ? max : 64u * 1024 * 1024, out, len) < 0) {
		int err = errno;

		ht_error("bucket '%s': cannot read '%s': %s", b->url, key, strerror(err));
		free(path);
		errno = err;
		return -1;
	}
	free(path);
	return 0;
}

static const struct ht_bucket_ops file_ops = {
	.scheme = "file",
	.open = file_open,
	.put_file = file_put_file,
	.put = file_put,
	.get = file_get,
};

/* --- s3:// ------------------------------------------------------------------ */

struct s3 {
	struct ht_aws aws;
	char *name;
};

/* The object key of a bucket key: the URL's prefix, then key. New. */
static char *s3_key(struct ht_bucket *b, const char *key)
{
	return ht_xasprintf("%s%s", b->prefix, key);
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
	b->priv = s;
	if (slash && slash[1]) {
		const char *p = slash + 1;
		size_t l = strlen(p);

		while (l > 0 && p[l - 1] == '/')
			l--;
		free(b->prefix);
		b->prefix = ht_xasprintf("%.*s/", (int)l, p);
		if (!ht_bucket_key_valid(b->prefix) && l > 0) {
			/* "a/b/" is checked as the key "a/b/x" would be. */
			char *probe = ht_xasprintf("%sx", b->prefix);
			int ok = ht_bucket_key_valid(probe);

			free(probe);
			if (!ok)
				return ht_error("bucket '%s': '%.*s' is not a valid key prefix", b->url, (int)l, p);
		}
		if (l == 0) {
			free(b->prefix);
			b->prefix = ht_xstrdup("");
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
	rc = ht_s3_get(&s->aws, s->name, k, &buf, &e);
	free(k);
	if (rc < 0) {
		ht_buf_release(&buf);
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
	struct ht_aws_sig sig;
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
		char *enc = ht_aws_uri_encode(k, 1);
		struct ht_aws_call c = { .service = HT_AWS_S3, .method = "PUT", .bucket = s->name };

		j->item = &items[i];
		j->key_path = ht_xasprintf("/%s", enc);
		j->ctype = ht_xasprintf("Content-Type: %s", ht_bucket_content_type(items[i].key));
		j->hdrs[0] = j->ctype;
		j->hdrs[1] = NULL;
		c.path = j->key_path;
		c.headers = j->hdrs;
		c.upload_path = items[i].path;
		j->url = ht_aws_call_prepare(&s->aws, &c, &j->req, &j->sig);
		free(enc);
		free(k);
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

		if (ht_http_multi_run(m, -1) < 0)
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
		free(jobs[i].url);
		free(jobs[i].key_path);
		free(jobs[i].ctype);
	}
	free(jobs);
	return failed;
}

static const struct ht_bucket_ops s3_ops = {
	.scheme = "s3",
	.put_file = s3_put_file,
	.put = s3_put,
	.get = s3_get,
	.release = s3_release,
	.put_files = s3_put_files,
};

/* --- the interface --------------------------------------------------------- */

int ht_bucket_open_aws(struct ht_bucket *b, const char *url, const struct ht_aws_opts *aws)
{
	memset(b, 0, sizeof(*b));
	b->url = ht_xstrdup(url ? url : "");
	b->prefix = ht_xstrdup("");
	if (ht_starts_with(b->url, "file://")) {
		b->ops = &file_ops;
		return b->ops->open(b, b->url + 7);
	}
	if (ht_starts_with(b->url, "s3://")) {
		b->ops = &s3_ops;
		return s3_open_with(b, b->url + 5, aws);
	}
	return ht_error("bucket '%s': not a bucket URL (file:///dir or s3://name)", b->url);
}

int ht_bucket_open(struct ht_bucket *b, const char *url)
{
	return ht_bucket_open_aws(b, url, NULL);
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
	free(b->url);
	free(b->dir);
	free(b->prefix);
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
			valid[i]->ok = b->ops->put_file(b, valid[i]->key, valid[i]->path) == 0;
			if (!valid[i]->ok) {
				snprintf(valid[i]->error, sizeof(valid[i]->error), "'%s' could not be stored", valid[i]->key);
				failed++;
			}
		}
	}
	free(valid);
	return failed;
}
