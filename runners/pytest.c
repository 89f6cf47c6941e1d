/*
 * pytest.c: the `pytest` test-runner plugin (docs/runner-pytest.md).
 *
 * Lists node ids with pytest's own collection and runs exactly the node
 * ids of one invocation, one argument each and never through a shell,
 * reading every node id's outcome from the JUnit XML file pytest writes.
 * With `file` or `class` granularity one invocation runs several node ids
 * and its result carries one case per node id (docs/records.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ht/config.h"
#include "ht/diag.h"
#include "ht/exit.h"
#include "ht/id.h"
#include "ht/jsonl.h"
#include "ht/proc.h"
#include "ht/runner.h"
#include "ht/text.h"
#include "ht/util.h"
#include "runners/outcome.h"
#include "runners/pytest.h"

#define LIST_MAX_OUTPUT (64u * 1024 * 1024)
#define JUNIT_MAX (64u * 1024 * 1024)
#define JUNIT_NAME "pytest-junit.xml"
#define CASE_TAIL_MAX 2048
#define CASES_BUDGET (HT_RECORD_MAX * 3 / 4) /* bytes of "cases", about */

/* --- the command line ------------------------------------------------------ */

/* python -m pytest [-p no:cacheprovider] --rootdir=. ARGS...: what listing
 * and running share. --rootdir=. makes node ids relative to the project
 * root, where both run, whatever ini file pytest finds. */
static json_t *base_argv(const struct ht_config *c)
{
	const struct ht_pytest_settings *s = ht_pytest_settings(c);
	json_t *a = json_array();
	int i;

	json_array_append_new(a, json_string(s->python && *s->python ? s->python : "python3"));
	json_array_append_new(a, json_string("-m"));
	json_array_append_new(a, json_string("pytest"));
	if (!s->cacheprovider) {
		json_array_append_new(a, json_string("-p"));
		json_array_append_new(a, json_string("no:cacheprovider"));
	}
	json_array_append_new(a, json_string("--rootdir=."));
	for (i = 0; i < s->args.n; i++)
		json_array_append_new(a, json_string(s->args.v[i]));
	return a;
}

/* The NULL-terminated argv of a JSON array of strings, then extra (may be
 * NULL); new strings. */
static char **argv_of(json_t *a, json_t *extra)
{
	size_t n = json_array_size(a), m = json_array_size(extra), i;
	char **v = ht_xcalloc(n + m + 1, sizeof(*v));

	for (i = 0; i < n; i++)
		v[i] = ht_xstrdup(json_string_value(json_array_get(a, i)));
	for (i = 0; i < m; i++)
		v[n + i] = ht_xstrdup(json_string_value(json_array_get(extra, i)));
	return v;
}

/* 1 when the config's runner.env sets name. */
static int env_sets(const struct ht_config *c, const char *name)
{
	size_t n = strlen(name);
	int i;

	for (i = 0; i < c->runner.env.n; i++)
		if (!strncmp(c->runner.env.v[i], name, n) && c->runner.env.v[i][n] == '=')
			return 1;
	return 0;
}

/* --- listing --------------------------------------------------------------- */

/* Prints the ERRORS section of pytest's output, the files it names, and
 * pytest's own words; out is modified. */
static void report_collection_errors(char *out)
{
	char *sec = strstr(out, " ERRORS ="), *end, *line, *save = NULL;
	struct ht_buf files = HT_BUF_INIT;
	int shown = 0;

	end = sec ? strstr(sec, " short test summary info ") : NULL;
	/* The files: "ERROR path" lines of the short summary. */
	for (line = strtok_r(end ? end : out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "ERROR ", 6)) {
			char *sp = strstr(line + 6, " - ");

			if (sp)
				*sp = '\0';
			ht_buf_addf(&files, "%s'%s'", files.len ? ", " : "", line + 6);
		}
	}
	ht_error("pytest could not collect %s (exit code 2); pytest says:", files.len ? files.data : "the tests");
	if (sec) {
		char *p = strchr(sec, '\n');

		if (end) {
			while (end > sec && end[-1] != '\n')
				end--;
			*end = '\0';
		}
		for (line = p ? p + 1 : NULL; line && *line && shown < 80; shown++) {
			char *nl = strchr(line, '\n');

			if (nl)
				*nl = '\0';
			fprintf(stderr, "  %s\n", line);
			line = nl ? nl + 1 : NULL;
		}
	}
	ht_buf_release(&files);
}

