/*
 * runner.c: the table of test-runner plugins and what they share: test
 * lists, run results and the failures of their outcome readers.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ht/config.h"
#include "ht/diag.h"
#include "ht/jsonl.h"
#include "ht/runner.h"
#include "ht/text.h"
#include "ht/util.h"
#include "runners/command.h"
#include "runners/outcome.h"
#include "runners/playwright.h"
#include "runners/pytest.h"

static const struct ht_runner_ops *const plugins[] = {
	&ht_runner_command,
	&ht_runner_pytest,
	&ht_runner_playwright,
};

const struct ht_config_schema *const ht_runner_schemas[] = {
	&ht_command_schema,
	&ht_pytest_schema,
	&ht_playwright_schema,
	NULL,
};

const struct ht_runner_ops *ht_runner_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(plugins) / sizeof(plugins[0]); i++)
		if (name && strcmp(plugins[i]->name, name) == 0)
			return plugins[i];
	return NULL;
}

const char *ht_runner_names(void)
{
	return "command, pytest, playwright";
}

/* --- test lists ------------------------------------------------------------ */

void ht_test_list_init(struct ht_test_list *l)
{
	memset(l, 0, sizeof(*l));
}

static void entry_free(struct ht_test_entry *e)
{
	free(e->name);
	free(e->file);
	ht_strv_free(e->members);
	memset(e, 0, sizeof(*e));
}

void ht_test_list_release(struct ht_test_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		entry_free(&l->v[i]);
	free(l->v);
	ht_test_list_init(l);
}

void ht_test_list_add(struct ht_test_list *l, const char *name, const char *file)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 16;
		l->v = ht_xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	memset(&l->v[l->n], 0, sizeof(l->v[l->n]));
	l->v[l->n].name = ht_xstrdup(name);
	l->v[l->n].file = file ? ht_xstrdup(file) : NULL;
	l->n++;
}

void ht_test_list_add_member(struct ht_test_list *l, size_t i, const char *member)
{
	struct ht_test_entry *e = &l->v[i];

	e->members = ht_xrealloc(e->members, (e->nmembers + 2) * sizeof(*e->members));
	e->members[e->nmembers++] = ht_xstrdup(member);
	e->members[e->nmembers] = NULL;
}

void ht_test_list_filter(struct ht_test_list *l, int (*keep)(const char *name, void *arg), void *arg)
{
	size_t i, j = 0, k, m;

	for (i = 0; i < l->n; i++) {
		struct ht_test_entry *e = &l->v[i];
		int kept;

		if (e->members) {
			for (k = 0, m = 0; k < e->nmembers; k++) {
				if (keep(e->members[k], arg))
					e->members[m++] = e->members[k];
				else
					free(e->members[k]);
			}
			e->members[m] = NULL;
			e->nmembers = m;
			kept = m > 0;
		} else {
			kept = keep(e->name, arg);
		}
		if (kept)
			l->v[j++] = *e;
		else
			entry_free(e);
	}
	l->n = j;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct ht_test_entry *x = a, *y = b;

	return strcmp(x->name, y->name);
}

void ht_test_list_sort_unique(struct ht_test_list *l)
{
	size_t i, j = 0;

	if (!l->n)
		return;
	qsort(l->v, l->n, sizeof(*l->v), cmp_entry);
	for (i = 1; i < l->n; i++) {
		if (strcmp(l->v[i].name, l->v[j].name) == 0) {
			entry_free(&l->v[i]);
		} else {
			l->v[++j] = l->v[i];
		}
	}
	l->n = j + 1;
}

void ht_test_list_unique(struct ht_test_list *l)
{
	size_t i, k, j = 0;

	/* Quadratic, but lists come from people's listing commands; a hash
	 * set would only pay off for tens of thousands of tests. */
	for (i = 0; i < l->n; i++) {
		for (k = 0; k < j; k++)
			if (strcmp(l->v[k].name, l->v[i].name) == 0)
				break;
		if (k < j) {
			entry_free(&l->v[i]);
		} else {
			l->v[j++] = l->v[i];
		}
	}
	l->n = j;
}

/* --- results --------------------------------------------------------------- */

void ht_run_result_init(struct ht_run_result *r)
{
	memset(r, 0, sizeof(*r));
	r->status = "error";
}

void ht_run_result_release(struct ht_run_result *r)
{
	free(r->message);
	free(r->error_code);
	json_decref(r->tests);
	json_decref(r->cases);
	json_decref(r->details);
	ht_run_result_init(r);
}

void ht_run_result_set_message(struct ht_run_result *r, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	free(r->message);
	/* One line of at most 1000 bytes, valid UTF-8. */
	r->message = s ? ht_oneline(s, strlen(s), HT_OUTCOME_MAX_FIELD) : ht_xstrdup("");
	free(s);
}

/* --- what plugins share ---------------------------------------------------- */

