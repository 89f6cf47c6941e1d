/*
 * rootfs-gc.c: the in-use marks and locks of the unpacked roots, and their
 * garbage collection: the one protocol that ht_rootfs_prepare_opts (and so
 * ht-unpack and the local provider) and ht_rootfs_gc (ht-gc, ht-unpack
 * --prune, the local provider's clean-up) follow. The protocol and its lock
 * order are described in include/ht/rootfs.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ht/ht.h"
#include "ht/rootfs.h"

int ht_rootfs_lock(const char *cache_dir, const char *hex, const char *suffix, int how)
{
	char *path = ht_xasprintf("%s/%s%s", cache_dir, hex, suffix);
	int fd;

	for (;;) {
		struct stat held, named;
		int r, e;

		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (fd < 0) {
			ht_error("cannot open '%s': %s", path, strerror(errno));
			break;
		}
		do
			r = flock(fd, how);
		while (r < 0 && errno == EINTR);
		if (r < 0) {
			e = errno;
			close(fd);
			fd = -1;
			if (e == EWOULDBLOCK && (how & LOCK_NB))
				fd = -2;
			else
				ht_error("cannot lock '%s': %s", path, strerror(e));
			break;
		}
		/* Still the file of that name? Its exclusive holder may have
		 * unlinked it while we waited: then lock the new one. */
		if (fstat(fd, &held) == 0 && stat(path, &named) == 0 && held.st_ino == named.st_ino &&
		    held.st_dev == named.st_dev)
			break;
		close(fd);
	}
	free(path);
	return fd;
}

/* 1 when the n first characters of name are lowercase hex digits and name
 * has n of them, followed by suffix. */
static int is_hex_name(const char *name, const char *suffix)
{
	size_t i;

	for (i = 0; i < HT_SHA256_HEX_LEN; i++)
		if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
			return 0;
	return strcmp(name + HT_SHA256_HEX_LEN, suffix) == 0;
}

/* 1 when name is ".tmp-HEX-PID-..." of a process that is gone (or, with
 * hex NULL, of any digest). */
static int stale_tmp(const char *name, const char *hex)
{
	const char *p;
	long pid;

	if (!ht_starts_with(name, ".tmp-"))
		return 0;
	p = name + 5;
	if (hex && (strncmp(p, hex, HT_SHA256_HEX_LEN) != 0))
		return 0;
	p = strchr(p, '-');
	if (!p)
		return 0;
	pid = strtol(p + 1, NULL, 10);
	return pid <= 0 || (kill((pid_t)pid, 0) < 0 && errno == ESRCH);
}

void ht_rootfs_remove_stale(const char *cache_dir, const char *hex)
{
	DIR *d = opendir(cache_dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d)))
		if (stale_tmp(de->d_name, hex)) {
			ht_debug("removing '%s/%s', left by an interrupted unpack", cache_dir, de->d_name);
			(void)ht_remove_at(dirfd(d), de->d_name);
		}
	closedir(d);
}

/* Unlinks CACHE/HEX.lock and CACHE/HEX.inuse, whose locks the caller holds
 * exclusively. */
static void unlink_locks(int dfd, const char *hex)
{
	char name[HT_SHA256_HEX_LEN + 8];

	snprintf(name, sizeof(name), "%s.lock", hex);
	(void)unlinkat(dfd, name, 0);
	snprintf(name, sizeof(name), "%s.inuse", hex);
	(void)unlinkat(dfd, name, 0);
}

/*
 * Removes root hex (a directory of the cache), or the mark and lock files
 * left of a root that is gone (orphan), when no one uses it: takes its mark,
 * then its lock, both without waiting. Returns 1 when the root was removed,
 * 0 when it was left alone (or was an orphan), -1 on an error (printed).
 */
static int collect_one(const char *cache_dir, int dfd, const char *hex, int orphan)
{
	static unsigned seq;
	struct stat st;
	char *gone;
	int mark, lock, ret = 0;

	mark = ht_rootfs_lock(cache_dir, hex, ".inuse", LOCK_EX | LOCK_NB);
	if (mark == -2) {
		if (!orphan)
			ht_debug("kept the root of sha256:%s: it is in use", hex);
		return 0;
	}
	if (mark < 0)
		return -1;
	lock = ht_rootfs_lock(cache_dir, hex, ".lock", LOCK_EX | LOCK_NB);
	if (lock < 0) {
		/* -2: being prepared by a process that took no mark. */
		close(mark);
		return lock == -2 ? 0 : -1;
	}
	if (fstatat(dfd, hex, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (orphan) {
			/* It came back: not an orphan any more. */
			close(lock);
			close(mark);
			return 0;
		}
		gone = ht_xasprintf(".tmp-%s-%ld-gc%u", hex, (long)getpid(),
				   __atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED));
		if (renameat(dfd, hex, dfd, gone) < 0) {
			ret = ht_error("cannot remove '%s/%s': %s", cache_dir, hex, strerror(errno));
		} else if (ht_remove_at(dfd, gone) < 0) {
			/* Renamed away: it is gone from the cache; what is left
			 * is removed with the stale directories. */
			ret = ht_error("cannot remove '%s/%s' completely", cache_dir, gone);
		} else {
			ret = 1;
			ht_debug("removed the root of sha256:%s", hex);
		}
		free(gone);
	}
	/* Unlinked under their exclusive locks, as the protocol wants. */
	if (ret >= 0)
		unlink_locks(dfd, hex);
	close(lock);
	close(mark);
	return ret;
}

int ht_rootfs_gc(const char *cache_dir, const char *const *keep, size_t nkeep, long *removed)
{
	DIR *d;
	struct dirent *de;
	long count = 0;
	int ret = 0;

	if (!cache_dir)
		cache_dir = HT_ROOTFS_DEFAULT_DIR;
	if (removed)
		*removed = 0;
	d = opendir(cache_dir);
	if (!d) {
		if (errno == ENOENT)
			return 0;
		return ht_error("cannot open '%s': %s", cache_dir, strerror(errno));
	}
	while ((de = readdir(d))) {
		char hex[HT_SHA256_HEX_LEN + 1];
		struct stat st;
		size_t i;
		int kept = 0, orphan, r;

		if (is_hex_name(de->d_name, ""))
			orphan = 0;
		else if (is_hex_name(de->d_name, ".inuse") || is_hex_name(de->d_name, ".lock"))
			orphan = 1;
		else
			continue;
		memcpy(hex, de->d_name, HT_SHA256_HEX_LEN);
		hex[HT_SHA256_HEX_LEN] = '\0';
		/* A mark or lock of a root that is there goes with the root. */
		if (orphan && fstatat(dirfd(d), hex, &st, AT_SYMLINK_NOFOLLOW) == 0)
			continue;
		for (i = 0; i < nkeep && !kept && !orphan; i++)
			kept = keep[i] && strncmp(keep[i], "sha256:", 7) == 0 && strcmp(keep[i] + 7, hex) == 0;
		if (kept)
			continue;
		r = collect_one(cache_dir, dirfd(d), hex, orphan);
		if (r < 0)
			ret = -1;
		else
			count += r;
	}
	closedir(d);
	ht_rootfs_remove_stale(cache_dir, NULL);
	if (removed)
		*removed = count;
	return ret;
}
