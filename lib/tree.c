/*
 * tree.c: copying a directory tree, and its fingerprint. See ht/tree.h.
 * Both walk with descriptors (openat, fdopendir), so names are never
 * joined into long paths and a rename elsewhere cannot redirect the walk.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ht/diag.h"
#include "ht/tree.h"

#define COPY_CHUNK (256 * 1024)

/* Copies the regular file sfd to dfd's current offset; 0 or -1 (errno). */
static int copy_data(int sfd, int dfd, int64_t *bytes)
{
	char *buf;
	ssize_t n;
	int ret = 0;

	/* copy_file_range shares blocks where the file system can; where
	 * it cannot (across file systems on old kernels), plain reads. */
	while ((n = copy_file_range(sfd, NULL, dfd, NULL, COPY_CHUNK, 0)) > 0)
		*bytes += n;
	if (n == 0)
		return 0;
	if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
		return -1;
	buf = ht_xmalloc(COPY_CHUNK);
	while (ret == 0 && (n = read(sfd, buf, COPY_CHUNK)) != 0) {
		ssize_t off = 0;

		if (n < 0) {
			if (errno != EINTR)
				ret = -1;
			continue;
		}
		while (ret == 0 && off < n) {
			ssize_t w = write(dfd, buf + off, (size_t)(n - off));

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				ret = -1;
			else
				off += w;
		}
		*bytes += n;
	}
	free(buf);
	return ret;
}

/* Copies the entries of directory sfd into dfd; where names the source
 * for messages. Takes sfd. */
