/*
 * playwright.c: the `playwright` test-runner plugin (docs/runner-playwright.md).
 *
 * Lists tests with Playwright's own discovery (`playwright test --list
 * --reporter=json`): one test per (project, file, title path), named by the
 * line that selects it in a --test-list file, "[project] › file › title".
 * Runs exactly the tests of one invocation with one worker and such a list,
 * and judges them from the JSON report Playwright writes into the test's
 * output directory (runners/playwright-report.c). The browser is found by
 * runners/playwright-browser.c and handed to the user's config in
 * HT_CHROMIUM_EXECUTABLE and HT_CHROMIUM_ARGS.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ht/config.h"
#include "ht/diag.h"
#include "ht/exit.h"
#include "ht/jsonl.h"
#include "ht/proc.h"
#include "ht/runner.h"
#include "ht/text.h"
#include "ht/util.h"
#include "runners/playwright.h"

#define LIST_MAX_OUTPUT (64u * 1024 * 1024)
#define REPORT_NAME "playwright-report.json"

/* The variables the plugin sets for Playwright, dropped from any other
 * environment it passes on. */
static const char *const our_vars[] = {
	"PLAYWRIGHT_JSON_OUTPUT_NAME", "PLAYWRIGHT_JSON_OUTPUT_FILE", "PLAYWRIGHT_JSON_OUTPUT_DIR",
	"HT_CHROMIUM_EXECUTABLE", "HT_CHROMIUM_ARGS", NULL
};

/* --- the command line ------------------------------------------------------ */

/* runner.command, or node and Playwright's CLI in the project: a new JSON
 * array of strings. */
static json_t *command_of(const struct ht_config *c)
{
	const struct ht_playwright_settings *s = ht_playwright_settings(c);
	json_t *a = json_array();
	int i;

	if (!s->command.n) {
		json_array_append_new(a, json_string(HT_PW_NODE));
		json_array_append_new(a, json_string(HT_PW_CLI));
	}
	for (i = 0; i < s->command.n; i++)
		json_array_append_new(a, json_string(s->command.v[i]));
	return a;
}

static const char *granularity(const struct ht_config *c)
{
	const char *g = ht_playwright_settings(c)->granularity;

	return g && *g ? g : "test";
}

/* The NULL-terminated argv of a JSON array of strings; new strings. */
static char **argv_of(json_t *a)
{
	size_t n = json_array_size(a), i;
	char **v = ht_xcalloc(n + 1, sizeof(*v));

	for (i = 0; i < n; i++)
		v[i] = ht_xstrdup(json_string_value(json_array_get(a, i)));
	return v;
}

static int is_ours(const char *kv)
{
	int i;

	for (i = 0; our_vars[i]; i++) {
		size_t n = strlen(our_vars[i]);

		if (!strncmp(kv, our_vars[i], n) && kv[n] == '=')
			return 1;
	}
	return 0;
}

/* envp without our variables, then extra (NULL-terminated "K=V", may be
 * NULL) and the members of obj (may be NULL). envp is freed (it is owned);
 * returns the new array. */
static char **env_with(char **envp, char *const *extra, json_t *obj)
{
	size_t n = 0, m = 0, i, j = 0;
	const char *k;
	json_t *v;
	char **out;

	while (envp && envp[n])
		n++;
	while (extra && extra[m])
		m++;
	out = ht_xcalloc(n + m + json_object_size(obj) + 1, sizeof(*out));
	for (i = 0; i < n; i++) {
		const char *eq = strchr(envp[i], '=');
		int over = is_ours(envp[i]);

		json_object_foreach(obj, k, v)
			if (eq && strlen(k) == (size_t)(eq - envp[i]) && !strncmp(envp[i], k, strlen(k)))
				over = 1;
		if (over)
			free(envp[i]);
		else
			out[j++] = envp[i];
	}
	for (i = 0; i < m; i++)
		out[j++] = ht_xstrdup(extra[i]);
	json_object_foreach(obj, k, v)
		if (json_is_string(v))
			out[j++] = ht_xasprintf("%s=%s", k, json_string_value(v));
	out[j] = NULL;
	free(envp);
	return out;
}

