/*
 * layer.c: reproducible gzip tar layers. See include/ht/layer.h.
 *
 * The tar stream comes from libarchive (pax restricted: plain ustar headers,
 * a pax header only for what ustar cannot say, such as long names). It is
 * hashed for the diff_id and cut into 1 MiB blocks that worker threads
 * deflate independently, each primed with the 32 KiB before it, so the
 * concatenated output is one ordinary gzip member, the same whatever the
 * number of threads.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "ht/diag.h"
#include "ht/jsonl.h"
#include "ht/layer.h"
#include "ht/util.h"

/* Part of the reuse key: bump when the output for the same input changes. */
#define LAYER_FORMAT "ht-layer/1"
#define BLOCK (1u << 20)
#define DICT 32768u

/* --- writing a layer ------------------------------------------------------ */

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct ht_layer_entry *)a)->name, ((const struct ht_layer_entry *)b)->name);
}

/* Sorts, adds missing parents, merges duplicate directories, refuses
 * other duplicates. */
static int normalise(struct ht_layer_list *l)
{
	size_t i, n = l->n, out;

	for (i = 0; i < n; i++) {
		char *p = ht_xstrdup(l->v[i].name), *slash;

		while ((slash = strrchr(p, '/'))) {
			*slash = '\0';
			ht_layer_add_dir(l, p);
		}
		free(p);
	}
	qsort(l->v, l->n, sizeof(*l->v), cmp_entry);
	for (i = 0, out = 0; i < l->n; i++) {
		struct ht_layer_entry *e = &l->v[i];

		if (!*e->name || !strcmp(e->name, ".")) {
			if (e->type != S_IFDIR)
				return ht_error("layer entry with an empty name");
			goto drop;
		}
		if (out && !strcmp(l->v[out - 1].name, e->name)) {
			if (e->type == S_IFDIR && l->v[out - 1].type == S_IFDIR)
				goto drop;
			return ht_error("two entries for '%s' in one layer", e->name);
		}
		l->v[out++] = *e;
		continue;
drop:
		free(e->name);
		free(e->src);
		free(e->link);
	}
	l->n = out;
	return 0;
}

/* --- parallel gzip ------------------------------------------------------- */

enum { SLOT_FREE, SLOT_READY, SLOT_BUSY, SLOT_DONE };

struct gz_slot {
	unsigned char *in, *out;
	size_t inlen, outlen, outcap;
	unsigned char dict[DICT];
	size_t dictlen;
	uLong crc;
	int last, state, err;
	size_t seq;
};

struct gz_par {
	int level, nthreads;
	size_t nslots;
	struct gz_slot *slots;
	size_t head, tail, next_job; /* sequence numbers */
	pthread_mutex_t mu;
	pthread_cond_t cv_job, cv_done;
	pthread_t *threads;
	int stop;
	unsigned char dict[DICT];
	size_t dictlen;
	uLong crc;
	uint64_t isize;
	struct ht_oci_blob_writer *w;
	int err;
};

