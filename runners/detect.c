/*
 * detect.c: what test suite a project holds (runners/detect.h).
 *
 * One walk over the project (hidden directories, node_modules, vendor,
 * build and virtualenv directories left out, 6 levels deep at most)
 * collects test files by their names; the framework's own files at the
 * root (pytest.ini, go.mod, package.json, ...) say which framework runs
 * them. Each kind found gets the runner section docs/runner-command.md's
 * recipes give for it, filled in with the globs that match this project.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ht/config.h"
#include "ht/diag.h"
#include "ht/runner.h"
#include "ht/util.h"
#include "runners/detect.h"

#define MAX_DEPTH 6
#define MAX_FILES 200000
#define MAX_GLOBS 12
#define PL(n) ((n) == 1 ? "" : "s")

static const char *const kind_names[HT_SUITE_NKINDS] = {
	"playwright", "pytest", "go", "cargo", "jest", "vitest", "mocha", "tap", "shell", "make",
};

const char *ht_suite_name(int kind)
{
	return kind >= 0 && kind < HT_SUITE_NKINDS ? kind_names[kind] : "?";
}

int ht_suite_find(const char *name)
{
	int k;

	for (k = 0; k < HT_SUITE_NKINDS; k++)
		if (!strcmp(kind_names[k], name))
			return k;
	return -1;
}

const char *ht_suite_names(void)
{
	return "playwright, pytest, go, cargo, jest, vitest, mocha, tap, shell, make";
}

/* What the walk collects: counts, and globs as the keys of objects
 * (glob -> number of files it stands for). */
struct scan {
	const char *root;
	long files;
	int py, go, js, tap, sh;
	int sh_git;              /* t/tNNNN-*.sh, git's style */
	json_t *js_globs, *mocha_globs, *tap_globs, *sh_globs, *sh_dirs;
};

static int skip_dir(const char *name)
{
	static const char *const skip[] = {
		"node_modules", "vendor", "target", "build", "dist", "__pycache__", "venv", "env",
		"site-packages", "_build", "bower_components", "coverage", NULL,
	};
	int i;

	if (name[0] == '.')
		return 1;
	for (i = 0; skip[i]; i++)
		if (!strcmp(name, skip[i]))
			return 1;
	return 0;
}

static void count_glob(json_t *set, const char *glob)
{
	json_t *n = json_object_get(set, glob);

	json_object_set_new(set, glob, json_integer(n ? json_integer_value(n) + 1 : 1));
}

static int is_js_ext(const char *ext)
{
	static const char *const exts[] = { "js", "ts", "jsx", "tsx", "mjs", "cjs", "mts", "cts", NULL };
	int i;

	for (i = 0; exts[i]; i++)
		if (!strcmp(ext, exts[i]))
			return 1;
	return 0;
}

/* "a/b/c" -> "a" (a new string), or NULL for a file at the root. */
static char *top_dir(const char *rel)
{
	const char *s = strchr(rel, '/');

	if (!s)
		return NULL;
	return strndup(rel, (size_t)(s - rel));
}

/* The glob that stands for files named like base under rel's top
 * directory: TOP, any directories below it, PATTERN; or PATTERN at the root. */
static char *under_top(const char *rel, const char *pattern)
{
	char *top = top_dir(rel), *g;

	g = top ? ht_xasprintf("%s/**/%s", top, pattern) : ht_xstrdup(pattern);
	free(top);
	return g;
}

