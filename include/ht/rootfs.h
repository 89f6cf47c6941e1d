/*
 * rootfs.h: an image from the store unpacked into a root file system, once
 * per manifest digest, for the local provider's sandboxes (their read-only
 * root).
 *
 * Layout of the cache directory (default .hypertest/rootfs):
 *
 *   CACHE/HEX/rootfs          the merged tree of the image's layers
 *   CACHE/HEX/ht-rootfs.json  the marker, written last: digest and counts
 *   CACHE/HEX.inuse           the in-use mark (below)
 *   CACHE/HEX.lock            flock'd while HEX is being prepared or removed
 *   CACHE/.tmp-HEX-PID-N/     an unpack in progress, renamed to HEX when done
 *                             (or, -gcN, a root being removed)
 *
 * HEX is the hex of the manifest digest. A directory under the final name
 * is always complete: it appears by rename(2) after the marker was written.
 *
 * In-use marks, and the one lock order. Everyone who prepares a root, runs
 * on it or removes it follows this protocol (ht_rootfs_prepare_opts, and
 * through it ht-unpack and the local provider; ht_rootfs_gc, and through
 * it ht-gc, ht-unpack --prune and the local provider's clean-up):
 *
 *   - HEX.inuse is flock'd shared by whoever prepares or uses root HEX, for
 *     as long as it does: ht_rootfs_prepare_opts takes it before it looks
 *     at the tree and struct ht_rootfs holds it until ht_rootfs_release
 *     (the local provider keeps it until it closes). A gc takes it
 *     exclusively to remove HEX; a release that finds itself the last
 *     holder (an exclusive LOCK_NB succeeds) unlinks it.
 *   - HEX.lock is flock'd exclusively while HEX is unpacked or removed.
 *   - Order: HEX.inuse first, then HEX.lock; never the other way. The only
 *     waits are for a mark by a process that holds no lock of that root,
 *     and for a lock by a process that holds only the root's mark shared;
 *     a gc takes both with LOCK_NB and leaves a root alone when either is
 *     taken, so it never waits: no deadlock, and no root is removed while
 *     someone holds its mark.
 *   - A mark or lock file is unlinked only by its exclusive holder (a gc
 *     when the root is gone, the last user of a mark). Whoever gets a lock checks that the name
 *     still names the file it locked, and otherwise locks the new file, so
 *     a preparer that waited on a removed root's mark unpacks it again.
 *
 * Safety: layers are read with libarchive and written with openat(2)
 * walks, never following a symlink while writing. A symlink met in the
 * middle of an entry's path is resolved inside the tree, as if the tree
 * were '/' (a -> /etc, then a/passwd writes TREE/etc/passwd); entries with
 * an absolute path or a '..' component, whiteouts of '..', and hard links
 * whose target is absolute, has '..' or is missing are refused. Devices
 * are skipped, setuid/setgid bits dropped, ownership left alone (unless
 * running as root and asked), and every file is readable and every
 * directory writable by the user who unpacked it. Each layer's blob is
 * hashed while it is read and checked against its digest, the uncompressed
 * stream against the config's diff_id; nothing unchecked is ever renamed
 * into place.
 *
 * Ownership: structs own what they hold and are freed by their release
 * functions; strings passed in are borrowed; char * results are new
 * strings the caller frees. Functions return 0 on success and -1 after
 * printing the reason with ht_error(), unless their comment says otherwise.
 */
#ifndef HT_ROOTFS_H
#define HT_ROOTFS_H

#include <stddef.h>
#include <stdint.h>

#include "oci.h"

/* The cache's default directory, relative to the project root. */
#define HT_ROOTFS_DEFAULT_DIR ".hypertest/rootfs"
/* Default limits: 10 GiB uncompressed (Lambda's image limit), 4 million
 * tar entries, over all layers together. */
#define HT_ROOTFS_MAX_SIZE (10LL << 30)
#define HT_ROOTFS_MAX_ENTRIES 4000000LL
/* The marker's name inside CACHE/HEX. */
#define HT_ROOTFS_MARKER "ht-rootfs.json"

struct ht_rootfs_opts {
	int64_t max_size;    /* uncompressed bytes of all layers; 0 for the default */
	int64_t max_entries; /* tar entries of all layers; 0 for the default */
	int same_owner;      /* apply the layers' uid/gid (only when running as root) */
};

