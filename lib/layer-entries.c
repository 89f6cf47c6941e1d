/*
 * layer-entries.c: what goes into a layer: the entry list, files, trees
 * (with the ignore rules, and the git revision of a tree), and programs with what they need to start in an
 * image whatever the image's own libraries: their shared libraries, as ldd
 * lists them, and their dynamic loader. Writing the layer is layer.c's
 * job. See include/ht/layer.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ht/diag.h"
#include "ht/layer.h"
#include "ht/proc.h"
#include "ht/util.h"

/* --- the entry list ------------------------------------------------------- */

void ht_layer_list_init(struct ht_layer_list *l)
{
	memset(l, 0, sizeof(*l));
}

void ht_layer_list_release(struct ht_layer_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].src);
		free(l->v[i].link);
	}
	free(l->v);
	ht_layer_list_init(l);
}

static struct ht_layer_entry *push(struct ht_layer_list *l, const char *name, mode_t type)
{
	struct ht_layer_entry *e;

	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->v = ht_xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	e = &l->v[l->n++];
	memset(e, 0, sizeof(*e));
	while (*name == '/')
		name++;
	e->name = ht_xstrdup(name);
	while (*e->name && e->name[strlen(e->name) - 1] == '/')
		e->name[strlen(e->name) - 1] = '\0';
	e->type = type;
	e->mode = type == S_IFLNK ? 0777 : 0755;
	return e;
}

void ht_layer_add_dir(struct ht_layer_list *l, const char *name)
{
	push(l, name, S_IFDIR);
}

static void add_regular(struct ht_layer_list *l, const char *name, const char *src,
			const struct stat *st, int exec)
{
	struct ht_layer_entry *e = push(l, name, S_IFREG);

	e->src = ht_xstrdup(src);
	e->st = *st;
	e->size = (int64_t)st->st_size;
	if (exec < 0)
		exec = (st->st_mode & 0111) != 0;
	e->mode = exec ? 0755 : 0644;
}

int ht_layer_add_file(struct ht_layer_list *l, const char *name, const char *src, int exec)
{
	struct stat st;

	if (stat(src, &st) < 0)
		return ht_error("cannot stat '%s': %s", src, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return ht_error("'%s' is not a regular file", src);
	add_regular(l, name, src, &st, exec);
	return 0;
}

static int walk(struct ht_layer_list *l, const char *prefix, const char *dir, const char *rel,
		const struct ht_ignore *ig, long *count)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int rc = 0;

	if (!d)
		return ht_error("cannot open '%s': %s", dir, strerror(errno));
	while ((de = readdir(d)) && rc == 0) {
		char *path, *r, *name;
		struct stat st;
		int excluded;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		path = ht_path_join(dir, de->d_name);
		r = *rel ? ht_xasprintf("%s/%s", rel, de->d_name) : ht_xstrdup(de->d_name);
		name = *prefix ? ht_xasprintf("%s/%s", prefix, r) : ht_xstrdup(r);
		if (lstat(path, &st) < 0) {
			rc = ht_error("cannot stat '%s': %s", path, strerror(errno));
			goto next;
		}
		excluded = ig && ht_ignore_match(ig, r);
		if (S_ISDIR(st.st_mode)) {
			if (!excluded) {
				ht_layer_add_dir(l, name);
				(*count)++;
			}
			if (!excluded || ht_ignore_descend(ig, r))
				rc = walk(l, prefix, path, r, ig, count);
		} else if (excluded) {
			/* left out */
		} else if (S_ISREG(st.st_mode)) {
			add_regular(l, name, path, &st, -1);
			(*count)++;
		} else if (S_ISLNK(st.st_mode)) {
			char target[4096];
			ssize_t n = readlink(path, target, sizeof(target) - 1);

			if (n < 0) {
				rc = ht_error("cannot read link '%s': %s", path, strerror(errno));
				goto next;
			}
			target[n] = '\0';
			push(l, name, S_IFLNK)->link = ht_xstrdup(target);
			(*count)++;
		} else {
			ht_warning("'%s' is not a file, directory or symlink: left out", path);
		}
next:
		free(path);
		free(r);
		free(name);
	}
	closedir(d);
	return rc;
}

int ht_layer_add_tree(struct ht_layer_list *l, const char *prefix, const char *root,
		      const struct ht_ignore *ig, long *count)
{
	long n = 0;
	int r;

	while (*prefix == '/')
		prefix++;
	if (*prefix)
		ht_layer_add_dir(l, prefix);
	r = walk(l, prefix, root, "", ig, &n);
	if (count)
		*count = n;
	return r;
}

/* --- leaving a directory out ------------------------------------------------ */