/* The group a node id belongs to with granularity g ("file" or "class"),
 * new string: the node id's file, or file::Class when it is in a class.
 * "::" inside a parametrize id ("[...]") does not count. */
static char *group_of(const char *nodeid, const char *g)
{
	const char *br = strchr(nodeid, '[');
	size_t lim = br ? (size_t)(br - nodeid) : strlen(nodeid);
	const char *c1 = strstr(nodeid, "::"), *c2;

	if (!c1 || (size_t)(c1 - nodeid) >= lim)
		return ht_xstrdup(nodeid);
	if (!strcmp(g, "file"))
		return strndup(nodeid, (size_t)(c1 - nodeid));
	c2 = strstr(c1 + 2, "::");
	if (c2 && (size_t)(c2 - nodeid) < lim)
		return strndup(nodeid, (size_t)(c2 - nodeid));
	return strndup(nodeid, (size_t)(c1 - nodeid));
}

static int pytest_list(const struct ht_config *c, long timeout_ms, struct ht_test_list *out)
{
	const char *root = c->root ? c->root : ".";
	const char *g = ht_pytest_settings(c)->granularity;
	json_t *a = base_argv(c), *extra = json_pack("[ss]", "--collect-only", "-q");
	char **argv = argv_of(a, extra), **envp = ht_runner_list_env(c), *output = NULL, *line, *save;
	struct ht_proc p;
	FILE *errf = tmpfile();
	size_t lineno = 0, n;
	int rc = 0;

	json_decref(a);
	json_decref(extra);
	if (!g || !*g)
		g = "test";
	if (!env_sets(c, "PYTHONDONTWRITEBYTECODE")) {
		for (n = 0; envp[n]; n++)
			;
		envp = ht_xrealloc(envp, (n + 2) * sizeof(*envp));
		envp[n] = ht_xstrdup("PYTHONDONTWRITEBYTECODE=1");
		envp[n + 1] = NULL;
	}
	if (!errf) {
		ht_error("cannot create a temporary file: %s", strerror(errno));
		rc = HT_EXIT_IOERR;
		goto done;
	}
	{
		char *exe = ht_runner_which(envp, argv[0]);

		if (!exe) {
			ht_config_error(c, "runner.python", "'%s' is not in the PATH tests get (%s)", argv[0], HT_TEST_PATH);
			rc = HT_EXIT_CONFIG;
			goto done;
		}
		free(argv[0]);
		argv[0] = exe;
	}
	ht_proc_init(&p, argv);
	p.cwd = root;
	p.envp = envp;
	p.stderr_fd = fileno(errf);
	p.deadline_ms = ht_now_ms() + (timeout_ms > 0 ? timeout_ms : HT_LIST_TIMEOUT_MS);
	p.grace_ms = 1000;
	if (ht_proc_capture(&p, LIST_MAX_OUTPUT, &output) < 0 || p.timed_out || p.signal ||
	    (p.exit_code != 0 && p.exit_code != 2 && p.exit_code != 5)) {
		char tail[600];
		off_t size = lseek(fileno(errf), 0, SEEK_END);
		ssize_t got = pread(fileno(errf), tail, sizeof(tail) - 1, size > 599 ? size - 599 : 0);
		char *t1;

		tail[got > 0 ? got : 0] = '\0';
		t1 = ht_oneline(tail, strlen(tail), 500);
		if (!*t1 && output) {
			free(t1);
			t1 = ht_oneline(output, strlen(output), 500);
		}
		ht_error("listing with '%s -m pytest --collect-only' failed: %s%s%s", argv[0],
			 p.timed_out ? "timed out" : ht_proc_describe(&p), *t1 ? ": " : "", t1);
		free(t1);
		rc = HT_EXIT_OSERR;
		goto done;
	}
	if (p.exit_code == 5) {
		ht_error("pytest collected no tests in '%s' (exit code 5)%s", root,
			 ht_pytest_settings(c)->args.n ? "; check runner.args" : "");
		rc = HT_EXIT_NOINPUT;
		goto done;
	}
	if (p.exit_code == 2) {
		report_collection_errors(output ? output : (char []){ "" });
		rc = HT_EXIT_DATAERR;
		goto done;
	}
	/* Node ids, one a line, up to the first blank line. */
	for (line = output; line && *line; line = save) {
		char *nl = strchr(line, '\n'), *clean;

		save = nl ? nl + 1 : NULL;
		if (nl)
			*nl = '\0';
		lineno++;
		if (!*line || !strcmp(line, "\r"))
			break;
		clean = ht_utf8_clean(ht_xstrdup(line), strlen(line), 1);
		if (strcmp(clean, line)) {
			free(clean);
			ht_error("pytest's node id on line %zu is not valid UTF-8 text", lineno);
			rc = HT_EXIT_DATAERR;
			goto done;
		}
		free(clean);
		if (!strcmp(g, "test")) {
			char *file = group_of(line, "file");

			ht_test_list_add(out, line, file);
			free(file);
		} else {
			char *grp = group_of(line, g), *file = group_of(line, "file");
			size_t i;

			for (i = 0; i < out->n && strcmp(out->v[i].name, grp); i++)
				;
			if (i == out->n)
				ht_test_list_add(out, grp, file);
			ht_test_list_add_member(out, i, line);
			free(grp);
			free(file);
		}
	}
	if (out->n == 0) {
		ht_error("pytest printed no node ids");
		rc = HT_EXIT_DATAERR;
	}
done:
	free(output);
	if (errf)
		fclose(errf);
	ht_strv_free(argv);
	ht_strv_free(envp);
	return rc;
}