/* --- listing --------------------------------------------------------------- */

/* Prints up to max lines of text, indented, without colours. */
static void print_lines(const char *text, int max)
{
	char *clean = ht_pw_strip_ansi(text), *line, *save = NULL;
	int shown = 0;

	for (line = strtok_r(clean, "\n", &save); line && shown < max; line = strtok_r(NULL, "\n", &save), shown++) {
		ht_utf8_clean(line, strlen(line), 1);
		fprintf(stderr, "  %s\n", line);
	}
	free(clean);
}

/* 1 when a title cannot be named in a --test-list line as itself. */
static int title_unselectable(const char *t)
{
	size_t n = strlen(t);

	return strstr(t, "\xe2\x80\xba") || strchr(t, '\n') || strchr(t, '\r') ||
	       (n && (t[0] == ' ' || t[0] == '\t' || t[n - 1] == ' ' || t[n - 1] == '\t'));
}

struct walk {
	struct ht_test_list *out;
	const char *project;
	const char *prefix; /* the test directory relative to the project root, "" or "dir/" */
	int by_file;
	int warned;
};

/* The entries of one project in suite s (a file or a describe), titles
 * being the describes above it. */
static void walk_suite(struct walk *w, json_t *s, json_t *titles, int top)
{
	json_t *specs = json_object_get(s, "specs"), *subs = json_object_get(s, "suites"), *sp, *t, *sub;
	size_t i, k;

	if (!top)
		json_array_append_new(titles, json_string(ht_json_str(s, "title", "")));
	json_array_foreach(specs, i, sp) {
		const char *file = ht_json_str(sp, "file", NULL);

		if (!file)
			continue;
		json_array_foreach(json_object_get(sp, "tests"), k, t) {
			char *line, *path;
			size_t q;
			json_t *tt;
			int bad = title_unselectable(ht_json_str(sp, "title", ""));

			if (strcmp(ht_json_str(t, "projectName", ""), w->project))
				continue;
			json_array_append_new(titles, json_string(ht_json_str(sp, "title", "")));
			json_array_foreach(titles, q, tt)
				bad |= title_unselectable(json_string_value(tt));
			line = ht_pw_test_line(w->project, file, titles);
			json_array_remove(titles, json_array_size(titles) - 1);
			if (bad && w->warned++ < 10)
				ht_warning("'%s' cannot be named exactly in a Playwright test list (a title with '\xe2\x80\xba', "
					   "a line break, or spaces at either end): it will not run", line);
			path = ht_xasprintf("%s%s", w->prefix, file);
			if (w->by_file) {
				struct ht_test_list *l = w->out;
				char *group = ht_pw_test_line(w->project, file, NULL);

				for (q = 0; q < l->n && strcmp(l->v[q].name, group); q++)
					;
				if (q == l->n)
					ht_test_list_add(l, group, path);
				ht_test_list_add_member(l, q, line);
				free(group);
			} else {
				ht_test_list_add(w->out, line, path);
			}
			free(path);
			free(line);
		}
	}
	json_array_foreach(subs, i, sub)
		walk_suite(w, sub, titles, 0);
	if (!top)
		json_array_remove(titles, json_array_size(titles) - 1);
}

/* The test directory (the report's rootDir) relative to the project root
 * root, with a '/' at its end, or "": a new string. */
static char *rel_prefix(const char *root, const char *root_dir)
{
	char *r = realpath(root, NULL), *p = NULL;
	size_t n;

	if (r && root_dir) {
		n = strlen(r);
		if (!strcmp(r, root_dir))
			p = ht_xstrdup("");
		else if (!strncmp(root_dir, r, n) && (root_dir[n] == '/' || (n == 1 && r[0] == '/')))
			p = ht_xasprintf("%s/", root_dir + n + (r[n - 1] == '/' ? 0 : 1));
	}
	free(r);
	return p ? p : ht_xstrdup("");
}

