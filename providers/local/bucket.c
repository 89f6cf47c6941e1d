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

/* Copies src_fd to dst_fd until EOF, giving up at b's deadline. */
static int copy_fd(struct ht_bucket *b, int src_fd, int dst_fd, const char *key, const char *src, const char *dst)
{
	char buf[65536];
	ssize_t n;

	while ((n = read(src_fd, buf, sizeof(buf))) != 0) {
		ssize_t off = 0;

		if (b->deadline_ms && ht_now_ms() >= b->deadline_ms) {
			ht_debug("'%s': %s", key, HT_BUCKET_LATE);
			return -1;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ht_error("cannot read '%s': %s", src, strerror(errno));
		while (off < n) {
			ssize_t w = write(dst_fd, buf + off, (size_t)(n - off));

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return ht_error("cannot write '%s': %s", dst, strerror(w < 0 ? errno : EIO));
			off += w;
		}
	}
	return 0;
}

/*
 * Gives the unnamed file fd (O_TMPFILE) the name dst, replacing what is
 * there: linked at dst when nothing is, else at a temporary name in the
 * same directory renamed over it at once. Returns 0, or -1 (errno set).
 */
static int link_unnamed(int fd, const char *dst)
{
	char proc[64], *tmp;
	int rc;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (linkat(AT_FDCWD, proc, AT_FDCWD, dst, AT_SYMLINK_FOLLOW) == 0)
		return 0;
	if (errno != EEXIST)
		return -1;
	tmp = ht_xasprintf("%s.tmp.%ld.%d", dst, (long)getpid(), fd);
	unlink(tmp);
	rc = linkat(AT_FDCWD, proc, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW);
	if (rc == 0 && (rc = rename(tmp, dst)) < 0) {
		int e = errno;

		unlink(tmp);
		errno = e;
	}
	free(tmp);
	return rc;
}

/*
 * Stores the file src under key. The copy is written into an unnamed
 * file (O_TMPFILE) that gets its name only when complete, so a writer
 * killed halfway (a sandbox killed at its deadline) leaves nothing in
 * the bucket; where O_TMPFILE does not work, a temporary name that every
 * failure removes (ht_atomic_open).
 */
static int file_put_file(struct ht_bucket *b, const char *key, const char *src)
{
	struct ht_atomic_file af;
	char *dst, *dir, *slash;
	int fd = open(src, O_RDONLY | O_CLOEXEC), tfd;

	if (fd < 0)
		return ht_error("cannot open '%s': %s", src, strerror(errno));
	dst = file_path(b, key, 1);
	if (!dst) {
		close(fd);
		return -1;
	}
	dir = ht_xstrdup(dst);
	slash = strrchr(dir, '/');
	*slash = '\0';
	tfd = access("/proc/self/fd", X_OK) == 0 ? open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644) : -1;
	free(dir);
	if (tfd >= 0) {
		int rc = copy_fd(b, fd, tfd, key, src, dst);

		if (rc == 0 && link_unnamed(tfd, dst) < 0)
			rc = ht_error("cannot create '%s': %s", dst, strerror(errno));
		close(tfd);
		close(fd);
		free(dst);
		return rc;
	}
	if (ht_atomic_open(&af, dst, 0644) < 0) {
		close(fd);
		free(dst);
		return -1;
	}
	/* Atomic but not synced: an artifact lost in a crash of the machine
	 * is made again by running the test again, and a sync per file is
	 * most of a short test's overhead. */
	af.no_sync = 1;
	if (fflush((FILE *)af.fp) != 0 || copy_fd(b, fd, fileno((FILE *)af.fp), key, src, dst) < 0) {
		ht_atomic_abort(&af);
		close(fd);
		free(dst);
		return -1;
	}
	close(fd);
	free(dst);
	return ht_atomic_commit(&af);
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

		if (!(b->missing_ok && err == ENOENT))
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

