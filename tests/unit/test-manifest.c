/*
 * Unit tests of project tree manifests (lib/manifest.c): what is listed,
 * the tree hash, parsing an untrusted manifest, and the differences.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ht/ht.h"
#include "ht/manifest.h"
#include "tap.h"

static void put(const char *dir, const char *name, const char *text, mode_t mode)
{
	char *p = ht_path_join(dir, name);
	FILE *f = fopen(p, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
	chmod(p, mode);
	free(p);
}

/* root/name in a static buffer. */
static const char *at(const char *root, const char *name)
{
	static char buf[4096];

	snprintf(buf, sizeof(buf), "%s/%s", root, name);
	return buf;
}

static char *dumps(json_t *m)
{
	return json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS);
}

int main(void)
{
	char tmpl[] = "/tmp/test-manifest.XXXXXX", *root = mkdtemp(tmpl), *sub, *text, *key;
	json_t *m, *m2, *p;
	struct ht_buf b = HT_BUF_INIT;
	const char *tree;
	int n;

	if (!root)
		return 1;
	sub = ht_path_join(root, "tests");
	mkdir(sub, 0755);
	put(root, "run.sh", "echo hi\n", 0755);
	put(sub, "a.sh", "echo a\n", 0644);
	put(root, ".hypertestignore", "*.log\n", 0644);
	put(root, "x.log", "left out\n", 0644);
	if (symlink("tests/a.sh", at(root, "link")) < 0)
		return 1;
	m = ht_manifest_of_project(root, NULL, NULL);
	ok(m != NULL, "a manifest of a tree");
	text = dumps(json_object_get(m, "files"));
	like(text, "\"run.sh\":\"x ", "an executable file is x");
	like(text, "\"tests/a.sh\":\"f ", "a plain file is f");
	like(text, "\"link\":\"l tests/a.sh\"", "a link is its target");
	ok(!strstr(text, "x.log") && !strstr(text, "\"tests\""), "ignored files and directories are not listed");
	free(text);
	tree = ht_manifest_tree(m);
	ok(ht_digest_valid(tree), "a tree hash");

	/* The same tree, hashed again: the same hash; a parsed copy too. */
	m2 = ht_manifest_of_project(root, NULL, NULL);
	is_str(ht_manifest_tree(m2), tree, "the same files, the same hash");
	json_decref(m2);
	text = dumps(m);
	m2 = ht_manifest_parse(text, strlen(text), "m");
	ok(m2 && !strcmp(ht_manifest_tree(m2), tree), "a manifest parses back");
	is_int(ht_manifest_diff(m, m2, 5, &b), 0, "no difference with itself");
	json_decref(m2);
	free(text);

	/* A manifest whose files do not hash to its tree is refused. */
	p = json_deep_copy(m);
	json_object_set_new(json_object_get(p, "files"), "tests/a.sh", json_string("f 00"));
	text = dumps(p);
	ok(ht_manifest_parse(text, strlen(text), "tampered") == NULL, "files that do not match the tree: refused");
	free(text);
	json_decref(p);
	ok(ht_manifest_parse("{\"schema\":\"ht.tree/1\"}", 22, "empty") == NULL, "no tree, no files: refused");
	ok(ht_manifest_parse("[1", 2, "bad") == NULL, "not JSON: refused");

	/* Changes: one changed, one new, one removed; the mode counts. */
	put(sub, "a.sh", "echo changed\n", 0644);
	put(sub, "new.sh", "echo new\n", 0644);
	chmod(at(root, "run.sh"), 0644);
	unlink(at(root, "link"));
	m2 = ht_manifest_of_project(root, NULL, NULL);
	ok(strcmp(ht_manifest_tree(m2), tree) != 0, "another tree, another hash");
	n = ht_manifest_diff(m, m2, 5, &b);
	is_int(n, 4, "four paths differ");
	is_str(b.data, "link (only in the image), run.sh (changed), tests/a.sh (changed), tests/new.sh (not in the image)",
	       "each named, in order");
	ht_buf_reset(&b);
	n = ht_manifest_diff(m, m2, 2, &b);
	is_str(b.data, "link (only in the image), run.sh (changed), and 2 more", "at most max named");
	ht_buf_release(&b);
	json_decref(m2);
	json_decref(m);

	/* The hash cache: a file's hash is taken from it while the file's
	 * stat is the same, and made again when it changes. */
	{
		char *state = ht_path_join(root, ".hypertest"), *cpath, *ctext = NULL, *hex;
		const char *h;
		size_t clen;
		struct timespec ts = { 1, 200000000 };

		mkdir(state, 0755);
		cpath = ht_path_join(state, HT_MANIFEST_CACHE);
		nanosleep(&ts, NULL);
		m = ht_manifest_of_project(root, state, NULL);
		ok(m && access(cpath, R_OK) == 0, "the cache is written");
		h = json_string_value(json_object_get(json_object_get(m, "files"), "tests/a.sh"));
		hex = ht_xstrdup(h ? h + 2 : "");
		ok(ht_read_file(cpath, 0, &ctext, &clen) == 0 && strstr(ctext, hex), "it has a.sh's hash");
		/* A cache that lies about a file whose stat it knows is
		 * believed: the proof it is used. */
		if (ctext) {
			char *q = strstr(ctext, hex);

			if (q)
				memset(q, 'a', HT_SHA256_HEX_LEN);
			ht_write_file_atomic(cpath, ctext, clen, 0644);
		}
		m2 = ht_manifest_of_project(root, state, NULL);
		h = json_string_value(json_object_get(json_object_get(m2, "files"), "tests/a.sh"));
		like(h ? h : "", "f aaaaaaaa", "an unchanged stat: the hash from the cache");
		json_decref(m2);
		put(sub, "a.sh", "echo changed\n", 0644);
		m2 = ht_manifest_of_project(root, state, NULL);
		h = json_string_value(json_object_get(json_object_get(m2, "files"), "tests/a.sh"));
		is_str(h ? h + 2 : "", hex, "a file written again is hashed again");
		json_decref(m2);
		json_decref(m);
		free(ctext);
		free(hex);
		free(cpath);
		free(state);
	}

	key = ht_manifest_bucket_key("sha256:0123");
	is_str(key, "images/0123/tree.json", "the bucket key");
	free(key);
	{
		char *cmd = ht_xasprintf("rm -rf '%s'", root);

		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", root);
		free(cmd);
	}
	free(sub);
	return tap_done();
}