static void see_file(struct scan *s, const char *rel, const char *dir, const char *base)
{
	const char *ext = strrchr(base, '.');
	const char *dbase = strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir;
	char *g;

	if (!ext)
		return;
	ext++;
	if (!strcmp(ext, "py") && (!fnmatch("test_*.py", base, 0) || !fnmatch("*_test.py", base, 0))) {
		s->py++;
	} else if (!strcmp(ext, "go") && ht_ends_with(base, "_test.go")) {
		s->go++;
	} else if (is_js_ext(ext)) {
		const char *mark = strstr(base, ".test.") ? strstr(base, ".test.") : strstr(base, ".spec.");
		int in_tests = !strcmp(dbase, "__tests__") || strstr(rel, "/__tests__/") != NULL;

		if (mark || in_tests) {
			s->js++;
			if (mark) {
				char *pat = ht_xasprintf("*%s", mark);

				g = under_top(rel, pat);
				free(pat);
			} else if (!strncmp(rel, "__tests__/", 10)) {
				g = ht_xasprintf("__tests__/**/*.%s", ext);
			} else {
				char *top = top_dir(rel);

				g = ht_xasprintf("%s/**/__tests__/**/*.%s", top, ext);
				free(top);
			}
			count_glob(s->js_globs, g);
			free(g);
		}
		/* mocha's default: the files of test/, not below it */
		if (!strcmp(dir, "test") && (!strcmp(ext, "js") || !strcmp(ext, "cjs") || !strcmp(ext, "mjs"))) {
			g = ht_xasprintf("test/*.%s", ext);
			count_glob(s->mocha_globs, g);
			free(g);
		}
	} else if (!strcmp(ext, "t")) {
		s->tap++;
		g = ht_xasprintf("%s/*.t", dir[0] ? dir : ".");
		count_glob(s->tap_globs, dir[0] ? g : "*.t");
		free(g);
	} else if (!strcmp(ext, "sh") && (!strcmp(dbase, "t") || !strcmp(dbase, "test") || !strcmp(dbase, "tests"))) {
		const char *pat = NULL;

		if (strstr(base, "lib") || strstr(base, "helper") || strstr(base, "common") || strstr(base, "setup"))
			pat = NULL; /* test-lib.sh, test_helper.sh: not tests */
		else if (!fnmatch("t[0-9]*.sh", base, 0))
			pat = "t[0-9]*.sh";
		else if (!fnmatch("test*.sh", base, 0))
			pat = "test*.sh";
		else if (!fnmatch("*[_-]test.sh", base, 0))
			pat = "*test.sh";
		s->sh++;
		count_glob(s->sh_dirs, dir);
		if (!strcmp(dir, "t") && !fnmatch("t[0-9][0-9][0-9][0-9]-*.sh", base, 0))
			s->sh_git++;
		if (pat) {
			g = ht_xasprintf("%s/%s", dir, pat);
			count_glob(s->sh_globs, g);
			free(g);
		}
	}
}

/* Walks dir (relative to the root, "" for the root itself). */
static void walk(struct scan *s, const char *dir, int depth)
{
	char *path = dir[0] ? ht_path_join(s->root, dir) : ht_xstrdup(s->root);
	DIR *d = opendir(path);
	struct dirent *e;

	free(path);
	if (!d)
		return;
	while ((e = readdir(d)) && s->files < MAX_FILES) {
		char *rel;
		struct stat st;
		int fd = dirfd(d);

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		rel = dir[0] ? ht_xasprintf("%s/%s", dir, e->d_name) : ht_xstrdup(e->d_name);
		if (S_ISDIR(st.st_mode)) {
			if (depth < MAX_DEPTH && !skip_dir(e->d_name))
				walk(s, rel, depth + 1);
		} else if (S_ISREG(st.st_mode)) {
			s->files++;
			see_file(s, rel, dir, e->d_name);
		}
		free(rel);
	}
	closedir(d);
}

/* --- the root's own files --------------------------------------------------- */

static char *root_file(const char *root, const char *name, size_t max)
{
	char *p = ht_path_join(root, name), *text = NULL;
	size_t len;

	if (ht_read_file(p, max, &text, &len) < 0)
		text = NULL;
	free(p);
	return text;
}

static int root_has(const char *root, const char *name)
{
	char *p = ht_path_join(root, name);
	struct stat st;
	int ok = stat(p, &st) == 0;

	free(p);
	return ok;
}

/* The first of names[] that exists at the root, or NULL. */
static const char *root_first(const char *root, const char *const *names)
{
	int i;

	for (i = 0; names[i]; i++)
		if (root_has(root, names[i]))
			return names[i];
	return NULL;
}

