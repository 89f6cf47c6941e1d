/*
 * Unit tests of the OCI image store (lib/oci.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ht/ht.h"
#include "ht/oci.h"
#include "tap.h"

static char *tmpdir;

static int file_exists(const char *dir, const char *name)
{
	char *p = ht_path_join(dir, name);
	int r = access(p, F_OK) == 0;

	free(p);
	return r;
}

static int count_files(const char *dir)
{
	char *cmd = ht_xasprintf("ls -A '%s' | wc -l", dir);
	FILE *fp = popen(cmd, "r");
	int n = -1;

	if (fp) {
		if (fscanf(fp, "%d", &n) != 1)
			n = -1;
		pclose(fp);
	}
	free(cmd);
	return n;
}

static void test_open(void)
{
	struct ht_oci_store s = { 0 };
	char *dir = ht_path_join(tmpdir, "store");

	ok(ht_oci_open(&s, dir, 0) < 0, "open: a missing layout is refused without create");
	ok(ht_oci_open(&s, dir, 1) == 0, "open: create");
	ok(file_exists(dir, "oci-layout") && file_exists(dir, "index.json") &&
	   file_exists(dir, "blobs/sha256"), "open: layout files made");
	ht_oci_close(&s);
	ok(ht_oci_open(&s, dir, 0) == 0, "open: existing layout");
	ht_oci_close(&s);
	free(dir);
}

static void test_blobs(void)
{
	struct ht_oci_store s = { 0 };
	struct ht_oci_blob_writer w;
	char *dir = ht_path_join(tmpdir, "store");
	char d[HT_DIGEST_LEN + 1], abc[HT_DIGEST_LEN + 1], *buf, *path;
	size_t len;
	int64_t size;
	FILE *fp;

	ht_oci_open(&s, dir, 1);
	ht_sha256_digest("abc", 3, abc);
	ok(ht_oci_has_blob(&s, abc, NULL) == 0, "has_blob: not yet");
	ok(ht_oci_put_blob(&s, "abc", 3, d) == 0, "put_blob");
	is_str(d, abc, "put_blob: digest");
	ok(ht_oci_has_blob(&s, abc, &size) == 1 && size == 3, "has_blob: with size");
	ok(ht_oci_read_blob(&s, abc, 0, &buf, &len) == 0 && len == 3 && !memcmp(buf, "abc", 3),
	   "read_blob");
	free(buf);
	ok(ht_oci_has_blob(&s, "sha256:nothex", NULL) < 0, "has_blob: malformed digest");

	/* A writer with the wrong expected digest leaves nothing behind. */
	ok(ht_oci_blob_begin(&s, &w, "sha256:0000000000000000000000000000000000000000000000000000000000000000", -1) == 0,
	   "begin with expected digest");
	ht_oci_blob_write(&w, "abc", 3);
	ok(ht_oci_blob_commit(&w, d, NULL) < 0, "commit: digest mismatch refused");
	ok(ht_oci_has_blob(&s, "sha256:0000000000000000000000000000000000000000000000000000000000000000", NULL) == 0,
	   "commit: nothing under the wrong name");
	is_int(count_files(s.blobs), 1, "commit: no temporary left over");

	/* Size checks. */
	ok(ht_oci_blob_begin(&s, &w, NULL, 2) == 0, "begin with expected size");
	ok(ht_oci_blob_write(&w, "abc", 3) < 0, "write: more than the expected size refused");
	ht_oci_blob_abort(&w);
	ht_oci_blob_abort(&w);
	is_int(count_files(s.blobs), 1, "abort: no temporary left over");

	/* Resume a partial download. */
	ht_sha256_digest("hello world", 11, d);
	ok(ht_oci_blob_resume(&s, &w, d, 11) == 0 && w.resumed == 0, "resume: fresh");
	ht_oci_blob_write(&w, "hello", 5);
	ht_oci_blob_suspend(&w);
	ok(ht_oci_has_blob(&s, d, NULL) == 0, "suspend: blob not there yet");
	ok(ht_oci_blob_resume(&s, &w, d, 11) == 0 && w.resumed == 5, "resume: finds 5 bytes");
	ht_oci_blob_write(&w, " world", 6);
	ok(ht_oci_blob_commit(&w, NULL, &size) == 0 && size == 11, "resume: commit");
	ok(ht_oci_verify_blob(&s, d, NULL) == 0, "resume: blob verifies");
	ok(ht_oci_blob_resume(&s, &w, d, 11) == 0, "resume again");
	ht_oci_blob_write(&w, "hel", 3);
	ok(ht_oci_blob_restart(&w) == 0 && w.size == 0, "restart: empties");
	ht_oci_blob_write(&w, "hello world", 11);
	ok(ht_oci_blob_commit(&w, NULL, NULL) == 0, "restart: commit");
	is_int(count_files(s.blobs), 2, "resume: no partial left over");

	/* A corrupted blob is detected on read. */
	path = ht_oci_blob_path(&s, abc);
	fp = fopen(path, "w");
	fputs("abd", fp);
	fclose(fp);
	ok(ht_oci_read_blob(&s, abc, 0, &buf, &len) < 0 && buf == NULL, "read_blob: corruption detected");
	ok(ht_oci_verify_blob(&s, abc, NULL) < 0, "verify_blob: corruption detected");
	unlink(path);
	free(path);
	ht_oci_close(&s);
	free(dir);
}

