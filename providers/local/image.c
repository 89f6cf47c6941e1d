/*
 * image.c: the image a `local.root: "image"` provider runs: resolved
 * in the store, unpacked once per digest by ht_rootfs_prepare_opts(), and
 * marked in use so that another provider's clean-up leaves it alone. See
 * docs/local-provider.md, "Root modes".
 *
 * The root's in-use mark (CACHE/HEX.inuse) is taken by
 * ht_rootfs_prepare_opts and kept here until the provider closes; the
 * other roots are removed with ht_rootfs_gc: the protocol of
 * include/ht/rootfs.h, the same as ht-unpack's and ht-gc's.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "ht/diag.h"
#include "ht/exit.h"
#include "ht/imageref.h"
#include "ht/jsonl.h"
#include "ht/manifest.h"
#include "ht/oci.h"
#include "ht/rootfs.h"
#include "providers/local/settings.h"

#include "providers/local/image.h"

void local_image_init(struct local_image *im)
{
	memset(im, 0, sizeof(*im));
	ht_rootfs_init(&im->rf);
}

static void strv_free(char **v)
{
	size_t i;

	for (i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

void local_image_release(struct local_image *im)
{
	free(im->ref);
	free(im->store);
	free(im->tree);
	strv_free(im->argv);
	strv_free(im->env);
	free(im->working_dir);
	ht_rootfs_release(&im->rf);
	local_image_init(im);
}

char *local_image_default_ref(const struct ht_config *cfg)
{
	struct ht_imageref ref;
	char *s;

	if (!cfg->image.repository)
		return ht_xstrdup("latest");
	ht_imageref_init(&ref);
	if (ht_imageref_parse(&ref, cfg->image.repository, "latest") < 0 || ref.kind != HT_REF_REGISTRY ||
	    ref.digest) {
		ht_imageref_release(&ref);
		ht_config_error(cfg, "image.repository", "expected REGISTRY/REPOSITORY[:TAG]");
		return NULL;
	}
	s = ht_imageref_format(&ref);
	ht_imageref_release(&ref);
	/* As ht-build: a reference too long for a tag falls back to latest. */
	if (!ht_oci_tag_valid(s)) {
		free(s);
		s = ht_xstrdup("latest");
	}
	return s;
}

int local_image_env_has(char *const *env, const char *name)
{
	size_t n = strlen(name), i;

	for (i = 0; env && env[i]; i++)
		if (!strncmp(env[i], name, n) && env[i][n] == '=')
			return 1;
	return 0;
}

/* 1 when ref names an image of the store (a tag of index.json, or a blob
 * digest), 0 when not, -1 on a store that cannot be read. Quiet when the
 * image is simply missing, so the caller can say what to do about it. */
static int image_known(struct ht_oci_store *st, const char *ref)
{
	json_t *idx, *m;
	size_t i;
	int found = 0;

	if (ht_starts_with(ref, "sha256:"))
		return ht_oci_has_blob(st, ref, NULL);
	if (ht_oci_read_index(st, &idx) < 0)
		return -1;
	json_array_foreach(json_object_get(idx, "manifests"), i, m) {
		const char *name = ht_json_str(json_object_get(m, "annotations"), HT_OCI_REF_NAME, NULL);

		if (name && !strcmp(name, ref))
			found = 1;
	}
	json_decref(idx);
	return found;
}

/* Appends the strings of src (NULL-terminated) to the vector *v of *n. */
static void strv_append(char ***v, size_t *n, char *const *src)
{
	size_t i;

	for (i = 0; src && src[i]; i++) {
		*v = ht_xrealloc(*v, sizeof(**v) * (*n + 2));
		(*v)[(*n)++] = ht_xstrdup(src[i]);
		(*v)[*n] = NULL;
	}
}

