/*
 * tree.h: whole directory trees: a copy that keeps what builds look at,
 * and a fingerprint that changes when anything in a tree does. ht-runner's
 * writable project copy (HT_WRITABLE_TASK, docs/ht-runner.md) uses both.
 *
 * Ownership: paths are borrowed.
 */
#ifndef HT_TREE_H
#define HT_TREE_H

#include <stdint.h>

#include "ht/util.h"

/* What a copy did. */
struct ht_tree_stats {
	int64_t files, dirs, links, skipped; /* skipped: sockets, fifos, devices */
	int64_t bytes;
};

/*
 * Copies the tree src to dst, which must not exist: directories, regular
 * files and symbolic links (as links, their targets unchanged), each with
 * its permission bits and modification time (make and build tools compare
 * them); hard links become separate files, other file types are skipped,
 * and so is the directory exclude (src + "/" + a relative path; NULL:
 * none), and a file that cannot be read (with a warning). stats may be
 * NULL. Returns 0, or -1 after printing why (dst may then be
 * partly there).
 */
int ht_copy_tree(const char *src, const char *dst, const char *exclude, struct ht_tree_stats *stats);

/*
 * A digest of the tree at dir: every entry's relative name, type, mode,
 * size, inode, modification and change times, in name order. Any write,
 * new or removed entry, rename, chmod or touch below dir changes it.
 * Returns 0, or -1 after printing why.
 */
int ht_tree_fingerprint(const char *dir, char out[HT_SHA256_HEX_LEN + 1]);

#endif