/* --- planning -------------------------------------------------------------- */

static int pytest_plan(const struct ht_config *c, const struct ht_test_entry *t, const char *test_id, json_t **out)
{
	json_t *run = json_object(), *argv = base_argv(c), *ids = json_array(), *env;
	size_t i;

	(void)test_id;
	*out = NULL;
	/* -rX: the summary names the xpassed node ids, which JUnit does not. */
	json_array_append_new(argv, json_string("-rX"));
	json_array_append_new(argv, json_string("-o"));
	json_array_append_new(argv, json_string("junit_logging=out-err"));
	json_array_append_new(argv, json_string("--junitxml={out}/" JUNIT_NAME));
	json_array_append_new(argv, json_string("--"));
	if (t->members)
		for (i = 0; i < t->nmembers; i++)
			json_array_append_new(ids, json_string(t->members[i]));
	else
		json_array_append_new(ids, json_string(t->name));
	json_object_set_new(run, "argv", argv);
	json_object_set_new(run, "nodeids", ids);
	if (t->members)
		json_object_set_new(run, "group", json_true());
	if (ht_runner_env_json(c, &env) < 0) {
		json_decref(run);
		return HT_EXIT_CONFIG;
	}
	if (!env)
		env = json_object();
	if (!json_object_get(env, "PYTHONDONTWRITEBYTECODE"))
		json_object_set_new(env, "PYTHONDONTWRITEBYTECODE", json_string("1"));
	json_object_set_new(run, "env", env);
	*out = run;
	return 0;
}

static int pytest_check(json_t *run, char *err, size_t errlen)
{
	if (!json_is_object(run)) {
		snprintf(err, errlen, "no \"run\" object");
		return -1;
	}
	if (ht_runner_check_strings(json_object_get(run, "argv"), "argv", 0, err, errlen) < 0)
		return -1;
	return ht_runner_check_strings(json_object_get(run, "nodeids"), "nodeids", 0, err, errlen);
}

