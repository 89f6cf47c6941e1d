/*
 * oci-index.c: the tags of the OCI image store (index.json, its lock) and
 * the collection of blobs no tag reaches. See include/ht/oci.h.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ht/diag.h"
#include "ht/jsonl.h"
#include "ht/oci.h"
#include "ht/util.h"

/* --- tags -------------------------------------------------------------------- */

int ht_oci_tag_valid(const char *name)
{
	size_t i, n = name ? strlen(name) : 0;

	if (n < 1 || n > 128 || strchr(".-:", name[0]))
		return 0;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("_.:/@-", c)))
			return 0;
	}
	return 1;
}

static int index_load(struct ht_oci_store *s, json_t **out)
{
	char *path = ht_path_join(s->dir, "index.json");
	char *buf = NULL;
	size_t len;
	json_error_t e;
	json_t *j;

	*out = NULL;
	if (ht_read_file(path, HT_OCI_JSON_MAX, &buf, &len) < 0) {
		ht_error("cannot read '%s': %s", path, strerror(errno));
		free(path);
		return -1;
	}
	j = json_loadb(buf, len, 0, &e);
	free(buf);
	if (!json_is_object(j) || !json_is_array(json_object_get(j, "manifests"))) {
		if (j)
			ht_error("%s: expected an image index with a manifests array", path);
		else
			ht_error("%s:%d:%d: %s", path, e.line, e.column, e.text);
		json_decref(j);
		free(path);
		return -1;
	}
	free(path);
	*out = j;
	return 0;
}

int ht_oci_read_index(struct ht_oci_store *s, json_t **out)
{
	return index_load(s, out);
}

static int index_lock(struct ht_oci_store *s)
{
	return ht_oci_lock(s, "index.json.lock", LOCK_EX);
}

static int index_save(struct ht_oci_store *s, json_t *idx)
{
	char *path = ht_path_join(s->dir, "index.json");
	char *txt = json_dumps(idx, JSON_COMPACT);
	int r;

	if (!txt) {
		free(path);
		return ht_error("cannot serialise index.json");
	}
	r = ht_write_file_atomic(path, txt, strlen(txt), 0644);
	free(txt);
	free(path);
	return r;
}

static const char *entry_name(json_t *m)
{
	return ht_json_str(json_object_get(m, "annotations"), HT_OCI_REF_NAME, NULL);
}

/* Removes the entries named name from the manifests array; returns how many. */
static int index_drop(json_t *arr, const char *name)
{
	size_t i = 0;
	int n = 0;

	while (i < json_array_size(arr)) {
		const char *e = entry_name(json_array_get(arr, i));

		if (e && strcmp(e, name) == 0) {
			json_array_remove(arr, i);
			n++;
		} else {
			i++;
		}
	}
	return n;
}

int ht_oci_tag(struct ht_oci_store *s, const char *name, const char *manifest_digest,
	       const char *media_type, int64_t size, json_t *platform)
{
	json_t *idx = NULL, *arr, *d;
	int lock, r = -1, have;

	if (!ht_oci_tag_valid(name))
		return ht_error("invalid tag '%s'", name ? name : "");
	have = ht_oci_has_blob(s, manifest_digest, NULL);
	if (have < 0)
		return -1;
	if (!have)
		return ht_error("cannot tag '%s': blob '%s' is not in '%s'", name, manifest_digest, s->dir);
	lock = index_lock(s);
	if (lock < 0)
		return -1;
	if (index_load(s, &idx) < 0)
		goto out;
	arr = json_object_get(idx, "manifests");
	index_drop(arr, name);
	d = ht_oci_desc_json(media_type, manifest_digest, size);
	if (platform)
		json_object_set(d, "platform", platform);
	json_object_set_new(d, "annotations", json_pack("{s:s}", HT_OCI_REF_NAME, name));
	json_array_append_new(arr, d);
	r = index_save(s, idx);
out:
	json_decref(idx);
	close(lock);
	return r;
}

int ht_oci_untag(struct ht_oci_store *s, const char *name)
{
	json_t *idx = NULL;
	int lock, r = -1, n;

	lock = index_lock(s);
	if (lock < 0)
		return -1;
	if (index_load(s, &idx) < 0)
		goto out;
	n = index_drop(json_object_get(idx, "manifests"), name);
	r = n ? index_save(s, idx) : 0;
	if (r == 0)
		r = n > 0;
out:
	json_decref(idx);
	close(lock);
	return r;
}

