/*
 * manifest.c: a project tree's manifest and tree hash, the same for the
 * tree ht-build packs and the working tree ht-invoke compares it with;
 * their differences; and an image's own manifest read from its layers.
 * See include/ht/manifest.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <archive.h>
#include <archive_entry.h>

#include "ht/diag.h"
#include "ht/ignore.h"
#include "ht/jsonl.h"
#include "ht/manifest.h"

int ht_project_entries(struct ht_layer_list *l, const char *prefix, const char *root,
		       const char *state_dir, const char *store_dir)
{
	struct ht_ignore ig;
	char *used = NULL;
	int rc;

	ht_ignore_init(&ig);
	rc = ht_ignore_load(&ig, root, &used);
	if (used)
		ht_debug("leaving out what '%s' says", used);
	free(used);
	if (state_dir)
		ht_layer_leave_out(&ig, root, state_dir);
	if (store_dir)
		ht_layer_leave_out(&ig, root, store_dir);
	if (rc == 0)
		rc = ht_layer_add_tree(l, prefix, root, &ig, NULL);
	ht_ignore_release(&ig);
	return rc < 0 ? -1 : 0;
}

/* One path and its value, for sorting. */
struct item {
	const char *path;
	char *value;
};

static int item_cmp(const void *a, const void *b)
{
	return strcmp(((const struct item *)a)->path, ((const struct item *)b)->path);
}

/* The tree hash of files (path -> value), into out. */
static int tree_hash(json_t *files, char out[HT_DIGEST_LEN + 1])
{
	size_t n = json_object_size(files), i = 0;
	struct item *v = ht_xcalloc(n ? n : 1, sizeof(*v));
	struct ht_sha256 h;
	const char *k;
	json_t *val;
	int rc = 0;

	json_object_foreach(files, k, val) {
		if (!json_is_string(val)) {
			free(v);
			return -1;
		}
		v[i].path = k;
		v[i++].value = (char *)json_string_value(val);
	}
	qsort(v, n, sizeof(*v), item_cmp);
	if (ht_sha256_init(&h) < 0) {
		free(v);
		return ht_error("cannot hash: out of memory");
	}
	for (i = 0; i < n; i++) {
		ht_sha256_update(&h, v[i].path, strlen(v[i].path) + 1);
		ht_sha256_update(&h, v[i].value, strlen(v[i].value));
		ht_sha256_update(&h, "\n", 1);
	}
	if (ht_sha256_final(&h, out) < 0)
		rc = ht_error("cannot hash: out of memory");
	free(v);
	return rc;
}

static json_t *manifest_new(json_t *files)
{
	char tree[HT_DIGEST_LEN + 1];

	if (tree_hash(files, tree) < 0) {
		json_decref(files);
		return NULL;
	}
	return json_pack("{s:s, s:s, s:o}", "schema", "ht.tree/1", "tree", tree, "files", files);
}

/* --- the hash cache --------------------------------------------------------- */