/* Reads the JSON Playwright printed; returns 0 or an exit code. */
static int read_listing(const struct ht_config *c, const char *output, struct ht_test_list *out)
{
	const char *root = c->root ? c->root : ".";
	json_t *rep = json_loads(output, 0, NULL), *errors, *e, *projects, *p, *s;
	struct walk w = { 0 };
	size_t i, k;
	int rc = 0;

	errors = json_object_get(rep, "errors");
	if (json_array_size(errors)) {
		const char *m0 = ht_json_str(json_array_get(errors, 0), "message", "");

		if (json_array_size(errors) == 1 && strstr(m0, "No tests found")) {
			ht_error("playwright found no tests in '%s'%s", root,
				 ht_playwright_settings(c)->args.n ? "; check runner.args" : "");
			json_decref(rep);
			return HT_EXIT_NOINPUT;
		}
		ht_error("playwright could not load the tests (%zu error%s); playwright says:", json_array_size(errors),
			 json_array_size(errors) > 1 ? "s" : "");
		json_array_foreach(errors, i, e) {
			if (i >= 10)
				break;
			print_lines(ht_json_str(e, "message", ""), 20);
			print_lines(ht_json_str(e, "snippet", ""), 12);
		}
		json_decref(rep);
		return HT_EXIT_DATAERR;
	}
	w.out = out;
	w.by_file = !strcmp(granularity(c), "file");
	w.prefix = rel_prefix(root, ht_json_str(json_object_get(rep, "config"), "rootDir", NULL));
	projects = json_object_get(json_object_get(rep, "config"), "projects");
	json_array_foreach(projects, i, p) {
		json_t *titles = json_array();

		w.project = ht_json_str(p, "name", "");
		json_array_foreach(json_object_get(rep, "suites"), k, s)
			walk_suite(&w, s, titles, 1);
		json_decref(titles);
	}
	if (out->n == 0) {
		ht_error("playwright listed no tests in '%s'%s", root,
			 ht_playwright_settings(c)->args.n ? "; check runner.args" : "");
		rc = HT_EXIT_NOINPUT;
	}
	free((char *)w.prefix);
	json_decref(rep);
	return rc;
}

/* The program of cmd (its first element) resolved in envp's PATH, with
 * the default CLI checked in the project. Returns 0 or an exit code. */
static int resolve_program(const struct ht_config *c, char **argv, char *const *envp)
{
	const char *root = c->root ? c->root : ".";
	char *exe;

	if (!ht_playwright_settings(c)->command.n) {
		char *cli = ht_path_join(root, HT_PW_CLI);
		int there = access(cli, R_OK) == 0;

		free(cli);
		if (!there) {
			ht_error("'%s' is not in '%s': install the project's dependencies (npm ci) with @playwright/test "
				 "among them (PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --save-dev @playwright/test), "
				 "or set runner.command", HT_PW_CLI, root);
			return HT_EXIT_UNAVAILABLE;
		}
	}
	exe = ht_runner_which(envp, argv[0]);
	if (!exe) {
		ht_config_error(c, "runner.command", "'%s' is not in the PATH tests get (%s)", argv[0], HT_TEST_PATH);
		return HT_EXIT_CONFIG;
	}
	free(argv[0]);
	argv[0] = exe;
	return 0;
}