static int copy_dir(int sfd, int dfd, const char *where, const char *exclude, struct ht_tree_stats *st)
{
	DIR *d = fdopendir(sfd);
	struct dirent *e;
	int ret = 0;

	if (!d) {
		close(sfd);
		return ht_error("cannot read '%s': %s", where, strerror(errno));
	}
	while (ret == 0 && (errno = 0, e = readdir(d))) {
		const char *nm = e->d_name;
		struct stat s;
		struct timespec times[2];

		if (!strcmp(nm, ".") || !strcmp(nm, ".."))
			continue;
		if (fstatat(dirfd(d), nm, &s, AT_SYMLINK_NOFOLLOW) < 0) {
			ret = ht_error("cannot stat '%s/%s': %s", where, nm, strerror(errno));
			break;
		}
		times[0] = s.st_atim;
		times[1] = s.st_mtim;
		if (S_ISDIR(s.st_mode)) {
			char *sub = ht_xasprintf("%s/%s", where, nm);
			int cs, cd;

			if (exclude && !strcmp(sub, exclude)) {
				free(sub);
				continue;
			}
			/* Writable for us while it fills; its own mode at the end. */
			if (mkdirat(dfd, nm, 0700) < 0 ||
			    (cd = openat(dfd, nm, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
				ret = ht_error("cannot create '%s' in the copy: %s", sub, strerror(errno));
			} else {
				cs = openat(dirfd(d), nm, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
				if (cs < 0)
					ret = ht_error("cannot read '%s': %s", sub, strerror(errno));
				else
					ret = copy_dir(cs, cd, sub, exclude, st);
				if (ret == 0 && (fchmod(cd, s.st_mode & 07777) < 0 || futimens(cd, times) < 0))
					ret = ht_error("cannot set the mode of '%s' in the copy: %s", sub, strerror(errno));
				close(cd);
			}
			free(sub);
			st->dirs++;
		} else if (S_ISREG(s.st_mode)) {
			int in = openat(dirfd(d), nm, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), out;

			if (in < 0) {
				/* A file the copy cannot read is left out, as
				 * the test could not read it either. */
				ht_warning("cannot read '%s/%s': %s; left out of the copy", where, nm, strerror(errno));
				st->skipped++;
				continue;
			}
			out = openat(dfd, nm, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
			if (out < 0 || copy_data(in, out, &st->bytes) < 0 || fchmod(out, s.st_mode & 07777) < 0 ||
			    futimens(out, times) < 0)
				ret = ht_error("cannot copy '%s/%s': %s", where, nm, strerror(errno));
			if (out >= 0)
				close(out);
			close(in);
			st->files++;
		} else if (S_ISLNK(s.st_mode)) {
			char target[PATH_MAX];
			ssize_t n = readlinkat(dirfd(d), nm, target, sizeof(target) - 1);

			if (n < 0 || (target[n] = 0, symlinkat(target, dfd, nm) < 0) ||
			    utimensat(dfd, nm, times, AT_SYMLINK_NOFOLLOW) < 0)
				ret = ht_error("cannot copy the link '%s/%s': %s", where, nm, strerror(errno));
			st->links++;
		} else {
			st->skipped++;
		}
	}
	if (ret == 0 && errno)
		ret = ht_error("cannot read '%s': %s", where, strerror(errno));
	closedir(d);
	return ret;
}

int ht_copy_tree(const char *src, const char *dst, const char *exclude, struct ht_tree_stats *stats)
{
	struct ht_tree_stats local;
	struct stat s;
	struct timespec times[2];
	int sfd, dfd, ret;

	if (!stats)
		stats = &local;
	memset(stats, 0, sizeof(*stats));
	sfd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sfd < 0 || fstat(sfd, &s) < 0) {
		ret = ht_error("cannot read '%s': %s", src, strerror(errno));
		if (sfd >= 0)
			close(sfd);
		return ret;
	}
	if (mkdir(dst, 0700) < 0 || (dfd = open(dst, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		close(sfd);
		return ht_error("cannot create '%s': %s", dst, strerror(errno));
	}
	ret = copy_dir(sfd, dfd, src, exclude, stats);
	times[0] = s.st_atim;
	times[1] = s.st_mtim;
	if (ret == 0 && (fchmod(dfd, s.st_mode & 07777) < 0 || futimens(dfd, times) < 0))
		ret = ht_error("cannot set the mode of '%s': %s", dst, strerror(errno));
	close(dfd);
	return ret;
}

/* Adds the entries below directory fd to h, prefixed by their depth. */
static int fingerprint_dir(int fd, struct ht_sha256 *h, int depth)
{
	DIR *d = fdopendir(fd);
	struct dirent *e;

	if (!d) {
		close(fd);
		return -1;
	}
	while ((errno = 0, e = readdir(d))) {
		struct stat s;
		char line[NAME_MAX + 160];
		int n;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), e->d_name, &s, AT_SYMLINK_NOFOLLOW) < 0)
			continue; /* gone meanwhile: its directory's times changed */
		n = snprintf(line, sizeof(line), "%d %s %o %lld %llu %lld.%09ld %lld.%09ld\n", depth, e->d_name,
			     (unsigned)s.st_mode, (long long)s.st_size, (unsigned long long)s.st_ino,
			     (long long)s.st_mtim.tv_sec, s.st_mtim.tv_nsec, (long long)s.st_ctim.tv_sec,
			     s.st_ctim.tv_nsec);
		ht_sha256_update(h, line, (size_t)n);
		if (S_ISDIR(s.st_mode)) {
			int sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (sub >= 0 && fingerprint_dir(sub, h, depth + 1) < 0) {
				closedir(d);
				return -1;
			}
			ht_sha256_update(h, "..\n", 3);
		}
	}
	closedir(d);
	return 0;
}

int ht_tree_fingerprint(const char *dir, char out[HT_SHA256_HEX_LEN + 1])
{
	struct ht_sha256 h;
	char digest[HT_DIGEST_LEN + 1];
	struct stat s;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char top[96];
	int n;

	out[0] = 0;
	if (fd < 0 || fstat(fd, &s) < 0) {
		if (fd >= 0)
			close(fd);
		return ht_error("cannot read '%s': %s", dir, strerror(errno));
	}
	if (ht_sha256_init(&h) < 0) {
		close(fd);
		return -1;
	}
	n = snprintf(top, sizeof(top), "%o %lld.%09ld %lld.%09ld\n", (unsigned)s.st_mode, (long long)s.st_mtim.tv_sec,
		     s.st_mtim.tv_nsec, (long long)s.st_ctim.tv_sec, s.st_ctim.tv_nsec);
	ht_sha256_update(&h, top, (size_t)n);
	if (fingerprint_dir(fd, &h, 0) < 0) {
		ht_sha256_final(&h, digest);
		return ht_error("cannot read '%s': %s", dir, strerror(errno));
	}
	if (ht_sha256_final(&h, digest) < 0)
		return -1;
	memcpy(out, digest + 7, HT_SHA256_HEX_LEN + 1);
	return 0;
}