/* A file's stat as the cache compares it: [size, mtime_ns, ctime_ns, ino, dev]. */
static int64_t stat_field(const struct stat *st, int i)
{
	switch (i) {
	case 0: return (int64_t)st->st_size;
	case 1: return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
	case 2: return (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec;
	case 3: return (int64_t)st->st_ino;
	default: return (int64_t)st->st_dev;
	}
}

/* The cache's files (new reference): an empty object when there is none
 * or it cannot be read (the hashes are then made again). */
static json_t *cache_load(const char *path)
{
	char *text = NULL;
	size_t len = 0;
	json_t *j = NULL, *files;

	if (path && ht_read_file(path, 4 * HT_MANIFEST_MAX, &text, &len) == 0)
		j = json_loadb(text, len, 0, NULL);
	free(text);
	files = json_object_get(j, "files");
	if (strcmp(ht_json_str(j, "schema", ""), "ht.tree-cache/1") || !json_is_object(files)) {
		json_decref(j);
		return json_object();
	}
	json_incref(files);
	json_decref(j);
	return files;
}

/* The hash the cache c knows for rel with exactly this stat, or NULL. */
static const char *cache_get(json_t *c, const char *rel, const struct stat *st)
{
	json_t *a = json_object_get(c, rel);
	const char *hex = json_string_value(json_array_get(a, 5));
	int i;

	if (json_array_size(a) != 6 || !hex || strlen(hex) != HT_SHA256_HEX_LEN ||
	    strspn(hex, "0123456789abcdef") != HT_SHA256_HEX_LEN)
		return NULL;
	for (i = 0; i < 5; i++)
		if (!json_is_integer(json_array_get(a, i)) ||
		    json_integer_value(json_array_get(a, i)) != stat_field(st, i))
			return NULL;
	return hex;
}

/* Writes the cache (files stolen); a failure only costs the next hashing. */
static void cache_save(const char *path, json_t *files)
{
	json_t *j = json_pack("{s:s, s:o}", "schema", "ht.tree-cache/1", "files", files);
	char *text = json_dumps(j, JSON_COMPACT), *dir = ht_xstrdup(path);

	*strrchr(dir, '/') = '\0';
	if (ht_mkdir_p(dir, 0755) < 0 || ht_write_file_atomic(path, text, strlen(text), 0644) < 0)
		ht_debug("cannot write the hash cache '%s': %s", path, strerror(errno));
	free(dir);
	free(text);
	json_decref(j);
}

json_t *ht_manifest_of(const struct ht_layer_list *l, const char *prefix, const char *cache)
{
	json_t *files = json_object(), *old = cache_load(cache), *fresh = json_object();
	int64_t limit = ht_wall_ms() * 1000000 - 1000000000LL;
	size_t plen, i, reused = 0, kept = 0;
	int k;

	while (*prefix == '/')
		prefix++;
	plen = strlen(prefix);
	for (i = 0; i < l->n; i++) {
		const struct ht_layer_entry *e = &l->v[i];
		const char *rel = e->name, *hex;
		char digest[HT_DIGEST_LEN + 1];

		if (plen) {
			if (strncmp(rel, prefix, plen) || rel[plen] != '/')
				continue;
			rel += plen + 1;
		}
		if (!*rel)
			continue;
		if (e->type == S_IFLNK) {
			json_object_set_new(files, rel, json_sprintf("l %s", e->link));
			continue;
		}
		if (e->type != S_IFREG)
			continue;
		hex = cache_get(old, rel, &e->st);
		if (hex) {
			reused++;
		} else if (ht_sha256_file(e->src, digest) < 0) {
			ht_error("cannot read '%s': %s", e->src, strerror(errno));
			json_decref(files);
			json_decref(old);
			json_decref(fresh);
			return NULL;
		} else {
			hex = digest + 7;
		}
		json_object_set_new(files, rel, json_sprintf("%c %s", (e->mode & 0111) ? 'x' : 'f', hex));
		/* A file changed in the last second is not kept: a later
		 * change within the same timestamp tick could not be told. */
		if (stat_field(&e->st, 1) < limit && stat_field(&e->st, 2) < limit) {
			json_t *a = json_array();

			for (k = 0; k < 5; k++)
				json_array_append_new(a, json_integer(stat_field(&e->st, k)));
			json_array_append_new(a, json_string(hex));
			json_object_set_new(fresh, rel, a);
			kept++;
		}
	}
	ht_debug("tree: %zu of %zu files hashed, %zu from the hash cache", json_object_size(files) - reused,
		 json_object_size(files), reused);
	if (cache && (kept != reused || json_object_size(old) != reused))
		cache_save(cache, json_incref(fresh));
	json_decref(fresh);
	json_decref(old);
	return manifest_new(files);
}

json_t *ht_manifest_of_project(const char *root, const char *state_dir, const char *store_dir)
{
	struct ht_layer_list l;
	char *cache = state_dir ? ht_path_join(state_dir, HT_MANIFEST_CACHE) : NULL;
	json_t *m = NULL;

	ht_layer_list_init(&l);
	if (ht_project_entries(&l, "", root, state_dir, store_dir) == 0)
		m = ht_manifest_of(&l, "", cache);
	ht_layer_list_release(&l);
	free(cache);
	return m;
}

json_t *ht_manifest_parse(const char *text, size_t len, const char *where)
{
	json_error_t err;
	json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err), *files, *m;
	const char *tree;

	if (!j) {
		ht_error("%s: not a tree manifest: %s", where, err.text);
		return NULL;
	}
	files = json_object_get(j, "files");
	tree = ht_json_str(j, "tree", NULL);
	if (strcmp(ht_json_str(j, "schema", ""), "ht.tree/1") || !json_is_object(files) ||
	    !ht_digest_valid(tree)) {
		ht_error("%s: not an ht.tree/1 manifest with a tree hash and files", where);
		json_decref(j);
		return NULL;
	}
	m = manifest_new(json_incref(files));
	if (!m || strcmp(ht_manifest_tree(m), tree)) {
		if (m)
			ht_error("%s: its files do not hash to its tree hash %s", where, tree);
		else
			ht_error("%s: a file's entry is not a string", where);
		json_decref(m);
		json_decref(j);
		return NULL;
	}
	json_decref(j);
	return m;
}