static int pw_list(const struct ht_config *c, long timeout_ms, struct ht_test_list *out)
{
	const struct ht_playwright_settings *s = ht_playwright_settings(c);
	const char *root = c->root ? c->root : ".";
	json_t *a = command_of(c);
	char **argv, **envp = env_with(ht_runner_list_env(c), NULL, NULL), *output = NULL;
	struct ht_proc p;
	FILE *errf = tmpfile();
	int rc = 0, i;

	if (strcmp(granularity(c), "test") && strcmp(granularity(c), "file")) {
		json_decref(a);
		ht_strv_free(envp);
		if (errf)
			fclose(errf);
		return ht_config_error(c, "runner.granularity", "the playwright plugin runs a test or a file, not '%s'",
				       granularity(c)), HT_EXIT_CONFIG;
	}
	json_array_append_new(a, json_string("test"));
	json_array_append_new(a, json_string("--list"));
	for (i = 0; i < s->args.n; i++)
		json_array_append_new(a, json_string(s->args.v[i]));
	json_array_append_new(a, json_string("--reporter=json"));
	argv = argv_of(a);
	json_decref(a);
	if (!errf) {
		ht_error("cannot create a temporary file: %s", strerror(errno));
		rc = HT_EXIT_IOERR;
		goto done;
	}
	rc = resolve_program(c, argv, envp);
	if (rc)
		goto done;
	ht_proc_init(&p, argv);
	p.cwd = root;
	p.envp = envp;
	p.stderr_fd = fileno(errf);
	p.deadline_ms = ht_now_ms() + (timeout_ms > 0 ? timeout_ms : HT_LIST_TIMEOUT_MS);
	p.grace_ms = 1000;
	if (ht_proc_capture(&p, LIST_MAX_OUTPUT, &output) < 0 || p.timed_out || p.signal) {
		ht_error("listing with '%s test --list' failed: %s", argv[0], p.timed_out ? "timed out" : ht_proc_describe(&p));
		rc = HT_EXIT_OSERR;
		goto done;
	}
	{
		json_t *probe = output ? json_loads(output, 0, NULL) : NULL;

		if (!json_is_object(probe)) {
			/* The config did not load: Playwright printed its error,
			 * not a report. */
			char *err = NULL;
			size_t len = 0;

			fflush(errf);
			lseek(fileno(errf), 0, SEEK_SET);
			ht_error("playwright could not load its configuration in '%s' (%s); playwright says:", root,
				 ht_proc_describe(&p));
			{
				struct ht_buf b;
				char chunk[4096];
				ssize_t n;

				ht_buf_init(&b, 256 * 1024);
				while ((n = read(fileno(errf), chunk, sizeof(chunk))) > 0 && ht_buf_add(&b, chunk, (size_t)n) == 0)
					;
				ht_buf_add(&b, "", 1);
				len = b.len;
				err = ht_buf_detach(&b);
			}
			print_lines(len > 1 ? err : (output ? output : ""), 30);
			free(err);
			json_decref(probe);
			rc = HT_EXIT_DATAERR;
			goto done;
		}
		json_decref(probe);
	}
	rc = read_listing(c, output, out);
done:
	free(output);
	if (errf)
		fclose(errf);
	ht_strv_free(argv);
	ht_strv_free(envp);
	return rc;
}

/* --- planning -------------------------------------------------------------- */

static int pw_plan(const struct ht_config *c, const struct ht_test_entry *t, const char *test_id, json_t **out)
{
	const struct ht_playwright_settings *s = ht_playwright_settings(c);
	json_t *run = json_object(), *argv = command_of(c), *tests = json_array(), *env;
	size_t i;
	int k;

	(void)test_id;
	*out = NULL;
	json_array_append_new(argv, json_string("test"));
	for (k = 0; k < s->args.n; k++)
		json_array_append_new(argv, json_string(s->args.v[k]));
	/* Ours last: they win over the same options in runner.args. */
	json_array_append_new(argv, json_string("--workers=1"));
	json_array_append_new(argv, json_string("--reporter=json"));
	json_array_append_new(argv, json_string("--output={out}/test-results"));
	if (t->members)
		for (i = 0; i < t->nmembers; i++)
			json_array_append_new(tests, json_string(t->members[i]));
	else
		json_array_append_new(tests, json_string(t->name));
	json_object_set_new(run, "argv", argv);
	json_object_set_new(run, "tests", tests);
	if (t->members)
		json_object_set_new(run, "group", json_true());
	ht_json_set_str(run, "browser", s->browser && *s->browser ? s->browser : "auto");
	if (ht_runner_env_json(c, &env) < 0) {
		json_decref(run);
		return HT_EXIT_CONFIG;
	}
	if (env)
		json_object_set_new(run, "env", env);
	*out = run;
	return 0;
}

