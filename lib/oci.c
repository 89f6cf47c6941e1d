/*
 * oci.c: the local OCI image layout store. See include/ht/oci.h.
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

#define LAYOUT_JSON "{\"imageLayoutVersion\":\"1.0.0\"}"
#define EMPTY_INDEX "{\"schemaVersion\":2,\"mediaType\":\"" HT_OCI_MT_INDEX "\",\"manifests\":[]}"

/* Makes path with content when it does not exist yet. */
static int ensure_file(const char *path, const char *content)
{
	if (access(path, F_OK) == 0)
		return 0;
	return ht_write_file_atomic(path, content, strlen(content), 0644);
}

int ht_oci_open(struct ht_oci_store *s, const char *dir, int create)
{
	char *p;
	struct stat st;

	s->dir = ht_xstrdup(dir);
	s->blobs = ht_xasprintf("%s/blobs/sha256", dir);
	p = ht_path_join(dir, "oci-layout");
	if (create) {
		if (ht_mkdir_p(s->blobs, 0755) < 0) {
			ht_error("cannot create '%s': %s", s->blobs, strerror(errno));
			goto fail;
		}
		if (ensure_file(p, LAYOUT_JSON "\n") < 0)
			goto fail;
		free(p);
		p = ht_path_join(dir, "index.json");
		if (ensure_file(p, EMPTY_INDEX "\n") < 0)
			goto fail;
	} else {
		char *buf = NULL;
		json_t *j;

		if (ht_read_file(p, 4096, &buf, NULL) < 0) {
			ht_error("'%s' is not an OCI image layout: cannot read '%s': %s", dir, p,
				 strerror(errno));
			goto fail;
		}
		j = json_loads(buf, 0, NULL);
		free(buf);
		if (!json_is_object(j) || !json_is_string(json_object_get(j, "imageLayoutVersion"))) {
			json_decref(j);
			ht_error("'%s' is not an OCI image layout: bad oci-layout file", dir);
			goto fail;
		}
		json_decref(j);
		if (stat(s->blobs, &st) < 0 || !S_ISDIR(st.st_mode)) {
			ht_error("'%s' is not an OCI image layout: no blobs/sha256 directory", dir);
			goto fail;
		}
	}
	free(p);
	return 0;
fail:
	free(p);
	ht_oci_close(s);
	return -1;
}

void ht_oci_close(struct ht_oci_store *s)
{
	free(s->dir);
	free(s->blobs);
	s->dir = s->blobs = NULL;
}

/* --- blobs ------------------------------------------------------------------ */

char *ht_oci_blob_path(struct ht_oci_store *s, const char *digest)
{
	if (!ht_digest_valid(digest)) {
		ht_error("malformed digest '%s'", digest ? digest : "");
		return NULL;
	}
	return ht_xasprintf("%s/%s", s->blobs, digest + 7);
}

static void writer_zero(struct ht_oci_blob_writer *w, struct ht_oci_store *s)
{
	memset(w, 0, sizeof(*w));
	w->store = s;
	w->fd = -1;
	w->expected_size = -1;
}

static int writer_expect(struct ht_oci_blob_writer *w, const char *digest, int64_t size)
{
	if (digest) {
		if (!ht_digest_valid(digest))
			return ht_error("malformed digest '%s'", digest);
		memcpy(w->expected, digest, HT_DIGEST_LEN + 1);
	}
	w->expected_size = size;
	return 0;
}

/* Opens a private temporary file for the writer. */
static int writer_private_tmp(struct ht_oci_blob_writer *w)
{
	w->tmp = ht_xasprintf("%s/.tmp-XXXXXX", w->store->blobs);
	w->fd = mkostemp(w->tmp, O_CLOEXEC);
	if (w->fd < 0) {
		ht_error("cannot create a blob in '%s': %s", w->store->blobs, strerror(errno));
		free(w->tmp);
		w->tmp = NULL;
		return -1;
	}
	w->partial = 0;
	return 0;
}

int ht_oci_blob_begin(struct ht_oci_store *s, struct ht_oci_blob_writer *w,
		      const char *expected_digest, int64_t expected_size)
{
	writer_zero(w, s);
	if (writer_expect(w, expected_digest, expected_size) < 0)
		return -1;
	if (writer_private_tmp(w) < 0)
		return -1;
	if (ht_sha256_init(&w->hash) < 0) {
		ht_oci_blob_abort(w);
		return -1;
	}
	return 0;
}

