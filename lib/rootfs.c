/*
 * rootfs.c: unpacking an image of the store into a root file system, once
 * per manifest digest: the cache of roots, their markers and the in-use
 * marks' part of preparing one. Each layer is applied by
 * lib/rootfs-layer.c. See include/ht/rootfs.h and docs/rootfs.md.
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

/* --- the cache ------------------------------------------------------------- */

void ht_rootfs_init(struct ht_rootfs *r)
{
	memset(r, 0, sizeof(*r));
	r->mark = -1;
}

/* Lets go of r's in-use mark; when no one else holds it, its file goes
 * too (unlinked under the exclusive lock, as the protocol wants). */
static void drop_mark(struct ht_rootfs *r)
{
	struct stat held, named;

	if (r->mark < 0)
		return;
	if (flock(r->mark, LOCK_EX | LOCK_NB) == 0 && fstat(r->mark, &held) == 0 &&
	    stat(r->mark_path, &named) == 0 && held.st_ino == named.st_ino && held.st_dev == named.st_dev)
		(void)unlink(r->mark_path);
	close(r->mark);
	r->mark = -1;
	free(r->mark_path);
	r->mark_path = NULL;
}

void ht_rootfs_release(struct ht_rootfs *r)
{
	free(r->path);
	drop_mark(r);
	ht_rootfs_init(r);
}

/* Counts what is in the tree below dir. */
static void count_tree(int dir, struct ht_rootfs *r)
{
	int fd = dup(dir);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	struct stat st;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		r->entries++;
		if (S_ISREG(st.st_mode)) {
			r->files++;
			r->size += st.st_size;
		} else if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (sub >= 0) {
				count_tree(sub, r);
				close(sub);
			}
		}
	}
	closedir(d);
}

/* Reads CACHE/HEX/ht-rootfs.json: 1 when it is there and names digest
 * (the counts go to r), 0 when not. */
static int read_marker(const char *final, const char *digest, struct ht_rootfs *r)
{
	char *path = ht_xasprintf("%s/%s", final, HT_ROOTFS_MARKER);
	char *text = NULL;
	json_t *j = NULL;
	int ok = 0;

	if (ht_read_file(path, 64 * 1024, &text, NULL) == 0 && (j = json_loads(text, 0, NULL)) &&
	    strcmp(ht_json_str(j, "digest", ""), digest) == 0) {
		r->size = ht_json_int(j, "size", 0);
		r->files = ht_json_int(j, "files", 0);
		r->entries = ht_json_int(j, "entries", 0);
		ok = 1;
	}
	json_decref(j);
	free(text);
	free(path);
	return ok;
}

