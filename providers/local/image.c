/*
 * local-image.c: the image a `local.root: "image"` provider runs: resolved
 * in the store, unpacked once per digest by ht_rootfs_prepare_opts(), and
 * marked in use so that another provider's clean-up leaves it alone. See
 * docs/local-provider.md, "Root modes".
 *
 * In-use marks: CACHE/HEX.inuse is flock'd shared by every provider that
 * runs on HEX, from before its prepare until it closes. A provider removes
 * the root of another digest only while it holds that digest's mark
 * exclusively, so a root is never removed under a running sandbox, and a
 * provider that finds its root gone after taking its mark unpacks it again.
 * A mark file is unlinked only under its exclusive lock; whoever locked the
 * unlinked file sees that its inode is no longer the path's and retries.
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
#include "ht/oci.h"
#include "ht/rootfs.h"
#include "providers/local/settings.h"

#include "providers/local/image.h"

void local_image_init(struct local_image *im)
{
	memset(im, 0, sizeof(*im));
	im->inuse_fd = -1;
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
	if (im->inuse_fd >= 0)
		close(im->inuse_fd);
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

/* Opens and flocks CACHE/HEX.inuse with how (LOCK_SH, LOCK_EX, | LOCK_NB).
 * Returns the descriptor, -2 when a non-blocking lock is taken by someone
 * else, -1 on an error (printed). */
static int inuse_lock(const char *cache, const char *hex, int how)
{
	char *path = ht_xasprintf("%s/%s.inuse", cache, hex);
	int fd = -1;

	for (;;) {
		struct stat a, b;
		int r;

		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0) {
			ht_error("cannot open '%s': %s", path, strerror(errno));
			break;
		}
		do
			r = flock(fd, how);
		while (r < 0 && errno == EINTR);
		if (r < 0) {
			int e = errno;

			close(fd);
			fd = e == EWOULDBLOCK ? -2 : -1;
			if (fd == -1)
				ht_error("cannot lock '%s': %s", path, strerror(e));
			break;
		}
		/* Still the file under that name? (A clean-up may have unlinked it.) */
		if (fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
			break;
		close(fd);
	}
	free(path);
	return fd;
}

/* 1 when name is 64 lowercase hex digits. */
static int is_hex(const char *name)
{
	size_t i;

	for (i = 0; name[i]; i++)
		if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
			return 0;
	return i == HT_SHA256_HEX_LEN;
}

/* 1 when name is HEX.inuse, HEX is not keep_hex, and there is no root
 * HEX in the directory dfd. */
static int is_inuse_orphan(int dfd, const char *name, const char *keep_hex)
{
	char hex[HT_SHA256_HEX_LEN + 1];
	struct stat st;

	if (strlen(name) != HT_SHA256_HEX_LEN + 6 || strcmp(name + HT_SHA256_HEX_LEN, ".inuse"))
		return 0;
	memcpy(hex, name, HT_SHA256_HEX_LEN);
	hex[HT_SHA256_HEX_LEN] = 0;
	return is_hex(hex) && strcmp(hex, keep_hex) && fstatat(dfd, hex, &st, AT_SYMLINK_NOFOLLOW) < 0 &&
	       errno == ENOENT;
}

/*
 * Removes the roots in cache of digests other than keep_hex that no
 * provider has marked in use. A root being unpacked (its rootfs lock held)
 * is left alone too. Failures are warnings: the run goes on.
 */