int ht_oci_blob_resume(struct ht_oci_store *s, struct ht_oci_blob_writer *w,
		       const char *expected_digest, int64_t expected_size)
{
	char buf[65536];
	ssize_t n;

	writer_zero(w, s);
	if (!expected_digest)
		return ht_error("resuming a blob needs its digest");
	if (writer_expect(w, expected_digest, expected_size) < 0)
		return -1;
	if (ht_sha256_init(&w->hash) < 0)
		return -1;
	w->tmp = ht_xasprintf("%s/.partial-%s", s->blobs, expected_digest + 7);
	w->fd = open(w->tmp, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (w->fd < 0) {
		ht_error("cannot open '%s': %s", w->tmp, strerror(errno));
		goto fail;
	}
	if (flock(w->fd, LOCK_EX | LOCK_NB) < 0) {
		/* Another process downloads the same blob: go on privately. */
		close(w->fd);
		free(w->tmp);
		w->tmp = NULL;
		w->fd = -1;
		if (writer_private_tmp(w) < 0)
			goto fail;
		return 0;
	}
	w->partial = 1;
	while ((n = read(w->fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ht_error("cannot read '%s': %s", w->tmp, strerror(errno));
			goto fail;
		}
		ht_sha256_update(&w->hash, buf, (size_t)n);
		w->size += n;
	}
	if (w->expected_size >= 0 && w->size > w->expected_size)
		return ht_oci_blob_restart(w);
	w->resumed = w->size;
	return 0;
fail:
	ht_oci_blob_abort(w);
	return -1;
}

int ht_oci_blob_restart(struct ht_oci_blob_writer *w)
{
	char junk[HT_DIGEST_LEN + 1];

	if (w->fd < 0)
		return ht_error("blob writer is not open");
	if (ftruncate(w->fd, 0) < 0 || lseek(w->fd, 0, SEEK_SET) < 0) {
		ht_error("cannot truncate '%s': %s", w->tmp, strerror(errno));
		ht_oci_blob_abort(w);
		return -1;
	}
	ht_sha256_final(&w->hash, junk);
	if (ht_sha256_init(&w->hash) < 0) {
		ht_oci_blob_abort(w);
		return -1;
	}
	w->size = w->resumed = 0;
	return 0;
}

int ht_oci_blob_write(struct ht_oci_blob_writer *w, const void *p, size_t n)
{
	const char *c = p;

	if (w->fd < 0)
		return ht_error("blob writer is not open");
	if (w->expected_size >= 0 && w->size + (int64_t)n > w->expected_size)
		return ht_error("blob %s is larger than the expected %lld bytes",
				w->expected[0] ? w->expected : "being written", (long long)w->expected_size);
	ht_sha256_update(&w->hash, p, n);
	w->size += (int64_t)n;
	while (n) {
		ssize_t k = write(w->fd, c, n);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return ht_error("cannot write '%s': %s", w->tmp, strerror(errno));
		}
		c += k;
		n -= (size_t)k;
	}
	return 0;
}

static void writer_finish(struct ht_oci_blob_writer *w, int remove)
{
	char junk[HT_DIGEST_LEN + 1];

	if (w->hash.ctx)
		ht_sha256_final(&w->hash, junk);
	if (w->fd >= 0)
		close(w->fd);
	if (w->tmp && remove)
		unlink(w->tmp);
	free(w->tmp);
	w->tmp = NULL;
	w->fd = -1;
}

void ht_oci_blob_abort(struct ht_oci_blob_writer *w)
{
	writer_finish(w, 1);
}

void ht_oci_blob_suspend(struct ht_oci_blob_writer *w)
{
	writer_finish(w, !w->partial);
}

int ht_oci_blob_commit(struct ht_oci_blob_writer *w, char digest_out[HT_DIGEST_LEN + 1],
		       int64_t *size_out)
{
	char d[HT_DIGEST_LEN + 1];
	char *path = NULL;
	int rc = -1;

	if (w->fd < 0)
		return ht_error("blob writer is not open");
	if (ht_sha256_final(&w->hash, d) < 0) {
		ht_error("cannot hash a blob");
		goto out;
	}
	if (w->expected_size >= 0 && w->size != w->expected_size) {
		ht_error("blob %s has %lld bytes, expected %lld", w->expected[0] ? w->expected : d,
			 (long long)w->size, (long long)w->expected_size);
		goto out;
	}
	if (w->expected[0] && strcmp(w->expected, d) != 0) {
		ht_error("blob digest mismatch: expected %s, got %s", w->expected, d);
		goto out;
	}
	if (fsync(w->fd) < 0 && errno != EINVAL) {
		ht_error("cannot write '%s': %s", w->tmp, strerror(errno));
		goto out;
	}
	(void)fchmod(w->fd, 0644);
	path = ht_xasprintf("%s/%s", w->store->blobs, d + 7);
	if (rename(w->tmp, path) < 0) {
		ht_error("cannot rename '%s' to '%s': %s", w->tmp, path, strerror(errno));
		goto out;
	}
	free(w->tmp);
	w->tmp = NULL;
	if (digest_out)
		memcpy(digest_out, d, HT_DIGEST_LEN + 1);
	if (size_out)
		*size_out = w->size;
	rc = 0;
out:
	free(path);
	writer_finish(w, 1);
	return rc;
}

int ht_oci_put_blob(struct ht_oci_store *s, const void *buf, size_t len,
		    char digest_out[HT_DIGEST_LEN + 1])
{
	struct ht_oci_blob_writer w;
	char d[HT_DIGEST_LEN + 1];
	int r;

	if (ht_sha256_digest(buf, len, d) < 0)
		return -1;
	r = ht_oci_has_blob(s, d, NULL);
	if (r < 0)
		return -1;
	if (r == 0) {
		if (ht_oci_blob_begin(s, &w, d, (int64_t)len) < 0)
			return -1;
		if (ht_oci_blob_write(&w, buf, len) < 0) {
			ht_oci_blob_abort(&w);
			return -1;
		}
		if (ht_oci_blob_commit(&w, NULL, NULL) < 0)
			return -1;
	}
	if (digest_out)
		memcpy(digest_out, d, HT_DIGEST_LEN + 1);
	return 0;
}

int ht_oci_has_blob(struct ht_oci_store *s, const char *digest, int64_t *size)
{
	struct stat st;
	char *path = ht_oci_blob_path(s, digest);

	if (!path)
		return -1;
	if (stat(path, &st) < 0) {
		int e = errno;

		free(path);
		if (e == ENOENT)
			return 0;
		return ht_error("cannot stat blob '%s': %s", digest, strerror(e));
	}
	free(path);
	if (size)
		*size = (int64_t)st.st_size;
	return 1;
}

int ht_oci_read_blob(struct ht_oci_store *s, const char *digest, size_t max,
		     char **buf, size_t *len)
{
	char d[HT_DIGEST_LEN + 1];
	char *path = ht_oci_blob_path(s, digest);
	size_t n;

	*buf = NULL;
	if (!path)
		return -1;
	if (ht_read_file(path, max ? max : HT_OCI_JSON_MAX, buf, &n) < 0) {
		if (errno == ENOENT)
			ht_error("blob '%s' is not in '%s'", digest, s->dir);
		else if (errno == EFBIG)
			ht_error("blob '%s' is larger than %zu bytes", digest,
				 max ? max : (size_t)HT_OCI_JSON_MAX);
		else
			ht_error("cannot read '%s': %s", path, strerror(errno));
		free(path);
		return -1;
	}
	free(path);
	if (ht_sha256_digest(*buf, n, d) < 0 || strcmp(d, digest) != 0) {
		ht_error("blob '%s' is corrupted: its content hashes to %s", digest, d);
		free(*buf);
		*buf = NULL;
		return -1;
	}
	if (len)
		*len = n;
	return 0;
}

int ht_oci_verify_blob(struct ht_oci_store *s, const char *digest, int64_t *size)
{
	char d[HT_DIGEST_LEN + 1];
	char *path = ht_oci_blob_path(s, digest);
	struct stat st;

	if (!path)
		return -1;
	if (stat(path, &st) < 0) {
		ht_error("blob '%s' is not in '%s'", digest, s->dir);
		free(path);
		return -1;
	}
	if (ht_sha256_file(path, d) < 0) {
		free(path);
		return -1;
	}
	free(path);
	if (strcmp(d, digest) != 0)
		return ht_error("blob '%s' is corrupted: its content hashes to %s", digest, d);
	if (size)
		*size = (int64_t)st.st_size;
	return 0;
}

int ht_oci_read_json(struct ht_oci_store *s, const char *digest, json_t **out)
{
	char *buf;
	size_t len;
	json_error_t e;

	*out = NULL;
	if (ht_oci_read_blob(s, digest, HT_OCI_JSON_MAX, &buf, &len) < 0)
		return -1;
	*out = json_loadb(buf, len, 0, &e);
	free(buf);
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return ht_error("blob '%s': not a JSON object: %s", digest, e.text);
	}
	return 0;
}