/* What ht_rootfs_prepare_opts made or found. */
struct ht_rootfs {
	char digest[HT_DIGEST_LEN + 1]; /* the manifest */
	char *path;                     /* CACHE/HEX/rootfs; owned */
	int64_t size;                   /* bytes of regular files in the tree */
	int64_t files;                  /* regular files in the tree */
	int64_t entries;                /* everything in the tree: files, directories, links */
	size_t layers;                  /* layers unpacked (or in the image, when reused) */
	int reused;                     /* 1 when it was already there */
	int mark;                       /* CACHE/HEX.inuse, flock'd shared from
					   prepare until release; -1 when none */
	char *mark_path;                /* its path; owned */
	/* After a failure: why, for records and exit codes. */
	const char *error_code;         /* "not_found", "unsafe_entry", "bad_layer",
					   "digest_mismatch", "too_large", "io" (static) */
	int exit_code;                  /* from exit.h */
};
void ht_rootfs_init(struct ht_rootfs *r);
void ht_rootfs_release(struct ht_rootfs *r);

/*
 * Makes sure the image named by ref (a manifest digest, or a tag of the
 * store; an index is resolved to this machine's platform) is unpacked in
 * cache_dir (NULL for HT_ROOTFS_DEFAULT_DIR) and fills r (init it first).
 * Takes the root's in-use mark first and keeps it in r->mark until
 * ht_rootfs_release(r), so no gc removes the tree while r is held (the
 * release unlinks the mark when no one else holds it). When CACHE/HEX is
 * complete it is reused (r->reused); otherwise the layers are unpacked in
 * order into a temporary directory beside it, which is renamed into place.
 * Concurrent callers for the same digest wait on CACHE/HEX.lock; the second
 * finds the first one's tree. opts may be NULL. A failed unpack leaves
 * nothing under the final name, and holds no mark.
 */
int ht_rootfs_prepare_opts(struct ht_oci_store *s, const char *ref, const char *cache_dir,
			   const struct ht_rootfs_opts *opts, struct ht_rootfs *r);
/*
 * The short form: *path_out gets CACHE/HEX/rootfs (new string). It does
 * not keep the mark: a gc may remove the tree once it returns.
 */
int ht_rootfs_prepare(struct ht_oci_store *s, const char *manifest_digest, const char *cache_dir,
		      char **path_out);

/*
 * Removes the unpacked roots in cache_dir whose manifest digest
 * ("sha256:HEX") is not one of keep[0..nkeep-1] and that no one uses (mark
 * and lock taken without waiting, as above), the marks and locks of roots
 * that are gone, and temporary directories of unpacks whose process is
 * gone. A root whose mark or lock is held is left alone. *removed (may be
 * NULL) gets the number of roots removed. Returns -1 when a root could not
 * be removed (the others still are).
 */
int ht_rootfs_gc(const char *cache_dir, const char *const *keep, size_t nkeep, long *removed);

/*
 * The protocol's lock files: opens CACHE/HEX + suffix (".inuse" or
 * ".lock"), creating it, and flocks it with how (LOCK_SH or LOCK_EX,
 * | LOCK_NB), checking afterwards that the name still names it. Returns
 * the descriptor (closing it unlocks), -2 when LOCK_NB and someone else
 * holds it, -1 after printing why.
 */
int ht_rootfs_lock(const char *cache_dir, const char *hex, const char *suffix, int how);
/* Removes CACHE/.tmp-HEX-PID-* of processes that are gone (hex NULL: of
 * any digest). */
void ht_rootfs_remove_stale(const char *cache_dir, const char *hex);

/* How the image wants to be run: its config's Entrypoint, Cmd, Env,
 * WorkingDir and User. Arrays are NULL-terminated and owned. */
struct ht_rootfs_exec {
	char **entrypoint; /* never NULL; may be empty */
	char **cmd;        /* never NULL; may be empty */
	char **env;        /* "NAME=value", never NULL */
	char *working_dir; /* "/" when the config says none */
	char *user;        /* "" when the config says none */
};
void ht_rootfs_exec_init(struct ht_rootfs_exec *x);
void ht_rootfs_exec_release(struct ht_rootfs_exec *x);
/* Reads the image config of ref (as for ht_rootfs_prepare_opts) into x. */
int ht_rootfs_exec_load(struct ht_oci_store *s, const char *ref, struct ht_rootfs_exec *x);
/* Fills x from an image config (borrowed), as ht_rootfs_exec_load does. */
int ht_rootfs_exec_from_config(json_t *config, struct ht_rootfs_exec *x);

#endif