const char *ht_manifest_tree(json_t *m)
{
	return ht_json_str(m, "tree", "");
}

/* Appends one differing path to out, while fewer than max are named. */
static void name_one(struct ht_buf *out, int *n, int max, const char *path, const char *how)
{
	if ((*n)++ >= max)
		return;
	if (out->len)
		ht_buf_addstr(out, ", ");
	ht_buf_addf(out, "%s (%s)", path, how);
}

int ht_manifest_diff(json_t *image, json_t *work, int max, struct ht_buf *out)
{
	json_t *fi = json_object_get(image, "files"), *fw = json_object_get(work, "files"), *val, *o;
	size_t nw = json_object_size(fw), ni = json_object_size(fi), k = 0, i;
	struct item *v = ht_xcalloc(nw + ni + 1, sizeof(*v));
	const char *p;
	int n = 0;

	/* Every path of either, each once, in order. */
	json_object_foreach(fw, p, val)
		v[k++].path = p;
	json_object_foreach(fi, p, val)
		if (!json_object_get(fw, p))
			v[k++].path = p;
	qsort(v, k, sizeof(*v), item_cmp);
	for (i = 0; i < k; i++) {
		val = json_object_get(fw, v[i].path);
		o = json_object_get(fi, v[i].path);
		if (!o)
			name_one(out, &n, max, v[i].path, "not in the image");
		else if (!val)
			name_one(out, &n, max, v[i].path, "only in the image");
		else if (!json_equal(val, o))
			name_one(out, &n, max, v[i].path, "changed");
	}
	if (n > max)
		ht_buf_addf(out, ", and %d more", n - max);
	free(v);
	return n;
}

/* The manifest in one layer blob: 1 found (*out), 0 not there, -1 error. */
static int from_layer(struct ht_oci_store *s, const struct ht_oci_layer *l, json_t **out)
{
	char *blob = ht_oci_blob_path(s, l->desc.digest), *where;
	struct archive *a;
	struct archive_entry *e;
	int r, found = 0;

	if (!blob)
		return -1;
	a = archive_read_new();
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_format_tar(a);
	if (archive_read_open_filename(a, blob, 65536) != ARCHIVE_OK) {
		ht_error("layer %s: cannot read '%s': %s", l->desc.digest, blob, archive_error_string(a));
		found = -1;
		goto out;
	}
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		const char *name = archive_entry_pathname(e);
		struct ht_buf b;
		char buf[65536];
		la_ssize_t n;

		if (!name)
			continue;
		while (*name == '/' || !strncmp(name, "./", 2))
			name += *name == '/' ? 1 : 2;
		if (strcmp(name, HT_MANIFEST_PATH) || archive_entry_filetype(e) != AE_IFREG)
			continue;
		ht_buf_init(&b, HT_MANIFEST_MAX);
		while ((n = archive_read_data(a, buf, sizeof(buf))) > 0)
			if (ht_buf_add(&b, buf, (size_t)n) < 0)
				break;
		where = ht_xasprintf("layer %s: /%s", l->desc.digest, HT_MANIFEST_PATH);
		if (n < 0) {
			ht_error("%s: %s", where, archive_error_string(a));
			found = -1;
		} else if (n > 0) {
			ht_error("%s: larger than %d bytes", where, HT_MANIFEST_MAX);
			found = -1;
		} else {
			*out = ht_manifest_parse(b.data ? b.data : "", b.len, where);
			found = *out ? 1 : -1;
		}
		free(where);
		ht_buf_release(&b);
		goto out;
	}
	if (r != ARCHIVE_EOF) {
		ht_error("layer %s: %s", l->desc.digest, archive_error_string(a));
		found = -1;
	}
out:
	archive_read_free(a);
	free(blob);
	return found;
}

int ht_manifest_from_image(struct ht_oci_store *s, const struct ht_oci_image *img, json_t **out)
{
	size_t i;
	int r;

	*out = NULL;
	for (i = img->nlayers; i-- > 0;) {
		r = from_layer(s, &img->layers[i], out);
		if (r)
			return r;
	}
	return 0;
}

char *ht_manifest_bucket_key(const char *digest)
{
	return ht_xasprintf("images/%s/tree.json", ht_starts_with(digest, "sha256:") ? digest + 7 : digest);
}
