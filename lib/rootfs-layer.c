/*
 * rootfs-layer.c: applying one image layer onto a root being unpacked
 * (lib/rootfs.c keeps the cache of roots). See docs/rootfs.md.
 *
 * libarchive reads the layers (gzip, zstd or plain tar), in two stacked
 * readers so that both digests are computed in the same pass: the "raw"
 * reader inflates the blob (hashing the compressed bytes as they come from
 * the file), the "tar" reader parses what the raw reader hands it (hashing
 * the uncompressed stream: the diff_id). Entries are written with openat(2)
 * walks from the tree's directory, never following a symlink, rather than
 * with archive_write_disk: that one works relative to the process's current
 * directory, and with ARCHIVE_EXTRACT_SECURE_SYMLINKS (3.6.2) it refuses
 * what images do all the time (a layer writing lib/x over a lower layer's
 * lib -> usr/lib), while without it it follows symlinks out of the tree.
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ht/ht.h"
#include "ht/rootfs.h"
#include "lib/rootfs-int.h"

/* Longest entry name or link target accepted, and most symlinks followed
 * while resolving one path. */
#define PATH_MAX_LEN 4096
#define MAX_LINKS 40
#define WHITEOUT ".wh."
#define OPAQUE ".wh..wh..opq"

void ht_rootfs_fail_as(struct unpack *u, const char *code, int exit_code)
{
	if (!u->code) {
		u->code = code;
		u->exit = exit_code;
	}
}

/* Reports a problem with the current entry and returns -1. A failure to
 * write (code "io": a full disk, say) names the file in the tree too. */
static int entry_error(struct unpack *u, const char *code, const char *name, const char *fmt, ...)
	HT_PRINTF(4, 5);
static int entry_error(struct unpack *u, const char *code, const char *name, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ht_rootfs_fail_as(u, code, strcmp(code, "io") == 0 ? HT_EXIT_IOERR : HT_EXIT_DATAERR);
	if (strcmp(code, "io") == 0 && u->tree)
		return ht_error("layer %s: entry '%s': %s (at '%s/%s')", u->layer->desc.digest, name, msg,
				u->tree, name);
	return ht_error("layer %s: entry '%s': %s", u->layer->desc.digest, name, msg);
}

/* --- file system helpers --------------------------------------------------- */


/*
 * Opens the directory at path (relative to the tree), resolving symlinks
 * met on the way inside the tree: an absolute target starts again at the
 * tree's top, '..' never climbs above it. With create, missing directories
 * are made (0755). Returns a new descriptor, or -1 with errno (ENOTDIR when
 * a component is not a directory, ELOOP after too many links).
 */