/* Whether the root's file name holds the line start (at a line's start). */
static int file_has_line(const char *root, const char *name, const char *start)
{
	char *text = root_file(root, name, 4 << 20), *p;
	int found = 0;
	size_t n = strlen(start);

	for (p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!strncmp(p, start, n)) {
			found = 1;
			break;
		}
	}
	free(text);
	return found;
}

static void reason(struct ht_suite *s, const char *fmt, ...) HT_PRINTF(2, 3);
static void reason(struct ht_suite *s, const char *fmt, ...)
{
	va_list ap;
	char buf[512];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	json_array_append_new(s->reasons, json_string(buf));
}

static void note(struct ht_suite *s, const char *fmt, ...) HT_PRINTF(2, 3);
static void note(struct ht_suite *s, const char *fmt, ...)
{
	va_list ap;
	char buf[512];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	json_array_append_new(s->notes, json_string(buf));
}

/* The globs of a set, most files first, at most MAX_GLOBS. */
static json_t *globs_of(json_t *set)
{
	json_t *out = json_array(), *v;
	const char *k;
	size_t n = json_object_size(set), i;

	for (i = 0; i < n && i < MAX_GLOBS; i++) {
		const char *best = NULL;
		long long most = 0;

		json_object_foreach(set, k, v) {
			if (json_integer_value(v) > most) {
				most = json_integer_value(v);
				best = k;
			}
		}
		if (!best)
			break;
		json_array_append_new(out, json_string(best));
		json_object_set_new(set, best, json_integer(0));
	}
	return out;
}

static json_t *runner_of(struct ht_suite *s)
{
	json_t *r = json_object_get(s->config, "runner");

	if (!r) {
		r = json_object();
		json_object_set_new(s->config, "runner", r);
	}
	return r;
}

static void set_env(struct ht_suite *s, const char *name, const char *value)
{
	json_t *r = runner_of(s), *env = json_object_get(r, "env");

	if (!env) {
		env = json_object();
		json_object_set_new(r, "env", env);
	}
	json_object_set_new(env, name, json_string(value));
}

/*
 * Tests run with the tests' PATH (HT_TEST_PATH); a program only found
 * elsewhere (~/.cargo/bin, a pyenv) gets its directory added through
 * runner.env.PATH. Notes when it is not found at all.
 */
static void need_program(struct ht_suite *s, const char *prog)
{
	char *inpath = ht_which_in(HT_TEST_PATH, prog), *anywhere;

	if (inpath) {
		free(inpath);
		return;
	}
	anywhere = ht_which(prog);
	if (anywhere) {
		char *slash = strrchr(anywhere, '/'), *path;

		*slash = '\0';
		path = ht_xasprintf("%s:%s", HT_TEST_PATH, anywhere);
		set_env(s, "PATH", path);
		note(s, "'%s' is in %s, not on the tests' PATH: runner.env.PATH adds it", prog, anywhere);
		free(path);
	} else {
		note(s, "'%s' is not installed here: the listing needs it, and so does the image", prog);
	}
	free(anywhere);
}

/* The project directory made writable per test, where the provider has it. */
static void writable(struct ht_suite *s, const char *why)
{
	if (ht_config_key_find("local.writable_task")) {
		json_t *local = json_object();

		json_object_set_new(local, "writable_task", json_true());
		json_object_set_new(s->config, "local", local);
		note(s, "%s: local.writable_task gives each test a private writable copy of the project", why);
	} else {
		note(s, "%s, and the project is read-only in the sandbox", why);
	}
}

static void suite_init(struct ht_suite *s)
{
	memset(s, 0, sizeof(*s));
	s->config = json_object();
	s->reasons = json_array();
	s->notes = json_array();
}

/* --- each kind --------------------------------------------------------------- */

static json_t *package_deps(const char *root, json_t **scripts)
{
	char *p = ht_path_join(root, "package.json");
	json_t *pkg = json_load_file(p, 0, NULL), *deps = json_object(), *v;
	static const char *const sections[] = { "dependencies", "devDependencies", "peerDependencies", NULL };
	const char *k;
	int i;

	free(p);
	*scripts = NULL;
	if (!json_is_object(pkg)) {
		json_decref(pkg);
		json_decref(deps);
		return NULL;
	}
	for (i = 0; sections[i]; i++)
		json_object_foreach(json_object_get(pkg, sections[i]), k, v)
			json_object_set(deps, k, v);
	*scripts = json_incref(json_object_get(json_object_get(pkg, "scripts"), "test"));
	json_decref(pkg);
	return deps;
}