/* --- judging --------------------------------------------------------------- */

/* What pytest's JUnit writer makes of a node id: "classname\nname" (its
 * mangle_test_address). New string. */
static char *junit_key(const char *nodeid)
{
	const char *br = strchr(nodeid, '[');
	char *path = strndup(nodeid, br ? (size_t)(br - nodeid) : strlen(nodeid));
	char *first = strstr(path, "::"), *last = first, *q, *key;
	struct ht_buf b = HT_BUF_INIT;
	size_t fl;

	/* "a/b.py::C::f[x]" -> classname "a.b.C", name "f[x]" */
	if (!first) {
		free(path);
		return ht_xasprintf("\n%s", nodeid);
	}
	for (q = first; (q = strstr(q + 2, "::")); )
		last = q;
	*first = '\0';
	fl = strlen(path);
	if (fl > 3 && !strcmp(path + fl - 3, ".py"))
		path[fl - 3] = '\0';
	for (q = path; *q; q++)
		if (*q == '/')
			*q = '.';
	ht_buf_addstr(&b, path);
	for (q = first; q < last; ) {
		char *nx = strstr(q + 2, "::");

		ht_buf_addstr(&b, ".");
		ht_buf_add(&b, q + 2, (size_t)(nx - q - 2));
		q = nx;
	}
	ht_buf_addf(&b, "\n%s%s", last + 2, br ? br : "");
	key = ht_xstrdup(b.data);
	ht_buf_release(&b);
	free(path);
	return key;
}

/* Appends s to b without pytest's "---- Captured Out ----" banners. */
static void add_text(struct ht_buf *b, const char *s)
{
	const char *line = s;

	while (line && *line) {
		const char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line + 1) : strlen(line);

		if (!(n > 10 && !strncmp(line, "----", 4) && strstr(line, " Captured ") && strstr(line, " Captured ") < line + n) &&
		    !(n == 1 && b->len && b->data[b->len - 1] == '\n'))
			ht_buf_add(b, line, n);
		line = nl ? nl + 1 : NULL;
	}
}

/* The last CASE_TAIL_MAX bytes of a case's longrepr and captured output. */
static json_t *case_tail(json_t *jc)
{
	struct ht_buf b = HT_BUF_INIT;
	json_t *part, *v;
	size_t i, from;

	ht_buf_add(&b, "", 0);
	json_array_foreach(json_object_get(jc, "parts"), i, part) {
		add_text(&b, ht_json_str(part, "text", ""));
		if (b.len && b.data[b.len - 1] != '\n')
			ht_buf_add(&b, "\n", 1);
	}
	add_text(&b, ht_json_str(jc, "system_out", ""));
	add_text(&b, ht_json_str(jc, "system_err", ""));
	from = b.len > CASE_TAIL_MAX ? b.len - CASE_TAIL_MAX : 0;
	while (from && from < b.len && ((unsigned char)b.data[from] & 0xc0) == 0x80)
		from++;
	ht_utf8_clean(b.data + from, b.len - from, 0);
	v = json_string(b.data + from);
	ht_buf_release(&b);
	return v ? v : json_string("");
}

/* One node id's result. */
struct pcase {
	const char *nodeid;
	char *key;
	json_t *jc;          /* its JUnit case (borrowed), or NULL */
	const char *status;
	const char *outcome; /* "xfailed", "xpassed", or NULL */
	char *message;
	int not_run;         /* in a batch: after the one the deadline stopped */
};

