/*
 * drift.c: before anything is invoked, whether the image the tests will
 * run holds the working tree: the provider says which image runs
 * (image_tree, include/ht/provider.h) and gives its manifest, or ht-update
 * stored it in the bucket; the working tree's manifest is made with the
 * same rules as ht-build's (include/ht/manifest.h). The config's `drift`
 * says what a difference does: warn (the default), error (exit 79), or
 * ignore. See docs/ht-invoke.md, "Stale images".
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ht/bucket.h"
#include "ht/manifest.h"
#include "tools/ht-invoke/invoke.h"

/* How many differing files a message names. */
#define DRIFT_NAMES 5

/* The manifest ht-update stored in the bucket for it->digest: 1 (*out), 0
 * none, -1 when the bucket could not be read (said). */
static int from_bucket(struct run *r, const struct ht_config *cfg, const struct ht_image_tree *it,
		       json_t **out)
{
	struct ht_bucket b;
	char *key, *text = NULL, *where;
	size_t len = 0;
	int rc = 0;

	if (!r->ops->bucket || !it->digest[0] || r->ops->bucket(cfg, &b) < 0)
		return 0;
	key = ht_manifest_bucket_key(it->digest);
	if (ht_bucket_get_if_any(&b, key, HT_MANIFEST_MAX, &text, &len) == 0) {
		where = ht_bucket_where(&b, key);
		*out = ht_manifest_parse(text, len, where);
		rc = *out ? 1 : -1;
		free(where);
	} else if (errno != ENOENT) {
		rc = -1;
	}
	free(text);
	free(key);
	ht_bucket_release(&b);
	return rc;
}

/* The working tree's manifest, with ht-build's root, state directory and
 * store. New reference, or NULL after printing why. */
static json_t *working_tree(const struct ht_config *cfg)
{
	const char *root = cfg->path ? cfg->root : ".";
	char *state = ht_path_resolve(root, cfg->state_dir ? cfg->state_dir : HT_STATE_DIR_DEFAULT);
	char *store = cfg->image.store ? ht_path_resolve(root, cfg->image.store) : ht_path_join(state, "oci");
	json_t *m = ht_manifest_of_project(root, state, store);

	free(state);
	free(store);
	return m;
}

int inv_drift_check(struct run *r, const struct ht_config *cfg)
{
	const char *mode = cfg->drift ? cfg->drift : "warn";
	int strict = !strcmp(mode, "error"), k, n, code = 0;
	struct ht_image_tree it;
	json_t *work = NULL;
	struct ht_buf names;

	if (!strcmp(mode, "ignore") || !r->ops->image_tree)
		return 0;
	memset(&it, 0, sizeof(it));
	ht_buf_init(&names, 0);
	k = r->ops->image_tree(r->prov, &it);
	if (k == 0)
		goto out;
	if (k < 0 || (!it.manifest && from_bucket(r, cfg, &it, &it.manifest) < 0)) {
		code = strict ? HT_EXIT_STALE : 0;
		ht_warning("cannot tell whether %s holds the working tree (above)%s", it.what,
			   strict ? "; drift is 'error'" : "");
		goto out;
	}
	if (!it.manifest) {
		ht_warning("cannot tell whether %s holds the working tree: it has no tree manifest (%s; "
			   "an image built by this ht-build has one)", it.what,
			   strcmp(r->ops->name, "local") ? "ht-update stores it in the bucket" : "not in the image");
		goto out;
	}
	work = working_tree(cfg);
	if (!work) {
		ht_warning("cannot tell whether %s holds the working tree (above)", it.what);
		goto out;
	}
	if (r->about)
		json_object_set_new(r->about, "tree", json_pack("{s:s, s:s}", "image",
								ht_manifest_tree(it.manifest), "working",
								ht_manifest_tree(work)));
	if (!strcmp(ht_manifest_tree(it.manifest), ht_manifest_tree(work))) {
		ht_info("%s holds the working tree (%s)", it.what, ht_manifest_tree(work));
		goto out;
	}
	n = ht_manifest_diff(it.manifest, work, DRIFT_NAMES, &names);
	if (strict) {
		ht_error("%s does not hold the working tree: %d file%s differ%s: %s: %s, or set drift to "
			 "'warn' (nothing was invoked)", it.what, n, n == 1 ? "" : "s", n == 1 ? "s" : "",
			 names.data ? names.data : "", it.fix);
		code = HT_EXIT_STALE;
	} else {
		ht_warning("%s does not hold the working tree: %d file%s differ%s: %s: %s; the tests "
			   "run the image's files", it.what, n, n == 1 ? "" : "s", n == 1 ? "s" : "",
			   names.data ? names.data : "", it.fix);
	}
out:
	json_decref(work);
	ht_buf_release(&names);
	ht_image_tree_release(&it);
	return code;
}