static void compress_slot(struct gz_slot *s, int level)
{
	z_stream z;
	int r;

	memset(&z, 0, sizeof(z));
	s->crc = crc32(0L, s->in, (uInt)s->inlen);
	if (deflateInit2(&z, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		s->err = 1;
		return;
	}
	if (s->dictlen)
		deflateSetDictionary(&z, s->dict, (uInt)s->dictlen);
	if (s->outcap < deflateBound(&z, s->inlen) + 64) {
		s->outcap = deflateBound(&z, s->inlen) + 64;
		s->out = ht_xrealloc(s->out, s->outcap);
	}
	z.next_in = s->in;
	z.avail_in = (uInt)s->inlen;
	z.next_out = s->out;
	z.avail_out = (uInt)s->outcap;
	r = deflate(&z, s->last ? Z_FINISH : Z_SYNC_FLUSH);
	if ((s->last && r != Z_STREAM_END) || (!s->last && (r != Z_OK || z.avail_in)))
		s->err = 1;
	s->outlen = s->outcap - z.avail_out;
	deflateEnd(&z);
}

static void *gz_worker(void *arg)
{
	struct gz_par *g = arg;

	pthread_mutex_lock(&g->mu);
	for (;;) {
		struct gz_slot *s;

		while (!g->stop && g->next_job == g->head)
			pthread_cond_wait(&g->cv_job, &g->mu);
		if (g->next_job == g->head && g->stop)
			break;
		s = &g->slots[g->next_job % g->nslots];
		g->next_job++;
		s->state = SLOT_BUSY;
		pthread_mutex_unlock(&g->mu);
		compress_slot(s, g->level);
		pthread_mutex_lock(&g->mu);
		s->state = SLOT_DONE;
		pthread_cond_broadcast(&g->cv_done);
	}
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

/* Writes out the oldest slot once it is compressed. */
static int gz_drain_one(struct gz_par *g)
{
	struct gz_slot *s = &g->slots[g->tail % g->nslots];

	if (g->nthreads) {
		pthread_mutex_lock(&g->mu);
		while (s->state != SLOT_DONE)
			pthread_cond_wait(&g->cv_done, &g->mu);
		pthread_mutex_unlock(&g->mu);
	}
	if (s->err && !g->err)
		g->err = ht_error("cannot compress a layer block");
	if (!g->err && ht_oci_blob_write(g->w, s->out, s->outlen) < 0)
		g->err = -1;
	g->crc = crc32_combine(g->crc, s->crc, (z_off_t)s->inlen);
	g->isize += s->inlen;
	s->state = SLOT_FREE;
	s->inlen = 0;
	g->tail++;
	return g->err;
}

static struct gz_slot *gz_current(struct gz_par *g)
{
	return &g->slots[g->head % g->nslots];
}

/* Hands the current slot to the workers and readies the next one. */
static int gz_submit(struct gz_par *g, int last)
{
	struct gz_slot *s = gz_current(g), *n;
	size_t keep = s->inlen < DICT ? s->inlen : DICT;

	/* The next block's dictionary: the last 32 KiB of the stream so far. */
	if (keep < DICT && g->dictlen) {
		size_t old = g->dictlen + keep > DICT ? DICT - keep : g->dictlen;

		memmove(g->dict, g->dict + g->dictlen - old, old);
		g->dictlen = old;
	} else {
		g->dictlen = 0;
	}
	memcpy(g->dict + g->dictlen, s->in + s->inlen - keep, keep);
	g->dictlen += keep;
	s->last = last;
	s->seq = g->head;
	if (g->nthreads) {
		pthread_mutex_lock(&g->mu);
		s->state = SLOT_READY;
		g->head++;
		pthread_cond_signal(&g->cv_job);
		pthread_mutex_unlock(&g->mu);
	} else {
		compress_slot(s, g->level);
		s->state = SLOT_DONE;
		g->head++;
	}
	if (last)
		return 0;
	if (g->head - g->tail == g->nslots && gz_drain_one(g) < 0)
		return -1;
	n = gz_current(g);
	memcpy(n->dict, g->dict, g->dictlen);
	n->dictlen = g->dictlen;
	n->inlen = 0;
	return 0;
}

static int gz_write(struct gz_par *g, const void *p, size_t len)
{
	const unsigned char *c = p;

	while (len && !g->err) {
		struct gz_slot *s = gz_current(g);
		size_t k = BLOCK - s->inlen < len ? BLOCK - s->inlen : len;

		memcpy(s->in + s->inlen, c, k);
		s->inlen += k;
		c += k;
		len -= k;
		if (s->inlen == BLOCK && gz_submit(g, 0) < 0)
			return -1;
	}
	return g->err;
}

static int gz_start(struct gz_par *g, struct ht_oci_blob_writer *w, int level, int jobs)
{
	/* A fixed header: no name, no mtime, no extra flags, OS "unknown". */
	static const unsigned char hdr[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff };
	size_t i;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);

	memset(g, 0, sizeof(*g));
	g->w = w;
	g->level = level;
	if (jobs <= 0)
		jobs = cores > 0 ? (int)cores : 1;
	if (jobs > 32)
		jobs = 32;
	/* One core: compress in this thread, the output is the same. */
	g->nthreads = jobs > 1 ? jobs : 0;
	g->nslots = (size_t)(g->nthreads ? 2 * g->nthreads + 1 : 1);
	g->slots = ht_xcalloc(g->nslots, sizeof(*g->slots));
	for (i = 0; i < g->nslots; i++)
		g->slots[i].in = ht_xmalloc(BLOCK);
	g->crc = crc32(0L, Z_NULL, 0);
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv_job, NULL);
	pthread_cond_init(&g->cv_done, NULL);
	if (g->nthreads) {
		g->threads = ht_xcalloc((size_t)g->nthreads, sizeof(*g->threads));
		for (i = 0; i < (size_t)g->nthreads; i++)
			if (pthread_create(&g->threads[i], NULL, gz_worker, g) != 0) {
				g->nthreads = (int)i;
				break;
			}
	}
	return ht_oci_blob_write(w, hdr, sizeof(hdr));
}

