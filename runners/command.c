/*
 * command.c: the generic `command` test runner (docs/runner-command.md).
 *
 * Tests are the files matching globs under the project root, or the lines a
 * listing command prints. One test runs by a command template, split into
 * words before its placeholders are replaced, so a value never becomes two
 * arguments; with runner.shell the template goes to /bin/sh -c with every
 * value single-quoted. The outcome is the exit code, TAP on stdout, or a
 * JUnit XML file.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ht/config.h"
#include "ht/diag.h"
#include "ht/exit.h"
#include "ht/jsonl.h"
#include "ht/proc.h"
#include "ht/runner.h"
#include "ht/text.h"
#include "ht/util.h"
#include "runners/command.h"
#include "runners/outcome.h"

#define LIST_MAX_OUTPUT (16u * 1024 * 1024)
#define JUNIT_MAX (32u * 1024 * 1024)
#define TAP_LINE_MAX 8192

/* --- globs ----------------------------------------------------------------- */

static int has_magic(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

static void glob_match(const char *root, const char *rel, const char *name, char **seg, size_t nseg,
		       struct ht_test_list *out);

/*
 * Adds to out every regular file under root/rel matching the segments
 * seg[0..nseg). "**" matches any number of directories (never hidden
 * ones, never through a symbolic link, so no loop).
 */
static void glob_walk(const char *root, const char *rel, char **seg, size_t nseg, struct ht_test_list *out)
{
	char *dir = *rel ? ht_path_join(root, rel) : ht_xstrdup(root);
	DIR *d;
	struct dirent *de;
	struct stat st;

	if (nseg == 0)
		goto done;
	if (strcmp(seg[0], "**") == 0) {
		glob_walk(root, rel, seg + 1, nseg - 1, out);
		d = opendir(dir);
		if (!d)
			goto done;
		while ((de = readdir(d))) {
			char *sub, *full;

			if (de->d_name[0] == '.')
				continue;
			sub = *rel ? ht_path_join(rel, de->d_name) : ht_xstrdup(de->d_name);
			full = ht_path_join(root, sub);
			if (lstat(full, &st) == 0 && S_ISDIR(st.st_mode))
				glob_walk(root, sub, seg, nseg, out);
			free(sub);
			free(full);
		}
		closedir(d);
		goto done;
	}
	if (!has_magic(seg[0])) {
		glob_match(root, rel, seg[0], seg, nseg, out);
		goto done;
	}
	d = opendir(dir);
	if (!d)
		goto done;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fnmatch(seg[0], de->d_name, FNM_PERIOD) == 0)
			glob_match(root, rel, de->d_name, seg, nseg, out);
	}
	closedir(d);
done:
	free(dir);
}

/* name in root/rel matched seg[0]: a test when it is the last segment and
 * a regular file, else a directory to walk on with the rest. */
static void glob_match(const char *root, const char *rel, const char *name, char **seg, size_t nseg,
		       struct ht_test_list *out)
{
	char *sub = *rel ? ht_path_join(rel, name) : ht_xstrdup(name);
	char *full = ht_path_join(root, sub);
	struct stat st;

	if (stat(full, &st) == 0) {
		if (nseg == 1 && S_ISREG(st.st_mode))
			ht_test_list_add(out, sub, sub);
		else if (nseg > 1 && S_ISDIR(st.st_mode))
			glob_walk(root, sub, seg + 1, nseg - 1, out);
	}
	free(sub);
	free(full);
}

/* Lists the files matching one glob pattern into out. */
static void glob_one(const char *root, const char *pattern, struct ht_test_list *out)
{
	char *copy = ht_xstrdup(pattern);
	char **seg = NULL, *s, *save = NULL;
	size_t nseg = 0;

	for (s = strtok_r(copy, "/", &save); s; s = strtok_r(NULL, "/", &save)) {
		if (!strcmp(s, "."))
			continue;
		seg = ht_xrealloc(seg, (nseg + 1) * sizeof(*seg));
		seg[nseg++] = s;
	}
	glob_walk(root, "", seg, nseg, out);
	free(seg);
	free(copy);
}