/* Judges c from its JUnit case and the set of xpassed node ids. */
static void judge_case(struct pcase *c, const char *stdout_text)
{
	json_t *parts = json_object_get(c->jc, "parts"), *part, *fail = NULL, *error = NULL, *skip = NULL;
	size_t i;

	json_array_foreach(parts, i, part) {
		const char *tag = ht_json_str(part, "tag", "");

		if (!strcmp(tag, "failure") && !fail)
			fail = part;
		else if (!strcmp(tag, "error") && !error)
			error = part;
		else if (!strcmp(tag, "skipped") && !skip)
			skip = part;
	}
	if (fail) {
		const char *m = ht_json_str(fail, "message", "");

		c->status = "failed";
		if (!strncmp(m, "[XPASS(strict)]", 15))
			c->outcome = "xpassed";
		if (error)
			c->message = ht_xasprintf("%s; then %s", m, ht_json_str(error, "message", "error"));
		else
			c->message = ht_xstrdup(m);
	} else if (error) {
		c->status = "error";
		c->message = ht_xstrdup(ht_json_str(error, "message", "error"));
	} else if (skip) {
		c->status = "skipped";
		if (!strcmp(ht_json_str(skip, "type", ""), "pytest.xfail")) {
			c->outcome = "xfailed";
			c->message = ht_xasprintf("xfailed: %s", ht_json_str(skip, "message", ""));
		} else {
			c->message = ht_xasprintf("skipped: %s", ht_json_str(skip, "message", ""));
		}
	} else {
		/* "XPASS nodeid reason" in the -rX summary: an xpass that
		 * is not strict passes, reported as such. */
		const char *p = stdout_text;
		size_t nl = strlen(c->nodeid);

		c->status = "passed";
		while (p && (p = strstr(p, "XPASS ")) != NULL) {
			if ((p == stdout_text || p[-1] == '\n') && !strncmp(p + 6, c->nodeid, nl) &&
			    (p[6 + nl] == ' ' || p[6 + nl] == '\n' || !p[6 + nl])) {
				const char *e = strchr(p + 6 + nl, '\n');
				const char *r = p[6 + nl] == ' ' ? p + 7 + nl : "";

				c->outcome = "xpassed";
				c->message = ht_xasprintf("xpassed: %.*s", (int)(e && *r ? (size_t)(e - r) : strlen(r)), r);
				break;
			}
			p += 6;
		}
		if (!c->message)
			c->message = ht_xstrdup("passed");
	}
}

/* The message of the first case with status st, or NULL. */
static const struct pcase *first_with(const struct pcase *cs, size_t n, const char *st)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(cs[i].status, st))
			return &cs[i];
	return NULL;
}

static int open_out(const char *path)
{
	return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
}

/* 1 when pytest -v's output (may be NULL) shows it started nodeid: a line
 * that begins with it and a blank. */
static int started(const char *out, const char *nodeid)
{
	size_t n = strlen(nodeid);
	const char *p = out;

	while (p && (p = strstr(p, nodeid)) != NULL) {
		if ((p == out || p[-1] == '\n') && (p[n] == ' ' || p[n] == '\n' || !p[n]))
			return 1;
		p += n;
	}
	return 0;
}

/*
 * The outcome pytest -v printed for nodeid ("nodeid PASSED  [ 50%]"), for
 * when it was killed before it wrote its JUnit file: 0 with *status and
 * *outcome set, or -1 when it printed none.
 */
static int verbose_outcome(const char *out, const char *nodeid, const char **status, const char **outcome)
{
	static const char *const words[][3] = {
		{ "PASSED", "passed", NULL }, { "FAILED", "failed", NULL }, { "ERROR", "error", NULL },
		{ "SKIPPED", "skipped", NULL }, { "XFAIL", "skipped", "xfailed" }, { "XPASS", "passed", "xpassed" },
	};
	size_t n = strlen(nodeid), k;
	const char *p = out;

	while (p && (p = strstr(p, nodeid)) != NULL) {
		if ((p == out || p[-1] == '\n') && p[n] == ' ') {
			for (k = 0; k < sizeof(words) / sizeof(words[0]); k++) {
				if (!strncmp(p + n + 1, words[k][0], strlen(words[k][0])) &&
				    strchr(" \n", p[n + 1 + strlen(words[k][0])])) {
					*status = words[k][1];
					*outcome = words[k][2];
					return 0;
				}
			}
		}
		p += n;
	}
	return -1;
}