static void detect_python(const char *root, struct scan *sc, struct ht_suite *s)
{
	static const char *const cfgs[] = { "pytest.ini", "conftest.py", NULL };
	const char *f = root_first(root, cfgs);

	if (f) {
		reason(s, "%s at the root", f);
		s->score += 100;
	}
	if (file_has_line(root, "pyproject.toml", "[tool.pytest.ini_options]")) {
		reason(s, "pyproject.toml has [tool.pytest.ini_options]");
		s->score += 100;
	}
	if (file_has_line(root, "setup.cfg", "[tool:pytest]")) {
		reason(s, "setup.cfg has [tool:pytest]");
		s->score += 100;
	}
	if (file_has_line(root, "tox.ini", "[pytest]")) {
		reason(s, "tox.ini has [pytest]");
		s->score += 100;
	}
	if (sc->py) {
		reason(s, "%d test file%s named test_*.py or *_test.py", sc->py, PL(sc->py));
		s->score += sc->py;
	}
	if (!s->score)
		return;
	s->found = 1;
	json_object_set_new(runner_of(s), "name", json_string("pytest"));
	if (root_has(root, ".venv/bin/python") || root_has(root, "venv/bin/python"))
		note(s, "a virtualenv is in the project: if pytest is installed only there, set runner.python to its "
			"interpreter (the tests' PATH does not have it)");
	note(s, "pytest runs one node id per invocation; \"granularity\": \"file\" starts fewer interpreters");
}