static int pw_check(json_t *run, char *err, size_t errlen)
{
	if (!json_is_object(run)) {
		snprintf(err, errlen, "no \"run\" object");
		return -1;
	}
	if (json_object_get(run, "browser") && !json_is_string(json_object_get(run, "browser"))) {
		snprintf(err, errlen, "\"run.browser\" is not a string");
		return -1;
	}
	if (ht_runner_check_strings(json_object_get(run, "argv"), "argv", 1, err, errlen) < 0)
		return -1;
	return ht_runner_check_strings(json_object_get(run, "tests"), "tests", 1, err, errlen);
}

/* --- running --------------------------------------------------------------- */

/* The value of name in envp, or NULL. Borrowed. */
static const char *env_get(char *const *envp, const char *name)
{
	size_t n = strlen(name), i;

	for (i = 0; envp && envp[i]; i++)
		if (!strncmp(envp[i], name, n) && envp[i][n] == '=')
			return envp[i] + n + 1;
	return NULL;
}

static int open_out(const char *path, int append)
{
	return open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0644);
}

/* Writes the test list of run into a new file under tmpdir; its path in
 * *path (new string). Returns 0, or -1 with errno set. */
static int write_test_list(json_t *run, const char *tmpdir, char **path)
{
	json_t *tests = json_object_get(run, "tests"), *t;
	struct ht_buf b = HT_BUF_INIT;
	size_t i;
	int rc;

	json_array_foreach(tests, i, t)
		ht_buf_addf(&b, "%s\n", json_string_value(t));
	*path = ht_xasprintf("%s/ht-playwright-tests.XXXXXX", tmpdir);
	{
		int fd = mkstemp(*path);

		rc = fd < 0 ? -1 : 0;
		if (fd >= 0) {
			if (write(fd, b.data, b.len) != (ssize_t)b.len)
				rc = -1;
			if (close(fd) < 0)
				rc = -1;
			if (rc < 0)
				unlink(*path);
		}
	}
	ht_buf_release(&b);
	if (rc < 0) {
		int e = errno;

		free(*path);
		*path = NULL;
		errno = e;
	}
	return rc;
}

static void set_error(struct ht_run_result *res, const char *code)
{
	res->status = "error";
	free(res->error_code);
	res->error_code = ht_xstrdup(code);
}