/* Judges the node ids of run from the JUnit file and the process' end. */
static void judge(json_t *run, const struct ht_run_ctx *ctx, const struct ht_proc *p, struct ht_run_result *res)
{
	json_t *ids = json_object_get(run, "nodeids");
	size_t n = json_array_size(ids), i, k, counts[6] = { 0 };
	static const char *const order[] = { "failed", "error", "timed_out", "passed", "skipped", "interrupted" };
	struct pcase *cs = ht_xcalloc(n, sizeof(*cs));
	char *path = ht_path_join(ctx->out_dir, JUNIT_NAME), *xml = NULL, *outtext = NULL, err[160] = "";
	size_t len = 0, olen = 0;
	struct ht_junit j;
	const char *unmatched_error = NULL, *timed_out_seen = NULL;
	int have_xml = 0;

	ht_junit_init(&j);
	j.want_cases = 1;
	if (ht_read_file(path, JUNIT_MAX, &xml, &len) == 0 && ht_junit_parse(&j, xml, len, err, sizeof(err)) == 0)
		have_xml = 1;
	else if (!*err)
		snprintf(err, sizeof(err), "%s", strerror(errno));
	if (ht_read_file(ctx->stdout_path, JUNIT_MAX, &outtext, &olen) < 0)
		outtext = NULL;
	for (i = 0; i < n; i++) {
		cs[i].nodeid = json_string_value(json_array_get(ids, i));
		cs[i].key = junit_key(cs[i].nodeid);
	}
	/* Each JUnit case to the first node id of its name not yet taken;
	 * one more with a taken name (a teardown error after a failure) is
	 * merged into the last one taken. */
	for (k = 0; have_xml && k < json_array_size(j.cases); k++) {
		json_t *jc = json_array_get(j.cases, k);
		char *key = ht_xasprintf("%s\n%s", ht_json_str(jc, "classname", ""), ht_json_str(jc, "name", ""));
		struct pcase *taken = NULL;

		for (i = 0; i < n; i++) {
			if (strcmp(cs[i].key, key))
				continue;
			if (!cs[i].jc)
				break;
			taken = &cs[i];
		}
		if (i < n) {
			cs[i].jc = jc;
		} else if (taken) {
			json_t *part;
			size_t q;

			json_array_foreach(json_object_get(jc, "parts"), q, part)
				json_array_append(json_object_get(taken->jc, "parts"), part);
		} else if (json_array_size(json_object_get(jc, "parts")) && !unmatched_error) {
			/* a collection error: no node id of ours */
			unmatched_error = ht_json_str(json_array_get(json_object_get(jc, "parts"), 0), "message", NULL);
		}
		free(key);
	}
	for (i = 0; i < n; i++) {
		if (cs[i].jc) {
			judge_case(&cs[i], outtext);
		} else if (!have_xml && json_is_true(json_object_get(run, "batch")) &&
			   verbose_outcome(outtext, cs[i].nodeid, &cs[i].status, &cs[i].outcome) == 0) {
			cs[i].message = ht_xasprintf("%s (from pytest's -v output; pytest ended, %s, before it wrote its JUnit file)",
						     cs[i].outcome ? cs[i].outcome : cs[i].status, ht_proc_describe(p));
		} else if (p->stopped) {
			cs[i].status = "interrupted";
			cs[i].message = ht_xstrdup("interrupted: the runner was told to stop");
		} else if (p->timed_out && json_is_true(json_object_get(run, "batch")) &&
			   (timed_out_seen || !started(outtext, cs[i].nodeid))) {
			/* With -v pytest prints a node id as it starts it: the
			 * one it started and did not report was running at the
			 * deadline, the others never ran. */
			cs[i].status = "error";
			cs[i].not_run = 1;
			cs[i].message = ht_xasprintf("not run: the batch's deadline (%.1f s) came while %s ran",
						     (double)ctx->limit_ms / 1000.0, timed_out_seen);
		} else if (p->timed_out) {
			if (json_is_true(json_object_get(run, "batch")))
				timed_out_seen = cs[i].nodeid;
			cs[i].status = "timed_out";
			cs[i].message = ht_xasprintf(n > 1 || json_is_true(json_object_get(run, "group")) ? "timed out after %.1f s, before pytest reported it" : "timed out after %.1f s",
						     (double)ctx->limit_ms / 1000.0);
		} else {
			char *line = NULL;
			char *e = NULL;

			if (ht_read_file(ctx->stderr_path, JUNIT_MAX, &e, &len) == 0) {
				char *end = e + strlen(e);

				/* pytest's "ERROR: not found: ..." line, else the last */
				while (end > e && (end[-1] == '\n' || end[-1] == ' '))
					*--end = '\0';
				line = !strncmp(e, "ERROR: ", 7) ? e : strstr(e, "\nERROR: ");
				if (line && *line == '\n')
					line++;
				if (line && strchr(line, '\n'))
					*strchr(line, '\n') = '\0';
				else if (!line)
					line = strrchr(e, '\n') ? strrchr(e, '\n') + 1 : e;
			}
			cs[i].status = "error";
			if (unmatched_error)
				cs[i].message = ht_xasprintf("pytest: %s", unmatched_error);
			else if (!have_xml)
				cs[i].message = ht_xasprintf("pytest %s and wrote no JUnit file (%s)%s%s", ht_proc_describe(p), err,
							     line && *line ? ": " : "", line ? line : "");
			else
				cs[i].message = ht_xasprintf("pytest did not report it (%s)%s%s", ht_proc_describe(p),
							     line && *line ? ": " : "", line ? line : "");
			free(e);
		}
		for (k = 0; k < 6; k++)
			if (!strcmp(cs[i].status, order[k]))
				counts[k]++;
	}
	if (n == 1 && !json_is_true(json_object_get(run, "group"))) {
		res->status = cs[0].status;
		res->outcome = cs[0].outcome;
		ht_run_result_set_message(res, "%s", cs[0].message);
	} else {
		const struct pcase *first = NULL;
		struct ht_buf b = HT_BUF_INIT;
		size_t used;

		/* The worst status wins: failed, error, timed_out, passed,
		 * skipped (all skipped); interrupted above all. */
		res->status = NULL;
		for (k = 0; k < 6; k++) {
			if (counts[k]) {
				if (!res->status)
					res->status = order[k];
				if (!first && k < 3)
					first = first_with(cs, n, order[k]);
				ht_buf_addf(&b, "%s%zu %s", b.len ? ", " : "", counts[k], order[k]);
			}
		}
		if (counts[5])
			res->status = "interrupted";
		if (!res->status)
			res->status = "error";
		if (first)
			ht_run_result_set_message(res, "%s (first: %s: %s)", b.data, first->nodeid, first->message);
		else
			ht_run_result_set_message(res, "%s", b.data ? b.data : "");
		ht_buf_release(&b);
		res->cases = json_array();
		for (i = 0, used = 0; i < n; i++) {
			json_t *o = json_object();
			char *id = ht_test_id(cs[i].nodeid);
			/* A record must stay under HT_RECORD_MAX: past half of it
			 * the output tails go, past three quarters messages are
			 * cut short. */
			char *m = ht_oneline(cs[i].message, strlen(cs[i].message),
					     used > CASES_BUDGET * 3 / 4 ? 120 : HT_OUTCOME_MAX_FIELD);

			ht_json_set_str(o, "name", cs[i].nodeid);
			ht_json_set_str(o, "test_id", id);
			ht_json_set_str(o, "status", cs[i].status);
			if (cs[i].outcome)
				ht_json_set_str(o, "outcome", cs[i].outcome);
			ht_json_set_int(o, "duration_ms", cs[i].jc ? ht_json_int(cs[i].jc, "time_ms", 0) : 0);
			ht_json_set_str(o, "message", m);
			if (cs[i].not_run) {
				json_object_set_new(o, "not_run", json_true());
				json_object_set_new(o, "error", json_pack("{s:s,s:s}", "code", "not_run", "message", m));
			}
			used += strlen(cs[i].nodeid) + strlen(id) + strlen(m) + 100;
			if (cs[i].jc && strcmp(cs[i].status, "passed") && used < CASES_BUDGET / 2) {
				json_t *tail = case_tail(cs[i].jc);

				used += json_string_length(tail) + 20;
				json_object_set_new(o, "output_tail", tail);
			}
			json_array_append_new(res->cases, o);
			free(id);
			free(m);
		}
	}
	if (!strcmp(res->status, "error"))
		res->error_code = ht_xstrdup("pytest");
	for (i = 0; i < n; i++) {
		free(cs[i].key);
		free(cs[i].message);
	}
	free(cs);
	ht_junit_release(&j);
	free(xml);
	free(outtext);
	free(path);
}