static void detect_js(const char *root, struct scan *sc, struct ht_detect *d)
{
	static const char *const pw_cfgs[] = { "playwright.config.ts", "playwright.config.js", "playwright.config.mjs",
					       "playwright.config.cjs", "playwright.config.mts", "playwright.config.cts",
					       NULL };
	static const char *const jest_cfgs[] = { "jest.config.js", "jest.config.ts", "jest.config.mjs",
						 "jest.config.cjs", "jest.config.json", NULL };
	static const char *const vitest_cfgs[] = { "vitest.config.ts", "vitest.config.js", "vitest.config.mts",
						   "vitest.config.mjs", "vite.config.ts", "vite.config.js", NULL };
	static const char *const mocha_cfgs[] = { ".mocharc.js", ".mocharc.json", ".mocharc.yml", ".mocharc.yaml",
						  ".mocharc.cjs", ".mocharc.jsonc", NULL };
	struct ht_suite *pw = &d->suite[HT_SUITE_PLAYWRIGHT], *jest = &d->suite[HT_SUITE_JEST];
	struct ht_suite *vt = &d->suite[HT_SUITE_VITEST], *mocha = &d->suite[HT_SUITE_MOCHA];
	json_t *scripts, *deps = package_deps(root, &scripts);
	const char *test_script = json_string_value(scripts), *f;
	int has_modules = root_has(root, "node_modules");

	if ((f = root_first(root, pw_cfgs))) {
		reason(pw, "%s at the root", f);
		pw->score += 1000;
	}
	if (deps && json_object_get(deps, "@playwright/test")) {
		reason(pw, "package.json depends on @playwright/test");
		pw->score += 100;
	}
	if (pw->score) {
		pw->found = 1;
		if (ht_runner_find("playwright")) {
			json_object_set_new(runner_of(pw), "name", json_string("playwright"));
		} else {
			json_object_set_new(runner_of(pw), "list",
					    json_string("npx playwright test --list --reporter=line"));
			json_object_set_new(runner_of(pw), "list_match", json_string(" › "));
			json_object_set_new(runner_of(pw), "run", json_string("npx playwright test --workers 1 {name}"));
			note(pw, "this build has no playwright plugin: the command runner runs one listed line each");
		}
		note(pw, "the browser: Debian's chromium on the local provider, @sparticuz/chromium in Lambda "
			 "(docs/runner-playwright.md)");
	}

	if ((f = root_first(root, jest_cfgs))) {
		reason(jest, "%s at the root", f);
		jest->score += 100;
	}
	if (deps && json_object_get(deps, "jest")) {
		reason(jest, "package.json depends on jest");
		jest->score += 100;
	}
	if (test_script && strstr(test_script, "jest")) {
		reason(jest, "package.json's test script runs jest");
		jest->score += 10;
	}
	if ((f = root_first(root, vitest_cfgs)) && (!strncmp(f, "vitest", 6) || (deps && json_object_get(deps, "vitest")))) {
		reason(vt, "%s at the root", f);
		vt->score += 100;
	}
	if (deps && json_object_get(deps, "vitest")) {
		reason(vt, "package.json depends on vitest");
		vt->score += 100;
	}
	if ((f = root_first(root, mocha_cfgs))) {
		reason(mocha, "%s at the root", f);
		mocha->score += 100;
	}
	if (deps && json_object_get(deps, "mocha")) {
		reason(mocha, "package.json depends on mocha");
		mocha->score += 100;
	}
	if (jest->score || vt->score) {
		struct ht_suite *s = jest->score >= vt->score ? jest : vt;
		json_t *r = runner_of(s);

		if (!sc->js) {
			note(s, "no test files (*.test.js, *.spec.ts, __tests__/) found: set runner.tests");
			json_object_set_new(r, "tests", json_pack("[s]", "**/*.test.js"));
		} else {
			reason(s, "%d test file%s (*.test.*, *.spec.*, __tests__/)", sc->js, PL(sc->js));
			json_object_set_new(r, "tests", globs_of(sc->js_globs));
		}
		s->found = 1;
		json_object_set_new(r, "shell", json_true());
		if (s == jest && deps && json_object_get(deps, "jest-junit")) {
			json_object_set_new(r, "run", json_string("JEST_JUNIT_OUTPUT_FILE={out}/junit.xml "
								  "node_modules/.bin/jest --ci --cacheDirectory=/tmp/jest "
								  "--reporters=default --reporters=jest-junit --runTestsByPath {file}"));
			json_object_set_new(r, "outcome", json_string("junit"));
			json_object_set_new(r, "junit", json_string("{out}/junit.xml"));
		} else if (s == jest) {
			json_object_set_new(r, "run", json_string("node_modules/.bin/jest --ci --cacheDirectory=/tmp/jest "
								  "--runTestsByPath {file}"));
			note(s, "add jest-junit to see each test of a file in the results (docs/runner-command.md)");
		} else {
			json_object_set_new(r, "run", json_string("node_modules/.bin/vitest run --reporter=default "
								  "--reporter=junit --outputFile.junit={out}/junit.xml {file}"));
			json_object_set_new(r, "outcome", json_string("junit"));
			json_object_set_new(r, "junit", json_string("{out}/junit.xml"));
			writable(s, "vitest writes its cache under node_modules/.vite");
		}
		note(s, "one test file per invocation");
	}
	if (mocha->score) {
		json_t *r = runner_of(mocha), *g = globs_of(sc->mocha_globs);

		mocha->found = 1;
		if (!json_array_size(g)) {
			note(mocha, "no test/*.js found (mocha's default spec): set runner.tests");
			json_array_append_new(g, json_string("test/*.js"));
		}
		json_object_set_new(r, "tests", g);
		json_object_set_new(r, "run", json_string("node_modules/.bin/mocha --reporter tap {file}"));
		json_object_set_new(r, "outcome", json_string("tap"));
		note(mocha, "one test file per invocation, mocha's TAP reporter giving each test's outcome");
	}
	if ((jest->found || vt->found || mocha->found) && !has_modules) {
		struct ht_suite *s = jest->found ? jest : vt->found ? vt : mocha;

		note(s, "node_modules is missing: run npm ci first (ht-build puts node_modules in the image)");
	}
	json_decref(deps);
	json_decref(scripts);
}

