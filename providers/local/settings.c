/*
 * settings.c: the `local` provider's configuration keys and defaults.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "ht/config.h"
#include "ht/util.h"
#include "providers/local/settings.h"

#define OFF(f) offsetof(struct ht_local_settings, f)

static const struct ht_config_key keys[] = {
	{ "local", HT_CT_SECTION, NULL, NULL, 0, 0, NULL, 0, 0, "The `local` provider." },
	{ "local.root", HT_CT_ENUM, "host", NULL, 0, 0, "host|image", 1, OFF(root),
	  "The sandbox's root file system: the host's, read-only, or the image's." },
	{ "local.sandbox", HT_CT_ENUM, "auto", NULL, 0, 0, "auto|bwrap|none", 1, OFF(sandbox),
	  "`bwrap` (bubblewrap, required), `none` (plain processes), or `auto` (bwrap when it can run)." },
	{ "local.bucket", HT_CT_STRING, NULL, "`<dir>/bucket`", 0, 0, NULL, 1, OFF(bucket),
	  "The directory that plays the bucket, relative to the project root." },
	{ "local.memory_mb", HT_CT_INT, "0", NULL, 0, 1048576, NULL, 0, OFF(memory_mb),
	  "Memory limit of one sandbox in MiB, the RSS of its processes summed, enforced by ht-runner; 0 for none." },
	{ "local.tmp_mb", HT_CT_INT, "512", NULL, 1, 10240, NULL, 0, OFF(tmp_mb),
	  "The size of a bwrap sandbox's /tmp in MiB, as Lambda's ephemeral storage (512 to 10240 there): a test that fills it fails." },
	{ "local.image", HT_CT_STRING, NULL, "ht-build's default tag: `image.repository` with its tag (or `:latest`), else `latest`",
	  0, 0, NULL, 1, OFF(image),
	  "With `root` `image`: the image of `image.store` to run, a tag or a `sha256:` digest." },
	{ "local.keep_runs", HT_CT_INT, "0", NULL, 0, 1000000, NULL, 0, OFF(keep_runs),
	  "How many runs `ht-gc` keeps in the bucket directory, newest first; 0 keeps every run (`ht-gc --runs N` overrides it)." },
	{ "local.writable_task", HT_CT_BOOL, "false", NULL, 0, 0, NULL, 0, OFF(writable_task),
	  "Make the project directory (`/var/task`) writable through an overlay private to each sandbox, discarded after it." },
	{ "local.writable_root", HT_CT_BOOL, "false", NULL, 0, 0, NULL, 0, OFF(writable_root),
	  "Make the whole root writable the same way (and the project)." },
	{ "local.task_path", HT_CT_ENUM, "var-task", NULL, 0, 0, "var-task|same", 1, OFF(task_path),
	  "With `root` `host`: `same` also binds the project at its own host path and makes that the working directory, for builds that bake absolute paths." },
	{ "local.writable_via", HT_CT_ENUM, "auto", NULL, 0, 0, "auto|overlay|copy", 1, OFF(writable_via),
	  "How the two keys above are done: `overlay` (required), `copy` (ht-runner copies the project into the sandbox's /tmp), or `auto` (the overlay where it works, else the copy, with a warning)." },
	{ NULL, HT_CT_SECTION, NULL, NULL, 0, 0, NULL, 0, 0, NULL }
};

static json_t *dflt(const char *path, const char *state_dir, json_t *vals)
{
	(void)vals;
	if (strcmp(path, "local.bucket") == 0)
		return json_sprintf("%s/bucket", state_dir);
	return NULL;
}

const struct ht_config_schema ht_local_schema = {
	.name = "local",
	.select = "provider",
	.keys = keys,
	.size = sizeof(struct ht_local_settings),
	.concurrency = 0,
	.concurrency_doc = "the number of online CPUs",
	.dflt = dflt,
};

char *ht_local_bucket_dir(const struct ht_config *cfg)
{
	const char *b = ht_local_settings(cfg)->bucket;
	char *root, *state, *dir;

	if (b && b[0] == '/')
		return ht_xstrdup(b);
	root = cfg->root ? realpath(cfg->root, NULL) : NULL;
	if (!root)
		root = ht_xstrdup(cfg->root ? cfg->root : ".");
	if (b) {
		dir = ht_path_join(root, b);
	} else {
		state = cfg->state_dir && cfg->state_dir[0] == '/' ? ht_xstrdup(cfg->state_dir) :
			ht_path_join(root, cfg->state_dir ? cfg->state_dir : HT_STATE_DIR_DEFAULT);
		dir = ht_path_join(state, "bucket");
		free(state);
	}
	free(root);
	return dir;
}