int ht_oci_resolve(struct ht_oci_store *s, const char *ref, struct ht_oci_desc *d)
{
	json_t *idx, *m;
	size_t i;
	int r;

	memset(d, 0, sizeof(*d));
	if (ht_starts_with(ref, "sha256:")) {
		json_t *j;
		int64_t size;

		r = ht_oci_has_blob(s, ref, &size);
		if (r <= 0) {
			if (r == 0) {
				ht_error("no image '%s' in '%s'", ref, s->dir);
				errno = ENOENT;
			}
			return -1;
		}
		if (ht_oci_read_json(s, ref, &j) < 0)
			return -1;
		memcpy(d->digest, ref, HT_DIGEST_LEN + 1);
		d->size = size;
		d->media_type = ht_xstrdup(ht_json_str(j, "mediaType", json_object_get(j, "manifests") ?
						       HT_OCI_MT_INDEX : HT_OCI_MT_MANIFEST));
		json_decref(j);
		return 0;
	}
	if (index_load(s, &idx) < 0)
		return -1;
	json_array_foreach(json_object_get(idx, "manifests"), i, m) {
		const char *e = entry_name(m);

		if (e && strcmp(e, ref) == 0) {
			char *where = ht_xasprintf("%s/index.json: %s", s->dir, ref);

			r = ht_oci_desc_parse(m, where, d);
			free(where);
			if (r == 0 && !d->media_type)
				d->media_type = ht_xstrdup(HT_OCI_MT_MANIFEST);
			json_decref(idx);
			return r;
		}
	}
	json_decref(idx);
	ht_error("no image '%s' in '%s'", ref, s->dir);
	errno = ENOENT;
	return -1;
}

/* --- gc ---------------------------------------------------------------------- */

/*
 * A set of blob names (64 hex digits): open addressing with linear
 * probing in a table at most half full. A name's slot comes from its first
 * 16 digits mixed with a random seed, so names chosen to collide (a
 * manifest can list any digests) cost no more than others.
 */
struct hexset {
	char (*v)[HT_SHA256_HEX_LEN + 1]; /* "" in a free slot */
	size_t n, cap;                    /* cap is 0 or a power of two */
	uint64_t seed;
};