static void detect_go(const char *root, struct scan *sc, struct ht_suite *s)
{
	char *cache;
	const char *gopath = getenv("GOPATH"), *home = getenv("HOME");

	if (!root_has(root, "go.mod"))
		return;
	s->found = 1;
	s->score = 100 + sc->go;
	reason(s, "go.mod at the root, %d *_test.go file%s", sc->go, PL(sc->go));
	json_object_set_new(runner_of(s), "list",
			    json_string("go list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}}{{end}}' ./..."));
	json_object_set_new(runner_of(s), "run", json_string("go test -count=1 -v {name}"));
	set_env(s, "GOCACHE", "/tmp/go-cache");
	set_env(s, "GOFLAGS", "-buildvcs=false");
	set_env(s, "GOTOOLCHAIN", "local");
	if (getenv("GOMODCACHE") && getenv("GOMODCACHE")[0])
		cache = ht_xstrdup(getenv("GOMODCACHE"));
	else if (gopath && gopath[0])
		cache = ht_xasprintf("%s/pkg/mod", gopath);
	else
		cache = ht_xasprintf("%s/go/pkg/mod", home && home[0] ? home : "/root");
	set_env(s, "GOMODCACHE", cache);
	note(s, "one package per invocation (go test's own unit); the module cache is read from %s", cache);
	free(cache);
	need_program(s, "go");
}

static void detect_cargo(const char *root, struct ht_suite *s)
{
	const char *home = getenv("CARGO_HOME");
	char *cargo_home;

	if (!root_has(root, "Cargo.toml"))
		return;
	s->found = 1;
	s->score = 100;
	reason(s, "Cargo.toml at the root");
	json_object_set_new(runner_of(s), "shell", json_true());
	json_object_set_new(runner_of(s), "list", json_string("cargo test --offline -q -- --list --format terse "
							      "2>/dev/null | sed -n 's/: test$//p'"));
	json_object_set_new(runner_of(s), "run", json_string("cargo test --offline -q -- --exact {name}"));
	cargo_home = home && home[0] ? ht_xstrdup(home) :
		     ht_xasprintf("%s/.cargo", getenv("HOME") && getenv("HOME")[0] ? getenv("HOME") : "/root");
	set_env(s, "CARGO_HOME", cargo_home);
	free(cargo_home);
	need_program(s, "cargo");
	writable(s, "cargo test writes target/ and its lock");
	note(s, "one test per invocation; the listing builds the tests on this machine first");
}

static void detect_tap(const char *root, struct scan *sc, struct ht_suite *s)
{
	if (!sc->tap)
		return;
	s->found = 1;
	s->score = sc->tap;
	reason(s, "%d TAP test script%s (*.t), as prove runs them", sc->tap, PL(sc->tap));
	json_object_set_new(runner_of(s), "tests", globs_of(sc->tap_globs));
	json_object_set_new(runner_of(s), "run",
			    json_string(root_has(root, "lib") ? "perl -Ilib {file}" : "perl {file}"));
	json_object_set_new(runner_of(s), "outcome", json_string("tap"));
	note(s, "scripts are run with perl, as prove does; one script per invocation");
}

/*
 * The globs of shell tests: in a test directory whose scripts are named
 * like tests (t0001-x.sh, test-x.sh, x_test.sh), those names, leaving
 * helpers (lib.sh) out; elsewhere every script of the directory.
 */
static json_t *shell_globs(struct scan *sc)
{
	json_t *set = json_object(), *v, *w, *out;
	const char *dir, *g;

	json_object_foreach(sc->sh_dirs, dir, v) {
		size_t n = strlen(dir);
		int named = 0;

		json_object_foreach(sc->sh_globs, g, w) {
			if (!strncmp(g, dir, n) && g[n] == '/' && !strchr(g + n + 1, '/')) {
				json_object_set(set, g, w);
				named = 1;
			}
		}
		if (!named) {
			char *all = ht_xasprintf("%s/*.sh", dir);

			json_object_set(set, all, v);
			free(all);
		}
	}
	out = globs_of(set);
	json_decref(set);
	return out;
}

