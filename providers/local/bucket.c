/*
 * bucket.c: the file:// kind of bucket (include/ht/bucket.h): a directory
 * laid out like S3, the local provider's bucket and ht-runner's on this
 * machine. b->priv is the directory (a string).
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
#include "ht/provider.h"
#include "ht/util.h"

static int file_open(struct ht_bucket *b, const char *rest)
{
	/* file:///abs/dir: rest is "/abs/dir"; file://host/... is refused. */
	if (*rest != '/')
		return ht_error("bucket '%s': a file bucket needs an absolute path (file:///dir)", b->url);
	b->priv = ht_xstrdup(rest);
	if (ht_mkdir_p(b->priv, 0755) < 0)
		return -1;
	if (access(b->priv, W_OK | X_OK) < 0)
		return ht_error("bucket '%s': cannot write to '%s': %s", b->url, (char *)b->priv, strerror(errno));
	return 0;
}

/* The file of key (new string), with its directory made. */
static char *file_path(struct ht_bucket *b, const char *key, int make_dir)
{
	char *path = ht_path_join(b->priv, key);
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

/* Where key is: its file. */
static char *file_where(struct ht_bucket *b, const char *key)
{
	return ht_path_join(b->priv, key);
}

const struct ht_bucket_ops ht_bucket_file = {
	.scheme = "file",
	.open = file_open,
	.put_file = file_put_file,
	.put = file_put,
	.get = file_get,
	.where = file_where,
};

