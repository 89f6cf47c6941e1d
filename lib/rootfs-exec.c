/*
 * rootfs-exec.c: how an image wants to be run (its config's Entrypoint,
 * Cmd, Env, WorkingDir and User), for the local provider and ht-unpack.
 * See include/ht/rootfs.h.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ht/ht.h"
#include "ht/rootfs.h"

void ht_rootfs_exec_init(struct ht_rootfs_exec *x)
{
	memset(x, 0, sizeof(*x));
}

static void free_strv(char **v)
{
	size_t i;

	for (i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

void ht_rootfs_exec_release(struct ht_rootfs_exec *x)
{
	free_strv(x->entrypoint);
	free_strv(x->cmd);
	free_strv(x->env);
	free(x->working_dir);
	free(x->user);
	ht_rootfs_exec_init(x);
}

/* A NULL-terminated copy of an array of strings (NULL or null: empty). */
static int strv_from(json_t *a, const char *what, char ***out)
{
	size_t i, n = json_is_array(a) ? json_array_size(a) : 0;

	if (a && !json_is_array(a) && !json_is_null(a))
		return ht_error("image config: %s is not an array", what);
	*out = ht_xcalloc(n + 1, sizeof(char *));
	for (i = 0; i < n; i++) {
		json_t *v = json_array_get(a, i);

		if (!json_is_string(v))
			return ht_error("image config: %s[%zu] is not a string", what, i);
		(*out)[i] = ht_xstrdup(json_string_value(v));
	}
	return 0;
}

int ht_rootfs_exec_from_config(json_t *config, struct ht_rootfs_exec *x)
{
	json_t *c = json_object_get(config, "config");
	const char *wd = ht_json_str(c, "WorkingDir", "");

	if (strv_from(json_object_get(c, "Entrypoint"), "Entrypoint", &x->entrypoint) < 0 ||
	    strv_from(json_object_get(c, "Cmd"), "Cmd", &x->cmd) < 0 ||
	    strv_from(json_object_get(c, "Env"), "Env", &x->env) < 0)
		return -1;
	x->working_dir = ht_xstrdup(*wd ? wd : "/");
	x->user = ht_xstrdup(ht_json_str(c, "User", ""));
	return 0;
}

int ht_rootfs_exec_load(struct ht_oci_store *s, const char *ref, struct ht_rootfs_exec *x)
{
	struct ht_oci_image img;
	int ret;

	ht_oci_image_init(&img);
	ret = ht_oci_image_load(s, ref, &img);
	if (ret == 0)
		ret = ht_rootfs_exec_from_config(img.config, x);
	ht_oci_image_release(&img);
	return ret;
}