static void test_refs(void)
{
	struct ht_oci_store s = { 0 };
	struct ht_oci_desc desc;
	struct ht_oci_image img;
	char *dir = ht_path_join(tmpdir, "refs");
	char layer[HT_DIGEST_LEN + 1], cfgd[HT_DIGEST_LEN + 1], mand[HT_DIGEST_LEN + 1];
	char orphan[HT_DIGEST_LEN + 1];
	json_t *cfg, *man;
	int64_t cfgsize, mansize, bytes;
	long removed;

	ht_oci_open(&s, dir, 1);
	ht_oci_put_blob(&s, "layer", 5, layer);
	ht_oci_put_blob(&s, "orphan", 6, orphan);
	cfg = json_pack("{s:s, s:s, s:{s:s, s:[s]}}", "architecture", "amd64", "os", "linux",
			"rootfs", "type", "layers", "diff_ids", layer);
	ok(ht_oci_put_json(&s, cfg, cfgd, &cfgsize) == 0, "put_json: config");
	man = json_pack("{s:i, s:s, s:o, s:[o]}", "schemaVersion", 2, "mediaType", HT_OCI_MT_MANIFEST,
			"config", ht_oci_desc_json(HT_OCI_MT_CONFIG, cfgd, cfgsize),
			"layers", ht_oci_desc_json(HT_OCI_MT_LAYER_GZIP, layer, 5));
	ht_oci_put_json(&s, man, mand, &mansize);
	ok(ht_oci_tag(&s, "-bad", mand, HT_OCI_MT_MANIFEST, mansize, NULL) < 0, "tag: invalid name");
	ok(ht_oci_tag(&s, "latest", orphan + 1, HT_OCI_MT_MANIFEST, mansize, NULL) < 0, "tag: bad digest");
	ok(ht_oci_tag(&s, "latest", mand, HT_OCI_MT_MANIFEST, mansize, NULL) == 0, "tag");
	ok(ht_oci_tag(&s, "latest", mand, HT_OCI_MT_MANIFEST, mansize, NULL) == 0, "tag again");
	ok(ht_oci_tag(&s, "other", mand, HT_OCI_MT_MANIFEST, mansize, NULL) == 0, "second tag");
	{
		json_t *idx;

		ht_oci_read_index(&s, &idx);
		is_int((long long)json_array_size(json_object_get(idx, "manifests")), 2, "index: one entry per tag");
		json_decref(idx);
	}
	ok(ht_oci_resolve(&s, "latest", &desc) == 0, "resolve tag");
	is_str(desc.digest, mand, "resolve: digest");
	is_str(desc.media_type, HT_OCI_MT_MANIFEST, "resolve: media type");
	ht_oci_desc_release(&desc);
	ok(ht_oci_resolve(&s, mand, &desc) == 0 && desc.size == mansize, "resolve digest");
	ht_oci_desc_release(&desc);
	errno = 0;
	ok(ht_oci_resolve(&s, "nope", &desc) < 0 && errno == ENOENT, "resolve: unknown tag");

	ok(ht_oci_image_load(&s, "latest", &img) == 0, "image_load");
	is_int((long long)img.nlayers, 1, "image: one layer");
	is_str(img.layers[0].diff_id, layer, "image: diff_id");
	is_str(img.config_desc.digest, cfgd, "image: config digest");
	ht_oci_image_release(&img);

	ok(ht_oci_gc(&s, &removed, &bytes) == 0 && removed == 1 && bytes == 6, "gc: removes the orphan only");
	ok(ht_oci_has_blob(&s, layer, NULL) == 1, "gc: keeps the layer");
	is_int(ht_oci_untag(&s, "other"), 1, "untag");
	is_int(ht_oci_untag(&s, "other"), 0, "untag: already gone");
	is_int(ht_oci_untag(&s, "latest"), 1, "untag last");
	ok(ht_oci_gc(&s, &removed, NULL) == 0 && removed == 3, "gc: all unreachable now");
	ok(ht_oci_image_load(&s, "latest", &img) < 0, "image_load: gone");

	json_decref(cfg);
	json_decref(man);
	ht_oci_close(&s);
	free(dir);
}