int local_image_open(struct local_image *im, const struct ht_config *cfg, int *code)
{
	struct ht_oci_store st = { 0 };
	struct ht_rootfs *rf = &im->rf;
	struct ht_rootfs_exec x;
	struct stat sb;
	char *cache = NULL, *rel;
	size_t n = 0;
	int known, ret = -1;

	ht_rootfs_exec_init(&x);
	*code = HT_EXIT_CONFIG;
	im->ref = ht_local_settings(cfg)->image ? ht_xstrdup(ht_local_settings(cfg)->image) : local_image_default_ref(cfg);
	if (!im->ref)
		goto out;
	rel = cfg->image.store ? ht_xstrdup(cfg->image.store) : ht_xasprintf("%s/oci",
				cfg->state_dir ? cfg->state_dir : HT_STATE_DIR_DEFAULT);
	im->store = ht_config_path(cfg, rel);
	free(rel);

	*code = HT_EXIT_NOINPUT;
	if (stat(im->store, &sb) < 0) {
		ht_error("local.root is 'image' but there is no image store at '%s': build the image "
			 "first with ht-build (or make hypertest-build)", im->store);
		goto out;
	}
	if (ht_oci_open(&st, im->store, 0) < 0)
		goto out;
	known = image_known(&st, im->ref);
	if (known <= 0) {
		if (known == 0)
			ht_error("local.root is 'image' but there is no image '%s' in '%s': build it first with "
				 "ht-build (or make hypertest-build), or set local.image", im->ref, im->store);
		goto out;
	}
	cache = ht_config_state_path(cfg, "rootfs");
	/* Its mark is held in im->rf until the provider closes. */
	if (ht_rootfs_prepare_opts(&st, im->ref, cache, NULL, rf) < 0) {
		*code = rf->exit_code ? rf->exit_code : HT_EXIT_IOERR;
		goto out;
	}
	snprintf(im->digest, sizeof(im->digest), "%s", rf->digest);
	*code = HT_EXIT_IOERR;
	im->tree = realpath(rf->path, NULL);
	if (!im->tree) {
		ht_error("cannot resolve '%s': %s", rf->path, strerror(errno));
		goto out;
	}
	im->reused = rf->reused;
	*code = HT_EXIT_DATAERR;
	if (ht_rootfs_exec_load(&st, im->digest, &x) < 0)
		goto out;
	strv_append(&im->argv, &n, x.entrypoint);
	strv_append(&im->argv, &n, x.cmd);
	if (!n) {
		ht_error("image '%s' (%s) has neither an Entrypoint nor a Cmd: nothing to start", im->ref,
			 im->digest);
		goto out;
	}
	n = 0;
	strv_append(&im->env, &n, x.env);
	if (!im->env)
		im->env = ht_xcalloc(1, sizeof(char *));
	if (x.working_dir[0] != '/') {
		ht_error("image '%s' (%s): WorkingDir '%s' is not absolute", im->ref, im->digest,
			 x.working_dir);
		goto out;
	}
	im->working_dir = ht_xstrdup(x.working_dir);
	{
		const char *keep[1] = { im->digest };

		if (ht_rootfs_gc(cache, keep, 1, &im->removed) < 0)
			ht_warning("some unused roots in '%s' could not be removed", cache);
	}
	ht_info("running image '%s' (%s): root %s '%s'%s", im->ref, im->digest,
		im->reused ? "reused" : "unpacked", im->tree,
		im->removed ? " (unused roots of other images removed)" : "");
	*code = 0;
	ret = 0;
out:
	free(cache);
	ht_rootfs_exec_release(&x);
	if (st.dir)
		ht_oci_close(&st);
	return ret;
}

int local_image_tree(const struct local_image *im, struct ht_image_tree *it)
{
	char *path = ht_path_join(im->tree, HT_MANIFEST_PATH), *text = NULL;
	size_t len = 0;
	int rc = 1;

	snprintf(it->digest, sizeof(it->digest), "%s", im->digest);
	it->what = ht_xasprintf("image '%s' (%s)", im->ref, im->digest);
	it->fix = "run ht-build (or make hypertest-build)";
	if (ht_read_file(path, HT_MANIFEST_MAX, &text, &len) == 0) {
		it->manifest = ht_manifest_parse(text, len, path);
		if (!it->manifest)
			rc = -1;
	} else if (errno != ENOENT) {
		rc = ht_error("cannot read '%s': %s", path, strerror(errno));
	}
	free(text);
	free(path);
	return rc;
}