/* Finishes the stream (when ok) and frees everything. */
static int gz_end(struct gz_par *g, int ok)
{
	size_t i;
	int rc = 0;

	if (ok && !g->err) {
		unsigned char trailer[8];

		gz_submit(g, 1);
		while (g->tail < g->head)
			gz_drain_one(g);
		for (i = 0; i < 4; i++) {
			trailer[i] = (unsigned char)(g->crc >> (8 * i));
			trailer[4 + i] = (unsigned char)(g->isize >> (8 * i));
		}
		if (!g->err && ht_oci_blob_write(g->w, trailer, sizeof(trailer)) < 0)
			g->err = -1;
		rc = g->err ? -1 : 0;
	}
	if (g->nthreads) {
		pthread_mutex_lock(&g->mu);
		g->stop = 1;
		pthread_cond_broadcast(&g->cv_job);
		pthread_mutex_unlock(&g->mu);
		for (i = 0; i < (size_t)g->nthreads; i++)
			pthread_join(g->threads[i], NULL);
	}
	free(g->threads);
	for (i = 0; i < g->nslots; i++) {
		free(g->slots[i].in);
		free(g->slots[i].out);
	}
	free(g->slots);
	pthread_mutex_destroy(&g->mu);
	pthread_cond_destroy(&g->cv_job);
	pthread_cond_destroy(&g->cv_done);
	return ok ? rc : -1;
}

/* --- the tar stream ---------------------------------------------------------- */

struct tar_sink {
	struct gz_par gz;
	struct ht_sha256 diff;
	int64_t tar_size;
};

static la_ssize_t sink_write(struct archive *a, void *ctx, const void *p, size_t n)
{
	struct tar_sink *t = ctx;

	ht_sha256_update(&t->diff, p, n);
	t->tar_size += (int64_t)n;
	if (gz_write(&t->gz, p, n) < 0) {
		archive_set_error(a, EIO, "cannot write the layer blob");
		return -1;
	}
	return (la_ssize_t)n;
}

static int write_file_data(struct archive *a, const struct ht_layer_entry *e)
{
	static char buf[256 * 1024];
	int fd = open(e->src, O_RDONLY | O_CLOEXEC);
	int64_t done = 0;
	ssize_t n;

	if (fd < 0)
		return ht_error("cannot open '%s': %s", e->src, strerror(errno));
	while (done < e->size) {
		size_t want = (size_t)(e->size - done) < sizeof(buf) ? (size_t)(e->size - done) : sizeof(buf);

		n = read(fd, buf, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			if (n < 0)
				return ht_error("cannot read '%s': %s", e->src, strerror(errno));
			return ht_error("'%s' shrank while it was being read", e->src);
		}
		if (archive_write_data(a, buf, (size_t)n) != n) {
			close(fd);
			return ht_error("cannot write the layer: %s", archive_error_string(a));
		}
		done += n;
	}
	n = read(fd, buf, 1);
	close(fd);
	if (n > 0)
		return ht_error("'%s' grew while it was being read", e->src);
	return 0;
}

static int write_tar(struct archive *a, const struct ht_layer_list *l, int64_t epoch)
{
	struct archive_entry *ae = archive_entry_new();
	size_t i;
	int rc = 0;

	for (i = 0; i < l->n && rc == 0; i++) {
		const struct ht_layer_entry *e = &l->v[i];
		char *name = e->type == S_IFDIR ? ht_xasprintf("%s/", e->name) : ht_xstrdup(e->name);

		archive_entry_clear(ae);
		archive_entry_set_pathname(ae, name);
		archive_entry_set_filetype(ae, e->type);
		archive_entry_set_perm(ae, e->mode);
		archive_entry_set_uid(ae, 0);
		archive_entry_set_gid(ae, 0);
		archive_entry_set_mtime(ae, (time_t)epoch, 0);
		archive_entry_set_size(ae, e->type == S_IFREG ? e->size : 0);
		if (e->type == S_IFLNK)
			archive_entry_set_symlink(ae, e->link);
		if (archive_write_header(a, ae) != ARCHIVE_OK)
			rc = ht_error("cannot write '%s' to the layer: %s", e->name, archive_error_string(a));
		else if (e->type == S_IFREG && e->size > 0)
			rc = write_file_data(a, e);
		free(name);
	}
	archive_entry_free(ae);
	return rc;
}