static void test_manifest_parse(void)
{
	struct ht_oci_image img;
	json_t *j;

	ht_oci_image_init(&img);
	j = json_loads("{\"schemaVersion\":2,\"mediaType\":\"" HT_OCI_MT_INDEX "\",\"manifests\":[]}", 0, NULL);
	ok(ht_oci_manifest_parse(j, "m", &img) < 0, "manifest_parse: index refused");
	json_decref(j);
	j = json_loads("{\"schemaVersion\":2,\"mediaType\":\"" HT_DOCKER_MT_MANIFEST "\","
		       "\"config\":{\"mediaType\":\"x\",\"size\":1,\"digest\":\"sha256:"
		       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"},"
		       "\"layers\":[{\"size\":-1,\"digest\":\"sha256:x\"}]}", 0, NULL);
	ok(ht_oci_manifest_parse(j, "m", &img) < 0, "manifest_parse: bad layer refused");
	ht_oci_image_release(&img);
	json_decref(j);
	j = json_loads("{\"manifests\":[{\"mediaType\":\"m\",\"size\":3,\"digest\":\"sha256:"
		       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\","
		       "\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\"}}]}", 0, NULL);
	{
		struct ht_oci_desc d;

		is_int(ht_oci_index_pick(j, "linux", "amd64", NULL, &d), 0, "index_pick: no match");
		is_int(ht_oci_index_pick(j, "linux", "arm64", NULL, &d), 1, "index_pick: match");
		is_int(d.size, 3, "index_pick: descriptor");
		ht_oci_desc_release(&d);
	}
	json_decref(j);
}

/* gc of a store of many blobs, half of them reachable: the set of what is
 * reachable keeps exactly those. */
static void test_gc_many(void)
{
	enum { N = 4000 };
	struct ht_oci_store s = { 0 };
	char *dir = ht_path_join(tmpdir, "many");
	char (*d)[HT_DIGEST_LEN + 1] = ht_xcalloc(N, sizeof(*d));
	char cfgd[HT_DIGEST_LEN + 1], mand[HT_DIGEST_LEN + 1];
	json_t *layers = json_array(), *man;
	int64_t cfgsize, mansize;
	long removed = 0;
	int i, kept = 0, gone = 0, fd;

	ht_oci_open(&s, dir, 1);
	for (i = 0; i < N; i++) {
		char data[32];

		snprintf(data, sizeof(data), "blob %d", i);
		ht_oci_put_blob(&s, data, strlen(data), d[i]);
		if (i % 2 == 0)
			json_array_append_new(layers, ht_oci_desc_json(HT_OCI_MT_LAYER, d[i], (int64_t)strlen(data)));
	}
	/* A layer listed twice, and one that is not in the store. */
	json_array_append_new(layers, ht_oci_desc_json(HT_OCI_MT_LAYER, d[0], 6));
	json_array_append_new(layers, ht_oci_desc_json(HT_OCI_MT_LAYER, "sha256:"
		"0000000000000000000000000000000000000000000000000000000000000000", 1));
	ht_oci_put_blob(&s, "{}", 2, cfgd);
	cfgsize = 2;
	man = json_pack("{s:i, s:s, s:o, s:o}", "schemaVersion", 2, "mediaType", HT_OCI_MT_MANIFEST,
			"config", ht_oci_desc_json(HT_OCI_MT_CONFIG, cfgd, cfgsize), "layers", layers);
	ht_oci_put_json(&s, man, mand, &mansize);
	ht_oci_tag(&s, "many", mand, HT_OCI_MT_MANIFEST, mansize, NULL);
	ok(ht_oci_gc(&s, &removed, NULL) == 0, "gc many: runs on a store opened to write");
	is_int(removed, N / 2, "gc many: removes the unreachable half");
	for (i = 0; i < N; i++) {
		int have = ht_oci_has_blob(&s, d[i], NULL);

		if (i % 2 == 0)
			kept += have == 1;
		else
			gone += have == 0;
	}
	is_int(kept, N / 2, "gc many: every reachable blob kept");
	is_int(gone, N / 2, "gc many: every unreachable blob gone");
	ok(ht_oci_has_blob(&s, mand, NULL) == 1 && ht_oci_has_blob(&s, cfgd, NULL) == 1,
	   "gc many: the manifest and the config kept");
	errno = 0;
	fd = ht_oci_lock(&s, HT_OCI_GC_LOCK, LOCK_EX | LOCK_NB);
	ok(fd < 0 && errno == EWOULDBLOCK, "gc: the store holds its writer's lock again afterwards");
	if (fd >= 0)
		close(fd);
	ht_oci_close(&s);
	ht_oci_open(&s, dir, 0);
	fd = ht_oci_lock(&s, HT_OCI_GC_LOCK, LOCK_EX | LOCK_NB);
	ok(fd >= 0, "lock: a store opened to read holds no lock");
	if (fd >= 0)
		close(fd);
	ht_oci_close(&s);
	json_decref(man);
	free(d);
	free(dir);
}