/* 1 when a component of the pattern is "..": it could leave the root. */
static int leaves_root(const char *pat)
{
	const char *p = pat;

	while (*p) {
		size_t n = strcspn(p, "/");

		if (n == 2 && p[0] == '.' && p[1] == '.')
			return 1;
		p += n;
		p += strspn(p, "/");
	}
	return 0;
}

static int list_globs(const struct ht_config *c, struct ht_test_list *out)
{
	const char *root = c->root ? c->root : ".";
	int i;

	if (ht_command_settings(c)->tests.n == 0)
		return ht_error("no tests: runner.tests is empty and runner.list is not set"), HT_EXIT_NOINPUT;
	for (i = 0; i < ht_command_settings(c)->tests.n; i++) {
		const char *pat = ht_command_settings(c)->tests.v[i];
		size_t before = out->n;

		char key[40];

		snprintf(key, sizeof(key), "runner.tests[%d]", i);
		if (!*pat || *pat == '/' || leaves_root(pat))
			return ht_config_error(c, key, "'%s' must be a path relative to the project root, inside it", pat), HT_EXIT_CONFIG;
		glob_one(root, pat, out);
		if (out->n == before)
			return ht_config_error(c, key, "the glob '%s' matches no file under '%s'", pat, root), HT_EXIT_NOINPUT;
	}
	ht_test_list_sort_unique(out);
	return 0;
}

/* --- a listing command ----------------------------------------------------- */

/* The last bytes of the file fd (at most max), one line, cleaned; new string. */
static char *file_tail(int fd, size_t max)
{
	off_t size = lseek(fd, 0, SEEK_END);
	off_t from = size > (off_t)max ? size - (off_t)max : 0;
	char *buf = ht_xmalloc(max + 1);
	ssize_t n = pread(fd, buf, max, from);
	char *s, *e;

	if (n < 0)
		n = 0;
	buf[n] = '\0';
	ht_utf8_clean(buf, (size_t)n, 0);
	/* Collapse the lines into one, without blanks at either end. */
	for (s = buf; *s; s++)
		if (*s == '\n' || *s == '\r' || *s == '\t')
			*s = ' ';
	for (s = buf; *s == ' '; s++)
		;
	e = s + strlen(s);
	while (e > s && e[-1] == ' ')
		*--e = '\0';
	memmove(buf, s, strlen(s) + 1);
	ht_utf8_clean(buf, strlen(buf), 1);
	return buf;
}

/* Sets "WHAT: LAST LINE" as res's message, the last line of stderr (else
 * stdout, unless it is TAP) telling a person why the test failed. */
static void set_failure_message(struct ht_run_result *res, const struct ht_run_ctx *ctx, const char *what, int tap_stdout)
{
	char *line = ht_runner_last_line(ctx->stderr_path);

	if (!line && !tap_stdout)
		line = ht_runner_last_line(ctx->stdout_path);
	if (line)
		ht_run_result_set_message(res, "%s: %s", what, line);
	else
		ht_run_result_set_message(res, "%s", what);
	free(line);
}

/* 1 when line is valid UTF-8 without control characters, which a JSON
 * record and a file name both carry without loss. */
static int utf8_line_ok(const char *line)
{
	char *clean = ht_utf8_clean(ht_xstrdup(line), strlen(line), 1);
	int ok = strcmp(clean, line) == 0;

	free(clean);
	return ok;
}

