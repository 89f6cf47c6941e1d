/*
 * ignore.c: .dockerignore-style pattern matching. See include/ht/ignore.h.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ht/config.h"
#include "ht/diag.h"
#include "ht/ignore.h"
#include "ht/util.h"

/* Most path components a pattern or a path is split into. */
#define MAX_SEGS 256

void ht_ignore_init(struct ht_ignore *ig)
{
	memset(ig, 0, sizeof(*ig));
}

void ht_ignore_release(struct ht_ignore *ig)
{
	int i;

	for (i = 0; i < ig->n; i++)
		free(ig->v[i].text);
	free(ig->v);
	ht_ignore_init(ig);
}

/* Cleans a pattern in place: no leading "/" or "./", no empty or "."
 * components, no trailing "/". */
static void clean(char *p)
{
	char *out = p, *in = p;

	while (*in) {
		char *end = strchr(in, '/');
		size_t n = end ? (size_t)(end - in) : strlen(in);

		if (n && !(n == 1 && in[0] == '.')) {
			if (out != p)
				*out++ = '/';
			memmove(out, in, n);
			out += n;
		}
		in += n;
		if (*in == '/')
			in++;
	}
	*out = '\0';
}

void ht_ignore_add(struct ht_ignore *ig, const char *line)
{
	char *t;
	size_t n;
	int neg = 0;

	while (*line == ' ' || *line == '\t')
		line++;
	if (*line == '#' || !*line)
		return;
	if (*line == '!') {
		neg = 1;
		line++;
		while (*line == ' ' || *line == '\t')
			line++;
	}
	t = ht_xstrdup(line);
	n = strlen(t);
	while (n && (t[n - 1] == ' ' || t[n - 1] == '\t' || t[n - 1] == '\r' || t[n - 1] == '\n'))
		t[--n] = '\0';
	clean(t);
	if (!*t) {
		free(t);
		return;
	}
	if (ig->n == ig->cap) {
		ig->cap = ig->cap ? 2 * ig->cap : 16;
		ig->v = ht_xrealloc(ig->v, (size_t)ig->cap * sizeof(*ig->v));
	}
	ig->v[ig->n].text = t;
	ig->v[ig->n].negate = neg;
	ig->n++;
	if (neg)
		ig->has_negations = 1;
}

int ht_ignore_load(struct ht_ignore *ig, const char *root, char **used)
{
	static const char *const names[] = { ".hypertestignore", ".dockerignore" };
	size_t i;

	if (used)
		*used = NULL;
	ht_ignore_add(ig, HT_STATE_DIR_DEFAULT);
	ht_ignore_add(ig, ".git");
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char *path = ht_path_join(root, names[i]), *buf, *line, *save = NULL;

		if (ht_read_file(path, 1024 * 1024, &buf, NULL) < 0) {
			if (errno == ENOENT) {
				free(path);
				continue;
			}
			ht_error("cannot read '%s': %s", path, errno == EFBIG ? "larger than 1 MiB" : strerror(errno));
			free(path);
			return -1;
		}
		for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			ht_ignore_add(ig, line);
		free(buf);
		if (used)
			*used = path;
		else
			free(path);
		break;
	}
	return 0;
}

/* Splits s (modified) at '/' into at most MAX_SEGS pieces. */
static int split(char *s, char **segs)
{
	int n = 0;
	char *save = NULL, *t;

	for (t = strtok_r(s, "/", &save); t && n < MAX_SEGS; t = strtok_r(NULL, "/", &save))
		segs[n++] = t;
	return n;
}

static int seg_match(const char *pat, const char *name)
{
	return fnmatch(pat, name, 0) == 0;
}

/* 1 when the pattern components match the path components exactly. */
static int match_segs(char **p, int np, char **q, int nq)
{
	int k;

	while (np > 0) {
		if (strcmp(p[0], "**") == 0) {
			for (k = 0; k <= nq; k++)
				if (match_segs(p + 1, np - 1, q + k, nq - k))
					return 1;
			return 0;
		}
		if (nq == 0 || !seg_match(p[0], q[0]))
			return 0;
		p++, np--, q++, nq--;
	}
	return nq == 0;
}

/* 1 when pattern matches path or one of its parent directories. */
static int pattern_matches(const char *pattern, char **q, int nq)
{
	char *pc = ht_xstrdup(pattern), *p[MAX_SEGS];
	int np = split(pc, p), k, r = 0;

	for (k = 1; k <= nq && !r; k++)
		r = match_segs(p, np, q, k);
	free(pc);
	return r;
}

int ht_ignore_match(const struct ht_ignore *ig, const char *path)
{
	char *pc = ht_xstrdup(path), *q[MAX_SEGS];
	int nq = split(pc, q), i, excluded = 0;

	for (i = 0; i < ig->n; i++)
		if (ig->v[i].negate == excluded && pattern_matches(ig->v[i].text, q, nq))
			excluded = !ig->v[i].negate;
	free(pc);
	return excluded;
}

/* 1 when something under the directory q could match the pattern. */
static int could_match_under(const char *pattern, char **q, int nq)
{
	char *pc = ht_xstrdup(pattern), *p[MAX_SEGS];
	int np = split(pc, p), i, r = 1;

	for (i = 0; i < nq && i < np; i++) {
		if (strcmp(p[i], "**") == 0)
			break;
		if (!seg_match(p[i], q[i])) {
			r = 0;
			break;
		}
	}
	free(pc);
	return r;
}

int ht_ignore_descend(const struct ht_ignore *ig, const char *dir)
{
	char *pc, *q[MAX_SEGS];
	int nq, i, r = 0;

	if (!ig->has_negations)
		return 0;
	pc = ht_xstrdup(dir);
	nq = split(pc, q);
	for (i = 0; i < ig->n && !r; i++)
		if (ig->v[i].negate)
			r = could_match_under(ig->v[i].text, q, nq);
	free(pc);
	return r;
}