/* A manifest whose config is cfg bytes and whose layers are the sizes in
 * layers (a JSON array of numbers). New reference. */
static json_t *manifest_of_sizes(long long cfg, const char *layers)
{
	const char *d = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
	json_t *sizes = json_loads(layers, 0, NULL), *arr = json_array(), *v;
	size_t i;

	json_array_foreach(sizes, i, v)
		json_array_append_new(arr, ht_oci_desc_json(HT_OCI_MT_LAYER_GZIP, d, json_integer_value(v)));
	json_decref(sizes);
	return json_pack("{s:i, s:s, s:o, s:o}", "schemaVersion", 2, "mediaType", HT_OCI_MT_MANIFEST,
			 "config", ht_oci_desc_json(HT_OCI_MT_CONFIG, d, cfg), "layers", arr);
}

/* Sizes from a manifest are untrusted: their sum must not overflow. */
static void test_size_overflow(void)
{
	struct ht_oci_image img;
	json_t *j;
	int64_t sum;

	ht_oci_image_init(&img);
	j = manifest_of_sizes(1, "[9223372036854775806]");
	ok(ht_oci_manifest_parse(j, "m", &img) == 0 && img.size == INT64_MAX,
	   "manifest_parse: sizes adding up to INT64_MAX are accepted, and added up");
	ht_oci_image_release(&img);
	json_decref(j);
	j = manifest_of_sizes(2, "[9223372036854775806]");
	ok(ht_oci_manifest_parse(j, "m", &img) < 0, "manifest_parse: config + layer over INT64_MAX refused");
	ht_oci_image_release(&img);
	json_decref(j);
	j = manifest_of_sizes(0, "[4611686018427387904, 4611686018427387904]");
	ok(ht_oci_manifest_parse(j, "m", &img) < 0, "manifest_parse: two layers of 2^62 refused");
	ht_oci_image_release(&img);
	json_decref(j);
	j = manifest_of_sizes(0, "[9223372036854775807, 9223372036854775807, 9223372036854775807]");
	ok(ht_oci_manifest_parse(j, "m", &img) < 0, "manifest_parse: three layers of INT64_MAX refused");
	ht_oci_image_release(&img);
	json_decref(j);

	sum = INT64_MAX - 1;
	ok(ht_oci_size_add(&sum, 1) == 0 && sum == INT64_MAX, "size_add: up to INT64_MAX");
	ok(ht_oci_size_add(&sum, 1) < 0 && sum == INT64_MAX, "size_add: past INT64_MAX refused, sum kept");
	sum = 5;
	ok(ht_oci_size_add(&sum, -1) < 0 && sum == 5, "size_add: a negative size refused");
}

int main(int argc, char **argv)
{
	char tmpl[] = "/tmp/test-oci.XXXXXX";

	ht_diag_init(argc > 0 ? argv[0] : "test-oci");
	ht_verbosity = -1;
	tmpdir = mkdtemp(tmpl);
	if (!tmpdir)
		return 1;
	test_open();
	test_blobs();
	test_refs();
	test_manifest_parse();
	test_size_overflow();
	test_gc_many();
	ht_remove_tree(tmpdir);
	return tap_done();
}