int ht_oci_put_json(struct ht_oci_store *s, json_t *j, char digest_out[HT_DIGEST_LEN + 1],
		    int64_t *size_out)
{
	char *txt = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	int r;

	if (!txt)
		return ht_error("cannot serialise JSON");
	r = ht_oci_put_blob(s, txt, strlen(txt), digest_out);
	if (size_out)
		*size_out = (int64_t)strlen(txt);
	free(txt);
	return r;
}

/* --- descriptors, refs --------------------------------------------------- */

void ht_oci_desc_release(struct ht_oci_desc *d)
{
	free(d->media_type);
	d->media_type = NULL;
	d->digest[0] = '\0';
	d->size = 0;
}

int ht_oci_desc_parse(json_t *j, const char *where, struct ht_oci_desc *d)
{
	const char *digest, *mt;
	json_t *size;

	memset(d, 0, sizeof(*d));
	if (!json_is_object(j))
		return ht_error("%s: expected a descriptor object", where);
	digest = ht_json_str(j, "digest", NULL);
	if (!ht_digest_valid(digest))
		return ht_error("%s: missing or unsupported digest '%s'", where, digest ? digest : "");
	size = json_object_get(j, "size");
	if (!json_is_integer(size) || json_integer_value(size) < 0)
		return ht_error("%s: missing or negative size", where);
	memcpy(d->digest, digest, HT_DIGEST_LEN + 1);
	d->size = json_integer_value(size);
	mt = ht_json_str(j, "mediaType", NULL);
	d->media_type = mt ? ht_xstrdup(mt) : NULL;
	return 0;
}

