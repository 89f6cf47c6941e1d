/*
 * manifest.h: what a project tree holds, file by file, and a hash of it
 * (the tree hash), so that a tool can tell whether an image holds the
 * working tree (docs/ht-invoke.md, "Stale images").
 *
 * A manifest is a JSON object
 *
 *   {"schema": "ht.tree/1", "tree": "sha256:HEX",
 *    "files": {"tests/a.sh": "f HEX", "bin/run": "x HEX", "lib": "l TARGET"}}
 *
 * with one member per regular file (f: mode 0644, x: 0755, HEX its
 * content's SHA-256) and symbolic link (l: its target) of the project, as
 * ht-build packs it: the same ignore rules (.hypertestignore or
 * .dockerignore, .git, .hypertest), less the state directory and the
 * image store. Directories are not listed. The tree hash is the SHA-256
 * of every "PATH\0VALUE\n" in byte order of the paths. ht-build writes
 * the manifest into the image (HT_MANIFEST_PATH) and its tree hash into
 * the image's config (label HT_TREE_LABEL, Env HT_TREE).
 *
 * Ownership: manifests are new references returned to the caller;
 * arguments are borrowed.
 */
#ifndef HT_MANIFEST_H
#define HT_MANIFEST_H

#include <jansson.h>

#include "ht/layer.h"
#include "ht/oci.h"
#include "ht/util.h"

/* Where an image built by ht-build holds its project's manifest. */
#define HT_MANIFEST_PATH "opt/hypertest/tree.json"
/* The image config label with the tree hash. */
#define HT_TREE_LABEL "dev.hypertest.tree"
/* The most a manifest may take (about 50,000 files). */
#define HT_MANIFEST_MAX (8 * 1024 * 1024)

/*
 * Adds the project at root under prefix ("var/task", or "" for names
 * relative to the root) to l, as ht-build packs it: the ignore rules of
 * root, less state_dir and store_dir when they lie inside root (either
 * may be NULL). Returns 0, or -1 after printing why.
 */
int ht_project_entries(struct ht_layer_list *l, const char *prefix, const char *root,
		       const char *state_dir, const char *store_dir);

/* The hash cache, under the state directory. */
#define HT_MANIFEST_CACHE "cache/tree-hashes.json"

/*
 * The manifest of the entries of l under prefix (names relative to it;
 * entries elsewhere are not in it), hashing each regular file's content.
 * With cache (a file, or NULL for none), a file whose size, mtime, ctime,
 * inode and device are those the cache has for its path takes the hash
 * from there, as git's index does; the cache is rewritten when it
 * changed, without the files changed in the last second. Returns a new
 * reference, or NULL after printing why (a file that cannot be read).
 */
json_t *ht_manifest_of(const struct ht_layer_list *l, const char *prefix, const char *cache);

/* The manifest of the project at root (ht_project_entries +
 * ht_manifest_of, with the hash cache under state_dir when it is not
 * NULL). New reference, or NULL after printing why. */
json_t *ht_manifest_of_project(const char *root, const char *state_dir, const char *store_dir);

/*
 * Parses and checks text as a manifest (where names it in messages): its
 * schema, a well-formed tree hash and files that hash to it. Returns a new
 * reference, or NULL after printing why.
 */
json_t *ht_manifest_parse(const char *text, size_t len, const char *where);

/* The tree hash of m ("sha256:..."), borrowed. */
const char *ht_manifest_tree(json_t *m);

/*
 * Compares the manifest of an image with the working tree's: returns the
 * number of paths that differ, and appends to out up to max of them as
 * "PATH (changed)", "PATH (not in the image)" or "PATH (only in the
 * image)", separated by ", ", with ", and N more" when there are more.
 */
int ht_manifest_diff(json_t *image, json_t *work, int max, struct ht_buf *out);

/*
 * Reads the manifest an image of the store holds at HT_MANIFEST_PATH (the
 * topmost layer that has it). Returns 1 with a new reference in *out, 0
 * when the image has none (built before ht-build wrote one, or not by
 * ht-build), -1 after printing why (a damaged layer or manifest).
 */
int ht_manifest_from_image(struct ht_oci_store *s, const struct ht_oci_image *img, json_t **out);

/*
 * The bucket key under which ht-update stores the manifest of the image
 * with manifest digest digest ("sha256:HEX"), for ht-invoke to find:
 * "images/HEX/tree.json". New string.
 */
char *ht_manifest_bucket_key(const char *digest);

#endif