static int open_dir_in(int rootfd, const char *path, int create)
{
	struct ht_buf rest = HT_BUF_INIT;  /* what is left to walk */
	struct ht_buf done = HT_BUF_INIT;  /* the real path walked so far */
	int fd = -1, links = 0, e = 0;
	size_t pos = 0;

	ht_buf_addstr(&rest, path);
	fd = openat(rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		goto fail;
	for (;;) {
		char comp[NAME_MAX + 1];
		size_t n;
		int next;
		struct stat st;

		while (rest.data[pos] == '/')
			pos++;
		if (!rest.data[pos])
			break;
		n = strcspn(rest.data + pos, "/");
		if (n > NAME_MAX) {
			errno = ENAMETOOLONG;
			goto fail;
		}
		memcpy(comp, rest.data + pos, n);
		comp[n] = '\0';
		pos += n;
		if (!strcmp(comp, "."))
			continue;
		if (!strcmp(comp, "..")) {
			/* Go up by walking the real path again without its last part. */
			char *slash = strrchr(done.data ? done.data : "", '/');

			if (!done.len)
				continue;
			done.len = slash ? (size_t)(slash - done.data) : 0;
			done.data[done.len] = '\0';
			close(fd);
			fd = open_dir_in(rootfd, done.data, 0);
			if (fd < 0)
				goto fail;
			continue;
		}
		next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 && errno == ENOENT && create) {
			if (mkdirat(fd, comp, 0755) < 0 && errno != EEXIST)
				goto fail;
			next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		if (next < 0 && (errno == ELOOP || errno == ENOTDIR) &&
		    fstatat(fd, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
			char target[PATH_MAX_LEN + 1];
			ssize_t len;
			struct ht_buf nrest = HT_BUF_INIT;

			if (++links > MAX_LINKS) {
				errno = ELOOP;
				goto fail;
			}
			len = readlinkat(fd, comp, target, PATH_MAX_LEN);
			if (len < 0)
				goto fail;
			target[len] = '\0';
			ht_buf_init(&nrest, 4 * PATH_MAX_LEN);
			if (ht_buf_addstr(&nrest, target) < 0 || ht_buf_addstr(&nrest, "/") < 0 ||
			    ht_buf_addstr(&nrest, rest.data + pos) < 0) {
				ht_buf_release(&nrest);
				errno = ENAMETOOLONG;
				goto fail;
			}
			ht_buf_release(&rest);
			rest = nrest;
			pos = 0;
			if (target[0] == '/') {
				close(fd);
				fd = openat(rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
				if (fd < 0)
					goto fail;
				ht_buf_reset(&done);
			}
			continue;
		}
		if (next < 0)
			goto fail;
		close(fd);
		fd = next;
		if (done.len)
			ht_buf_addstr(&done, "/");
		ht_buf_addstr(&done, comp);
	}
	ht_buf_release(&rest);
	ht_buf_release(&done);
	return fd;
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	ht_buf_release(&rest);
	ht_buf_release(&done);
	errno = e;
	return -1;
}

/* --- entry names ----------------------------------------------------------- */

/*
 * Normalises an entry name into out ("a/b/c": no leading "./", no empty or
 * "." components). Returns 0, or -1 with *why set for an absolute name, a
 * ".." component, or one too long. An empty result is the tree itself.
 */
static int normalise(const char *name, struct ht_buf *out, const char **why)
{
	const char *p = name;

	ht_buf_reset(out);
	if (!*name) {
		*why = "an empty name";
		return -1;
	}
	if (*name == '/') {
		*why = "an absolute path is refused";
		return -1;
	}
	if (strlen(name) > PATH_MAX_LEN) {
		*why = "the name is too long";
		return -1;
	}
	while (*p) {
		size_t n = strcspn(p, "/");

		if (n == 2 && p[0] == '.' && p[1] == '.') {
			*why = "a path with a '..' component is refused";
			return -1;
		}
		if (n > NAME_MAX) {
			*why = "a component is too long";
			return -1;
		}
		if (n && !(n == 1 && p[0] == '.')) {
			if (out->len)
				ht_buf_addstr(out, "/");
			ht_buf_add(out, p, n);
		}
		p += n;
		while (*p == '/')
			p++;
	}
	return 0;
}

/* Splits a normalised path into its parent ("" for the top) and its last
 * component; both point into path, which is modified. */
static void split(char *path, const char **parent, const char **base)
{
	char *slash = strrchr(path, '/');

	if (slash) {
		*slash = '\0';
		*parent = path;
		*base = slash + 1;
	} else {
		*parent = "";
		*base = path;
	}
}

/* --- entries --------------------------------------------------------------- */

/* Makes room for a new entry called base in dir: removes what is there,
 * unless it is a directory and keep_dir is set. Returns 1 when a directory
 * was kept, 0 when the name is free, -1 with errno. */
static int clear_name(int dir, const char *base, int keep_dir)
{
	struct stat st;

	if (fstatat(dir, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	if (S_ISDIR(st.st_mode) && keep_dir)
		return 1;
	return ht_remove_at(dir, base);
}

static mode_t safe_mode(mode_t m, int dir)
{
	m &= 07777 & ~(mode_t)(S_ISUID | S_ISGID);
	return m | (dir ? S_IRWXU : S_IRUSR);
}

/* Applies ownership when asked and allowed, and the modification time. */
static void set_owner_time(struct unpack *u, int fd, int dir, const char *base,
			   struct archive_entry *e)
{
	struct timespec ts[2];

	if (u->same_owner && geteuid() == 0) {
		if (fd >= 0)
			(void)fchown(fd, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e));
		else
			(void)fchownat(dir, base, (uid_t)archive_entry_uid(e),
				       (gid_t)archive_entry_gid(e), AT_SYMLINK_NOFOLLOW);
	}
	ts[0].tv_sec = ts[1].tv_sec = archive_entry_mtime(e);
	ts[0].tv_nsec = ts[1].tv_nsec = archive_entry_mtime_nsec(e);
	if (fd >= 0)
		(void)futimens(fd, ts);
	else
		(void)utimensat(dir, base, ts, AT_SYMLINK_NOFOLLOW);
}

/*
 * Writes a regular file's data from the tar reader. The size the entry
 * claims counts against the limit before anything is written: a sparse
 * entry carries a few bytes but makes a file of its claimed size. Data
 * placed past that size is refused.
 */
static int write_data(struct unpack *u, struct archive *tar, int fd, const char *name,
		      struct archive_entry *e)
{
	const void *p;
	size_t len;
	la_int64_t off, size = archive_entry_size_is_set(e) ? archive_entry_size(e) : 0;
	int r;

	if (size < 0)
		return entry_error(u, "bad_layer", name, "a negative size");
	if (size > u->max_size - u->claimed)
		return entry_error(u, "too_large", name,
				   "its %lld bytes would make the image more than %lld bytes uncompressed (the limit)",
				   (long long)size, (long long)u->max_size);
	u->claimed += size;
	while ((r = archive_read_data_block(tar, &p, &len, &off)) == ARCHIVE_OK) {
		const char *c = p;

		if (off < 0 || (uint64_t)len > (uint64_t)size || off > size - (la_int64_t)len)
			return entry_error(u, "bad_layer", name,
					   "data at offset %lld, past the %lld bytes it claims",
					   (long long)off, (long long)size);
		while (len) {
			ssize_t w = pwrite(fd, c, len, off);

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return entry_error(u, "io", name, "cannot write: %s", strerror(errno));
			c += w;
			len -= (size_t)w;
			off += w;
		}
	}
	if (r != ARCHIVE_EOF) {
		ht_rootfs_fail_as(u, "bad_layer", HT_EXIT_DATAERR);
		return ht_error("layer %s: entry '%s': %s", u->layer->desc.digest, name,
				archive_error_string(tar) ? archive_error_string(tar) : "cannot read");
	}
	if (ftruncate(fd, size) < 0)
		return entry_error(u, "io", name, "cannot write: %s", strerror(errno));
	return 0;
}

/* A hard link: name (in dir as base) becomes another name for target. */
static int make_hardlink(struct unpack *u, int dir, const char *base, const char *name,
			 const char *target)
{
	struct ht_buf t = HT_BUF_INIT;
	const char *why, *tparent, *tbase;
	struct stat st, cur;
	int tdir = -1, ret = -1;

	if (normalise(target, &t, &why) < 0) {
		entry_error(u, "unsafe_entry", name, "hard link to '%s': %s", target, why);
		goto out;
	}
	if (!t.len) {
		entry_error(u, "unsafe_entry", name, "hard link to the top of the tree");
		goto out;
	}
	split(t.data, &tparent, &tbase);
	tdir = open_dir_in(u->rootfd, tparent, 0);
	if (tdir < 0 || fstatat(tdir, tbase, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		entry_error(u, "unsafe_entry", name, "hard link to '%s', which is not in the tree", target);
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		entry_error(u, "unsafe_entry", name, "hard link to the directory '%s'", target);
		goto out;
	}
	if (fstatat(dir, base, &cur, AT_SYMLINK_NOFOLLOW) == 0 && cur.st_ino == st.st_ino &&
	    cur.st_dev == st.st_dev) {
		ret = 0; /* already the same file */
		goto out;
	}
	if (clear_name(dir, base, 0) < 0 || linkat(tdir, tbase, dir, base, 0) < 0) {
		entry_error(u, "io", name, "cannot link to '%s': %s", target, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (tdir >= 0)
		close(tdir);
	ht_buf_release(&t);
	return ret;
}

/* Deletes base in dir unless this layer wrote it (parent/base is in seen). */
static int whiteout_one(struct unpack *u, int dir, const char *parent, const char *base,
			const char *name)
{
	char *key = *parent ? ht_xasprintf("%s/%s", parent, base) : ht_xstrdup(base);
	int written = json_object_get(u->seen, key) != NULL;

	free(key);
	if (!written && ht_remove_at(dir, base) < 0)
		return entry_error(u, "io", name, "cannot remove '%s': %s", base, strerror(errno));
	return 0;
}

/* A whiteout entry: ".wh.NAME" deletes NAME of the lower layers,
 * ".wh..wh..opq" empties its directory of what the lower layers put there. */
static int apply_whiteout(struct unpack *u, const char *parent, const char *base, const char *name)
{
	const char *victim = base + strlen(WHITEOUT);
	int dir, ret = 0;

	if (!strcmp(base, OPAQUE)) {
		DIR *d;
		struct dirent *de;
		int fd;

		/* No directory: nothing below to hide (its own entry makes it). */
		dir = open_dir_in(u->rootfd, parent, 0);
		if (dir < 0)
			return errno == ENOENT ? 0 :
			       entry_error(u, "io", name, "cannot open its directory: %s", strerror(errno));
		fd = dup(dir);
		d = fd >= 0 ? fdopendir(fd) : NULL;
		if (!d) {
			if (fd >= 0)
				close(fd);
			close(dir);
			return entry_error(u, "io", name, "cannot read its directory: %s", strerror(errno));
		}
		while ((de = readdir(d)) && ret == 0) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			ret = whiteout_one(u, dir, parent, de->d_name, name);
		}
		closedir(d);
		close(dir);
		return ret;
	}
	if (ht_starts_with(victim, WHITEOUT)) {
		/* Other ".wh..wh." names are AUFS bookkeeping (.wh..wh.plnk): not
		 * part of the tree, and not whiteouts either. */
		ht_debug("layer %s: skipping '%s'", u->layer->desc.digest, name);
		return 0;
	}
	if (!*victim || !strcmp(victim, ".") || !strcmp(victim, ".."))
		return entry_error(u, "unsafe_entry", name, "a whiteout of '%s' is refused", victim);
	dir = open_dir_in(u->rootfd, parent, 0);
	if (dir < 0)
		return 0; /* nothing below to delete */
	ret = whiteout_one(u, dir, parent, victim, name);
	close(dir);
	return ret;
}

/* Applies one tar entry to the tree. */
static int apply_entry(struct unpack *u, struct archive *tar, struct archive_entry *e)
{
	const char *raw = archive_entry_pathname(e);
	const char *hardlink = archive_entry_hardlink(e);
	const char *why, *parent, *base;
	struct ht_buf path = HT_BUF_INIT;
	char *key = NULL;
	mode_t type = archive_entry_filetype(e);
	mode_t mode = archive_entry_perm(e);
	int dir = -1, fd = -1, ret = -1, kept;

	if (!raw)
		return entry_error(u, "bad_layer", "?", "an entry without a name (not UTF-8?)");
	if (++u->entries > u->max_entries) {
		ht_rootfs_fail_as(u, "too_large", HT_EXIT_DATAERR);
		return ht_error("layer %s: more than %lld entries (the limit)", u->layer->desc.digest,
				(long long)u->max_entries);
	}
	if (normalise(raw, &path, &why) < 0) {
		entry_error(u, "unsafe_entry", raw, "%s", why);
		goto out;
	}
	if (!path.len) {
		ret = 0; /* "./": the tree itself */
		goto out;
	}
	key = ht_xstrdup(path.data);
	split(path.data, &parent, &base);
	if (ht_starts_with(base, WHITEOUT)) {
		ret = apply_whiteout(u, parent, base, raw);
		goto out;
	}
	dir = open_dir_in(u->rootfd, parent, 1);
	if (dir < 0) {
		if (errno == ENOTDIR || errno == ELOOP)
			entry_error(u, "unsafe_entry", raw, "its directory cannot be made: %s", strerror(errno));
		else
			entry_error(u, "io", raw, "its directory cannot be made: %s", strerror(errno));
		goto out;
	}
	if (hardlink) {
		ret = make_hardlink(u, dir, base, raw, hardlink);
		goto done;
	}
	switch (type) {
	case AE_IFDIR:
		kept = clear_name(dir, base, 1);
		if (kept < 0 || (!kept && mkdirat(dir, base, 0700) < 0) ||
		    (fd = openat(dir, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
		    fchmod(fd, safe_mode(mode, 1)) < 0) {
			entry_error(u, "io", raw, "cannot make the directory: %s", strerror(errno));
			goto out;
		}
		set_owner_time(u, fd, dir, base, e);
		break;
	case AE_IFREG:
		if (clear_name(dir, base, 0) < 0 ||
		    (fd = openat(dir, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0) {
			entry_error(u, "io", raw, "cannot create: %s", strerror(errno));
			goto out;
		}
		if (write_data(u, tar, fd, raw, e) < 0)
			goto out;
		if (fchmod(fd, safe_mode(mode, 0)) < 0) {
			entry_error(u, "io", raw, "cannot set its mode: %s", strerror(errno));
			goto out;
		}
		set_owner_time(u, fd, dir, base, e);
		break;
	case AE_IFLNK: {
		const char *target = archive_entry_symlink(e);

		if (!target || !*target || strlen(target) > PATH_MAX_LEN) {
			entry_error(u, "bad_layer", raw, "a symlink without a valid target");
			goto out;
		}
		if (clear_name(dir, base, 0) < 0 || symlinkat(target, dir, base) < 0) {
			entry_error(u, "io", raw, "cannot make the symlink: %s", strerror(errno));
			goto out;
		}
		set_owner_time(u, -1, dir, base, e);
		break;
	}
	case AE_IFIFO:
		if (clear_name(dir, base, 0) < 0 || mkfifoat(dir, base, safe_mode(mode, 0)) < 0) {
			entry_error(u, "io", raw, "cannot make the FIFO: %s", strerror(errno));
			goto out;
		}
		break;
	case AE_IFCHR:
	case AE_IFBLK:
		if (!u->warned_device++)
			ht_warning("layer %s: skipping device nodes ('%s' is the first)",
				   u->layer->desc.digest, raw);
		ret = 0;
		goto out;
	default:
		ht_warning("layer %s: entry '%s': skipping an entry of unknown type",
			   u->layer->desc.digest, raw);
		ret = 0;
		goto out;
	}
	ret = 0;
done:
	if (ret == 0)
		json_object_set_new_nocheck(u->seen, key, json_true());
out:
	if (fd >= 0)
		close(fd);
	if (dir >= 0)
		close(dir);
	free(key);
	ht_buf_release(&path);
	return ret;
}

/* --- reading a layer ------------------------------------------------------- */

/* libarchive's read callback for the blob: bytes from the file, hashed. */
static la_ssize_t blob_read(struct archive *a, void *ud, const void **buf)
{
	struct unpack *u = ud;
	ssize_t n;

	do
		n = read(u->blobfd, u->buf, sizeof(u->buf));
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		archive_set_error(a, errno, "cannot read the blob: %s", strerror(errno));
		return -1;
	}
	ht_sha256_update(&u->blob_hash, u->buf, (size_t)n);
	u->blob_bytes += n;
	*buf = u->buf;
	return n;
}

/* The tar reader's read callback: the uncompressed stream, hashed and
 * counted against the size limit. */
static la_ssize_t diff_read(struct archive *a, void *ud, const void **buf)
{
	struct unpack *u = ud;
	size_t len;
	la_int64_t off;
	int r = archive_read_data_block(u->raw, buf, &len, &off);

	if (r == ARCHIVE_EOF)
		return 0;
	if (r != ARCHIVE_OK) {
		archive_set_error(a, EIO, "%s",
				  archive_error_string(u->raw) ? archive_error_string(u->raw) : "cannot decompress");
		return -1;
	}
	if ((uint64_t)len > (uint64_t)(u->max_size - u->size)) {
		char msg[80];

		u->too_large = 1;
		snprintf(msg, sizeof(msg), "more than %lld bytes uncompressed (the limit)",
			 (long long)u->max_size);
		archive_set_error(a, EFBIG, "%s", msg);
		return -1;
	}
	u->size += (int64_t)len;
	ht_sha256_update(&u->diff_hash, *buf, len);
	return (la_ssize_t)len;
}

/* Reads what is left of the uncompressed stream and of the blob, so that
 * both hashes cover everything (tar's end blocks, padding). */
static int drain(struct unpack *u)
{
	struct archive *dummy = u->raw;
	const void *p;
	la_ssize_t n;

	while ((n = diff_read(dummy, u, &p)) > 0)
		;
	if (n < 0)
		return -1;
	while ((n = blob_read(dummy, u, &p)) > 0)
		;
	return n < 0 ? -1 : 0;
}

/* Unpacks one layer into the tree, checking its digest and diff_id. */
int ht_rootfs_unpack_layer(struct ht_oci_store *s, struct unpack *u, const struct ht_oci_layer *l)
{
	struct archive *tar = NULL;
	struct archive_entry *e;
	struct archive_entry *dummy;
	char *blob = NULL;
	char got[HT_DIGEST_LEN + 1], got_diff[HT_DIGEST_LEN + 1];
	int r, ret = -1, hashing = 0;

	u->layer = l;
	u->raw = NULL;
	u->seen = json_object();
	blob = ht_oci_blob_path(s, l->desc.digest);
	if (!blob) {
		ht_rootfs_fail_as(u, "bad_layer", HT_EXIT_DATAERR);
		goto out;
	}
	u->blobfd = open(blob, O_RDONLY | O_CLOEXEC);
	if (u->blobfd < 0) {
		ht_rootfs_fail_as(u, errno == ENOENT ? "not_found" : "io",
			errno == ENOENT ? HT_EXIT_NOINPUT : HT_EXIT_IOERR);
		ht_error("layer %s: cannot open '%s': %s", l->desc.digest, blob, strerror(errno));
		goto out;
	}
	if (!l->diff_id[0]) {
		ht_rootfs_fail_as(u, "bad_layer", HT_EXIT_DATAERR);
		ht_error("layer %s: the image config lists no diff_id for it", l->desc.digest);
		goto out;
	}
	if (l->desc.media_type && !strstr(l->desc.media_type, "tar")) {
		ht_rootfs_fail_as(u, "bad_layer", HT_EXIT_DATAERR);
		ht_error("layer %s: media type '%s' is not a tar layer", l->desc.digest, l->desc.media_type);
		goto out;
	}
	u->blob_bytes = 0;
	if (ht_sha256_init(&u->blob_hash) < 0 || ht_sha256_init(&u->diff_hash) < 0) {
		ht_rootfs_fail_as(u, "io", HT_EXIT_SOFTWARE);
		goto out;
	}
	hashing = 1;
	u->raw = archive_read_new();
	archive_read_support_filter_gzip(u->raw);
	archive_read_support_filter_zstd(u->raw);
	archive_read_support_format_raw(u->raw);
	archive_read_support_format_empty(u->raw);
	if (archive_read_open(u->raw, u, NULL, blob_read, NULL) != ARCHIVE_OK ||
	    (r = archive_read_next_header(u->raw, &dummy)) < ARCHIVE_WARN) {
		ht_rootfs_fail_as(u, "bad_layer", HT_EXIT_DATAERR);
		ht_error("layer %s: %s", l->desc.digest, archive_error_string(u->raw));
		goto out;
	}
	if (r == ARCHIVE_OK || r == ARCHIVE_WARN) {
		tar = archive_read_new();
		archive_read_support_format_tar(tar);
		if (archive_read_open(tar, u, NULL, diff_read, NULL) != ARCHIVE_OK) {
			ht_rootfs_fail_as(u, u->too_large ? "too_large" : "bad_layer", HT_EXIT_DATAERR);
			ht_error("layer %s: %s", l->desc.digest, archive_error_string(tar));
			goto out;
		}
		for (;;) {
			r = archive_read_next_header(tar, &e);
			if (r == ARCHIVE_EOF)
				break;
			if (r < ARCHIVE_WARN) {
				ht_rootfs_fail_as(u, u->too_large ? "too_large" : "bad_layer", HT_EXIT_DATAERR);
				ht_error("layer %s: %s", l->desc.digest, archive_error_string(tar));
				goto out;
			}
			if (apply_entry(u, tar, e) < 0) {
				if (u->too_large)
					u->code = "too_large";
				goto out;
			}
		}
		if (drain(u) < 0) {
			ht_rootfs_fail_as(u, u->too_large ? "too_large" : "bad_layer", HT_EXIT_DATAERR);
			ht_error("layer %s: %s", l->desc.digest,
				 u->too_large ? "too large uncompressed" : archive_error_string(u->raw));
			goto out;
		}
	} else {
		/* An empty blob (no tar at all). */
		const void *p;

		while (blob_read(u->raw, u, &p) > 0)
			;
	}
	hashing = 0;
	ht_sha256_final(&u->blob_hash, got);
	ht_sha256_final(&u->diff_hash, got_diff);
	if (strcmp(got, l->desc.digest) != 0 || (l->desc.size >= 0 && u->blob_bytes != l->desc.size)) {
		ht_rootfs_fail_as(u, "digest_mismatch", HT_EXIT_DATAERR);
		ht_error("layer %s: blob digest mismatch: its content (%lld bytes) hashes to %s",
			 l->desc.digest, (long long)u->blob_bytes, got);
		goto out;
	}
	if (strcmp(got_diff, l->diff_id) != 0) {
		ht_rootfs_fail_as(u, "digest_mismatch", HT_EXIT_DATAERR);
		ht_error("layer %s: diff_id mismatch: the config says %s, the uncompressed layer hashes to %s",
			 l->desc.digest, l->diff_id, got_diff);
		goto out;
	}
	ret = 0;
out:
	if (hashing) {
		ht_sha256_final(&u->blob_hash, got);
		ht_sha256_final(&u->diff_hash, got_diff);
	}
	if (tar)
		archive_read_free(tar);
	if (u->raw)
		archive_read_free(u->raw);
	u->raw = NULL;
	if (u->blobfd >= 0)
		close(u->blobfd);
	u->blobfd = -1;
	json_decref(u->seen);
	u->seen = NULL;
	free(blob);
	return ret;
}

