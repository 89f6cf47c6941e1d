/*
 * oci-index.c: the tags of the OCI image store (index.json, its lock) and
 * the collection of blobs no tag reaches. See include/ht/oci.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
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
	char *path = ht_path_join(s->dir, "index.json.lock");
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0) {
		ht_error("cannot open '%s': %s", path, strerror(errno));
		free(path);
		return -1;
	}
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			ht_error("cannot lock '%s': %s", path, strerror(errno));
			close(fd);
			free(path);
			return -1;
		}
	}
	free(path);
	return fd;
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

/* A set of hex names, kept as a sorted-on-demand array. */
struct hexset {
	char **v;
	size_t n, cap;
};

static void hexset_add(struct hexset *h, const char *digest)
{
	if (h->n == h->cap) {
		h->cap = h->cap ? 2 * h->cap : 32;
		h->v = ht_xrealloc(h->v, h->cap * sizeof(*h->v));
	}
	h->v[h->n++] = ht_xstrdup(digest + 7);
}

static int hexset_has(const struct hexset *h, const char *hex)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		if (strcmp(h->v[i], hex) == 0)
			return 1;
	return 0;
}

static void hexset_free(struct hexset *h)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		free(h->v[i]);
	free(h->v);
}

/* Marks digest and what it references (a manifest's config and layers, an
 * index's manifests). Blobs that are missing are skipped. */
static int mark(struct ht_oci_store *s, struct hexset *live, const char *digest, int depth)
{
	json_t *j, *arr, *e;
	size_t i;
	int have;

	if (!ht_digest_valid(digest) || hexset_has(live, digest + 7))
		return 0;
	hexset_add(live, digest);
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

int ht_oci_gc(struct ht_oci_store *s, long *removed, int64_t *bytes)
{
	struct hexset live = { 0 };
	json_t *idx = NULL, *m;
	DIR *dir = NULL;
	struct dirent *de;
	size_t i;
	long nrm = 0;
	int64_t nbytes = 0;
	int lock, r = -1;
	time_t now = time(NULL);

	lock = index_lock(s);
	if (lock < 0)
		return -1;
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
	hexset_free(&live);
	close(lock);
	if (removed)
		*removed = nrm;
	if (bytes)
		*bytes = nbytes;
	return r;
}
