/*
 * Unit tests of .dockerignore-style matching (lib/ignore.c).
 */
#include <stdlib.h>

#include "ht/ht.h"
#include "ht/ignore.h"
#include "tap.h"

static struct ht_ignore ig;

static void set(const char *const *lines)
{
	ht_ignore_release(&ig);
	while (*lines)
		ht_ignore_add(&ig, *lines++);
}

int main(void)
{
	static const char *const basic[] = { "# comment", "", "*.log", "/build/", "./tmp", "docs/*.md", NULL };
	static const char *const stars[] = { "**/*.pyc", "a/**/z", NULL };
	static const char *const neg[] = { "logs", "!logs/keep.txt", "*.md", "!README.md", NULL };
	static const char *const all[] = { "*", "!src", NULL };
	static const char *const cls[] = { "file?.[ch]", "\\#literal", NULL };

	ht_ignore_init(&ig);
	set(basic);
	is_int(ig.n, 4, "comments and blank lines skipped");
	ok(ht_ignore_match(&ig, "x.log"), "*.log at the top");
	ok(!ht_ignore_match(&ig, "sub/x.log"), "*.log is not recursive (as in Docker)");
	ok(ht_ignore_match(&ig, "build"), "/build/ matches the directory");
	ok(ht_ignore_match(&ig, "build/out/a.o"), "and everything under it");
	ok(ht_ignore_match(&ig, "tmp/x"), "./tmp is cleaned");
	ok(ht_ignore_match(&ig, "docs/a.md"), "docs/*.md");
	ok(!ht_ignore_match(&ig, "docs/sub/a.md"), "* stays in one component");
	ok(!ht_ignore_match(&ig, "src/main.c"), "others kept");

	set(stars);
	ok(ht_ignore_match(&ig, "x.pyc"), "**/ matches zero components");
	ok(ht_ignore_match(&ig, "a/b/c/x.pyc"), "**/ matches many components");
	ok(ht_ignore_match(&ig, "a/z") && ht_ignore_match(&ig, "a/b/c/z"), "a/**/z");
	ok(!ht_ignore_match(&ig, "b/z"), "a/**/z needs a");

	set(neg);
	ok(ht_ignore_match(&ig, "logs/a.txt"), "excluded directory");
	ok(!ht_ignore_match(&ig, "logs/keep.txt"), "! takes a file back");
	ok(ht_ignore_descend(&ig, "logs"), "descend into logs for the exception");
	ok(!ht_ignore_descend(&ig, "other"), "no need to descend elsewhere");
	ok(ht_ignore_match(&ig, "x.md") && !ht_ignore_match(&ig, "README.md"), "last match wins");

	set(all);
	ok(ht_ignore_match(&ig, "anything/deep"), "* excludes everything");
	ok(!ht_ignore_match(&ig, "src/a/b.c"), "but !src takes src back");

	set(cls);
	ok(ht_ignore_match(&ig, "file1.c") && !ht_ignore_match(&ig, "file12.c"), "? and classes");
	ok(ht_ignore_match(&ig, "#literal"), "escaped #");

	ht_ignore_release(&ig);
	return tap_done();
}