static void collect(const char *cache, const char *keep_hex, long *removed)
{
	DIR *d = opendir(cache);
	struct dirent *de;
	static unsigned seq;

	*removed = 0;
	if (!d)
		return;
	while ((de = readdir(d))) {
		char *lockpath, *gone, *mark;
		int inuse, lock;

		if (is_inuse_orphan(dirfd(d), de->d_name, keep_hex)) {
			/* A mark whose root is gone (ht-gc, ht-unpack --prune). */
			char hex[HT_SHA256_HEX_LEN + 1];

			memcpy(hex, de->d_name, HT_SHA256_HEX_LEN);
			hex[HT_SHA256_HEX_LEN] = 0;
			inuse = inuse_lock(cache, hex, LOCK_EX | LOCK_NB);
			if (inuse >= 0) {
				(void)unlinkat(dirfd(d), de->d_name, 0);
				close(inuse);
			}
			continue;
		}
		if (!is_hex(de->d_name) || !strcmp(de->d_name, keep_hex))
			continue;
		inuse = inuse_lock(cache, de->d_name, LOCK_EX | LOCK_NB);
		if (inuse < 0)
			continue;
		lockpath = ht_xasprintf("%s/%s.lock", cache, de->d_name);
		lock = open(lockpath, O_RDWR | O_CLOEXEC);
		if (lock >= 0 && flock(lock, LOCK_EX | LOCK_NB) == 0) {
			gone = ht_xasprintf("%s/.tmp-%s-%ld-gc%u", cache, de->d_name, (long)getpid(),
					   __atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED));
			if (renameat(dirfd(d), de->d_name, AT_FDCWD, gone) == 0) {
				if (ht_remove_tree(gone) < 0)
					ht_warning("cannot remove '%s' completely", gone);
				(*removed)++;
				ht_debug("removed the unused root '%s/%s'", cache, de->d_name);
				(void)unlink(lockpath);
			}
			free(gone);
		}
		if (lock >= 0)
			close(lock);
		free(lockpath);
		mark = ht_xasprintf("%s/%s.inuse", cache, de->d_name);
		(void)unlink(mark);
		free(mark);
		close(inuse);
	}
	closedir(d);
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
	struct ht_oci_image img;
	struct ht_rootfs rf;
	struct ht_rootfs_exec x;
	struct stat sb;
	char *cache = NULL, *rel;
	size_t n = 0;
	int known, ret = -1;

	ht_oci_image_init(&img);
	ht_rootfs_init(&rf);
	ht_rootfs_exec_init(&x);
	*code = HT_EXIT_CONFIG;
	im->ref = ht_local_settings(cfg)->image ? ht_xstrdup(ht_local_settings(cfg)->image) : local_image_default_ref(cfg);
	if (!im->ref)
		goto out;
	rel = cfg->image.store ? ht_xstrdup(cfg->image.store) : ht_xasprintf("%s/oci",
				cfg->state_dir ? cfg->state_dir : ".hypertest");
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
	/* The digest first, so the in-use mark is taken before the tree is
	 * looked at: a clean-up elsewhere cannot slip in between. */
	*code = HT_EXIT_DATAERR;
	if (ht_oci_image_load(&st, im->ref, &img) < 0)
		goto out;
	snprintf(im->digest, sizeof(im->digest), "%s", img.manifest_desc.digest);
	cache = ht_config_state_path(cfg, "rootfs");
	*code = HT_EXIT_IOERR;
	if (ht_mkdir_p(cache, 0755) < 0) {
		ht_error("cannot create '%s': %s", cache, strerror(errno));
		goto out;
	}
	im->inuse_fd = inuse_lock(cache, im->digest + 7, LOCK_SH);
	if (im->inuse_fd < 0)
		goto out;
	if (ht_rootfs_prepare_opts(&st, im->digest, cache, NULL, &rf) < 0) {
		*code = rf.exit_code ? rf.exit_code : HT_EXIT_IOERR;
		goto out;
	}
	im->tree = realpath(rf.path, NULL);
	if (!im->tree) {
		ht_error("cannot resolve '%s': %s", rf.path, strerror(errno));
		goto out;
	}
	im->reused = rf.reused;
	*code = HT_EXIT_DATAERR;
	if (ht_rootfs_exec_from_config(img.config, &x) < 0)
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
	collect(cache, im->digest + 7, &im->removed);
	ht_info("running image '%s' (%s): root %s '%s'%s", im->ref, im->digest,
		im->reused ? "reused" : "unpacked", im->tree,
		im->removed ? " (unused roots of other images removed)" : "");
	*code = 0;
	ret = 0;
out:
	free(cache);
	ht_rootfs_exec_release(&x);
	ht_rootfs_release(&rf);
	ht_oci_image_release(&img);
	if (st.dir)
		ht_oci_close(&st);
	return ret;
}
