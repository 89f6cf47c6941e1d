/*
 * settings.h: the `local` provider's keys of hypertest.json (local.*),
 * registered with libht's config loader through ht_local_schema.
 *
 * Ownership: the config owns every string; ht_local_settings() borrows.
 */
#ifndef HT_LOCAL_SETTINGS_H
#define HT_LOCAL_SETTINGS_H

#include "ht/config.h"
#include "ht/provider.h"

struct ht_local_settings {
	char *root;        /* "host" (default) or "image" */
	char *sandbox;     /* "auto" (default), "bwrap" or "none" */
	char *bucket;      /* directory, default "<dir>/bucket" */
	long memory_mb;    /* per sandbox; 0 for no limit */
	long tmp_mb;       /* the size of a bwrap sandbox's /tmp (default 512) */
	char *image;       /* root "image": a tag or digest of image.store; NULL: ht-build's default tag */
	long keep_runs;    /* runs ht-gc keeps in the bucket directory; 0: all */
	int writable_task; /* the project (/var/task) writable: an overlay private to each sandbox */
	int writable_root; /* the whole root writable, likewise (implies writable_task) */
	char *task_path;   /* "var-task" (default) or "same": also at its own host path */
	char *writable_via; /* "auto" (default), "overlay" or "copy" */
};

extern const struct ht_config_schema ht_local_schema;
extern const struct ht_provider_check ht_local_checks[];

/* The bucket directory: local.bucket (absolute, or relative to the
 * project root), else <root>/<dir>/bucket. New string. */
char *ht_local_bucket_dir(const struct ht_config *cfg);

/* The local.* settings of a loaded config; borrowed. */
static inline const struct ht_local_settings *ht_local_settings(const struct ht_config *c)
{
	return (const struct ht_local_settings *)ht_config_settings(c, &ht_local_schema);
}

#endif
