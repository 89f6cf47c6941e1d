/*
 * layer.h: reproducible gzip tar layers, written straight into the OCI store.
 *
 * A layer is described by a list of entries (what goes where in the image);
 * ht_layer_build() sorts them, writes a tar stream with libarchive and
 * compresses it into a blob. The result depends only on the entries' names,
 * kinds, normalised modes, contents and link targets, the epoch and the
 * gzip level: uid/gid 0:0 without names, modes 0644 / 0755 (0755 for any
 * file with an execute bit, and for directories), mtime = the epoch, no
 * atime/ctime/xattrs/ACLs, and a gzip header without a name or mtime. The
 * gzip stream is a single member compressed in 1 MiB blocks on several
 * threads (each block primed with the previous 32 KiB as dictionary, as
 * pigz does), so the output does not depend on the number of threads.
 *
 * lib/layer-entries.c makes the entry lists (files, trees, programs),
 * lib/layer.c writes the layers.
 *
 * Ownership: struct ht_layer_list owns its entries and their strings;
 * ht_layer_list_release() frees them. Strings passed in are copied.
 */
#ifndef HT_LAYER_H
#define HT_LAYER_H

#include <stdint.h>
#include <sys/stat.h>

#include "ignore.h"
#include "oci.h"

struct ht_layer_entry {
	char *name;     /* path in the image, relative, no leading or trailing '/' */
	char *src;      /* the file whose content goes in (regular files), else NULL */
	char *link;     /* symlink target, else NULL */
	mode_t type;    /* S_IFREG, S_IFDIR or S_IFLNK */
	mode_t mode;    /* normalised permission bits */
	int64_t size;   /* regular files */
	struct stat st; /* of src, for the reuse key (zero for made-up directories) */
};

struct ht_layer_list {
	struct ht_layer_entry *v;
	size_t n, cap;
};

void ht_layer_list_init(struct ht_layer_list *l);
void ht_layer_list_release(struct ht_layer_list *l);
/* Adds a directory (its parents are added by ht_layer_build). */
void ht_layer_add_dir(struct ht_layer_list *l, const char *name);
/*
 * Adds the file src (following symlinks) as the regular file name. With
 * exec >= 0 it decides the mode (1: 0755, 0: 0644); with -1 the file's own
 * execute bits do.
 */
int ht_layer_add_file(struct ht_layer_list *l, const char *name, const char *src, int exec);
/*
 * Adds the tree at root under prefix (e.g. "var/task"), keeping symlinks as
 * symlinks, leaving out what ig (may be NULL) excludes. Sockets, FIFOs
 * and devices are skipped with a warning. *count (may be NULL) gets the
 * number of entries added.
 */
int ht_layer_add_tree(struct ht_layer_list *l, const char *prefix, const char *root,
		      const struct ht_ignore *ig, long *count);

/*
 * Makes ig leave dir out of a tree added from root (ht_layer_add_tree)
 * when dir lies inside root: for a build's own state directory or store
 * inside the project under a name the ignore rules do not know.
 */
void ht_layer_leave_out(struct ht_ignore *ig, const char *root, const char *dir);

/* The commit a git checkout at root is at (git rev-parse HEAD), for an
 * image's revision label; NULL when root is not a checkout's top or git
 * fails. New string. */
char *ht_layer_tree_revision(const char *root);

struct ht_layer_opts {
	int64_t epoch;          /* mtime of every entry */
	int level;              /* gzip level 1..9; 0 for the default, 6 */
	int jobs;               /* compression threads; 0 for the number of cores */
	const char *cache_dir;  /* where reuse keys are kept; NULL for no reuse */
};

struct ht_layer_result {
	char digest[HT_DIGEST_LEN + 1];  /* of the gzip blob */
	char diff_id[HT_DIGEST_LEN + 1]; /* of the uncompressed tar */
	int64_t size;                    /* of the gzip blob */
	int64_t tar_size;                /* of the uncompressed tar */
	size_t entries;
	int reused;                      /* 1 when it came from the cache */
};

/*
 * Writes the layer for l into the store (sorting l, adding missing parent
 * directories, refusing duplicate names). With opts->cache_dir, a layer
 * whose reuse key (a hash of every entry's name, kind, mode, link, and of
 * its source file's size, mtime, ctime, inode and device, plus the epoch
 * and level) is known and whose blob is still in the store is not written
 * again: r->reused is set. A key is only saved when no source file changed
 * in the second before the build started (a file changed later within the
 * same timestamp tick could not be told apart).
 */
int ht_layer_build(struct ht_oci_store *s, struct ht_layer_list *l,
		   const struct ht_layer_opts *opts, struct ht_layer_result *r);

/*
 * The uncompressed size of a gzip blob in the store (all members), found by
 * inflating it. For layers from elsewhere whose tar size is unknown.
 */
int ht_layer_gzip_size(struct ht_oci_store *s, const char *digest, int64_t *size);
/*
 * The uncompressed size of a layer of an image in the store: the blob's
 * size for a plain tar, else the gzip blob inflated once
 * (ht_layer_gzip_size) and the size remembered in cache_dir/size-HEX of
 * its diff_id (cache_dir may be NULL: nothing remembered).
 */
int ht_layer_tar_size(struct ht_oci_store *s, const char *cache_dir, const struct ht_oci_layer *l,
		      int64_t *size);

/*
 * Adds the program at path as the file name (mode 0755) with what it needs
 * to start in an image of the same architecture whatever the image's libc:
 * the shared libraries ldd lists, as libdir/SONAME, and the dynamic loader,
 * as libdir/ITS-NAME (libdir without a leading '/'). *loader gets the
 * loader's absolute path in the image (new string) to start the program
 * with ("LOADER --library-path /LIBDIR /NAME"), or NULL when the program is
 * static and was added alone.
 */
int ht_layer_add_program(struct ht_layer_list *l, const char *name, const char *path,
			 const char *libdir, char **loader);

#endif