json_t *ht_oci_desc_json(const char *media_type, const char *digest, int64_t size)
{
	return json_pack("{s:s, s:s, s:I}", "mediaType", media_type, "digest", digest,
			 "size", (json_int_t)size);
}

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

/* --- images ---------------------------------------------------------------- */

void ht_oci_image_init(struct ht_oci_image *img)
{
	memset(img, 0, sizeof(*img));
}

void ht_oci_image_release(struct ht_oci_image *img)
{
	size_t i;

	ht_oci_desc_release(&img->manifest_desc);
	ht_oci_desc_release(&img->config_desc);
	json_decref(img->manifest);
	json_decref(img->config);
	for (i = 0; i < img->nlayers; i++)
		ht_oci_desc_release(&img->layers[i].desc);
	free(img->layers);
	ht_oci_image_init(img);
}

int ht_oci_manifest_parse(json_t *manifest, const char *where, struct ht_oci_image *img)
{
	const char *mt = ht_json_str(manifest, "mediaType", NULL);
	json_t *layers, *l;
	size_t i;

	if (!json_is_object(manifest))
		return ht_error("%s: expected a JSON object", where);
	if (json_object_get(manifest, "manifests") ||
	    (mt && (!strcmp(mt, HT_OCI_MT_INDEX) || !strcmp(mt, HT_DOCKER_MT_LIST))))
		return ht_error("%s: is an index, not a manifest", where);
	if (mt && strcmp(mt, HT_OCI_MT_MANIFEST) && strcmp(mt, HT_DOCKER_MT_MANIFEST))
		return ht_error("%s: unsupported manifest media type '%s'", where, mt);
	if (ht_json_int(manifest, "schemaVersion", 0) != 2)
		return ht_error("%s: unsupported schemaVersion (expected 2)", where);
	{
		char *w = ht_xasprintf("%s: config", where);
		int r = ht_oci_desc_parse(json_object_get(manifest, "config"), w, &img->config_desc);

		free(w);
		if (r < 0)
			return -1;
	}
	layers = json_object_get(manifest, "layers");
	if (!json_is_array(layers)) {
		ht_oci_desc_release(&img->config_desc);
		return ht_error("%s: missing layers array", where);
	}
	img->layers = ht_xcalloc(json_array_size(layers) + 1, sizeof(*img->layers));
	img->nlayers = 0;
	json_array_foreach(layers, i, l) {
		char *w = ht_xasprintf("%s: layers[%zu]", where, i);
		int r = ht_oci_desc_parse(l, w, &img->layers[i].desc);

		free(w);
		if (r < 0)
			return -1; /* the caller releases img */
		img->nlayers++;
	}
	json_decref(img->manifest);
	img->manifest = json_incref(manifest);
	return 0;
}

