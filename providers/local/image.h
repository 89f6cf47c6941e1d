/*
 * image.h: the local provider's `local.root: "image"` mode: which
 * image of the store to run, its tree unpacked once per digest (rootfs.h),
 * kept from other providers' garbage collection while it runs, and how the
 * image wants to be started. Private to providers/local/.
 *
 * Ownership: struct local_image owns everything in it until
 * local_image_release(); the config is borrowed.
 */
#ifndef HT_LOCAL_IMAGE_H
#define HT_LOCAL_IMAGE_H

#include "ht/config.h"
#include "ht/provider.h"
#include "ht/rootfs.h"
#include "ht/util.h"

struct local_image {
	char *ref;         /* what was asked for: a tag or a digest */
	char *store;       /* the store's directory */
	char digest[HT_DIGEST_LEN + 1]; /* the manifest */
	char *tree;        /* the unpacked root, absolute */
	int reused;        /* the tree was already there */
	long removed;      /* roots of other images removed */
	char **argv;       /* Entrypoint then Cmd, NULL-terminated */
	char **env;        /* the image's Env, "K=V", NULL-terminated */
	char *working_dir; /* "/" when the image says none */
	struct ht_rootfs rf; /* the prepared root, holding its in-use mark */
};

void local_image_init(struct local_image *im);
void local_image_release(struct local_image *im);

/*
 * Which image runs, for ht-invoke's drift check: its digest, and the
 * manifest ht-build wrote into it (include/ht/manifest.h), read from the
 * unpacked tree (none when it has none). Returns 1; -1 after printing why
 * (a damaged manifest).
 */
int local_image_tree(const struct local_image *im, struct ht_image_tree *it);

/*
 * Resolves the image of cfg (local.image, else ht-build's default tag) in
 * image.store, unpacks it into <dir>/rootfs unless it is there, marks it in
 * use, removes the roots of other images that no one uses, and reads its
 * Entrypoint, Cmd, Env and WorkingDir. Returns 0, or -1 after printing why
 * with *code set: 66 no store or no such image (with the advice to run
 * ht-build), 65 a bad image, 74 I/O, 78 a bad image.repository.
 */
int local_image_open(struct local_image *im, const struct ht_config *cfg, int *code);

/* The tag ht-build gives an image by default for cfg: image.repository
 * with its tag (":latest" when it has none), else "latest". New string, or
 * NULL after printing why image.repository is unusable. */
char *local_image_default_ref(const struct ht_config *cfg);

/* 1 when name (borrowed) is "PATH", "PATH=..." is in env, else 0. */
int local_image_env_has(char *const *env, const char *name);

#endif
