/*
 * oci.c: the local OCI image layout store. See include/ht/oci.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
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
	s->writing = 0;
	s->gc_lock = -1;
	p = ht_path_join(dir, "oci-layout");
	if (create) {
		if (ht_mkdir_p(s->blobs, 0755) < 0) {
			ht_error("cannot create '%s': %s", s->blobs, strerror(errno));
			goto fail;
		}
		s->gc_lock = ht_oci_lock(s, HT_OCI_GC_LOCK, LOCK_SH);
		if (s->gc_lock < 0)
			goto fail;
		s->writing = 1;
		/* index.json first: oci-layout marks a layout that is whole
		 * (readers look for it first), also when the disk fills
		 * between the two. */
		free(p);
		p = ht_path_join(dir, "index.json");
		if (ensure_file(p, EMPTY_INDEX "\n") < 0)
			goto fail;
		free(p);
		p = ht_path_join(dir, "oci-layout");
		if (ensure_file(p, LAYOUT_JSON "\n") < 0)
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
	if (s->writing && s->gc_lock >= 0)
		close(s->gc_lock);
	s->writing = 0;
	s->gc_lock = -1;
	free(s->dir);
	free(s->blobs);
	s->dir = s->blobs = NULL;
}

int ht_oci_lock(struct ht_oci_store *s, const char *name, int how)
{
	char *path = ht_path_join(s->dir, name);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644), r;

	if (fd < 0 && (errno == EACCES || errno == EROFS))
		fd = open(path, O_RDONLY | O_CLOEXEC); /* flock needs no write access */
	if (fd < 0) {
		ht_error("cannot open '%s': %s", path, strerror(errno));
		free(path);
		return -1;
	}
	do
		r = flock(fd, how);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		int e = errno;

		if (e != EWOULDBLOCK)
			ht_error("cannot lock '%s': %s", path, strerror(e));
		close(fd);
		free(path);
		errno = e;
		return -1;
	}
	free(path);
	return fd;
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
	if (w->expected_size >= 0 && (uint64_t)n > (uint64_t)(w->expected_size - w->size))
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

int ht_oci_copy_blob(struct ht_oci_store *from, struct ht_oci_store *to, const char *digest,
		     int64_t size)
{
	struct ht_oci_blob_writer w;
	char *path, buf[65536];
	ssize_t n;
	int fd, has = ht_oci_has_blob(to, digest, NULL);

	if (has)
		return has < 0 ? -1 : 0;
	path = ht_oci_blob_path(from, digest);
	if (!path)
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ht_error("cannot open '%s': %s", path, strerror(errno));
		free(path);
		return -1;
	}
	if (ht_oci_blob_begin(to, &w, digest, size) < 0) {
		close(fd);
		free(path);
		return -1;
	}
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			ht_error("cannot read '%s': %s", path, strerror(errno));
		if (n < 0 || ht_oci_blob_write(&w, buf, (size_t)n) < 0) {
			ht_oci_blob_abort(&w);
			close(fd);
			free(path);
			return -1;
		}
	}
	close(fd);
	free(path);
	return ht_oci_blob_commit(&w, NULL, NULL);
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