/* --- reuse ------------------------------------------------------------------ */

static void key_add(struct ht_sha256 *h, const char *fmt, ...) HT_PRINTF(2, 3);
static void key_add(struct ht_sha256 *h, const char *fmt, ...)
{
	char buf[8192];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(buf)) {
		/* A very long path: hash the parts that fit plus the length. */
		n = (int)sizeof(buf) - 1;
	}
	ht_sha256_update(h, buf, (size_t)n + 1);
}

/* The reuse key, and whether some source changed too recently to trust. */
static int layer_key(const struct ht_layer_list *l, const struct ht_layer_opts *o, int level,
		     char key[HT_DIGEST_LEN + 1], int *racy)
{
	struct ht_sha256 h;
	struct timespec now;
	size_t i;
	int64_t limit;

	clock_gettime(CLOCK_REALTIME, &now);
	limit = (int64_t)now.tv_sec - 1;
	*racy = 0;
	if (ht_sha256_init(&h) < 0)
		return -1;
	key_add(&h, "%s epoch=%lld level=%d block=%u", LAYER_FORMAT, (long long)o->epoch, level, BLOCK);
	for (i = 0; i < l->n; i++) {
		const struct ht_layer_entry *e = &l->v[i];

		key_add(&h, "%s|%o|%o", e->name, (unsigned)e->type, (unsigned)e->mode);
		if (e->type == S_IFLNK)
			key_add(&h, "->%s", e->link);
		if (e->type != S_IFREG)
			continue;
		key_add(&h, "%s|%lld|%llu|%llu|%lld.%09ld|%lld.%09ld", e->src, (long long)e->size,
			(unsigned long long)e->st.st_dev, (unsigned long long)e->st.st_ino,
			(long long)e->st.st_mtim.tv_sec, e->st.st_mtim.tv_nsec,
			(long long)e->st.st_ctim.tv_sec, e->st.st_ctim.tv_nsec);
		if ((int64_t)e->st.st_mtim.tv_sec >= limit || (int64_t)e->st.st_ctim.tv_sec >= limit)
			*racy = 1;
	}
	return ht_sha256_final(&h, key);
}

static int cache_lookup(struct ht_oci_store *s, const char *path, struct ht_layer_result *r)
{
	char *buf;
	json_t *j;
	const char *d, *id;
	int64_t size;
	int ok = 0;

	if (ht_read_file(path, 4096, &buf, NULL) < 0)
		return 0;
	j = json_loads(buf, 0, NULL);
	free(buf);
	d = ht_json_str(j, "digest", "");
	id = ht_json_str(j, "diff_id", "");
	if (ht_digest_valid(d) && ht_digest_valid(id) &&
	    ht_oci_has_blob(s, d, &size) == 1 && size == ht_json_int(j, "size", -1)) {
		memcpy(r->digest, d, HT_DIGEST_LEN + 1);
		memcpy(r->diff_id, id, HT_DIGEST_LEN + 1);
		r->size = size;
		r->tar_size = ht_json_int(j, "tar_size", 0);
		ok = 1;
	}
	json_decref(j);
	return ok;
}

static void cache_save(const char *dir, const char *path, const struct ht_layer_result *r)
{
	json_t *j = json_pack("{s:s, s:s, s:I, s:I}", "digest", r->digest, "diff_id", r->diff_id,
			      "size", (json_int_t)r->size, "tar_size", (json_int_t)r->tar_size);
	char *txt = j ? json_dumps(j, JSON_COMPACT) : NULL;

	/* The cache is an optimisation: failing to save it is only a warning. */
	if (!txt || ht_mkdir_p(dir, 0755) < 0 || ht_write_file_atomic(path, txt, strlen(txt), 0644) < 0)
		ht_warning("cannot save the layer cache in '%s'", dir);
	free(txt);
	json_decref(j);
}

/* --- build ------------------------------------------------------------------- */