int ht_oci_image_load_config(struct ht_oci_store *s, struct ht_oci_image *img)
{
	json_t *ids, *id;
	size_t i;

	json_decref(img->config);
	img->config = NULL;
	if (ht_oci_read_json(s, img->config_desc.digest, &img->config) < 0)
		return -1;
	ids = json_object_get(json_object_get(img->config, "rootfs"), "diff_ids");
	if (!json_is_array(ids) || json_array_size(ids) != img->nlayers)
		return ht_error("config '%s': rootfs.diff_ids does not match the %zu layers",
				img->config_desc.digest, img->nlayers);
	json_array_foreach(ids, i, id) {
		const char *v = json_string_value(id);

		if (!ht_digest_valid(v))
			return ht_error("config '%s': rootfs.diff_ids[%zu]: unsupported digest",
					img->config_desc.digest, i);
		memcpy(img->layers[i].diff_id, v, HT_DIGEST_LEN + 1);
	}
	return 0;
}

int ht_oci_index_pick(json_t *index, const char *os, const char *arch, const char *variant,
		      struct ht_oci_desc *d)
{
	json_t *arr = json_object_get(index, "manifests"), *m;
	size_t i;

	if (!json_is_array(arr))
		return ht_error("index: missing manifests array");
	json_array_foreach(arr, i, m) {
		json_t *p = json_object_get(m, "platform");

		if (!p || strcmp(ht_json_str(p, "os", ""), os) ||
		    strcmp(ht_json_str(p, "architecture", ""), arch))
			continue;
		if (variant && strcmp(ht_json_str(p, "variant", variant), variant))
			continue;
		{
			char *w = ht_xasprintf("index: manifests[%zu]", i);
			int r = ht_oci_desc_parse(m, w, d);

			free(w);
			return r < 0 ? -1 : 1;
		}
	}
	return 0;
}

const char *ht_oci_host_arch(void)
{
#if defined(__x86_64__)
	return "amd64";
#elif defined(__aarch64__)
	return "arm64";
#elif defined(__i386__)
	return "386";
#elif defined(__arm__)
	return "arm";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return "ppc64le";
#elif defined(__s390x__)
	return "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
	return "riscv64";
#else
	return "unknown";
#endif
}

int ht_oci_image_load(struct ht_oci_store *s, const char *ref, struct ht_oci_image *img)
{
	json_t *j = NULL;
	int r;

	ht_oci_image_init(img);
	if (ht_oci_resolve(s, ref, &img->manifest_desc) < 0)
		return -1;
	if (ht_oci_read_json(s, img->manifest_desc.digest, &j) < 0)
		goto fail;
	if (json_object_get(j, "manifests")) {
		struct ht_oci_desc d;

		r = ht_oci_index_pick(j, "linux", ht_oci_host_arch(), NULL, &d);
		json_decref(j);
		j = NULL;
		if (r == 0)
			ht_error("image '%s' has no manifest for linux/%s", ref, ht_oci_host_arch());
		if (r <= 0)
			goto fail;
		ht_oci_desc_release(&img->manifest_desc);
		img->manifest_desc = d;
		if (!img->manifest_desc.media_type)
			img->manifest_desc.media_type = ht_xstrdup(HT_OCI_MT_MANIFEST);
		if (ht_oci_read_json(s, img->manifest_desc.digest, &j) < 0)
			goto fail;
	}
	{
		char *w = ht_xasprintf("manifest '%s'", img->manifest_desc.digest);

		r = ht_oci_manifest_parse(j, w, img);
		free(w);
	}
	json_decref(j);
	j = NULL;
	if (r < 0 || ht_oci_image_load_config(s, img) < 0)
		goto fail;
	return 0;
fail:
	json_decref(j);
	ht_oci_image_release(img);
	return -1;
}
