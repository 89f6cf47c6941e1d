/*
 * artifacts.h: what ht-runner keeps of one test in the bucket: stdout.txt,
 * stderr.txt and the output directory under "<run_id>/<test_id>/", at
 * most HT_ARTIFACTS_MAX files of the output directory (name order), and
 * the names of those left out, with why, in left-out.txt beside them
 * (docs/ht-runner.md).
 *
 * Ownership: struct ht_artifacts owns its strings, items and keys until
 * ht_artifacts_release(); the bucket and the paths passed in are borrowed.
 */
#ifndef HT_ARTIFACTS_H
#define HT_ARTIFACTS_H

#include <stddef.h>

#include <jansson.h>

#include "ht/bucket.h"
#include "ht/util.h"

#define HT_ARTIFACTS_MAX 1000

struct ht_artifacts {
	struct ht_bucket *bucket; /* borrowed */
	char *prefix;             /* "<run_id>/<test_id>/" */
	json_t *keys;             /* the keys stored, in order */
	long failed;              /* files that could not be stored */
	char *first_failed;       /* "KEY': why" of the first */
	/* The files of the output directory: how many are kept, and those
	 * left out by reason, each named on a line of left ("why: out/x"). */
	long nout, over, special, badname;
	struct ht_buf left;
	/* The files to store, all at once by ht_artifacts_store(). */
	struct ht_bucket_item *items;
	size_t n;
};

void ht_artifacts_init(struct ht_artifacts *u, struct ht_bucket *bucket, const char *prefix);
void ht_artifacts_release(struct ht_artifacts *u);
/* Gathers the file at path under the key prefix + rel; out: a file of the
 * output directory (at most HT_ARTIFACTS_MAX of those are kept). */
void ht_artifacts_add(struct ht_artifacts *u, const char *rel, const char *path, int out);
/* Gathers every regular file under dir (rel names it below the test's
 * prefix: "out"), in name order so the artifact list is stable. */
void ht_artifacts_add_tree(struct ht_artifacts *u, const char *dir, const char *rel);
/* Writes the list of what was left out to work/left-out.txt and gathers
 * it, then stores everything, in parallel where the bucket can. */
void ht_artifacts_store(struct ht_artifacts *u, const char *work);
/* The result's upload_error, or NULL when every file was kept: what could
 * not be stored, and what of the output directory was left out. New string. */
char *ht_artifacts_error(const struct ht_artifacts *u);

#endif
