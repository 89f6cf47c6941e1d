/*
 * detect.h: what test suite a project holds, for ht-init.
 *
 * ht_detect() looks at a project's files (config files of the frameworks,
 * test files by their names, a package.json's dependencies) and proposes,
 * for each kind of suite it finds, the `runner` section that runs it, with
 * the reasons it gives and what it could not decide. It runs nothing.
 *
 * Ownership: struct ht_detect owns everything it points to; release it
 * with ht_detect_release().
 */
#ifndef HT_RUNNERS_DETECT_H
#define HT_RUNNERS_DETECT_H

#include <stddef.h>

#include <jansson.h>

/* The kinds of suite, strongest evidence first when several are found. */
enum ht_suite_kind {
	HT_SUITE_PLAYWRIGHT,
	HT_SUITE_PYTEST,
	HT_SUITE_GO,
	HT_SUITE_CARGO,
	HT_SUITE_JEST,
	HT_SUITE_VITEST,
	HT_SUITE_MOCHA,
	HT_SUITE_TAP,
	HT_SUITE_SHELL,
	HT_SUITE_MAKE,
	HT_SUITE_NKINDS
};

struct ht_suite {
	int found;          /* 1 when the project has this kind of suite */
	int score;          /* how strong the evidence is: files that say so */
	json_t *config;     /* the config members it needs: {"runner": ..., "local": ...} */
	json_t *reasons;    /* array of strings: why it was found */
	json_t *notes;      /* array of strings: what was not decided, what to check */
};

struct ht_detect {
	struct ht_suite suite[HT_SUITE_NKINDS];
	int best;           /* the kind proposed, or -1 when none was found */
	long files;         /* files looked at */
};

/* The name of a kind ("pytest", "go", ...), and the kind of a name or -1. */
const char *ht_suite_name(int kind);
int ht_suite_find(const char *name);
/* The names of all kinds, comma-separated, for messages. Static. */
const char *ht_suite_names(void);

/*
 * Looks at the project under root. Returns 0 (d->best is -1 when nothing
 * was found), or -1 after printing when root cannot be read.
 */
int ht_detect(const char *root, struct ht_detect *d);
void ht_detect_release(struct ht_detect *d);

#endif