static uint64_t hexset_hash(const struct hexset *h, const char *hex)
{
	uint64_t x = 0;
	int i;

	for (i = 0; i < 16; i++)
		x = x << 4 | (uint64_t)(hex[i] <= '9' ? hex[i] - '0' : hex[i] - 'a' + 10);
	x ^= h->seed; /* then splitmix64's finaliser */
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* The slot of hex: where it is, or the free slot where it would go. */
static size_t hexset_slot(const struct hexset *h, const char *hex)
{
	size_t i = (size_t)hexset_hash(h, hex) & (h->cap - 1);

	while (h->v[i][0] && memcmp(h->v[i], hex, HT_SHA256_HEX_LEN) != 0)
		i = (i + 1) & (h->cap - 1);
	return i;
}

static void hexset_init(struct hexset *h)
{
	memset(h, 0, sizeof(*h));
	if (getrandom(&h->seed, sizeof(h->seed), GRND_NONBLOCK) != (ssize_t)sizeof(h->seed))
		h->seed = (uint64_t)ht_now_ms() * 0x9e3779b97f4a7c15ULL ^ (uint64_t)getpid();
}

/* Adds the blob of digest (a valid one); 1 when it was new. */
static int hexset_add(struct hexset *h, const char *digest)
{
	const char *hex = digest + 7;
	size_t i;

	if (2 * (h->n + 1) > h->cap) {
		struct hexset old = *h;

		h->cap = old.cap ? 2 * old.cap : 64;
		h->v = ht_xcalloc(h->cap, sizeof(*h->v));
		for (i = 0; i < old.cap; i++)
			if (old.v[i][0])
				memcpy(h->v[hexset_slot(h, old.v[i])], old.v[i], HT_SHA256_HEX_LEN + 1);
		free(old.v);
	}
	i = hexset_slot(h, hex);
	if (h->v[i][0])
		return 0;
	memcpy(h->v[i], hex, HT_SHA256_HEX_LEN + 1);
	h->n++;
	return 1;
}

/* 1 when name (a file name in blobs/sha256) is in the set. */
static int hexset_has(const struct hexset *h, const char *name)
{
	char digest[HT_DIGEST_LEN + 1];

	if (!h->cap || strlen(name) != HT_SHA256_HEX_LEN)
		return 0;
	memcpy(digest, "sha256:", 7);
	memcpy(digest + 7, name, HT_SHA256_HEX_LEN + 1);
	if (!ht_digest_valid(digest))
		return 0;
	return h->v[hexset_slot(h, name)][0] != '\0';
}

static void hexset_release(struct hexset *h)
{
	free(h->v);
	memset(h, 0, sizeof(*h));
}

/* Marks digest and what it references (a manifest's config and layers, an
 * index's manifests). Blobs that are missing are skipped. */
static int mark(struct ht_oci_store *s, struct hexset *live, const char *digest, int depth)
{
	json_t *j, *arr, *e;
	size_t i;
	int have;

	if (!ht_digest_valid(digest) || !hexset_add(live, digest))
		return 0;
	have = ht_oci_has_blob(s, digest, NULL);
	if (have <= 0 || depth > 8)
		return have < 0 ? -1 : 0;
	if (ht_oci_read_json(s, digest, &j) < 0)
		return -1;
	if ((e = json_object_get(j, "config")))
		mark(s, live, ht_json_str(e, "digest", ""), depth + 1);
	if ((arr = json_object_get(j, "layers")))
		json_array_foreach(arr, i, e)
			if (ht_digest_valid(ht_json_str(e, "digest", "")))
				hexset_add(live, ht_json_str(e, "digest", ""));
	if ((arr = json_object_get(j, "manifests")))
		json_array_foreach(arr, i, e)
			mark(s, live, ht_json_str(e, "digest", ""), depth + 1);
	json_decref(j);
	return 0;
}

/*
 * Takes DIR/gc.lock exclusively, waiting for the writers; when s holds it
 * shared itself, that lock is dropped first (flock on a second descriptor
 * would wait for this very process). Returns the descriptor.
 */
static int gc_lock_take(struct ht_oci_store *s)
{
	int fd;

	if (s->writing && s->gc_lock >= 0) {
		close(s->gc_lock);
		s->gc_lock = -1;
	}
	fd = ht_oci_lock(s, HT_OCI_GC_LOCK, LOCK_EX | LOCK_NB);
	if (fd < 0 && errno == EWOULDBLOCK) {
		ht_warning("waiting for the writers of '%s' to finish (an ht-build or ht-pull "
			   "between writing blobs and tagging them)", s->dir);
		fd = ht_oci_lock(s, HT_OCI_GC_LOCK, LOCK_EX);
	}
	return fd;
}

/* Gives up the gc's lock; a store opened to write takes its shared one again. */
static int gc_lock_drop(struct ht_oci_store *s, int fd)
{
	if (fd >= 0)
		close(fd);
	if (s->writing && s->gc_lock < 0) {
		s->gc_lock = ht_oci_lock(s, HT_OCI_GC_LOCK, LOCK_SH);
		if (s->gc_lock < 0)
			return -1;
	}
	return 0;
}

int ht_oci_gc(struct ht_oci_store *s, long *removed, int64_t *bytes)
{
	struct hexset live;
	json_t *idx = NULL, *m;
	DIR *dir = NULL;
	struct dirent *de;
	size_t i;
	long nrm = 0;
	int64_t nbytes = 0;
	int gc_lock, lock = -1, r = -1;
	time_t now = time(NULL);

	hexset_init(&live);
	gc_lock = gc_lock_take(s);
	if (gc_lock < 0)
		goto out;
	lock = index_lock(s);
	if (lock < 0)
		goto out;
	if (index_load(s, &idx) < 0)
		goto out;
	json_array_foreach(json_object_get(idx, "manifests"), i, m)
		if (mark(s, &live, ht_json_str(m, "digest", ""), 0) < 0)
			goto out;
	dir = opendir(s->blobs);
	if (!dir) {
		ht_error("cannot open '%s': %s", s->blobs, strerror(errno));
		goto out;
	}
	while ((de = readdir(dir))) {
		struct stat st;
		char *path;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (de->d_name[0] != '.' && hexset_has(&live, de->d_name))
			continue;
		path = ht_path_join(s->blobs, de->d_name);
		if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		    (de->d_name[0] != '.' || now - st.st_mtime > 86400)) {
			if (unlink(path) == 0) {
				nrm++;
				nbytes += st.st_size;
			} else {
				ht_warning("cannot remove '%s': %s", path, strerror(errno));
			}
		}
		free(path);
	}
	r = 0;
out:
	if (dir)
		closedir(dir);
	json_decref(idx);
	hexset_release(&live);
	if (lock >= 0)
		close(lock);
	if (gc_lock_drop(s, gc_lock) < 0)
		r = -1;
	if (removed)
		*removed = nrm;
	if (bytes)
		*bytes = nbytes;
	return r;
}
