/*
 * bucket.c: artifact buckets. The file kind lives here; the s3 kind comes
 * with the AWS provider and registers a table like file_ops.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ht/bucket.h"
#include "ht/diag.h"
#include "ht/util.h"

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
		ht_error("bucket '%s': cannot read '%s': %s", b->url, key, strerror(errno));
		free(path);
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

/* --- the interface --------------------------------------------------------- */

int ht_bucket_open(struct ht_bucket *b, const char *url)
{
	memset(b, 0, sizeof(*b));
	b->url = ht_xstrdup(url ? url : "");
	b->prefix = ht_xstrdup("");
	if (ht_starts_with(b->url, "file://")) {
		b->ops = &file_ops;
		return b->ops->open(b, b->url + 7);
	}
	if (ht_starts_with(b->url, "s3://"))
		return ht_error("bucket '%s': s3 buckets are not supported yet (they come with the aws provider)", b->url);
	return ht_error("bucket '%s': not a bucket URL (file:///dir or s3://name)", b->url);
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