int ht_runner_env_json(const struct ht_config *c, json_t **out)
{
	json_t *env;
	int i;

	*out = NULL;
	if (!c->runner.env.n)
		return 0;
	env = json_object();
	for (i = 0; i < c->runner.env.n; i++) {
		const char *kv = c->runner.env.v[i];
		const char *eq = strchr(kv, '=');
		char *k;

		if (!eq || eq == kv) {
			json_decref(env);
			return ht_error("runner.env: '%s' is not KEY=VALUE", kv);
		}
		k = strndup(kv, (size_t)(eq - kv));
		json_object_set_new(env, k, json_string(eq + 1));
		free(k);
	}
	*out = env;
	return 0;
}

extern char **environ;

/* 1 when kv ("K=V") sets the variable named name[0..n). */
static int env_is(const char *kv, const char *name, size_t n)
{
	return strncmp(kv, name, n) == 0 && kv[n] == '=';
}

char **ht_runner_list_env(const struct ht_config *c)
{
	size_t n = 0, i = 0, path;
	char **v, **e;
	int k;

	for (e = environ; *e; e++)
		n++;
	v = ht_xcalloc(n + (size_t)c->runner.env.n + 2, sizeof(*v));
	for (e = environ; *e; e++) {
		int over = env_is(*e, "PATH", 4);

		for (k = 0; !over && k < c->runner.env.n; k++) {
			const char *eq = strchr(c->runner.env.v[k], '=');

			over = eq && env_is(*e, c->runner.env.v[k], (size_t)(eq - c->runner.env.v[k]));
		}
		if (!over)
			v[i++] = ht_xstrdup(*e);
	}
	path = i;
	v[i++] = ht_xstrdup("PATH=" HT_TEST_PATH);
	for (k = 0; k < c->runner.env.n; k++) {
		const char *kv = c->runner.env.v[k];

		if (env_is(kv, "PATH", 4)) {
			free(v[path]);
			v[path] = ht_xstrdup(kv);
		} else if (strchr(kv, '=') && *kv != '=') {
			v[i++] = ht_xstrdup(kv);
		}
	}
	v[i] = NULL;
	return v;
}

/* 1 when the last 64 KiB of the file at path hold needle. */
static int tail_has(const char *path, const char *needle)
{
	char *buf;
	int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1, found = 0;
	off_t size;
	ssize_t n;

	if (fd < 0)
		return 0;
	size = lseek(fd, 0, SEEK_END);
	buf = ht_xmalloc(65536);
	n = pread(fd, buf, 65536, size > 65536 ? size - 65536 : 0);
	if (n > 0)
		found = memmem(buf, (size_t)n, needle, strlen(needle)) != NULL;
	free(buf);
	close(fd);
	return found;
}

#define READONLY_HINT "(hint: the project directory is read-only, as in Lambda; a test may write under /tmp " \
	"and $HT_OUTPUT_DIR, or the project may be made writable: local.writable_task, image.writable_task)"

json_t *ht_runner_merge_lists(json_t *members, const char *list_key, const char *const *same, json_t **counts)
{
	json_t *first = json_object_get(json_array_get(members, 0), "run"), *m, *run, *list, *v;
	size_t i, k;
	int j;

	*counts = NULL;
	json_array_foreach(members, i, m) {
		json_t *mr = json_object_get(m, "run");

		for (j = 0; same[j]; j++) {
			json_t *a = json_object_get(mr, same[j]), *b = json_object_get(first, same[j]);

			if (!json_equal(a ? a : json_null(), b ? b : json_null()))
				return NULL;
		}
		if (!json_is_array(json_object_get(mr, list_key)))
			return NULL;
	}
	run = json_deep_copy(first);
	list = json_array();
	*counts = json_array();
	json_array_foreach(members, i, m) {
		json_t *ml = json_object_get(json_object_get(m, "run"), list_key);

		json_array_foreach(ml, k, v)
			json_array_append(list, v);
		json_array_append_new(*counts, json_integer((json_int_t)json_array_size(ml)));
	}
	json_object_set_new(run, list_key, list);
	return run;
}

void ht_run_result_readonly_hint(struct ht_run_result *res, const char *stdout_path, const char *stderr_path)
{
	json_t *c;
	size_t i;
	char *m;

	if (strcmp(res->status, "failed") && strcmp(res->status, "error"))
		return;
	if (!tail_has(stderr_path, "Read-only file system") && !tail_has(stdout_path, "Read-only file system"))
		return;
	m = ht_xasprintf("%.600s " READONLY_HINT, res->message ? res->message : "");
	ht_run_result_set_message(res, "%s", m);
	free(m);
	/* And each case that failed on it (one pytest node id of several). */
	json_array_foreach(res->cases, i, c) {
		const char *cm = json_string_value(json_object_get(c, "message"));
		const char *st = json_string_value(json_object_get(c, "status"));

		if (cm && st && (!strcmp(st, "failed") || !strcmp(st, "error")) &&
		    strstr(cm, "Read-only file system") && !strstr(cm, "(hint: "))
			json_object_set_new(c, "message", json_sprintf("%.600s " READONLY_HINT, cm));
	}
}

