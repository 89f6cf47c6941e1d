/*
 * artifacts.c: what ht-runner keeps of a test in the bucket (ht/artifacts.h):
 * its files gathered under one prefix, at most HT_ARTIFACTS_MAX of the
 * output directory, what is left out listed by name, all stored at once.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ht/artifacts.h"
#include "ht/diag.h"
#include "ht/util.h"

void ht_artifacts_init(struct ht_artifacts *u, struct ht_bucket *bucket, const char *prefix)
{
	memset(u, 0, sizeof(*u));
	u->bucket = bucket;
	u->prefix = ht_xstrdup(prefix);
	u->keys = json_array();
	ht_buf_init(&u->left, 0);
}

void ht_artifacts_release(struct ht_artifacts *u)
{
	size_t i;

	for (i = 0; i < u->n; i++) {
		free((char *)u->items[i].key);
		free((char *)u->items[i].path);
	}
	free(u->items);
	free(u->prefix);
	free(u->first_failed);
	json_decref(u->keys);
	ht_buf_release(&u->left);
	memset(u, 0, sizeof(*u));
}


/* Notes that rel was left out, and why. */
static void left_out(struct ht_artifacts *u, long *count, const char *why, const char *rel)
{
	char *clean = ht_utf8_clean(ht_xstrdup(rel), strlen(rel), 1);

	(*count)++;
	ht_buf_addf(&u->left, "%s: %s\n", why, clean);
	free(clean);
}

void ht_artifacts_add(struct ht_artifacts *u, const char *rel, const char *path, int out)
{
	char *key = ht_xasprintf("%s%s", u->prefix, rel);
	char *clean = ht_utf8_clean(ht_xstrdup(key), strlen(key), 1);

	if (strcmp(clean, key) != 0 || !ht_bucket_key_valid(key)) {
		left_out(u, &u->badname, "not a valid key", rel);
		free(key);
	} else if (out && u->nout >= HT_ARTIFACTS_MAX) {
		left_out(u, &u->over, "over the limit", rel);
		free(key);
	} else {
		u->nout += out;
		u->items = ht_xrealloc(u->items, (u->n + 1) * sizeof(*u->items));
		memset(&u->items[u->n], 0, sizeof(*u->items));
		u->items[u->n].key = key;
		u->items[u->n].path = ht_xstrdup(path);
		u->n++;
	}
	free(clean);
}

/* Stores the files gathered, in parallel where the bucket can, and keeps
 * the keys stored in order; the first failure is kept for upload_error. */
static void flush(struct ht_artifacts *u)
{
	size_t i;

	ht_bucket_put_files(u->bucket, u->items, u->n);
	for (i = 0; i < u->n; i++) {
		if (u->items[i].ok) {
			json_array_append_new(u->keys, json_string(u->items[i].key));
		} else {
			u->failed++;
			if (!u->first_failed)
				u->first_failed = ht_xasprintf("%s': %s", u->items[i].key, u->items[i].error);
			ht_warning("cannot store '%s': %s", u->items[i].key, u->items[i].error);
		}
		free((char *)u->items[i].key);
		free((char *)u->items[i].path);
	}
	free(u->items);
	u->items = NULL;
	u->n = 0;
}

void ht_artifacts_add_tree(struct ht_artifacts *u, const char *dir, const char *rel)
{
	struct dirent **names = NULL;
	int n, i;

	n = scandir(dir, &names, NULL, alphasort);
	for (i = 0; i < n; i++) {
		const char *nm = names[i]->d_name;
		char *path, *sub;
		struct stat st;

		if (!strcmp(nm, ".") || !strcmp(nm, "..")) {
			free(names[i]);
			continue;
		}
		path = ht_path_join(dir, nm);
		sub = ht_xasprintf("%s/%s", rel, nm);
		if (lstat(path, &st) == 0) {
			if (S_ISREG(st.st_mode))
				ht_artifacts_add(u, sub, path, 1);
			else if (S_ISDIR(st.st_mode))
				ht_artifacts_add_tree(u, path, sub);
			else
				left_out(u, &u->special, "not a regular file", sub); /* links, sockets, fifos */
		}
		free(path);
		free(sub);
		free(names[i]);
	}
	free(names);
}

char *ht_artifacts_error(const struct ht_artifacts *u)
{
	struct ht_buf b, why;
	long n = u->over + u->special + u->badname;

	ht_buf_init(&b, 0);
	ht_buf_init(&why, 0);
	if (u->failed)
		ht_buf_addf(&b, "%ld artifacts could not be stored (the first: '%s)", u->failed, u->first_failed);
	if (n) {
		if (u->over)
			ht_buf_addf(&why, "%ld over the %d kept", u->over, HT_ARTIFACTS_MAX);
		if (u->special)
			ht_buf_addf(&why, "%s%ld %s", why.len ? ", " : "", u->special,
				    u->special == 1 ? "not a regular file" : "not regular files");
		if (u->badname)
			ht_buf_addf(&why, "%s%ld %s", why.len ? ", " : "", u->badname,
				    u->badname == 1 ? "name that is not a valid key" : "names that are not valid keys");
		ht_buf_addf(&b, "%s%ld %s of the output directory %s not kept (%s): listed in %sleft-out.txt",
			    b.len ? "; " : "", n, n == 1 ? "file" : "files", n == 1 ? "was" : "were", why.data,
			    u->prefix);
	}
	ht_buf_release(&why);
	if (!b.len) {
		ht_buf_release(&b);
		return NULL;
	}
	ht_utf8_clean(b.data, b.len, 1);
	return ht_buf_detach(&b);
}


void ht_artifacts_store(struct ht_artifacts *u, const char *work)
{
	if (u->left.len) {
		/* What was left out, by name, beside what was kept. */
		char *list = ht_path_join(work, "left-out.txt");

		if (ht_write_file_atomic(list, u->left.data, u->left.len, 0644) == 0)
			ht_artifacts_add(u, "left-out.txt", list, 0);
		free(list);
	}
	flush(u);
}