/* Unpacks every layer of img into a new directory tmp, with its marker. */
static int unpack_all(struct ht_oci_store *s, struct ht_oci_image *img, const char *tmp,
		      const struct ht_rootfs_opts *opts, struct ht_rootfs *r)
{
	struct unpack *u = ht_xcalloc(1, sizeof(*u));
	char *tree = ht_xasprintf("%s/rootfs", tmp);
	char *marker = ht_xasprintf("%s/%s", tmp, HT_ROOTFS_MARKER);
	json_t *j;
	char *text;
	size_t i;
	int ret = -1;

	u->rootfd = -1;
	u->blobfd = -1;
	u->max_size = opts && opts->max_size > 0 ? opts->max_size : HT_ROOTFS_MAX_SIZE;
	u->max_entries = opts && opts->max_entries > 0 ? opts->max_entries : HT_ROOTFS_MAX_ENTRIES;
	u->same_owner = opts ? opts->same_owner : 0;
	u->tree = tree;
	if (mkdir(tmp, 0755) < 0 || mkdir(tree, 0755) < 0 ||
	    (u->rootfd = open(tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		ht_rootfs_fail_as(u, "io", HT_EXIT_IOERR);
		ht_error("cannot make '%s': %s", tree, strerror(errno));
		goto out;
	}
	for (i = 0; i < img->nlayers; i++) {
		ht_debug("unpacking layer %zu/%zu %s", i + 1, img->nlayers, img->layers[i].desc.digest);
		if (ht_rootfs_unpack_layer(s, u, &img->layers[i]) < 0)
			goto out;
	}
	count_tree(u->rootfd, r);
	if (syncfs(u->rootfd) < 0) {
		ht_rootfs_fail_as(u, "io", HT_EXIT_IOERR);
		ht_error("cannot sync '%s': %s", tree, strerror(errno));
		goto out;
	}
	j = json_pack("{s:s,s:s,s:I,s:I,s:I,s:I}", "schema", "ht.rootfs-marker/1", "digest", r->digest,
		      "size", (json_int_t)r->size, "files", (json_int_t)r->files,
		      "entries", (json_int_t)r->entries, "layers", (json_int_t)img->nlayers);
	text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!text || ht_write_file_atomic(marker, text, strlen(text), 0644) < 0) {
		free(text);
		ht_rootfs_fail_as(u, "io", HT_EXIT_IOERR);
		goto out;
	}
	free(text);
	ret = 0;
out:
	if (ret < 0) {
		r->error_code = u->code ? u->code : "io";
		r->exit_code = u->exit ? u->exit : HT_EXIT_IOERR;
	}
	if (u->rootfd >= 0)
		close(u->rootfd);
	free(u);
	free(tree);
	free(marker);
	return ret;
}

static void fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

int ht_rootfs_prepare_opts(struct ht_oci_store *s, const char *ref, const char *cache_dir,
			   const struct ht_rootfs_opts *opts, struct ht_rootfs *r)
{
	struct ht_oci_image img;
	char *final = NULL, *tmp = NULL;
	const char *hex;
	int lock = -1, ret = -1;
	static unsigned seq;

	if (!cache_dir)
		cache_dir = HT_ROOTFS_DEFAULT_DIR;
	ht_oci_image_init(&img);
	r->error_code = "not_found";
	r->exit_code = HT_EXIT_NOINPUT;
	if (ht_oci_image_load(s, ref, &img) < 0) {
		if (errno != ENOENT) {
			r->error_code = "bad_layer";
			r->exit_code = HT_EXIT_DATAERR;
		}
		goto out;
	}
	snprintf(r->digest, sizeof(r->digest), "%s", img.manifest_desc.digest);
	hex = r->digest + 7;
	r->layers = img.nlayers;
	r->error_code = "io";
	r->exit_code = HT_EXIT_IOERR;
	final = ht_path_join(cache_dir, hex);
	/* The mark, then the lock: the protocol's order (rootfs.h). */
	if (ht_mkdir_p(cache_dir, 0755) < 0) {
		ht_error("cannot create '%s': %s", cache_dir, strerror(errno));
		goto out;
	}
	drop_mark(r);
	if ((r->mark = ht_rootfs_lock(cache_dir, hex, ".inuse", LOCK_SH)) < 0)
		goto out;
	r->mark_path = ht_xasprintf("%s/%s.inuse", cache_dir, hex);
	if ((lock = ht_rootfs_lock(cache_dir, hex, ".lock", LOCK_EX)) < 0)
		goto out;
	if (!read_marker(final, r->digest, r)) {
		struct stat st;

		ht_rootfs_remove_stale(cache_dir, hex);
		if (lstat(final, &st) == 0) {
			ht_warning("'%s' is incomplete; unpacking it again", final);
			if (ht_remove_tree(final) < 0)
				goto out;
		}
		tmp = ht_xasprintf("%s/.tmp-%s-%ld-%u", cache_dir, hex, (long)getpid(),
				  __atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED));
		if (unpack_all(s, &img, tmp, opts, r) < 0) {
			(void)ht_remove_at(AT_FDCWD, tmp);
			goto out;
		}
		if (rename(tmp, final) < 0) {
			int e = errno;

			(void)ht_remove_at(AT_FDCWD, tmp);
			/* Someone else won (a caller of an older version, which
			 * did not check its lock file was still the named one). */
			if (!((e == EEXIST || e == ENOTEMPTY) && read_marker(final, r->digest, r))) {
				ht_error("cannot rename '%s' to '%s': %s", tmp, final, strerror(e));
				goto out;
			}
		}
		fsync_dir(cache_dir);
	} else {
		r->reused = 1;
	}
	r->path = ht_xasprintf("%s/rootfs", final);
	r->error_code = NULL;
	r->exit_code = 0;
	ret = 0;
out:
	if (lock >= 0)
		close(lock);
	if (ret < 0)
		drop_mark(r);
	free(final);
	free(tmp);
	ht_oci_image_release(&img);
	return ret;
}

int ht_rootfs_prepare(struct ht_oci_store *s, const char *manifest_digest, const char *cache_dir,
		      char **path_out)
{
	struct ht_rootfs r;

	ht_rootfs_init(&r);
	if (ht_rootfs_prepare_opts(s, manifest_digest, cache_dir, NULL, &r) < 0) {
		ht_rootfs_release(&r);
		return -1;
	}
	*path_out = r.path;
	r.path = NULL;
	ht_rootfs_release(&r);
	return 0;
}