char *ht_runner_last_line(const char *path)
{
	char *buf, *end, *start, *line;
	int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	off_t size, from;
	ssize_t n;

	if (fd < 0)
		return NULL;
	size = lseek(fd, 0, SEEK_END);
	from = size > 4096 ? size - 4096 : 0;
	buf = ht_xmalloc(4097);
	n = pread(fd, buf, 4096, from);
	close(fd);
	if (n <= 0) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	end = buf + strlen(buf);
	while (end > buf && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	if (end == buf) {
		free(buf);
		return NULL;
	}
	start = end;
	while (start > buf && start[-1] != '\n')
		start--;
	if (end - start > 300)
		start = end - 300;
	line = ht_xstrdup(start);
	free(buf);
	ht_utf8_clean(line, strlen(line), 1);
	return line;
}

int ht_runner_check_strings(json_t *a, const char *what, int one_line, char *err, size_t errlen)
{
	size_t i;

	if (!json_is_array(a) || json_array_size(a) == 0) {
		snprintf(err, errlen, "\"run.%s\" is not a non-empty array of strings", what);
		return -1;
	}
	for (i = 0; i < json_array_size(a); i++) {
		const char *v = json_string_value(json_array_get(a, i));

		if (!v || (one_line && strchr(v, '\n'))) {
			snprintf(err, errlen, "\"run.%s\"[%zu] is not a string%s", what, i, one_line ? " of one line" : "");
			return -1;
		}
	}
	return 0;
}

char *ht_runner_which(char *const *envp, const char *prog)
{
	size_t i;

	if (strchr(prog, '/'))
		return ht_xstrdup(prog);
	for (i = 0; envp && envp[i]; i++)
		if (env_is(envp[i], "PATH", 4))
			return ht_which_in(envp[i] + 5, prog);
	return NULL;
}

/* --- batches run member by member ------------------------------------------ */

json_t *ht_run_case_not_run(json_t *m, size_t k, const char *status, const char *code, const char *msg)
{
	json_t *c = json_pack("{s:s,s:s,s:s,s:I,s:s,s:I}", "name", ht_json_str(m, "name", ht_json_str(m, "test_id", "?")),
			      "test_id", ht_json_str(m, "test_id", "?"), "status", status, "duration_ms", (json_int_t)0,
			      "message", msg, "member", (json_int_t)k);

	if (ht_json_str(m, "file", NULL))
		ht_json_set_str(c, "file", ht_json_str(m, "file", NULL));
	if (code) {
		json_object_set_new(c, "not_run", json_true());
		json_object_set_new(c, "error", json_pack("{s:s,s:s}", "code", code, "message", msg));
	}
	return c;
}

void ht_run_batch_summary(json_t *rec, json_t *cases)
{
	static const char *const order[] = { "interrupted", "failed", "error", "timed_out", "passed", "skipped" };
	size_t counts[6] = { 0 }, i, k;
	json_t *c, *first = NULL;
	struct ht_buf b = HT_BUF_INIT;
	const char *status = NULL;
	long long sum = 0;

	json_array_foreach(cases, i, c) {
		for (k = 0; k < 6; k++)
			if (!strcmp(ht_json_str(c, "status", "error"), order[k]))
				break;
		counts[k < 6 ? k : 2]++;
		if (!first && k >= 1 && k <= 3)
			first = c;
		sum += ht_json_int(c, "duration_ms", 0);
	}
	ht_buf_add(&b, "", 0);
	for (k = 0; k < 6; k++) {
		if (!counts[k])
			continue;
		if (!status)
			status = order[k];
		ht_buf_addf(&b, "%s%zu %s", b.len ? ", " : "", counts[k], order[k]);
	}
	if (first)
		ht_buf_addf(&b, " (first: %s: %s)", ht_json_str(first, "name", "?"), ht_json_str(first, "message", ""));
	ht_json_set_str(rec, "status", status ? status : "error");
	json_object_set_new(rec, "ok", json_boolean(status && (!strcmp(status, "passed") || !strcmp(status, "skipped"))));
	ht_json_set_int(rec, "duration_ms", sum);
	ht_utf8_clean(b.data, b.len, 1);
	ht_json_set_str(rec, "message", b.data);
	ht_buf_release(&b);
}

/* --- failures of an outcome ------------------------------------------------ */

void ht_outcome_add_failure(json_t *failures, const char *name, const char *classname, const char *message,
			    const char *kind)
{
	json_t *o;

	if (json_array_size(failures) >= HT_OUTCOME_MAX_FAILURES)
		return;
	o = json_object();
	json_object_set_new(o, "name", json_string(name));
	if (classname && *classname)
		json_object_set_new(o, "classname", json_string(classname));
	json_object_set_new(o, "message", json_string(message ? message : ""));
	if (kind)
		json_object_set_new(o, "kind", json_string(kind));
	json_array_append_new(failures, o);
}