void ht_layer_leave_out(struct ht_ignore *ig, const char *root, const char *dir)
{
	char *r = realpath(root, NULL), *d = realpath(dir, NULL), *pat, *q;
	const char *rel;
	size_t n;

	if (r && d && (n = strlen(r)) && !strncmp(d, r, n) && (d[n] == '/' || (n == 1 && d[1]))) {
		rel = d + n + (n > 1);
		/* A leading '/' keeps a '!' or '#' literal; special
		 * characters are escaped. */
		pat = q = ht_xcalloc(2 * strlen(rel) + 2, 1);
		*q++ = '/';
		for (; *rel; rel++) {
			if (strchr("*?[]\\", *rel))
				*q++ = '\\';
			*q++ = *rel;
		}
		ht_ignore_add(ig, pat);
		free(pat);
	}
	free(r);
	free(d);
}

/* --- revision --------------------------------------------------------------- */

char *ht_layer_tree_revision(const char *root)
{
	char *gitdir = ht_path_join(root, ".git");
	char a0[] = "git", a1[] = "-C", a3[] = "rev-parse", a4[] = "HEAD";
	char *argv[] = { a0, a1, (char *)root, a3, a4, NULL };
	struct ht_proc p;
	char *out = NULL;
	int fd;

	if (access(gitdir, F_OK) < 0) {
		free(gitdir);
		return NULL;
	}
	free(gitdir);
	ht_proc_init(&p, argv);
	fd = open("/dev/null", O_WRONLY);
	p.stderr_fd = fd;
	p.deadline_ms = ht_now_ms() + 10000;
	if (ht_proc_capture(&p, 4096, &out) < 0 || !p.exited || p.exit_code != 0) {
		free(out);
		out = NULL;
	} else {
		out[strcspn(out, "\r\n")] = '\0';
		if (!*out) {
			free(out);
			out = NULL;
		}
	}
	if (fd >= 0)
		close(fd);
	return out;
}

/* --- programs --------------------------------------------------------------- */

/*
 * Adds one line of ldd's output: "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6
 * (0x...)" as LIBDIR/libc.so.6 (named by its soname, the name the loader
 * looks for), "/lib64/ld-linux-x86-64.so.2 (0x...)" as the loader (its path
 * in the image replaces *loader). Lines without a path (linux-vdso.so.1)
 * add nothing. line is modified.
 */
static int add_ldd_line(struct ht_layer_list *l, const char *libdir, const char *path,
			char *line, char **loader)
{
	char *arrow = strstr(line, "=> "), *file, *end, *base, *name;
	int rc;

	while (*line == ' ' || *line == '\t')
		line++;
	if (strstr(line, "=> not found"))
		return ht_error("'%s' needs a library that is not found: %s", path, line);
	file = arrow ? arrow + 3 : line;
	if (*file != '/')
		return 0;
	end = strstr(file, " (");
	if (end)
		*end = '\0';
	if (arrow) {
		arrow[0] = '\0';
		end = line + strlen(line);
		while (end > line && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		base = strrchr(line, '/') ? strrchr(line, '/') + 1 : line;
		name = ht_xasprintf("%s/%s", libdir, base);
		rc = ht_layer_add_file(l, name, file, 0);
	} else {
		base = strrchr(file, '/') + 1;
		name = ht_xasprintf("%s/%s", libdir, base);
		rc = ht_layer_add_file(l, name, file, 1);
		free(*loader);
		*loader = ht_xasprintf("/%s", name);
	}
	free(name);
	return rc;
}

int ht_layer_add_program(struct ht_layer_list *l, const char *name, const char *path,
			 const char *libdir, char **loader)
{
	char ldd[] = "ldd";
	char *argv[] = { ldd, (char *)path, NULL };
	struct ht_proc p;
	char *out = NULL, *line, *save = NULL;
	int rc = 0;

	*loader = NULL;
	if (ht_layer_add_file(l, name, path, 1) < 0)
		return -1;
	ht_proc_init(&p, argv);
	p.deadline_ms = ht_now_ms() + 30000;
	if (ht_proc_capture(&p, 0, &out) < 0)
		return -1;
	if (!p.exited || p.exit_code != 0 || strstr(out, "not a dynamic executable") ||
	    strstr(out, "statically linked")) {
		free(out);
		return 0; /* a static program needs nothing else */
	}
	for (line = strtok_r(out, "\n", &save); line && rc == 0; line = strtok_r(NULL, "\n", &save))
		rc = add_ldd_line(l, libdir, path, line, loader);
	free(out);
	if (rc == 0 && !*loader)
		rc = ht_error("cannot find the dynamic loader of '%s' in what ldd says", path);
	if (rc < 0) {
		free(*loader);
		*loader = NULL;
	}
	return rc;
}
