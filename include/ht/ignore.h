/*
 * ignore.h: .hypertestignore / .dockerignore matching.
 *
 * The syntax is .dockerignore's: one pattern per line, relative to the
 * project root ('/' separated; a leading '/' or './' is ignored); '#'
 * starts a comment line; blank lines are skipped; '*' and '?' match within
 * one path component, '[...]' a character class, '\' escapes; '**' matches
 * any number of components (zero included); a line starting with '!' is an
 * exception that takes a path back in. The last pattern that matches a
 * path decides. A pattern that matches a directory matches everything
 * under it.
 *
 * Ownership: struct ht_ignore owns its patterns; ht_ignore_release frees
 * them. Strings passed in are borrowed.
 */
#ifndef HT_IGNORE_H
#define HT_IGNORE_H

struct ht_ignore_pattern {
	char *text;   /* cleaned pattern, without '!' */
	int negate;   /* an exception ('!') */
};

struct ht_ignore {
	struct ht_ignore_pattern *v;
	int n, cap;
	int has_negations;
};

void ht_ignore_init(struct ht_ignore *ig);
void ht_ignore_release(struct ht_ignore *ig);
/* Adds one pattern line (comments and blank lines are skipped). */
void ht_ignore_add(struct ht_ignore *ig, const char *line);
/*
 * Reads ROOT/.hypertestignore, or when there is none ROOT/.dockerignore,
 * after the defaults (".hypertest" and ".git", which a '!' line can take
 * back). A missing file is not an error; *used (may be NULL) gets the
 * path read (new string) or NULL.
 */
int ht_ignore_load(struct ht_ignore *ig, const char *root, char **used);
/*
 * 1 when path (relative to the root, '/' separated, no leading "./") is
 * left out, 0 when it is kept.
 */
int ht_ignore_match(const struct ht_ignore *ig, const char *path);
/*
 * 1 when a walk must look inside the excluded directory dir because an
 * exception might take something under it back in.
 */
int ht_ignore_descend(const struct ht_ignore *ig, const char *dir);

#endif