static int pytest_run(json_t *run, const struct ht_run_ctx *ctx, struct ht_run_result *res)
{
	struct ht_subst_var outvar = { "out", ctx->out_dir };
	json_t *a = json_object_get(run, "argv"), *ids = json_object_get(run, "nodeids");
	size_t n = json_array_size(a), m = json_array_size(ids), i;
	char **argv = ht_xcalloc(n + m + 1, sizeof(*argv));
	struct ht_proc p;
	int ofd, efd, rc;

	for (i = 0; i < n; i++)
		argv[i] = ht_subst(json_string_value(json_array_get(a, i)), &outvar, 1, 0);
	for (i = 0; i < m; i++)
		argv[n + i] = ht_xstrdup(json_string_value(json_array_get(ids, i)));
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
	p.cwd = ctx->cwd;
	p.stdout_fd = ofd;
	p.stderr_fd = efd;
	p.deadline_ms = ctx->deadline_ms;
	p.grace_ms = ctx->grace_ms;
	p.stop = ctx->stop;
	p.limits = ctx->limits;
	/* At the deadline pytest gets SIGINT, on which it stops and still
	 * writes the JUnit file: the node ids done keep their results. */
	p.term_signal = SIGINT;
	res->start_wall_ms = ht_wall_ms();
	rc = ht_proc_spawn(&p);
	if (rc == 0)
		rc = ht_proc_wait(&p);
	if (rc < 0) {
		res->status = "error";
		res->error_code = ht_xstrdup("spawn");
		ht_run_result_set_message(res, "cannot run '%s': %s", argv[0], strerror(errno));
		goto out;
	}
	res->duration_ms = p.duration_ms;
	res->exited = p.exited;
	res->exit_code = p.exit_code;
	res->signal = p.signal;
	judge(run, ctx, &p, res);
	ht_run_result_readonly_hint(res, ctx->stdout_path, ctx->stderr_path);
out:
	if (ofd >= 0)
		close(ofd);
	if (efd >= 0)
		close(efd);
	ht_strv_free(argv);
	return 0;
}

/* A batch of node ids (test or file granularity) as one pytest process
 * when they share argv and env; the cases come in member order. */
static int pytest_merge(json_t *members, json_t **out, json_t **counts)
{
	static const char *const same[] = { "argv", "env", NULL };
	json_t *run = ht_runner_merge_lists(members, "nodeids", same, counts), *argv;
	size_t n;

	*out = run;
	if (!run)
		return 1;
	/* -v, before the "--": pytest names each node id as it starts it,
	 * so a deadline knows which one was running. */
	argv = json_object_get(run, "argv");
	n = json_array_size(argv);
	if (n && !strcmp(json_string_value(json_array_get(argv, n - 1)), "--"))
		json_array_insert_new(argv, n - 1, json_string("-v"));
	json_object_set_new(run, "group", json_true());
	json_object_set_new(run, "batch", json_true());
	return 0;
}

const struct ht_runner_ops ht_runner_pytest = {
	.name = "pytest",
	.list = pytest_list,
	.plan = pytest_plan,
	.check = pytest_check,
	.run = pytest_run,
	.merge = pytest_merge,
};