int ht_layer_build(struct ht_oci_store *s, struct ht_layer_list *l,
		   const struct ht_layer_opts *o, struct ht_layer_result *r)
{
	struct ht_oci_blob_writer w;
	struct tar_sink sink;
	struct archive *a;
	char key[HT_DIGEST_LEN + 1];
	char *cache_path = NULL;
	int level = o->level > 0 && o->level <= 9 ? o->level : 6;
	int racy = 0, rc = -1, ok;

	memset(r, 0, sizeof(*r));
	if (normalise(l) < 0)
		return -1;
	r->entries = l->n;
	if (o->cache_dir) {
		if (layer_key(l, o, level, key, &racy) < 0)
			return -1;
		cache_path = ht_xasprintf("%s/%s.json", o->cache_dir, key + 7);
		if (cache_lookup(s, cache_path, r)) {
			r->entries = l->n;
			r->reused = 1;
			free(cache_path);
			return 0;
		}
	}
	if (ht_oci_blob_begin(s, &w, NULL, -1) < 0)
		goto out;
	memset(&sink, 0, sizeof(sink));
	if (ht_sha256_init(&sink.diff) < 0) {
		ht_oci_blob_abort(&w);
		goto out;
	}
	if (gz_start(&sink.gz, &w, level, o->jobs) < 0) {
		gz_end(&sink.gz, 0);
		ht_sha256_final(&sink.diff, r->diff_id);
		ht_oci_blob_abort(&w);
		goto out;
	}
	a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	archive_write_set_bytes_per_block(a, 10240);
	archive_write_set_bytes_in_last_block(a, 1);
	ok = archive_write_open(a, &sink, NULL, sink_write, NULL) == ARCHIVE_OK;
	if (!ok)
		ht_error("cannot start a layer: %s", archive_error_string(a));
	ok = ok && write_tar(a, l, o->epoch) == 0;
	if (archive_write_close(a) != ARCHIVE_OK && ok) {
		ht_error("cannot finish the layer: %s", archive_error_string(a));
		ok = 0;
	}
	archive_write_free(a);
	ok = gz_end(&sink.gz, ok) == 0 && ok;
	ht_sha256_final(&sink.diff, r->diff_id);
	r->tar_size = sink.tar_size;
	if (!ok) {
		ht_oci_blob_abort(&w);
		goto out;
	}
	if (ht_oci_blob_commit(&w, r->digest, &r->size) < 0)
		goto out;
	if (cache_path && !racy)
		cache_save(o->cache_dir, cache_path, r);
	rc = 0;
out:
	free(cache_path);
	return rc;
}

int ht_layer_gzip_size(struct ht_oci_store *s, const char *digest, int64_t *size)
{
	char *path = ht_oci_blob_path(s, digest);
	char buf[65536];
	gzFile gz;
	int n;
	int64_t total = 0;

	if (!path)
		return -1;
	gz = gzopen(path, "rb");
	if (!gz) {
		ht_error("cannot open '%s': %s", path, strerror(errno));
		free(path);
		return -1;
	}
	while ((n = gzread(gz, buf, sizeof(buf))) > 0)
		total += n;
	if (n < 0) {
		int e;

		ht_error("layer '%s' is not valid gzip: %s", digest, gzerror(gz, &e));
		gzclose(gz);
		free(path);
		return -1;
	}
	gzclose(gz);
	free(path);
	*size = total;
	return 0;
}

int ht_layer_tar_size(struct ht_oci_store *s, const char *cache_dir, const struct ht_oci_layer *l,
		      int64_t *size)
{
	char *path = NULL, *buf, txt[32];
	long v;

	if (l->desc.media_type && !strstr(l->desc.media_type, "gzip")) {
		*size = l->desc.size; /* an uncompressed tar */
		return 0;
	}
	if (cache_dir && l->diff_id[0]) {
		path = ht_xasprintf("%s/size-%s", cache_dir, l->diff_id + 7);
		if (ht_read_file(path, 64, &buf, NULL) == 0) {
			buf[strcspn(buf, "\n")] = '\0';
			if (ht_parse_long(buf, 0, LONG_MAX, &v) == 0) {
				free(buf);
				free(path);
				*size = v;
				return 0;
			}
			free(buf);
		}
	}
	if (ht_layer_gzip_size(s, l->desc.digest, size) < 0) {
		free(path);
		return -1;
	}
	if (path) {
		snprintf(txt, sizeof(txt), "%lld\n", (long long)*size);
		if (ht_mkdir_p(cache_dir, 0755) == 0)
			(void)ht_write_file_atomic(path, txt, strlen(txt), 0644);
	}
	free(path);
	return 0;
}