static int pw_run(json_t *run, const struct ht_run_ctx *ctx, struct ht_run_result *res)
{
	struct ht_subst_var outvar = { "out", ctx->out_dir };
	json_t *a = json_object_get(run, "argv"), *bargs = NULL, *benv = NULL;
	size_t n = json_array_size(a), i, ne = 0;
	const char *tmpdir = env_get(ctx->envp, "TMPDIR");
	char **argv = ht_xcalloc(n + 3, sizeof(*argv)), **envp, *list = NULL, *report, *exe = NULL;
	char *extra[5] = { 0 }, why[1024], *prefix;
	struct ht_proc p;
	int ofd = -1, efd = -1, rc;

	if (!tmpdir || *tmpdir != '/')
		tmpdir = "/tmp";
	report = ht_path_join(ctx->out_dir, REPORT_NAME);
	prefix = ht_xasprintf("%s/%s/", env_get(ctx->envp, "HT_RUN_ID") ? env_get(ctx->envp, "HT_RUN_ID") : "",
			      env_get(ctx->envp, "HT_TEST_ID") ? env_get(ctx->envp, "HT_TEST_ID") : "");
	for (i = 0; i < n; i++)
		argv[i] = ht_subst(json_string_value(json_array_get(a, i)), &outvar, 1, 0);
	ofd = open_out(ctx->stdout_path, 0);
	efd = open_out(ctx->stderr_path, 0);
	if (ofd < 0 || efd < 0) {
		set_error(res, "io");
		ht_run_result_set_message(res, "cannot create '%s': %s", ofd < 0 ? ctx->stdout_path : ctx->stderr_path,
					  strerror(errno));
		goto out;
	}
	res->start_wall_ms = ht_wall_ms();
	if (ht_pw_find_browser(ht_json_str(run, "browser", "auto"), ctx->cwd, ctx->envp, tmpdir, ctx->deadline_ms, &exe,
			       &bargs, &benv, why, sizeof(why)) < 0) {
		set_error(res, "browser");
		ht_run_result_set_message(res, "%s", why);
		goto out;
	}
	if (write_test_list(run, tmpdir, &list) < 0) {
		set_error(res, "io");
		ht_run_result_set_message(res, "cannot write the test list under '%s': %s", tmpdir, strerror(errno));
		goto out;
	}
	argv[n] = ht_xstrdup("--test-list");
	argv[n + 1] = ht_xstrdup(list);
	extra[ne++] = ht_xasprintf("PLAYWRIGHT_JSON_OUTPUT_FILE=%s", report);
	extra[ne++] = ht_xasprintf("PLAYWRIGHT_JSON_OUTPUT_NAME=%s", report);
	if (exe) {
		char *js = json_dumps(bargs, JSON_COMPACT);

		extra[ne++] = ht_xasprintf("HT_CHROMIUM_EXECUTABLE=%s", exe);
		extra[ne++] = ht_xasprintf("HT_CHROMIUM_ARGS=%s", js ? js : "[]");
		free(js);
	}
	{
		size_t k = 0;
		char **copy;

		while (ctx->envp && ctx->envp[k])
			k++;
		copy = ht_xcalloc(k + 1, sizeof(*copy));
		for (i = 0; i < k; i++)
			copy[i] = ht_xstrdup(ctx->envp[i]);
		envp = env_with(copy, extra, benv);
	}
	ht_proc_init(&p, argv);
	p.envp = envp;
	p.cwd = ctx->cwd;
	p.stdout_fd = ofd;
	p.stderr_fd = efd;
	p.deadline_ms = ctx->deadline_ms;
	p.grace_ms = ctx->grace_ms;
	p.stop = ctx->stop;
	p.limits = ctx->limits;
	/* On SIGINT Playwright stops its worker and still writes the report:
	 * the tests it finished keep their results. */
	p.term_signal = SIGINT;
	rc = ht_proc_spawn(&p);
	if (rc == 0)
		rc = ht_proc_wait(&p);
	if (rc < 0) {
		set_error(res, "spawn");
		ht_run_result_set_message(res, "cannot run '%s': %s", argv[0], strerror(errno));
		ht_strv_free(envp);
		goto out;
	}
	res->duration_ms = p.duration_ms;
	res->exited = p.exited;
	res->exit_code = p.exit_code;
	res->signal = p.signal;
	ht_pw_judge(run, report, ctx->out_dir, prefix, ctx->stderr_path, ht_proc_describe(&p), p.timed_out, p.stopped,
		    ctx->limit_ms, res);
	ht_run_result_readonly_hint(res, ctx->stdout_path, ctx->stderr_path);
	ht_strv_free(envp);
out:
	if (list) {
		unlink(list);
		free(list);
	}
	for (i = 0; i < ne; i++)
		free(extra[i]);
	if (ofd >= 0)
		close(ofd);
	if (efd >= 0)
		close(efd);
	json_decref(bargs);
	json_decref(benv);
	free(exe);
	free(report);
	free(prefix);
	ht_strv_free(argv);
	return 0;
}

/*
 * A batch (docs/scheduling.md#batching) as one Playwright run: the test
 * lines of every member in one --test-list, one worker, one browser
 * start, one record per test line (the cases come in the list's order).
 * Members with different commands, environments or browsers run apart.
 */
static int pw_merge(json_t *members, json_t **out, json_t **counts)
{
	static const char *const same[] = { "argv", "env", "browser", NULL };

	*out = ht_runner_merge_lists(members, "tests", same, counts);
	if (!*out)
		return 1;
	json_object_set_new(*out, "group", json_true());
	json_object_set_new(*out, "batch", json_true());
	return 0;
}

const struct ht_runner_ops ht_runner_playwright = {
	.name = "playwright",
	.list = pw_list,
	.plan = pw_plan,
	.check = pw_check,
	.run = pw_run,
	.merge = pw_merge,
};