static int list_command(const struct ht_config *c, long timeout_ms, struct ht_test_list *out)
{
	const char *root = c->root ? c->root : ".";
	const char *cmd = ht_command_settings(c)->list;
	char **argv = NULL;
	char sh[] = "/bin/sh", dash_c[] = "-c";
	char *sh_argv[4] = { sh, dash_c, NULL, NULL };
	char err[128], *output = NULL, *line, *save = NULL;
	const char *match = ht_command_settings(c)->list_match;
	const char *sub = ht_command_settings(c)->cwd;
	char **envp = NULL, *cwd = NULL;
	regex_t re;
	struct ht_proc p;
	size_t n, lineno = 0;
	FILE *errf;
	int rc = 0;

	if (match) {
		int e = regcomp(&re, match, REG_EXTENDED | REG_NOSUB);

		if (e) {
			char why[160];

			regerror(e, &re, why, sizeof(why));
			return ht_config_error(c, "runner.list_match", "'%s' is not a regular expression: %s", match, why), HT_EXIT_CONFIG;
		}
	}
	if (sub && (*sub == '/' || strchr(sub, '{'))) {
		if (*sub == '/') {
			if (match)
				regfree(&re);
			return ht_config_error(c, "runner.cwd", "'%s' must be a path relative to the project root", sub), HT_EXIT_CONFIG;
		}
		sub = NULL; /* per-test placeholders: the listing runs in the root */
	}
	if (ht_command_settings(c)->shell) {
		sh_argv[2] = (char *)cmd;
	} else {
		argv = ht_split_words(cmd, &n, err, sizeof(err));
		if (!argv)
			return ht_config_error(c, "runner.list", "%s in '%s'", err, cmd), HT_EXIT_CONFIG;
		if (n == 0) {
			ht_strv_free(argv);
			return ht_error("runner.list is empty"), HT_EXIT_CONFIG;
		}
	}
	errf = tmpfile();
	if (!errf) {
		ht_strv_free(argv);
		return ht_error("cannot create a temporary file: %s", strerror(errno)), HT_EXIT_IOERR;
	}
	cwd = sub ? ht_path_join(root, sub) : ht_xstrdup(root);
	envp = ht_runner_list_env(c);
	if (argv) {
		/* The program from the PATH tests get, as they would find it. */
		char *exe = ht_runner_which(envp, argv[0]);

		if (!exe) {
			ht_error("listing command '%s': '%s' is not in the PATH tests get (%s; runner.env may set PATH)", cmd,
				 argv[0], HT_TEST_PATH);
			rc = HT_EXIT_OSERR;
			goto out;
		}
		free(argv[0]);
		argv[0] = exe;
	}
	ht_proc_init(&p, argv ? argv : sh_argv);
	p.cwd = cwd;
	p.envp = envp;
	p.stderr_fd = fileno(errf);
	p.deadline_ms = ht_now_ms() + (timeout_ms > 0 ? timeout_ms : HT_LIST_TIMEOUT_MS);
	p.grace_ms = 1000;
	if (ht_proc_capture(&p, LIST_MAX_OUTPUT, &output) < 0) {
		char *tail = file_tail(fileno(errf), 500);

		ht_error("listing command '%s' failed%s%s", cmd, *tail ? ": " : "", tail);
		free(tail);
		rc = HT_EXIT_OSERR;
		goto out;
	}
	if (p.timed_out || p.signal || p.exit_code != 0) {
		char *tail = file_tail(fileno(errf), 500);

		if (p.timed_out)
			ht_error("listing command '%s' timed out after %.1f s%s%s", cmd, (double)(timeout_ms > 0 ? timeout_ms : HT_LIST_TIMEOUT_MS) / 1000,
				 *tail ? ": " : "", tail);
		else
			ht_error("listing command '%s' failed: %s%s%s", cmd, ht_proc_describe(&p), *tail ? ": " : "", tail);
		free(tail);
		rc = HT_EXIT_OSERR;
		goto out;
	}
	for (line = output; line; line = save) {
		char *nl = strchr(line, '\n'), *e;
		char *full;
		struct stat st;

		save = nl ? nl + 1 : NULL;
		if (nl)
			*nl = '\0';
		lineno++;
		while (*line == ' ' || *line == '\t')
			line++;
		e = line + strlen(line);
		while (e > line && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
			*--e = '\0';
		if (!*line)
			continue;
		if (match && regexec(&re, line, 0, NULL, 0) != 0)
			continue;
		if (!utf8_line_ok(line)) {
			ht_error("listing command '%s': line %zu is not valid UTF-8 text", cmd, lineno);
			rc = HT_EXIT_DATAERR;
			goto out;
		}
		full = ht_path_join(root, line);
		ht_test_list_add(out, line, *line != '/' && stat(full, &st) == 0 && S_ISREG(st.st_mode) ? line : NULL);
		free(full);
	}
	ht_test_list_unique(out);
	if (out->n == 0) {
		ht_error("listing command '%s' printed no tests%s%s%s", cmd, match ? " (no line matches runner.list_match '" : "",
			 match ? match : "", match ? "')" : "");
		rc = HT_EXIT_DATAERR;
	}
out:
	free(output);
	fclose(errf);
	ht_strv_free(argv);
	ht_strv_free(envp);
	free(cwd);
	if (match)
		regfree(&re);
	return rc;
}

static int command_list(const struct ht_config *c, long timeout_ms, struct ht_test_list *out)
{
	if (ht_command_settings(c)->list && *ht_command_settings(c)->list)
		return list_command(c, timeout_ms, out);
	return list_globs(c, out);
}

/* --- planning one test ----------------------------------------------------- */

/* The outcome the config asks for, or NULL when it names none we know. */
static const char *config_outcome(const struct ht_config *c)
{
	const char *o = ht_command_settings(c)->outcome;

	if (!o || !*o)
		return ht_command_settings(c)->junit && *ht_command_settings(c)->junit ? "junit" : "exit";
	if (!strcmp(o, "exit") || !strcmp(o, "tap") || !strcmp(o, "junit"))
		return o;
	return NULL;
}

static int command_plan(const struct ht_config *c, const struct ht_test_entry *t, const char *test_id, json_t **out)
{
	const char *tmpl = ht_command_settings(c)->run && *ht_command_settings(c)->run ? ht_command_settings(c)->run : "sh {file}";
	const char *outcome = config_outcome(c);
	const char *file = t->file ? t->file : t->name;
	const char *slash = strrchr(file, '/');
	char *dir = slash ? strndup(file, (size_t)(slash - file)) : ht_xstrdup(".");
	struct ht_subst_var vars[] = {
		{ "file", file },
		{ "name", t->name },
		{ "id", test_id },
		{ "dir", *dir ? dir : "/" },
		{ "basename", slash ? slash + 1 : file },
	};
	json_t *run, *env;
	int rc = HT_EXIT_CONFIG;

	*out = NULL;
	if (!outcome) {
		free(dir);
		return ht_error("runner.outcome: '%s' is not one of exit, tap, junit", ht_command_settings(c)->outcome), HT_EXIT_CONFIG;
	}
	run = json_object();
	if (ht_command_settings(c)->shell) {
		/* {out} is only known in the function: the runner exports it
		 * as HT_OUTPUT_DIR, which the shell expands. */
		struct ht_subst_var outvar = { "out", "\"$HT_OUTPUT_DIR\"" };
		char *t1 = ht_subst(tmpl, &outvar, 1, 0);
		char *t2 = ht_subst(t1, vars, 5, 1);

		json_object_set_new(run, "shell", json_string(t2));
		free(t1);
		free(t2);
	} else {
		char err[128];
		size_t n, k;
		char **words = ht_split_words(tmpl, &n, err, sizeof(err));
		json_t *argv;

		if (!words) {
			ht_config_error(c, "runner.run", "%s in '%s'", err, tmpl);
			goto fail;
		}
		if (n == 0) {
			ht_strv_free(words);
			ht_error("runner.run is empty");
			goto fail;
		}
		argv = json_array();
		for (k = 0; k < n; k++) {
			char *w = ht_subst(words[k], vars, 5, 0);

			json_array_append_new(argv, json_string(w));
			free(w);
		}
		ht_strv_free(words);
		json_object_set_new(run, "argv", argv);
	}
	json_object_set_new(run, "outcome", json_string(outcome));
	if (!strcmp(outcome, "junit")) {
		const char *jt = ht_command_settings(c)->junit && *ht_command_settings(c)->junit ? ht_command_settings(c)->junit : "{out}/junit.xml";
		char *jp = ht_subst(jt, vars, 5, 0);

		json_object_set_new(run, "junit", json_string(jp));
		free(jp);
	}
	if (ht_command_settings(c)->cwd) {
		char *cwd = ht_subst(ht_command_settings(c)->cwd, vars, 5, 0);

		if (*cwd == '/') {
			ht_config_error(c, "runner.cwd", "'%s' must be a path relative to the project root", cwd);
			free(cwd);
			goto fail;
		}
		json_object_set_new(run, "cwd", json_string(cwd));
		free(cwd);
	}
	if (ht_runner_env_json(c, &env) < 0)
		goto fail;
	if (env)
		json_object_set_new(run, "env", env);
	*out = run;
	free(dir);
	return 0;
fail:
	json_decref(run);
	free(dir);
	return rc;
}

/* --- running one test ------------------------------------------------------ */

static int command_check(json_t *run, char *err, size_t errlen)
{
	json_t *argv = json_object_get(run, "argv");
	const char *outcome = ht_json_str(run, "outcome", "exit");
	size_t i;

	if (!json_is_object(run)) {
		snprintf(err, errlen, "no \"run\" object");
		return -1;
	}
	if (json_is_string(json_object_get(run, "shell"))) {
		/* fine */
	} else if (!json_is_array(argv) || json_array_size(argv) == 0) {
		snprintf(err, errlen, "\"run\" has neither \"argv\" (a non-empty array of strings) nor \"shell\"");
		return -1;
	} else {
		for (i = 0; i < json_array_size(argv); i++) {
			if (!json_is_string(json_array_get(argv, i))) {
				snprintf(err, errlen, "\"run.argv\"[%zu] is not a string", i);
				return -1;
			}
		}
	}
	if (strcmp(outcome, "exit") && strcmp(outcome, "tap") && strcmp(outcome, "junit")) {
		snprintf(err, errlen, "\"run.outcome\" '%.40s' is not one of exit, tap, junit", outcome);
		return -1;
	}
	if (json_object_get(run, "cwd") && (!json_is_string(json_object_get(run, "cwd")) ||
					    ht_json_str(run, "cwd", "")[0] == '/')) {
		snprintf(err, errlen, "\"run.cwd\" is not a relative path");
		return -1;
	}
	return 0;
}

/* Feeds the TAP of the file at path to t, line by line, in bounded memory. */
static void tap_read(struct ht_tap *t, const char *path)
{
	FILE *fp = fopen(path, "r");
	char line[TAP_LINE_MAX];

	if (!fp)
		return;
	while (fgets(line, sizeof(line), fp)) {
		size_t n = strlen(line);

		if (n && line[n - 1] == '\n') {
			line[--n] = '\0';
		} else if (!feof(fp)) {
			int ch;

			/* Too long: judge by its start, skip the rest. */
			while ((ch = fgetc(fp)) != EOF && ch != '\n')
				;
		}
		if (n && line[n - 1] == '\r')
			line[--n] = '\0';
		ht_tap_feed(t, line);
	}
	fclose(fp);
}

static void judge_junit(json_t *run, const struct ht_run_ctx *ctx, const char *cwd, struct ht_run_result *res)
{
	struct ht_subst_var outvar = { "out", ctx->out_dir };
	char *path = ht_subst(ht_json_str(run, "junit", "{out}/junit.xml"), &outvar, 1, 0);
	char *full = *path == '/' ? ht_xstrdup(path) : ht_path_join(cwd, path);
	char *xml = NULL, err[160];
	size_t len = 0;
	struct ht_junit j;
	int failed_exit = res->signal || !res->exited || res->exit_code != 0;

	ht_junit_init(&j);
	if (ht_read_file(full, JUNIT_MAX, &xml, &len) < 0) {
		snprintf(err, sizeof(err), "%s", errno == EFBIG ? "larger than 32 MiB" : strerror(errno));
		goto bad;
	}
	if (ht_junit_parse(&j, xml, len, err, sizeof(err)) < 0)
		goto bad;
	res->tests = json_pack("{s:I,s:I,s:I,s:I,s:O}", "passed", (json_int_t)(j.tests - j.failed - j.errors - j.skipped),
			       "failed", (json_int_t)j.failed, "errors", (json_int_t)j.errors,
			       "skipped", (json_int_t)j.skipped, "failures", j.failures);
	if (j.failed + j.errors > 0) {
		json_t *f = json_array_get(j.failures, 0);
		const char *cls = ht_json_str(f, "classname", NULL);
		long more = j.failed + j.errors - 1;

		res->status = "failed";
		ht_run_result_set_message(res, "%s %s%s%s%s%s", strcmp(ht_json_str(f, "kind", ""), "error") ? "FAILED" : "ERROR", cls ? cls : "",
					  cls ? "." : "", ht_json_str(f, "name", ""),
					  *ht_json_str(f, "message", "") ? ": " : "", ht_json_str(f, "message", ""));
		if (more > 0) {
			char *m = ht_xasprintf("%s (and %ld more)", res->message, more);

			ht_run_result_set_message(res, "%s", m);
			free(m);
		}
	} else if (failed_exit) {
		char what[48];

		res->status = "failed";
		if (res->signal)
			snprintf(what, sizeof(what), "killed by signal %d", res->signal);
		else
			snprintf(what, sizeof(what), "exit code %d", res->exit_code);
		set_failure_message(res, ctx, what, 0);
	} else if (j.tests == 0) {
		res->status = "skipped";
		ht_run_result_set_message(res, "JUnit file '%s' has no test cases", path);
	} else if (j.skipped == j.tests) {
		res->status = "skipped";
		ht_run_result_set_message(res, "all %ld test cases skipped", j.tests);
	} else {
		res->status = "passed";
		ht_run_result_set_message(res, "%ld passed, %ld skipped", j.tests - j.skipped, j.skipped);
	}
	goto out;
bad:
	if (failed_exit) {
		char *what;

		res->status = "failed";
		if (res->signal)
			what = ht_xasprintf("killed by signal %d (JUnit file '%s': %s)", res->signal, path, err);
		else
			what = ht_xasprintf("exit code %d (JUnit file '%s': %s)", res->exit_code, path, err);
		set_failure_message(res, ctx, what, 0);
		free(what);
	} else {
		res->status = "error";
		res->error_code = ht_xstrdup("junit");
		ht_run_result_set_message(res, "cannot read JUnit file '%s': %s", path, err);
	}
out:
	ht_junit_release(&j);
	free(xml);
	free(path);
	free(full);
}

static int open_out(const char *path)
{
	return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
}

static int command_run(json_t *run, const struct ht_run_ctx *ctx, struct ht_run_result *res)
{
	const char *outcome = ht_json_str(run, "outcome", "exit");
	const char *shell = ht_json_str(run, "shell", NULL);
	struct ht_subst_var outvar = { "out", ctx->out_dir };
	char **argv;
	size_t i, n = 0;
	struct ht_proc p;
	int ofd, efd, rc;
	char *cwd = json_is_string(json_object_get(run, "cwd")) ? ht_path_join(ctx->cwd, ht_json_str(run, "cwd", "."))
								: ht_xstrdup(ctx->cwd);

	if (shell) {
		argv = ht_xcalloc(4, sizeof(*argv));
		argv[0] = ht_xstrdup("/bin/sh");
		argv[1] = ht_xstrdup("-c");
		argv[2] = ht_xstrdup(shell);
	} else {
		json_t *a = json_object_get(run, "argv");

		n = json_array_size(a);
		argv = ht_xcalloc(n + 1, sizeof(*argv));
		for (i = 0; i < n; i++)
			argv[i] = ht_subst(json_string_value(json_array_get(a, i)), &outvar, 1, 0);
	}
	ofd = open_out(ctx->stdout_path);
	efd = open_out(ctx->stderr_path);
	if (ofd < 0 || efd < 0) {
		res->status = "error";
		res->error_code = ht_xstrdup("io");
		ht_run_result_set_message(res, "cannot create '%s': %s", ofd < 0 ? ctx->stdout_path : ctx->stderr_path,
					  strerror(errno));
		goto out;
	}
	ht_proc_init(&p, argv);
	p.envp = ctx->envp;
	p.cwd = cwd;
	p.stdout_fd = ofd;
	p.stderr_fd = efd;
	p.deadline_ms = ctx->deadline_ms;
	p.grace_ms = ctx->grace_ms;
	p.stop = ctx->stop;
	p.limits = ctx->limits;
	res->start_wall_ms = ht_wall_ms();
	rc = ht_proc_spawn(&p);
	if (rc == 0)
		rc = ht_proc_wait(&p);
	else
		p.duration_ms = 0;
	if (rc < 0) {
		res->status = "error";
		res->error_code = ht_xstrdup("spawn");
		ht_run_result_set_message(res, "cannot run '%s' in '%s': %s", argv[0], cwd, strerror(errno));
		goto out;
	}
	res->duration_ms = p.duration_ms;
	res->exited = p.exited;
	res->exit_code = p.exit_code;
	res->signal = p.signal;
	if (p.stopped) {
		res->status = "interrupted";
		ht_run_result_set_message(res, "interrupted: the runner was told to stop");
	} else if (p.timed_out) {
		res->status = "timed_out";
		if (ctx->limit_ms % 1000)
			ht_run_result_set_message(res, "timed out after %.1f s", (double)ctx->limit_ms / 1000.0);
		else
			ht_run_result_set_message(res, "timed out after %lld s", (long long)(ctx->limit_ms / 1000));
	} else if (!strcmp(outcome, "tap")) {
		struct ht_tap t;

		ht_tap_init(&t);
		tap_read(&t, ctx->stdout_path);
		ht_tap_finish(&t, res);
		if (!strcmp(res->status, "failed") && !t.failed && !t.bailed) {
			/* no plan, a short plan, an exit code: say why */
			char *what = ht_xstrdup(res->message ? res->message : "");

			set_failure_message(res, ctx, what, 1);
			free(what);
		}
		ht_tap_release(&t);
	} else if (!strcmp(outcome, "junit")) {
		judge_junit(run, ctx, cwd, res);
	} else if (p.signal) {
		char what[96];

		res->status = "failed";
		snprintf(what, sizeof(what), "killed by signal %d (%s)", p.signal, strsignal(p.signal));
		set_failure_message(res, ctx, what, 0);
	} else if (p.exit_code == 0) {
		res->status = "passed";
		ht_run_result_set_message(res, "exit code 0");
	} else if (p.exit_code == 77) {
		res->status = "skipped";
		ht_run_result_set_message(res, "skipped (exit code 77)");
	} else {
		char what[32];

		res->status = "failed";
		snprintf(what, sizeof(what), "exit code %d", p.exit_code);
		set_failure_message(res, ctx, what, 0);
	}
	ht_run_result_readonly_hint(res, ctx->stdout_path, ctx->stderr_path);
out:
	if (ofd >= 0)
		close(ofd);
	if (efd >= 0)
		close(efd);
	ht_strv_free(argv);
	free(cwd);
	return 0;
}

const struct ht_runner_ops ht_runner_command = {
	.name = "command",
	.list = command_list,
	.plan = command_plan,
	.check = command_check,
	.run = command_run,
};