static void detect_shell(struct scan *sc, struct ht_suite *s)
{
	json_t *r = runner_of(s);

	if (!sc->sh)
		return;
	s->found = 1;
	s->score = sc->sh;
	json_object_set_new(r, "tests", shell_globs(sc));
	if (sc->sh_git * 2 > sc->sh) {
		reason(s, "%d shell test%s in git's style (t/tNNNN-*.sh)", sc->sh_git, PL(sc->sh_git));
		json_object_set_new(r, "cwd", json_string("{dir}"));
		json_object_set_new(r, "run", json_string("sh ./{basename} -v"));
		json_object_set_new(r, "outcome", json_string("tap"));
		note(s, "each script runs from its own directory and prints TAP; a test-lib that wants a built tree "
			"may need local.task_path \"same\"");
	} else {
		reason(s, "%d shell script%s in test directories", sc->sh, PL(sc->sh));
		json_object_set_new(r, "run", json_string("sh {file}"));
		note(s, "a script passes when it exits 0; where scripts are named like tests (t0001-*.sh, test-*.sh), "
			"the others (lib.sh) are left out as helpers: check runner.tests");
	}
}

static void detect_make(const char *root, struct ht_suite *s)
{
	static const char *const makefiles[] = { "GNUmakefile", "makefile", "Makefile", NULL };
	const char *mk = root_first(root, makefiles);

	if (!mk || !file_has_line(root, mk, "check:"))
		return;
	s->found = 1;
	s->score = 1;
	reason(s, "%s has a check target", mk);
	json_object_set_new(runner_of(s), "list", json_string("echo check"));
	json_object_set_new(runner_of(s), "run", json_string("make {name}"));
	writable(s, "make writes its objects into the project");
	note(s, "could not split make check into its tests: it runs whole, in one invocation; name the test "
		"scripts in runner.tests to run them apart");
}

int ht_detect(const char *root, struct ht_detect *d)
{
	struct scan sc;
	int k, weak = -1;
	DIR *probe = opendir(root);

	memset(d, 0, sizeof(*d));
	d->best = -1;
	if (!probe)
		return ht_error("cannot read '%s': %s", root, strerror(errno));
	closedir(probe);
	for (k = 0; k < HT_SUITE_NKINDS; k++)
		suite_init(&d->suite[k]);
	memset(&sc, 0, sizeof(sc));
	sc.root = root;
	sc.js_globs = json_object();
	sc.mocha_globs = json_object();
	sc.tap_globs = json_object();
	sc.sh_globs = json_object();
	sc.sh_dirs = json_object();
	walk(&sc, "", 0);
	d->files = sc.files;

	detect_js(root, &sc, d);
	detect_python(root, &sc, &d->suite[HT_SUITE_PYTEST]);
	detect_go(root, &sc, &d->suite[HT_SUITE_GO]);
	detect_cargo(root, &d->suite[HT_SUITE_CARGO]);
	detect_tap(root, &sc, &d->suite[HT_SUITE_TAP]);
	detect_shell(&sc, &d->suite[HT_SUITE_SHELL]);
	detect_make(root, &d->suite[HT_SUITE_MAKE]);

	/* A framework's own file is strong evidence, and the order of the
	 * kinds breaks ties; test files alone are weak, the most files win. */
	for (k = 0; k < HT_SUITE_NKINDS; k++) {
		if (!d->suite[k].found)
			continue;
		if (d->suite[k].score >= 100) {
			d->best = k;
			break;
		}
		if (weak < 0 || d->suite[k].score > d->suite[weak].score)
			weak = k;
	}
	if (d->best < 0)
		d->best = weak;
	json_decref(sc.js_globs);
	json_decref(sc.mocha_globs);
	json_decref(sc.tap_globs);
	json_decref(sc.sh_globs);
	json_decref(sc.sh_dirs);
	return 0;
}

void ht_detect_release(struct ht_detect *d)
{
	int k;

	for (k = 0; k < HT_SUITE_NKINDS; k++) {
		json_decref(d->suite[k].config);
		json_decref(d->suite[k].reasons);
		json_decref(d->suite[k].notes);
	}
	memset(d, 0, sizeof(*d));
	d->best = -1;
}
